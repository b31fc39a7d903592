//! `uploader status` and `uploader wait`: the HSM's word on the last
//! download or upload, once or until it is done.

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

/// Which operation, and where the HSM reports it.
fn operation(download: bool) -> (&'static str, &'static str) {
    if download {
        ("download", "/securitydomain/download/pending")
    } else {
        ("upload", "/securitydomain/upload/pending")
    }
}

#[derive(clap::Args)]
pub struct WaitArgs {
    /// Wait for the download (activation) instead of the upload (recovery).
    #[arg(long)]
    download: bool,
}

/// `uploader wait`: polls until the operation succeeds (exit 0) or fails (exit 1).
pub fn wait(target: &Target, args: WaitArgs) -> CliResult {
    let client = super::connect(target)?;
    let (operation, path) = operation(args.download);
    let what = if args.download { "activation" } else { "recovery" };
    let s = poll::wait(&client, path, what).map_err(|e| {
        e.hint(format!(
            "`uploader status{}` shows the HSM's last word",
            if args.download { " --download" } else { "" }
        ))
    })?;
    outln!("{}: {} ({operation})", s.status, s.details);
    Ok(())
}

pub fn run(target: &Target, args: Args) -> CliResult {
    let client = super::connect(target)?;
    let (operation, path) = operation(args.download);
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
        return Err(CliError::general(format!("the HSM reports the {operation} failed: {}", s.details))
            .hint("the HSM's reason is above; after fixing its cause, run the step again"));
    }
    Ok(())
}
