#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a fixed time each and prints the
# executions reached. Seeds are in fuzz/corpus/<target> (small, made by our own
# tools); inputs found while fuzzing go to a temporary folder and are dropped,
# so the committed corpus stays small. A crash is saved by libFuzzer under
# fuzz/artifacts/<target>/ and must become a regression test.
#
#   fuzz/run.sh [SECONDS] [TARGET...]        (default: 60 s, every target)
#
# Needs cargo-fuzz (cargo install cargo-fuzz --locked) and a C++ compiler.
# cargo-fuzz uses nightly-only compiler flags (sanitizer coverage); with the
# stable toolchain RUSTC_BOOTSTRAP=1 allows them for this build only.
set -euo pipefail
cd "$(dirname "$0")"
SECS="${1:-60}"; shift || true
ALL=(sd_file restore_blob compact_jwe bundle transfer_key private_key encrypted_key_der certificate download_request shares evidence)
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
export RUSTC_BOOTSTRAP=1
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
printf '%-18s %12s %10s\n' target executions exec/s
for t in "${TARGETS[@]}"; do
  mkdir -p "$TMP/$t" "corpus/$t"
  if ! cargo fuzz run --release "$t" "$TMP/$t" "corpus/$t" -- \
      -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 >"$TMP/$t.log" 2>&1; then
    tail -40 "$TMP/$t.log"; echo "fuzz target $t FAILED (see fuzz/artifacts/$t)"; exit 1
  fi
  runs=$(grep -Eo 'Done [0-9]+ runs' "$TMP/$t.log" | grep -Eo '[0-9]+' | tail -1)
  printf '%-18s %12s %10s\n' "$t" "${runs:-?}" "$(( ${runs:-0} / SECS ))"
done
