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
    /// What happened at a ceremony, step by step: signed by the ceremony
    /// administrator and co-signed by the custodians who took part.
    CeremonyRecord,
}

impl BundleKind {
    /// Every kind, for lookups by `typ`.
    pub const ALL: [BundleKind; 8] = [
        BundleKind::Enrollment,
        BundleKind::ActivationRecord,
        BundleKind::RecoveryRequest,
        BundleKind::Combiner,
        BundleKind::Share,
        BundleKind::DrillReport,
        BundleKind::OperatorHandover,
        BundleKind::CeremonyRecord,
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
            BundleKind::CeremonyRecord => "hsm-ceremony.ceremony-record.v1",
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
            BundleKind::CeremonyRecord => "ceremony record",
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

/// Why a signed bundle is refused ([`Error::Bundle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleError {
    /// A bundle needs at least one signer.
    NoSigner,
    /// A signing key that is not its certificate's (the certificate's subject).
    KeyNotCertificate(String),
    /// Encoding failed at `step` (the library's words).
    Encoding {
        /// What was being encoded, or empty.
        step: &'static str,
        /// The library's explanation.
        detail: String,
    },
    /// The payload is not what a bundle of `kind` carries.
    Payload {
        /// The bundle's kind.
        kind: BundleKind,
        /// The parser's explanation.
        detail: String,
    },
    /// A bundle of `kind` that does not have exactly one signer.
    NotOneSigner(BundleKind),
    /// Not a JWS JSON document (the parser's words).
    NotJws(String),
    /// Neither the flattened nor the general JWS JSON serialization.
    NotJwsSerialization,
    /// No protected header.
    NoProtectedHeader,
    /// A `typ` no bundle has.
    UnknownTyp(String),
    /// A problem with one signature (`which`, when there are several).
    Signature {
        /// The signature's position, when the bundle has several.
        which: Option<usize>,
        /// What is wrong with it.
        problem: Box<BundleError>,
    },
    /// Unprotected header members.
    Unprotected,
    /// The protected header cannot be read (the parser's words).
    ProtectedHeader(String),
    /// An algorithm other than PS256.
    Algorithm(String),
    /// Critical header parameters.
    Critical,
    /// A bundle of another kind (the one found) than `expected`.
    OtherKind {
        /// What it is.
        found: String,
        /// What was expected.
        expected: BundleKind,
    },
    /// `x5c` does not hold exactly one certificate.
    X5c,
    /// `x5t#S256` is not `x5c`'s.
    X5tMismatch,
    /// The signature bytes are not a signature.
    MalformedSignature,
    /// The signature does not verify.
    SignatureInvalid,
    /// The same signer twice.
    SignerTwice,
}

impl BundleError {
    pub(super) fn encoding(step: &'static str, detail: impl std::fmt::Display) -> BundleError {
        BundleError::Encoding { step, detail: detail.to_string() }
    }
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use BundleError::*;
        match self {
            NoSigner => f.write_str("a bundle needs at least one signer"),
            KeyNotCertificate(subject) => write!(f, "the signing key does not belong to {subject}"),
            Encoding { step: "", detail } => f.write_str(detail),
            Encoding { step, detail } => write!(f, "{step}: {detail}"),
            Payload { kind, detail } => write!(f, "the {} payload is not valid: {detail}", kind.name()),
            NotOneSigner(kind) => write!(f, "{} bundle has exactly one signer", kind.with_article()),
            NotJws(d) => write!(f, "not a JWS JSON document: {d}"),
            NotJwsSerialization => f.write_str("neither flattened nor general JWS JSON serialization"),
            NoProtectedHeader => f.write_str("no protected header"),
            UnknownTyp(t) => write!(f, "unknown bundle typ {t:?}"),
            Signature { which: Some(i), problem } => write!(f, "signature {i}: {problem}"),
            Signature { which: None, problem } => write!(f, "{problem}"),
            Unprotected => f.write_str("unprotected header members are not accepted"),
            ProtectedHeader(d) => write!(f, "protected header: {d}"),
            Algorithm(alg) => write!(f, "algorithm {alg:?} refused; only PS256"),
            Critical => f.write_str("unknown critical header parameters"),
            OtherKind { found, expected } => {
                write!(f, "this is {} {found} bundle, not {} bundle", article(found), expected.with_article())
            }
            X5c => f.write_str("x5c must hold exactly the signer's certificate"),
            X5tMismatch => f.write_str("x5t#S256 does not match x5c"),
            MalformedSignature => f.write_str("malformed signature"),
            SignatureInvalid => f.write_str("the signature does not verify: the bundle was altered"),
            SignerTwice => f.write_str("the same signer appears twice"),
        }
    }
}

fn bundle_err(e: BundleError) -> Error {
    Error::Bundle(e)
}

/// Reads the `typ` of a bundle without verifying it (to tell the user what a file is).
pub fn peek_kind(bytes: &[u8]) -> Result<BundleKind, Error> {
    let doc: BundleJson =
        serde_json::from_slice(bytes).map_err(|e| bundle_err(BundleError::NotJws(e.to_string())))?;
    let protected = doc
        .protected
        .or_else(|| doc.signatures.and_then(|s| s.into_iter().next().map(|s| s.protected)))
        .ok_or(bundle_err(BundleError::NoProtectedHeader))?;
    let header: Protected = serde_json::from_slice(&b64::url_decode(&protected, "protected header")?)
        .map_err(|e| bundle_err(BundleError::ProtectedHeader(e.to_string())))?;
    BundleKind::from_typ(&header.typ).ok_or_else(|| bundle_err(BundleError::UnknownTyp(header.typ.clone())))
}
