//! Where the bearer token comes from: `--token-file`, else the
//! `AZURE_ACCESS_TOKEN` environment variable, else `az account
//! get-access-token`. The token is never printed.

use std::path::Path;
use std::process::{Command, Stdio};

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::files;
use zeroize::Zeroizing;

/// The Managed HSM data-plane resource.
pub const RESOURCE: &str = "https://managedhsm.azure.net";

fn clean(raw: &str) -> Option<Zeroizing<String>> {
    let t = raw.trim();
    let t = t.strip_prefix("Bearer ").unwrap_or(t);
    (!t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic())).then(|| Zeroizing::new(t.to_owned()))
}

/// Finds a token for the HSM at `base`, saying which sources were tried when
/// none works. A token from the environment or az is a real Azure token: it
/// goes only to `https://NAME.managedhsm.azure.net`; any other host (the
/// emulator, a typo, a hostile host) gets only a token from `--token-file`.
pub fn obtain(token_file: Option<&Path>, base: &str) -> CliResult<Zeroizing<String>> {
    let mut tried = Vec::new();
    if let Some(f) = token_file {
        let text = Zeroizing::new(files::read_text(f)?);
        return clean(&text).ok_or_else(|| CliError::file(f, "does not hold a bearer token"));
    }
    if sd_core::attestation::hsm_name_from_url(base).is_none() {
        return Err(CliError::general(format!(
            "{base} is not a Managed HSM (https://NAME.managedhsm.azure.net): an Azure token from \
             AZURE_ACCESS_TOKEN or az is never sent there"
        ))
        .hint("for the emulator or another test host, give --token-file (the emulator's DIR/token)"));
    }
    tried.push("--token-file (not given)".to_owned());
    match std::env::var("AZURE_ACCESS_TOKEN") {
        Ok(v) => match clean(&v) {
            Some(t) => return Ok(t),
            None => tried.push("AZURE_ACCESS_TOKEN (set but empty or not a token)".into()),
        },
        Err(_) => tried.push("AZURE_ACCESS_TOKEN (not set)".into()),
    }
    let az = Command::new("az")
        .args(["account", "get-access-token", "--resource", RESOURCE, "--query", "accessToken", "-o", "tsv"])
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
        .hint("run `az login`, or give --token-file (for the emulator: its DIR/token)"))
}
