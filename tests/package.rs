//! The Debian package (release/deb.sh) as a custodian's laptop gets it:
//! unpacked into a scratch root with `dpkg -x`, its binaries run there and
//! say what they were built from, its man pages open with `man -l`, its
//! bash completion loads, it asks dpkg for a glibc Debian 12 has, and the
//! same binaries make the same package, byte for byte.

use std::path::Path;
use std::process::Command;

use ceremony_tests::*;

/// Debian 12's glibc (Tails 6 is built on Debian 12).
const DEBIAN_12_GLIBC: (u32, u32) = (2, 36);

fn make_package(out: &Path) -> std::path::PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../release/deb.sh");
    let o = Command::new("bash")
        .arg(script)
        .arg("--bin-dir")
        .arg(bin_dir())
        .arg("--out")
        .arg(out)
        .args(["--compression", "none"])
        .env("SOURCE_DATE_EPOCH", "1765000000")
        .output()
        .unwrap();
    assert!(o.status.success(), "deb.sh: {}", String::from_utf8_lossy(&o.stderr));
    let path = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(path.ends_with("_amd64.deb") || path.ends_with(".deb"), "{path}");
    std::path::PathBuf::from(path)
}

fn output(command: &mut Command) -> String {
    let o = command.output().unwrap();
    assert!(o.status.success(), "{command:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_debian_package_installs_offline_and_works() {
    let dir = scratch("debian-package");
    let deb = make_package(&dir.join("a"));

    // What dpkg is told: the package, and the oldest glibc it needs.
    let info = output(Command::new("dpkg-deb").arg("-I").arg(&deb));
    assert!(info.contains("Package: hsm-ceremony"), "{info}");
    let glibc = info
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: libc6 (>= ").and_then(|v| v.strip_suffix(')')))
        .unwrap_or_else(|| panic!("no libc6 dependency: {info}"));
    let mut parts = glibc.split('.').map(|p| p.parse::<u32>().unwrap());
    let needed = (parts.next().unwrap(), parts.next().unwrap_or(0));
    assert!(needed <= DEBIAN_12_GLIBC, "needs glibc {glibc}, newer than Debian 12's");

    // Unpacked into a scratch root, as `dpkg -i` would lay it out.
    let root = dir.join("root");
    output(Command::new("dpkg").arg("-x").arg(&deb).arg(&root));
    for tool in ["keyholder", "uploader", "mhsm-emulator"] {
        let version = output(Command::new(root.join("usr/bin").join(tool)).arg("--version"));
        assert!(version.starts_with(&format!("{tool} 0.1.0 (commit ")), "{version}");
    }
    let page = output(
        Command::new("man")
            .arg("-l")
            .arg(root.join("usr/share/man/man1/keyholder-share.1.gz"))
            .env("MANPAGER", "cat"),
    );
    assert!(page.contains("KEYHOLDER-SHARE(1)") && page.contains("--combiner-fingerprint"), "{page}");
    let listing = output(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for path in [
        "./usr/share/man/man1/uploader-init-recovery.1.gz",
        "./usr/share/zsh/vendor-completions/_keyholder",
        "./usr/share/fish/vendor_completions.d/uploader.fish",
        "./usr/share/doc/hsm-ceremony/copyright",
    ] {
        assert!(listing.contains(path), "{path} is packaged: {listing}");
    }
    assert!(listing.lines().all(|l| l.contains("root/root")), "files are root's: {listing}");
    let completion = root.join("usr/share/bash-completion/completions/keyholder");
    let complete = output(
        Command::new("bash")
            .arg("-c")
            .arg(format!("source {} && complete -p keyholder", completion.display())),
    );
    assert!(complete.contains("keyholder"), "{complete}");

    // The same binaries make the same package.
    let again = make_package(&dir.join("b"));
    assert!(
        std::fs::read(&deb).unwrap() == std::fs::read(&again).unwrap(),
        "two packages of the same binaries differ"
    );
}
