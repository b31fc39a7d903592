//! What can fail in a cryptographic operation on valid input: with the
//! inputs this crate makes, only a broken token or library, so these errors
//! say which operation and leave the rest to the library's own words.

use std::fmt;

/// A cryptographic operation that failed ([`crate::Error::Crypto`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// A key of the wrong length for `what`.
    KeyLength {
        /// The algorithm.
        what: &'static str,
        /// The key's length.
        len: usize,
        /// The length it needs.
        expected: usize,
    },
    /// An AES-GCM nonce of the wrong length.
    NonceLength {
        /// The nonce's length.
        len: usize,
        /// The length it needs.
        expected: usize,
    },
    /// A KDF output length that is not a positive multiple of 8 bits.
    KdfLength(u32),
    /// More KDF output than its counter can count.
    KdfTooLong,
    /// `what` failed (the library's or token's words).
    Operation {
        /// The operation.
        what: &'static str,
        /// The library's explanation.
        detail: String,
    },
    /// A hardware token failed (its library's words).
    Token(String),
    /// A hardware token offers neither RSA-OAEP with SHA-256 nor raw RSA.
    TokenMechanisms(String),
}

impl CryptoError {
    /// `what` failed with the library's error `detail`.
    pub fn operation(what: &'static str, detail: impl fmt::Display) -> CryptoError {
        CryptoError::Operation { what, detail: detail.to_string() }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::KeyLength { what, len, expected } => {
                write!(f, "{what} needs a {expected}-byte key, not {len}")
            }
            CryptoError::NonceLength { len, expected } => {
                write!(f, "AES-GCM nonce must be {expected} bytes, not {len}")
            }
            CryptoError::KdfLength(bits) => {
                write!(f, "KDF output length must be a positive multiple of 8 bits, not {bits}")
            }
            CryptoError::KdfTooLong => f.write_str("KDF output too long"),
            CryptoError::Operation { what, detail } => write!(f, "{what}: {detail}"),
            CryptoError::Token(detail) => write!(f, "token: {detail}"),
            CryptoError::TokenMechanisms(token) => {
                write!(f, "token {token}: offers neither RSA-OAEP with SHA-256 nor raw RSA (CKM_RSA_X_509)")
            }
        }
    }
}
