//! keyholder's whole output, pinned: every `tests/cmd/*.md` case runs
//! against fixtures made here (see `ceremony_tests::cases`).

use std::path::Path;

use crate::common::{fixture, keyholder, load_cert, ok, share_args, write_request};
use sd_core::pki::cert::{Certificate, readable_fingerprint};

/// The fixture every case starts from: three custodians (alice, bob, carol;
/// keys encrypted with the passphrase in `pw`) and their SD file (quorum 2),
/// an attested exchange key, the operator, a combiner, a recovery request,
/// two share bundles, a drill report, a stranger, and damaged copies.
fn make_fixtures() -> &'static Path {
    let f = fixture();
    let dir = f.copy_to("cmd-fixtures");
    let run = |args: &[&str]| ok(keyholder(&dir, args));
    std::fs::write(dir.join("wrong-pw"), "not the passphrase\n").unwrap();
    run(&["combiner-init", "--out", ".", "--no-passphrase"]);
    write_request(&dir, "request.json", "sd.json", "exchange.pem");
    let exchange = load_cert(&dir.join("exchange.pem"));
    std::fs::write(
        dir.join("transfer-key.json"),
        sd_core::azure::transfer_key::response_json(&exchange).unwrap(),
    )
    .unwrap();
    for name in ["alice", "bob"] {
        let (key, out) = (format!("{name}.key"), format!("{name}.share.json"));
        run(&share_args(&key, &out, &["--passphrase-file", "pw"]));
    }
    run(&[
        "drill",
        "--sd",
        "sd.json",
        "--key",
        "alice.key",
        "--passphrase-file",
        "pw",
        "--key",
        "carol.key",
        "--passphrase-file",
        "pw",
        "--out",
        "report.json",
    ]);
    // A drill plan with alice as the ceremony administrator.
    run(&[
        "ceremony",
        "new",
        "--kind",
        "drill",
        "--hsm",
        "contoso",
        "--administrator",
        "alice.cer",
        "--witness",
        "Wes",
        "--custodian",
        "bob.cer",
        "--custodian",
        "carol.cer",
        "--out",
        "plan-drill.json",
    ]);
    // The same request, re-signed by the operator as if made in 2001 (a replay).
    let mut old: serde_json::Value = serde_json::from_str(&ceremony_tests::bundle_payload(
        &std::fs::read(dir.join("request.json")).unwrap(),
    ))
    .unwrap();
    old["created"] = 978_307_200u64.into();
    // The operator's successor, handed over by the fixture operator.
    let (next_key, next_cert) = crate::common::keypair("operator");
    std::fs::write(dir.join("operator2.cer"), next_cert.to_pem()).unwrap();
    let old_key = sd_core::pki::private_key::from_pem(
        &std::fs::read_to_string(dir.join("operator.key")).unwrap(),
        None,
    )
    .unwrap();
    let old_cert = load_cert(&dir.join("operator.cer"));
    let handover = sd_core::handoff::operator_handover::OperatorHandover::sign(
        &sd_core::bundle::Signer { key: &old_key, cert: &old_cert },
        &sd_core::bundle::Signer { key: &next_key, cert: &next_cert },
        crate::common::now(),
    )
    .unwrap();
    std::fs::write(dir.join("handover.json"), handover).unwrap();
    let replay = sd_core::bundle::sign(
        sd_core::bundle::BundleKind::RecoveryRequest,
        &old,
        &[sd_core::bundle::Signer { key: &old_key, cert: &old_cert }],
    )
    .unwrap();
    std::fs::write(dir.join("request-2001.json"), replay).unwrap();
    // Someone who holds no share of sd.json.
    let stranger = dir.join("stranger");
    std::fs::create_dir_all(&stranger).unwrap();
    run(&[
        "init",
        "--name",
        "stranger",
        "--out",
        "stranger",
        "--public-out",
        "stranger",
        "--no-passphrase",
        "--bits",
        "2048",
    ]);
    for ext in ["key", "cer", "enrollment.json"] {
        std::fs::rename(stranger.join(format!("stranger.{ext}")), dir.join(format!("stranger.{ext}")))
            .unwrap();
    }
    std::fs::remove_dir(&stranger).unwrap();
    // Damaged copies: one byte of a signed bundle's payload, an EncData entry, a share.
    // `skip` dots past the marker first (to reach a JWE's ciphertext).
    let flip = |from: &str, to: &str, marker: &str, skip: usize| {
        let text = std::fs::read_to_string(dir.join(from)).unwrap();
        let mut at = text.find(marker).unwrap_or_else(|| panic!("{marker} in {from}")) + marker.len();
        for _ in 0..skip {
            at += text[at..].find('.').expect("a dot") + 1;
        }
        at += 8;
        let mut bytes = text.into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(dir.join(to), bytes).unwrap();
    };
    flip("report.json", "report-tampered.json", "\"payload\": \"", 0);
    flip("request.json", "request-tampered.json", "\"payload\": \"", 0);
    flip("alice.share.json", "alice.share-tampered.json", "\"payload\": \"", 0);
    flip("sd.json", "sd-tampered.json", "\"compact_jwe\":\"", 3);
    std::fs::write(dir.join("not-json.json"), "this is not JSON\n").unwrap();
    std::fs::write(dir.join("empty.json"), "").unwrap();
    Box::leak(dir.into_boxed_path())
}

/// The fingerprints the cases name: `[ALICE_THUMB]`, `[ALICE_READ]`, `[ALICE_SHA]`...
fn fingerprints(dir: &Path) -> Vec<(&'static str, String)> {
    let mut vars = Vec::new();
    let mut add = |cert: &Certificate, thumb: &'static str, read: &'static str, sha: &'static str| {
        vars.push((thumb, cert.x5t_s256()));
        vars.push((read, readable_fingerprint(&cert.sha256())));
        vars.push((sha, sd_core::primitives::hex::hex_lower(&cert.sha256())));
    };
    let cert = |name: &str| load_cert(&dir.join(name));
    add(&cert("alice.cer"), "[ALICE_THUMB]", "[ALICE_READ]", "[ALICE_SHA]");
    add(&cert("bob.cer"), "[BOB_THUMB]", "[BOB_READ]", "[BOB_SHA]");
    add(&cert("carol.cer"), "[CAROL_THUMB]", "[CAROL_READ]", "[CAROL_SHA]");
    add(&cert("operator.cer"), "[OPERATOR_THUMB]", "[OPERATOR_READ]", "[OPERATOR_SHA]");
    add(&cert("operator2.cer"), "[SUCCESSOR_THUMB]", "[SUCCESSOR_READ]", "[SUCCESSOR_SHA]");
    add(&cert("exchange.pem"), "[EXCHANGE_THUMB]", "[EXCHANGE_READ]", "[EXCHANGE_SHA]");
    add(&cert("stranger.cer"), "[STRANGER_THUMB]", "[STRANGER_READ]", "[STRANGER_SHA]");
    let combiner = sd_core::handoff::combiner::Combiner::verify(
        &std::fs::read(dir.join("public/combiner.json")).unwrap(),
        crate::common::now(),
    )
    .unwrap();
    add(combiner.certificate(), "[COMBINER_THUMB]", "[COMBINER_READ]", "[COMBINER_SHA]");
    for (file, var) in
        [("sd.json", "[SD_SHA]"), ("report.json", "[REPORT_SHA]"), ("request.json", "[REQUEST_SHA]")]
    {
        vars.push((var, sd_core::primitives::hex::sha256_hex(&std::fs::read(dir.join(file)).unwrap())));
    }
    vars
}

#[test]
fn keyholder_cases() {
    let fixtures = make_fixtures();
    ceremony_tests::cases::Cases {
        source: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd"),
        fixtures,
        placeholders: Vec::new(),
        redactions: fingerprints(fixtures),
        bins: &["keyholder"],
    }
    .run("keyholder");
}
