# Sourced by the interop scripts: a throwaway work folder (removed, with any
# emulator still running, on exit) and a Python that has the PACKAGES given:
# $1 if the caller passed an interpreter, else a fresh venv with them from PyPI.
#   python_with "$@" -- package...   sets ROOT, W and PY
python_with() {
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  W="$(mktemp -d)"; trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
  PY=""
  if [ "${1:-}" != "--" ]; then PY="$1"; shift; fi
  shift # the --
  if [ -z "$PY" ]; then
    python3 -m venv "$W/venv"
    "$W/venv/bin/pip" install -q "$@"
    PY="$W/venv/bin/python"
  fi
  "$PY" -m pip list 2>/dev/null | grep -E "^($(echo "$@" azure-core | tr ' ' '|')) " || true
}
