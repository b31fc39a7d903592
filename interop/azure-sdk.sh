#!/usr/bin/env bash
# Interoperability with Azure's own Python clients: azure-keyvault-keys and
# azure-keyvault-administration, installed from PyPI into a throwaway venv,
# pointed unchanged at the emulator (a static-token credential, its CA) after
# hsm-ceremony activated it. See interop/azure_sdk.py for what is exercised.
#
#   interop/azure-sdk.sh [PYTHON]   (PYTHON: an interpreter that already has both packages)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
python_with "$@" -- azure-keyvault-keys azure-keyvault-administration
cargo build --locked -q -p keyholder -p uploader -p mhsm-emulator --manifest-path "$ROOT/Cargo.toml"
B="$ROOT/target/debug"
cd "$W"
for n in alice bob carol; do "$B/keyholder" init --name "$n" --out . --public-out . --no-passphrase --bits 2048 >/dev/null; done
"$B/uploader" operator-init --out . --no-passphrase >/dev/null
"$B/mhsm-emulator" --data-dir hsm --transfer-key-bits 3072 --activation-delay-ms 200 >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s hsm/url ] && break; sleep 0.1; done
T=(--hsm-url "$(cat hsm/url)" --hsm-name emulated-hsm --ca-cert hsm/ca.pem --token-file hsm/token)
"$B/uploader" "${T[@]}" activate --quorum 2 --enrollment alice.enrollment.json --enrollment bob.enrollment.json \
  --enrollment carol.enrollment.json --operator-key operator.key --out sd.json >/dev/null
echo "uploader activate: the emulator is active"
"$PY" "$ROOT/interop/azure_sdk.py" "$(cat hsm/url)" hsm/ca.pem hsm/token "$(cat hsm/principal)"
