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
binaries
cd "$W"
trap 'bash "$ROOT/storage/azurite.sh" stop "$W/storage"; kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
bash "$ROOT/storage/azurite.sh" start "$W/storage"
CONTAINER="$(bash "$ROOT/storage/azurite.sh" container "$W/storage" sdk-backups)"
bash "$ROOT/storage/azurite.sh" sas "$W/storage" sdk-backups crwdl 30 >sas.txt
activated_emulator
PORT="${CONTAINER##*:}"; PORT="${PORT%%/*}"
"$PY" "$ROOT/interop/azure_backup.py" "$(cat hsm/url)" hsm/ca.pem hsm/token "$(cat hsm/principal)" "$CONTAINER" \
  "http://127.0.0.1:$PORT/devstoreaccount1/sdk-backups" sas.txt
