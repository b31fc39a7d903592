//! Azure Key Vault Managed HSM security-domain formats and cryptography, and the
//! signed JSON bundles that hsm-ceremony passes between its offline and online sides.
//!
//! This crate is pure: it opens no file and no socket and reads no clock. Every
//! operation that needs randomness takes the RNG as a parameter, and every
//! operation that needs the time takes it as a parameter, so tests can be
//! deterministic and the binaries decide where entropy and time come from.
//!
//! One module per concept:
//! - [`artifact`]: which ceremony file a byte string is, for "this is X, not Y";
//! - [`b64`]: base64url (JOSE) and standard base64 (`x5c`);
//! - [`aead`]: AES-256-GCM with a detached tag;
//! - [`secret`]: zeroizing containers for secret bytes;
//! - [`kdf`]: NIST SP 800-108 counter-mode KDF with HMAC-SHA-512;
//! - [`jwe`]: compact JWE as Azure uses it (`dir` / `RSA-OAEP-256`, `A256CBC-HS512`);
//! - [`shamir`]: Shamir secret sharing over GF(257) in Azure's share encoding;
//! - [`cert`]: X.509 certificates, thumbprints, self-signed custodian certificates;
//! - [`rsa_key`]: the private-key operations, for key files and hardware tokens alike;
//! - [`private_key`]: PKCS#8 private keys, encrypted or not;
//! - [`enc_data`]: the HSM secrets, encrypted under KDF(master key, tag);
//! - [`sd_file`]: the security-domain file (version 2, and version 1 as PowerShell reads it);
//! - [`restore_blob`]: the restore blob uploaded to a recovering HSM;
//! - [`download_request`]: the JWKs and quorum sent to activate an HSM;
//! - [`transfer_key`]: the HSM's exchange key as the upload endpoint returns it;
//! - [`attestation`]: the exchange key's SGX evidence, verified offline to Intel's root;
//! - [`quorum`]: rebuilding the master key from a quorum, the SD file judging the shares;
//! - [`bundle`]: signed JSON bundles (JWS JSON serialization, PS256, `x5c`);
//! - [`hsm_name`]: the one rule for a Managed HSM's name;
//! - [`handoff`]: each hand-off between the offline and online sides, with its
//!   constructor and its verifier (pinned operator, SD-listed custodians).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aead;
pub mod artifact;
pub mod attestation;
pub mod b64;
pub mod bundle;
pub mod cert;
pub mod download_request;
pub mod enc_data;
mod error;
pub mod handoff;
pub mod hsm_name;
pub mod jwe;
pub mod kdf;
pub mod private_key;
pub mod quorum;
pub mod restore_blob;
pub mod rsa_key;
pub mod sd_file;
pub mod secret;
pub mod shamir;
pub mod transfer_key;

pub use error::Error;
pub use hsm_name::{HsmName, is_managed_hsm_name};
/// The RSA key types every API here uses (from the `rsa` crate).
pub use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
pub use rsa_key::RsaKey;

/// Hex encoding of a SHA-256 digest of `data`, lower case; how we print file hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex_lower(&sha2::Sha256::digest(data))
}

/// Lower-case hex of arbitrary bytes (never used for secrets).
pub fn hex_lower(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(data.len() * 2);
    for b in data {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}
