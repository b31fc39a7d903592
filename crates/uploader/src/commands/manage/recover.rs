//! `uploader recover`: a soft-deleted Managed HSM back, with its security
//! domain and keys (`createMode: Recover`, as az sends it).

use azure_shapes::Location;
use azure_shapes::managed_hsm::{ManagedHsmRequest, RequestProperties};
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::outln;

use super::{HsmResource, print_summary, read_hsm};
use crate::cli::Target;
use crate::http::Method;
use crate::http::resource_manager::{Arm, ArmArgs, HSM_API};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    hsm: HsmResource,
    /// Its region.
    #[arg(long, value_name = "LOCATION")]
    location: Location,
}

/// `uploader recover`: the same HSM back, with its security domain and keys.
pub fn run(target: &Target, arm: &ArmArgs, args: Args) -> CliResult {
    let arm = Arm::connect(arm, target.ca_cert.as_deref())?;
    // Azure's service wants "Recover" spelt so (az sends it capitalised).
    let body = ManagedHsmRequest {
        location: args.location.to_string(),
        properties: RequestProperties { create_mode: Some("Recover".into()), ..Default::default() },
        ..Default::default()
    };
    let body = serde_json::to_string(&body).map_err(|e| {
        // no hint: serialising our own request failing is a bug to report.
        CliError::general(format!("the request body: {e}"))
    })?;
    let path = Arm::hsm_path(&args.hsm.resource_group, &args.hsm.name);
    let started = arm.call(Method::Put(body.as_bytes()), &path, HSM_API)?;
    if !matches!(started.status, 200..=202) {
        return Err(started.error("recovering the Managed HSM"));
    }
    arm.follow(started, "recovery", false, &|| None)?;
    let resource = read_hsm(&arm, &args.hsm)?;
    outln!("recovered Managed HSM {}", args.hsm.name);
    print_summary(&resource.hsm);
    Ok(())
}
