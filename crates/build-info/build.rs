//! Finds what the tools are built from, for `--version`: the commit
//! (`HSM_CEREMONY_COMMIT`, else the `COMMIT` file at the top of a source
//! archive, else `git rev-parse`, else "unknown") and the compiler (`$RUSTC
//! -V`). Both are the same for two builds of one tree with one toolchain, so
//! they keep release builds byte-identical.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=HSM_CEREMONY_COMMIT");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../..");
    let commit = std::env::var("HSM_CEREMONY_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| commit_file(&root))
        .or_else(|| git_commit(&root))
        .unwrap_or_else(|| "unknown".to_owned());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let compiler = Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "rustc (unknown version)".to_owned());
    println!("cargo:rustc-env=HSM_CEREMONY_COMMIT={}", commit.trim());
    println!("cargo:rustc-env=HSM_CEREMONY_RUSTC={compiler}");
}

/// `COMMIT`, which the air-gapped recipe writes into the source archive.
fn commit_file(root: &Path) -> Option<String> {
    let path = root.join("COMMIT");
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_owned()).filter(|c| !c.is_empty())
}

/// The checkout's commit; rebuilt when HEAD or the branch it names moves.
fn git_commit(root: &Path) -> Option<String> {
    let git = root.join(".git");
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
    if let Some(branch) = head.trim().strip_prefix("ref: ") {
        println!("cargo:rerun-if-changed={}", git.join(branch).display());
    }
    let out =
        Command::new("git").arg("-C").arg(root).args(["rev-parse", "--short=12", "HEAD"]).output().ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    Some(commit).filter(|c| out.status.success() && !c.is_empty())
}
