//! `uploader delete`: a soft delete, after saying what it means (billed and
//! recoverable until purged).

use azure_shapes::Location;
use azure_shapes::managed_hsm::DeletedManagedHsm;
use ceremony_cli::confirm;
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::outln;

use super::{HsmResource, read_hsm};
use crate::cli::Target;
use crate::http::Method;
use crate::http::resource_manager::{Arm, ArmArgs, HSM_API};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    hsm: HsmResource,
    /// Do not ask for the name to be typed.
    #[arg(long)]
    yes: bool,
}

/// `uploader delete`: soft delete, after saying what it means.
pub fn run(target: &Target, arm: &ArmArgs, args: Args) -> CliResult {
    let arm = Arm::connect(arm, target.ca_cert.as_deref())?;
    let path = Arm::hsm_path(&args.hsm.resource_group, &args.hsm.name);
    let hsm = read_hsm(&arm, &args.hsm)?.hsm;
    // Azure's default retention, when the resource does not say.
    let days = hsm.properties.soft_delete_retention_in_days.unwrap_or(90);
    let protected = hsm.properties.enable_purge_protection == Some(true);
    let location: Location = hsm.location.parse().map_err(|e| {
        CliError::general(format!(
            "Resource Manager gave the HSM's location as {:?}: {e}",
            ceremony_cli::terminal::capped(&hsm.location)
        ))
        .hint("`uploader show --json` shows what Resource Manager says; report it if it is not a region")
    })?;
    outln!(
        "deleting Managed HSM {} ({}):",
        args.hsm.name,
        hsm.properties.hsm_uri.as_deref().unwrap_or_default()
    );
    outln!("  it is soft-deleted: recoverable for {days} days, and billed until it is purged;");
    outln!("  its name stays taken until then;");
    if protected {
        outln!("  purge protection is on: it cannot be purged before the {days} days end.");
    } else {
        outln!("  purge it afterwards to stop the billing and free the name.");
    }
    if !args.yes {
        let no_terminal = CliError::general("deleting an HSM needs its name typed, and there is no terminal")
            .hint("pass --yes to delete without asking");
        confirm::typed(&format!("Delete {}?", args.hsm.name), args.hsm.name.as_str(), no_terminal)?;
    }
    let started = arm.call(Method::Delete, &path, HSM_API)?;
    if !matches!(started.status, 200 | 202 | 204) {
        return Err(started.error("deleting the Managed HSM"));
    }
    arm.follow(started, "deletion", true, &|| None)?;
    let deleted = arm.call(Method::Get, &Arm::deleted_path(&location, &args.hsm.name), HSM_API)?;
    let purge_date = deleted
        .json_as::<DeletedManagedHsm>("deleted Managed HSM")
        .ok()
        .and_then(|d| d.properties.scheduled_purge_date)
        .unwrap_or_else(|| format!("in {days} days"));
    outln!("deleted {} (soft): scheduled purge {purge_date}", args.hsm.name);
    if protected {
        outln!("purge protection holds it until then; `uploader recover` brings it back before that");
    } else {
        outln!("to purge it now: uploader purge --name {} --location {location}", args.hsm.name);
    }
    Ok(())
}
