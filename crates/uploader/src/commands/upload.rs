//! `uploader upload`: send the restore blob and wait until the HSM is active.

use std::path::PathBuf;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::{errln, files, outln};
use sd_core::azure::restore_blob::RestoreBlob;
use sd_core::azure::transfer_key;
use serde_json::json;

use crate::cli::Target;
use crate::poll;

#[derive(clap::Args)]
pub struct Args {
    /// The restore blob (from keyholder restore-blob / combine, or az).
    #[arg(long, value_name = "BLOB.json")]
    restore_blob: PathBuf,
    /// Do not wait for the HSM to report Success.
    #[arg(long)]
    no_wait: bool,
}

pub fn run(target: &Target, args: Args) -> CliResult {
    let (blob_path, no_wait) = (args.restore_blob.as_path(), args.no_wait);
    let text = files::read_text(blob_path)?;
    let blob = RestoreBlob::parse(text.as_bytes()).in_file(blob_path)?;
    let client = &super::connect(target)?;
    // A blob wrapped to another exchange key can only fail: say so before uploading.
    let resp = client.get("/securitydomain/upload")?;
    if resp.status != 200 {
        return Err(resp.error("fetching the exchange (transfer) key"));
    }
    let exchange = transfer_key::parse_response(&resp.body).map_err(CliError::general)?;
    if exchange.x5t_s256() != blob.exchange_x5t_s256() {
        return Err(CliError::file(
            blob_path,
            format!(
                "is wrapped to exchange key {}, but {} has exchange key {}",
                blob.exchange_x5t_s256(),
                client.base(),
                exchange.x5t_s256()
            ),
        )
        .hint("make the restore blob again with this HSM's exchange key (uploader init-recovery)"));
    }
    errln!("uploading {} to {}...", blob_path.display(), client.base());
    // As az does: the file content verbatim as `value`.
    let body = json!({"value": text}).to_string();
    let resp = client.post("/securitydomain/upload", body.as_bytes())?;
    if !matches!(resp.status, 200 | 202 | 204) {
        return Err(resp.error("security-domain upload"));
    }
    if no_wait {
        outln!("uploaded; not waiting; check with `uploader status`");
        return Ok(());
    }
    let s = poll::wait(client, "/securitydomain/upload/pending", "recovery").map_err(|e| {
        e.context(format!("{}: the HSM did not accept this restore blob", blob_path.display()))
            .hint("the HSM stays not activated, so a corrected blob can be uploaded")
    })?;
    outln!("{}: {}", s.status, s.details);
    Ok(())
}
