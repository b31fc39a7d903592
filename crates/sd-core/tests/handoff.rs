//! The hand-off protocol, attacked through the core API: every bundle is made
//! by the same constructors the tools use, or forged the way an attacker
//! would (a valid signature on a lying payload), and each verifier must refuse
//! at its own check.

use sd_core::HsmName;
use sd_core::attestation::{Basis, ExchangeKeyPolicy, ExchangeKeySource, Pins, VerifiedExchangeKey};
use sd_core::azure::download_request::DownloadRequest;
use sd_core::azure::enc_data::DomainSecret;
use sd_core::azure::quorum::{Quorum, QuorumError};
use sd_core::azure::sd_file::{OpenedShare, SecurityDomain};
use sd_core::bundle::{self, BundleKind, Signer};
use sd_core::handoff::activation::ActivationRecord;
use sd_core::handoff::combiner::{Combiner, VerifiedCombiner};
use sd_core::handoff::drill_report::DrillReport;
use sd_core::handoff::recovery_request::{RecoveryRequest, RequestPins, ShareTarget, VerifiedRequest};
use sd_core::handoff::share::ShareBundle;
use sd_core::handoff::{HandoffError, Nonce, Pin};
use sd_core::pki::cert::{self, Certificate};
use sd_core::primitives::jwe::{CompactJwe, Enc};
use sd_core::primitives::secret::{MasterKey, SecretBytes};
use sd_core::primitives::shamir::Share;
use sd_core::time::Timestamp;
use sgx_simulator::{EnclaveClaims, SimulatedPlatform, evidence_extension};

const NOW: u64 = 1_800_000_000; // 2027-01-15
const DAY: u64 = 86_400;

fn rng() -> getrandom::SysRng {
    getrandom::SysRng
}

struct Party {
    key: rsa::PrivateKey,
    cert: Certificate,
}

impl Party {
    fn new(name: &str, not_before: u64, days: u32) -> Party {
        let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        let cert = cert::self_signed(&mut rng(), &key, name, not_before, days).unwrap();
        Party { key, cert }
    }
    fn signer(&self) -> Signer<'_> {
        Signer { key: &self.key, cert: &self.cert }
    }
}

/// Three custodians, an SD file for them (quorum 2), an operator, a combiner
/// and an exchange key: one recovery about to happen.
struct World {
    custodians: Vec<Party>,
    sd: SecurityDomain,
    operator: Party,
    combiner: Party,
    exchange: VerifiedExchangeKey,
    /// Exchange keys are attested by a simulated platform under a test root.
    policy: ExchangeKeyPolicy,
    platform: SimulatedPlatform,
    secrets: Vec<DomainSecret>,
}

/// An exchange certificate for the HSM `name`, with `evidence` in it.
fn exchange_cert(key: &rsa::PrivateKey, name: &str, evidence: Option<Vec<u8>>) -> Certificate {
    let exts = evidence.map(|e| vec![evidence_extension(&e).unwrap()]).unwrap_or_default();
    cert::exchange_certificate(&mut rng(), key, name, exts, NOW - DAY, 365).unwrap()
}

/// A key attested by `platform` for the HSM `name`.
fn attested_exchange(platform: &SimulatedPlatform, name: &str) -> Certificate {
    let key = rsa::PrivateKey::new(&mut rng(), 3072).unwrap();
    let spki = cert::spki_der(&rsa::PublicKey::from(&key)).unwrap();
    exchange_cert(&key, name, Some(platform.evidence(&spki, &EnclaveClaims::default()).unwrap()))
}

impl World {
    fn new() -> World {
        let custodians: Vec<Party> =
            ["alice", "bob", "carol"].iter().map(|n| Party::new(n, NOW - 400 * DAY, 3650)).collect();
        let certs: Vec<Certificate> = custodians.iter().map(|p| p.cert.clone()).collect();
        let secrets = vec![
            DomainSecret { tag: "hsm_backup".into(), data: SecretBytes::from_slice(&[7u8; 300]) },
            DomainSecret { tag: "base_enclave_backup".into(), data: SecretBytes::from_slice(&[9u8; 100]) },
        ];
        let master = MasterKey::generate(&mut rng()).unwrap();
        let sd = SecurityDomain::create(&mut rng(), &master, &secrets, &certs, 2).unwrap();
        let platform = SimulatedPlatform::generate(&mut rng(), "Test Root", NOW - DAY, 365).unwrap();
        let policy = ExchangeKeyPolicy {
            pins: Pins::default().with_root(platform.root_pem().unwrap().as_bytes()).unwrap(),
            ..ExchangeKeyPolicy::default()
        };
        let cert = attested_exchange(&platform, "target");
        let exchange = policy.verify(ExchangeKeySource::Certificate(&cert), "target", NOW).unwrap();
        World {
            custodians,
            sd,
            operator: Party::new("operator", NOW - 400 * DAY, 3650),
            combiner: Party::new("combiner", NOW - 3600, 7),
            exchange,
            policy,
            platform,
            secrets,
        }
    }

    fn combiner(&self) -> VerifiedCombiner {
        Combiner::verify(Combiner::sign(&self.combiner.signer(), NOW).unwrap().as_bytes(), NOW).unwrap()
    }

    fn request_bytes(&self) -> String {
        RecoveryRequest::sign(
            &mut rng(),
            "https://target.managedhsm.azure.net",
            &self.exchange,
            &self.combiner(),
            &self.sd,
            &self.operator.signer(),
            NOW,
        )
        .unwrap()
    }

    fn request(&self) -> VerifiedRequest {
        verify_request(
            self.request_bytes().as_bytes(),
            &Pin::certificate(&self.operator.cert),
            &self.sd,
            &self.policy,
            NOW,
        )
        .unwrap()
    }

    fn opened(&self, i: usize) -> OpenedShare {
        self.sd.open_share(&self.custodians[i].key, Some(&self.custodians[i].cert.x5t_s256())).unwrap()
    }

    fn share_bundle(&self, request: &VerifiedRequest, i: usize) -> String {
        let target = target(self, request);
        ShareBundle::seal(&mut rng(), &target, &self.sd, &self.opened(i), &self.custodians[i].signer(), NOW)
            .unwrap()
    }
}

/// Verifies a request as a custodian recovering into the HSM "target" does.
fn verify_request(
    bytes: &[u8],
    operator: &Pin,
    sd: &SecurityDomain,
    policy: &ExchangeKeyPolicy,
    now: u64,
) -> Result<VerifiedRequest, HandoffError> {
    let hsm: HsmName = "target".parse().unwrap();
    RecoveryRequest::verify(bytes, RequestPins { operator, hsm: &hsm }, sd, policy, now)
}

/// The request with its combiner pinned by the custodian, as `keyholder share` seals to it.
fn target(w: &World, request: &VerifiedRequest) -> ShareTarget {
    request.clone().pin_combiner(&Pin::certificate(&w.combiner.cert)).unwrap()
}

/// The payload of a bundle, for forging a look-alike.
fn payload(bundle: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(bundle).unwrap();
    let bytes = sd_core::primitives::b64::url_decode(doc["payload"].as_str().unwrap(), "payload").unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn a_request_counts_only_when_the_pinned_operator_signed_it() {
    let w = World::new();
    let bytes = w.request_bytes();
    // Pinned by certificate, and by the fingerprint read aloud (any spacing, any case).
    let fp = cert::readable_fingerprint(&w.operator.cert.sha256()).to_lowercase();
    for pin in [Pin::certificate(&w.operator.cert), Pin::from_fingerprint(&fp).unwrap()] {
        let r = verify_request(bytes.as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap();
        assert_eq!(r.combiner(), &w.combiner.cert);
        assert_eq!(r.exchange(), w.exchange.certificate());
        assert_eq!(r.hsm_name(), "target");
        assert_eq!(r.operator(), &w.operator.cert);
    }
    // Attack 2: a stranger signs the same payload; the pin refuses it.
    let stranger = Party::new("operator", NOW - DAY, 365);
    let forged = bundle::sign(BundleKind::RecoveryRequest, &payload(&bytes), &[stranger.signer()]).unwrap();
    let err = verify_request(forged.as_bytes(), &Pin::certificate(&w.operator.cert), &w.sd, &w.policy, NOW)
        .unwrap_err();
    assert!(matches!(err, HandoffError::NotPinned { .. }), "{err}");
    let readable = cert::readable_fingerprint(&stranger.cert.sha256());
    assert!(err.to_string().starts_with(&format!("signed by CN=operator ({readable}), not by")), "{err}");
    // The operator's own certificate, expired: refused, with the local clock named.
    let old = Party::new("operator", NOW - 400 * DAY, 365);
    let stale = bundle::sign(BundleKind::RecoveryRequest, &payload(&bytes), &[old.signer()]).unwrap();
    let err =
        verify_request(stale.as_bytes(), &Pin::certificate(&old.cert), &w.sd, &w.policy, NOW).unwrap_err();
    assert!(matches!(err, HandoffError::Expired { role: sd_core::handoff::CertRole::Operator, .. }), "{err}");
    assert!(
        err.to_string().contains("the operator certificate expired at")
            && err.to_string().contains("local clock")
    );
    // A fingerprint that is not 64 hex digits is refused as such.
    assert_eq!(Pin::from_fingerprint("ABCD 1234").unwrap_err(), HandoffError::BadFingerprint { length: 8 });
    assert!(Pin::from_fingerprint(&"zz".repeat(32)).is_err());
    // The x5t#S256 line names the same SHA-256, and pins the same certificate.
    assert_eq!(
        Pin::from_fingerprint(&w.operator.cert.x5t_s256()).unwrap(),
        Pin::certificate(&w.operator.cert)
    );
    // The request is for one SD file only.
    let other = SecurityDomain::create(
        &mut rng(),
        &MasterKey::generate(&mut rng()).unwrap(),
        &w.secrets,
        &w.custodians.iter().map(|p| p.cert.clone()).collect::<Vec<_>>(),
        2,
    )
    .unwrap();
    let err = verify_request(bytes.as_bytes(), &Pin::certificate(&w.operator.cert), &other, &w.policy, NOW)
        .unwrap_err();
    assert!(matches!(err, HandoffError::OtherSdFile { .. }), "{err}");
}

#[test]
fn a_request_naming_an_unattested_or_misnamed_exchange_key_is_refused() {
    let w = World::new();
    let pin = Pin::certificate(&w.operator.cert);
    // The rogue endpoint: the operator's machine got an attacker's key (no evidence)
    // and the operator signed it into a request. The custodians' check refuses it.
    let rogue_key = rsa::PrivateKey::new(&mut rng(), 3072).unwrap();
    let rogue = exchange_cert(&rogue_key, "target", None);
    let mut p = payload(&w.request_bytes());
    p["exchange_certificate"] = rogue.to_pem().into();
    p["exchange_x5t_s256"] = rogue.x5t_s256().into();
    let signed = bundle::sign(BundleKind::RecoveryRequest, &p, &[w.operator.signer()]).unwrap();
    let err = verify_request(signed.as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
    let HandoffError::ExchangeKey(failure) = &err else { panic!("{err}") };
    assert_eq!(failure.report.checks.last().unwrap().name, "evidence extension");
    // Accepted only with its fingerprint confirmed out of band, and then marked unattested.
    let confirmed = ExchangeKeyPolicy { allow_unattested: Some(rogue.x5t_s256()), ..w.policy.clone() };
    let r = verify_request(signed.as_bytes(), &pin, &w.sd, &confirmed, NOW).unwrap();
    assert!(matches!(r.exchange_key().basis(), Basis::ConfirmedUnattested));
    let wrong =
        ExchangeKeyPolicy { allow_unattested: Some(w.exchange.certificate().x5t_s256()), ..w.policy.clone() };
    let err = verify_request(signed.as_bytes(), &pin, &w.sd, &wrong, NOW).unwrap_err();
    assert!(err.to_string().contains("not the confirmed"), "{err}");
    // A key genuinely attested, but for another HSM than the request names.
    let other = attested_exchange(&w.platform, "someone-else");
    let mut p = payload(&w.request_bytes());
    p["exchange_certificate"] = other.to_pem().into();
    p["exchange_x5t_s256"] = other.x5t_s256().into();
    let signed = bundle::sign(BundleKind::RecoveryRequest, &p, &[w.operator.signer()]).unwrap();
    let err = verify_request(signed.as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
    assert!(err.to_string().contains("\"certificate names the HSM\""), "{err}");
    // And with Intel's pins (no test root), the emulator-style evidence is refused at the root.
    let err = verify_request(w.request_bytes().as_bytes(), &pin, &w.sd, &ExchangeKeyPolicy::default(), NOW)
        .unwrap_err();
    assert!(err.to_string().contains("\"attestation root pin\""), "{err}");
}

#[test]
fn a_request_nonce_is_32_random_bytes_in_canonical_base64url() {
    let w = World::new();
    let pin = Pin::certificate(&w.operator.cert);
    let good = w.request_bytes();
    // Attack 5: empty, short, padded, non-base64 nonces, each signed by the real operator.
    for (nonce, why) in [
        ("", "0 bytes"),
        ("AAAA", "3 bytes"),
        (&*sd_core::primitives::b64::url_encode(&[1u8; 31]), "31 bytes"),
        (&*format!("{}=", sd_core::primitives::b64::url_encode(&[1u8; 32])), "canonical"),
        ("!!!!", "not base64url"),
    ] {
        let mut p = payload(&good);
        p["nonce"] = nonce.into();
        let signed = bundle::sign(BundleKind::RecoveryRequest, &p, &[w.operator.signer()]).unwrap();
        let err = verify_request(signed.as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
        assert!(matches!(err, HandoffError::BadNonce { .. }), "{nonce:?}: {err}");
        assert!(err.to_string().contains(why), "{nonce:?}: {err}");
    }
    let n = Nonce::generate(&mut rng()).unwrap();
    assert_eq!(Nonce::parse(&n.encode()).unwrap(), n);
}

#[test]
fn the_combiner_is_the_one_the_request_names_and_it_must_be_fresh() {
    let w = World::new();
    let request = w.request();
    let bundle = w.share_bundle(&request, 0);
    // Attack 1: shares sealed to the named combiner do not open with another key.
    let mallory = Party::new("combiner", NOW - 3600, 7);
    assert_eq!(request.check_combiner_key(&mallory.key).unwrap_err(), HandoffError::WrongCombinerKey);
    assert_eq!(
        ShareBundle::open(bundle.as_bytes(), &request, &w.sd, &mallory.key).unwrap_err(),
        HandoffError::WrongCombinerKey
    );
    let v = ShareBundle::open(bundle.as_bytes(), &request, &w.sd, &w.combiner.key).unwrap();
    assert_eq!((v.share().index, v.custodian()), (0, &w.custodians[0].cert));

    // An expired combiner: refused when checked after its validity, with the local clock named.
    let signed = Combiner::sign(&w.combiner.signer(), NOW).unwrap();
    let err = Combiner::verify(signed.as_bytes(), NOW + 8 * DAY).unwrap_err();
    assert!(matches!(err, HandoffError::Expired { .. }), "{err}");
    assert!(err.to_string().contains("the local clock says 2027-01-23"), "{err}");
    // A request checked after its combiner expired is older than a recovery lives.
    let err = verify_request(
        w.request_bytes().as_bytes(),
        &Pin::certificate(&w.operator.cert),
        &w.sd,
        &w.policy,
        NOW + 8 * DAY,
    )
    .unwrap_err();
    assert!(matches!(err, HandoffError::RequestTooOld { .. }), "{err}");
    // Not yet valid.
    let err = Combiner::verify(signed.as_bytes(), NOW - 2 * 3600).unwrap_err();
    assert!(matches!(err, HandoffError::NotYetValid { .. }), "{err}");
    // Valid for longer than a week: not a one-time key.
    let long = Party::new("combiner", NOW - 3600, 30);
    let err = Combiner::sign(&long.signer(), NOW).unwrap_err();
    assert!(matches!(err, HandoffError::ValidTooLong { max_days: 7, .. }), "{err}");
    let forged = bundle::sign(
        BundleKind::Combiner,
        &Combiner {
            certificate: long.cert.to_pem(),
            x5t_s256: long.cert.x5t_s256(),
            created: Timestamp::from_unix(NOW),
        },
        &[long.signer()],
    )
    .unwrap();
    assert!(matches!(Combiner::verify(forged.as_bytes(), NOW), Err(HandoffError::ValidTooLong { .. })));
    // A combiner bundle naming a certificate its signer does not hold.
    let forged = bundle::sign(
        BundleKind::Combiner,
        &Combiner {
            certificate: w.combiner.cert.to_pem(),
            x5t_s256: w.combiner.cert.x5t_s256(),
            created: Timestamp::from_unix(NOW),
        },
        &[mallory.signer()],
    )
    .unwrap();
    assert!(matches!(
        Combiner::verify(forged.as_bytes(), NOW),
        Err(HandoffError::NotSignedByNamedKey { .. })
    ));
}

#[test]
fn a_share_bundle_is_bound_to_its_request_custodian_and_position() {
    let w = World::new();
    let request = w.request();
    let bundle = w.share_bundle(&request, 1);
    let open = |b: &str| ShareBundle::open(b.as_bytes(), &request, &w.sd, &w.combiner.key);
    open(&bundle).unwrap();
    // For another request (another nonce): refused.
    let other_request = w.request();
    let err = ShareBundle::open(bundle.as_bytes(), &other_request, &w.sd, &w.combiner.key).unwrap_err();
    assert_eq!(err, HandoffError::OtherRequest);
    // Bob signs a bundle claiming alice's share position: refused.
    let mut p = payload(&bundle);
    p["share_index"] = 0.into();
    let forged = bundle::sign(BundleKind::Share, &p, &[w.custodians[1].signer()]).unwrap();
    assert_eq!(open(&forged).unwrap_err(), HandoffError::ShareNotSignersOwn { share_index: 0 });
    // A stranger's signature: not a custodian of this SD file.
    let mallory = Party::new("mallory", NOW - DAY, 365);
    let mut p = payload(&bundle);
    p["custodian_x5t_s256"] = mallory.cert.x5t_s256().into();
    let forged = bundle::sign(BundleKind::Share, &p, &[mallory.signer()]).unwrap();
    assert!(matches!(open(&forged).unwrap_err(), HandoffError::NotACustodian { .. }));
    // Attack 4b: the share inside has x = 3 although bob's position gives x = 2.
    let wrong_x = rewrite_words(&w.opened(1), |_, y| (3, y)).share;
    assert_eq!(wrong_x.x(), 3);
    let sealed = CompactJwe::encrypt_rsa(
        &mut rng(),
        Enc::A256Gcm,
        &w.combiner.cert.rsa_public_key().unwrap(),
        &request.nonce().encode(),
        wrong_x.to_bytes().expose(),
    )
    .unwrap();
    let mut p = payload(&bundle);
    p["encrypted_share"] = sealed.serialize().into();
    let forged = bundle::sign(BundleKind::Share, &p, &[w.custodians[1].signer()]).unwrap();
    assert_eq!(open(&forged).unwrap_err(), HandoffError::ShareXMismatch { x: 3, share_index: 1 });
    // And seal refuses to make such a bundle in the first place.
    let lying = OpenedShare { index: 1, x5t_256: w.custodians[1].cert.x5t_s256(), share: wrong_x };
    let err =
        ShareBundle::seal(&mut rng(), &target(&w, &request), &w.sd, &lying, &w.custodians[1].signer(), NOW)
            .unwrap_err();
    assert_eq!(err, HandoffError::ShareXMismatch { x: 3, share_index: 1 });
}

/// A share of the right custodian, position and x whose values are wrong: what
/// a dishonest (or broken) custodian hands in.
fn corrupted(share: &OpenedShare) -> OpenedShare {
    rewrite_words(share, |i, y| (0, if i == 2 { (y + 1) % 257 } else { y }))
}

/// The share with each word's (x, y) rewritten by `f(word index, y)` (x = 0
/// keeps the share's x), in Azure's encoding: little-endian u16 `x << 9 | y`.
fn rewrite_words(share: &OpenedShare, f: impl Fn(usize, u16) -> (u16, u16)) -> OpenedShare {
    let bytes = share.share.to_bytes();
    let mut out = Vec::new();
    for (i, pair) in bytes.expose().chunks_exact(2).enumerate() {
        let word = u16::from_le_bytes([pair[0], pair[1]]);
        let (x, y) = f(i, word & 0x1ff);
        let x = if x == 0 { word >> 9 } else { x };
        out.extend_from_slice(&((x << 9) | y).to_le_bytes());
    }
    OpenedShare { share: Share::from_bytes(&out).unwrap(), ..share.clone() }
}

#[test]
fn the_sd_file_judges_which_share_is_bad_whatever_its_position() {
    let w = World::new();
    let good: Vec<OpenedShare> = (0..3).map(|i| w.opened(i)).collect();
    for bad in 0..3 {
        let mut shares = good.clone();
        shares[bad] = corrupted(&good[bad]);
        let r = w.sd.recover(&shares).unwrap();
        assert_eq!(r.disagreeing, vec![bad], "bad share at {bad}");
        assert!(!r.basis.contains(&bad));
        assert_eq!(r.secrets.len(), w.secrets.len());
        assert_eq!(r.secrets[0].data.expose(), w.secrets[0].data.expose());
    }
    // Exactly the quorum, one of them bad: inconsistent, nobody blamed.
    let err = w.sd.recover(&[corrupted(&good[0]), good[1].clone()]).unwrap_err();
    assert_eq!(err, QuorumError::Inconsistent { given: 2, required: 2 });
    assert!(err.to_string().contains("nothing can tell which"), "{err}");
    // Two bad among three: fewer than the quorum are good.
    let err = w.sd.recover(&[corrupted(&good[0]), corrupted(&good[1]), good[2].clone()]).unwrap_err();
    assert!(err.to_string().contains("fewer than 2 of them are good"), "{err}");
    // The same share twice is named by position.
    let err = w.sd.recover(&[good[1].clone(), good[0].clone(), good[1].clone()]).unwrap_err();
    assert_eq!(err, QuorumError::SameShare { first: 0, second: 2, index: 1 });
}

#[test]
fn a_quorum_gathered_one_custodian_at_a_time_refuses_as_it_goes() {
    let w = World::new();
    assert_eq!(Quorum::gather(&w.sd, 1).err(), Some(QuorumError::TooFew { given: 1, required: 2 }));
    let mut q = Quorum::gather(&w.sd, 3).unwrap();
    q.add(w.opened(1)).unwrap();
    q.add(w.opened(0)).unwrap();
    assert_eq!(q.add(w.opened(1)), Err(QuorumError::SameShare { first: 0, second: 2, index: 1 }));
    let r = q.rebuild().unwrap();
    assert_eq!(r.secrets[0].data.expose(), w.secrets[0].data.expose());
}

#[test]
fn a_drill_report_counts_only_when_a_quorum_of_the_sd_custodians_signed_it() {
    let w = World::new();
    let (a, b) = (&w.custodians[0], &w.custodians[2]);
    let report =
        DrillReport::success(&w.sd, &[a.cert.clone(), b.cert.clone()], &w.secrets, NOW, NOW + 5).unwrap();
    let signed = report.sign(&[a.signer(), b.signer()]).unwrap();
    let v = DrillReport::verify(signed.as_bytes(), &w.sd).unwrap();
    assert!(v.succeeded());
    assert_eq!(v.signers().len(), 2);
    assert_eq!(v.report().participants[1].share_index, 2);

    // Attack 3a: a stranger's report, naming two strangers, signed by both.
    let m1 = Party::new("alice", NOW - DAY, 365);
    let m2 = Party::new("bob", NOW - DAY, 365);
    let mut p = serde_json::to_value(&report).unwrap();
    p["participants"][0]["x5t_s256"] = m1.cert.x5t_s256().into();
    p["participants"][1]["x5t_s256"] = m2.cert.x5t_s256().into();
    let forged = bundle::sign(BundleKind::DrillReport, &p, &[m1.signer(), m2.signer()]).unwrap();
    assert!(matches!(DrillReport::verify(forged.as_bytes(), &w.sd), Err(HandoffError::NotACustodian { .. })));
    // Attack 3b: one custodian signs alone, claiming two participants.
    let forged = bundle::sign(BundleKind::DrillReport, &report, &[a.signer()]).unwrap();
    assert_eq!(
        DrillReport::verify(forged.as_bytes(), &w.sd).unwrap_err(),
        HandoffError::TooFewSigners { signers: 1, required: 2 }
    );
    // Signed by a quorum, but listing a custodian who did not sign.
    let mut p = serde_json::to_value(&report).unwrap();
    p["participants"][1]["x5t_s256"] = w.custodians[1].cert.x5t_s256().into();
    p["participants"][1]["share_index"] = 1.into();
    let forged = bundle::sign(BundleKind::DrillReport, &p, &[a.signer(), b.signer()]).unwrap();
    assert_eq!(
        DrillReport::verify(forged.as_bytes(), &w.sd).unwrap_err(),
        HandoffError::ParticipantsNotSigners
    );
    // About another SD file.
    let mut p = serde_json::to_value(&report).unwrap();
    p["sd_sha256"] = "00".repeat(32).into();
    let forged = bundle::sign(BundleKind::DrillReport, &p, &[a.signer(), b.signer()]).unwrap();
    assert!(matches!(DrillReport::verify(forged.as_bytes(), &w.sd), Err(HandoffError::OtherSdFile { .. })));
    // The constructor refuses signers other than the participants.
    assert_eq!(
        report.sign(&[a.signer(), w.custodians[1].signer()]).unwrap_err(),
        HandoffError::ParticipantsNotSigners
    );
}

#[test]
fn an_activation_record_matches_the_sd_file_and_the_pinned_operator() {
    let w = World::new();
    let pin = Pin::certificate(&w.operator.cert);
    let certs: Vec<Certificate> = w.custodians.iter().map(|p| p.cert.clone()).collect();
    let sd_file = w.sd.to_json().unwrap();
    // The SD file is accepted only as the answer to what was sent.
    let sent = DownloadRequest::new(&certs, 2).unwrap();
    let activated = sent.accept(sd_file.as_bytes()).unwrap();
    let reordered = [certs[1].clone(), certs[0].clone(), certs[2].clone()];
    for other in [DownloadRequest::new(&certs, 3).unwrap(), DownloadRequest::new(&reordered, 2).unwrap()] {
        assert_eq!(other.accept(sd_file.as_bytes()).unwrap_err(), sd_core::Error::NotWhatWasSent);
    }
    let signed =
        ActivationRecord::sign("https://prod.managedhsm.azure.net", &activated, &w.operator.signer(), NOW)
            .unwrap();
    let v = ActivationRecord::verify(signed.as_bytes(), &pin, &w.sd).unwrap();
    assert_eq!(v.hsm(), "https://prod.managedhsm.azure.net");
    // A record claiming another quorum, signed by the operator, is still refused.
    let mut p = payload(&signed);
    p["quorum"] = 3.into();
    let forged = bundle::sign(BundleKind::ActivationRecord, &p, &[w.operator.signer()]).unwrap();
    assert_eq!(
        ActivationRecord::verify(forged.as_bytes(), &pin, &w.sd).unwrap_err(),
        HandoffError::DisagreesWithSd { what: "quorum" }
    );
    // Signed by someone else.
    let other = Party::new("operator", NOW - DAY, 365);
    let forged = bundle::sign(BundleKind::ActivationRecord, &payload(&signed), &[other.signer()]).unwrap();
    assert!(matches!(
        ActivationRecord::verify(forged.as_bytes(), &pin, &w.sd),
        Err(HandoffError::NotPinned { .. })
    ));
}

#[test]
fn a_request_for_another_hsm_is_refused_however_well_attested() {
    // N1: the online machine holds the operator key; it signs a request for a
    // genuine HSM of its own ("hsm-evil"), whose evidence chains to the same
    // root. The custodians pinned "target" from the ceremony plan.
    let w = World::new();
    let pin = Pin::certificate(&w.operator.cert);
    let evil_cert = attested_exchange(&w.platform, "hsm-evil");
    let evil = w.policy.verify(ExchangeKeySource::Certificate(&evil_cert), "hsm-evil", NOW).unwrap();
    let signed = RecoveryRequest::sign(
        &mut rng(),
        "https://hsm-evil.managedhsm.azure.net",
        &evil,
        &w.combiner(),
        &w.sd,
        &w.operator.signer(),
        NOW,
    )
    .unwrap();
    let err = verify_request(signed.as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
    assert_eq!(err, HandoffError::OtherHsm { named: "hsm-evil".into(), pinned: "target".into() });
    assert!(err.to_string().contains("not the HSM \"target\" you are recovering into"), "{err}");
    // Forged the other way round: the request says "target", its key is attested for hsm-evil.
    let mut p = payload(&signed);
    p["hsm_name"] = "target".into();
    let forged = bundle::sign(BundleKind::RecoveryRequest, &p, &[w.operator.signer()]).unwrap();
    let err = verify_request(forged.as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
    assert!(err.to_string().contains("\"certificate names the HSM\""), "{err}");
    // The name is compared as DNS compares it.
    let upper: HsmName = "TARGET".parse().unwrap();
    let ok = RecoveryRequest::verify(
        w.request_bytes().as_bytes(),
        RequestPins { operator: &pin, hsm: &upper },
        &w.sd,
        &w.policy,
        NOW,
    );
    assert!(ok.is_ok());
}

#[test]
fn shares_go_only_to_the_combiner_the_custodian_pinned() {
    // N2: the operator key names the attacker's own combiner in the request.
    let w = World::new();
    let mallory = Party::new("combiner", NOW - 3600, 7);
    let mallory_combiner =
        Combiner::verify(Combiner::sign(&mallory.signer(), NOW).unwrap().as_bytes(), NOW).unwrap();
    let signed = RecoveryRequest::sign(
        &mut rng(),
        "https://target.managedhsm.azure.net",
        &w.exchange,
        &mallory_combiner,
        &w.sd,
        &w.operator.signer(),
        NOW,
    )
    .unwrap();
    let request =
        verify_request(signed.as_bytes(), &Pin::certificate(&w.operator.cert), &w.sd, &w.policy, NOW)
            .unwrap();
    // The custodian read the real combiner's fingerprint from the combiner laptop.
    let read_aloud = cert::readable_fingerprint(&w.combiner.cert.sha256());
    let err = request.clone().pin_combiner(&Pin::from_fingerprint(&read_aloud).unwrap()).unwrap_err();
    assert_eq!(
        err,
        HandoffError::CombinerNotPinned {
            named: cert::readable_fingerprint(&mallory.cert.sha256()),
            pinned: read_aloud.clone()
        }
    );
    // The honest request passes the same pin.
    assert!(w.request().pin_combiner(&Pin::from_fingerprint(&read_aloud).unwrap()).is_ok());
}

#[test]
fn a_request_is_fresh_one_time_and_not_from_the_future() {
    let w = World::new();
    let pin = Pin::certificate(&w.operator.cert);
    let dated = |created: u64| {
        let mut p = payload(&w.request_bytes());
        p["created"] = created.into();
        bundle::sign(BundleKind::RecoveryRequest, &p, &[w.operator.signer()]).unwrap()
    };
    // N8: a request from 2001, and one dated ten minutes ahead.
    let err = verify_request(dated(978_307_200).as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
    assert!(matches!(err, HandoffError::RequestTooOld { max_days: 7, .. }), "{err}");
    assert!(err.to_string().contains("2001-01-01T00:00:00Z"), "{err}");
    let err = verify_request(dated(NOW + 600).as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
    assert!(matches!(err, HandoffError::RequestInFuture { .. }), "{err}");
    // Within the bounds: four minutes ahead (clock drift), six days old.
    assert!(verify_request(dated(NOW + 240).as_bytes(), &pin, &w.sd, &w.policy, NOW).is_ok());
    assert!(verify_request(dated(NOW - 6 * DAY).as_bytes(), &pin, &w.sd, &w.policy, NOW).is_ok());
    // The two-time form whose halves disagree is not a request at all.
    let mut p = payload(&w.request_bytes());
    p["created"] = serde_json::json!({"unix": NOW, "utc": "2001-01-01T00:00:00Z"});
    let forged = bundle::sign(BundleKind::RecoveryRequest, &p, &[w.operator.signer()]).unwrap();
    let err = verify_request(forged.as_bytes(), &pin, &w.sd, &w.policy, NOW).unwrap_err();
    assert!(err.to_string().contains("disagree"), "{err}");
}

#[test]
fn an_operator_hands_over_only_while_valid_and_only_to_a_key_it_names() {
    use sd_core::handoff::operator_handover::{OperatorHandover, check_operator_can_sign};
    let w = World::new();
    let pin = Pin::certificate(&w.operator.cert);
    let next = Party::new("operator", NOW - 3600, 3650);
    let signed = OperatorHandover::sign(&w.operator.signer(), &next.signer(), NOW).unwrap();
    let v = OperatorHandover::verify(signed.as_bytes(), &pin, NOW + 400 * DAY).unwrap();
    assert_eq!((v.old(), v.new_operator()), (&w.operator.cert, &next.cert));
    // Pinned by someone else's certificate: refused, with both fingerprints.
    let err = OperatorHandover::verify(signed.as_bytes(), &Pin::certificate(&next.cert), NOW).unwrap_err();
    assert!(matches!(err, HandoffError::NotPinned { .. }), "{err}");
    // The new key must have signed too: a handover to a key nobody holds is no handover.
    let mallory = Party::new("operator", NOW - 3600, 3650);
    let mut p = payload(&signed);
    p["new_certificate"] = mallory.cert.to_pem().into();
    p["new_x5t_s256"] = mallory.cert.x5t_s256().into();
    let forged =
        bundle::sign(BundleKind::OperatorHandover, &p, &[w.operator.signer(), next.signer()]).unwrap();
    let err = OperatorHandover::verify(forged.as_bytes(), &pin, NOW).unwrap_err();
    assert_eq!(err, HandoffError::NotSignedByNamedKey { role: sd_core::handoff::CertRole::Operator });
    // Signed after the old certificate ended (the old key leaked later): refused.
    let expiring = Party::new("operator", NOW - 400 * DAY, 365);
    let late = bundle::sign(
        BundleKind::OperatorHandover,
        &serde_json::json!({
            "old_x5t_s256": expiring.cert.x5t_s256(),
            "new_certificate": next.cert.to_pem(),
            "new_x5t_s256": next.cert.x5t_s256(),
            "created": NOW,
        }),
        &[expiring.signer(), next.signer()],
    )
    .unwrap();
    let err = OperatorHandover::verify(late.as_bytes(), &Pin::certificate(&expiring.cert), NOW).unwrap_err();
    assert!(matches!(err, HandoffError::HandedOverOutsideValidity { .. }), "{err}");
    assert!(err.to_string().contains("an expired operator cannot name a successor"), "{err}");
    assert!(matches!(
        OperatorHandover::sign(&expiring.signer(), &next.signer(), NOW),
        Err(HandoffError::Expired { .. })
    ));
    assert_eq!(
        OperatorHandover::sign(&next.signer(), &next.signer(), NOW).unwrap_err(),
        HandoffError::HandoverToItself
    );
    // Signing needs 30 days left: 31 pass, 29 do not.
    let cert = &w.operator.cert;
    assert!(check_operator_can_sign(cert, cert.not_after_unix() - 31 * DAY).is_ok());
    let err = check_operator_can_sign(cert, cert.not_after_unix() - 29 * DAY).unwrap_err();
    assert_eq!(err, HandoffError::RenewOperator { not_after: cert.not_after_unix(), days_left: 29 });
}
