//! Reading the certificates every tool handles, with errors that name the
//! file, and showing fingerprints to read aloud.

use std::path::Path;

use sd_core::pki::cert::{self, Certificate};

use crate::error::{CliResult, InFile};
use crate::{files, outln};

/// Reads a certificate file (PEM or DER); it must be self-signed, as every
/// certificate in a ceremony is (see [`Certificate::require_self_signed`]).
pub fn load_certificate(path: &Path) -> CliResult<Certificate> {
    let cert = Certificate::from_pem_or_der(&files::read(path)?).in_file(path)?;
    cert.require_self_signed().in_file(path)?;
    Ok(cert)
}

/// Prints a certificate's fingerprint in both forms, for reading aloud (its
/// subject, which anyone can choose, escaped and capped).
pub fn print_fingerprint(label: &str, cert: &Certificate) {
    outln!("{label}: {}", crate::terminal::capped(&cert.subject()));
    outln!("  x5t#S256:    {}", cert.x5t_s256());
    outln!("  read aloud:  {}", cert::readable_fingerprint(&cert.sha256()));
}

/// A certificate's fingerprints as JSON, for `--json` output.
pub fn fingerprint_json(label: &str, cert: &Certificate) -> serde_json::Value {
    serde_json::json!({
        "label": label,
        "subject": cert.subject(),
        "sha256": sd_core::primitives::hex::hex_lower(&cert.sha256()),
        "x5t_s256": cert.x5t_s256(),
        "read_aloud": cert::readable_fingerprint(&cert.sha256()),
    })
}
