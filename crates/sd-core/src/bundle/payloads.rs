//! The JSON documents carried inside each bundle kind.
//!
//! Times are seconds since the Unix epoch (the caller supplies them; this
//! crate reads no clock) plus an RFC 3339 copy for people.

use serde::{Deserialize, Serialize};

/// RFC 3339 UTC text for a Unix time (`1970-01-01T00:00:00Z` if out of range).
pub fn rfc3339(unix: u64) -> String {
    der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// A timestamp as carried in payloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub unix: u64,
    /// The same, as RFC 3339 text.
    pub utc: String,
}

impl Timestamp {
    /// From seconds since the Unix epoch.
    pub fn from_unix(unix: u64) -> Self {
        Timestamp { unix, utc: rfc3339(unix) }
    }
}

/// [`super::BundleKind::Enrollment`]: a custodian's certificate, signed by its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// [`super::BundleKind::Combiner`]: the combiner's ephemeral public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Combiner {
    /// The combiner certificate, PEM.
    pub certificate: String,
    /// Its `x5t#S256`.
    pub x5t_s256: String,
    /// When it was made.
    pub created: Timestamp,
}

/// [`super::BundleKind::RecoveryRequest`]: what is to be recovered, and where to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryRequest {
    /// The target HSM's URL.
    pub hsm: String,
    /// Its exchange-key certificate, PEM.
    pub exchange_certificate: String,
    /// The exchange certificate's `x5t#S256`.
    pub exchange_x5t_s256: String,
    /// SHA-256 (hex) of the SD file to recover.
    pub sd_sha256: String,
    /// 32 random bytes, base64url: binds every share bundle to this request.
    pub nonce: String,
    /// When it was made.
    pub created: Timestamp,
}

/// [`super::BundleKind::Share`]: one custodian's share, encrypted to the combiner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareBundle {
    /// The recovery request's nonce.
    pub request_nonce: String,
    /// SHA-256 (hex) of the SD file the share came from.
    pub sd_sha256: String,
    /// The request's exchange-key thumbprint.
    pub exchange_x5t_s256: String,
    /// The combiner's certificate thumbprint.
    pub combiner_x5t_s256: String,
    /// The custodian's certificate thumbprint (`x5t_256` of the share in the SD).
    pub custodian_x5t_s256: String,
    /// Position of the share in the SD file.
    pub share_index: usize,
    /// The share plaintext as a compact JWE, RSA-OAEP-256 + A256GCM, to the
    /// combiner; its `kid` is the request nonce.
    pub encrypted_share: String,
    /// When it was made.
    pub created: Timestamp,
}

/// [`super::BundleKind::ActivationRecord`]: what the operator activated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// One custodian's part in a drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillParticipant {
    /// Certificate subject.
    pub subject: String,
    /// Certificate thumbprint.
    pub x5t_s256: String,
    /// Position of the share that opened.
    pub share_index: usize,
}

/// One EncData entry checked in a drill (never its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillEntry {
    /// The tag.
    pub tag: String,
    /// Plaintext length.
    pub bytes: usize,
    /// True when it decrypted and authenticated.
    pub verified: bool,
}

/// [`super::BundleKind::DrillReport`]: who proved what, when, with which result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillReport {
    /// SHA-256 (hex) of the SD file.
    pub sd_sha256: String,
    /// The quorum.
    pub quorum: usize,
    /// Number of shares in the SD.
    pub shares: usize,
    /// The custodians who took part.
    pub participants: Vec<DrillParticipant>,
    /// Every EncData entry and whether it verified.
    pub enc_data: Vec<DrillEntry>,
    /// `"success"` when the master key was rebuilt and every entry verified.
    pub result: String,
    /// When the drill started.
    pub started: Timestamp,
    /// When it finished.
    pub finished: Timestamp,
}
