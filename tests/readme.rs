//! README.md's blocks run as written: "Try it locally" exactly as printed,
//! and the "ten lines" against two emulated HSMs named
//! as in the example (contoso, contoso-dr). Only what a test must change is
//! changed: the emulator's target flags replace the uploader's `--hsm NAME`,
//! the exchange key is judged under the emulator's test root, passphrases
//! come from a file where the example would prompt, `HEX` is the fingerprint
//! `combiner-init` showed, and `/media/…` and `~/…` become folders of the
//! test. Lines marked "each custodian" run for alice, bob and
//! carol; "each of a quorum" for alice and bob.

use std::path::Path;

use ceremony_tests::*;

/// The example's commands, continuation lines joined, comments kept apart.
fn example() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let section =
        readme.split("## A real activation and recovery, in ten lines").nth(1).expect("the section");
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("its sh block");
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once("  #") {
            Some((cmd, comment)) => (cmd.trim().to_owned(), comment.trim().to_owned()),
            None => (l.trim().to_owned(), String::new()),
        })
        .collect()
}

#[test]
fn the_ten_line_example_runs_as_written() {
    let lines = example();
    assert_eq!(lines.len(), 9, "nine commands (ten lines): {lines:?}");
    let dir = scratch("readme-example");
    let prod = Emulator::start_named(&dir.join("hsm-contoso"), "contoso");
    let dr = Emulator::start_named(&dir.join("hsm-contoso-dr"), "contoso-dr");
    std::fs::write(dir.join("pw"), "a passphrase for the README\n").unwrap();
    let root = prod.attestation_root();
    let mut combiner_fp = String::new();
    for (command, comment) in &lines {
        let people: &[&str] = if comment.contains("each custodian") {
            &["alice", "bob", "carol"]
        } else if comment.contains("each of a quorum") {
            &["alice", "bob"]
        } else {
            &["alice"]
        };
        for person in people {
            let line = command.replace("alice", person).replace("/media/", "media/").replace("~/op", "op");
            let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            let tool = words.remove(0);
            // The emulator for the uploader's --hsm NAME (keyholder's --hsm is the custodians' pin).
            if let Some(i) = words.iter().position(|w| w == "--hsm")
                && tool == "uploader"
            {
                let emu = if words[i + 1] == "contoso" { &prod } else { &dr };
                words.splice(i..i + 2, emu.target());
            }
            const COMMANDS: [&str; 9] = [
                "init",
                "operator-init",
                "activate",
                "check",
                "combiner-init",
                "init-recovery",
                "share",
                "combine",
                "upload",
            ];
            let sub =
                words.iter().find(|w| COMMANDS.contains(&w.as_str())).cloned().expect("a known command");
            match sub.as_str() {
                "init" => {
                    words.extend(["--passphrase-file".into(), "pw".into(), "--bits".into(), "2048".into()])
                }
                "check" | "share" => words.extend(["--passphrase-file".into(), "pw".into()]),
                "operator-init" | "combiner-init" => words.push("--no-passphrase".into()),
                _ => {}
            }
            if matches!(sub.as_str(), "init-recovery" | "share" | "combine") {
                words.extend(["--attestation-root".into(), root.clone()]);
            }
            for w in words.iter_mut().filter(|w| *w == "HEX") {
                w.clone_from(&combiner_fp);
            }
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let out = ok(run(&dir, &tool, &refs));
            if sub == "combiner-init" {
                let line = out.lines().find_map(|l| l.trim_start().strip_prefix("read aloud:"));
                combiner_fp = line.expect("the combiner's fingerprint on its screen").trim().to_owned();
            }
            if sub == "upload" {
                assert!(out.contains("Success: The resource is active."), "{out}");
            }
        }
    }
    // The folders the example names were created, for their owner only.
    use std::os::unix::fs::PermissionsExt;
    for folder in ["media/alice", "media/combiner", "op"] {
        let mode = std::fs::metadata(dir.join(folder)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{folder}");
    }
    // The transfer medium, the only one that went online, holds no key.
    let transfer = listing(&dir.join("media/transfer"));
    assert!(transfer.iter().all(|f| !f.ends_with(".key")), "{transfer:?}");
    assert!(
        transfer.contains(&"combiner.json".to_owned())
            && transfer.contains(&"bob.enrollment.json".to_owned())
    );
}

/// The air-gapped recipe's archive line, run as printed in a folder shaped
/// like a checkout: it succeeds (the archive is written beside the tree, not
/// into it, so tar never reads a file that changes), and the archive carries
/// the sources and the vendored crates but neither `.git` nor `target`.
#[test]
fn the_air_gapped_archive_line_runs_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let section = readme.split("## Installing on an air-gapped machine").nth(1).expect("the section");
    let line = section.lines().find(|l| l.starts_with("tar czf")).expect("the archive line").to_owned();
    let dir = scratch("readme-air-gap");
    let tree = dir.join("checkout");
    for (path, text) in [
        ("Cargo.toml", "[workspace]\n"),
        ("vendor/some-crate/lib.rs", "// vendored\n"),
        ("vendor-config.toml", "[source]\n"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        ("target/debug/keyholder", "not a source\n"),
    ] {
        std::fs::create_dir_all(tree.join(path).parent().unwrap()).unwrap();
        std::fs::write(tree.join(path), text).unwrap();
    }
    let o = std::process::Command::new("sh").arg("-c").arg(&line).current_dir(&tree).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{line}: {}{out}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("hsm-ceremony-src.tar.gz"), "the checksum is printed: {out}");
    let listing = std::process::Command::new("tar")
        .args(["tzf", "hsm-ceremony-src.tar.gz"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&listing.stdout);
    assert!(names.contains("Cargo.toml") && names.contains("vendor/some-crate/lib.rs"), "{names}");
    assert!(!names.contains(".git") && !names.contains("target/"), "{names}");
}

/// The first `sh` block of the README section headed `heading`.
fn sh_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let section = readme.split(heading).nth(1).unwrap_or_else(|| panic!("no section {heading:?}"));
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("```").next());
    block.unwrap_or_else(|| panic!("no sh block under {heading:?}")).to_owned()
}

/// "Try it locally" as a newcomer runs it: every line as printed, in bash,
/// with nothing on the terminal to answer a prompt, `~` a scratch folder, and
/// the debug binaries on `PATH` in place of the first line's release build.
/// It must end with the recovery HSM active and the emulator stopped.
#[test]
fn try_it_locally_runs_as_printed() {
    let block = sh_block("## Try it locally");
    let (build, rest) = block.split_once('\n').expect("lines");
    assert!(build.starts_with("cargo build --release --locked"), "{build}");
    let home = scratch("readme-try-it-locally");
    // Any emulator left running by a failed line is stopped with the shell.
    let script = format!("set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{rest}");
    let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("HOME", &home)
        .env("PATH", path)
        .env_remove("HSM_CEREMONY_TARGET")
        .current_dir(&home)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "the block failed\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.trim_end().ends_with("Success: The resource is active."), "{out}");
    assert!(err.contains("HSM_CEREMONY_TARGET="), "the tools say the emulator stands in: {err}");
    assert!(err.contains("NOT Intel's SGX Root CA"), "keyholder says whose root it trusts: {err}");
    let try_dir = home.join("try");
    for file in ["sd.json", "request.json", "alice.share.json", "bob.share.json", "blob.json"] {
        assert!(try_dir.join(file).is_file(), "{file} was made");
    }
    // The recovery HSM was provisioned through the emulator's Resource Manager.
    assert!(try_dir.join("emu/hsms/contoso-dr/url").is_file());
}
