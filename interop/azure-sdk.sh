#!/usr/bin/env bash
# Interoperability with Azure's own Python clients: azure-keyvault-keys and
# azure-keyvault-administration, installed from PyPI into a throwaway venv,
# pointed unchanged at the emulator (a static-token credential, its CA) after
# hsm-ceremony activated it. See interop/azure_sdk.py for what is exercised.
#
#   interop/azure-sdk.sh [PYTHON]   (PYTHON: an interpreter that already has both packages)
#
# HSM_CEREMONY_BIN_DIR: use the binaries there instead of building them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
python_with "$@" -- azure-keyvault-keys azure-keyvault-administration
binaries
cd "$W"
activated_emulator
"$PY" "$ROOT/interop/azure_sdk.py" "$(cat hsm/url)" hsm/ca.pem hsm/token "$(cat hsm/principal)"
