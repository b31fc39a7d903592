//! `uploader list-deleted`: the subscription's soft-deleted Managed HSMs,
//! with their purge dates.

use azure_shapes::List;
use azure_shapes::managed_hsm::DeletedManagedHsm;
use ceremony_cli::error::CliResult;
use ceremony_cli::outln;
use serde_json::Value;

use crate::cli::Target;
use crate::http::Method;
use crate::http::resource_manager::{Arm, ArmArgs, ArmPath, HSM_API};

#[derive(clap::Args)]
pub struct Args {
    /// Print the list as JSON.
    #[arg(long)]
    json: bool,
}

/// `uploader list-deleted`.
pub fn run(target: &Target, arm: &ArmArgs, args: Args) -> CliResult {
    let arm = Arm::connect(arm, target.ca_cert.as_deref())?;
    let resp = arm.call(
        Method::Get,
        &ArmPath::new(&["providers", "Microsoft.KeyVault", "deletedManagedHSMs"]),
        HSM_API,
    )?;
    if resp.status != 200 {
        return Err(resp.error("listing deleted Managed HSMs"));
    }
    if args.json {
        let v = resp.json("deleted Managed HSMs")?;
        outln!("{:#}", Value::Array(v["value"].as_array().cloned().unwrap_or_default()));
        return Ok(());
    }
    let list: List<DeletedManagedHsm> = resp.json_as("list of deleted Managed HSMs")?;
    let items = list.value;
    if items.is_empty() {
        outln!("no deleted Managed HSMs in subscription {}", arm.subscription);
    }
    for d in &items {
        let p = &d.properties;
        outln!(
            "{}  {}  deleted {}  scheduled purge {}{}",
            d.name,
            p.location.as_deref().unwrap_or_default(),
            p.deletion_date.as_deref().unwrap_or_default(),
            p.scheduled_purge_date.as_deref().unwrap_or_default(),
            if p.purge_protection_enabled == Some(true) { "  (purge protection)" } else { "" }
        );
    }
    Ok(())
}
