//! `keyholder verify`: check any bundle and show what it says.

use ceremony_cli::outln;

use std::path::Path;

use sd_core::bundle::{self, ExpectedSigner};

use super::{load_certificate, print_fingerprint};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files;

pub fn run(path: &Path, signer: Option<&Path>) -> CliResult {
    let bytes = files::read(path)?;
    let kind = bundle::peek_kind(&bytes).in_file(path)?;
    let verified = bundle::verify(&bytes, kind, ExpectedSigner::SelfAsserted).in_file(path)?;
    if let Some(sp) = signer {
        let cert = load_certificate(sp)?;
        if !verified.signers().contains(&cert) {
            return Err(CliError::file(path, format!("is not signed by the certificate {}", sp.display())));
        }
    }
    outln!("valid {} bundle, {} signature(s)", kind.name(), verified.signers().len());
    for (i, c) in verified.signers().iter().enumerate() {
        print_fingerprint(&format!("signer {}", i + 1), c);
    }
    if signer.is_none() {
        outln!("note: confirm the signer's fingerprint out of band, or pass --signer CERT");
    }
    let payload: serde_json::Value = verified.payload_as().in_file(path)?;
    outln!("{payload:#}");
    Ok(())
}
