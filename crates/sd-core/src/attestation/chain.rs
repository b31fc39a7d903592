//! Reading the X.509 chains SGX evidence and Intel's collateral carry:
//! PEM chains, their P-256 keys, their signatures and validity. Shared by
//! the evidence verifier, the collateral check and the root pin.

use der::{Decode, Encode};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use spki::DecodePublicKey;

/// The certificates of a PEM chain, in order.
pub(super) fn parse_pem_chain(pem: &str) -> Result<Vec<x509_cert::Certificate>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let end = body.find(END).ok_or("a PEM certificate has no END line")?;
        let b64: String = body[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = crate::primitives::b64::std_decode(&b64, "PCK certificate").map_err(|e| e.to_string())?;
        out.push(
            x509_cert::Certificate::from_der(&der).map_err(|e| format!("a PCK chain certificate: {e}"))?,
        );
        rest = &body[end + END.len()..];
        if out.len() > 8 {
            return Err("more than 8 certificates in the PCK chain".into());
        }
    }
    if !rest.trim().is_empty() {
        return Err("unexpected text after the PCK chain".into());
    }
    Ok(out)
}

/// The P-256 key of a certificate.
pub(super) fn ec_key(cert: &x509_cert::Certificate) -> Result<VerifyingKey, String> {
    let spki = cert.tbs_certificate().subject_public_key_info().to_der().map_err(|e| e.to_string())?;
    p256::PublicKey::from_public_key_der(&spki)
        .map(|k| VerifyingKey::from(&k))
        .map_err(|_| format!("{}: the key is not ECDSA P-256", cert.tbs_certificate().subject()))
}

/// True when `cert` carries a valid ecdsa-with-SHA256 signature by `key`.
pub(super) fn cert_signed_by(cert: &x509_cert::Certificate, key: &VerifyingKey) -> bool {
    let ecdsa_sha256 = const_oid::db::rfc5912::ECDSA_WITH_SHA_256;
    if cert.signature_algorithm().oid != ecdsa_sha256
        || cert.tbs_certificate().signature().oid != ecdsa_sha256
    {
        return false;
    }
    let (Ok(tbs), Some(sig)) = (cert.tbs_certificate().to_der(), cert.signature().as_bytes()) else {
        return false;
    };
    Signature::from_der(sig).is_ok_and(|s| key.verify(&tbs, &s).is_ok())
}

/// notBefore and notAfter of a certificate, as Unix seconds.
pub(super) fn validity(cert: &x509_cert::Certificate) -> (u64, u64) {
    let v = cert.tbs_certificate().validity();
    (v.not_before.to_unix_duration().as_secs(), v.not_after.to_unix_duration().as_secs())
}
