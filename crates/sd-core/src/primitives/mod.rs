//! The building blocks, with no notion of a ceremony: encodings, secret
//! containers, AES-GCM, the KDF, Shamir over GF(257), compact JWE and the
//! private-key operations. Nothing here imports from outside this folder
//! except the crate's error type.

pub mod aead;
pub mod b64;
pub mod crypto_error;
pub mod hex;
pub mod jwe;
pub mod kdf;
pub mod rsa_key;
pub mod secret;
pub mod shamir;
