//! `uploader show`: a Managed HSM resource, summed up or whole.

use ceremony_cli::error::CliResult;
use ceremony_cli::outln;

use super::{HsmResource, print_summary, read_hsm};
use crate::cli::Target;
use crate::http::resource_manager::{Arm, ArmArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    hsm: HsmResource,
    /// Print the resource as JSON.
    #[arg(long)]
    json: bool,
}

/// `uploader show`.
pub fn run(target: &Target, arm: &ArmArgs, args: Args) -> CliResult {
    let arm = Arm::connect(arm, target.ca_cert.as_deref())?;
    let resource = read_hsm(&arm, &args.hsm)?;
    if args.json {
        outln!("{:#}", resource.raw);
    } else {
        outln!("Managed HSM {}", args.hsm.name);
        print_summary(&resource.hsm);
    }
    Ok(())
}
