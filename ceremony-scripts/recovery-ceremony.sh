#!/usr/bin/env bash
# Recovery ceremony: bring the security domain into a new (or rebuilt) HSM.
#
#   recovery-ceremony.sh combiner-init --media DIR --combiner-dir DIR
#       (combiner, offline, first) make the one-time combiner key; only its public
#       bundle goes on the media. Its fingerprint, shown on this laptop's screen,
#       is what every custodian types at `share`.
#   recovery-ceremony.sh request (--hsm NAME | --hsm-url URL [--ca-cert PEM]) [--token-file F]
#       --media DIR --operator-key OP.key
#       (operator, online) fetch the new HSM's exchange key; write exchange.pem and
#       the signed recovery request naming it and the combiner (combiner.json on
#       the media; without it, only exchange.pem for a one-laptop recovery).
#   recovery-ceremony.sh share --media DIR --key NAME.key (--operator-cert OP.cer | --operator-fingerprint HEX)
#       [--hsm NAME] [--combiner-fingerprint HEX]
#       (each custodian, own offline laptop) seal my share to the combiner. The
#       HSM's name (from the ceremony plan) and the combiner's fingerprint (read
#       from the combiner laptop's screen) are asked on this terminal unless
#       given: the request must name both, or nothing is sealed.
#   recovery-ceremony.sh combine --media DIR --combiner-dir DIR (--operator-cert OP.cer | --operator-fingerprint HEX)
#       [--hsm NAME]
#       (combiner, offline) verify the share bundles, write restore-blob.json.
#   recovery-ceremony.sh one-laptop --media DIR --key K1 --key K2 ...
#       (alternative to share/combine) custodians unlock their keys in turn on one laptop.
#   recovery-ceremony.sh upload (--hsm NAME | --hsm-url URL ...) --media DIR
#       (operator, online) upload the restore blob and wait until the HSM is active.
#
# Every role that relies on the exchange key verifies its SGX attestation
# offline (Intel's root is built in); --attestation-root ROOT.pem (emulator
# drills only), --attestation-pins, --collateral DIR and --allow-unattested X5T
# are passed through. With --hsm-url, --hsm-name NAME names the HSM.
# Roles: operator, combiner, custodian, witness. The operator's key is on the
# online machine, so its signature alone decides nothing: custodians pin the
# operator (certificate or fingerprint kept from the activation ceremony), the
# target HSM (its name, from the ceremony plan) and the combiner (its
# fingerprint, read from the combiner laptop's own screen), never with values
# that came on the media.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

role="${1:-}"; shift || true
case "$role" in ''|-h|--help|help) usage "$0"; exit 0 ;; esac
MEDIA="" OPKEY="" OPIN=() CDIR="" KEYS=() TARGET=() PASS=() ATT=() HSMNAME="" COMBINER_FP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --media) MEDIA="$2"; shift 2 ;;
    --operator-key) OPKEY="$2"; shift 2 ;;
    --operator-cert|--operator-fingerprint) OPIN=("$1" "$2"); shift 2 ;;
    --combiner-dir) CDIR="$2"; shift 2 ;;
    --combiner-fingerprint) COMBINER_FP="$2"; shift 2 ;;
    --key) KEYS+=(--key "$2"); shift 2 ;;
    --hsm|--hsm-name) TARGET+=("$1" "$2"); HSMNAME="$2"; shift 2 ;;
    --hsm-url|--ca-cert|--token-file) TARGET+=("$1" "$2"); shift 2 ;;
    --attestation-root|--attestation-pins|--collateral|--allow-unattested) ATT+=("$1" "$2"); shift 2 ;;
    --passphrase-file) PASS+=(--passphrase-file "$2"); shift 2 ;;
    *) echo "recovery-ceremony: unknown argument $1" >&2; exit 2 ;;
  esac
done
need --media "$MEDIA"
[ -d "$MEDIA" ] || { echo "recovery-ceremony: --media $MEDIA is not a folder" >&2; exit 2; }
transcript "$role$([ ${#KEYS[@]} -eq 2 ] && printf -- '-%s' "$(basename "${KEYS[1]}" .key)")"

case "$role" in
  request)
    need --operator-key "$OPKEY"
    [ ${#TARGET[@]} -gt 0 ] || { echo "recovery-ceremony: --hsm or --hsm-url is required" >&2; exit 2; }
    UP="$(tool uploader)"
    banner "Recovery ceremony — operator: recovery request (online machine)"
    if [ -f "$MEDIA/combiner.json" ]; then
      step operator "fetch the exchange key; sign the recovery request naming it and the combiner" -- \
        "$UP" "${TARGET[@]}" init-recovery --sd "$MEDIA/sd.json" --combiner "$MEDIA/combiner.json" "${ATT[@]}" \
        --operator-key "$OPKEY" "${PASS[@]}" --out "$MEDIA/request.json" --exchange-key-out "$MEDIA/exchange.pem"
      confirm "the combiner's fingerprint shown equals the one the combiner read aloud."
    else
      step operator "fetch the exchange key (no combiner.json on the media: one-laptop recovery)" -- \
        "$UP" "${TARGET[@]}" init-recovery --sd "$MEDIA/sd.json" "${ATT[@]}" --exchange-key-out "$MEDIA/exchange.pem"
    fi
    confirm "the exchange key's fingerprint was read aloud and written on the ceremony record."
    ;;
  combiner-init)
    need --combiner-dir "$CDIR"
    KH="$(tool keyholder)"
    banner "Recovery ceremony — combiner: one-time key (offline laptop)"
    step combiner "make the combiner key (passphrase asked twice)" -- \
      "$KH" combiner-init --out "$CDIR" --public-out "$CDIR/public" "${PASS[@]}"
    step combiner "copy the public combiner bundle (never combiner.key) to the media" -- cp "$CDIR/public/combiner.json" "$MEDIA/"
    confirm "the combiner's \"read aloud\" fingerprint is on the ceremony record; each custodian copies it from THIS screen."
    ;;
  share)
    need "--operator-cert or --operator-fingerprint" "${OPIN[*]}"; [ ${#KEYS[@]} -eq 2 ] || { echo "recovery-ceremony: share takes exactly one --key" >&2; exit 2; }
    KH="$(tool keyholder)"
    name="$(basename "${KEYS[1]}" .key)"
    banner "Recovery ceremony — custodian $name: share (own offline laptop)"
    ask HSMNAME "the name of the HSM we recover into" "from the ceremony plan, not from the media"
    ask COMBINER_FP "the combiner's fingerprint" "the \"read aloud\" line on the combiner laptop's own screen"
    step custodian "verify the request: signed by the pinned operator, for HSM $HSMNAME, its exchange key attested" -- \
      "$KH" verify "$MEDIA/request.json" --sd "$MEDIA/sd.json" --hsm "$HSMNAME" "${OPIN[@]}" "${ATT[@]}"
    confirm "the exchange-key fingerprint shown equals the one on the ceremony record (before anything is written)."
    step custodian "seal my share to the combiner I pinned (the request must name it)" -- \
      "$KH" share --sd "$MEDIA/sd.json" --request "$MEDIA/request.json" --hsm "$HSMNAME" "${OPIN[@]}" "${ATT[@]}" \
      --combiner-fingerprint "$COMBINER_FP" "${KEYS[@]}" "${PASS[@]}" --out "$MEDIA/$name.share.json"
    ;;
  combine)
    need --combiner-dir "$CDIR"; need "--operator-cert or --operator-fingerprint" "${OPIN[*]}"
    KH="$(tool keyholder)"
    banner "Recovery ceremony — combiner: combine (offline laptop)"
    ask HSMNAME "the name of the HSM we recover into" "from the ceremony plan, not from the media"
    SHARES=()
    for s in "$MEDIA"/*.share.json; do [ -e "$s" ] && SHARES+=(--share "$s"); done
    step combiner "verify every share bundle, rebuild the key, write the restore blob" -- \
      "$KH" combine --sd "$MEDIA/sd.json" --request "$MEDIA/request.json" --hsm "$HSMNAME" "${OPIN[@]}" "${ATT[@]}" \
      --combiner-key "$CDIR/combiner.key" "${PASS[@]}" "${SHARES[@]}" --out "$MEDIA/restore-blob.json"
    confirm "the exchange-key fingerprint shown equals the one on the ceremony record."
    destroy_key combiner "$CDIR/combiner.key" "the one-time combiner key"
    ;;
  one-laptop)
    [ ${#KEYS[@]} -ge 4 ] || { echo "recovery-ceremony: one-laptop needs at least two --key" >&2; exit 2; }
    need "--hsm NAME (the recovering HSM, whose exchange key must be attested)" "$HSMNAME"
    KH="$(tool keyholder)"
    banner "Recovery ceremony — one laptop (offline): custodians come one at a time"
    step custodians "each custodian unlocks their key in turn; the restore blob is written" -- \
      "$KH" restore-blob --sd "$MEDIA/sd.json" --exchange-key "$MEDIA/exchange.pem" --hsm "$HSMNAME" "${ATT[@]}" "${KEYS[@]}" "${PASS[@]}" \
      --out "$MEDIA/restore-blob.json"
    confirm "the exchange-key fingerprint shown equals the one on the ceremony record."
    ;;
  upload)
    [ ${#TARGET[@]} -gt 0 ] || { echo "recovery-ceremony: --hsm or --hsm-url is required" >&2; exit 2; }
    UP="$(tool uploader)"
    banner "Recovery ceremony — operator: upload (online machine)"
    step operator "upload the restore blob and wait for the HSM" -- \
      "$UP" "${TARGET[@]}" upload --restore-blob "$MEDIA/restore-blob.json"
    confirm "the HSM reports 'Success: The resource is active.'"
    ;;
  *) echo "recovery-ceremony: unknown role $role" >&2; usage "$0" >&2; exit 2 ;;
esac
