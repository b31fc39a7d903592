//! Share commitments through the real binaries: a drill by two of three
//! custodians commits to every custodian's share (the absent one's salt
//! sealed to their certificate), and later each custodian alone learns that
//! their share is exactly the one the quorum rebuilt, or that it is not.

use ceremony_tests::*;
use sd_core::azure::sd_file::EncKey;
use sd_core::primitives::shamir::Share;

/// `keyholder drill` by b and c with `certs` (`--custodian-cert`), into `out`.
fn drill(dir: &std::path::Path, certs: &[&str], out: &str) -> std::process::Output {
    let mut args = vec!["drill", "--sd", "sd.json", "--key", "b.key", "--key", "c.key", "--out", out];
    for c in certs {
        args.extend(["--custodian-cert", c]);
    }
    run(dir, "keyholder", &args)
}

/// The drill by b and c, with a's certificate: commitments for all three.
fn drilled(test: &str) -> std::path::PathBuf {
    let dir = scratch(test);
    custodians(&dir, &["a", "b", "c"]);
    write_sd(&dir, &["a", "b", "c"], 48);
    let out = ok(drill(&dir, &["a.cer"], "report.json"));
    assert!(out.contains("share commitments for 3 of 3 custodians"), "{out}");
    dir
}

#[test]
fn every_honest_custodian_finds_their_share_exactly_right() {
    let dir = drilled("commitments-honest");
    for (n, who) in ["a", "b", "c"].iter().enumerate() {
        let key = format!("{who}.key");
        let out = ok(run(
            &dir,
            "keyholder",
            &["check", "--sd", "sd.json", "--key", &key, "--commitments", "report.json"],
        ));
        assert!(
            out.starts_with(&format!(
                "share {}: exactly right: it is exactly the share the quorum rebuilt on ",
                n + 1
            )),
            "{out}"
        );
        assert!(out.contains("signed by CN=b, CN=c") || out.contains("signed by b, c"), "{out}");
    }
    // The JSON form says the same.
    let out = ok(run(
        &dir,
        "keyholder",
        &["check", "--sd", "sd.json", "--key", "a.key", "--commitments", "report.json", "--json"],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"], "exact");
    assert_eq!(v["share"], 1);
}

#[test]
fn an_altered_share_is_named_and_an_outsider_has_no_row() {
    let dir = drilled("commitments-altered");
    // a's entry in a copy of the file: still a well-formed share, sealed to
    // a's certificate, that opens, but one y moved.
    let key_pem = std::fs::read_to_string(dir.join("a.key")).unwrap();
    let key = sd_core::pki::private_key::from_pem(&key_pem, None).unwrap();
    let cert =
        sd_core::pki::cert::Certificate::from_pem_or_der(&std::fs::read(dir.join("a.cer")).unwrap()).unwrap();
    let mut sd: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("sd.json")).unwrap()).unwrap();
    let entry: EncKey = serde_json::from_value(sd["SharedKeys"]["enc_shares"][0].clone()).unwrap();
    let mut bytes = entry.decrypt(&key).unwrap().expose().to_vec();
    let word = u16::from_le_bytes([bytes[0], bytes[1]]);
    let y = (word & 0x1ff) as u32;
    let moved = (word & !0x1ff) | ((y + 1) % 257) as u16;
    bytes[..2].copy_from_slice(&moved.to_le_bytes());
    assert!(Share::from_bytes(&bytes).is_ok(), "still well-formed");
    let kid = sd["SharedKeys"]["enc_shares"][0]["x5t_256"].as_str().unwrap().to_owned();
    let altered = EncKey::encrypt(&mut getrandom::SysRng, &cert, &kid, &bytes).unwrap();
    sd["SharedKeys"]["enc_shares"][0] = serde_json::to_value(&altered).unwrap();
    std::fs::write(dir.join("copy.json"), serde_json::to_string(&sd).unwrap()).unwrap();

    // Without commitments, check can only say the share is well-formed.
    let out = ok(run(&dir, "keyholder", &["check", "--sd", "copy.json", "--key", "a.key"]));
    assert!(out.starts_with("share 1 of 3 opens"), "{out}");
    // With them, the difference is named.
    fails(
        run(
            &dir,
            "keyholder",
            &["check", "--sd", "copy.json", "--key", "a.key", "--commitments", "report.json"],
        ),
        &[
            "copy.json: share 1 is NOT the share the quorum rebuilt on",
            "this copy of the SD file is not the one drilled",
            "hint: do not rely on this copy",
        ],
    );
    // b's share in that copy is untouched, and is found so.
    let out = ok(run(
        &dir,
        "keyholder",
        &["check", "--sd", "copy.json", "--key", "b.key", "--commitments", "report.json"],
    ));
    assert!(
        out.contains("exactly right") && out.contains("note: the drill used another copy of the file"),
        "{out}"
    );

    // A drill without a's certificate has no row for a, and says so.
    ok(drill(&dir, &[], "partial.json"));
    fails(
        run(
            &dir,
            "keyholder",
            &["check", "--sd", "sd.json", "--key", "a.key", "--commitments", "partial.json"],
        ),
        &["partial.json: the report holds no commitment for share 1 and this custodian"],
    );
    // A certificate that is not a custodian's gets no commitment.
    custodians(&dir, &["mallory"]);
    fails(
        drill(&dir, &["mallory.cer"], "x.json"),
        &["a --custodian-cert", "not a custodian of this SD file"],
    );
}
