#!/usr/bin/env bash
# Azure Blob Storage on this machine, for drills and tests: Azurite (Azure's
# own storage emulator, from the npm registry, the version pinned in
# package-lock.json beside this script), its well-known development account
# devstoreaccount1, and the shared access signatures (SAS) a full HSM backup
# is given.
#
#   storage/azurite.sh install                 npm ci into target/storage (once per lock file)
#   storage/azurite.sh start DIR               start Azurite on a free loopback port, its data in
#                                              DIR; writes DIR/account-url and DIR/pid
#   storage/azurite.sh stop DIR                stop it
#   storage/azurite.sh container DIR NAME      create container NAME; prints its URL
#   storage/azurite.sh sas DIR NAME [PERMS] [MINUTES]
#                                              prints a SAS for container NAME (default crwdl,
#                                              valid 60 minutes), signed with the account key
#
# Container URLs are "production style" (http://devstoreaccount1.blob.localhost:PORT/NAME),
# as a real account's are: Azure's clients read the container from the URL's
# path, and names under .localhost are the loopback (RFC 6761); the emulator
# resolves them so, and nothing else reaches these URLs.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PREFIX="${HSM_CEREMONY_AZURITE_PREFIX:-$ROOT/target/storage}"
ACCOUNT=devstoreaccount1
# Azurite's published development key (the same in every copy: not a secret).
ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
SAS_VERSION=2021-08-06

die() { echo "azurite.sh: $*" >&2; exit 1; }

install() {
  command -v npm >/dev/null || die "npm is required (Node.js; apt-get install nodejs npm)"
  mkdir -p "$PREFIX"
  # One install at a time (tests start several Azurites at once).
  exec 9>"$PREFIX/.install.lock"; flock 9
  if ! cmp -s "$HERE/package-lock.json" "$PREFIX/package-lock.json" || [ ! -x "$PREFIX/node_modules/.bin/azurite-blob" ]; then
    cp "$HERE/package.json" "$HERE/package-lock.json" "$PREFIX/"
    echo "azurite.sh: installing Azurite (npm ci into $PREFIX)" >&2
    (cd "$PREFIX" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in $PREFIX"
  fi
  exec 9>&-
}

start() {
  local dir="${1:?start needs a folder}"
  install
  mkdir -p "$dir/azurite"
  rm -f "$dir/account-url" "$dir/pid"
  # --disableTelemetry: nothing leaves the machine. --skipApiVersionCheck: the
  # emulator and Azure's clients may speak a newer x-ms-version than Azurite knows.
  "$PREFIX/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort 0 --location "$dir/azurite" \
    --disableTelemetry --skipApiVersionCheck --silent >"$dir/azurite.log" 2>&1 &
  echo $! >"$dir/pid"
  local port=""
  for _ in $(seq 200); do
    port="$(sed -n 's|.*successfully listens on http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/azurite.log")"
    [ -n "$port" ] && break
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || die "Azurite stopped at start: $(tail -3 "$dir/azurite.log")"
    sleep 0.1
  done
  [ -n "$port" ] || die "Azurite did not start in 20 s (see $dir/azurite.log)"
  echo "http://$ACCOUNT.blob.localhost:$port" >"$dir/account-url"
  echo "azurite.sh: Blob Storage at $(cat "$dir/account-url") (127.0.0.1:$port), data in $dir/azurite" >&2
}

stop() {
  local dir="${1:?stop needs a folder}"
  [ -f "$dir/pid" ] || return 0
  kill "$(cat "$dir/pid")" 2>/dev/null || true
  rm -f "$dir/pid"
}

# hmac TEXT: base64 HMAC-SHA256 of TEXT under the account key.
hmac() {
  local key; key="$(printf '%s' "$ACCOUNT_KEY" | base64 -d | od -An -tx1 | tr -d ' \n')"
  printf '%s' "$1" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64 -w0
}

# urlencode TEXT: for a SAS's sig field.
urlencode() { printf '%s' "$1" | sed -e 's/%/%25/g' -e 's/+/%2B/g' -e 's|/|%2F|g' -e 's/=/%3D/g'; }

expiry() { date -u -d "+$1 minutes" +%Y-%m-%dT%H:%M:%SZ; }

port_of() { sed -n 's|.*:\([0-9]*\)$|\1|p' "$1/account-url"; }

# An account SAS that may create containers (used only by `container`).
account_sas() {
  local se; se="$(expiry 10)"
  local sig; sig="$(hmac "$ACCOUNT
rwdlac
b
sco

$se

http
$SAS_VERSION

")"
  echo "sv=$SAS_VERSION&ss=b&srt=sco&sp=rwdlac&se=$se&spr=http&sig=$(urlencode "$sig")"
}

container() {
  local dir="${1:?container needs the folder}" name="${2:?container needs a name}"
  local url; url="$(cat "$dir/account-url")/$name"
  # curl resolves *.localhost itself only in newer versions: say where it is.
  curl -sSf -X PUT --resolve "$ACCOUNT.blob.localhost:$(port_of "$dir"):127.0.0.1" \
    -H "x-ms-version: $SAS_VERSION" -H "Content-Length: 0" "$url?restype=container&$(account_sas)" >/dev/null \
    || die "cannot create container $name at $url"
  echo "$url"
}

sas() {
  local dir="${1:?sas needs the folder}" name="${2:?sas needs a container}" perms="${3:-crwdl}" minutes="${4:-60}"
  [ -f "$dir/account-url" ] || die "no Azurite in $dir (storage/azurite.sh start $dir)"
  local se; se="$(expiry "$minutes")"
  local sig; sig="$(hmac "$perms

$se
/blob/$ACCOUNT/$name



$SAS_VERSION
c






")"
  echo "sv=$SAS_VERSION&sr=c&sp=$perms&se=$se&sig=$(urlencode "$sig")"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  container) container "${2:-}" "${3:-}" ;;
  sas) sas "${2:-}" "${3:-}" "${4:-crwdl}" "${5:-60}" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
