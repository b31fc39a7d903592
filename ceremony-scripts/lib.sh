# Shared helpers for the ceremony scripts (sourced, not run).
# Steps are numbered; each shows the command, runs it, and stops on failure.
# Witness confirmations read from the terminal; CEREMONY_REHEARSAL=1 answers
# them automatically (rehearsals only: a real ceremony must never set it).
# --passphrase-file F (repeatable) is passed to the tools, for rehearsals; in a
# real ceremony leave it out and type each passphrase when asked (no echo).

CEREMONY_STEP=0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

# $HSM_CEREMONY_BIN_DIR if set, else installed binaries, else this checkout's
# release build; says which one it runs, with its SHA-256, for the record.
tool() {
  local path
  if [ -n "${HSM_CEREMONY_BIN_DIR:-}" ]; then path="$HSM_CEREMONY_BIN_DIR/$1"
  elif command -v "$1" >/dev/null 2>&1; then path="$(command -v "$1")"
  elif [ -x "$ROOT/target/release/$1" ]; then path="$ROOT/target/release/$1"
  else echo "ceremony: $1 not found; build it with: cargo build --release --locked -p $1" >&2; return 1
  fi
  echo "ceremony: running $path (sha256 $(sha256sum "$path" | cut -d' ' -f1))" >&2
  echo "$path"
}

# usage SCRIPT: the comment block at the top of SCRIPT, without the #s.
usage() { sed -n '2,/^[^#]/p' "$1" | sed -n '/^#/p' | sed 's/^# \{0,1\}//'; }

banner() { printf '\n=== %s ===\n' "$*"; }

# transcript WHO: from here on, everything this script shows (steps, every
# fingerprint, the witness's answers, refusals) is also appended to a
# transcript on the media, transcript-WHO-<UTC time>.txt, which goes into the
# ceremony record. It holds no secret: keys and passphrases never reach the
# terminal.
transcript() {
  local stamp; stamp="$(date -u +%Y%m%dT%H%M%SZ)"
  CEREMONY_TRANSCRIPT="$MEDIA/transcript-$1-$stamp.txt"
  : >>"$CEREMONY_TRANSCRIPT" || { echo "ceremony: cannot write $CEREMONY_TRANSCRIPT" >&2; exit 1; }
  exec > >(tee -a "$CEREMONY_TRANSCRIPT"); CEREMONY_TEE_OUT=$!
  exec 2> >(tee -a "$CEREMONY_TRANSCRIPT" >&2); CEREMONY_TEE_ERR=$!
  # On exit the transcript is complete before the script's caller goes on.
  trap 'exec 1>&- 2>&-; wait "$CEREMONY_TEE_OUT" "$CEREMONY_TEE_ERR" 2>/dev/null' EXIT
  printf 'transcript of %s %s, %s on %s (UTC %s)\n' "$(basename "$0")" "$1" "${USER:-?}" "$(uname -n)" "$stamp"
  echo "saved as $CEREMONY_TRANSCRIPT"
}

# destroy_key ROLE FILE WHAT: a one-time key's end. The file is overwritten and
# removed (shred, where it is installed); since flash media and SSDs may keep
# old copies, the witness then confirms that the medium itself was wiped or
# destroyed as the ceremony plan says, and the transcript records both.
destroy_key() {
  local role="$1" file="$2" what="$3"
  if command -v shred >/dev/null 2>&1; then
    step "$role" "destroy $what: overwrite $file three times, then remove it" -- shred -u -z -n 3 "$file"
  else
    step "$role" "destroy $what: remove $file (shred is not installed)" -- rm -f "$file"
  fi
  [ ! -e "$file" ] || { echo "ceremony: $file is still there" >&2; exit 1; }
  echo "    $file is gone from the file system; overwriting does not reach every copy on flash media or SSDs."
  confirm "the medium that held $what was wiped or destroyed as the ceremony plan says (write how on the record)."
}

# step ROLE "what the person does" -- command...
step() {
  local role="$1" what="$2"; shift 3
  CEREMONY_STEP=$((CEREMONY_STEP + 1))
  printf '\n[%d] %s: %s\n    $ %s\n' "$CEREMONY_STEP" "$role" "$what" "$*"
  if ! "$@"; then
    printf '\n[%d] FAILED: %s. Stop the ceremony; nothing later may run.\n' "$CEREMONY_STEP" "$what" >&2
    exit 1
  fi
}

# confirm "question": the witness must type yes.
confirm() {
  printf '\n    WITNESS: %s\n' "$1"
  if [ "${CEREMONY_REHEARSAL:-}" = 1 ]; then
    echo "    (rehearsal: answered yes automatically)"; return 0
  fi
  local answer
  read -r -p "    type yes to continue, anything else to stop: " answer </dev/tty
  [ "$answer" = yes ] || { echo "    stopped by the witness" >&2; exit 1; }
}

need() { [ -n "$2" ] || { echo "ceremony: $1 is required" >&2; exit 2; }; }

# ask VAR "what" "why": sets VAR from the person at this laptop's own terminal
# unless it was already given as a flag. What the custodian types here comes
# from the ceremony plan or the combiner laptop's screen, never from the media
# the online machine wrote; so a rehearsal must give it as a flag.
ask() {
  local var="$1" what="$2" why="$3" answer
  [ -n "${!var}" ] && return 0
  if [ "${CEREMONY_REHEARSAL:-}" = 1 ] || [ ! -r /dev/tty ]; then
    echo "ceremony: $what is required ($why)" >&2; exit 2
  fi
  printf '\n    %s\n    (%s)\n' "$what" "$why"
  read -r -p "    type it here: " answer </dev/tty
  [ -n "$answer" ] || { echo "    nothing typed; stopped" >&2; exit 1; }
  printf -v "$var" '%s' "$answer"
}
