//! `uploader provision | show | delete | list-deleted | purge | recover`: the
//! Managed HSM resource itself, through Azure Resource Manager — the first
//! half of Azure's quickstart and its clean-up, which a drill on real Azure
//! needs (a throwaway HSM, deleted and purged at the end).

use ceremony_cli::confirm;
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::{errln, outln};
use serde_json::{Value, json};

use crate::access_token;
use crate::arm::{Arm, ArmArgs, ArmPath, GROUP_API, HSM_API};
use crate::cli::Target;
use crate::client::Method;
use crate::resource_names::{Location, ResourceGroup};
use sd_core::HsmName;

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

#[derive(clap::Args)]
pub struct ProvisionArgs {
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
    #[command(flatten)]
    arm: ArmArgs,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    hsm: HsmResource,
    /// Print the resource as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    arm: ArmArgs,
}

#[derive(clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    hsm: HsmResource,
    /// Do not ask for the name to be typed.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    arm: ArmArgs,
}

#[derive(clap::Args)]
pub struct ListDeletedArgs {
    /// Print the list as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    arm: ArmArgs,
}

#[derive(clap::Args)]
pub struct PurgeArgs {
    /// The deleted HSM's name.
    #[arg(long)]
    name: HsmName,
    /// Its region.
    #[arg(long, value_name = "LOCATION")]
    location: Location,
    /// Do not ask for the name to be typed.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    arm: ArmArgs,
}

#[derive(clap::Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    hsm: HsmResource,
    /// Its region.
    #[arg(long, value_name = "LOCATION")]
    location: Location,
    #[command(flatten)]
    arm: ArmArgs,
}

/// The Managed HSM resource, as Resource Manager returns it.
fn read_hsm(arm: &Arm, rg: &ResourceGroup, name: &HsmName) -> CliResult<Value> {
    let resp = arm.call(Method::Get, &Arm::hsm_path(rg, name), HSM_API)?;
    if resp.status != 200 {
        return Err(resp.error("reading the Managed HSM"));
    }
    resp.json("Managed HSM")
}

/// The resource's status text, for progress lines.
fn status_of(arm: &Arm, rg: &ResourceGroup, name: &HsmName) -> Option<String> {
    let v = read_hsm(arm, rg, name).ok()?;
    let p = &v["properties"];
    Some(format!("{}: {}", p["provisioningState"].as_str()?, p["statusMessage"].as_str().unwrap_or_default()))
}

fn summary(v: &Value) -> Vec<(String, String)> {
    let p = &v["properties"];
    let s = |x: &Value| x.as_str().map(String::from).unwrap_or_else(|| x.to_string());
    vec![
        ("name".into(), s(&v["name"])),
        ("uri".into(), s(&p["hsmUri"])),
        ("provisioning".into(), format!("{}: {}", s(&p["provisioningState"]), s(&p["statusMessage"]))),
        ("activation".into(), s(&p["securityDomainProperties"]["activationStatus"])),
        ("location".into(), s(&v["location"])),
        ("retention".into(), format!("{} days", s(&p["softDeleteRetentionInDays"]))),
        ("purge protection".into(), s(&p["enablePurgeProtection"])),
        ("administrators".into(), s(&p["initialAdminObjectIds"])),
    ]
}

fn print_summary(v: &Value) {
    for (k, val) in summary(v) {
        outln!("  {:<17} {val}", format!("{k}:"));
    }
}

/// `uploader provision`.
pub fn provision(target: &Target, args: ProvisionArgs) -> CliResult {
    let mut admins = Vec::new();
    for a in &args.administrators {
        if a == "me" {
            let id = access_token::az_value(
                &["ad", "signed-in-user", "show", "--query", "id", "-o", "tsv"],
                "your object ID (--administrator me)",
            )?;
            outln!("administrator \"me\" is object ID {id}");
            admins.push(id);
        } else if a.len() == 36 && a.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            admins.push(a.clone());
        } else {
            return Err(CliError::general(format!(
                "--administrator {a:?} is not an object ID (a GUID) or me"
            )));
        }
    }
    let arm = Arm::connect(&args.arm, target.ca_cert.as_deref())?;
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
    let v = resp.json("name check")?;
    if v["nameAvailable"] == false {
        let message = v["message"].as_str().unwrap_or_default();
        let deleted = arm.call(Method::Get, &Arm::deleted_path(&args.location, &args.hsm.name), HSM_API)?;
        let err =
            CliError::general(format!("the name {:?} is not available: {message}", args.hsm.name.as_str()));
        return Err(if deleted.status == 200 {
            err.hint(format!(
                "it belongs to a soft-deleted HSM (still billed): `uploader purge --name {n} --location {l}` frees it, \
                 `uploader recover --name {n} --resource-group RG --location {l}` brings it back",
                n = args.hsm.name,
                l = args.location
            ))
        } else {
            err.hint("choose another name; HSM names are global across Azure")
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
    let body = json!({
        "location": args.location.as_str(),
        "sku": {"family": "B", "name": "Standard_B1"},
        "properties": {
            "tenantId": Value::Null,
            "initialAdminObjectIds": admins,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": args.retention_days,
            "enablePurgeProtection": args.purge_protection,
            "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"},
        },
    });
    let mut body = body;
    if let Some(tenant) = std::env::var("AZURE_TENANT_ID").ok().filter(|t| !t.is_empty()) {
        body["properties"]["tenantId"] = json!(tenant);
    } else if let Some(p) = body["properties"].as_object_mut() {
        p.remove("tenantId");
    }
    let path = Arm::hsm_path(&args.hsm.resource_group, &args.hsm.name);
    errln!("provisioning {} in {} (this takes about 15 minutes on Azure)...", args.hsm.name, args.location);
    let started = arm.call(Method::Put(body.to_string().as_bytes()), &path, HSM_API)?;
    if !matches!(started.status, 200..=202) {
        return Err(started.error("creating the Managed HSM"));
    }
    let (rg, name) = (args.hsm.resource_group.clone(), args.hsm.name.clone());
    arm.follow(started, "provisioning", false, &|| status_of(&arm, &rg, &name))?;
    let v = read_hsm(&arm, &args.hsm.resource_group, &args.hsm.name)?;
    outln!("provisioned Managed HSM {}", args.hsm.name);
    print_summary(&v);
    outln!("next: activate it (the security-domain download), e.g.");
    outln!(
        "  uploader --hsm {} activate --quorum 2 --enrollment A.enrollment.json --enrollment B.enrollment.json \
         --enrollment C.enrollment.json --operator-key operator.key --out sd.json",
        args.hsm.name
    );
    Ok(())
}

/// `uploader show`.
pub fn show(target: &Target, args: ShowArgs) -> CliResult {
    let arm = Arm::connect(&args.arm, target.ca_cert.as_deref())?;
    let v = read_hsm(&arm, &args.hsm.resource_group, &args.hsm.name)?;
    if args.json {
        outln!("{v:#}");
    } else {
        outln!("Managed HSM {}", args.hsm.name);
        print_summary(&v);
    }
    Ok(())
}

/// `uploader delete`: soft delete, after saying what it means.
pub fn delete(target: &Target, args: DeleteArgs) -> CliResult {
    let arm = Arm::connect(&args.arm, target.ca_cert.as_deref())?;
    let path = Arm::hsm_path(&args.hsm.resource_group, &args.hsm.name);
    let v = read_hsm(&arm, &args.hsm.resource_group, &args.hsm.name)?;
    let days = v["properties"]["softDeleteRetentionInDays"].as_u64().unwrap_or(90);
    let protected = v["properties"]["enablePurgeProtection"] == true;
    let given = v["location"].as_str().unwrap_or_default();
    let location: Location = given.parse().map_err(|e| {
        CliError::general(format!(
            "Resource Manager gave the HSM's location as {:?}: {e}",
            ceremony_cli::terminal::capped(given)
        ))
    })?;
    outln!(
        "deleting Managed HSM {} ({}):",
        args.hsm.name,
        v["properties"]["hsmUri"].as_str().unwrap_or_default()
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
        .json("deleted Managed HSM")
        .ok()
        .and_then(|d| d["properties"]["scheduledPurgeDate"].as_str().map(String::from))
        .unwrap_or_else(|| format!("in {days} days"));
    outln!("deleted {} (soft): scheduled purge {purge_date}", args.hsm.name);
    if protected {
        outln!("purge protection holds it until then; `uploader recover` brings it back before that");
    } else {
        outln!("to purge it now: uploader purge --name {} --location {location}", args.hsm.name);
    }
    Ok(())
}

/// `uploader list-deleted`.
pub fn list_deleted(target: &Target, args: ListDeletedArgs) -> CliResult {
    let arm = Arm::connect(&args.arm, target.ca_cert.as_deref())?;
    let resp = arm.call(
        Method::Get,
        &ArmPath::new(&["providers", "Microsoft.KeyVault", "deletedManagedHSMs"]),
        HSM_API,
    )?;
    if resp.status != 200 {
        return Err(resp.error("listing deleted Managed HSMs"));
    }
    let v = resp.json("deleted Managed HSMs")?;
    let items = v["value"].as_array().cloned().unwrap_or_default();
    if args.json {
        outln!("{:#}", Value::Array(items));
        return Ok(());
    }
    if items.is_empty() {
        outln!("no deleted Managed HSMs in subscription {}", arm.subscription);
    }
    for d in &items {
        let p = &d["properties"];
        let s = |x: &Value| x.as_str().unwrap_or_default().to_owned();
        outln!(
            "{}  {}  deleted {}  scheduled purge {}{}",
            s(&d["name"]),
            s(&p["location"]),
            s(&p["deletionDate"]),
            s(&p["scheduledPurgeDate"]),
            if p["purgeProtectionEnabled"] == true { "  (purge protection)" } else { "" }
        );
    }
    Ok(())
}

/// `uploader purge`: gone for good; refused while purge protection holds.
pub fn purge(target: &Target, args: PurgeArgs) -> CliResult {
    let arm = Arm::connect(&args.arm, target.ca_cert.as_deref())?;
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
    let v = resp.json("deleted Managed HSM")?;
    let p = &v["properties"];
    let date = p["scheduledPurgeDate"].as_str().unwrap_or_default().to_owned();
    if p["purgeProtectionEnabled"] == true {
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

/// `uploader recover`: the same HSM back, with its security domain and keys.
pub fn recover(target: &Target, args: RecoverArgs) -> CliResult {
    let arm = Arm::connect(&args.arm, target.ca_cert.as_deref())?;
    // Azure's service wants "Recover" spelt so (az sends it capitalised).
    let body =
        json!({"location": args.location.as_str(), "properties": {"createMode": "Recover"}}).to_string();
    let path = Arm::hsm_path(&args.hsm.resource_group, &args.hsm.name);
    let started = arm.call(Method::Put(body.as_bytes()), &path, HSM_API)?;
    if !matches!(started.status, 200..=202) {
        return Err(started.error("recovering the Managed HSM"));
    }
    arm.follow(started, "recovery", false, &|| None)?;
    let v = read_hsm(&arm, &args.hsm.resource_group, &args.hsm.name)?;
    outln!("recovered Managed HSM {}", args.hsm.name);
    print_summary(&v);
    Ok(())
}
