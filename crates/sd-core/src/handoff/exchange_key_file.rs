//! The recovering HSM's exchange key as a file brings it to the offline side:
//! the transfer-key response the HSM sent (JSON), a recovery request (the
//! exchange certificate it names), or the certificate alone (PEM or DER, as
//! az saves it). Which one it is, is decided here; whether the key may be
//! trusted is decided by its attestation
//! ([`crate::attestation::ExchangeKeyPolicy::verify`]), never by whoever
//! signed the request it came in.

use super::recovery_request::RecoveryRequest;
use crate::Error;
use crate::attestation::ExchangeKeySource;
use crate::bundle::{self, BundleKind};
use crate::pki::cert::Certificate;

/// An exchange key as read from a file, ready for attestation.
#[derive(Debug)]
pub enum ExchangeKeyFile {
    /// The transfer-key response, as the HSM sent it.
    Response(Vec<u8>),
    /// An exchange certificate (from a recovery request, or saved alone).
    Certificate(Box<Certificate>),
}

impl ExchangeKeyFile {
    /// Reads the bytes of such a file.
    pub fn parse(bytes: Vec<u8>) -> Result<ExchangeKeyFile, Error> {
        if let Ok(BundleKind::RecoveryRequest) = bundle::peek_kind(&bytes) {
            // The signatures must hold; the signer is not trusted for the key.
            let signed = bundle::verify_signatures(&bytes, BundleKind::RecoveryRequest)?;
            let request: RecoveryRequest = signed.payload_as()?;
            let cert = Certificate::from_pem_or_der(request.exchange_certificate.as_bytes())?;
            return Ok(ExchangeKeyFile::Certificate(Box::new(cert)));
        }
        if bytes.trim_ascii_start().starts_with(b"{") {
            return Ok(ExchangeKeyFile::Response(bytes));
        }
        Ok(ExchangeKeyFile::Certificate(Box::new(Certificate::from_pem_or_der(&bytes)?)))
    }

    /// What the attestation verifier checks.
    pub fn source(&self) -> ExchangeKeySource<'_> {
        match self {
            ExchangeKeyFile::Response(b) => ExchangeKeySource::Response(b),
            ExchangeKeyFile::Certificate(c) => ExchangeKeySource::Certificate(c),
        }
    }
}
