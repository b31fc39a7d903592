//! `uploader role …`: Managed HSM local RBAC, so the quickstart's "only you
//! are authorized" step has its follow-up: grant a principal a built-in role
//! (at `/`, `/keys` or one key), list the assignments, remove one.

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::outln;
use serde_json::{Value, json};

use crate::cli::Target;
use crate::http::HsmClient;
use azure_shapes::List;
use azure_shapes::Scope;
use azure_shapes::rbac::{
    RoleAssignment, RoleAssignmentRequest, RoleAssignmentRequestProperties, RoleDefinition,
};

const PROVIDER: &str = "/providers/Microsoft.Authorization";
/// The api-version Azure's clients use for local RBAC (az sends it, as recorded).
const RBAC_API_VERSION: &str = "7.4";

#[derive(clap::Subcommand)]
pub enum RoleCommand {
    /// Give a principal a built-in role, at a scope.
    Assign {
        /// The role's name ("Managed HSM Crypto User") or ID.
        #[arg(long)]
        role: String,
        /// The principal's object ID (a user, group, service principal or managed identity).
        #[arg(long, value_name = "OBJECT_ID")]
        principal: String,
        /// Where the role applies: /, /keys, or /keys/NAME (one key).
        #[arg(long, default_value = "/")]
        scope: String,
        /// The assignment's name (a GUID); a random one by default.
        #[arg(long, value_name = "GUID")]
        name: Option<String>,
    },
    /// List the role assignments at a scope and below, with role names.
    List {
        /// /, /keys, or /keys/NAME.
        #[arg(long, default_value = "/")]
        scope: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a role assignment.
    Delete {
        /// The assignment's name (a GUID: the "assignment" column of `role list`).
        #[arg(long, visible_alias = "assignment", value_name = "GUID")]
        name: String,
        /// The scope it was made at.
        #[arg(long, default_value = "/")]
        scope: String,
    },
}

/// `/`, `/keys` or `/keys/NAME`, as a path prefix ("" for `/`).
fn scope_path(scope: &str) -> CliResult<String> {
    let scope: Scope = scope.parse().map_err(|e| {
        CliError::general(format!("--scope {scope:?}: {e}")).hint("a scope is /, /keys or /keys/NAME")
    })?;
    Ok(scope.path_prefix().to_owned())
}

fn guid_like(s: &str) -> bool {
    s.parse::<azure_shapes::Guid>().is_ok()
}

fn new_guid() -> CliResult<String> {
    azure_shapes::Guid::random().map(|g| g.to_string()).map_err(|e| {
        // no hint: the operating system's RNG failing leaves nothing to do but stop.
        CliError::general(format!("the random number generator failed: {e}"))
    })
}

/// The HSM's answer read as `T`, when its status is one of `ok`.
fn answer<T: serde::de::DeserializeOwned>(
    resp: crate::http::HttpResponse,
    ok: &[u16],
    what: &str,
) -> CliResult<T> {
    if !ok.contains(&resp.status) {
        return Err(resp.error(what));
    }
    resp.json_as(what)
}

/// The HSM's role definitions: (ID, name).
fn definitions(client: &HsmClient) -> CliResult<Vec<(String, String)>> {
    let what = "listing role definitions";
    let list: List<RoleDefinition> =
        answer(client.get(&format!("{PROVIDER}/roleDefinitions"))?, &[200], what)?;
    Ok(list.value.into_iter().map(|d| (d.id, d.properties.role_name)).collect())
}

pub fn run(target: &Target, command: RoleCommand) -> CliResult {
    let client = super::connect_with_api_version(target, RBAC_API_VERSION)?;
    match command {
        RoleCommand::Assign { role, principal, scope, name } => {
            let path = scope_path(&scope)?;
            if !guid_like(&principal) {
                return Err(CliError::general(format!(
                    "--principal {principal:?} is not an object ID (a GUID)"
                ))
                .hint("a user's object ID: `az ad user show --id NAME@DOMAIN --query id -o tsv`; an application's: `az ad sp show --id APP_ID --query id -o tsv`"));
            }
            let defs = definitions(&client)?;
            let (id, role_name) = defs
                .iter()
                .find(|(id, n)| n.eq_ignore_ascii_case(&role) || id.rsplit('/').next() == Some(role.as_str()))
                .ok_or_else(|| {
                    let names: Vec<&str> = defs.iter().map(|(_, n)| n.as_str()).collect();
                    CliError::general(format!("--role {role:?} is not a role of this HSM"))
                        .hint(format!("its roles: {}", names.join(", ")))
                })?;
            let name = match name {
                Some(n) if guid_like(&n) => n,
                Some(n) => {
                    return Err(CliError::general(format!("--name {n:?} is not a GUID"))
                        .hint("leave out --name: a new assignment name is made for you"));
                }
                None => new_guid()?,
            };
            let body = RoleAssignmentRequest {
                properties: RoleAssignmentRequestProperties {
                    role_definition_id: id.clone(),
                    principal_id: principal.clone(),
                },
            };
            let body = serde_json::to_string(&body).map_err(|e| {
                // no hint: serialising our own request failing is a bug to report.
                CliError::general(format!("the request body: {e}"))
            })?;
            let url = format!("{path}{PROVIDER}/roleAssignments/{name}");
            answer::<RoleAssignment>(client.put(&url, body.as_bytes())?, &[200, 201], "role assignment")?;
            outln!("assigned {role_name} to {principal} at {scope} (assignment {name})");
        }
        RoleCommand::List { scope, json: as_json } => {
            let path = scope_path(&scope)?;
            let defs = definitions(&client)?;
            let what = "listing role assignments";
            let list: List<RoleAssignment> =
                answer(client.get(&format!("{path}{PROVIDER}/roleAssignments"))?, &[200], what)?;
            let rows: Vec<Value> = list
                .value
                .iter()
                .map(|a| {
                    let id = a.properties.role_definition_id.as_str();
                    let role = defs.iter().find(|(d, _)| d == id).map_or(id, |(_, n)| n.as_str());
                    json!({
                        "name": a.name,
                        "role": role,
                        "principal": a.properties.principal_id,
                        "scope": a.properties.scope,
                    })
                })
                .collect();
            if as_json {
                outln!("{:#}", Value::Array(rows));
            } else {
                outln!("{:<36}  {:<36}  {:<16}  role", "assignment", "principal", "scope");
                for r in &rows {
                    let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
                    outln!(
                        "{:<36}  {:<36}  {:<12}  {}",
                        text("name"),
                        text("principal"),
                        text("scope"),
                        text("role")
                    );
                }
            }
        }
        RoleCommand::Delete { name, scope } => {
            let path = scope_path(&scope)?;
            if !guid_like(&name) {
                return Err(CliError::general(format!("--name {name:?} is not a GUID"))
                    .hint("`uploader role list` shows each assignment's name (a GUID)"));
            }
            let resp = client.delete(&format!("{path}{PROVIDER}/roleAssignments/{name}"))?;
            if resp.status == 404 {
                // An assignment is deleted at the scope it was made at.
                return Err(CliError::general(format!("no role assignment {name} at scope {scope}"))
                    .hint("`uploader role list --scope SCOPE` shows the assignments at a scope; give that scope as --scope"));
            }
            if !matches!(resp.status, 200 | 204) {
                return Err(resp.error("deleting the role assignment"));
            }
            outln!("deleted role assignment {name} at {scope}");
        }
    }
    Ok(())
}
