#!/usr/bin/env bash
# Interoperability with Azure's own CLI, offline: az 2.91.0's
# `keyvault security-domain restore-blob` must accept
#   - custodian key/cert pairs made by `keyholder init` (encrypted PKCS#8 with
#     scrypt, and unencrypted), side by side as az pairs them;
#   - an SD file re-split by `keyholder rotate` (from Azure's real 2020 SD);
#   - the exchange key PEM written by `uploader init-recovery`;
# and the emulator must accept the restore blob az makes.
#
#   interop/az.sh [AZ]      (AZ: path to az; default: a venv made with pip install azure-cli==2.91.0)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
V="${HSM_CEREMONY_VECTORS:-$ROOT/../shared/vectors}"
W="$(mktemp -d)"; trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
AZ="${1:-}"
if [ -z "$AZ" ]; then
  python3 -m venv "$W/venv" && "$W/venv/bin/pip" install -q azure-cli==2.91.0
  AZ="$W/venv/bin/az"
fi
export AZURE_CONFIG_DIR="$W/azconfig"
cargo build --locked -q -p keyholder -p uploader -p mhsm-emulator --manifest-path "$ROOT/Cargo.toml"
B="$ROOT/target/debug"
cd "$W"
K="$V/azure-sdk-for-python/sdk/keyvault/azure-keyvault-securitydomain/tests/resources"

echo "pass phrase one" > p1
"$B/keyholder" init --name alice --out . --passphrase-file p1 --bits 2048 >/dev/null
"$B/keyholder" init --name bob --out . --no-passphrase --bits 2048 >/dev/null
"$B/keyholder" init --name carol --out . --no-passphrase --bits 2048 >/dev/null
cp "$K"/certificate0.pem "$K"/certificate0.cer "$K"/certificate1.pem "$K"/certificate1.cer .
"$B/keyholder" rotate --sd "$V/azure-cli/security_domain_keys/sdtest/sdfile.json" \
  --key certificate0.pem --key certificate1.pem \
  --new-cert alice.cer --new-cert bob.cer --new-cert carol.cer --quorum 2 --out rotated-sd.json >/dev/null
echo "keyholder rotate: rotated-sd.json for alice, bob, carol"

"$B/mhsm-emulator" --data-dir hsm --transfer-key-bits 3072 >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s hsm/url ] && break; sleep 0.1; done; sleep 0.3
T=(--hsm-url "$(cat hsm/url)" --hsm-name emulated-hsm --ca-cert hsm/ca.pem --token-file hsm/token)
"$B/uploader" "${T[@]}" init-recovery --sd rotated-sd.json --attestation-root hsm/attestation-root.pem \
  --exchange-key-out exchange.pem >/dev/null
echo "uploader init-recovery: exchange.pem"

"$AZ" keyvault security-domain restore-blob --sd-file rotated-sd.json --sd-exchange-key exchange.pem \
  --sd-wrapping-keys alice.key bob.key --passwords "pass phrase one" --sd-file-restore-blob az-blob.json
echo "az restore-blob: accepted keyholder's keys (one encrypted), rotated SD and exchange key"

"$B/uploader" "${T[@]}" upload --restore-blob az-blob.json
echo "INTEROP PASSED"
