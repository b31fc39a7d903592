#!/usr/bin/env bash
# Reproducible, offline-capable release build of the three binaries.
#
#   release/build.sh [--check] [--offline]
#
# Vendors every dependency (cargo vendor --locked) into release/vendor (unless
# --offline: then it must already be there, e.g. carried to an air-gapped
# machine with the source tree), copies the tracked sources and the vendored
# crates to a fixed build path (/tmp/hsm-ceremony-build) with an empty
# CARGO_HOME, builds with --locked --offline, and prints the SHA-256 of each
# binary into release/out/SHA256SUMS, to compare with another builder's.
# Same toolchain + same tree => same bytes: the fixed path and empty cargo home
# keep the builder's folders out of the binaries. One job at a time (-j1): in our
# measurements parallel builds of the same tree were not always byte-identical,
# one-job builds always were.
# --check builds a second time from a fresh copy and fails unless every binary
# is byte-identical.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD=/tmp/hsm-ceremony-build
CHECK=0; OFFLINE=0
for a in "$@"; do
  case "$a" in
    --check) CHECK=1 ;;
    --offline) OFFLINE=1 ;;
    *) echo "usage: release/build.sh [--check] [--offline]" >&2; exit 2 ;;
  esac
done
BINS=(keyholder uploader mhsm-emulator)

cd "$ROOT"
if [ $OFFLINE = 0 ]; then
  echo "== vendoring dependencies into release/vendor"
  cargo vendor --locked --quiet release/vendor > /dev/null
fi
[ -d release/vendor ] || { echo "release/vendor is missing; run without --offline on a connected machine" >&2; exit 1; }
trap 'rm -rf "$BUILD"' EXIT

# build OUT: a fresh copy of the tree at $BUILD, built; binaries copied to OUT.
build() {
  local out="$1"
  rm -rf "$BUILD"
  mkdir -p "$BUILD/src/.cargo" "$BUILD/cargo-home" "$out"
  git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$BUILD/src")
  cp -r "$ROOT/release/vendor" "$BUILD/vendor"
  cat > "$BUILD/src/.cargo/config.toml" <<CFG
[source.crates-io]
replace-with = "vendored-sources"
[source.vendored-sources]
directory = "$BUILD/vendor"
CFG
  ( cd "$BUILD/src" && \
    CARGO_HOME="$BUILD/cargo-home" CARGO_TARGET_DIR="$BUILD/target" \
    RUSTFLAGS="--remap-path-prefix=$BUILD=/build" CFLAGS="-ffile-prefix-map=$BUILD=/build" \
    cargo build --release --locked --offline --quiet -j1 $(printf -- '-p %s ' "${BINS[@]}") )
  for b in "${BINS[@]}"; do cp "$BUILD/target/release/$b" "$out/"; done
}

echo "== building (release, --locked --offline, in $BUILD)"
build "$ROOT/release/out"
( cd "$ROOT/release/out" && sha256sum "${BINS[@]}" | tee SHA256SUMS )

if [ $CHECK = 1 ]; then
  echo "== second build from a fresh copy, to check reproducibility"
  SECOND="$(mktemp -d)"
  build "$SECOND"
  ( cd "$SECOND" && sha256sum -c "$ROOT/release/out/SHA256SUMS" ) \
    || { echo "NOT reproducible: the two builds differ" >&2; rm -rf "$SECOND"; exit 1; }
  rm -rf "$SECOND"
  echo "reproducible: both builds are byte-identical"
fi
