//! A simulated SGX platform: a test root, a PCK CA and a PCK key, a Quoting
//! Enclave and an attestation key, producing evidence in exactly the format a
//! real Managed HSM puts into its exchange certificate. The emulator attests
//! its exchange keys with it, so drills run the same verifier as real
//! recoveries; the tests make negative evidence with it.
//!
//! Evidence from here never passes the default pins: its chain ends at the
//! test root, which a verifier accepts only when told to, explicitly.
//!
//! It is a crate of its own so that what forges evidence is never compiled
//! into the offline tool: only the emulator and the tests depend on it, and
//! `deny-offline.toml` bans it from keyholder's tree.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::str::FromStr;

use der::asn1::OctetString;
use der::{Decode, Encode, EncodePem, pem::LineEnding};
use p256::ecdsa::{DerSignature, Signature, SigningKey};
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::name::Name;

use sd_core::Error;
use sd_core::attestation::collateral::Collateral;
use sd_core::attestation::evidence::{self, EvidenceParts};
use sd_core::attestation::pins::Pins;
use sd_core::pki::cert;
use sd_core::pki::certificate_error::CertificateError;

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

/// The platform the simulated PCK certificate describes (the FMSPC of the
/// real 2025 Azure vector's platform, at its TCB level).
pub const SIMULATED_FMSPC: &str = "00606a000000";
/// Its TCB component SVNs.
pub const SIMULATED_TCB: [u8; 16] = [11, 11, 3, 3, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
/// Its PCE SVN.
pub const SIMULATED_PCE_SVN: u16 = 13;

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn oid_der(dotted: &str) -> Result<Vec<u8>, Error> {
    let oid = const_oid::ObjectIdentifier::new(dotted).map_err(cert_err)?;
    oid.to_der().map_err(cert_err)
}

fn int_der(v: u16) -> Result<Vec<u8>, Error> {
    u32::from(v).to_der().map_err(cert_err)
}

/// Intel's SGX extension (OID 1.2.840.113741.1.13.1) for the simulated PCK:
/// TCB level, PCE ID and FMSPC, as Intel's PCK certificates carry them.
fn sgx_extension() -> Result<Extension, Error> {
    const BASE: &str = "1.2.840.113741.1.13.1";
    let entry = |oid: &str, value: Vec<u8>| -> Result<Vec<u8>, Error> {
        Ok(tlv(0x30, &[oid_der(oid)?, value].concat()))
    };
    let mut tcb = Vec::new();
    for (i, svn) in SIMULATED_TCB.iter().enumerate() {
        tcb.extend(entry(&format!("{BASE}.2.{}", i + 1), int_der(u16::from(*svn))?)?);
    }
    tcb.extend(entry(&format!("{BASE}.2.17"), int_der(SIMULATED_PCE_SVN)?)?);
    tcb.extend(entry(&format!("{BASE}.2.18"), tlv(0x04, &SIMULATED_TCB))?);
    let fmspc: Vec<u8> =
        (0..6).map(|i| u8::from_str_radix(&SIMULATED_FMSPC[2 * i..2 * i + 2], 16).unwrap_or(0)).collect();
    let body = [
        entry(&format!("{BASE}.2"), tlv(0x30, &tcb))?,
        entry(&format!("{BASE}.3"), tlv(0x04, &[0, 0]))?,
        entry(&format!("{BASE}.4"), tlv(0x04, &fmspc))?,
    ]
    .concat();
    Ok(Extension {
        extn_id: const_oid::ObjectIdentifier::new(BASE).map_err(cert_err)?,
        critical: false,
        extn_value: OctetString::new(tlv(0x30, &body)).map_err(cert_err)?,
    })
}

/// A test root and everything below it.
pub struct SimulatedPlatform {
    root: (SigningKey, Vec<u8>),
    ca: (SigningKey, Vec<u8>),
    pck: (SigningKey, Vec<u8>),
    attestation: SigningKey,
}

fn cert_err(e: impl std::fmt::Display) -> Error {
    Error::Certificate(CertificateError::encoding("test platform", e))
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

fn issue<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    (subject, issuer, ca, extra): (&str, &str, bool, Vec<Extension>),
    (key, issuer_key): (&SigningKey, &SigningKey),
    (not_before, days): (u64, u32),
) -> Result<Vec<u8>, Error> {
    let name = |cn: &str| Name::from_str(&format!("CN={cn},O=hsm-ceremony test platform")).map_err(cert_err);
    let usage =
        if ca { KeyUsages::KeyCertSign | KeyUsages::CRLSign } else { KeyUsages::DigitalSignature.into() };
    let profile = cert::Profile::issued(name(subject)?, name(issuer)?, ca, KeyUsage(usage), extra);
    let spki = spki::SubjectPublicKeyInfoOwned::from_key(key.verifying_key()).map_err(cert_err)?;
    let validity = cert::validity(not_before, days)?;
    let builder =
        CertificateBuilder::new(profile, cert::random_serial(rng)?, validity, spki).map_err(cert_err)?;
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
        let root = issue(rng, (root_name, root_name, true, vec![]), (&root_key, &root_key), when)?;
        let ca_name = "Test SGX PCK Platform CA";
        let ca = issue(rng, (ca_name, root_name, true, vec![]), (&ca_key, &root_key), when)?;
        let pck = issue(
            rng,
            ("Test SGX PCK Certificate", ca_name, false, vec![sgx_extension()?]),
            (&pck_key, &ca_key),
            when,
        )?;
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

    /// Collateral for this platform, signed under its root as Intel signs
    /// its own (for tests of the TCB evaluation): `tcb_info` and
    /// `qe_identity` are the exact JSON members to sign.
    pub fn sign_collateral<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        tcb_info: &[u8],
        qe_identity: &[u8],
        (not_before, days): (u64, u32),
    ) -> Result<Collateral, Error> {
        use p256::ecdsa::signature::Signer;
        let key = new_key(rng)?;
        let root_name = x509_cert::Certificate::from_der(&self.root.1)
            .map_err(cert_err)?
            .tbs_certificate()
            .subject()
            .to_string();
        let cn = root_name.split(',').find_map(|p| p.strip_prefix("CN=")).unwrap_or("root").to_owned();
        let cert = issue(
            rng,
            ("Test SGX TCB Signing", &cn, false, vec![]),
            (&key, &self.root.0),
            (not_before, days),
        )?;
        let sign = |m: &[u8]| -> [u8; 64] {
            let sig: Signature = key.sign(m);
            let mut out = [0u8; 64];
            out.copy_from_slice(&sig.to_bytes());
            out
        };
        Ok(Collateral {
            tcb_info: tcb_info.to_vec(),
            tcb_info_signature: sign(tcb_info),
            qe_identity: qe_identity.to_vec(),
            qe_identity_signature: sign(qe_identity),
            signing_chain_pem: format!("{}{}", pem(&cert)?, pem(&self.root.1)?),
        })
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
            let chain = x509_cert::Certificate::load_pem_chain(b.as_bytes()).map_err(cert_err)?;
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
