//! Verifying an exchange key's attestation, offline, check by check.

use der::Encode;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use super::chain::{cert_signed_by, ec_key, parse_pem_chain, validity};
use super::evidence::{self, Evidence, ReportBody};
use super::pins::Pins;
use super::platform::Platform;
use super::{AttestationFailure, AttestationReport, Check, ExchangeKeySource, Identity, JudgedCertificate};
use crate::hsm_name::HSM_DNS_SUFFIX;
use crate::pki::cert::Certificate;
use crate::primitives::hex::hex_lower;

/// The smallest exchange key accepted, in bits.
pub const MIN_EXCHANGE_BITS: usize = 3072;

/// A running list of checks that stops at the first failure.
pub(super) struct Checks {
    pub(super) report: Box<AttestationReport>,
}

impl Checks {
    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.report.checks.push(Check { name, passed: true, detail: detail.into() });
    }
    fn fail(mut self, name: &'static str, detail: impl Into<String>) -> AttestationFailure {
        self.report.checks.push(Check { name, passed: false, detail: detail.into() });
        AttestationFailure { report: self.report }
    }
    fn check(
        &mut self,
        name: &'static str,
        ok: bool,
        pass: impl Into<String>,
        fail: impl Into<String>,
    ) -> Result<(), ()> {
        if ok {
            self.pass(name, pass);
            Ok(())
        } else {
            self.report.checks.push(Check { name, passed: false, detail: fail.into() });
            Err(())
        }
    }
}

/// Runs every check in order; stops at the first that fails.
pub(super) fn run(
    source: &ExchangeKeySource<'_>,
    hsm: &str,
    pins: &Pins,
    at: u64,
) -> Result<(Certificate, Evidence, Box<AttestationReport>), AttestationFailure> {
    let mut c = Checks { report: Box::default() };
    macro_rules! require {
        ($e:expr) => {
            if $e.is_err() {
                return Err(AttestationFailure { report: c.report });
            }
        };
    }
    // 1. The response (or the certificate given directly).
    let cert = match source {
        ExchangeKeySource::Response(body) => match crate::azure::transfer_key::parse_response_strict(body) {
            Ok(cert) => {
                c.pass(
                    "transfer-key response",
                    "key_format jwk, one x5c, JWK key and thumbprints equal the certificate's",
                );
                cert
            }
            Err(e) => return Err(c.fail("transfer-key response", e.to_string())),
        },
        ExchangeKeySource::Certificate(cert) => {
            c.pass("transfer-key response", "not given: the exchange certificate alone was checked");
            (*cert).clone()
        }
    };
    c.report.certificate = Some(JudgedCertificate::of(&cert));

    // 2. The certificate.
    let expected_cn = format!("{hsm}{HSM_DNS_SUFFIX}");
    require!(certificate_checks(&mut c, &cert, &expected_cn, at));

    // 3. Exactly one evidence extension.
    let ext_oid = const_oid::ObjectIdentifier::new_unwrap(evidence::EVIDENCE_OID);
    let found: Vec<&[u8]> = cert
        .x509()
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == ext_oid)
        .map(|e| e.extn_value.as_bytes())
        .collect();
    let raw = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(c.fail(
                "evidence extension",
                format!("the certificate carries no attestation evidence ({})", evidence::EVIDENCE_OID),
            ));
        }
        many => {
            return Err(c.fail(
                "evidence extension",
                format!("{} evidence extensions; exactly one is allowed", many.len()),
            ));
        }
    };
    c.pass("evidence extension", format!("one {} extension, {} bytes", evidence::EVIDENCE_OID, raw.len()));

    // 4. Decode it.
    let ev = match evidence::parse(raw) {
        Ok(ev) => ev,
        Err(e) => return Err(c.fail("evidence format", e.to_string())),
    };
    c.pass(
        "evidence format",
        format!("Open Enclave SGX quote v3, QE SVN {}, PCE SVN {}", ev.qe_svn, ev.pce_svn),
    );

    // 5. The PCK chain up to the pinned root.
    let pck = match pck_chain(&mut c, &ev.pck_chain_pem, pins, at) {
        Ok(k) => k,
        Err(()) => return Err(AttestationFailure { report: c.report }),
    };
    c.report.platform = pck.platform.clone();

    // 6. The QE report, signed by the PCK key.
    require!(c.check(
        "QE report signature",
        ecdsa_ok(&pck.key, &ev.qe.raw, &ev.qe_signature),
        "the Quoting Enclave's report is signed by the PCK key",
        "the Quoting Enclave's report is not signed by the PCK key",
    ));
    // 7. The QE binds the attestation key.
    let mut h = Sha256::new();
    h.update(ev.attestation_key);
    h.update(&ev.qe_auth_data);
    let bound = binds(&ev.qe.report_data, &h.finalize().into());
    require!(c.check(
        "QE binds the attestation key",
        bound,
        "QE report_data = SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes",
        "the QE report does not bind the attestation key",
    ));
    // 8. The QE is Intel's.
    c.report.qe = Some(Identity::of(&ev.qe));
    require!(identity_check(&mut c, "QE identity", &ev.qe, &pins.qe));
    // 9. The enclave's quote, signed by the attestation key.
    let att_key = match VerifyingKey::from_sec1_bytes(&[&[0x04][..], &ev.attestation_key[..]].concat()) {
        Ok(k) => k,
        Err(_) => return Err(c.fail("quote signature", "the attestation key is not a P-256 point")),
    };
    require!(c.check(
        "quote signature",
        ecdsa_ok(&att_key, &ev.signed_quote, &ev.enclave_signature),
        "the enclave's quote is signed by the attestation key",
        "the enclave's quote signature does not verify: the report was altered",
    ));
    // 10. The enclave is the pinned HSM enclave, not in debug mode.
    c.report.enclave = Some(Identity::of(&ev.enclave));
    require!(identity_check(&mut c, "enclave identity", &ev.enclave, &pins.enclave));
    // 11. The enclave vouches for this very key.
    let spki = cert.x509().tbs_certificate().subject_public_key_info().to_der().unwrap_or_default();
    let key_hash: [u8; 32] = Sha256::digest(&spki).into();
    require!(c.check(
        "key binding",
        binds(&ev.enclave.report_data, &key_hash),
        "enclave report_data = SHA-256(the certificate's SubjectPublicKeyInfo) ‖ 32 zero bytes",
        "the enclave's report_data does not bind this certificate's key: the evidence belongs to another key",
    ));
    let report = c.report;
    Ok((cert, ev, report))
}

/// The checks for a key accepted without attestation: its `x5t#S256` is
/// the one a person confirmed out of band, and the certificate passes every
/// check that is not about SGX (self-signed, RSA-3072 or more, CA:FALSE,
/// keyEncipherment, naming the HSM, valid at `at`). Only the evidence is waived.
pub(super) fn run_unattested(
    cert: &Certificate,
    hsm: &str,
    confirmed_x5t_s256: &str,
    at: u64,
) -> Result<Box<AttestationReport>, AttestationFailure> {
    let mut c = Checks { report: Box::default() };
    c.report.certificate = Some(JudgedCertificate::of(cert));
    let confirmed = confirmed_x5t_s256.trim();
    if cert.x5t_s256() != confirmed {
        return Err(c.fail(
            "confirmed fingerprint",
            format!("the exchange key's x5t#S256 is {}, not the confirmed {confirmed}", cert.x5t_s256()),
        ));
    }
    c.pass("confirmed fingerprint", "x5t#S256 equals the one confirmed out of band");
    if certificate_checks(&mut c, cert, &format!("{hsm}{HSM_DNS_SUFFIX}"), at).is_err() {
        return Err(AttestationFailure { report: c.report });
    }
    c.pass("evidence waived", "NOT attested: accepted by its confirmed fingerprint only");
    Ok(c.report)
}

/// `report_data` = `hash` ‖ 32 zero bytes.
fn binds(report_data: &[u8; 64], hash: &[u8; 32]) -> bool {
    report_data[..32] == hash[..] && report_data[32..].iter().all(|&b| b == 0)
}

fn ecdsa_ok(key: &VerifyingKey, msg: &[u8], rs: &[u8; 64]) -> bool {
    // Intel's and Azure's signatures are often high-S: p256 accepts them (it
    // does not normalise S), which is what a verifier of SGX quotes must do.
    Signature::from_slice(rs).is_ok_and(|sig| key.verify(msg, &sig).is_ok())
}

fn certificate_checks(c: &mut Checks, cert: &Certificate, expected_cn: &str, at: u64) -> Result<(), ()> {
    let tbs = cert.x509().tbs_certificate();
    let self_signed = cert.require_self_signed().is_ok();
    c.check(
        "certificate self-signature",
        self_signed,
        "self-issued, and its self-signature verifies",
        "the exchange certificate is not self-issued",
    )?;
    let bits = cert.rsa_public_key().map(|k| k.size() * 8).unwrap_or(0);
    c.check(
        "certificate key",
        bits >= MIN_EXCHANGE_BITS,
        format!("RSA-{bits}"),
        format!(
            "the key is {}; at least RSA-{MIN_EXCHANGE_BITS} is required",
            if bits == 0 { "not RSA".to_owned() } else { format!("RSA-{bits}") }
        ),
    )?;
    let ca = tbs.get_extension::<BasicConstraints>().ok().flatten().map(|(_, bc)| bc.ca);
    c.check(
        "certificate CA:FALSE",
        ca == Some(false),
        "basicConstraints CA:FALSE",
        "the certificate is not marked CA:FALSE",
    )?;
    let ku = tbs.get_extension::<KeyUsage>().ok().flatten().map(|(_, ku)| ku.0);
    c.check(
        "certificate keyEncipherment",
        ku.is_some_and(|k| k.contains(KeyUsages::KeyEncipherment)),
        "keyUsage keyEncipherment",
        "the certificate's keyUsage does not allow keyEncipherment",
    )?;
    let subject = cert.subject();
    c.check(
        "certificate names the HSM",
        subject == format!("CN={expected_cn}"),
        format!("CN={expected_cn}"),
        format!("the certificate is for {subject}, not CN={expected_cn}"),
    )?;
    let (nb, na) = (cert.not_before_unix(), cert.not_after_unix());
    let when = crate::time::rfc3339;
    c.check(
        "certificate validity",
        nb <= at && at <= na,
        format!("{} to {}, checked at {}", when(nb), when(na), when(at)),
        format!(
            "valid {} to {}, but the check time is {}; if the local clock is wrong, set it (or give --at)",
            when(nb),
            when(na),
            when(at)
        ),
    )
}

/// The PCK leaf's key and the platform it describes.
struct Pck {
    key: VerifyingKey,
    /// `None` when the PCK certificate carries no (readable) SGX extension.
    platform: Option<Platform>,
}

fn pck_chain(c: &mut Checks, pem: &str, pins: &Pins, at: u64) -> Result<Pck, ()> {
    let name = "PCK certificate chain";
    let certs = match parse_pem_chain(pem) {
        Ok(v) if v.len() == 3 => v,
        Ok(v) => {
            return c
                .check(name, false, "", format!("{} certificates; expected PCK, CA and root", v.len()))
                .and(Err(()));
        }
        Err(e) => return c.check(name, false, "", e).and(Err(())),
    };
    let (leaf, ca, root) = (&certs[0], &certs[1], &certs[2]);
    let keys: Result<Vec<VerifyingKey>, String> = certs.iter().map(ec_key).collect();
    let keys = match keys {
        Ok(k) => k,
        Err(e) => return c.check(name, false, "", e).and(Err(())),
    };
    let chained = cert_signed_by(leaf, &keys[1])
        && cert_signed_by(ca, &keys[2])
        && cert_signed_by(root, &keys[2])
        && leaf.tbs_certificate().issuer() == ca.tbs_certificate().subject()
        && ca.tbs_certificate().issuer() == root.tbs_certificate().subject();
    let in_time = certs.iter().all(|x| {
        let (nb, na) = validity(x);
        nb <= at && at <= na
    });
    c.check(
        name,
        chained && in_time,
        format!(
            "{} ← {} ← {}",
            leaf.tbs_certificate().subject(),
            ca.tbs_certificate().subject(),
            root.tbs_certificate().subject()
        ),
        if chained {
            "a certificate of the PCK chain is outside its validity at the check time".to_owned()
        } else {
            "the PCK chain's signatures do not verify".to_owned()
        },
    )?;
    let spki = root.tbs_certificate().subject_public_key_info().to_der().unwrap_or_default();
    let root_hash: [u8; 32] = Sha256::digest(&spki).into();
    c.check(
        "attestation root pin",
        root_hash == pins.root_spki_sha256,
        format!(
            "root key SHA-256 {} ({})",
            hex_lower(&root_hash),
            if pins.root_is_intel {
                "Intel SGX Root CA"
            } else {
                "NOT Intel's root: a root given with --attestation-root"
            }
        ),
        format!(
            "the chain ends at a root whose key SHA-256 is {}, not the pinned {}",
            hex_lower(&root_hash),
            hex_lower(&pins.root_spki_sha256)
        ),
    )?;
    let platform = Platform::from_pck(leaf);
    Ok(Pck { key: keys[0], platform })
}

fn identity_check(
    c: &mut Checks,
    name: &'static str,
    body: &ReportBody,
    pin: &super::pins::IdentityPin,
) -> Result<(), ()> {
    let problems: Vec<String> = [
        body.is_debug().then(|| "it runs in DEBUG mode".to_owned()),
        (body.mr_signer != pin.mr_signer).then(|| {
            format!("MRSIGNER {} is not the pinned {}", hex_lower(&body.mr_signer), hex_lower(&pin.mr_signer))
        }),
        (body.isv_prod_id != pin.prod_id)
            .then(|| format!("product ID {} is not the pinned {}", body.isv_prod_id, pin.prod_id)),
        (body.isv_svn < pin.min_svn).then(|| {
            format!("security version {} is below the pinned minimum {}", body.isv_svn, pin.min_svn)
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    c.check(
        name,
        problems.is_empty(),
        format!(
            "MRSIGNER {}, product {}, SVN {} (minimum {}), not debug",
            hex_lower(&body.mr_signer),
            body.isv_prod_id,
            body.isv_svn,
            pin.min_svn
        ),
        problems.join("; "),
    )
}
