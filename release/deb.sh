#!/usr/bin/env bash
# A Debian package of the three binaries with their man pages and shell
# completions, installable offline with `dpkg -i` (Debian 12, Tails 6).
#
#   release/deb.sh --bin-dir DIR --out DIR [--compression xz|none]
#
# DIR holds keyholder, uploader and mhsm-emulator as built (release/build.sh
# passes release/out); the manual and completions are made by the binaries
# themselves. Built with Debian's own dpkg-deb: no packaging tool to fetch or
# vet, and every byte of the layout is in this script. File times are set to
# SOURCE_DATE_EPOCH (default: the commit's time) and owners to root, so the
# same binaries give the same package. The binaries need the glibc of the
# machine that built them or newer: Depends says which (the highest GLIBC_
# symbol version they use), so dpkg refuses a machine too old for them.
set -euo pipefail
BIN="" OUT="" COMPRESSION=xz
while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) BIN="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --compression) COMPRESSION="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deb.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$BIN" ] && [ -n "$OUT" ] || { echo "deb.sh: --bin-dir and --out are required (see --help)" >&2; exit 2; }
case "$COMPRESSION" in xz|none) ;; *) echo "deb.sh: --compression is xz or none" >&2; exit 2 ;; esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BINS=(keyholder uploader mhsm-emulator)
for b in "${BINS[@]}"; do
  [ -x "$BIN/$b" ] || { echo "deb.sh: $BIN/$b is missing; build it first (release/build.sh)" >&2; exit 1; }
done
for t in dpkg dpkg-deb objdump gzip; do
  command -v "$t" >/dev/null || { echo "deb.sh: $t is needed (apt-get install dpkg binutils gzip)" >&2; exit 1; }
done

VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -1)"
ARCH="$(dpkg --print-architecture)"
EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}"
# The newest glibc symbol version any binary uses: the oldest libc6 it runs on.
GLIBC="$(for b in "${BINS[@]}"; do objdump -T "$BIN/$b"; done \
  | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
PKG="$STAGE/hsm-ceremony"
mkdir -p "$PKG/DEBIAN" "$PKG/usr/bin" "$PKG/usr/share/man/man1" "$PKG/usr/share/doc/hsm-ceremony" \
  "$PKG/usr/share/bash-completion/completions" "$PKG/usr/share/zsh/vendor-completions" \
  "$PKG/usr/share/fish/vendor_completions.d"
for b in "${BINS[@]}"; do install -m 0755 "$BIN/$b" "$PKG/usr/bin/$b"; done
mkdir -p "$STAGE/man"
for b in keyholder uploader; do
  "$BIN/$b" manpages --out "$STAGE/man" --force >/dev/null
  "$BIN/$b" completions bash > "$PKG/usr/share/bash-completion/completions/$b"
  "$BIN/$b" completions zsh > "$PKG/usr/share/zsh/vendor-completions/_$b"
  "$BIN/$b" completions fish > "$PKG/usr/share/fish/vendor_completions.d/$b.fish"
done
for page in "$STAGE"/man/*.1; do gzip -9n < "$page" > "$PKG/usr/share/man/man1/$(basename "$page").gz"; done
gzip -9n < "$ROOT/README.md" > "$PKG/usr/share/doc/hsm-ceremony/README.md.gz"
cat > "$PKG/usr/share/doc/hsm-ceremony/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: hsm-ceremony

Files: *
License: MIT OR Apache-2.0
EOF
SIZE="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
cat > "$PKG/DEBIAN/control" <<EOF
Package: hsm-ceremony
Version: $VERSION
Architecture: $ARCH
Maintainer: hsm-ceremony maintainers <hsm-ceremony@example.invalid>
Installed-Size: $SIZE
Depends: libc6 (>= $GLIBC)
Section: utils
Priority: optional
Description: key ceremonies for Azure Key Vault Managed HSM security domains
 keyholder (offline: custodian keys, share checks, distributed recovery,
 rotation, drill reports), uploader (online: activation, recovery upload,
 Resource Manager) and mhsm-emulator (a local Managed HSM for drills), with
 their man pages and bash, zsh and fish completions.
EOF
# Same input, same package: fixed times, root-owned, sorted by dpkg-deb.
find "$PKG" -exec touch -h -d "@$EPOCH" {} +
chmod -R u+rwX,go+rX,go-w "$PKG"
mkdir -p "$OUT"
DEB="$OUT/hsm-ceremony_${VERSION}_${ARCH}.deb"
# Built under a temporary name in the same folder, then renamed into place:
# a failed build leaves no partial package.
PARTIAL="$OUT/.$(basename "$DEB").partial.$$"
trap 'rm -rf "$STAGE" "$PARTIAL"' EXIT
SOURCE_DATE_EPOCH="$EPOCH" dpkg-deb --root-owner-group -Z"$COMPRESSION" --build "$PKG" "$PARTIAL" >/dev/null
mv -f "$PARTIAL" "$DEB"
echo "$DEB"
