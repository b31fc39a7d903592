//! Keys and certificates as files: X.509 certificates (custodian, operator,
//! combiner, exchange and TLS) and PKCS#8 private keys, encrypted or not.

pub mod cert;
pub mod certificate_error;
pub mod private_key;
