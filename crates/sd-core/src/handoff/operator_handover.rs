//! Operator handover (old operator → custodians): the operator's identity
//! renewed before its certificate runs out. A recovery may come years after
//! the activation, so the operator certificate custodians pinned then must be
//! able to name its successor: the handover is signed by the old key (which
//! the custodians pinned) and by the new one (proof of possession), while the
//! old certificate is still valid. Custodians check it against their pin and
//! only then pin the new certificate's fingerprint.

use serde::{Deserialize, Serialize};

use super::{CertRole, HandoffError, Pin, certificate_in_payload, check_validity};
use crate::bundle::{self, BundleKind, Signer};
use crate::pki::cert::Certificate;
use crate::time::Timestamp;

/// An operator certificate this close to its end may no longer sign a
/// request or an activation: a recovery started now could outlive it.
pub const RENEW_WITHIN_DAYS: u64 = 30;

/// The handover payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorHandover {
    /// The old operator certificate's `x5t#S256` (the pinned one).
    pub old_x5t_s256: String,
    /// The new operator certificate, PEM.
    pub new_certificate: String,
    /// Its `x5t#S256`.
    pub new_x5t_s256: String,
    /// When the old operator handed over.
    pub created: Timestamp,
}

/// A handover signed by the pinned operator, while its certificate was
/// valid, to a new operator who proved possession of its key.
#[derive(Debug, Clone)]
pub struct VerifiedHandover {
    old: Certificate,
    new: Certificate,
    created: Timestamp,
}

impl VerifiedHandover {
    /// The old (pinned) operator.
    pub fn old(&self) -> &Certificate {
        &self.old
    }
    /// The new operator: pin this one from now on.
    pub fn new_operator(&self) -> &Certificate {
        &self.new
    }
    /// When the handover was signed.
    pub fn created(&self) -> &Timestamp {
        &self.created
    }
}

/// Fails when the operator certificate `cert` cannot sign at `now`: expired,
/// not yet valid, or within [`RENEW_WITHIN_DAYS`] of its end.
pub fn check_operator_can_sign(cert: &Certificate, now: u64) -> Result<(), HandoffError> {
    check_validity(cert, CertRole::Operator, now)?;
    let left = cert.not_after_unix().saturating_sub(now);
    if left < RENEW_WITHIN_DAYS * 86_400 {
        return Err(HandoffError::RenewOperator {
            not_after: cert.not_after_unix(),
            days_left: left / 86_400,
        });
    }
    Ok(())
}

impl OperatorHandover {
    /// Signs a handover from `old` to `new` at `now`; the old certificate must
    /// still be valid, the new one valid now.
    pub fn sign(old: &Signer<'_>, new: &Signer<'_>, now: u64) -> Result<String, HandoffError> {
        check_validity(old.cert, CertRole::Operator, now)?;
        check_validity(new.cert, CertRole::Operator, now)?;
        if old.cert == new.cert {
            return Err(HandoffError::HandoverToItself);
        }
        let payload = OperatorHandover {
            old_x5t_s256: old.cert.x5t_s256(),
            new_certificate: new.cert.to_pem(),
            new_x5t_s256: new.cert.x5t_s256(),
            created: Timestamp::from_unix(now),
        };
        Ok(bundle::sign(
            BundleKind::OperatorHandover,
            &payload,
            &[Signer { key: old.key, cert: old.cert }, Signer { key: new.key, cert: new.cert }],
        )?)
    }

    /// Verifies a handover: signed by the pinned `old` operator and by the
    /// new certificate it names, made while the old certificate was valid,
    /// the new one valid at `now`.
    pub fn verify(bytes: &[u8], old: &Pin, now: u64) -> Result<VerifiedHandover, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::OperatorHandover)?;
        let p: OperatorHandover = signed.payload_as()?;
        let new = certificate_in_payload(&p.new_certificate, &p.new_x5t_s256, CertRole::Operator)?;
        let signers = signed.signers();
        // The pinned operator is the signer that is not the successor.
        let Some(old_cert) = signers.iter().find(|c| **c != new && old.matches(c)) else {
            let Some(other) = signers.iter().find(|c| **c != new) else {
                return Err(HandoffError::NotSignedByNamedKey { role: CertRole::Operator });
            };
            return Err(HandoffError::NotPinned {
                role: CertRole::Operator,
                subject: other.subject(),
                sha256: crate::pki::cert::readable_fingerprint(&other.sha256()),
                pinned: crate::pki::cert::readable_fingerprint(&old.sha256()),
            });
        };
        if signers.len() != 2 || !signers.contains(&new) {
            return Err(HandoffError::NotSignedByNamedKey { role: CertRole::Operator });
        }
        if p.old_x5t_s256 != old_cert.x5t_s256() {
            return Err(HandoffError::ThumbprintMismatch { role: CertRole::Operator });
        }
        let created = p.created.unix();
        if created > now.saturating_add(super::recovery_request::MAX_FUTURE_SECS) {
            return Err(HandoffError::RequestInFuture { created, now });
        }
        if created < old_cert.not_before_unix() || created > old_cert.not_after_unix() {
            return Err(HandoffError::HandedOverOutsideValidity {
                created,
                not_after: old_cert.not_after_unix(),
            });
        }
        check_validity(&new, CertRole::Operator, now)?;
        Ok(VerifiedHandover { old: old_cert.clone(), new, created: p.created })
    }
}
