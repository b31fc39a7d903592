//! The custodian flows through the real binary: enroll, check, one-laptop
//! recovery with every quorum, distributed recovery, rotation, drill.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::common::*;

#[test]
fn init_writes_key_cert_and_enrollment_that_openssl_reads() {
    let f = fixture();
    let dir = f.copy_to("init");
    // copy_to does not keep modes; check the files init wrote.
    let orig = |p: &str| std::fs::metadata(f.dir.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(orig("alice.key"), 0o600);
    assert_eq!(orig("alice.cer"), 0o644);
    let key = std::fs::read_to_string(f.dir.join("alice.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));

    let pubkey = Command::new("openssl")
        .args(["pkey", "-in", "alice.key", "-passin", "file:pw", "-pubout"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(pubkey.status.success(), "{}", String::from_utf8_lossy(&pubkey.stderr));
    let cert_pub = Command::new("openssl")
        .args(["x509", "-in", "alice.cer", "-noout", "-pubkey"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(pubkey.stdout, cert_pub.stdout);
    let text = Command::new("openssl")
        .args(["x509", "-in", "alice.cer", "-noout", "-subject"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&text.stdout).trim(), "subject=CN = alice");

    // The enrollment verifies against the certificate, and names it.
    let out = ok(keyholder(&dir, &["verify", "alice.enrollment.json", "--signer", "alice.cer"]));
    let cert = load_cert(&dir.join("alice.cer"));
    assert!(out.contains("valid enrollment of \"alice\"") && out.contains(&cert.x5t_s256()), "{out}");
    // But not against another custodian's.
    fails(
        keyholder(&dir, &["verify", "alice.enrollment.json", "--signer", "bob.cer"]),
        &["alice.enrollment.json", "is not signed by"],
    );

    // A fresh init prints the fingerprint in both forms.
    let out = ok(keyholder(&dir, &init_here("dave", &["--no-passphrase"])));
    let dave = load_cert(&dir.join("dave.cer"));
    assert!(out.contains(&dave.x5t_s256()));
    assert!(out.contains(&sd_core::pki::cert::readable_fingerprint(&dave.sha256())));
    assert!(
        std::fs::read_to_string(dir.join("dave.key")).unwrap().starts_with("-----BEGIN PRIVATE KEY-----")
    );
}

#[test]
fn every_custodian_checks_their_share() {
    let f = fixture();
    let dir = f.copy_to("check");
    for (i, n) in f.names.iter().enumerate() {
        let out = ok(keyholder(
            &dir,
            &["check", "--sd", "sd.json", "--key", &format!("{n}.key"), "--passphrase-file", "pw"],
        ));
        assert!(out.starts_with(&format!("share {} of 3 opens (quorum 2)", i + 1)), "{out}");
    }
    let out = ok(keyholder(
        &dir,
        &["check", "--sd", "sd.json", "--key", "bob.key", "--passphrase-file", "pw", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["result"].as_str(), v["share"].as_u64(), v["required"].as_u64()),
        (Some("opens"), Some(2), Some(2))
    );
    // Without the certificate beside it, the key is found by trying.
    std::fs::remove_file(dir.join("carol.cer")).unwrap();
    let out =
        ok(keyholder(&dir, &["check", "--sd", "sd.json", "--key", "carol.key", "--passphrase-file", "pw"]));
    assert!(out.contains("share 3 of 3 opens") && out.contains("found by trying"), "{out}");
}

#[test]
fn restore_blob_with_every_pair_of_custodians() {
    let f = fixture();
    let dir = f.copy_to("restore-blob");
    for (a, b) in [("alice", "bob"), ("alice", "carol"), ("bob", "carol"), ("carol", "alice")] {
        let out = format!("blob-{a}-{b}.json");
        ok(keyholder(
            &dir,
            &restore_blob_args(
                "sd.json",
                &[&format!("{a}.key"), &format!("{b}.key")],
                &out,
                &["--passphrase-file", "pw", "--passphrase-file", "pw"],
            ),
        ));
        f.assert_blob_restores(&dir, &out);
    }
    // All three also works (the third share must agree with the other two).
    ok(keyholder(
        &dir,
        &restore_blob_args(
            "sd.json",
            &["alice.key", "bob.key", "carol.key"],
            "blob3.json",
            &["--passphrase-file", "pw", "--passphrase-file", "pw", "--passphrase-file", "pw"],
        ),
    ));
    f.assert_blob_restores(&dir, "blob3.json");
}

#[test]
fn distributed_recovery_share_bundles_and_combine() {
    let f = fixture();
    let dir = f.copy_to("distributed");
    ok(keyholder(&dir, &["combiner-init", "--out", ".", "--passphrase-file", "pw"]));
    let nonce = write_request(&dir, "request.json", "sd.json", "exchange.pem");
    // The exchange key the request names passes its attestation, checked on its own.
    let args = [
        "exchange-key",
        "request.json",
        "--hsm",
        "emulated-hsm",
        "--attestation-root",
        "attestation-root.pem",
    ];
    let out = ok(keyholder(&dir, &args));
    assert!(out.trim_end().ends_with("PASS: every check passed"), "{out}");
    let out = ok(keyholder(
        &dir,
        &[
            "exchange-key",
            "exchange.pem",
            "--hsm",
            "emulated-hsm",
            "--attestation-root",
            "attestation-root.pem",
            "--json",
        ],
    ));
    assert!(out.contains("\"verdict\": \"pass\""), "{out}");
    // Without the test root it is refused: the root is not Intel's.
    let o = keyholder(&dir, &args[..4]);
    assert!(stdout(&o).contains("FAIL attestation root pin"), "{}", stdout(&o));
    fails(o, &["did not pass its attestation"]);
    assert_eq!(std::fs::metadata(dir.join("combiner.key")).unwrap().permissions().mode() & 0o777, 0o600);
    for n in ["alice", "carol"] {
        let out = ok(keyholder(
            &dir,
            &share_args(&format!("{n}.key"), &format!("{n}.share.json"), &["--passphrase-file", "pw"]),
        ));
        assert!(out.contains("exchange key of the target HSM"), "{out}");
    }
    // The operator pinned by the fingerprint read aloud instead of the certificate.
    let op = load_cert(&dir.join("operator.cer"));
    let fingerprint = sd_core::pki::cert::readable_fingerprint(&op.sha256());
    let cmd = Cmd::share("bob.key", "bob.share.json").without("--operator-cert").args(&[
        "--operator-fingerprint",
        &fingerprint,
        "--passphrase-file",
        "pw",
    ]);
    let out = ok(keyholder(&dir, &cmd.as_args()));
    assert!(out.contains("signed by the pinned operator") && out.contains("CN=operator"), "{out}");
    // The share bundle never carries the share in clear: it is sealed to the combiner.
    let bundle_bytes = std::fs::read(dir.join("alice.share.json")).unwrap();
    let out = ok(keyholder(&dir, &["verify", "alice.share.json", "--signer", "alice.cer"]));
    assert!(out.contains("valid share bundle") && out.contains("encrypted_share"), "{out}");
    let payload_text = ceremony_tests::bundle_payload(&bundle_bytes);
    let payload: sd_core::handoff::share::ShareBundle = serde_json::from_str(&payload_text).unwrap();
    let sealed = sd_core::primitives::jwe::CompactJwe::parse(&payload.encrypted_share).unwrap();
    sealed
        .require_algorithms(sd_core::primitives::jwe::Alg::RsaOaep256, sd_core::primitives::jwe::Enc::A256Gcm)
        .unwrap();
    assert_eq!((sealed.kid(), payload.request_nonce.as_str()), (Some(nonce.as_str()), nonce.as_str()));
    // Alice's share itself appears nowhere in the bundle, in any encoding.
    let sd =
        sd_core::azure::sd_file::SecurityDomain::parse(&std::fs::read(dir.join("sd.json")).unwrap()).unwrap();
    let key = sd_core::pki::private_key::from_pem(
        &std::fs::read_to_string(dir.join("alice.key")).unwrap(),
        Some(PASS.as_bytes()),
    )
    .unwrap();
    let share = sd.open_share(&key, None).unwrap().share.to_bytes();
    let text = String::from_utf8_lossy(&bundle_bytes).into_owned();
    for form in [
        sd_core::primitives::b64::url_encode(share.expose()),
        sd_core::primitives::b64::std_encode(share.expose()),
        sd_core::primitives::hex::hex_lower(share.expose()),
    ] {
        assert!(!text.contains(&form[..40]) && !payload_text.contains(&form[..40]), "share in clear");
    }

    ok(keyholder(
        &dir,
        &combine_args(&["alice.share.json", "carol.share.json"], "blob.json", &["--passphrase-file", "pw"]),
    ));
    f.assert_blob_restores(&dir, "blob.json");
    // Three shares: the extra one must agree.
    let shares = ["bob.share.json", "alice.share.json", "carol.share.json"];
    ok(keyholder(&dir, &combine_args(&shares, "blob3.json", &["--passphrase-file", "pw"])));
    f.assert_blob_restores(&dir, "blob3.json");
}

#[test]
fn rotate_then_recover_with_the_new_custodians() {
    let f = fixture();
    let dir = f.copy_to("rotate");
    for n in ["dave", "erin", "frank", "grace"] {
        ok(keyholder(&dir, &init_here(n, &["--no-passphrase"])));
    }
    let out = ok(keyholder(
        &dir,
        &[
            "rotate",
            "--sd",
            "sd.json",
            "--key",
            "alice.key",
            "--key",
            "bob.key",
            "--passphrase-file",
            "pw",
            "--passphrase-file",
            "pw",
            "--new-cert",
            "dave.cer",
            "--new-cert",
            "erin.cer",
            "--new-cert",
            "frank.cer",
            "--new-cert",
            "grace.cer",
            "--quorum",
            "3",
            "--out",
            "new-sd.json",
        ],
    ));
    assert!(out.contains("quorum 3 of 4"), "{out}");
    // Rotation says what it does not do: the master key stays, so the old file still recovers.
    assert!(
        out.contains("important: rotation keeps the master key. sd.json and a quorum of its old"),
        "{out}"
    );
    assert!(out.contains("Destroy every copy of the"), "{out}");
    ok(keyholder(
        &dir,
        &restore_blob_args(
            "sd.json",
            &["alice.key", "bob.key"],
            "old-blob.json",
            &["--passphrase-file", "pw", "--passphrase-file", "pw"],
        ),
    ));
    f.assert_blob_restores(&dir, "old-blob.json");
    // Old custodians open nothing in the new file; new ones do.
    fails(
        keyholder(&dir, &["check", "--sd", "new-sd.json", "--key", "alice.key", "--passphrase-file", "pw"]),
        &["alice.key", "opens no share"],
    );
    for (i, n) in ["dave", "erin", "frank", "grace"].iter().enumerate() {
        let out = ok(keyholder(&dir, &["check", "--sd", "new-sd.json", "--key", &format!("{n}.key")]));
        assert!(out.starts_with(&format!("share {} of 4 opens (quorum 3)", i + 1)), "{out}");
    }
    fails(
        keyholder(&dir, &restore_blob_args("new-sd.json", &["dave.key", "grace.key"], "blob.json", &[])),
        &["2 --key given", "needs 3 custodians"],
    );
    ok(keyholder(
        &dir,
        &restore_blob_args("new-sd.json", &["grace.key", "dave.key", "frank.key"], "blob.json", &[]),
    ));
    f.assert_blob_restores(&dir, "blob.json");
    let fp = ok(keyholder(&dir, &["fingerprint", "new-sd.json"]));
    assert!(fp.starts_with("security domain file (version 2), file sha256"), "{fp}");
    assert!(fp.contains("\n  quorum: 3\n"), "{fp}");
}

#[test]
fn drill_report_is_signed_by_every_participant() {
    let f = fixture();
    let dir = f.copy_to("drill");
    let out = ok(keyholder(
        &dir,
        &[
            "drill",
            "--sd",
            "sd.json",
            "--key",
            "bob.key",
            "--key",
            "carol.key",
            "--passphrase-file",
            "pw",
            "--passphrase-file",
            "pw",
            "--out",
            "report.json",
        ],
    ));
    assert!(
        out.contains("drill succeeded") && out.contains("hsm_backup") && out.contains("8180 bytes"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["signatures"].as_array().unwrap().len(), 2);
    let out = ok(keyholder(&dir, &["verify", "report.json", "--signer", "carol.cer"]));
    assert!(
        out.contains("valid drill report bundle, 2 signature(s)") && out.contains("  result: success\n"),
        "{out}"
    );
    fails(keyholder(&dir, &["verify", "report.json", "--signer", "alice.cer"]), &["is not signed by"]);
    // The report holds no secret: no EncData byte sequence appears in it.
    let text = std::fs::read(dir.join("report.json")).unwrap();
    for (_, data) in &f.secrets {
        assert!(!text.windows(32).any(|w| w == &data[..32]));
    }
}

/// `passwd` replaces the key file in place: mode 0600, nothing left beside
/// it, the same key (its certificate still matches), openssl reads the new
/// file with the new passphrase, and a plain key can be encrypted the same way.
#[test]
fn passwd_changes_only_the_passphrase() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let dir = f.copy_to("passwd");
    std::fs::write(dir.join("new-pw"), "a brand new passphrase\n").unwrap();
    let before = listing(&dir);
    ok(keyholder(
        &dir,
        &["passwd", "alice.key", "--passphrase-file", "pw", "--new-passphrase-file", "new-pw"],
    ));
    assert_eq!(listing(&dir), before, "no file added or left behind");
    let mode = std::fs::metadata(dir.join("alice.key")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let pem = std::fs::read_to_string(dir.join("alice.key")).unwrap();
    let key = sd_core::pki::private_key::from_pem(&pem, Some(b"a brand new passphrase")).unwrap();
    assert!(sd_core::pki::cert::key_matches(&load_cert(&dir.join("alice.cer")), &key));
    let o = std::process::Command::new("openssl")
        .args(["pkey", "-in", "alice.key", "-passin", "file:new-pw", "-noout"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "openssl reads it: {}", String::from_utf8_lossy(&o.stderr));
    // Plain, then encrypted again.
    ok(keyholder(&dir, &["passwd", "alice.key", "--passphrase-file", "new-pw", "--no-passphrase"]));
    assert!(std::fs::read_to_string(dir.join("alice.key")).unwrap().contains("BEGIN PRIVATE KEY"));
    ok(keyholder(&dir, &["passwd", "alice.key", "--new-passphrase-file", "pw"]));
    ok(keyholder(&dir, &["check", "--sd", "sd.json", "--key", "alice.key", "--passphrase-file", "pw"]));
}
