#!/usr/bin/env bash
# Activation ceremony: custodians enroll offline, the operator activates the HSM
# online, and every custodian verifies the activation record.
#
#   activation-ceremony.sh custodian --name NAME --media DIR [--out DIR]
#       (air-gapped custodian laptop) make my key (in --out) and my public files
#       (in --out/public); copy only the public folder's enrollment and
#       certificate to the removable media. The key never leaves --out.
#   activation-ceremony.sh operator (--hsm NAME | --hsm-url URL [--ca-cert PEM])
#       [--token-file F] --quorum M --media DIR --operator-key OP.key
#       (online machine) verify every enrollment on the media, activate the HSM,
#       write the SD file and the signed activation record to the media.
#   activation-ceremony.sh verify --media DIR --operator-cert OP.cer [--key NAME.key]
#       (each custodian, offline) verify the activation record, and that my share opens.
#
# Roles: custodian, operator, witness. Every fingerprint printed is read aloud
# and confirmed by the witness before the next step.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

role="${1:-}"; shift || true
case "$role" in ''|-h|--help|help) usage "$0"; exit 0 ;; esac
NAME="" MEDIA="" OUT="." QUORUM="" OPKEY="" OPCERT="" KEY="" TARGET=() PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) NAME="$2"; shift 2 ;;
    --media) MEDIA="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --quorum) QUORUM="$2"; shift 2 ;;
    --operator-key) OPKEY="$2"; shift 2 ;;
    --operator-cert) OPCERT="$2"; shift 2 ;;
    --key) KEY="$2"; shift 2 ;;
    --hsm|--hsm-url|--hsm-name|--ca-cert|--token-file) TARGET+=("$1" "$2"); shift 2 ;;
    --passphrase-file) PASS+=(--passphrase-file "$2"); shift 2 ;;
    *) echo "activation-ceremony: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -n "$MEDIA" ]; then
  [ -d "$MEDIA" ] || { echo "activation-ceremony: --media $MEDIA is not a folder" >&2; exit 2; }
  transcript "$role${NAME:+-$NAME}"
fi

case "$role" in
  custodian)
    need --name "$NAME"; need --media "$MEDIA"
    KH="$(tool keyholder)"
    banner "Activation ceremony — custodian $NAME (offline laptop)"
    step custodian "generate my RSA-3072 key, certificate and signed enrollment (choose a passphrase; it is asked twice, not shown)" -- \
      "$KH" init --name "$NAME" --out "$OUT" "${PASS[@]}"
    confirm "read the custodian certificate's \"read aloud\" line aloud (grouped hex); write it on the ceremony record. Correct?"
    step custodian "copy my public folder's enrollment and certificate (never the .key) to the media" -- \
      cp "$OUT/public/$NAME.enrollment.json" "$OUT/public/$NAME.cer" "$MEDIA/"
    echo "Keep $OUT/$NAME.key on this laptop's encrypted storage or your own removable medium; it never travels."
    ;;
  operator)
    need --quorum "$QUORUM"; need --media "$MEDIA"; need --operator-key "$OPKEY"
    [ ${#TARGET[@]} -gt 0 ] || { echo "activation-ceremony: --hsm or --hsm-url is required" >&2; exit 2; }
    KH="$(tool keyholder)"; UP="$(tool uploader)"
    banner "Activation ceremony — operator (online machine)"
    ENROLL=()
    for e in "$MEDIA"/*.enrollment.json; do
      [ -e "$e" ] || { echo "no enrollments on $MEDIA" >&2; exit 1; }
      step operator "verify the enrollment $(basename "$e")" -- "$KH" verify "$e"
      ENROLL+=(--enrollment "$e")
    done
    confirm "each custodian confirms their own fingerprint above matches the one they read at enrollment."
    step operator "activate the HSM with quorum $QUORUM (the SD file is saved as the HSM returns it)" -- \
      "$UP" "${TARGET[@]}" activate --quorum "$QUORUM" "${ENROLL[@]}" --operator-key "$OPKEY" "${PASS[@]}" --out "$MEDIA/sd.json"
    confirm "the custodians listed, in share order, are the enrolled custodians, and the HSM reports Success."
    echo "Give the media back to each custodian for 'verify'. Store copies of sd.json in at least two places."
    ;;
  verify)
    need --media "$MEDIA"; need --operator-cert "$OPCERT"
    KH="$(tool keyholder)"
    banner "Activation ceremony — custodian verification (offline laptop)"
    step custodian "verify the activation record: signed by the operator, and it matches sd.json" -- \
      "$KH" verify "$MEDIA/sd.json.activation.json" --signer "$OPCERT" --sd "$MEDIA/sd.json"
    step custodian "fingerprint the SD file" -- "$KH" fingerprint "$MEDIA/sd.json"
    confirm "the sd_sha256 in the record equals the SD file's sha256, and my fingerprint is listed."
    if [ -n "$KEY" ]; then
      step custodian "check that my share opens (decrypt and verify; nothing is combined)" -- \
        "$KH" check --sd "$MEDIA/sd.json" --key "$KEY" "${PASS[@]}"
    fi
    ;;
  *) echo "activation-ceremony: unknown role $role" >&2; usage "$0" >&2; exit 2 ;;
esac
