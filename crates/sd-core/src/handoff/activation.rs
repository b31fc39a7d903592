//! Activation record (operator → custodians): which HSM was activated, with
//! which SD file, quorum and custodians; signed by the operator.

use serde::{Deserialize, Serialize};

use super::{CertRole, HandoffError, Pin, pinned_signer, require_sd};
use crate::azure::activation::ActivatedSd;
use crate::azure::sd_file::SecurityDomain;
use crate::bundle::{self, BundleKind, Signer};
use crate::pki::cert::Certificate;
use crate::time::Timestamp;

/// The activation-record payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationRecord {
    /// The HSM's URL.
    pub hsm: String,
    /// SHA-256 (hex) of the SD file as the HSM returned it.
    pub sd_sha256: String,
    /// The quorum.
    pub quorum: usize,
    /// The custodians' thumbprints, in share order.
    pub custodians: Vec<String>,
    /// When it was made.
    pub created: Timestamp,
}

/// An activation record signed by the pinned operator that agrees with the SD file.
#[derive(Debug, Clone)]
pub struct VerifiedActivation {
    hsm: String,
    operator: Certificate,
    created: Timestamp,
}

impl VerifiedActivation {
    /// The activated HSM's URL.
    pub fn hsm(&self) -> &str {
        &self.hsm
    }
    /// The operator (the pinned certificate).
    pub fn operator(&self) -> &Certificate {
        &self.operator
    }
    /// When the record was made.
    pub fn created(&self) -> &Timestamp {
        &self.created
    }
}

impl ActivationRecord {
    /// Signs the record of an SD file the HSM at `hsm` answered the request
    /// that was sent with (accepted by [`crate::azure::download_request::DownloadRequest::accept`]).
    pub fn sign(
        hsm: &str,
        activated: &ActivatedSd,
        operator: &Signer<'_>,
        now: u64,
    ) -> Result<String, HandoffError> {
        let sd = activated.security_domain();
        let payload = ActivationRecord {
            hsm: hsm.to_owned(),
            sd_sha256: sd.sha256().to_owned(),
            quorum: sd.required(),
            custodians: sd.thumbprints(),
            created: Timestamp::from_unix(now),
        };
        Ok(bundle::sign(BundleKind::ActivationRecord, &payload, std::slice::from_ref(operator))?)
    }

    /// Verifies a record: signed by the `operator` pin, about `sd`, naming
    /// exactly its quorum and custodians.
    pub fn verify(
        bytes: &[u8],
        operator: &Pin,
        sd: &SecurityDomain,
    ) -> Result<VerifiedActivation, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::ActivationRecord)?;
        let operator = pinned_signer(&signed, operator, CertRole::Operator)?;
        let p: ActivationRecord = signed.payload_as()?;
        require_sd(&p.sd_sha256, sd)?;
        if p.quorum != sd.required() {
            return Err(HandoffError::DisagreesWithSd { what: "quorum" });
        }
        if p.custodians != sd.thumbprints() {
            return Err(HandoffError::DisagreesWithSd { what: "list of custodians" });
        }
        Ok(VerifiedActivation { hsm: p.hsm, operator, created: p.created })
    }
}
