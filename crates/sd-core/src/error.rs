//! The one error type of the core crate.
//!
//! Variants name the actual problem; callers (the binaries) add which file it was
//! in. Messages never contain secret bytes.

use std::fmt;

/// Everything that can go wrong while reading, checking or producing the formats.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Input is not valid base64 / base64url.
    Base64 {
        /// What was being decoded, e.g. "JWE ciphertext".
        what: &'static str,
    },
    /// Input is not the JSON document expected.
    Json {
        /// What was being parsed.
        what: &'static str,
        /// The parser's explanation (position, missing field...).
        detail: String,
    },
    /// A compact JWE is malformed (part count, header, sizes).
    JweFormat(crate::primitives::jwe::JweFormatError),
    /// A JWE uses an algorithm we refuse.
    JweAlgorithm {
        /// The `alg` header value.
        alg: String,
        /// The `enc` header value.
        enc: String,
    },
    /// The authentication tag has the wrong length (Azure's tools skip the check then; we refuse).
    JweTagLength {
        /// The length found.
        found: usize,
        /// The length the content encryption needs (32 for A256CBC-HS512, 16 for A256GCM).
        expected: usize,
    },
    /// The authentication tag does not match: the JWE was altered or the key is wrong.
    JweIntegrity,
    /// RSA-OAEP decryption failed: the JWE was encrypted to another key, or altered.
    KeyUnwrap,
    /// A Shamir share or a set of shares is invalid.
    Shamir(crate::primitives::shamir::ShamirError),
    /// A certificate cannot be parsed, trusted or made.
    Certificate(crate::pki::certificate_error::CertificateError),
    /// A private key cannot be parsed or used.
    PrivateKey(crate::pki::private_key::PrivateKeyError),
    /// A private key file is encrypted and no passphrase was given.
    PassphraseRequired,
    /// The passphrase does not decrypt the private key file.
    WrongPassphrase,
    /// The security-domain file is not what Azure produces.
    SdFile(crate::azure::sd_file::SdFileError),
    /// The restore blob is not what Azure accepts.
    RestoreBlob(crate::azure::restore_blob::RestoreBlobError),
    /// A download request (certificates + quorum) is invalid.
    DownloadRequest(crate::azure::download_request::DownloadRequestError),
    /// A set of custodian certificates and quorum is outside what Azure takes
    /// (for an activation or a rotation alike).
    CustodianSet(crate::azure::download_request::CustodianSetError),
    /// Serialising a value to JSON failed (a bug; never silently an empty string).
    Serialize {
        /// What was being serialised.
        what: &'static str,
        /// The serialiser's explanation.
        detail: String,
    },
    /// A transfer-key response is invalid.
    TransferKey(crate::azure::transfer_key::TransferKeyError),
    /// A signed bundle is malformed, of the wrong kind, or does not verify.
    Bundle(crate::bundle::BundleError),
    /// The key given opens no share of this security domain.
    NoMatchingShare,
    /// The HSM's SD file does not name the custodians and quorum that were sent.
    NotWhatWasSent,
    /// The file is one of the ceremony's, of another kind than expected.
    WrongFile {
        /// What it is.
        found: crate::artifact::ArtifactKind,
        /// What was expected.
        expected: crate::artifact::ArtifactKind,
    },
    /// The random number generator failed.
    Rng,
    /// A cryptographic primitive failed (should not happen with valid inputs).
    Crypto(crate::primitives::crypto_error::CryptoError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Base64 { what } => write!(f, "{what} is not valid base64"),
            Error::Json { what, detail } => write!(f, "{what} is not valid: {detail}"),
            Error::JweFormat(d) => write!(f, "malformed JWE: {d}"),
            Error::JweAlgorithm { alg, enc } => {
                write!(f, "JWE algorithm alg={alg:?} enc={enc:?} is not one Azure uses; refused")
            }
            Error::JweTagLength { found, expected } => {
                write!(f, "JWE authentication tag is {found} bytes, it must be exactly {expected}; refused")
            }
            Error::JweIntegrity => {
                write!(f, "JWE authentication tag does not match: the data was altered or the key is wrong")
            }
            Error::KeyUnwrap => write!(f, "RSA-OAEP decryption failed: encrypted to another key, or altered"),
            Error::Shamir(d) => write!(f, "invalid shares: {d}"),
            Error::Certificate(d) => write!(f, "invalid certificate: {d}"),
            Error::PrivateKey(d) => write!(f, "invalid private key: {d}"),
            Error::PassphraseRequired => write!(f, "the private key is encrypted; a passphrase is needed"),
            Error::WrongPassphrase => write!(f, "wrong passphrase (or the key file is damaged)"),
            Error::SdFile(d) => write!(f, "invalid security domain file: {d}"),
            Error::RestoreBlob(d) => write!(f, "invalid restore blob: {d}"),
            Error::DownloadRequest(d) => write!(f, "invalid download request: {d}"),
            Error::CustodianSet(d) => write!(f, "{d}"),
            Error::Serialize { what, detail } => write!(f, "cannot serialise the {what} to JSON: {detail}"),
            Error::TransferKey(d) => write!(f, "invalid transfer key: {d}"),
            Error::Bundle(d) => write!(f, "bundle rejected: {d}"),
            Error::NoMatchingShare => write!(f, "this key opens no share in this file"),
            Error::NotWhatWasSent => {
                write!(f, "the HSM's SD file does not name the custodians and quorum that were sent")
            }
            Error::WrongFile { found, expected } => write!(f, "this is {found}, not {expected}"),
            Error::Rng => write!(f, "the system random number generator failed"),
            Error::Crypto(d) => write!(f, "cryptographic operation failed: {d}"),
        }
    }
}

impl std::error::Error for Error {}
