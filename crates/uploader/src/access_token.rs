//! Where a bearer token comes from: a token file, else an environment
//! variable, else `az account get-access-token`, for the data plane
//! (`--token-file`, `AZURE_ACCESS_TOKEN`) or Resource Manager
//! (`--arm-token-file`, `AZURE_ARM_ACCESS_TOKEN`). Tokens are never printed.

use std::path::Path;
use std::process::{Command, Stdio};

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::files;
use zeroize::Zeroizing;

use crate::endpoint::Endpoint;

/// Who a token is for: where it may come from and which hosts may see it.
pub struct Audience {
    /// The resource `az account get-access-token --resource` asks for.
    pub resource: &'static str,
    /// The environment variable that may hold it.
    pub env: &'static str,
    /// The flag that names a token file.
    pub flag: &'static str,
    /// The hosts a token from the environment or az may be sent to.
    pub trusted: fn(&Endpoint) -> bool,
    /// Those hosts, in words.
    pub trusted_hosts: &'static str,
}

/// The Managed HSM data plane.
pub const DATA_PLANE: Audience = Audience {
    resource: "https://managedhsm.azure.net",
    env: "AZURE_ACCESS_TOKEN",
    flag: "--token-file",
    trusted: |endpoint| endpoint.managed_hsm_name().is_some(),
    trusted_hosts: "a Managed HSM (https://NAME.managedhsm.azure.net)",
};

/// Azure Resource Manager (provisioning, deletion, purge).
pub const MANAGEMENT: Audience = Audience {
    resource: "https://management.azure.com",
    env: "AZURE_ARM_ACCESS_TOKEN",
    flag: "--arm-token-file",
    trusted: Endpoint::is_resource_manager,
    trusted_hosts: "Azure Resource Manager (https://management.azure.com)",
};

fn clean(raw: &str) -> Option<Zeroizing<String>> {
    let t = raw.trim();
    let t = t.strip_prefix("Bearer ").unwrap_or(t);
    (!t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic())).then(|| Zeroizing::new(t.to_owned()))
}

/// Finds a token for `audience` at `base`, saying which sources were tried
/// when none works. A token from the environment or az is a real Azure
/// token: it goes only to the audience's own hosts; any other host (the
/// emulator, a typo, a hostile host) gets only a token from a file.
pub fn obtain(
    audience: &Audience,
    token_file: Option<&Path>,
    base: &Endpoint,
) -> CliResult<Zeroizing<String>> {
    let mut tried = Vec::new();
    if let Some(f) = token_file {
        let text = Zeroizing::new(files::read_text(f)?);
        return clean(&text).ok_or_else(|| {
            CliError::file(f, "does not hold a bearer token")
                .hint("the file holds the token alone, e.g. the emulator's DIR/token or `az account get-access-token --query accessToken -o tsv`")
        });
    }
    if !(audience.trusted)(base) {
        return Err(CliError::general(format!(
            "{base} is not {}: an Azure token from {} or az is never sent there",
            audience.trusted_hosts, audience.env
        ))
        .hint(format!(
            "for the emulator or another test host, give {} (the emulator's DIR/token)",
            audience.flag
        )));
    }
    tried.push(format!("{} (not given)", audience.flag));
    match std::env::var(audience.env) {
        Ok(v) => match clean(&v) {
            Some(t) => return Ok(t),
            None => tried.push(format!("{} (set but empty or not a token)", audience.env)),
        },
        Err(_) => tried.push(format!("{} (not set)", audience.env)),
    }
    let az = Command::new("az")
        .args([
            "account",
            "get-access-token",
            "--resource",
            audience.resource,
            "--query",
            "accessToken",
            "-o",
            "tsv",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match az {
        Ok(out) if out.status.success() => {
            let text = Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
            if let Some(t) = clean(&text) {
                return Ok(t);
            }
            tried.push("az account get-access-token (printed no token)".into());
        }
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err.lines().next().unwrap_or("failed");
            tried.push(format!("az account get-access-token ({first})"));
        }
        Err(e) => tried.push(format!("az account get-access-token (cannot run az: {e})")),
    }
    Err(CliError::general(format!("no access token found; tried: {}", tried.join("; ")))
        .hint(format!("run `az login`, or give {} (for the emulator: its DIR/token)", audience.flag)))
}

/// What `az` says (one line of its stdout), for `az account show` and
/// `az ad signed-in-user show`: `what` names it in errors.
pub fn az_value(args: &[&str], what: &str) -> CliResult<String> {
    let out =
        Command::new("az").args(args).stdin(Stdio::null()).stderr(Stdio::piped()).output().map_err(|e| {
            CliError::general(format!("cannot run az to find {what}: {e}"))
                .hint("install the Azure CLI, or give it on the command line")
        })?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || text.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(CliError::general(format!(
            "az could not tell {what}: {}",
            err.lines().next().unwrap_or("no answer")
        ))
        .hint("run `az login`, or give it on the command line"));
    }
    Ok(text)
}
