//! `uploader status`: the HSM's word on the last download or upload.

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::outln;

use crate::client::HsmClient;
use crate::poll;

pub fn run(client: &HsmClient, download: bool) -> CliResult {
    let path = if download { "/securitydomain/download/pending" } else { "/securitydomain/upload/pending" };
    let s = poll::status(client, path)?;
    outln!("{}: {}", s.status, s.details);
    if s.failed() {
        return Err(CliError::general(format!("the HSM reports the operation failed: {}", s.details)));
    }
    Ok(())
}
