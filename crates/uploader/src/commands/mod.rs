//! One module per command; this one resolves the target and dispatches.

mod activate;
mod init_recovery;
mod key;
mod operator_init;
mod status;
mod upload;

use std::path::Path;

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::key_file::CustodianKey;

use crate::cli::{Cli, Command, Target};
use crate::client::HsmClient;
use crate::token;

/// Runs one command.
pub fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::OperatorInit { out, protection, force } => {
            operator_init::run(&out, protection.protection(), force)
        }
        Command::Activate {
            quorum,
            enrollments,
            certs,
            operator_key,
            passphrase_file,
            out,
            no_wait,
            force,
        } => {
            let operator = load_operator(&operator_key, passphrase_file.as_deref())?;
            activate::run(
                &connect(&cli.target)?,
                quorum,
                &enrollments,
                &certs,
                &operator,
                &out,
                no_wait,
                force,
            )
        }
        Command::InitRecovery {
            sd,
            combiner,
            operator_key,
            passphrase_file,
            out,
            exchange_key_out,
            attestation,
            force,
        } => {
            let exchange =
                init_recovery::Exchange { hsm_name: hsm_name(&cli.target)?, policy: attestation.policy()? };
            let request = match (out, combiner, operator_key) {
                (Some(out), Some(combiner), Some(key)) => Some(init_recovery::RequestOutput {
                    out,
                    combiner,
                    operator: load_operator(&key, passphrase_file.as_deref())?,
                }),
                _ => None,
            };
            init_recovery::run(
                &connect(&cli.target)?,
                &sd,
                &exchange,
                request.as_ref(),
                exchange_key_out.as_deref(),
                force,
            )
        }
        Command::Upload { restore_blob, no_wait } => {
            upload::run(&connect(&cli.target)?, &restore_blob, no_wait)
        }
        Command::Status { download } => status::run(&connect(&cli.target)?, download),
        Command::Key(k) => key::run(&connect(&cli.target)?, k),
    }
}

/// The target HSM's name: `--hsm NAME`, the NAME of a Managed HSM URL, or `--hsm-name`.
fn hsm_name(target: &Target) -> CliResult<String> {
    let from_url = target.hsm_url.as_deref().and_then(sd_core::attestation::hsm_name_from_url);
    match (&target.hsm, from_url, &target.hsm_name) {
        (Some(name), _, _) => Ok(name.clone()),
        (None, Some(name), None) => Ok(name.to_owned()),
        (None, Some(name), Some(given)) if name == given => Ok(name.to_owned()),
        (None, Some(name), Some(given)) => Err(CliError::general(format!(
            "--hsm-name {given:?} disagrees with the URL, which names {name:?}"
        ))),
        (None, None, Some(given)) => Ok(given.clone()),
        (None, None, None) => Err(CliError::general(
            "which HSM is this? The exchange key must be attested for a named HSM: give --hsm-name NAME with --hsm-url",
        )),
    }
}

/// The HSM client for `--hsm` / `--hsm-url`, with a token.
fn connect(target: &Target) -> CliResult<HsmClient> {
    let base = match (&target.hsm, &target.hsm_url) {
        (Some(name), None) => {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(CliError::general(format!("--hsm {name:?} is not a Managed HSM name")));
            }
            format!("https://{name}.managedhsm.azure.net")
        }
        (None, Some(url)) => url.clone(),
        _ => return Err(CliError::general("say which HSM: --hsm NAME or --hsm-url URL")),
    };
    if !base.starts_with("https://") {
        return Err(CliError::general(format!("the HSM URL {base} must start with https://")));
    }
    let token = token::obtain(target.token_file.as_deref(), &base)?;
    HsmClient::new(&base, target.ca_cert.as_deref(), &target.api_version, token)
}

/// The operator's key, with its certificate (needed to sign).
fn load_operator(path: &Path, passphrase_file: Option<&Path>) -> CliResult<CustodianKey> {
    let key = CustodianKey::load(path, passphrase_file)?;
    key.require_cert()?;
    Ok(key)
}
