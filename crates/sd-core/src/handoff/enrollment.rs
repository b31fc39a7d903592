//! Enrollment (custodian → operator): a custodian's certificate, signed by
//! its own key as proof of possession.
//!
//! Proof of possession is all it proves: anyone can make one. The operator
//! reads each enrolled fingerprint aloud at activation and its custodian
//! confirms it; from then on the SD file lists the custodians.

use serde::{Deserialize, Serialize};

use super::{CertRole, HandoffError, possessed_certificate};
use crate::bundle::{self, BundleKind, Signer};
use crate::pki::cert::Certificate;
use crate::time::Timestamp;

/// The enrollment payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrollment {
    /// The custodian's name (certificate CN).
    pub custodian: String,
    /// The certificate, PEM.
    pub certificate: String,
    /// Its `x5t#S256`.
    pub x5t_s256: String,
    /// When it was made.
    pub created: Timestamp,
}

/// An enrollment whose signature proves possession of the certificate's key.
#[derive(Debug, Clone)]
pub struct VerifiedEnrollment {
    custodian: String,
    certificate: Certificate,
}

impl VerifiedEnrollment {
    /// The name the custodian gave.
    pub fn custodian(&self) -> &str {
        &self.custodian
    }
    /// The custodian's certificate (its fingerprint still to be confirmed aloud).
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}

impl Enrollment {
    /// Signs an enrollment of `custodian` with their own key.
    pub fn sign(custodian: &str, signer: &Signer<'_>, now: u64) -> Result<String, HandoffError> {
        let payload = Enrollment {
            custodian: custodian.to_owned(),
            certificate: signer.cert.to_pem(),
            x5t_s256: signer.cert.x5t_s256(),
            created: Timestamp::from_unix(now),
        };
        Ok(bundle::sign(BundleKind::Enrollment, &payload, std::slice::from_ref(signer))?)
    }

    /// Verifies the proof of possession: one valid signature, by the
    /// certificate the payload carries, for a custodian name `keyholder init`
    /// would give (the name goes into files and onto every screen).
    pub fn verify(bytes: &[u8]) -> Result<VerifiedEnrollment, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::Enrollment)?;
        let p: Enrollment = signed.payload_as()?;
        crate::pki::cert::validate_common_name(&p.custodian).map_err(|_| HandoffError::BadCustodianName)?;
        let certificate = possessed_certificate(&signed, &p.certificate, &p.x5t_s256, CertRole::Custodian)?;
        Ok(VerifiedEnrollment { custodian: p.custodian, certificate })
    }
}
