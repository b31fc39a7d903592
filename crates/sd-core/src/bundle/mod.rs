//! Signed JSON bundles: JWS JSON serialization (RFC 7515 §7.2), PS256, the
//! signer's certificate in `x5c`, and a `typ` naming the bundle kind.
//!
//! One signer gives the flattened syntax; several (a drill report signed by
//! every participating custodian) give the general syntax. Any JOSE library
//! can verify them. Verification here checks the algorithm, the kind and every
//! signature; whether a signer is trusted is for [`crate::handoff`] to decide.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::Sha256;
use signature::Verifier;

use crate::pki::cert::Certificate;

mod jws;
pub mod kind;

use crate::{Error, primitives::b64};
use jws::{BundleJson, Protected};
pub use kind::{BundleError, BundleKind, peek_kind};

/// A key and its certificate, used to sign.
pub struct Signer<'a> {
    /// The private key (a key file's, or one on a token).
    pub key: &'a dyn crate::RsaKey,
    /// Its certificate, embedded in `x5c`.
    pub cert: &'a Certificate,
}

fn bundle_err(e: BundleError) -> Error {
    Error::Bundle(e)
}

/// Signs `payload` (serialised to JSON) as a bundle of `kind`.
pub fn sign<T: Serialize>(kind: BundleKind, payload: &T, signers: &[Signer<'_>]) -> Result<String, Error> {
    if signers.is_empty() {
        return Err(bundle_err(BundleError::NoSigner));
    }
    let payload_json =
        serde_json::to_vec(payload).map_err(|e| bundle_err(BundleError::encoding("payload", e)))?;
    let payload_b64 = b64::url_encode(&payload_json);
    let sigs = signers.iter().map(|s| signature(kind, &payload_b64, s)).collect::<Result<Vec<_>, _>>()?;
    document(&payload_b64, &sigs)
}

/// Adds `signer`'s signature to a bundle of `kind` whose every signature
/// verifies (a co-signature: the payload stays as it is). Refused when
/// `signer` already signed it.
pub fn cosign(bytes: &[u8], kind: BundleKind, signer: &Signer<'_>) -> Result<String, Error> {
    let signed = verify_signatures(bytes, kind)?;
    if signed.signers.iter().any(|c| c.der() == signer.cert.der()) {
        return Err(bundle_err(BundleError::SignerTwice));
    }
    let doc: BundleJson =
        serde_json::from_slice(bytes).map_err(|e| bundle_err(BundleError::NotJws(e.to_string())))?;
    let mut sigs: Vec<(String, String)> = match (doc.protected, doc.signature, doc.signatures) {
        (Some(p), Some(s), None) => vec![(p, s)],
        (None, None, Some(list)) => list.into_iter().map(|s| (s.protected, s.signature)).collect(),
        _ => return Err(bundle_err(BundleError::NotJwsSerialization)),
    };
    sigs.push(signature(kind, &doc.payload, signer)?);
    document(&doc.payload, &sigs)
}

/// One signer's (protected header, signature) over `payload_b64`.
fn signature(kind: BundleKind, payload_b64: &str, s: &Signer<'_>) -> Result<(String, String), Error> {
    if !crate::pki::cert::key_matches(s.cert, s.key) {
        return Err(bundle_err(BundleError::KeyNotCertificate(s.cert.subject())));
    }
    let protected = Protected {
        alg: "PS256".into(),
        typ: kind.typ().into(),
        x5c: vec![b64::std_encode(s.cert.der())],
        x5t_s256: Some(s.cert.x5t_s256()),
        crit: None,
    };
    let protected_b64 = b64::url_encode(
        &serde_json::to_vec(&protected).map_err(|e| bundle_err(BundleError::encoding("", e)))?,
    );
    let signing_input = format!("{protected_b64}.{payload_b64}");
    let sig = s.key.sign_pss_sha256(signing_input.as_bytes())?;
    Ok((protected_b64, b64::url_encode(&sig)))
}

/// The JWS JSON document: flattened for one signature, general for several.
fn document(payload_b64: &str, sigs: &[(String, String)]) -> Result<String, Error> {
    let doc = if let [(protected, signature)] = sigs {
        json!({"payload": payload_b64, "protected": protected, "signature": signature})
    } else {
        json!({
            "payload": payload_b64,
            "signatures": sigs.iter().map(|(p, s)| json!({"protected": p, "signature": s})).collect::<Vec<_>>(),
        })
    };
    let mut text =
        serde_json::to_string_pretty(&doc).map_err(|e| bundle_err(BundleError::encoding("", e)))?;
    text.push('\n');
    Ok(text)
}

/// A bundle whose every signature verified, by whoever signed it.
///
/// A valid signature says nothing about *who* signed: the certificate is the
/// signer's own claim. So this type shows its signers and its payload for
/// display, but only the hand-off verifiers in [`crate::handoff`], which match
/// the signers against a pin, the SD file's custodians or a proof of
/// possession, read the payload to decide anything.
#[derive(Debug, Clone)]
pub struct SignedBundle {
    kind: BundleKind,
    payload: Vec<u8>,
    signers: Vec<Certificate>,
}

impl SignedBundle {
    /// The bundle kind.
    pub fn kind(&self) -> BundleKind {
        self.kind
    }
    /// The signers' certificates, in signature order (never empty).
    pub fn signers(&self) -> &[Certificate] {
        &self.signers
    }
    /// SHA-256 (hex) of the signed payload: what stays the same however
    /// many co-signatures are added (a ceremony record's identity).
    pub fn payload_sha256(&self) -> String {
        crate::primitives::hex::sha256_hex(&self.payload)
    }
    /// The payload as generic JSON, for showing to a person.
    pub fn payload_for_display(&self) -> Result<Value, Error> {
        self.payload_as()
    }
    /// The payload parsed into `T` (for the hand-off verifiers).
    pub(crate) fn payload_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.payload)
            .map_err(|e| bundle_err(BundleError::Payload { kind: self.kind, detail: e.to_string() }))
    }
    /// The only signer of a single-signer bundle.
    pub(crate) fn sole_signer(&self) -> Result<&Certificate, Error> {
        match self.signers.as_slice() {
            [one] => Ok(one),
            _ => Err(bundle_err(BundleError::NotOneSigner(self.kind))),
        }
    }
}

/// Verifies every signature of a bundle of `kind`: PS256, valid, each by the
/// certificate in its own `x5c`, no signer twice. Whom to trust is decided by
/// the caller (see [`SignedBundle`]).
pub fn verify_signatures(bytes: &[u8], kind: BundleKind) -> Result<SignedBundle, Error> {
    crate::artifact::require(bytes, crate::artifact::ArtifactKind::Bundle(kind))?;
    let doc: BundleJson =
        serde_json::from_slice(bytes).map_err(|e| bundle_err(BundleError::NotJws(e.to_string())))?;
    let entries: Vec<(String, String, Option<Value>)> = match (doc.protected, doc.signature, doc.signatures) {
        (Some(p), Some(s), None) => vec![(p, s, doc.header)],
        (None, None, Some(list)) if !list.is_empty() => {
            list.into_iter().map(|s| (s.protected, s.signature, s.header)).collect()
        }
        _ => return Err(bundle_err(BundleError::NotJwsSerialization)),
    };
    let payload = b64::url_decode(&doc.payload, "payload")?;
    let mut signers = Vec::with_capacity(entries.len());
    for (i, (protected_b64, sig_b64, unprotected)) in entries.iter().enumerate() {
        let which = (entries.len() > 1).then_some(i);
        let at =
            |problem: BundleError| bundle_err(BundleError::Signature { which, problem: Box::new(problem) });
        if unprotected.is_some() {
            return Err(at(BundleError::Unprotected));
        }
        let header: Protected = serde_json::from_slice(&b64::url_decode(protected_b64, "protected header")?)
            .map_err(|e| at(BundleError::ProtectedHeader(e.to_string())))?;
        if header.alg != "PS256" {
            return Err(at(BundleError::Algorithm(header.alg)));
        }
        if header.crit.is_some() {
            return Err(at(BundleError::Critical));
        }
        if header.typ != kind.typ() {
            let found = BundleKind::from_typ(&header.typ).map_or(header.typ.clone(), |k| k.name().to_owned());
            return Err(at(BundleError::OtherKind { found, expected: kind }));
        }
        let cert_der = match header.x5c.as_slice() {
            [one] => b64::std_decode(one, "x5c")?,
            _ => {
                return Err(at(BundleError::X5c));
            }
        };
        let cert = Certificate::from_der(&cert_der)?;
        if header.x5t_s256.as_ref().is_some_and(|t| *t != cert.x5t_s256()) {
            return Err(at(BundleError::X5tMismatch));
        }
        let sig = rsa::pss::Signature::try_from(b64::url_decode(sig_b64, "signature")?.as_slice())
            .map_err(|_| at(BundleError::MalformedSignature))?;
        let verifier = rsa::pss::VerifyingKey::<Sha256>::new(cert.rsa_public_key()?);
        verifier
            .verify(format!("{protected_b64}.{}", doc.payload).as_bytes(), &sig)
            .map_err(|_| at(BundleError::SignatureInvalid))?;
        if signers.iter().any(|c: &Certificate| c.der() == cert.der()) {
            return Err(at(BundleError::SignerTwice));
        }
        signers.push(cert);
    }
    Ok(SignedBundle { kind, payload, signers })
}
