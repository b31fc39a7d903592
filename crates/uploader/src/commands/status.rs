//! `uploader status`: the HSM's word on the last download or upload.

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::outln;
use serde_json::json;

use crate::cli::Target;
use crate::poll;

#[derive(clap::Args)]
pub struct Args {
    /// Report the download (activation) instead of the upload (recovery).
    #[arg(long)]
    download: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(target: &Target, args: Args) -> CliResult {
    let client = super::connect(target)?;
    let (operation, path) = if args.download {
        ("download", "/securitydomain/download/pending")
    } else {
        ("upload", "/securitydomain/upload/pending")
    };
    let s = poll::status(&client, path)?;
    if args.json {
        let v = json!({
            "hsm": client.base(),
            "operation": operation,
            "status": s.status,
            "status_details": s.details,
            "succeeded": s.succeeded(),
            "failed": s.failed(),
        });
        outln!("{v:#}");
    } else {
        outln!("{}: {}", s.status, s.details);
    }
    if s.failed() {
        return Err(CliError::general(format!("the HSM reports the {operation} failed: {}", s.details)));
    }
    Ok(())
}
