//! The manual shipped with the binaries: completions for every shell that
//! know every command, and one man page per command, as `release/build.sh`
//! installs them.

use ceremony_tests::*;

const KEYHOLDER: [&str; 16] = [
    "init",
    "check",
    "restore-blob",
    "combiner-init",
    "share",
    "combine",
    "rotate",
    "drill",
    "verify",
    "exchange-key",
    "fingerprint",
    "passwd",
    "ceremony",
    "ledger",
    "completions",
    "manpages",
];
const UPLOADER: [&str; 19] = [
    "operator-init",
    "operator-renew",
    "activate",
    "init-recovery",
    "upload",
    "status",
    "wait",
    "backup",
    "restore",
    "key",
    "provision",
    "show",
    "delete",
    "list-deleted",
    "purge",
    "recover",
    "role",
    "completions",
    "manpages",
];

#[test]
fn completions_know_every_command() {
    let dir = scratch("manual-completions");
    for (tool, commands) in [("keyholder", &KEYHOLDER[..]), ("uploader", &UPLOADER[..])] {
        for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
            let script = ok(run(&dir, tool, &["completions", shell]));
            for c in commands {
                assert!(script.contains(c), "{tool} {shell} completion lacks {c}");
            }
        }
        let o = run(&dir, tool, &["completions", "tcsh"]);
        assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");
    }
}

#[test]
fn one_man_page_per_command() {
    let dir = scratch("manual-pages");
    for (tool, commands) in [("keyholder", &KEYHOLDER[..]), ("uploader", &UPLOADER[..])] {
        let out = ok(run(&dir, tool, &["manpages", "--out", "man1"]));
        assert!(out.contains("man pages into man1"), "{out}");
        for c in commands.iter().map(|c| format!("{tool}-{c}")).chain([tool.to_owned()]) {
            let page = std::fs::read_to_string(dir.join(format!("man1/{c}.1"))).unwrap();
            assert!(page.contains(&format!(".TH {}", c.to_uppercase())), "{c}.1 has its title");
            assert!(page.contains(".SH SYNOPSIS"), "{c}.1 has a synopsis");
            // Every page shows how it is used, with its own command line.
            let examples = page.split(".SH EXAMPLES").nth(1).unwrap_or_else(|| panic!("{c}.1 has EXAMPLES"));
            let examples = examples.split(".SH ").next().unwrap().replace("\\-", "-");
            let command_line = c.replacen('-', " ", 1);
            let command_line = if command_line.contains("key ") || command_line.contains("role ") {
                command_line.replace('-', " ")
            } else {
                command_line
            };
            let words: Vec<&str> = command_line.split(' ').collect();
            assert!(
                examples.lines().any(|l| words.iter().all(|w| l.contains(w))),
                "{c}.1: an example runs {command_line}: {examples}"
            );
        }
        // Existing pages are kept unless --force.
        let o = run(&dir, tool, &["manpages", "--out", "man1"]);
        assert_eq!(o.status.code(), Some(1));
        ok(run(&dir, tool, &["manpages", "--out", "man1", "--force"]));
    }
    // Every page another page points to (SUBCOMMANDS) is there: no `keyholder-help(1)`.
    let mut references = 0;
    for entry in std::fs::read_dir(dir.join("man1")).unwrap() {
        let path = entry.unwrap().path();
        let page = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\\-", "-")
            .replace("\\fB", "")
            .replace("\\fR", "");
        for word in page.split_whitespace() {
            let Some(target) = word.strip_suffix("(1)") else { continue };
            references += 1;
            assert!(
                dir.join(format!("man1/{target}.1")).is_file(),
                "{} points to {target}(1)",
                path.display()
            );
        }
    }
    assert!(references > 20, "the pages point to their subcommands' pages ({references} references)");
    let page = std::fs::read_to_string(dir.join("man1/uploader-key-create.1")).unwrap();
    assert!(page.contains("uploader key create"), "the synopsis shows the whole command line");
}

#[test]
fn a_thumbprint_that_starts_with_a_hyphen_is_a_value() {
    // base64url thumbprints start with '-' one time in 64; clap must not take them for flags.
    let dir = scratch("manual-hyphen");
    let o =
        run(&dir, "keyholder", &["exchange-key", "missing.pem", "--hsm", "h", "--allow-unattested", "-jAbc"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("missing.pem: no such file"), "{err}");
}

/// `--version` of each binary names the commit this checkout is at and the
/// compiler that built it, as `git` and `rustc` themselves say them.
#[test]
fn version_names_the_commit_and_the_compiler() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let git = std::process::Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .expect("git");
    let commit = String::from_utf8_lossy(&git.stdout).trim().to_owned();
    assert!(git.status.success() && commit.len() == 12, "the tests run in a git checkout: {commit:?}");
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-V")
        .output()
        .expect("rustc");
    let rustc = String::from_utf8_lossy(&rustc.stdout).trim().to_owned();
    let dir = scratch("manual-version");
    for tool in ["keyholder", "uploader", "mhsm-emulator"] {
        let out = ok(run(&dir, tool, &["--version"]));
        assert_eq!(out.trim(), format!("{tool} 0.1.0 (commit {commit}, {rustc})"));
    }
}
