//! The kinds of signed bundle, and telling a file's kind without verifying it.

use super::jws::{BundleJson, Protected};
use crate::Error;
use crate::primitives::b64;

/// The kinds of bundle hsm-ceremony passes around; each has its own `typ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// Custodian → operator: name and certificate, signed by the custodian key.
    Enrollment,
    /// Operator → custodians: which HSM, which SD file, which custodians.
    ActivationRecord,
    /// Operator → offline side: target HSM, its exchange key, SD hash, nonce.
    RecoveryRequest,
    /// Combiner → custodians: the ephemeral key shares are encrypted to.
    Combiner,
    /// Custodian → combiner: one share, encrypted and bound to a request.
    Share,
    /// Result of a drill, signed by every participating custodian.
    DrillReport,
    /// Old operator → custodians: the operator's successor certificate,
    /// signed by the old and the new operator key.
    OperatorHandover,
}

impl BundleKind {
    /// Every kind, for lookups by `typ`.
    pub const ALL: [BundleKind; 7] = [
        BundleKind::Enrollment,
        BundleKind::ActivationRecord,
        BundleKind::RecoveryRequest,
        BundleKind::Combiner,
        BundleKind::Share,
        BundleKind::DrillReport,
        BundleKind::OperatorHandover,
    ];

    /// The JWS `typ` header value.
    pub fn typ(self) -> &'static str {
        match self {
            BundleKind::Enrollment => "hsm-ceremony.enrollment.v1",
            BundleKind::ActivationRecord => "hsm-ceremony.activation-record.v1",
            BundleKind::RecoveryRequest => "hsm-ceremony.recovery-request.v1",
            BundleKind::Combiner => "hsm-ceremony.combiner.v1",
            BundleKind::Share => "hsm-ceremony.share.v1",
            BundleKind::DrillReport => "hsm-ceremony.drill-report.v1",
            BundleKind::OperatorHandover => "hsm-ceremony.operator-handover.v1",
        }
    }

    /// The name with its article: "an enrollment", "a recovery request".
    pub fn with_article(self) -> String {
        format!("{} {}", article(self.name()), self.name())
    }

    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            BundleKind::Enrollment => "enrollment",
            BundleKind::ActivationRecord => "activation record",
            BundleKind::RecoveryRequest => "recovery request",
            BundleKind::Combiner => "combiner",
            BundleKind::Share => "share",
            BundleKind::DrillReport => "drill report",
            BundleKind::OperatorHandover => "operator handover",
        }
    }

    pub(super) fn from_typ(typ: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.typ() == typ)
    }
}

/// "a" or "an" before a kind's name.
pub(super) fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

fn bundle_err(m: impl Into<String>) -> Error {
    Error::Bundle(m.into())
}

/// Reads the `typ` of a bundle without verifying it (to tell the user what a file is).
pub fn peek_kind(bytes: &[u8]) -> Result<BundleKind, Error> {
    let doc: BundleJson =
        serde_json::from_slice(bytes).map_err(|e| bundle_err(format!("not a JWS JSON document: {e}")))?;
    let protected = doc
        .protected
        .or_else(|| doc.signatures.and_then(|s| s.into_iter().next().map(|s| s.protected)))
        .ok_or_else(|| bundle_err("no protected header"))?;
    let header: Protected = serde_json::from_slice(&b64::url_decode(&protected, "protected header")?)
        .map_err(|e| bundle_err(format!("protected header: {e}")))?;
    BundleKind::from_typ(&header.typ)
        .ok_or_else(|| bundle_err(format!("unknown bundle typ {:?}", header.typ)))
}
