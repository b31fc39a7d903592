//! Which ceremony file a byte string is. A tool handed the wrong file says
//! which file it got ("this is a recovery request, not an SD file") instead
//! of a parser's complaint about a missing field: every parser of the crate
//! asks here first when its input is not what it expects.

use std::fmt;

use serde_json::Value;

use crate::bundle::kind::{self, BundleKind};

/// The kinds of file a ceremony handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A security-domain file (`EncData` and `SharedKeys`).
    SdFile,
    /// A restore blob (`EncData` and `WrappedKey`).
    RestoreBlob,
    /// A signed hsm-ceremony bundle of this kind.
    Bundle(BundleKind),
    /// A transfer-key (exchange key) response.
    TransferKey,
    /// A PEM certificate.
    Certificate,
    /// A PEM private key file.
    PrivateKey,
}

impl ArtifactKind {
    /// "an SD file", "a recovery request"...
    pub fn with_article(self) -> String {
        match self {
            ArtifactKind::SdFile => "an SD file".into(),
            ArtifactKind::RestoreBlob => "a restore blob".into(),
            ArtifactKind::Bundle(kind) => format!("{} bundle", kind.with_article()),
            ArtifactKind::TransferKey => "a transfer-key response".into(),
            ArtifactKind::Certificate => "a certificate".into(),
            ArtifactKind::PrivateKey => "a private key file".into(),
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_article())
    }
}

/// What `bytes` is, when it is one of the ceremony's files.
pub fn identify(bytes: &[u8]) -> Option<ArtifactKind> {
    let text = std::str::from_utf8(bytes).ok()?.trim_start();
    if text.starts_with("-----BEGIN") {
        let first = text.lines().next().unwrap_or_default();
        return if first.contains("CERTIFICATE") {
            Some(ArtifactKind::Certificate)
        } else if first.contains("PRIVATE KEY") {
            Some(ArtifactKind::PrivateKey)
        } else {
            None
        };
    }
    let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(text) else { return None };
    let has = |k: &str| doc.contains_key(k);
    if has("payload") && (has("signatures") || has("signature")) {
        return kind::peek_kind(bytes).ok().map(ArtifactKind::Bundle);
    }
    if has("EncData") && has("SharedKeys") {
        return Some(ArtifactKind::SdFile);
    }
    if has("EncData") && has("WrappedKey") {
        return Some(ArtifactKind::RestoreBlob);
    }
    if has("transfer_key") {
        return Some(ArtifactKind::TransferKey);
    }
    None
}

/// `Err(WrongFile)` when `bytes` is a ceremony file of another kind than
/// `expected` (a bundle of another kind is left to the bundle verifier, which
/// says so in its own words).
pub fn require(bytes: &[u8], expected: ArtifactKind) -> Result<(), crate::Error> {
    match (identify(bytes), expected) {
        (Some(ArtifactKind::Bundle(_)), ArtifactKind::Bundle(_)) => Ok(()),
        (Some(found), _) if found != expected => Err(crate::Error::WrongFile { found, expected }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_told_apart() {
        let sd = br#"{"EncData": {}, "SharedKeys": {}, "version": "1.0.0"}"#;
        let blob = br#"{"EncData": {}, "WrappedKey": {}}"#;
        let tk = br#"{"key_format": "jwk", "transfer_key": "{}"}"#;
        assert_eq!(identify(sd), Some(ArtifactKind::SdFile));
        assert_eq!(identify(blob), Some(ArtifactKind::RestoreBlob));
        assert_eq!(identify(tk), Some(ArtifactKind::TransferKey));
        assert_eq!(identify(b"-----BEGIN PRIVATE KEY-----\n"), Some(ArtifactKind::PrivateKey));
        assert_eq!(identify(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"), Some(ArtifactKind::PrivateKey));
        assert_eq!(identify(b"  -----BEGIN CERTIFICATE-----\n"), Some(ArtifactKind::Certificate));
        assert_eq!(identify(b"not anything"), None);
        assert_eq!(identify(b"{\"x\": 1}"), None);
        let err = require(sd, ArtifactKind::RestoreBlob).unwrap_err();
        assert_eq!(err.to_string(), "this is an SD file, not a restore blob");
        let err = require(blob, ArtifactKind::Bundle(BundleKind::RecoveryRequest)).unwrap_err();
        assert_eq!(err.to_string(), "this is a restore blob, not a recovery request bundle");
        assert!(require(b"garbage", ArtifactKind::SdFile).is_ok(), "left to the parser's own message");
    }
}
