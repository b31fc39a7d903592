//! `uploader provision`: a new Managed HSM, once its name is free and its
//! resource group exists, followed until it is ready.

use azure_shapes::managed_hsm::{DeletedManagedHsm, ManagedHsmRequest, NameAvailability, RequestProperties};
use azure_shapes::{Guid, Location};
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::local_target::LocalTarget;
use ceremony_cli::{errln, outln};
use serde_json::json;

use super::{HsmResource, print_summary, read_hsm, status_of};
use crate::access_token;
use crate::cli::Target;
use crate::http::Method;
use crate::http::resource_manager::{Arm, ArmArgs, ArmPath, GROUP_API, HSM_API};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    hsm: HsmResource,
    /// The region, e.g. westeurope.
    #[arg(long, value_name = "LOCATION")]
    location: Location,
    /// An initial administrator's object ID; repeat for several. `me`: the
    /// signed-in az user (`az ad signed-in-user show`).
    #[arg(long = "administrator", value_name = "OBJECT_ID", required = true)]
    administrators: Vec<String>,
    /// Days a deleted HSM stays recoverable (and billed) before it is purged.
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(7..=90))]
    retention_days: u64,
    /// Turn purge protection on: a deleted HSM cannot be purged until its
    /// retention ends. This cannot be undone.
    #[arg(long)]
    purge_protection: bool,
    /// Create the resource group if it does not exist.
    #[arg(long)]
    create_resource_group: bool,
}

/// `uploader provision`.
pub fn run(target: &Target, arm: &ArmArgs, args: Args) -> CliResult {
    let mut admins = Vec::new();
    for a in &args.administrators {
        if a == "me" {
            // The signed-in az user, or the emulator's administrator when it stands in for Azure.
            let id = match LocalTarget::from_env() {
                Some(local) => local.principal()?,
                None => access_token::az_value(
                    &["ad", "signed-in-user", "show", "--query", "id", "-o", "tsv"],
                    "your object ID (--administrator me)",
                )?,
            };
            outln!("administrator \"me\" is object ID {id}");
            admins.push(id);
        } else if let Ok(id) = a.parse::<Guid>() {
            admins.push(id.to_string());
        } else {
            return Err(CliError::general(format!(
                "--administrator {a:?} is not an object ID (a GUID) or me"
            ))
            .hint("`az ad user show --id USER --query id -o tsv` gives a user's object ID"));
        }
    }
    let arm = Arm::connect(arm, target.ca_cert.as_deref())?;
    // Is the name free? A soft-deleted HSM keeps it until purged.
    let check = json!({"name": args.hsm.name.as_str(), "type": "Microsoft.KeyVault/managedHSMs"}).to_string();
    let resp = arm.call(
        Method::Post(check.as_bytes()),
        &ArmPath::new(&["providers", "Microsoft.KeyVault", "checkMhsmNameAvailability"]),
        HSM_API,
    )?;
    if resp.status != 200 {
        return Err(resp.error("checking the name"));
    }
    let check: NameAvailability = resp.json_as("name check")?;
    if !check.name_available {
        let message = check.message.unwrap_or_default();
        let deleted = arm.call(Method::Get, &Arm::deleted_path(&args.location, &args.hsm.name), HSM_API)?;
        let err =
            CliError::general(format!("the name {:?} is not available: {message}", args.hsm.name.as_str()));
        let protected_until = deleted
            .json_as::<DeletedManagedHsm>("deleted Managed HSM")
            .ok()
            .filter(|d| d.properties.purge_protection_enabled == Some(true))
            .map(|d| d.properties.scheduled_purge_date.unwrap_or_else(|| "its scheduled purge date".into()));
        let (n, l) = (&args.hsm.name, &args.location);
        return Err(match (deleted.status, protected_until) {
            (200, Some(until)) => err.hint(format!(
                "it belongs to a soft-deleted HSM under purge protection (billed, and its name held, until {until}): \
                 `uploader recover --name {n} --resource-group RG --location {l}` brings it back, or choose another name"
            )),
            (200, None) => err.hint(format!(
                "it belongs to a soft-deleted HSM (still billed): `uploader purge --name {n} --location {l}` frees it, \
                 `uploader recover --name {n} --resource-group RG --location {l}` brings it back"
            )),
            _ => {
                err.hint("choose another name; HSM names are global across Azure")
            }
        });
    }
    // The resource group.
    let group = ArmPath::new(&["resourcegroups", args.hsm.resource_group.as_str()]);
    let resp = arm.call(Method::Get, &group, GROUP_API)?;
    match resp.status {
        200 => {}
        404 if args.create_resource_group => {
            let body = json!({"location": args.location.as_str()}).to_string();
            let resp = arm.call(Method::Put(body.as_bytes()), &group, GROUP_API)?;
            if !matches!(resp.status, 200 | 201) {
                return Err(resp.error("creating the resource group"));
            }
            outln!("created resource group {} in {}", args.hsm.resource_group, args.location);
        }
        404 => {
            return Err(CliError::general(format!(
                "resource group {:?} does not exist",
                args.hsm.resource_group.as_str()
            ))
            .hint("create it (az group create), or pass --create-resource-group"));
        }
        _ => return Err(resp.error("reading the resource group")),
    }
    if args.purge_protection {
        errln!(
            "warning: purge protection cannot be turned off: once this HSM is deleted it cannot be purged for {} days, \
             and it is billed until then",
            args.retention_days
        );
    }
    let body = ManagedHsmRequest {
        location: args.location.to_string(),
        sku: Some(json!({"family": "B", "name": "Standard_B1"})),
        tags: None,
        properties: RequestProperties {
            // The caller's tenant unless one is named.
            tenant_id: std::env::var("AZURE_TENANT_ID").ok().filter(|t| !t.is_empty()),
            initial_admin_object_ids: admins,
            enable_soft_delete: Some(true),
            soft_delete_retention_in_days: Some(args.retention_days),
            enable_purge_protection: Some(args.purge_protection),
            create_mode: None,
            network_acls: Some(json!({"bypass": "AzureServices", "defaultAction": "Allow"})),
        },
    };
    let body = serde_json::to_string(&body).map_err(|e| {
        // no hint: serialising our own request failing is a bug to report.
        CliError::general(format!("the request body: {e}"))
    })?;
    let path = Arm::hsm_path(&args.hsm.resource_group, &args.hsm.name);
    errln!("provisioning {} in {} (this takes about 15 minutes on Azure)...", args.hsm.name, args.location);
    let started = arm.call(Method::Put(body.as_bytes()), &path, HSM_API)?;
    if !matches!(started.status, 200..=202) {
        return Err(started.error("creating the Managed HSM"));
    }
    arm.follow(started, "provisioning", false, &|| status_of(&arm, &args.hsm))?;
    let resource = read_hsm(&arm, &args.hsm)?;
    outln!("provisioned Managed HSM {}", args.hsm.name);
    print_summary(&resource.hsm);
    outln!("next: activate it (the security-domain download), e.g.");
    outln!(
        "  uploader --hsm {} activate --quorum 2 --enrollment A.enrollment.json --enrollment B.enrollment.json \
         --enrollment C.enrollment.json --operator-key operator.key --out sd.json",
        args.hsm.name
    );
    Ok(())
}
