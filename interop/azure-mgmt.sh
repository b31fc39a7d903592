#!/usr/bin/env bash
# Interoperability with Azure's own Python management clients:
# azure-mgmt-resource and azure-mgmt-keyvault, installed from PyPI into a
# throwaway venv, pointed unchanged (but for base_url) at the emulator's
# Resource Manager. See interop/azure_mgmt.py for what is exercised.
#
#   interop/azure-mgmt.sh [PYTHON]   (PYTHON: an interpreter that already has both packages)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
python_with "$@" -- azure-mgmt-resource azure-mgmt-keyvault
cargo build --locked -q -p mhsm-emulator --manifest-path "$ROOT/Cargo.toml"
cd "$W"
"$ROOT/target/debug/mhsm-emulator" --data-dir azure --transfer-key-bits 3072 --provisioning-ms 1000 >/dev/null 2>&1 &
for _ in $(seq 100); do [ -s azure/arm-url ] && break; sleep 0.1; done
"$PY" "$ROOT/interop/azure_mgmt.py" "$(cat azure/arm-url)" azure/ca.pem azure/token "$(cat azure/principal)"
