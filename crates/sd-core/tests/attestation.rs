//! The exchange-key attestation verifier on Azure's real responses (six
//! attested HSMs, 2023–2025, two kinds of Intel platform; one legacy
//! unattested), Intel's real collateral, and negative evidence made from the
//! real evidence: each must fail at its own check.

use crate::common::{read, vectors};

use sd_core::attestation::collateral::{Collateral, signature_from_hex};
use sd_core::attestation::{
    AttestationFailure, Basis, ExchangeKeyPolicy, ExchangeKeySource, Pins, VerifiedExchangeKey, evidence,
};
use sd_core::pki::cert::{self, Certificate};
use sgx_simulator::{EnclaveClaims, SimulatedPlatform, evidence_extension};

const TK: &str = "azure-cli/transfer-keys";
const V2025: &str = "azure-cli-2025-04-22-test-mhsm-sd2q2avldvp4tl.json";
const HSM_2025: &str = "test-mhsm-sd2q2avldvp4tl";
/// 2025-04-22T09:00:00Z: inside the 2025 certificate's validity.
const AT_2025: u64 = 1_745_312_400;

/// The six attested responses: file, HSM name.
fn attested() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(vectors().join(TK)).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.contains("legacy") {
            let hsm = name.trim_end_matches(".json").splitn(6, '-').nth(5).unwrap().to_owned();
            out.push((name, hsm));
        }
    }
    out.sort();
    assert_eq!(out.len(), 6, "{out:?}");
    out
}

fn cert_of(rel: &str) -> Certificate {
    sd_core::azure::transfer_key::parse_response(&read(rel)).unwrap()
}

fn failed_at(r: Result<VerifiedExchangeKey, AttestationFailure>) -> (String, String) {
    let f = r.expect_err("attestation should fail");
    let last = f.report.checks.last().unwrap();
    assert!(!last.passed);
    assert!(f.report.checks[..f.report.checks.len() - 1].iter().all(|c| c.passed));
    (last.name.to_owned(), last.detail.clone())
}

#[test]
fn every_real_attested_response_passes_every_check() {
    for (file, hsm) in attested() {
        let body = read(&format!("{TK}/{file}"));
        let cert = cert_of(&format!("{TK}/{file}"));
        let at = cert.not_before_unix() + 1800;
        let v = VerifiedExchangeKey::attested(ExchangeKeySource::Response(&body), &hsm, &Pins::default(), at)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let Basis::Attested(report) = v.basis() else { panic!("{file}: not attested") };
        let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "transfer-key response",
                "certificate self-signature",
                "certificate key",
                "certificate CA:FALSE",
                "certificate keyEncipherment",
                "certificate names the HSM",
                "certificate validity",
                "evidence extension",
                "evidence format",
                "PCK certificate chain",
                "attestation root pin",
                "QE report signature",
                "QE binds the attestation key",
                "QE identity",
                "quote signature",
                "enclave identity",
                "key binding",
            ],
            "{file}"
        );
        assert!(report.checks.iter().all(|c| c.passed));
        let enclave = report.enclave.as_ref().unwrap();
        assert_eq!(enclave.mr_signer, sd_core::attestation::pins::AZURE_MHSM_MRSIGNER);
        assert_eq!((enclave.prod_id, enclave.svn, enclave.debug), (1, 1, false));
        assert_eq!(report.qe.as_ref().unwrap().svn, 8);
        assert_eq!(v.certificate(), &cert);
        // The certificate alone (as a recovery request carries it) passes too.
        VerifiedExchangeKey::attested(ExchangeKeySource::Certificate(&cert), &hsm, &Pins::default(), at)
            .unwrap();
    }
}

#[test]
fn platform_values_come_from_the_pck_certificate() {
    let body = read(&format!("{TK}/{V2025}"));
    let v = VerifiedExchangeKey::attested(
        ExchangeKeySource::Response(&body),
        HSM_2025,
        &Pins::default(),
        AT_2025,
    )
    .unwrap();
    let Basis::Attested(report) = v.basis() else { panic!() };
    let p = report.platform.as_ref().unwrap();
    assert_eq!((p.fmspc.as_str(), p.pce_id.as_str(), p.pce_svn), ("00606a000000", "0000", 13));
    assert_eq!(&p.tcb_components[..7], &[11, 11, 3, 3, 255, 255, 0]);
    assert_eq!(
        report.enclave.as_ref().unwrap().mr_enclave,
        "5986123b3a753671389708d2c8fc9be4080c95146fba37a0adbc66676e49fb36"
    );
}

fn collateral() -> Collateral {
    let c = "intel-collateral";
    let sig = |f: &str| signature_from_hex(&String::from_utf8(read(&format!("{c}/{f}"))).unwrap()).unwrap();
    Collateral {
        tcb_info: read(&format!("{c}/tcbinfo-00606a000000-2025-03-12.json")),
        tcb_info_signature: sig("tcbinfo-00606a000000-2025-03-12.sig.hex"),
        qe_identity: read(&format!("{c}/qeidentity-2025-03-12.json")),
        qe_identity_signature: sig("qeidentity-2025-03-12.sig.hex"),
        signing_chain_pem: String::from_utf8(read(&format!("{c}/tcb-signing-2018.pem"))).unwrap(),
    }
}

#[test]
fn intel_collateral_gives_the_platform_and_qe_tcb_status() {
    let body = read(&format!("{TK}/{V2025}"));
    let src = ExchangeKeySource::Response(&body);
    let v = VerifiedExchangeKey::attested_with_collateral(
        src,
        HSM_2025,
        &Pins::default(),
        AT_2025,
        &collateral(),
    )
    .unwrap();
    let Basis::Attested(report) = v.basis() else { panic!() };
    let tcb = report.tcb.as_ref().unwrap();
    assert_eq!(tcb.platform_status, "OutOfDateConfigurationNeeded");
    assert_eq!(tcb.platform_tcb_date, "2023-02-15T00:00:00Z");
    assert_eq!(tcb.qe_status, "UpToDate");
    assert_eq!(tcb.evaluation_data_number, 17);
    let last = report.checks.last().unwrap();
    assert_eq!(last.name, "QE TCB");
    assert!(report.checks.iter().any(|c| c.detail.contains("past its nextUpdate 2025-04-11")));

    // Tampered collateral: one byte of the TCB Info.
    let mut bad = collateral();
    let i = bad.tcb_info.iter().position(|&b| b == b'O').unwrap();
    bad.tcb_info[i] = b'U';
    let (name, detail) = failed_at(VerifiedExchangeKey::attested_with_collateral(
        src,
        HSM_2025,
        &Pins::default(),
        AT_2025,
        &bad,
    ));
    assert_eq!(
        (name.as_str(), detail.as_str()),
        ("Intel collateral", "the TCB Info's signature does not verify")
    );
}

#[test]
fn the_wrong_hsm_name_or_todays_date_fails() {
    let body = read(&format!("{TK}/{V2025}"));
    let src = ExchangeKeySource::Response(&body);
    let (name, detail) = failed_at(VerifiedExchangeKey::attested(src, "contoso", &Pins::default(), AT_2025));
    assert_eq!(name, "certificate names the HSM");
    assert!(detail.contains("not CN=contoso.managedhsm.azure.net"), "{detail}");
    // 2026-11-30: the certificate expired on 2026-04-22.
    let (name, detail) =
        failed_at(VerifiedExchangeKey::attested(src, HSM_2025, &Pins::default(), 1_796_000_000));
    assert_eq!(name, "certificate validity");
    assert!(detail.contains("if the local clock is wrong, set it"), "{detail}");
}

#[test]
fn the_legacy_unattested_key_is_refused_unless_its_fingerprint_was_confirmed() {
    let rel = format!("{TK}/azure-cli-2020-09-14-clitest0914b-legacy-no-attestation.json");
    let body = read(&rel);
    let cert = cert_of(&rel);
    // A 2020 certificate: no CA:FALSE, CN "transfer-key", no evidence. Refused at the first of those.
    let (name, _) = failed_at(VerifiedExchangeKey::attested(
        ExchangeKeySource::Response(&body),
        "clitest0914b",
        &Pins::default(),
        cert.not_before_unix() + 60,
    ));
    assert_eq!(name, "certificate CA:FALSE");
    // Even with the certificate checks out of the way, it carries no evidence.
    let ext = cert.x509().tbs_certificate().extensions().into_iter().flatten();
    assert!(ext.map(|e| e.extn_id.to_string()).all(|o| o != evidence::EVIDENCE_OID));
    // A confirmed fingerprint waives the evidence only: this 2020 certificate (CN
    // "transfer-key", no CA:FALSE, expired in 2021) fails the certificate checks anyway.
    let at = cert.not_before_unix() + 60;
    let err =
        VerifiedExchangeKey::confirmed_unattested(&cert, "clitest0914b", &cert.x5t_s256(), at).unwrap_err();
    assert_eq!(err.report.checks.last().unwrap().name, "certificate CA:FALSE", "{err}");
    let other = cert_of(&format!("{TK}/{V2025}"));
    let err =
        VerifiedExchangeKey::confirmed_unattested(&cert, "clitest0914b", &other.x5t_s256(), at).unwrap_err();
    assert!(err.to_string().contains("not the confirmed"), "{err}");
}

/// N6 of the attack review: `--allow-unattested X5T` waives the SGX evidence
/// and nothing else. An unattested key with a sound certificate passes; the
/// same key expired, for another HSM, or of RSA-2048 does not.
#[test]
fn a_confirmed_fingerprint_waives_only_the_evidence() {
    let now = 1_800_000_000;
    let make = |bits: usize, name: &str| {
        let key = sd_core::pki::private_key::generate(&mut rng(), bits).unwrap();
        sd_core::pki::cert::exchange_certificate(&mut rng(), &key, name, Vec::new(), now - 3600, 365).unwrap()
    };
    let sound = make(3072, "target");
    let v = VerifiedExchangeKey::confirmed_unattested(&sound, "target", &sound.x5t_s256(), now).unwrap();
    assert!(matches!(v.basis(), Basis::ConfirmedUnattested));
    let failed = |cert: &sd_core::pki::cert::Certificate, at: u64| {
        let err =
            VerifiedExchangeKey::confirmed_unattested(cert, "target", &cert.x5t_s256(), at).unwrap_err();
        err.report.checks.last().unwrap().name
    };
    assert_eq!(failed(&sound, now + 400 * 86_400), "certificate validity");
    assert_eq!(failed(&make(3072, "someone-else"), now), "certificate names the HSM");
    assert_eq!(failed(&make(2048, "target"), now), "certificate key");
    // Through the policy, as the tools use it: the same.
    let policy =
        ExchangeKeyPolicy { allow_unattested: Some(sound.x5t_s256()), ..ExchangeKeyPolicy::default() };
    assert!(policy.verify(ExchangeKeySource::Certificate(&sound), "target", now).is_ok());
    let err =
        policy.verify(ExchangeKeySource::Certificate(&sound), "target", now + 400 * 86_400).unwrap_err();
    assert!(err.to_string().contains("\"certificate validity\""), "{err}");
}

/// The real 2025 evidence bytes.
fn real_evidence() -> Vec<u8> {
    let cert = cert_of(&format!("{TK}/{V2025}"));
    let oid = const_oid::ObjectIdentifier::new_unwrap(evidence::EVIDENCE_OID);
    let ext = cert.x509().tbs_certificate().extensions().unwrap().iter().find(|e| e.extn_id == oid).unwrap();
    ext.extn_value.as_bytes().to_vec()
}

fn rng() -> getrandom::SysRng {
    getrandom::SysRng
}

/// An attacker's certificate for the 2025 HSM's name, carrying `evidence` extensions.
fn attacker_cert(key: &rsa::PrivateKey, evidence: &[&[u8]]) -> Certificate {
    let exts = evidence.iter().map(|e| evidence_extension(e).unwrap()).collect();
    cert::exchange_certificate(&mut rng(), key, HSM_2025, exts, AT_2025 - 600, 30).unwrap()
}

fn attacker_key() -> rsa::PrivateKey {
    rsa::PrivateKey::new(&mut rng(), 3072).unwrap()
}

/// A key of the attacker's, a simulated SGX platform that can attest it, and
/// pins trusting that platform's root.
struct Simulated {
    key: rsa::PrivateKey,
    spki: Vec<u8>,
    platform: SimulatedPlatform,
    pins: Pins,
}

fn simulated() -> Simulated {
    let key = attacker_key();
    let spki = cert::spki_der(&rsa::PublicKey::from(&key)).unwrap();
    let platform = SimulatedPlatform::generate(&mut rng(), "Test Root", AT_2025 - 86_400, 365).unwrap();
    let pins = Pins::default().with_root(platform.root_pem().unwrap().as_bytes()).unwrap();
    Simulated { key, spki, platform, pins }
}

fn check(cert: &Certificate, pins: &Pins) -> (String, String) {
    failed_at(VerifiedExchangeKey::attested(ExchangeKeySource::Certificate(cert), HSM_2025, pins, AT_2025))
}

#[test]
fn genuine_evidence_in_an_attackers_certificate_fails_the_key_binding() {
    let key = attacker_key();
    let cert = attacker_cert(&key, &[&real_evidence()]);
    let (name, detail) = check(&cert, &Pins::default());
    assert_eq!(name, "key binding");
    assert!(detail.contains("belongs to another key"), "{detail}");
}

#[test]
fn rewritten_report_data_fails_the_quote_signature() {
    let key = attacker_key();
    let mut ev = real_evidence();
    // report_data sits at quote offset 48 + 320, after the 16-byte Open Enclave header.
    let spki = cert::spki_der(&rsa::PublicKey::from(&key)).unwrap();
    let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&spki).into();
    ev[16 + 48 + 320..16 + 48 + 352].copy_from_slice(&digest);
    let cert = attacker_cert(&key, &[&ev]);
    assert_eq!(check(&cert, &Pins::default()).0, "quote signature");
}

#[test]
fn a_look_alike_chain_fails_the_root_pin() {
    let key = attacker_key();
    let spki = cert::spki_der(&rsa::PublicKey::from(&key)).unwrap();
    let fake = SimulatedPlatform::generate(&mut rng(), "Intel SGX Root CA", AT_2025 - 86_400, 365).unwrap();
    let cert = attacker_cert(&key, &[&fake.evidence(&spki, &EnclaveClaims::default()).unwrap()]);
    let (name, detail) = check(&cert, &Pins::default());
    assert_eq!(name, "attestation root pin");
    assert!(detail.contains("not the pinned a0af0312"), "{detail}");
    // With that root given explicitly (as a drill does), everything passes, and the report says it is not Intel's.
    let pins = Pins::default().with_root(fake.root_pem().unwrap().as_bytes()).unwrap();
    let v = VerifiedExchangeKey::attested(ExchangeKeySource::Certificate(&cert), HSM_2025, &pins, AT_2025)
        .unwrap();
    let Basis::Attested(report) = v.basis() else { panic!() };
    assert!(report.checks.iter().any(|c| c.detail.contains("NOT Intel's root")));
}

#[test]
fn a_debug_enclave_or_another_signer_fails_the_enclave_identity() {
    let Simulated { key, spki, platform, pins } = simulated();
    let debug = EnclaveClaims { debug: true, ..EnclaveClaims::default() };
    let cert = attacker_cert(&key, &[&platform.evidence(&spki, &debug).unwrap()]);
    let (name, detail) = check(&cert, &pins);
    assert_eq!(name, "enclave identity");
    assert!(detail.contains("DEBUG"), "{detail}");
    let stranger = EnclaveClaims { mr_signer: [7; 32], ..EnclaveClaims::default() };
    let cert = attacker_cert(&key, &[&platform.evidence(&spki, &stranger).unwrap()]);
    let (name, detail) = check(&cert, &pins);
    assert_eq!(name, "enclave identity");
    assert!(detail.contains("is not the pinned db55904b"), "{detail}");
}

#[test]
fn a_truncated_or_doubled_extension_fails_where_it_should() {
    let key = attacker_key();
    let ev = real_evidence();
    for cut in [0, 1, 15, 16, 100, 431, 500, ev.len() - 1] {
        let cert = attacker_cert(&key, &[&ev[..cut]]);
        let (name, detail) = check(&cert, &Pins::default());
        assert_eq!(name, "evidence format", "cut at {cut}: {detail}");
    }
    let cert = attacker_cert(&key, &[&ev, &ev]);
    let (name, detail) = check(&cert, &Pins::default());
    assert_eq!(
        (name.as_str(), detail.as_str()),
        ("evidence extension", "2 evidence extensions; exactly one is allowed")
    );
    let cert = attacker_cert(&key, &[]);
    assert_eq!(check(&cert, &Pins::default()).0, "evidence extension");
}

/// Each fixed field of the real evidence, changed, is named with the one
/// value the format allows (offsets: Open Enclave header 0, report type 4,
/// then the quote from 16: version, key type, TEE type).
#[test]
fn a_changed_fixed_field_is_named_with_the_value_it_must_hold() {
    let real = real_evidence();
    for (offset, message) in [
        (0, "Open Enclave header version 2, expected 1"),
        (4, "report type 3, expected 2 (remote SGX)"),
        (16, "quote version 4, expected 3"),
        (18, "attestation key type 3, expected 2 (ECDSA P-256)"),
        (20, "TEE type 1, expected 0 (SGX)"),
    ] {
        let mut bytes = real.clone();
        bytes[offset] += 1;
        let err = evidence::parse(&bytes).unwrap_err();
        assert_eq!(err.to_string(), message, "offset {offset}");
    }
}

#[test]
fn every_flipped_byte_of_the_evidence_is_refused() {
    let key = attacker_key();
    let ev = real_evidence();
    let mut cases = 0;
    for i in (0..ev.len()).step_by(37) {
        let mut bad = ev.clone();
        bad[i] ^= 0x01;
        let cert = attacker_cert(&key, &[&bad]);
        assert!(
            VerifiedExchangeKey::attested(
                ExchangeKeySource::Certificate(&cert),
                HSM_2025,
                &Pins::default(),
                AT_2025
            )
            .is_err(),
            "byte {i} accepted"
        );
        cases += 1;
    }
    assert!(cases > 100);
}

/// Collateral for the simulated platform, signed under its root, with the
/// platform TCB level rated `platform_status`.
fn simulated_collateral(platform: &SimulatedPlatform, platform_status: &str, fmspc: &str) -> Collateral {
    use sgx_simulator::{SIMULATED_PCE_SVN, SIMULATED_TCB};
    let mut tcb = serde_json::Map::new();
    for (i, svn) in SIMULATED_TCB.iter().enumerate() {
        tcb.insert(format!("sgxtcbcomp{:02}svn", i + 1), (*svn).into());
    }
    tcb.insert("pcesvn".into(), SIMULATED_PCE_SVN.into());
    let tcb_info = serde_json::json!({
        "version": 2, "issueDate": "2025-04-01T00:00:00Z", "nextUpdate": "2025-05-01T00:00:00Z",
        "fmspc": fmspc, "pceId": "0000", "tcbType": 0, "tcbEvaluationDataNumber": 17,
        "tcbLevels": [{"tcb": tcb, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": platform_status}],
    });
    let qe = serde_json::json!({
        "id": "QE", "version": 2, "issueDate": "2025-04-01T00:00:00Z", "nextUpdate": "2025-05-01T00:00:00Z",
        "tcbEvaluationDataNumber": 17, "miscselect": "00000000", "miscselectMask": "FFFFFFFF",
        "attributes": "05000000000000000000000000000000", "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
        "mrsigner": sd_core::attestation::pins::INTEL_QE_MRSIGNER.to_uppercase(), "isvprodid": 1,
        "tcbLevels": [{"tcb": {"isvsvn": 8}, "tcbDate": "2024-03-13T00:00:00Z", "tcbStatus": "UpToDate"}],
    });
    platform
        .sign_collateral(
            &mut rng(),
            tcb_info.to_string().as_bytes(),
            qe.to_string().as_bytes(),
            (AT_2025 - 86_400, 365),
        )
        .unwrap()
}

#[test]
fn a_revoked_platform_is_refused_and_other_statuses_are_reported() {
    let Simulated { key, spki, platform, pins } = simulated();
    let cert = attacker_cert(&key, &[&platform.evidence(&spki, &EnclaveClaims::default()).unwrap()]);
    let src = ExchangeKeySource::Certificate(&cert);
    let fmspc = sgx_simulator::SIMULATED_FMSPC;
    for status in ["UpToDate", "SWHardeningNeeded", "OutOfDate"] {
        let c = simulated_collateral(&platform, status, fmspc);
        let v = VerifiedExchangeKey::attested_with_collateral(src, HSM_2025, &pins, AT_2025, &c).unwrap();
        let Basis::Attested(report) = v.basis() else { panic!() };
        assert_eq!(report.tcb.as_ref().unwrap().platform_status, status);
        assert_eq!(report.platform.as_ref().unwrap().fmspc, fmspc);
    }
    let c = simulated_collateral(&platform, "Revoked", fmspc);
    let (name, detail) =
        failed_at(VerifiedExchangeKey::attested_with_collateral(src, HSM_2025, &pins, AT_2025, &c));
    assert_eq!(name, "platform TCB");
    assert!(detail.contains("revoked; refused"), "{detail}");
    // Collateral for another platform does not apply.
    let c = simulated_collateral(&platform, "UpToDate", "00906ed50000");
    let (name, detail) =
        failed_at(VerifiedExchangeKey::attested_with_collateral(src, HSM_2025, &pins, AT_2025, &c));
    assert_eq!(name, "platform TCB");
    assert!(detail.contains("the TCB Info is for FMSPC 00906ed50000"), "{detail}");
    // Intel's real collateral is not signed under a test root.
    let (name, detail) = failed_at(VerifiedExchangeKey::attested_with_collateral(
        src,
        HSM_2025,
        &pins,
        AT_2025,
        &collateral(),
    ));
    assert_eq!(
        (name.as_str(), detail.as_str()),
        ("Intel collateral", "the TCB Signing certificate is not signed by the pinned root")
    );
}
