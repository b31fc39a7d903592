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

# activated_emulator: in the current folder, custodians alice, bob and carol,
# an operator, and the emulator (state in hsm/) activated with quorum 2 by
# the binaries in $B; sets T to the uploader's arguments for it.
activated_emulator() {
  for n in alice bob carol; do "$B/keyholder" init --name "$n" --out . --public-out . --no-passphrase --bits 2048 >/dev/null; done
  "$B/uploader" operator-init --out . --no-passphrase >/dev/null
  "$B/mhsm-emulator" --data-dir hsm --transfer-key-bits 3072 --activation-delay-ms 200 >/dev/null 2>&1 &
  for _ in $(seq 100); do [ -s hsm/url ] && break; sleep 0.1; done
  T=(--hsm-url "$(cat hsm/url)" --hsm-name emulated-hsm --ca-cert hsm/ca.pem --token-file hsm/token)
  "$B/uploader" "${T[@]}" activate --quorum 2 --enrollment alice.enrollment.json --enrollment bob.enrollment.json \
    --enrollment carol.enrollment.json --operator-key operator.key --out sd.json >/dev/null
  echo "uploader activate: the emulator is active"
}

# binaries: sets B to $HSM_CEREMONY_BIN_DIR, else builds the debug binaries.
binaries() {
  if [ -n "${HSM_CEREMONY_BIN_DIR:-}" ]; then B="$HSM_CEREMONY_BIN_DIR"; return; fi
  cargo build --locked -q -p keyholder -p uploader -p mhsm-emulator --manifest-path "$ROOT/Cargo.toml"
  B="$ROOT/target/debug"
}
