//! Azure Key Vault Managed HSM security-domain formats and cryptography, and the
//! signed JSON bundles that hsm-ceremony passes between its offline and online sides.
//!
//! This crate is pure: it opens no file and no socket and reads no clock. Every
//! operation that needs randomness takes the RNG as a parameter, and every
//! operation that needs the time takes it as a parameter, so tests can be
//! deterministic and the binaries decide where entropy and time come from.
//!
//! Folders by concept, each importing only from the ones listed before it
//! (a test walks the sources and refuses a module cycle):
//! - [`primitives`]: encodings, secret containers, AES-GCM, the KDF, Shamir
//!   over GF(257), compact JWE, the private-key operations;
//! - [`time`] and [`hsm_name`]: Unix time as files carry it; the one rule for
//!   a Managed HSM's name;
//! - [`pki`]: certificates and PKCS#8 key files;
//! - [`artifact`]: which ceremony file a byte string is, for "this is X, not Y";
//! - [`azure`]: Azure's security-domain formats (SD file, restore blob,
//!   download request, exchange key, quorum);
//! - [`attestation`]: the exchange key's SGX evidence, verified offline to Intel's root;
//! - [`bundle`]: signed JSON bundles (JWS JSON serialization, PS256, `x5c`);
//! - [`handoff`]: each hand-off between the offline and online sides, with its
//!   constructor and its verifier (pinned operator, SD-listed custodians).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod artifact;
pub mod attestation;
pub mod azure;
pub mod bundle;
pub mod ceremony;
mod error;
pub mod handoff;
pub mod hsm_name;
pub mod pki;
pub mod primitives;
pub mod time;

pub use error::Error;
pub use hsm_name::HsmName;
pub use primitives::rsa_key::RsaKey;
/// The RSA key types every API here uses (from the `rsa` crate).
pub use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
