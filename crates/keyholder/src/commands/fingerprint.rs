//! `keyholder fingerprint`: what a file is, and the fingerprint to read aloud.

use ceremony_cli::outln;

use std::path::Path;

use sd_core::bundle;
use sd_core::cert::Certificate;
use sd_core::restore_blob::RestoreBlob;
use sd_core::sd_file::SecurityDomain;

use super::print_fingerprint;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files;

pub fn run(path: &Path) -> CliResult {
    let bytes = files::read(path)?;
    let sha = sd_core::sha256_hex(&bytes);
    if let Ok(kind) = bundle::peek_kind(&bytes) {
        let verified = bundle::verify_signatures(&bytes, kind).in_file(path)?;
        outln!("{} bundle, file sha256 {sha}", kind.name());
        for (i, c) in verified.signers().iter().enumerate() {
            print_fingerprint(&format!("signer {}", i + 1), c);
        }
    } else if let Ok(sd) = SecurityDomain::parse(&bytes) {
        outln!("security domain file (version {}), quorum {}", sd.version(), sd.required());
        outln!("  sha256: {sha}");
        for (i, t) in sd.thumbprints().iter().enumerate() {
            outln!("  share {}: x5t#S256 {t}", i + 1);
        }
    } else if let Ok(blob) = RestoreBlob::parse(&bytes) {
        outln!("restore blob, sha256 {sha}");
        outln!("  wrapped to exchange key x5t#S256 {}", blob.exchange_x5t_s256());
    } else if let Ok(cert) = sd_core::transfer_key::parse_response(&bytes) {
        outln!("transfer-key response (an HSM's exchange key), sha256 {sha}");
        print_fingerprint("exchange certificate", &cert);
        outln!("  its attestation: keyholder exchange-key {} --hsm NAME", path.display());
    } else if let Ok(cert) = Certificate::from_pem_or_der(&bytes) {
        print_fingerprint("certificate", &cert);
    } else {
        return Err(CliError::file(
            path,
            "is not a certificate, SD file, restore blob, transfer-key response or hsm-ceremony bundle",
        ));
    }
    Ok(())
}
