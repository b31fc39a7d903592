//! `uploader provision | show | delete | list-deleted | purge | recover`: the
//! Managed HSM resource itself, through Azure Resource Manager — the first
//! half of Azure's quickstart and its clean-up, which a drill on real Azure
//! needs (a throwaway HSM, deleted and purged at the end). One module per
//! command; what they share is here.

pub mod delete;
pub mod list_deleted;
pub mod provision;
pub mod purge;
pub mod recover;
pub mod show;

use azure_shapes::ResourceGroup;
use azure_shapes::managed_hsm::ManagedHsm;
use ceremony_cli::error::CliResult;
use ceremony_cli::outln;
use sd_core::HsmName;
use serde_json::Value;

use crate::http::Method;
use crate::http::resource_manager::{Arm, ArmArgs, HSM_API};

/// A Resource Manager command's flags, followed by where Resource Manager
/// is and who we are there (flags every such command takes).
#[derive(clap::Args)]
pub struct WithArm<A: clap::Args> {
    #[command(flatten)]
    pub command: A,
    #[command(flatten)]
    pub arm: ArmArgs,
}

/// `--name` and `--resource-group`: which Managed HSM resource.
#[derive(clap::Args)]
pub struct HsmResource {
    /// The HSM's name (NAME.managedhsm.azure.net; names are global across Azure).
    #[arg(long)]
    name: HsmName,
    /// Its resource group.
    #[arg(long, value_name = "RG")]
    resource_group: ResourceGroup,
}

/// The Managed HSM resource as Resource Manager returned it, and read.
struct Resource {
    /// Every member Azure sent (for `--json`).
    raw: Value,
    /// What the tools use of it.
    hsm: ManagedHsm,
}

/// Reads the Managed HSM resource.
fn read_hsm(arm: &Arm, hsm: &HsmResource) -> CliResult<Resource> {
    let resp = arm.call(Method::Get, &Arm::hsm_path(&hsm.resource_group, &hsm.name), HSM_API)?;
    if resp.status != 200 {
        return Err(resp.error("reading the Managed HSM"));
    }
    Ok(Resource { raw: resp.json("Managed HSM")?, hsm: resp.json_as("Managed HSM")? })
}

/// The resource's status text, for progress lines.
fn status_of(arm: &Arm, hsm: &HsmResource) -> Option<String> {
    let p = read_hsm(arm, hsm).ok()?.hsm.properties;
    Some(format!("{}: {}", p.provisioning_state?, p.status_message.unwrap_or_default()))
}

/// A member for people: its text, or `null` when Azure left it out.
fn shown<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// The resource in a few lines.
fn print_summary(hsm: &ManagedHsm) {
    let p = &hsm.properties;
    let activation = p.security_domain_properties.as_ref().map(|s| s.activation_status.as_str());
    let admins = serde_json::to_string(&p.initial_admin_object_ids).unwrap_or_default();
    let lines = [
        ("name", hsm.name.clone()),
        ("uri", shown(p.hsm_uri.as_deref())),
        (
            "provisioning",
            format!("{}: {}", shown(p.provisioning_state.as_deref()), shown(p.status_message.as_deref())),
        ),
        ("activation", shown(activation)),
        ("location", hsm.location.clone()),
        ("retention", format!("{} days", shown(p.soft_delete_retention_in_days))),
        ("purge protection", shown(p.enable_purge_protection)),
        ("administrators", admins),
    ];
    for (k, val) in lines {
        outln!("  {:<17} {val}", format!("{k}:"));
    }
}
