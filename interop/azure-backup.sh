#!/usr/bin/env bash
# Full backup and restore with Azure's own Python clients: KeyVaultBackupClient
# (azure-keyvault-administration) against the emulator, writing to Azurite
# (storage/azurite.sh, from npm), and azure-storage-blob listing what the
# backup wrote. See interop/azure_backup.py for what is exercised.
#
#   interop/azure-backup.sh [PYTHON]   (PYTHON: an interpreter that already has the packages)
#
# HSM_CEREMONY_BIN_DIR: use the binaries there instead of building them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
python_with "$@" -- azure-keyvault-keys azure-keyvault-administration azure-storage-blob
if [ -n "${HSM_CEREMONY_BIN_DIR:-}" ]; then B="$HSM_CEREMONY_BIN_DIR"; else
  cargo build --locked -q -p keyholder -p uploader -p mhsm-emulator --manifest-path "$ROOT/Cargo.toml"
  B="$ROOT/target/debug"
fi
cd "$W"
trap 'bash "$ROOT/storage/azurite.sh" stop "$W/storage"; kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
bash "$ROOT/storage/azurite.sh" start "$W/storage"
CONTAINER="$(bash "$ROOT/storage/azurite.sh" container "$W/storage" sdk-backups)"
bash "$ROOT/storage/azurite.sh" sas "$W/storage" sdk-backups crwdl 30 >sas.txt
for n in alice bob carol; do "$B/keyholder" init --name "$n" --out . --public-out . --no-passphrase --bits 2048 >/dev/null; done
"$B/uploader" operator-init --out . --no-passphrase >/dev/null
"$B/mhsm-emulator" --data-dir hsm --transfer-key-bits 3072 --activation-delay-ms 200 >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s hsm/url ] && break; sleep 0.1; done
T=(--hsm-url "$(cat hsm/url)" --hsm-name emulated-hsm --ca-cert hsm/ca.pem --token-file hsm/token)
"$B/uploader" "${T[@]}" activate --quorum 2 --enrollment alice.enrollment.json --enrollment bob.enrollment.json \
  --enrollment carol.enrollment.json --operator-key operator.key --out sd.json >/dev/null
echo "uploader activate: the emulator is active"
PORT="${CONTAINER##*:}"; PORT="${PORT%%/*}"
"$PY" "$ROOT/interop/azure_backup.py" "$(cat hsm/url)" hsm/ca.pem hsm/token "$(cat hsm/principal)" "$CONTAINER" \
  "http://127.0.0.1:$PORT/devstoreaccount1/sdk-backups" sas.txt
