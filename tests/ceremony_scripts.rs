//! The step-by-step ceremony scripts, run in rehearsal mode against the
//! emulator: every role in its own folder, only the media folder shared.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use ceremony_tests::*;

fn script(dir: &Path, name: &str, args: &[&str]) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ceremony-scripts").join(name);
    Command::new("bash")
        .arg(path)
        .args(args)
        .current_dir(dir)
        .env("HSM_CEREMONY_BIN_DIR", bin_dir())
        .env("CEREMONY_REHEARSAL", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run bash")
}

#[track_caller]
fn passes(o: Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "stdout: {out}\nstderr: {}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn activation_and_distributed_recovery_by_script() {
    let dir = scratch("ceremony-scripts");
    for d in ["media", "alice", "bob", "carol", "operator", "combiner"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("pw"), "rehearsal passphrase\n").unwrap();
    let pw = dir.join("pw").display().to_string();
    let media = dir.join("media").display().to_string();
    for who in ["alice", "bob", "carol"] {
        let out = passes(script(
            &dir.join(who),
            "activation-ceremony.sh",
            &["custodian", "--name", who, "--media", &media, "--passphrase-file", &pw],
        ));
        assert!(out.contains("[1] custodian: generate my RSA-3072 key") && out.contains("WITNESS:"), "{out}");
        assert!(!dir.join("media").join(format!("{who}.key")).exists(), "a key must never reach the media");
    }
    ok(run(&dir.join("operator"), "uploader", &["operator-init", "--out", ".", "--no-passphrase"]));
    let opkey = dir.join("operator/operator.key").display().to_string();
    let opcert = dir.join("operator/operator.cer").display().to_string();

    let hsm = Emulator::start(&dir.join("hsm"));
    let target = hsm.target();
    let mut args = vec!["operator"];
    args.extend(target.iter().map(String::as_str));
    args.extend(["--quorum", "2", "--media", &media, "--operator-key", &opkey]);
    let out = passes(script(&dir.join("operator"), "activation-ceremony.sh", &args));
    assert!(out.contains("Success: The resource is active."), "{out}");
    let out = passes(script(
        &dir.join("alice"),
        "activation-ceremony.sh",
        &[
            "verify",
            "--media",
            &media,
            "--operator-cert",
            &opcert,
            "--key",
            "alice.key",
            "--passphrase-file",
            &pw,
        ],
    ));
    assert!(out.contains("share 1 of 3 opens"), "{out}");
    drop(hsm); // the disaster

    let new_hsm = Emulator::start(&dir.join("new-hsm"));
    let target = new_hsm.target();
    let root = new_hsm.attestation_root();
    // The combiner's key first: the operator's request names it.
    let cdir = dir.join("combiner").display().to_string();
    let shown = passes(script(
        &dir.join("combiner"),
        "recovery-ceremony.sh",
        &["combiner-init", "--media", &media, "--combiner-dir", &cdir, "--passphrase-file", &pw],
    ));
    assert!(!dir.join("media/combiner.key").exists(), "a key must never reach the media");
    // What each custodian copies from the combiner laptop's screen.
    let combiner_fp = shown
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("read aloud:"))
        .expect("the combiner's fingerprint on screen")
        .trim()
        .to_owned();
    let mut args = vec!["request"];
    args.extend(target.iter().map(String::as_str));
    args.extend(["--media", &media, "--operator-key", &opkey, "--attestation-root", &root]);
    let out = passes(script(&dir.join("operator"), "recovery-ceremony.sh", &args));
    assert!(out.contains("combiner named in the request"), "{out}");
    for who in ["bob", "carol"] {
        let out = passes(script(
            &dir.join(who),
            "recovery-ceremony.sh",
            &[
                "share",
                "--media",
                &media,
                "--key",
                &format!("{who}.key"),
                "--operator-cert",
                &opcert,
                "--hsm",
                TEST_HSM,
                "--combiner-fingerprint",
                &combiner_fp,
                "--attestation-root",
                &root,
                "--passphrase-file",
                &pw,
            ],
        ));
        assert!(out.contains("exchange key of the target HSM"), "{out}");
        // The witness confirms the exchange key before the share bundle is written.
        let confirmed = out.find("WITNESS: the exchange-key fingerprint").expect("a witness step");
        assert!(confirmed < out.find("seal my share").expect("the share step"), "{out}");
        assert!(out.contains("exchange key attested for HSM \"emulated-hsm\""), "{out}");
    }
    passes(script(
        &dir.join("combiner"),
        "recovery-ceremony.sh",
        &[
            "combine",
            "--media",
            &media,
            "--combiner-dir",
            &cdir,
            "--operator-cert",
            &opcert,
            "--hsm",
            TEST_HSM,
            "--attestation-root",
            &root,
            "--passphrase-file",
            &pw,
        ],
    ));
    assert!(!dir.join("combiner/combiner.key").exists(), "the combiner key is destroyed after use");
    // Each role's run left a transcript on the media, with its steps, fingerprints and witness answers.
    let transcripts: Vec<String> =
        listing(&dir.join("media")).into_iter().filter(|f| f.starts_with("transcript-")).collect();
    for who in [
        "custodian-alice",
        "operator",
        "verify",
        "combiner-init",
        "request",
        "share-bob",
        "share-carol",
        "combine",
    ] {
        let name = transcripts
            .iter()
            .find(|t| t.starts_with(&format!("transcript-{who}-")))
            .unwrap_or_else(|| panic!("no transcript of {who}: {transcripts:?}"));
        let text = std::fs::read_to_string(dir.join("media").join(name)).unwrap();
        assert!(text.contains("[1] ") && text.contains("WITNESS:"), "{name}: {text}");
    }
    let combine = transcripts.iter().find(|t| t.starts_with("transcript-combine-")).unwrap();
    let text = std::fs::read_to_string(dir.join("media").join(combine)).unwrap();
    assert!(
        text.contains("destroy the one-time combiner key") && text.contains("wiped or destroyed"),
        "{text}"
    );
    assert!(text.contains("read aloud:"), "fingerprints are in the record: {text}");
    let mut args = vec!["upload"];
    args.extend(target.iter().map(String::as_str));
    args.extend(["--media", &media]);
    let out = passes(script(&dir.join("operator"), "recovery-ceremony.sh", &args));
    assert!(out.contains("Success: The resource is active."), "{out}");

    // In a rehearsal the values a custodian types must be given; none is taken from the media.
    let o = script(
        &dir.join("bob"),
        "recovery-ceremony.sh",
        &["share", "--media", &media, "--key", "bob.key", "--operator-cert", &opcert],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the name of the HSM we recover into is required"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Usage is shown on --help, with every role.
    let o = script(&dir, "recovery-ceremony.sh", &["--help"]);
    let usage = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && usage.contains("--combiner-fingerprint HEX"), "{usage}");

    // A failing step stops the script with a non-zero exit and says so.
    let o = script(
        &dir.join("operator"),
        "recovery-ceremony.sh",
        &["one-laptop", "--media", &media, "--hsm", "emulated-hsm", "--key", "nope.key", "--key", "nada.key"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("FAILED"), "{}", String::from_utf8_lossy(&o.stderr));
}
