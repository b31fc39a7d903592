#!/usr/bin/env bash
# Benchmarks: the criterion suite of sd-core (release build), the same
# operations through the `openssl` command for comparison, and the whole drill.
#   bench/run.sh [--quick]     (--quick: fewer openssl runs, no drill)
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0; [ "${1:-}" = --quick ] && QUICK=1
RUNS=$([ $QUICK = 1 ] && echo 3 || echo 15)
V="${HSM_CEREMONY_VECTORS:-../shared/vectors}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

echo "== criterion (cargo bench -p sd-core)"
cargo bench --locked -p sd-core --bench ceremony >"$TMP/criterion.log" 2>&1 || { cat "$TMP/criterion.log"; exit 1; }
grep -E '^[a-z_/0-9]+ +time:|^[a-z_/0-9]+$|time:' "$TMP/criterion.log"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # timeit CMD...: median wall seconds over $RUNS runs
  for _ in $(seq "$RUNS"); do
    local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    python3 -c "print($e - $s)"
  done | median
}

echo "== openssl $(openssl version | cut -d' ' -f2) (median of $RUNS runs, wall time incl. process start)"
for bits in 3072 4096; do
  printf 'openssl genpkey rsa%s: %.3f s\n' "$bits" "$(timeit openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$bits -out "$TMP/k.pem")"
done
# One share's RSA-OAEP-256 key unwrap, the step that dominates opening a share.
python3 - "$V" "$TMP" <<'PY'
import base64, json, sys
v, tmp = sys.argv[1], sys.argv[2]
sd = json.load(open(f"{v}/azure-cli/security_domain_keys/sdtest/sdfile.json"))
part = sd["SharedKeys"]["enc_shares"][2]["enc_key"].split(".")[1]
open(f"{tmp}/ek.bin", "wb").write(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
PY
K="$V/azure-sdk-for-python/sdk/keyvault/azure-keyvault-securitydomain/tests/resources/certificate2.pem"
printf 'openssl pkeyutl OAEP-SHA256 unwrap (one share): %.3f s\n' "$(timeit openssl pkeyutl -decrypt -inkey "$K" -in "$TMP/ek.bin" -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256)"
printf 'openssl process start (true):                  %.3f s\n' "$(timeit openssl version)"

echo "== keyholder (release) on the real 2020 SD, wall time incl. process start"
cargo build --release --locked -q -p keyholder
cp "$V/azure-sdk-for-python/sdk/keyvault/azure-keyvault-securitydomain/tests/resources/certificate"{0,2}.{pem,cer} "$TMP/"
SD="$V/azure-cli/security_domain_keys/sdtest/sdfile.json"
EX="$V/generated/az-2.91.0-restore-blob/test-exchange.pem"
printf 'keyholder check:        %.3f s\n' "$(timeit target/release/keyholder check --sd "$SD" --key "$TMP/certificate2.pem")"
printf 'keyholder restore-blob: %.3f s\n' "$(timeit target/release/keyholder restore-blob --sd "$SD" --exchange-key "$EX" --key "$TMP/certificate0.pem" --key "$TMP/certificate2.pem" --out "$TMP/blob.json" --force)"

if [ $QUICK = 0 ]; then
  echo "== whole drill (ceremony-scripts/drill.sh, binaries already built)"
  s=$(date +%s.%N); ceremony-scripts/drill.sh >/dev/null; e=$(date +%s.%N)
  printf 'drill (3 custodians, quorum 2, distributed): %.1f s\n' "$(python3 -c "print($e - $s)")"
  s=$(date +%s.%N); ceremony-scripts/drill.sh --one-laptop >/dev/null; e=$(date +%s.%N)
  printf 'drill (3 custodians, quorum 2, one laptop):  %.1f s\n' "$(python3 -c "print($e - $s)")"
fi
