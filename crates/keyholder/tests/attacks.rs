//! The attacks on the hand-offs, each through the real binary: a swapped
//! combiner, an unpinned or stranger operator, self-asserted drill reports, a
//! dishonest custodian's share, an expired combiner, and what `check` must
//! say (what `rotate` must say is in `flows`). Each refusal leaves no output behind.

use std::path::Path;

use crate::common::*;
use sd_core::azure::sd_file::{OpenedShare, SecurityDomain};
use sd_core::bundle::{BundleKind, Signer};
use sd_core::handoff::Pin;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::recovery_request::{RecoveryRequest, RequestPins};
use sd_core::handoff::share::ShareBundle;
use sd_core::pki::cert;
use sd_core::pki::private_key;
use sd_core::primitives::shamir::Share;

/// A distributed recovery with a combiner and a request naming it.
fn recovery(test: &str) -> std::path::PathBuf {
    let dir = fixture().copy_to(test);
    ok(keyholder(&dir, &["combiner-init", "--out", ".", "--no-passphrase"]));
    write_request(&dir, "request.json", "sd.json", "exchange.pem");
    dir
}

fn share(dir: &Path, who: &str, extra: &[&str]) -> std::process::Output {
    let (key, out) = (format!("{who}.key"), format!("{who}.share.json"));
    let mut args = share_args(&key, &out, &["--passphrase-file", "pw"]);
    args.extend(extra);
    keyholder(dir, &args)
}

#[test]
fn share_refuses_a_combiner_the_request_does_not_name() {
    let dir = recovery("attack-combiner-swap");
    // N2: the operator key (on the online machine) signs a request naming
    // Mallory's combiner; the custodian pinned the real one, from the combiner
    // laptop's screen or from media that never touched the online machine.
    std::fs::create_dir(dir.join("mallory")).unwrap();
    ok(keyholder(&dir, &["combiner-init", "--out", "mallory", "--public-out", "mallory", "--no-passphrase"]));
    std::fs::copy(dir.join("public/combiner.json"), dir.join("real-combiner.json")).unwrap();
    std::fs::copy(dir.join("mallory/combiner.json"), dir.join("public/combiner.json")).unwrap();
    write_request(&dir, "request.json", "sd.json", "exchange.pem");
    let real = Combiner::verify(&std::fs::read(dir.join("real-combiner.json")).unwrap(), now()).unwrap();
    let read_aloud = cert::readable_fingerprint(&real.certificate().sha256());
    let before = listing(&dir);
    for pin in [["--combiner", "real-combiner.json"], ["--combiner-fingerprint", read_aloud.as_str()]] {
        let err = fails(
            keyholder(&dir, &share_args_pinning("alice.key", "alice.share.json", &pin, &[])),
            &[
                "request.json: names combiner ",
                &format!("not the combiner you pinned ({read_aloud})"),
                "hint: read the fingerprint again",
            ],
        );
        // Refused before the passphrase: no passphrase file was given, and none was asked for.
        assert!(!err.contains("passphrase"), "{err}");
    }
    // With no pin and no terminal to confirm on, nothing is sealed either.
    fails(
        keyholder(&dir, &share_args_pinning("alice.key", "alice.share.json", &[], &[])),
        &[
            "no combiner is pinned, and there is no terminal",
            "--combiner-fingerprint",
            "--combiner (its combiner.json",
        ],
    );
    assert_eq!(listing(&dir), before);
    // A fingerprint that is not one is a clear error.
    fails(
        keyholder(&dir, &share_args_pinning("alice.key", "x.json", &["--combiner-fingerprint", "ABCD"], &[])),
        &["--combiner-fingerprint: a fingerprint is the 64 hex digits", "hint: copy the \"read aloud\" line"],
    );
    // The request naming the pinned combiner is accepted, by fingerprint too.
    std::fs::copy(dir.join("real-combiner.json"), dir.join("public/combiner.json")).unwrap();
    write_request(&dir, "request.json", "sd.json", "exchange.pem");
    let pin = ["--combiner-fingerprint", read_aloud.as_str()];
    ok(keyholder(
        &dir,
        &share_args_pinning("alice.key", "alice.share.json", &pin, &["--passphrase-file", "pw"]),
    ));
}

#[test]
fn a_request_needs_a_pinned_operator() {
    let dir = recovery("attack-unpinned");
    let unpinned = Cmd::share("alice.key", "a.share.json")
        .without("--operator-cert")
        .without("--combiner")
        .args(&["--passphrase-file", "pw"]);
    // No pin and no terminal: refused, after showing who signed.
    let o = keyholder(&dir, &unpinned.as_args());
    let out = stdout(&o);
    fails(o, &["request.json: no operator is pinned", "hint: give --operator-cert"]);
    assert!(out.contains("recovery request signed by: CN=operator"), "{out}");
    // A fingerprint that is not the operator's.
    let alice = load_cert(&dir.join("alice.cer"));
    let wrong = cert::readable_fingerprint(&alice.sha256());
    let o = keyholder(&dir, &unpinned.clone().args(&["--operator-fingerprint", &wrong]).as_args());
    fails(o, &["request.json: signed by CN=operator", "not by the pinned operator"]);
    // A fingerprint that is not a fingerprint.
    let o = keyholder(&dir, &unpinned.clone().args(&["--operator-fingerprint", "12AB"]).as_args());
    fails(o, &["--operator-fingerprint: a fingerprint is the 64 hex digits"]);
    // A request re-signed by a stranger, naming the stranger's combiner: refused by the pin.
    let (k, c) = keypair("operator");
    std::fs::write(dir.join("stranger.cer"), c.to_pem()).unwrap();
    std::fs::create_dir(dir.join("evil")).unwrap();
    std::fs::write(dir.join("evil/operator.key"), private_key::to_plain_pem(&k).unwrap().as_bytes()).unwrap();
    std::fs::write(dir.join("evil/operator.cer"), c.to_pem()).unwrap();
    for f in ["sd.json", "exchange.pem", "attestation-root.pem"] {
        std::fs::copy(dir.join(f), dir.join("evil").join(f)).unwrap();
    }
    ok(keyholder(&dir.join("evil"), &["combiner-init", "--out", ".", "--no-passphrase"]));
    write_request(&dir.join("evil"), "request.json", "sd.json", "exchange.pem");
    let before = listing(&dir);
    let evil = Cmd::share("alice.key", "a.share.json")
        .set("--request", "evil/request.json")
        .without("--combiner")
        .args(&["--passphrase-file", "pw"]);
    let o = keyholder(&dir, &evil.as_args());
    fails(o, &["evil/request.json: signed by CN=operator", "not by the pinned operator"]);
    assert_eq!(listing(&dir), before);
    assert!(!dir.join("a.share.json").exists());
}

#[test]
fn share_refuses_an_expired_combiner_naming_the_local_clock() {
    let dir = fixture().copy_to("attack-expired-combiner");
    // A combiner made ten days ago, signed into a request by the real operator then.
    let then = now() - 10 * 86_400;
    let key = private_key::generate(&mut rng(), 2048).unwrap();
    let cert = cert::self_signed(&mut rng(), &key, "combiner", then - 3600, 7).unwrap();
    let combiner =
        Combiner::verify(Combiner::sign(&Signer { key: &key, cert: &cert }, then).unwrap().as_bytes(), then)
            .unwrap();
    let signed = sign_request(&dir, "sd.json", "exchange.pem", &combiner, then);
    std::fs::write(dir.join("request.json"), signed).unwrap();
    let before = listing(&dir);
    fails(
        share(&dir, "alice", &[]),
        &[
            "request.json: was made at",
            "more than 7 days ago",
            "the local clock says",
            "hint: a recovery needs a fresh combiner",
        ],
    );
    assert_eq!(listing(&dir), before);
}

/// Alice, turned dishonest: a share bundle she really signs, for the real
/// request and combiner, carrying a share with one value changed.
fn dishonest_share(dir: &Path, out: &str) {
    let sd = SecurityDomain::parse(&std::fs::read(dir.join("sd.json")).unwrap()).unwrap();
    let pin = Pin::certificate(&load_cert(&dir.join("operator.cer")));
    let hsm: sd_core::HsmName = ceremony_tests::TEST_HSM.parse().unwrap();
    let request = RecoveryRequest::verify(
        &std::fs::read(dir.join("request.json")).unwrap(),
        RequestPins { operator: &pin, hsm: &hsm },
        &sd,
        &test_policy(dir),
        now(),
    )
    .unwrap();
    let combiner =
        Combiner::verify(&std::fs::read(dir.join("public/combiner.json")).unwrap(), now()).unwrap();
    let target = request.pin_combiner(&Pin::certificate(combiner.certificate())).unwrap();
    let key = private_key::from_pem(
        &std::fs::read_to_string(dir.join("alice.key")).unwrap(),
        Some(PASS.as_bytes()),
    )
    .unwrap();
    let cert = load_cert(&dir.join("alice.cer"));
    let real = sd.open_share(&key, Some(&cert.x5t_s256())).unwrap();
    let mut bytes = real.share.to_bytes().expose().to_vec();
    let word = u16::from_le_bytes([bytes[6], bytes[7]]);
    let changed = (word & !0x1ff) | (((word & 0x1ff) + 1) % 257);
    bytes[6..8].copy_from_slice(&changed.to_le_bytes());
    let bad = OpenedShare { share: Share::from_bytes(&bytes).unwrap(), ..real };
    let signed =
        ShareBundle::seal(&mut rng(), &target, &sd, &bad, &Signer { key: &key, cert: &cert }, now()).unwrap();
    std::fs::write(dir.join(out), signed).unwrap();
}

#[test]
fn combine_names_the_bad_share_whatever_its_position() {
    let dir = recovery("attack-blame");
    dishonest_share(&dir, "alice.share.json");
    ok(share(&dir, "bob", &[]));
    ok(share(&dir, "carol", &[]));
    let orders: [[&str; 3]; 3] = [
        ["alice.share.json", "bob.share.json", "carol.share.json"],
        ["bob.share.json", "alice.share.json", "carol.share.json"],
        ["bob.share.json", "carol.share.json", "alice.share.json"],
    ];
    for (i, order) in orders.iter().enumerate() {
        let out = format!("blob{i}.json");
        let o = keyholder(&dir, &combine_args(order, &out, &[]));
        let err = stderr(&o);
        let said = ok(o);
        assert!(
            err.contains(
                "warning: alice.share.json: its share disagrees with the master key this SD file confirms"
            ),
            "{err}"
        );
        assert!(
            !err.contains("warning: bob") && !err.contains("warning: carol"),
            "honest share blamed: {err}"
        );
        assert!(said.contains("from bob.share.json, carol.share.json"), "{said}");
        fixture().assert_blob_restores(&dir, &out);
    }
    // Exactly the quorum with the bad share: inconsistent, every file named, no culprit, no blob.
    let err = refused_untouched(
        &dir,
        || keyholder(&dir, &combine_args(&["bob.share.json", "alice.share.json"], "blob.json", &[])),
        &[
            "sd.json: the quorum is inconsistent",
            "nothing can tell which",
            "hint: the share bundles given: bob.share.json, alice.share.json",
        ],
    );
    assert!(!err.contains("disagrees"), "nobody is blamed: {err}");
}

#[test]
fn verify_checks_drill_reports_against_the_sd_file() {
    let dir = fixture().copy_to("attack-drill-report");
    let keys =
        ["--key", "alice.key", "--key", "carol.key", "--passphrase-file", "pw", "--passphrase-file", "pw"];
    ok(keyholder(&dir, &[&["drill", "--sd", "sd.json"][..], &keys, &["--out", "report.json"]].concat()));
    let out = ok(keyholder(&dir, &["verify", "report.json", "--sd", "sd.json"]));
    assert!(
        out.contains("valid drill report for sd.json: signed by 2 custodian(s) of this SD file (quorum 2)"),
        "{out}"
    );
    // Without --sd: plainly only the signatures.
    let out = ok(keyholder(&dir, &["verify", "report.json"]));
    assert!(out.contains("note: only the signatures were checked, nothing about who signed"), "{out}");

    // A stranger's report: two strangers sign a report for this SD file.
    let payload: serde_json::Value = serde_json::from_str(&ceremony_tests::bundle_payload(
        &std::fs::read(dir.join("report.json")).unwrap(),
    ))
    .unwrap();
    let (k1, c1) = keypair("alice");
    let (k2, c2) = keypair("carol");
    let mut p = payload.clone();
    p["participants"][0]["x5t_s256"] = c1.x5t_s256().into();
    p["participants"][1]["x5t_s256"] = c2.x5t_s256().into();
    let forged = sd_core::bundle::sign(
        sd_core::bundle::BundleKind::DrillReport,
        &p,
        &[Signer { key: &k1, cert: &c1 }, Signer { key: &k2, cert: &c2 }],
    )
    .unwrap();
    std::fs::write(dir.join("stranger.json"), forged).unwrap();
    fails(
        keyholder(&dir, &["verify", "stranger.json", "--sd", "sd.json"]),
        &["stranger.json: signed by CN=alice", "who is not a custodian of this SD file"],
    );
    // One custodian alone claims both participants.
    ceremony_tests::sign_bundle_as(
        &dir,
        ("alice", Some(PASS)),
        BundleKind::DrillReport,
        &payload,
        "alone.json",
    );
    fails(
        keyholder(&dir, &["verify", "alone.json", "--sd", "sd.json"]),
        &["alone.json: signed by 1 custodian(s) of this SD file; its quorum is 2"],
    );
}

#[test]
fn check_says_what_it_proves_and_what_it_does_not() {
    let dir = fixture().copy_to("attack-overstate");
    let out =
        ok(keyholder(&dir, &["check", "--sd", "sd.json", "--key", "bob.key", "--passphrase-file", "pw"]));
    assert!(out.contains("verified:     this key opens its own share of the file"), "{out}");
    assert!(
        out.contains(
            "not verified: that the shares belong together and rebuild a key that opens the file's EncData"
        ),
        "{out}"
    );
    assert!(out.contains("`keyholder drill`"), "{out}");
    let json = ok(keyholder(
        &dir,
        &["check", "--sd", "sd.json", "--key", "bob.key", "--passphrase-file", "pw", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["not_verified"].as_array().unwrap().len(), 1, "{v}");
}

/// On a terminal, an unpinned request goes on only when a person types "yes"
/// after comparing the signer's fingerprint with the ceremony record, and an
/// unpinned combiner only when they type "yes" after comparing it with the
/// combiner laptop's screen (`script` gives the command a pseudo-terminal and
/// types the answers).
#[test]
fn an_unpinned_operator_is_confirmed_on_the_terminal() {
    let dir = recovery("attack-confirm-on-terminal");
    let share = |answer: &str, out: &str| {
        let args = format!(
            "share --sd sd.json --request request.json --hsm emulated-hsm \
             --attestation-root attestation-root.pem --key alice.key --passphrase-file pw --out {out}"
        );
        on_terminal(&dir, &args, answer)
    };
    let (code, shown) = share("no\n", "refused.share.json");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("recovery request signed by: CN=operator"), "{shown}");
    assert!(
        shown.contains("Is this the operator fingerprint recorded at the activation ceremony?"),
        "{shown}"
    );
    assert!(shown.contains("not confirmed; nothing was done"), "{shown}");
    assert!(!dir.join("refused.share.json").exists());
    // The operator confirmed, the combiner not.
    let (code, shown) = share("yes\nno\n", "refused.share.json");
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains("Is this the fingerprint the combiner laptop shows on its own screen?"),
        "{shown}"
    );
    assert!(!dir.join("refused.share.json").exists());
    let (code, shown) = share("yes\nyes\n", "alice.share.json");
    assert_eq!(code, Some(0), "{shown}");
    assert!(dir.join("alice.share.json").exists(), "{shown}");
}

/// The operator's request re-signed with one field changed, as a compromised
/// online machine holding the operator key could.
fn resign_request(dir: &Path, change: impl Fn(&mut serde_json::Value)) {
    let mut p: serde_json::Value = serde_json::from_str(&ceremony_tests::bundle_payload(
        &std::fs::read(dir.join("request.json")).unwrap(),
    ))
    .unwrap();
    change(&mut p);
    ceremony_tests::sign_bundle_as(dir, ("operator", None), BundleKind::RecoveryRequest, &p, "request.json");
}

/// N7 and N8 of the attack review, through the binary: a 100 KB `hsm` URL in
/// a request is shown capped; a request from 2001, one from ten minutes
/// ahead, and one whose two time forms disagree are refused, writing nothing.
#[test]
fn peer_text_is_capped_and_requests_are_fresh() {
    let dir = recovery("attack-caps-freshness");
    resign_request(&dir, |p| p["hsm"] = format!("https://{}", "h".repeat(100_000)).into());
    let out = ok(share(&dir, "alice", &[]));
    let line = out.lines().find(|l| l.starts_with("recovery request for HSM")).unwrap();
    assert!(line.len() < 1_000 && line.contains("more bytes not shown"), "{} bytes", line.len());
    std::fs::remove_file(dir.join("alice.share.json")).unwrap();
    let before = listing(&dir);
    let now = now();
    for (created, needle) in [
        (serde_json::json!(978_307_200u64), "was made at 2001-01-01T00:00:00Z, more than 7 days ago"),
        (serde_json::json!(now + 600), "in the future"),
        (serde_json::json!({"unix": now, "utc": "2001-01-01T00:00:00Z"}), "disagree"),
    ] {
        resign_request(&dir, |p| p["created"] = created.clone());
        fails(share(&dir, "alice", &[]), &["request.json: ", needle]);
        assert_eq!(listing(&dir), before);
    }
}

/// Runs `args` on a pseudo-terminal (`script`), typing `input`; returns the
/// exit code and what the terminal showed.
fn on_terminal(dir: &Path, args: &str, input: &str) -> (Option<i32>, String) {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_keyholder"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the command on a pseudo-terminal");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Issue 21, item 5: a passphrase typed on a terminal gets three tries; the
/// third wrong one ends the command, and the key file is unchanged.
#[test]
fn a_typed_passphrase_gets_three_tries() {
    let dir = fixture().copy_to("passphrase-tries");
    let before = std::fs::read(dir.join("alice.key")).unwrap();
    let check = "check --sd sd.json --key alice.key";
    let (code, shown) = on_terminal(&dir, check, &format!("not it\nnor this\n{PASS}\n"));
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("alice.key: wrong passphrase; 2 more tries left"), "{shown}");
    assert!(shown.contains("alice.key: wrong passphrase; 1 more try left"), "{shown}");
    assert!(shown.contains("share 1 of 3 opens"), "{shown}");
    let (code, shown) = on_terminal(&dir, check, "one\ntwo\nthree\n");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("error: alice.key: wrong passphrase for this key file"), "{shown}");
    assert_eq!(std::fs::read(dir.join("alice.key")).unwrap(), before);
    // A passphrase file gets one try: it will not change by asking again.
    std::fs::write(dir.join("bad-pw"), "not it\n").unwrap();
    fails(
        keyholder(&dir, &["check", "--sd", "sd.json", "--key", "alice.key", "--passphrase-file", "bad-pw"]),
        &["alice.key: wrong passphrase for this key file"],
    );
    // A new passphrase that is too short is refused before it is typed again.
    let (code, shown) = on_terminal(&dir, "init --name dora --out dora --bits 2048", "short\n");
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("the passphrase is shorter than 8 characters"), "{shown}");
    assert!(!shown.contains("Repeat the passphrase"), "{shown}");
    assert!(!dir.join("dora").exists(), "no folder is left behind");
    // Without a terminal, likewise.
    fails(keyholder(&dir, &["init", "--name", "dora", "--out", "dora"]), &["passphrase"]);
    assert!(!dir.join("dora").exists(), "no folder is left behind");
}

/// `verify` pins the operator by the fingerprint read aloud too, in either
/// printed form (grouped hex, or the x5t#S256 line), as `share` does.
#[test]
fn verify_pins_the_operator_by_either_printed_fingerprint() {
    let dir = recovery("verify-by-fingerprint");
    let op = load_cert(&dir.join("operator.cer"));
    let base = ["verify", "request.json", "--hsm", "emulated-hsm", "--sd", "sd.json"];
    let root = ["--attestation-root", "attestation-root.pem"];
    for pin in [cert::readable_fingerprint(&op.sha256()), op.x5t_s256()] {
        let args: Vec<&str> =
            base.iter().chain(&root).copied().chain(["--operator-fingerprint", &pin]).collect();
        let out = ok(keyholder(&dir, &args));
        assert!(out.contains("valid recovery request"), "{out}");
    }
    let alice = load_cert(&dir.join("alice.cer"));
    let wrong = cert::readable_fingerprint(&alice.sha256());
    let args: Vec<&str> =
        base.iter().chain(&root).copied().chain(["--operator-fingerprint", &wrong]).collect();
    fails(keyholder(&dir, &args), &["not by the pinned operator"]);
}
