//! `uploader purge`: a deleted Managed HSM gone for good; refused while
//! purge protection holds.

use azure_shapes::Location;
use azure_shapes::managed_hsm::DeletedManagedHsm;
use ceremony_cli::confirm;
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::outln;
use sd_core::HsmName;

use crate::cli::Target;
use crate::http::Method;
use crate::http::resource_manager::{Arm, ArmArgs, HSM_API};

#[derive(clap::Args)]
pub struct Args {
    /// The deleted HSM's name.
    #[arg(long)]
    name: HsmName,
    /// Its region.
    #[arg(long, value_name = "LOCATION")]
    location: Location,
    /// Do not ask for the name to be typed.
    #[arg(long)]
    yes: bool,
}

/// `uploader purge`: gone for good; refused while purge protection holds.
pub fn run(target: &Target, arm: &ArmArgs, args: Args) -> CliResult {
    let arm = Arm::connect(arm, target.ca_cert.as_deref())?;
    let path = Arm::deleted_path(&args.location, &args.name);
    let resp = arm.call(Method::Get, &path, HSM_API)?;
    if resp.status == 404 {
        return Err(CliError::general(format!(
            "no deleted Managed HSM {:?} in {}",
            args.name.as_str(),
            args.location
        ))
        .hint("`uploader list-deleted` shows what can be purged"));
    }
    if resp.status != 200 {
        return Err(resp.error("reading the deleted Managed HSM"));
    }
    let deleted: DeletedManagedHsm = resp.json_as("deleted Managed HSM")?;
    let p = &deleted.properties;
    let date = p.scheduled_purge_date.clone().unwrap_or_default();
    if p.purge_protection_enabled == Some(true) {
        let until = sd_core::time::parse_rfc3339(&date).unwrap_or(u64::MAX);
        if ceremony_cli::now_unix() < until {
            return Err(CliError::general(format!(
                "{} has purge protection: it cannot be purged before {date}",
                args.name
            ))
            .hint("it is purged automatically then; until then it stays billed"));
        }
    }
    outln!(
        "purging {}: its keys and security domain are destroyed for good, and its name is freed",
        args.name
    );
    if !args.yes {
        let no_terminal = CliError::general("purging an HSM needs its name typed, and there is no terminal")
            .hint("pass --yes to purge without asking");
        confirm::typed(&format!("Purge {} for good?", args.name), args.name.as_str(), no_terminal)?;
    }
    let started = arm.call(Method::Post(b"{}"), &path.child("purge"), HSM_API)?;
    if !matches!(started.status, 200 | 202 | 204) {
        return Err(started.error("purging the Managed HSM"));
    }
    arm.follow(started, "purge", true, &|| None)?;
    outln!("purged {}; the name is free", args.name);
    Ok(())
}
