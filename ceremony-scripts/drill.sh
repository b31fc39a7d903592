#!/usr/bin/env bash
# hsm-ceremony disaster-recovery drill, end to end, on one machine.
#
#   ceremony-scripts/drill.sh [--custodians N] [--quorum M] [--one-laptop] [--keep DIR]
#                             [--latency MS] [--provision]
#   ceremony-scripts/drill.sh --azure --subscription S --resource-group RG --location L --sd SD.json
#                             [--prod-hsm NAME --storage-url URL --sas-file FILE]
#
# Builds the release binaries, then: N custodians enroll -> the operator
# activates an emulated Managed HSM with quorum M -> a key is created, a
# message encrypted, the key backed up -> the HSM is lost -> every custodian
# checks their share -> a fresh HSM starts a recovery -> M custodians make
# share bundles for the combiner (or, with --one-laptop, unlock their keys in
# turn on one machine) -> the restore blob is uploaded -> the key backup is
# restored and the message decrypts to the original -> an application is
# granted that one key and uses it (and is refused the security domain) -> the
# quorum signs a drill report. Every step is numbered in a transcript (terminal and
# transcript.txt in the drill folder), which ends with the time each step
# took. --latency MS is how long the emulated HSMs take to confirm an
# activation or a recovery (default 200; a real HSM takes seconds: a drill
# rehearses people and files, not waiting). --provision runs Azure's whole
# quickstart against the emulator's Resource Manager: the HSMs are provisioned,
# the lost one is deleted (soft-deleted, its name refused for a new HSM), and
# both are deleted and purged at the end. --azure is the same rehearsal on
# real Azure (az login first): a throwaway HSM is provisioned in RG, the
# production SD file is restored into it by its custodians (each runs
# `keyholder share` on their own machine; the drill waits for the bundles),
# and the HSM is deleted and purged at the end, also when a step fails.
# Keys come back from a full backup: --provision backs the production HSM up
# into a storage container (Azurite, started and stopped by the drill, its
# data in the drill folder) with a key inventory, restores the backup into
# the recovered HSM, compares the inventories (nothing may be missing) and
# restores one key selectively. With --azure, --prod-hsm NAME --storage-url
# URL --sas-file FILE does the same with the production HSM's own backup: its
# inventory and a full backup into that container (the SAS read from FILE,
# never printed), restored into the throwaway HSM and compared.
# Exit 0 only when every step succeeded.
set -euo pipefail

usage() {
  sed -n '3,37p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

N=3
M=2
MODE=distributed
KEEP=""
LATENCY_MS=200
PROVISION=0
AZURE=0
SUBSCRIPTION=""
AZ_RG=""
AZ_LOCATION=""
PROD_SD=""
PROD_HSM=""
AZ_STORAGE_URL=""
AZ_SAS_FILE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --custodians) N="${2:?--custodians needs a number}"; shift 2 ;;
    --quorum) M="${2:?--quorum needs a number}"; shift 2 ;;
    --one-laptop) MODE=one-laptop; shift ;;
    --keep) KEEP="${2:?--keep needs a folder}"; shift 2 ;;
    --latency) LATENCY_MS="${2:?--latency needs milliseconds}"; shift 2 ;;
    --provision) PROVISION=1; shift ;;
    --azure) AZURE=1; PROVISION=1; shift ;;
    --subscription) SUBSCRIPTION="${2:?--subscription needs an ID}"; shift 2 ;;
    --resource-group) AZ_RG="${2:?--resource-group needs a name}"; shift 2 ;;
    --location) AZ_LOCATION="${2:?--location needs a region}"; shift 2 ;;
    --sd) PROD_SD="${2:?--sd needs the production SD file}"; shift 2 ;;
    --prod-hsm) PROD_HSM="${2:?--prod-hsm needs the production HSM name}"; shift 2 ;;
    --storage-url) AZ_STORAGE_URL="${2:?--storage-url needs a container URL}"; shift 2 ;;
    --sas-file) AZ_SAS_FILE="${2:?--sas-file needs a file}"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "drill.sh: unknown option $1" >&2; usage ;;
  esac
done
case "$N$M$LATENCY_MS" in *[!0-9]*) echo "drill.sh: --custodians, --quorum and --latency take numbers" >&2; exit 2 ;; esac
if [ "$N" -lt 3 ] || [ "$N" -gt 10 ] || [ "$M" -lt 2 ] || [ "$M" -gt "$N" ]; then
  echo "drill.sh: need 3 <= custodians <= 10 and 2 <= quorum <= custodians (Azure's limits)" >&2
  exit 2
fi

if [ "$AZURE" = 1 ]; then
  if [ -z "$SUBSCRIPTION" ] || [ -z "$AZ_RG" ] || [ -z "$AZ_LOCATION" ] || [ -z "$PROD_SD" ]; then
    echo "drill.sh: --azure needs --subscription, --resource-group, --location and --sd" >&2; exit 2
  fi
  [ -f "$PROD_SD" ] || { echo "drill.sh: $PROD_SD: no such file" >&2; exit 2; }
  PROD_SD="$(cd "$(dirname "$PROD_SD")" && pwd)/$(basename "$PROD_SD")"
  if [ -n "$PROD_HSM$AZ_STORAGE_URL$AZ_SAS_FILE" ]; then
    if [ -z "$PROD_HSM" ] || [ -z "$AZ_STORAGE_URL" ] || [ -z "$AZ_SAS_FILE" ]; then
      echo "drill.sh: a backup drill needs all of --prod-hsm, --storage-url and --sas-file" >&2; exit 2
    fi
    [ -f "$AZ_SAS_FILE" ] || { echo "drill.sh: $AZ_SAS_FILE: no such file" >&2; exit 2; }
    AZ_SAS_FILE="$(cd "$(dirname "$AZ_SAS_FILE")" && pwd)/$(basename "$AZ_SAS_FILE")"
  fi
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "$KEEP" ]; then
  mkdir -p "$KEEP"
  WORK="$(cd "$KEEP" && pwd)"
  if [ -n "$(ls -A "$WORK")" ]; then echo "drill.sh: $WORK is not empty" >&2; exit 2; fi
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/hsm-ceremony-drill.XXXXXX")"
fi
chmod 700 "$WORK"
TRANSCRIPT="$WORK/transcript.txt"
LOG="$WORK/.step.log"
PIDS=()
STEP=0

say() { printf '%s\n' "$*" | tee -a "$TRANSCRIPT"; }

now_ms() { date +%s%3N; }
DRILL_START="$(now_ms)"
TIMINGS=()
# timings: where the time went, step by step (slowest first), and in all.
timings() {
  local total=$(( $(now_ms) - DRILL_START ))
  say ""
  say "time by step (the ${#TIMINGS[@]} timed steps, slowest 12 shown; $((total / 1000)).$(printf '%03d' $((total % 1000))) s in all):"
  printf '%s\n' "${TIMINGS[@]}" | sort -t'|' -k1,1nr | head -n 12 | while IFS='|' read -r ms label; do
    printf '  %6d ms  %s\n' "$ms" "$label"
  done | tee -a "$TRANSCRIPT"
}

cleanup() {
  local rc=$?
  # A real HSM costs money until purged: clean up even after a failed step.
  if [ "$AZURE" = 1 ] && [ -n "${HSM:-}" ]; then azure_cleanup; fi
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  if [ -z "$KEEP" ] && [ -d "$WORK" ]; then
    # Keep the transcript and the signed report; everything else (keys!) goes.
    # and the ceremony records, the ledger, and the printed record.
    find "$WORK" -mindepth 1 -maxdepth 1 ! -name transcript.txt ! -name drill-report.json ! -name ledger \
      ! -name drill-record.html -exec rm -rf {} +
  fi
  if [ $rc -eq 0 ]; then
    timings
    say ""
    say "DRILL PASSED: $N custodians, quorum $M, $MODE recovery. Transcript: $TRANSCRIPT"
  else
    say ""
    say "DRILL FAILED at step $STEP (exit $rc). Transcript: $TRANSCRIPT"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step WHO WHAT -- command...: runs one numbered step; on failure shows why and stops.
step() {
  local who="$1" what="$2"; shift 3
  STEP=$((STEP + 1))
  say "[$STEP] $who: $what"
  say "    \$ $(printf '%q ' "$@" | sed "s#$WORK/##g; s#$BIN/##g")"
  local started; started="$(now_ms)"
  if ! (cd "$WORK" && "$@") >"$LOG" 2>&1; then
    sed 's/^/    ! /' "$LOG" | tee -a "$TRANSCRIPT"
    say "    step $STEP failed: $what"
    return 1
  fi
  TIMINGS+=("$(( $(now_ms) - started ))|[$STEP] $who: $what")
  # Fingerprints and results, never secrets (the tools print none).
  grep -E 'x5t#S256|read aloud|sha256|opens|Success|wrote restore|drill succeeded|rebuilt|warning|^PASS|^FAIL|attested|NOT |TCB|MRENCLAVE|MRSIGNER|valid |created|decrypted|restored|backed up|encrypted |assigned|Managed HSM|provisioning:|provisioned|purge|deleted|created resource group|  uri:|activation:|: CN=|^folder:|^same:|^missing|^extra|^changed|record id|wrote the record|co-signed by|ledger of|^ +[0-9]+ +(activation|recovery|drill)|exactly right|printable record| versions? in |check passed' "$LOG" \
    | sed 's/^/    /' | tee -a "$TRANSCRIPT" || true
}

fingerprint() { say "    $1: sha256 $(sha256sum "$WORK/$2" | cut -d' ' -f1)"; }

start_emulator() { # start_emulator NAME [ARGS...]: an emulator with state in $WORK/NAME
  local name="$1" started; started="$(now_ms)"; shift
  "$BIN/mhsm-emulator" --data-dir "$WORK/$name" --activation-delay-ms "$LATENCY_MS" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 600); do
    [ -s "$WORK/$name/url" ] && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$WORK/$name.log" >&2; return 1; }
    sleep 0.1
  done
  [ -s "$WORK/$name/url" ] || return 1
  say "    $name listening on $(cat "$WORK/$name/url")"
  TIMINGS+=("$(( $(now_ms) - started ))|start the emulator $name")
}

hsm_dir() { # hsm_dir NAME: where the HSM NAME keeps its url, principal and tokens
  if [ "$PROVISION" = 1 ]; then echo "$WORK/azure/hsms/$1"; else echo "$WORK/$1"; fi
}

# Resource Manager arguments (the emulator's, in a --provision drill).
ARM=(--arm-url "https://unset" --subscription 00000000-0000-4000-8000-000000000d11)
RG=drill-rg

start_hsm() { # start_hsm NAME: a Managed HSM, emulated or provisioned through Resource Manager
  local name="$1"
  if [ "$PROVISION" = 0 ]; then
    STEP=$((STEP + 1)); say "[$STEP] operator: start the HSM $name (emulated)"
    start_emulator "$name" --hsm-name "$name"
    return
  fi
  local create=()
  [ "$name" = hsm-prod ] && create=(--create-resource-group)
  step operator "provision the Managed HSM $name (Resource Manager)${create:+, creating resource group $RG}" -- \
    "$BIN/uploader" --ca-cert azure/ca.pem provision --name "$name" --resource-group "$RG" --location westeurope \
    --administrator "$(cat "$WORK/azure/principal")" --retention-days 7 "${create[@]}" "${ARM[@]}"
}

target() { # target NAME: uploader arguments for the HSM NAME
  local dir; dir="$(hsm_dir "$1")"
  local auth="$WORK/$1"; [ "$PROVISION" = 1 ] && auth="$WORK/azure"
  printf '%s\n' --hsm-url "$(cat "$dir/url")" --hsm-name "$1" --ca-cert "$auth/ca.pem" --token-file "$auth/token"
}

say "hsm-ceremony drill $(date -u +%Y-%m-%dT%H:%M:%SZ): $N custodians, quorum $M, $MODE recovery"
say "drill folder: $WORK"

STEP=$((STEP + 1))
BUILD_START="$(now_ms)"
if [ -n "${HSM_CEREMONY_BIN_DIR:-}" ]; then
  # Tests run the drill with the binaries they already built.
  BIN="$HSM_CEREMONY_BIN_DIR"
  say "[$STEP] setup: use the binaries in $BIN"
else
  say "[$STEP] setup: build the release binaries (cargo build --release --locked)"
  say "    the first build takes about 3 minutes on two cores; later ones take seconds"
  BUILD=(cargo build --release --locked -p keyholder -p uploader -p mhsm-emulator)
  if [ -t 2 ]; then
    # On a terminal, cargo's own progress bar shows what is happening.
    (cd "$ROOT" && "${BUILD[@]}") || { say "    the build failed (cargo's messages above)"; exit 1; }
  elif ! (cd "$ROOT" && "${BUILD[@]}" -q) >"$LOG" 2>&1; then
    sed 's/^/    ! /' "$LOG" | tee -a "$TRANSCRIPT"; exit 1
  fi
  # Wherever cargo put them (CARGO_TARGET_DIR and .cargo/config are honoured).
  TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps --locked \
    | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
  [ -d "$TARGET_DIR" ] || { say "    cannot tell where cargo put the binaries"; exit 1; }
  BIN="$TARGET_DIR/release"
fi
TIMINGS+=("$(( $(now_ms) - BUILD_START ))|[$STEP] setup: build (or find) the binaries")
for b in keyholder uploader mhsm-emulator; do
  say "    $b: sha256 $(sha256sum "$BIN/$b" | cut -d' ' -f1)"
done

if [ "$AZURE" = 1 ]; then
  # The same commands as the --provision drill, against real Azure: tokens
  # from az, Azure's Resource Manager and Intel's attestation root.
  ARM=(--subscription "$SUBSCRIPTION")
  RG="$AZ_RG"
  HSM="drill-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  say "COST: a Managed HSM is billed by the hour from provisioning until it is purged (see Azure's"
  say "      pricing for $AZ_LOCATION). This drill provisions $HSM in $RG and deletes and purges it"
  say "      at the end, also when a step fails; check 'uploader list-deleted' afterwards."
  azure_cleanup() {
    (cd "$WORK" && "$BIN/uploader" delete --name "$HSM" --resource-group "$RG" --yes "${ARM[@]}") >>"$LOG" 2>&1 || true
    (cd "$WORK" && "$BIN/uploader" purge --name "$HSM" --location "$AZ_LOCATION" --yes "${ARM[@]}") >>"$LOG" 2>&1 \
      && say "    clean-up: $HSM deleted and purged" || say "    clean-up: check 'uploader list-deleted' for $HSM"
  }
  cp "$PROD_SD" "$WORK/sd.json"
  if [ -n "$PROD_HSM" ]; then
    AZ_STORAGE=(--storage-url "$AZ_STORAGE_URL" --sas-file "$AZ_SAS_FILE")
    step operator "write down every key and version of the production HSM $PROD_HSM" -- \
      "$BIN/uploader" --hsm "$PROD_HSM" keys inventory --out inventory-before.json
    step operator "full backup of $PROD_HSM into the storage container" -- \
      "$BIN/uploader" --hsm "$PROD_HSM" backup "${AZ_STORAGE[@]}"
    BACKUP_FOLDER="$(sed -n 's/^folder: //p' "$LOG")"
  fi
  step operator "provision the throwaway Managed HSM $HSM" -- \
    "$BIN/uploader" provision --name "$HSM" --resource-group "$RG" --location "$AZ_LOCATION" --administrator me \
    --retention-days 7 "${ARM[@]}"
  step operator "make this rehearsal's operator key (custodians pin its fingerprint, read aloud)" -- \
    "$BIN/uploader" operator-init --out keys/operator --public-out public --no-passphrase
  step combiner "make the one-time combiner key (custodians type its fingerprint, read from this screen)" -- \
    "$BIN/keyholder" combiner-init --out keys/combiner --public-out public --no-passphrase
  COMBINER_FP="$(grep -m1 'read aloud:' "$LOG" | sed 's/.*read aloud: *//')"
  step operator "fetch the exchange key, verify its attestation (Intel's root); sign the request" -- \
    "$BIN/uploader" --hsm "$HSM" init-recovery --sd sd.json --combiner public/combiner.json \
    --operator-key keys/operator/operator.key --out request.json
  mkdir -p "$WORK/shares"
  REQUIRED="$("$BIN/keyholder" fingerprint --json "$WORK/sd.json" | sed -n 's/^  "quorum": \([0-9]*\),$/\1/p')"
  say "custodians: each of $REQUIRED runs, on their own machine, with $WORK/request.json:"
  say "    keyholder share --sd SD.json --request request.json --hsm $HSM --operator-fingerprint HEX \\"
  say "      --combiner-fingerprint '$COMBINER_FP' --key YOUR.key --out NAME.share.json"
  say "  (the HSM's name and both fingerprints as read aloud here, typed on their own machine)"
  say "  and puts NAME.share.json into $WORK/shares/ (waiting up to an hour)"
  for _ in $(seq 1 720); do
    [ "$(find "$WORK/shares" -name '*.share.json' | wc -l)" -ge "$REQUIRED" ] && break
    sleep 5
  done
  SHARES=(); for f in "$WORK"/shares/*.share.json; do [ -e "$f" ] && SHARES+=(--share "shares/$(basename "$f")"); done
  step combiner "verify the share bundles, rebuild, write the restore blob" -- \
    "$BIN/keyholder" combine --sd sd.json --request request.json --hsm "$HSM" --operator-cert public/operator.cer \
    --combiner-key keys/combiner/combiner.key "${SHARES[@]}" --out restore-blob.json
  step operator "upload the restore blob and wait for the HSM" -- \
    "$BIN/uploader" --hsm "$HSM" upload --restore-blob restore-blob.json
  step operator "show the HSM: the production security domain is active in it" -- \
    "$BIN/uploader" show --name "$HSM" --resource-group "$RG" "${ARM[@]}"
  if [ -n "$PROD_HSM" ]; then
    ME="$(az ad signed-in-user show --query id -o tsv)"
    step operator "take Managed HSM Crypto User on $HSM (to read the keys back)" -- \
      "$BIN/uploader" --hsm "$HSM" role assign --role "Managed HSM Crypto User" --principal "$ME"
    step operator "restore the production backup into $HSM" -- \
      "$BIN/uploader" --hsm "$HSM" restore "${AZ_STORAGE[@]}" --folder "$BACKUP_FOLDER"
    step operator "write down every key and version of $HSM" -- \
      "$BIN/uploader" --hsm "$HSM" keys inventory --out inventory-after.json
    step witness "compare the inventories: every key and version came back, unchanged" -- \
      "$BIN/uploader" keys diff inventory-before.json inventory-after.json
  fi
  exit 0
fi

CUSTODIANS=()
for i in $(seq 1 "$N"); do CUSTODIANS+=("custodian$i"); done
# The quorum that recovers: the last M custodians (so share 1 is not always used).
QUORUM=("${CUSTODIANS[@]:$((N - M)):$M}")

# Passphrases for the drill: random, in files only the drill can read. In a
# real ceremony each custodian types theirs (no echo) instead.
mkdir -m 700 "$WORK/secrets"
for c in "${CUSTODIANS[@]}" operator combiner administrator; do
  head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$WORK/secrets/$c.pass"
done

# Each key holder's private folder is keys/NAME (their own laptop or medium);
# only the public folder, public/, is carried to the online machine.
for c in "${CUSTODIANS[@]}"; do
  step "$c" "enroll: keypair (stays in keys/$c), certificate and signed enrollment (to public/)" -- \
    "$BIN/keyholder" init --name "$c" --out "keys/$c" --public-out public --passphrase-file "secrets/$c.pass"
done
step operator "make the operator's signing key (the certificate to public/, for every custodian to keep)" -- \
  "$BIN/uploader" operator-init --out keys/operator --public-out public --passphrase-file secrets/operator.pass
step administrator "make the ceremony administrator's signing key (the ceremony records' first signature)" -- \
  "$BIN/keyholder" init --name administrator --out keys/administrator --public-out public \
  --passphrase-file secrets/administrator.pass

# ceremony_record KIND HSM RECORD PREVIOUS CUSTODIAN...: the ceremony's plan
# (its kind's template), walked as a rehearsal (the tool answers for the
# witness, and the record says so) and signed by the ceremony administrator,
# then co-signed by each custodian named, each with their own key. Records go
# to ledger/, chained by PREVIOUS.
ceremony_record() {
  local kind="$1" hsm="$2" record="ledger/$3" previous="$4"; shift 4
  local certs=() prev=()
  for c in "$@"; do certs+=(--custodian "public/$c.cer"); done
  [ -n "$previous" ] && prev=(--previous "ledger/$previous")
  mkdir -p "$WORK/ledger" "$WORK/ceremony"
  step administrator "write the $kind plan (its template; a real ceremony edits it beforehand)" -- \
    "$BIN/keyholder" ceremony new --kind "$kind" --hsm "$hsm" --administrator public/administrator.cer \
    --witness witness "${certs[@]}" --operator operator --combiner combiner --quorum "$M" --out "ceremony/$kind-plan.json"
  step administrator "walk the $kind plan (a rehearsal: the tool answers for the witness) and sign its record" -- \
    "$BIN/keyholder" ceremony run "ceremony/$kind-plan.json" --rehearsal --key keys/administrator/administrator.key \
    --passphrase-file secrets/administrator.pass --sd sd.json "${prev[@]}" --out "$record"
  for c in "$@"; do
    step "$c" "read and co-sign the $kind record" -- \
      "$BIN/keyholder" ceremony sign "$record" --sd sd.json --key "keys/$c/$c.key" \
      --passphrase-file "secrets/$c.pass" --in-place
  done
}

if [ "$PROVISION" = 1 ]; then
  STEP=$((STEP + 1)); say "[$STEP] setup: start the emulated Azure (Resource Manager and the HSMs it provisions)"
  start_emulator azure --provisioning-ms "$((LATENCY_MS * 5))"
  ARM=(--arm-url "$(cat "$WORK/azure/arm-url")" --arm-token-file "$WORK/azure/token" --subscription 00000000-0000-4000-8000-000000000d11)
fi
start_hsm hsm-prod
ENROLL=(); for c in "${CUSTODIANS[@]}"; do ENROLL+=(--enrollment "public/$c.enrollment.json"); done
mapfile -t T < <(target hsm-prod)
step operator "activate the HSM with quorum $M of $N (security-domain download)" -- \
  "$BIN/uploader" "${T[@]}" activate --quorum "$M" "${ENROLL[@]}" \
  --operator-key keys/operator/operator.key --passphrase-file secrets/operator.pass --out sd.json
fingerprint "SD file" sd.json
step custodians "verify the signed activation record against the SD file" -- \
  "$BIN/keyholder" verify sd.json.activation.json --signer public/operator.cer --sd sd.json
ceremony_record activation hsm-prod 1-activation.json "" "${CUSTODIANS[@]}"

step operator "take Managed HSM Crypto User (the administrator role grants no key operation)" -- \
  "$BIN/uploader" "${T[@]}" role assign --role "Managed HSM Crypto User" --principal "$(cat "$(hsm_dir hsm-prod)/principal")"

head -c 64 /dev/urandom | base64 >"$WORK/message.txt"
step operator "create key drill-key in the HSM" -- "$BIN/uploader" "${T[@]}" key create --name drill-key
step operator "encrypt a message with it" -- \
  "$BIN/uploader" "${T[@]}" key encrypt --name drill-key --in message.txt --out message.enc.json
step operator "back the key up (protected by the security domain)" -- \
  "$BIN/uploader" "${T[@]}" key backup --name drill-key --out drill-key.backup
fingerprint "key backup" drill-key.backup

if [ "$PROVISION" = 1 ]; then
  # Azure's disaster-recovery guide: a full backup to a storage container
  # before any disaster, and the inventory to prove the restore against.
  step operator "create key archive-key, and a second version of it" -- \
    bash -c '"$0" "$@" key create --name archive-key && "$0" "$@" key create --name archive-key' "$BIN/uploader" "${T[@]}"
  STEP=$((STEP + 1)); say "[$STEP] setup: start the storage account the backups go to (Azurite, Azure's storage emulator)"
  STORAGE_START="$(now_ms)"
  bash "$ROOT/storage/azurite.sh" start "$WORK/storage" >"$LOG" 2>&1 || { sed 's/^/    ! /' "$LOG" | tee -a "$TRANSCRIPT"; exit 1; }
  PIDS+=("$(cat "$WORK/storage/pid")")
  STORAGE_URL="$(bash "$ROOT/storage/azurite.sh" container "$WORK/storage" mhsm-backups)"
  # The SAS is a secret: it lives in a file only the operator reads, and no tool prints it.
  (umask 077 && bash "$ROOT/storage/azurite.sh" sas "$WORK/storage" mhsm-backups crwdl 120 >"$WORK/secrets/storage.sas")
  say "    container $STORAGE_URL; its SAS (create, read, write, delete, list; 2 hours) in secrets/storage.sas"
  TIMINGS+=("$(( $(now_ms) - STORAGE_START ))|[$STEP] setup: start the storage account")
  STORAGE=(--storage-url "$STORAGE_URL" --sas-file secrets/storage.sas)
  step operator "write down every key and version of hsm-prod (the inventory to check the restore against)" -- \
    "$BIN/uploader" "${T[@]}" keys inventory --out inventory-before.json
  fingerprint "key inventory" inventory-before.json
  step operator "full backup of hsm-prod into the storage container" -- \
    "$BIN/uploader" "${T[@]}" backup "${STORAGE[@]}"
  BACKUP_FOLDER="$(sed -n 's/^folder: //p' "$LOG")"
  [ -n "$BACKUP_FOLDER" ] || { say "    the backup named no folder"; exit 1; }
fi

if [ "$PROVISION" = 1 ]; then
  STEP=$((STEP + 1)); say "[$STEP] disaster: the production HSM is lost"
  step operator "delete the production HSM (soft delete: recoverable, and billed, until purged)" -- \
    "$BIN/uploader" --ca-cert azure/ca.pem delete --name hsm-prod --resource-group "$RG" --yes "${ARM[@]}"
  STEP=$((STEP + 1)); say "[$STEP] witness: its name is refused for a new HSM while it is soft-deleted"
  if (cd "$WORK" && "$BIN/uploader" --ca-cert azure/ca.pem provision --name hsm-prod --resource-group "$RG" \
      --location westeurope --administrator "$(cat "$WORK/azure/principal")" "${ARM[@]}") >"$LOG" 2>&1 \
      || ! grep -q "soft-deleted" "$LOG"; then
    sed 's/^/    ! /' "$LOG" | tee -a "$TRANSCRIPT"; say "    the name was not refused"; exit 1
  fi
  say "    refused: $(grep -m1 '^error' "$LOG")"
else
  STEP=$((STEP + 1)); say "[$STEP] disaster: the production HSM is lost"
  kill "${PIDS[0]}" 2>/dev/null; wait "${PIDS[0]}" 2>/dev/null || true
  PIDS[0]=""
  rm -rf "$WORK/hsm-prod"
  say "    hsm-prod stopped and its state deleted"
fi

for c in "${CUSTODIANS[@]}"; do
  step "$c" "check my share (decrypt and verify, never combine)" -- \
    "$BIN/keyholder" check --sd sd.json --key "keys/$c/$c.key" --passphrase-file "secrets/$c.pass"
done

start_hsm hsm-recovery
mapfile -t T < <(target hsm-recovery)
# The emulator attests its exchange key like a real Managed HSM, but under a
# test root it made; every tool is given that root explicitly and says it is
# not Intel's. A real recovery uses Intel's root, built into the tools.
ROOT_DIR="$WORK/hsm-recovery"; [ "$PROVISION" = 1 ] && ROOT_DIR="$WORK/azure"
cp "$ROOT_DIR/attestation-root.pem" "$WORK/attestation-root.pem"
say "    attestation root for this drill: the emulator's test root (NOT Intel's), sha256 $(sha256sum "$WORK/attestation-root.pem" | cut -d' ' -f1)"
ATT=(--attestation-root attestation-root.pem)

if [ "$MODE" = one-laptop ]; then
  step operator "fetch the recovering HSM's exchange key and verify its attestation" -- \
    "$BIN/uploader" "${T[@]}" init-recovery --sd sd.json "${ATT[@]}" --exchange-key-out exchange.pem
  step witness "check the exchange key's attestation, offline, check by check" -- \
    "$BIN/keyholder" exchange-key exchange.pem.transfer-key.json --hsm hsm-recovery "${ATT[@]}"
  # --passphrase-file values pair with the --key values in the order given.
  KEYARGS=(); for c in "${QUORUM[@]}"; do KEYARGS+=(--key "keys/$c/$c.key"); done
  for c in "${QUORUM[@]}"; do KEYARGS+=(--passphrase-file "secrets/$c.pass"); done
  step "${QUORUM[*]}" "one laptop: unlock each key in turn, write the restore blob" -- \
    "$BIN/keyholder" restore-blob --sd sd.json --exchange-key exchange.pem --hsm hsm-recovery "${ATT[@]}" \
    "${KEYARGS[@]}" --out restore-blob.json
else
  # The combiner's one-time key comes first: the operator's signed request names
  # it, and custodians seal their shares to that combiner only.
  step combiner "make the one-time combiner key (its fingerprint, on this screen, is read aloud to every custodian)" -- \
    "$BIN/keyholder" combiner-init --out keys/combiner --public-out public --passphrase-file secrets/combiner.pass
  COMBINER_FP="$(grep -m1 'read aloud:' "$LOG" | sed 's/.*read aloud: *//')"
  step operator "fetch the exchange key, verify its attestation; sign the request naming it and the combiner" -- \
    "$BIN/uploader" "${T[@]}" init-recovery --sd sd.json "${ATT[@]}" --combiner public/combiner.json \
    --operator-key keys/operator/operator.key --passphrase-file secrets/operator.pass --out request.json \
    --exchange-key-out exchange.pem
  step witness "check the exchange key's attestation, offline, check by check" -- \
    "$BIN/keyholder" exchange-key request.json.transfer-key.json --hsm hsm-recovery "${ATT[@]}"
  # Each custodian pins the operator (the certificate kept from the activation),
  # the HSM (its name, from the ceremony plan) and the combiner (its fingerprint,
  # read aloud from the combiner's screen): the request must name all three.
  SHARES=()
  for c in "${QUORUM[@]}"; do
    step "$c" "verify the request names hsm-recovery and the pinned combiner; seal my share to it" -- \
      "$BIN/keyholder" share --sd sd.json --request request.json --hsm hsm-recovery --operator-cert public/operator.cer \
      "${ATT[@]}" --combiner-fingerprint "$COMBINER_FP" --key "keys/$c/$c.key" --passphrase-file "secrets/$c.pass" \
      --out "$c.share.json"
    SHARES+=(--share "$c.share.json")
  done
  step combiner "verify the share bundles, rebuild, write the restore blob" -- \
    "$BIN/keyholder" combine --sd sd.json --request request.json --hsm hsm-recovery --operator-cert public/operator.cer \
    "${ATT[@]}" --combiner-key keys/combiner/combiner.key --passphrase-file secrets/combiner.pass "${SHARES[@]}" \
    --out restore-blob.json
  rm -f "$WORK/keys/combiner/combiner.key"
fi
fingerprint "restore blob" restore-blob.json

step operator "upload the restore blob and wait for the HSM" -- \
  "$BIN/uploader" "${T[@]}" upload --restore-blob restore-blob.json
step operator "take Managed HSM Crypto User on the recovered HSM" -- \
  "$BIN/uploader" "${T[@]}" role assign --role "Managed HSM Crypto User" --principal "$(cat "$(hsm_dir hsm-recovery)/principal")"
if [ "$PROVISION" = 1 ]; then
  step operator "check that the full backup would restore here (pre-restore)" -- \
    "$BIN/uploader" "${T[@]}" restore "${STORAGE[@]}" --folder "$BACKUP_FOLDER" --pre
  step operator "restore the full backup made before the disaster" -- \
    "$BIN/uploader" "${T[@]}" restore "${STORAGE[@]}" --folder "$BACKUP_FOLDER"
  step operator "write down every key and version of hsm-recovery" -- \
    "$BIN/uploader" "${T[@]}" keys inventory --out inventory-after.json
  step witness "compare the inventories: every key and version came back, unchanged" -- \
    "$BIN/uploader" keys diff inventory-before.json inventory-after.json
  step operator "restore archive-key alone from the backup (a selective restore, as after a mistaken delete)" -- \
    "$BIN/uploader" "${T[@]}" restore "${STORAGE[@]}" --folder "$BACKUP_FOLDER" --key archive-key
else
  step operator "restore the key backup made before the disaster" -- \
    "$BIN/uploader" "${T[@]}" key restore --in drill-key.backup
fi
step operator "decrypt the message with the restored key" -- \
  "$BIN/uploader" "${T[@]}" key decrypt --name drill-key --in message.enc.json --out message.out

STEP=$((STEP + 1)); say "[$STEP] witness: the decrypted message equals the original"
if ! cmp -s "$WORK/message.txt" "$WORK/message.out"; then
  say "    the decrypted message differs from the original"; exit 1
fi
say "    identical ($(wc -c <"$WORK/message.txt") bytes)"
ceremony_record recovery hsm-recovery 2-recovery.json 1-activation.json "${QUORUM[@]}"

# A second principal (an application) gets the key it needs, and only that:
# the emulator takes DIR/tokens/OBJECT_ID.token as that principal's token.
APP_ID="$(cat /proc/sys/kernel/random/uuid)"
RECOVERY_DIR="$(hsm_dir hsm-recovery)"
mkdir -p "$RECOVERY_DIR/tokens" && chmod 700 "$RECOVERY_DIR/tokens"
head -c 32 /dev/urandom | base64 | tr -d '/+=' >"$RECOVERY_DIR/tokens/$APP_ID.token"
mapfile -t APP_T < <(target hsm-recovery)
APP_T[7]="$RECOVERY_DIR/tokens/$APP_ID.token"
step operator "grant the application $APP_ID Managed HSM Crypto User on drill-key only" -- \
  "$BIN/uploader" "${T[@]}" role assign --role "Managed HSM Crypto User" --principal "$APP_ID" --scope /keys/drill-key
step operator "list the role assignments" -- "$BIN/uploader" "${T[@]}" role list
step application "decrypt the message with drill-key, as the application" -- \
  "$BIN/uploader" "${APP_T[@]}" key decrypt --name drill-key --in message.enc.json --out message.app.out
STEP=$((STEP + 1)); say "[$STEP] witness: the application may not touch the security domain"
if (cd "$WORK" && "$BIN/uploader" "${APP_T[@]}" status) >"$LOG" 2>&1 || ! grep -q "HTTP 403" "$LOG"; then
  sed 's/^/    ! /' "$LOG" | tee -a "$TRANSCRIPT"; say "    the application was not refused"; exit 1
fi
say "    refused: $(grep -o 'HTTP 403 Forbidden' "$LOG" | head -1)"

KEYARGS=(); for c in "${QUORUM[@]}"; do KEYARGS+=(--key "keys/$c/$c.key"); done
for c in "${QUORUM[@]}"; do KEYARGS+=(--passphrase-file "secrets/$c.pass"); done
# The custodians not in the quorum get share commitments too, sealed to their certificates.
for c in "${CUSTODIANS[@]}"; do
  case " ${QUORUM[*]} " in *" $c "*) ;; *) KEYARGS+=(--custodian-cert "public/$c.cer") ;; esac
done
step "${QUORUM[*]}" "sign the drill report (every EncData entry verified, every share committed to)" -- \
  "$BIN/keyholder" drill --sd sd.json "${KEYARGS[@]}" --out drill-report.json
step witness "verify the drill report against the SD file's custodians and quorum" -- \
  "$BIN/keyholder" verify drill-report.json --sd sd.json
fingerprint "drill report" drill-report.json
step "${CUSTODIANS[0]}" "check my share against the drill's commitments, alone, nothing rebuilt" -- \
  "$BIN/keyholder" check --sd sd.json --key "keys/${CUSTODIANS[0]}/${CUSTODIANS[0]}.key" \
  --passphrase-file "secrets/${CUSTODIANS[0]}.pass" --commitments drill-report.json
ceremony_record drill hsm-recovery 3-drill.json 2-recovery.json "${QUORUM[@]}"
step witness "verify the ledger: activation, recovery, drill, one chain ending with this SD file" -- \
  "$BIN/keyholder" ledger verify ledger --sd sd.json
step administrator "print the drill's record for the auditor (A4 or US Letter)" -- \
  "$BIN/keyholder" ceremony print ledger/3-drill.json --out drill-record.html

if [ "$PROVISION" = 1 ]; then
  # Clean-up, as the quickstart's must be: deleting leaves HSMs billed until purged.
  step operator "delete the recovery HSM" -- \
    "$BIN/uploader" --ca-cert azure/ca.pem delete --name hsm-recovery --resource-group "$RG" --yes "${ARM[@]}"
  for h in hsm-prod hsm-recovery; do
    step operator "purge $h (ends its billing, frees its name)" -- \
      "$BIN/uploader" --ca-cert azure/ca.pem purge --name "$h" --location westeurope --yes "${ARM[@]}"
  done
  step witness "nothing is left soft-deleted" -- \
    "$BIN/uploader" --ca-cert azure/ca.pem list-deleted "${ARM[@]}"
  if ! grep -q "no deleted Managed HSMs" "$LOG"; then say "    something is left: $(cat "$LOG")"; exit 1; fi
fi
