#!/usr/bin/env bash
# The README's test command: installs what the tests need that a fresh machine
# may lack (SoftHSM2, the software token the PKCS#11 tests use; man, objdump
# and dpkg-deb for the Debian package's test; Node.js for Azurite; Chromium and
# poppler-utils for the printed ceremony record), then runs
# `cargo test --workspace --locked` and ends with one line that adds up every
# test binary's result. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v openssl >/dev/null || { echo "tests: the openssl command is required (apt-get install openssl)" >&2; exit 1; }
missing=()
{ [ -f /usr/lib/softhsm/libsofthsm2.so ] && command -v softhsm2-util >/dev/null; } || missing+=(softhsm2)
command -v man >/dev/null || missing+=(man-db)
command -v objdump >/dev/null || missing+=(binutils)
command -v dpkg-deb >/dev/null || missing+=(dpkg)
# Azurite (Azure's storage emulator, installed from npm by storage/azurite.sh)
# runs on Node.js; the full-backup tests and drills write to it.
command -v npm >/dev/null || missing+=(nodejs npm)
# The printed ceremony record is checked as a person would see it: rendered
# by headless Chromium to PDF, read back with pdftotext, pdfinfo and pdftoppm.
command -v chromium >/dev/null || missing+=(chromium)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests: installing ${missing[*]} (Debian packages the tests need)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -d ../shared/vectors ] || [ -n "${HSM_CEREMONY_VECTORS:-}" ] || {
  echo "tests: Azure's test vectors are not at ../shared/vectors (or set HSM_CEREMONY_VECTORS)" >&2; exit 1; }

# The tests mostly wait on the processes they start (the tools, emulated
# HSMs): twice as many test threads as cores keeps the cores busy. An explicit
# RUST_TEST_THREADS (or --test-threads after --) wins.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-$(( $(nproc 2>/dev/null || echo 2) * 2 ))}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { passed += $4; failed += $6 }
     END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
exit "$status"
