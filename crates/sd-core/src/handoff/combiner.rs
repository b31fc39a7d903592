//! Combiner bundle (combiner → operator): the one-time key that custodians
//! seal their shares to, signed by itself as proof of possession.
//!
//! The operator confirms its fingerprint aloud with the combiner and puts the
//! certificate into the signed recovery request; custodians seal only to the
//! combiner that request names, never to a combiner file handed to them.

use serde::{Deserialize, Serialize};

use super::{CertRole, HandoffError, check_validity, possessed_certificate};
use crate::bundle::{self, BundleKind, Signer};
use crate::pki::cert::Certificate;
use crate::time::Timestamp;

/// The longest a combiner certificate may be valid: one recovery.
pub const MAX_COMBINER_DAYS: u64 = 7;

/// The combiner payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combiner {
    /// The combiner certificate, PEM.
    pub certificate: String,
    /// Its `x5t#S256`.
    pub x5t_s256: String,
    /// When it was made.
    pub created: Timestamp,
}

/// A combiner bundle whose signature proves possession of a fresh one-time key.
#[derive(Debug, Clone)]
pub struct VerifiedCombiner {
    certificate: Certificate,
}

impl VerifiedCombiner {
    /// The combiner's certificate (its fingerprint still to be confirmed aloud).
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}

impl Combiner {
    /// Signs a combiner bundle with the combiner's own key; its certificate
    /// must already satisfy [`check_combiner_certificate`] at `now`.
    pub fn sign(signer: &Signer<'_>, now: u64) -> Result<String, HandoffError> {
        check_combiner_certificate(signer.cert, now)?;
        let payload = Combiner {
            certificate: signer.cert.to_pem(),
            x5t_s256: signer.cert.x5t_s256(),
            created: Timestamp::from_unix(now),
        };
        Ok(bundle::sign(BundleKind::Combiner, &payload, std::slice::from_ref(signer))?)
    }

    /// Verifies the proof of possession and that the certificate is a fresh
    /// one-time certificate at `now`.
    pub fn verify(bytes: &[u8], now: u64) -> Result<VerifiedCombiner, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::Combiner)?;
        let p: Combiner = signed.payload_as()?;
        let certificate = possessed_certificate(&signed, &p.certificate, &p.x5t_s256, CertRole::Combiner)?;
        check_combiner_certificate(&certificate, now)?;
        Ok(VerifiedCombiner { certificate })
    }
}

/// A combiner certificate is valid at `now`, and for at most
/// [`MAX_COMBINER_DAYS`] in all: a stolen one-time key must not stay useful.
pub fn check_combiner_certificate(cert: &Certificate, now: u64) -> Result<(), HandoffError> {
    let role = CertRole::Combiner;
    let seconds = cert.not_after_unix().saturating_sub(cert.not_before_unix());
    if seconds > MAX_COMBINER_DAYS * 86_400 {
        return Err(HandoffError::ValidTooLong { role, seconds, max_days: MAX_COMBINER_DAYS });
    }
    check_validity(cert, role, now)
}
