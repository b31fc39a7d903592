//! A simulated SGX platform: a test root, a PCK CA and a PCK key, a Quoting
//! Enclave and an attestation key, producing evidence in exactly the format a
//! real Managed HSM puts into its exchange certificate. The emulator attests
//! its exchange keys with it, so drills run the same verifier as real
//! recoveries; the tests make negative evidence with it.
//!
//! Evidence from here never passes the default pins: its chain ends at the
//! test root, which a verifier accepts only when told to, explicitly.

use std::str::FromStr;
use std::time::Duration;

use der::asn1::OctetString;
use der::{Decode, Encode, EncodePem, pem::LineEnding};
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::evidence::{self, EvidenceParts};
use super::pins::Pins;
use crate::Error;

/// Who the simulated HSM enclave claims to be.
#[derive(Debug, Clone)]
pub struct EnclaveClaims {
    /// MRENCLAVE.
    pub mr_enclave: [u8; 32],
    /// MRSIGNER.
    pub mr_signer: [u8; 32],
    /// ISVPRODID.
    pub prod_id: u16,
    /// ISVSVN.
    pub svn: u16,
    /// Run in DEBUG mode.
    pub debug: bool,
}

impl Default for EnclaveClaims {
    /// The Managed HSM enclave's signer, product and version (a made-up measurement).
    fn default() -> Self {
        let pins = Pins::default();
        EnclaveClaims {
            mr_enclave: Sha256::digest(b"hsm-ceremony emulated Managed HSM enclave").into(),
            mr_signer: pins.enclave.mr_signer,
            prod_id: pins.enclave.prod_id,
            svn: pins.enclave.min_svn,
            debug: false,
        }
    }
}

/// A test root and everything below it.
pub struct SimulatedPlatform {
    root: (SigningKey, Vec<u8>),
    ca: (SigningKey, Vec<u8>),
    pck: (SigningKey, Vec<u8>),
    attestation: SigningKey,
}

fn cert_err(e: impl std::fmt::Display) -> Error {
    Error::Certificate(e.to_string())
}

fn new_key<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<SigningKey, Error> {
    loop {
        let mut b = [0u8; 32];
        rng.try_fill_bytes(&mut b).map_err(|_| Error::Rng)?;
        if let Ok(k) = SigningKey::from_slice(&b) {
            return Ok(k);
        }
    }
}

/// CA or leaf, issued by `issuer`.
struct Profile {
    subject: Name,
    issuer: Name,
    ca: bool,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut exts: Vec<Extension> = Vec::new();
        exts.push(
            BasicConstraints { ca: self.ca, path_len_constraint: None }.to_extension(tbs.subject(), &exts)?,
        );
        let usage = if self.ca {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature.into()
        };
        exts.push(KeyUsage(usage).to_extension(tbs.subject(), &exts)?);
        exts.push(SubjectKeyIdentifier::try_from(spk)?.to_extension(tbs.subject(), &exts)?);
        Ok(exts)
    }
}

fn issue<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    subject: &str,
    issuer: &str,
    ca: bool,
    (key, issuer_key): (&SigningKey, &SigningKey),
    (not_before, days): (u64, u32),
) -> Result<Vec<u8>, Error> {
    let name = |cn: &str| Name::from_str(&format!("CN={cn},O=hsm-ceremony test platform")).map_err(cert_err);
    let time = |secs: u64| {
        der::DateTime::from_unix_duration(Duration::from_secs(secs)).map(Time::from).map_err(cert_err)
    };
    let validity = Validity::new(time(not_before)?, time(not_before + u64::from(days) * 86_400)?);
    let mut serial = [0u8; 16];
    rng.try_fill_bytes(&mut serial).map_err(|_| Error::Rng)?;
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let spki = spki::SubjectPublicKeyInfoOwned::from_key(key.verifying_key()).map_err(cert_err)?;
    let profile = Profile { subject: name(subject)?, issuer: name(issuer)?, ca };
    let builder =
        CertificateBuilder::new(profile, SerialNumber::new(&serial).map_err(cert_err)?, validity, spki)
            .map_err(cert_err)?;
    let cert = builder.build::<_, DerSignature>(issuer_key).map_err(cert_err)?;
    cert.to_der().map_err(cert_err)
}

fn pem(der: &[u8]) -> Result<String, Error> {
    x509_cert::Certificate::from_der(der).and_then(|c| c.to_pem(LineEnding::LF)).map_err(cert_err)
}

impl SimulatedPlatform {
    /// A new test root (CN `root_name`), PCK CA, PCK key and attestation key,
    /// valid from `not_before` for `days`.
    pub fn generate<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        root_name: &str,
        not_before: u64,
        days: u32,
    ) -> Result<SimulatedPlatform, Error> {
        let (root_key, ca_key, pck_key) = (new_key(rng)?, new_key(rng)?, new_key(rng)?);
        let when = (not_before, days);
        let root = issue(rng, root_name, root_name, true, (&root_key, &root_key), when)?;
        let ca_name = "Test SGX PCK Platform CA";
        let ca = issue(rng, ca_name, root_name, true, (&ca_key, &root_key), when)?;
        let pck = issue(rng, "Test SGX PCK Certificate", ca_name, false, (&pck_key, &ca_key), when)?;
        Ok(SimulatedPlatform {
            root: (root_key, root),
            ca: (ca_key, ca),
            pck: (pck_key, pck),
            attestation: new_key(rng)?,
        })
    }

    /// The root certificate, PEM: what `--attestation-root` takes.
    pub fn root_pem(&self) -> Result<String, Error> {
        pem(&self.root.1)
    }

    /// Evidence binding `spki_der` (a certificate's SubjectPublicKeyInfo), as
    /// Azure's HSM enclave makes it, from an enclave claiming `claims`.
    pub fn evidence(&self, spki_der: &[u8], claims: &EnclaveClaims) -> Result<Vec<u8>, Error> {
        let pins = Pins::default();
        let mut report_data = [0u8; 64];
        report_data[..32].copy_from_slice(&Sha256::digest(spki_der));
        let flags = if claims.debug { 0x5 | evidence::ATTRIBUTE_DEBUG } else { 0x5 };
        let enclave = evidence::report_body(
            &claims.mr_enclave,
            &claims.mr_signer,
            claims.prod_id,
            claims.svn,
            flags,
            &report_data,
        );
        let att_point = self.attestation.verifying_key().to_sec1_point(false);
        let mut attestation_key = [0u8; 64];
        attestation_key.copy_from_slice(&att_point.as_bytes()[1..]);
        let qe_auth_data: Vec<u8> = (0u8..32).collect();
        let mut qe_data = [0u8; 64];
        let mut h = Sha256::new();
        h.update(attestation_key);
        h.update(&qe_auth_data);
        qe_data[..32].copy_from_slice(&h.finalize());
        let qe_mr_enclave: [u8; 32] = Sha256::digest(b"hsm-ceremony test quoting enclave").into();
        let qe = evidence::report_body(
            &qe_mr_enclave,
            &pins.qe.mr_signer,
            pins.qe.prod_id,
            pins.qe.min_svn,
            0x5,
            &qe_data,
        );
        let sign = |key: &SigningKey, msg: &[u8]| -> [u8; 64] {
            use p256::ecdsa::signature::Signer;
            let sig: Signature = key.sign(msg);
            let mut out = [0u8; 64];
            out.copy_from_slice(&sig.to_bytes());
            out
        };
        let chain = format!("{}{}{}", pem(&self.pck.1)?, pem(&self.ca.1)?, pem(&self.root.1)?);
        let sign_quote = |q: &[u8]| sign(&self.attestation, q);
        Ok(evidence::encode(&EvidenceParts {
            qe_svn: pins.qe.min_svn,
            pce_svn: 13,
            enclave: &enclave,
            sign_quote: &sign_quote,
            attestation_key,
            qe: &qe,
            qe_signature: sign(&self.pck.0, &qe),
            qe_auth_data: &qe_auth_data,
            pck_chain_pem: &chain,
        }))
    }

    /// The platform's keys and certificates as one PEM document (private: the
    /// emulator keeps it with mode 0600), so it survives restarts.
    pub fn to_pem(&self) -> Result<String, Error> {
        use p256::pkcs8::EncodePrivateKey;
        let mut out = String::new();
        for (key, cert) in [&self.root, &self.ca, &self.pck] {
            out.push_str(&key.to_pkcs8_pem(LineEnding::LF).map_err(cert_err)?);
            out.push_str(&pem(cert)?);
        }
        out.push_str(&self.attestation.to_pkcs8_pem(LineEnding::LF).map_err(cert_err)?);
        Ok(out)
    }

    /// Reads what [`SimulatedPlatform::to_pem`] wrote.
    pub fn from_pem(text: &str) -> Result<SimulatedPlatform, Error> {
        use p256::pkcs8::DecodePrivateKey;
        let blocks = pem_blocks(text);
        let key = |i: usize| -> Result<SigningKey, Error> {
            let b = blocks.get(i).ok_or_else(|| cert_err("the platform file is incomplete"))?;
            SigningKey::from_pkcs8_pem(b).map_err(cert_err)
        };
        let cert = |i: usize| -> Result<Vec<u8>, Error> {
            let b = blocks.get(i).ok_or_else(|| cert_err("the platform file is incomplete"))?;
            let chain = super::verify::parse_pem_chain(b).map_err(cert_err)?;
            chain.first().ok_or_else(|| cert_err("no certificate"))?.to_der().map_err(cert_err)
        };
        Ok(SimulatedPlatform {
            root: (key(0)?, cert(1)?),
            ca: (key(2)?, cert(3)?),
            pck: (key(4)?, cert(5)?),
            attestation: key(6)?,
        })
    }
}

/// The PEM blocks of a text, each with its BEGIN and END lines.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(c) = current.as_mut() {
            c.push_str(line);
            c.push('\n');
        }
        if line.starts_with("-----END ") {
            out.extend(current.take());
        }
    }
    out
}

/// Puts `evidence` into a certificate the way Azure does: the extension
/// value's OCTET STRING holds the evidence bytes.
pub fn evidence_extension(evidence: &[u8]) -> Result<Extension, Error> {
    Ok(Extension {
        extn_id: const_oid::ObjectIdentifier::new_unwrap(evidence::EVIDENCE_OID),
        critical: false,
        extn_value: OctetString::new(evidence.to_vec()).map_err(cert_err)?,
    })
}
