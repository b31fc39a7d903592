//! Every bad input gets a clear error naming the file, exit status 1, no
//! panic, and no output left behind.

use crate::common::*;

#[test]
fn missing_and_malformed_files_are_named() {
    let f = fixture();
    let dir = f.copy_to("missing");
    fails(
        keyholder(&dir, &["check", "--sd", "nope.json", "--key", "alice.key", "--passphrase-file", "pw"]),
        &["nope.json: no such file"],
    );
    fails(keyholder(&dir, &["check", "--sd", "sd.json", "--key", "nope.key"]), &["nope.key: no such file"]);
    std::fs::write(dir.join("bad.json"), "{\"EncData\": [").unwrap();
    fails(
        keyholder(&dir, &["check", "--sd", "bad.json", "--key", "alice.key", "--passphrase-file", "pw"]),
        &["bad.json: invalid security domain file: JSON"],
    );
    fails(keyholder(&dir, &["fingerprint", "pw"]), &["pw: is not a certificate, SD file"]);
    fails(keyholder(&dir, &["verify", "sd.json"]), &["sd.json: bundle rejected"]);
    fails(
        keyholder(&dir, &["check", "--sd", "sd.json", "--key", "alice.cer"]),
        &["alice.cer: invalid private key"],
    );
}

#[test]
fn wrong_passphrase_names_the_key_file() {
    let f = fixture();
    let dir = f.copy_to("wrong-pass");
    std::fs::write(dir.join("bad-pw"), "not the passphrase").unwrap();
    fails(
        keyholder(&dir, &["check", "--sd", "sd.json", "--key", "bob.key", "--passphrase-file", "bad-pw"]),
        &["bob.key: wrong passphrase"],
    );
    // Paired in order: the second key gets the wrong one.
    let before = listing(&dir);
    fails(
        keyholder(
            &dir,
            &restore_blob_args(
                "sd.json",
                &["alice.key", "bob.key"],
                "blob.json",
                &["--passphrase-file", "pw", "--passphrase-file", "bad-pw"],
            ),
        ),
        &["bob.key: wrong passphrase"],
    );
    assert_eq!(listing(&dir), before, "no output may be left behind");
    // An encrypted key with no passphrase file and no terminal: a clear message.
    fails(
        keyholder(&dir, &["check", "--sd", "sd.json", "--key", "bob.key"]),
        &["cannot read a passphrase from the terminal", "--passphrase-file"],
    );
}

#[test]
fn keys_that_open_no_share_too_few_and_twice() {
    let f = fixture();
    let dir = f.copy_to("quorum-errors");
    ok(keyholder(&dir, &init_here("stranger", &["--no-passphrase"])));
    let before = listing(&dir);
    fails(
        keyholder(&dir, &["check", "--sd", "sd.json", "--key", "stranger.key"]),
        &["stranger.key: this key opens no share in sd.json"],
    );
    fails(
        keyholder(
            &dir,
            &restore_blob_args(
                "sd.json",
                &["alice.key", "stranger.key"],
                "blob.json",
                &["--passphrase-file", "pw"],
            ),
        ),
        &["stranger.key: this key opens no share"],
    );
    fails(
        keyholder(
            &dir,
            &restore_blob_args("sd.json", &["alice.key"], "blob.json", &["--passphrase-file", "pw"]),
        ),
        &["1 --key given", "needs 2 custodians"],
    );
    fails(
        keyholder(
            &dir,
            &restore_blob_args(
                "sd.json",
                &["alice.key", "alice.key"],
                "blob.json",
                &["--passphrase-file", "pw", "--passphrase-file", "pw"],
            ),
        ),
        &["alice.key: is given twice"],
    );
    // The same key under another name still opens the same share: refused.
    std::fs::copy(dir.join("alice.key"), dir.join("alice-copy.key")).unwrap();
    fails(
        keyholder(
            &dir,
            &restore_blob_args(
                "sd.json",
                &["alice.key", "alice-copy.key"],
                "blob.json",
                &["--passphrase-file", "pw", "--passphrase-file", "pw"],
            ),
        ),
        &["alice-copy.key: opens share 1, the same share as alice.key"],
    );
    std::fs::remove_file(dir.join("alice-copy.key")).unwrap();
    assert_eq!(listing(&dir), before);
}

#[test]
fn outputs_are_never_overwritten_without_force() {
    let f = fixture();
    let dir = f.copy_to("overwrite");
    std::fs::write(dir.join("blob.json"), "precious").unwrap();
    let cmd = Cmd::restore_blob("sd.json", &["alice.key", "bob.key"], "blob.json").args(&[
        "--passphrase-file",
        "pw",
        "--passphrase-file",
        "pw",
    ]);
    let args = cmd.as_args();
    fails(keyholder(&dir, &args), &["blob.json: already exists", "--force"]);
    assert_eq!(std::fs::read_to_string(dir.join("blob.json")).unwrap(), "precious");
    let mut forced = args.to_vec();
    forced.push("--force");
    ok(keyholder(&dir, &forced));
    f.assert_blob_restores(&dir, "blob.json");
    // A key file is never replaced, even with --force.
    let key_before = std::fs::read(dir.join("alice.key")).unwrap();
    fails(
        keyholder(
            &dir,
            &["init", "--name", "alice", "--out", ".", "--public-out", ".", "--no-passphrase", "--force"],
        ),
        &["alice.key: a key file is already there; keys are never replaced, not even with --force"],
    );
    assert_eq!(std::fs::read(dir.join("alice.key")).unwrap(), key_before);
    // Weak keys and unsafe names are refused by the command line (exit 2).
    let o = keyholder(
        &dir,
        &["init", "--name", "x", "--out", ".", "--public-out", ".", "--no-passphrase", "--bits", "1024"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("too weak"));
    fails(
        keyholder(&dir, &["init", "--name", "../evil", "--out", ".", "--public-out", ".", "--no-passphrase"]),
        &["--name"],
    );
    std::fs::write(dir.join("short-pw"), "abc").unwrap();
    fails(
        keyholder(
            &dir,
            &["init", "--name", "eve", "--out", ".", "--public-out", ".", "--passphrase-file", "short-pw"],
        ),
        &["short-pw", "shorter than 8"],
    );
    assert!(!dir.join("eve.key").exists());
}

#[test]
fn damaged_sd_files_are_refused() {
    let f = fixture();
    let dir = f.copy_to("damaged-sd");
    let text = std::fs::read_to_string(dir.join("sd.json")).unwrap();
    // Truncated.
    std::fs::write(dir.join("truncated.json"), &text[..text.len() / 2]).unwrap();
    fails(
        keyholder(
            &dir,
            &["check", "--sd", "truncated.json", "--key", "alice.key", "--passphrase-file", "pw"],
        ),
        &["truncated.json: invalid security domain file"],
    );
    // A share JWE whose tag is 16 bytes instead of 32 (Azure's tools would accept it).
    let sd = sd_core::azure::sd_file::SecurityDomain::parse(text.as_bytes()).unwrap();
    let enc_key = &sd.shares()[0].enc_key;
    let mut parts: Vec<String> = enc_key.split('.').map(str::to_owned).collect();
    let tag = sd_core::primitives::b64::url_decode(&parts[4], "t").unwrap();
    parts[4] = sd_core::primitives::b64::url_encode(&tag[..16]);
    std::fs::write(dir.join("short-tag.json"), text.replace(enc_key.as_str(), &parts.join("."))).unwrap();
    fails(
        keyholder(
            &dir,
            &["check", "--sd", "short-tag.json", "--key", "alice.key", "--passphrase-file", "pw"],
        ),
        &["short-tag.json", "tag is 16 bytes, it must be exactly 32"],
    );
    // A flipped byte in an EncData entry: the share opens, recovery names the damage.
    let jwe = &sd.enc_data().data[0].compact_jwe;
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let mut ct = sd_core::primitives::b64::url_decode(&parts[3], "t").unwrap();
    ct[100] ^= 0x20;
    parts[3] = sd_core::primitives::b64::url_encode(&ct);
    std::fs::write(dir.join("flipped.json"), text.replace(jwe.as_str(), &parts.join("."))).unwrap();
    let before = listing(&dir);
    fails(
        keyholder(
            &dir,
            &restore_blob_args(
                "flipped.json",
                &["alice.key", "bob.key"],
                "blob.json",
                &["--passphrase-file", "pw", "--passphrase-file", "pw"],
            ),
        ),
        &["flipped.json", "do not rebuild a master key that opens its EncData", "damaged or was altered"],
    );
    assert_eq!(listing(&dir), before);
}

/// Sets up a distributed recovery up to the share bundles of alice and bob.
fn distributed(test: &str) -> std::path::PathBuf {
    let f = fixture();
    let dir = f.copy_to(test);
    ok(keyholder(&dir, &["combiner-init", "--out", ".", "--no-passphrase"]));
    write_request(&dir, "request.json", "sd.json", "exchange.pem");
    for n in ["alice", "bob"] {
        ok(keyholder(
            &dir,
            &share_args(&format!("{n}.key"), &format!("{n}.share.json"), &["--passphrase-file", "pw"]),
        ));
    }
    dir
}

fn combine(dir: &std::path::Path, shares: &[&str]) -> std::process::Output {
    keyholder(dir, &combine_args(shares, "blob.json", &[]))
}

#[test]
fn tampered_share_bundle_is_refused() {
    let dir = distributed("tampered-share");
    let text = std::fs::read_to_string(dir.join("bob.share.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Change the payload's share index (re-encoded, so the JSON stays valid).
    let payload = sd_core::primitives::b64::url_decode(doc["payload"].as_str().unwrap(), "p").unwrap();
    let mut p: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    p["share_index"] = serde_json::json!(0);
    doc["payload"] =
        serde_json::Value::String(sd_core::primitives::b64::url_encode(p.to_string().as_bytes()));
    std::fs::write(dir.join("forged.share.json"), doc.to_string()).unwrap();
    let before = listing(&dir);
    fails(
        combine(&dir, &["alice.share.json", "forged.share.json"]),
        &["forged.share.json", "signature does not verify"],
    );
    // Truncated.
    std::fs::write(dir.join("cut.share.json"), &text[..text.len() - 40]).unwrap();
    fails(combine(&dir, &["alice.share.json", "cut.share.json"]), &["cut.share.json: bundle rejected"]);
    std::fs::remove_file(dir.join("cut.share.json")).unwrap();
    let mut before2 = before.clone();
    before2.retain(|n| n != "cut.share.json");
    // The same share twice.
    fails(
        combine(&dir, &["alice.share.json", "alice.share.json"]),
        &["alice.share.json: carries share 1, the same share as alice.share.json"],
    );
    // Too few.
    fails(combine(&dir, &["alice.share.json"]), &["1 share bundle(s) given", "quorum"]);
    assert_eq!(listing(&dir), before2);
}

#[test]
fn share_bundle_for_another_request_is_refused() {
    let dir = distributed("other-request");
    // A second request (new nonce) for the same SD: bob's bundle was made for the first.
    write_request(&dir, "request2.json", "sd.json", "exchange.pem");
    let o = keyholder(
        &dir,
        &Cmd::combine(&["alice.share.json", "bob.share.json"], "blob.json")
            .set("--request", "request2.json")
            .as_args(),
    );
    fails(o, &["alice.share.json: is for another recovery request"]);
    assert!(!dir.join("blob.json").exists());
    // A request for another SD file is refused by share.
    std::fs::write(
        dir.join("other-sd.json"),
        std::fs::read(dir.join("sd.json")).unwrap().iter().chain(b" ").copied().collect::<Vec<u8>>(),
    )
    .unwrap();
    // Carol's share, with one flag changed.
    let carol_shares = |flag: &str, value: &str| {
        let share = Cmd::share("carol.key", "carol.share.json").set(flag, value);
        keyholder(&dir, &share.args(&["--passphrase-file", "pw"]).as_args())
    };
    fails(carol_shares("--sd", "other-sd.json"), &["request.json: is for SD file"]);
    // A request not signed by the expected operator.
    fails(
        carol_shares("--operator-cert", "alice.cer"),
        &["request.json: signed by CN=operator", "not by the pinned operator"],
    );
    assert!(!dir.join("carol.share.json").exists());
}

#[test]
fn share_bundle_from_a_stranger_is_refused() {
    let dir = distributed("stranger-share");
    // A custodian not in the SD makes a bundle for a look-alike SD that names them.
    ok(keyholder(&dir, &init_here("mallory", &["--no-passphrase"])));
    let certs: Vec<_> =
        ["alice", "bob", "mallory"].iter().map(|n| load_cert(&dir.join(format!("{n}.cer")))).collect();
    let master = sd_core::primitives::secret::MasterKey::generate(&mut rng()).unwrap();
    let secrets = [sd_core::azure::enc_data::DomainSecret {
        tag: "hsm_backup".into(),
        data: sd_core::primitives::secret::SecretBytes::from_slice(b"x"),
    }];
    let fake =
        sd_core::azure::sd_file::SecurityDomain::create(&mut rng(), &master, &secrets, &certs, 2).unwrap();
    std::fs::write(dir.join("fake-sd.json"), fake.to_json().unwrap()).unwrap();
    write_request(&dir, "fake-request.json", "fake-sd.json", "exchange.pem");
    ok(keyholder(
        &dir,
        &Cmd::share("mallory.key", "mallory.share.json")
            .set("--sd", "fake-sd.json")
            .set("--request", "fake-request.json")
            .as_args(),
    ));
    fails(
        combine(&dir, &["alice.share.json", "mallory.share.json"]),
        &["mallory.share.json", "CN=mallory", "is not a custodian of this SD file"],
    );
    assert!(!dir.join("blob.json").exists());
}

#[test]
fn sealed_to_another_combiner_is_refused() {
    let dir = distributed("other-combiner");
    std::fs::create_dir(dir.join("c2")).unwrap();
    ok(keyholder(&dir, &["combiner-init", "--out", "c2", "--no-passphrase"]));
    let cmd = Cmd::combine(&["alice.share.json", "bob.share.json"], "blob.json")
        .set("--combiner-key", "c2/combiner.key");
    let o = keyholder(&dir, &cmd.as_args());
    fails(o, &["c2/combiner.key: this is not the combiner key the recovery request names"]);
    assert!(!dir.join("blob.json").exists());
}

#[test]
fn rotation_limits_are_checked_before_any_passphrase() {
    let f = fixture();
    let dir = f.copy_to("rotate-limits");
    // The keys are encrypted and no passphrase is given: a limit error must come first.
    let rotate = |new_certs: &[&str], quorum: &str| {
        let mut args = vec!["rotate", "--sd", "sd.json", "--key", "alice.key", "--key", "bob.key"];
        for c in new_certs {
            args.extend(["--new-cert", c]);
        }
        args.extend(["--quorum", quorum, "--out", "new.json"]);
        keyholder(&dir, &args)
    };
    fails(
        rotate(&["alice.cer", "bob.cer"], "2"),
        &["the new custodians (--new-cert, --quorum): 2 custodian certificates given; Azure takes 3 to 10"],
    );
    fails(rotate(&["alice.cer", "bob.cer", "carol.cer"], "4"), &["quorum 4 is invalid"]);
    assert!(!dir.join("new.json").exists());
}
