//! One module per command; this one resolves the target and dispatches.

pub mod activate;
pub mod backup;
pub mod init_recovery;
pub mod inventory;
pub mod key;
pub mod manage;
pub mod operator_init;
pub mod operator_renew;
pub mod role;
pub mod status;
pub mod upload;

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::local_target::LocalTarget;
use ceremony_cli::unlocked_key::UnlockedKey;
use clap::CommandFactory;
use sd_core::handoff::operator_handover::check_operator_can_sign;

use crate::access_token;
use crate::cli::{Cli, Command, OperatorKeyArgs, Target};
use crate::endpoint::Endpoint;
use crate::http::HsmClient;

/// Runs one command.
pub fn run(cli: Cli) -> CliResult {
    let target = &cli.target;
    match cli.command {
        Command::OperatorInit(args) => operator_init::run(args),
        Command::OperatorRenew(args) => operator_renew::run(args),
        Command::Activate(args) => activate::run(target, args),
        Command::InitRecovery(args) => init_recovery::run(target, args),
        Command::Upload(args) => upload::run(target, args),
        Command::Status(args) => status::run(target, args),
        Command::Wait(args) => status::wait(target, args),
        // Comparing two inventories needs no HSM, nor a token.
        Command::Key(key::KeyCommand::Diff(args)) => inventory::diff(args),
        Command::Key(k) => key::run(target, k),
        Command::Backup(args) => backup::backup(target, args),
        Command::Restore(args) => backup::restore(target, args),
        Command::Role(r) => role::run(target, r),
        Command::Provision(m) => manage::provision::run(target, &m.arm, m.command),
        Command::Show(m) => manage::show::run(target, &m.arm, m.command),
        Command::Delete(m) => manage::delete::run(target, &m.arm, m.command),
        Command::ListDeleted(m) => manage::list_deleted::run(target, &m.arm, m.command),
        Command::Purge(m) => manage::purge::run(target, &m.arm, m.command),
        Command::Recover(m) => manage::recover::run(target, &m.arm, m.command),
        Command::Completions(args) => ceremony_cli::manual::completions(&args, Cli::command()),
        Command::Manpages(args) => {
            ceremony_cli::manual::manpages(&args, Cli::command(), include_str!("../../man-examples.txt"))
        }
    }
}

/// The target HSM's name: `--hsm NAME`, the NAME of a Managed HSM URL, or `--hsm-name`.
fn hsm_name(target: &Target) -> CliResult<String> {
    let from_url = match &target.hsm_url {
        Some(url) => Endpoint::parse(url, "--hsm-url")?.managed_hsm_name().map(str::to_owned),
        None => None,
    };
    match (&target.hsm, from_url, &target.hsm_name) {
        (Some(name), _, _) => Ok(name.to_string()),
        (None, Some(name), None) => Ok(name),
        (None, Some(name), Some(given)) if given.is(&name) => Ok(name),
        (None, Some(name), Some(given)) => Err(CliError::general(format!(
            "--hsm-name {given:?} disagrees with the URL, which names {name:?}"
        ))
        .hint("leave out --hsm-name: the URL already names the HSM")),
        (None, None, Some(given)) => Ok(given.to_string()),
        (None, None, None) => {
            Err(CliError::general("which HSM is this? The exchange key must be attested for a named HSM")
                .hint("give --hsm-name NAME with --hsm-url (the emulator's --hsm-name)"))
        }
    }
}

/// The HSM client for `--hsm` / `--hsm-url`, with a token.
fn connect(target: &Target) -> CliResult<HsmClient> {
    connect_with_api_version(target, DATA_PLANE_API_VERSION)
}

/// The api-version for the security domain and keys, unless --api-version says otherwise.
const DATA_PLANE_API_VERSION: &str = "7.5";

/// [`connect`], with the api-version `default` unless --api-version was given.
pub(crate) fn connect_with_api_version(target: &Target, default: &str) -> CliResult<HsmClient> {
    // `--hsm NAME` is the emulator's HSM NAME when HSM_CEREMONY_TARGET names one;
    // what the flags leave out (trust, token) then comes from its folder.
    let local = match (&target.hsm, &target.hsm_url) {
        (Some(_), None) => LocalTarget::from_env(),
        _ => None,
    };
    let endpoint = match (&target.hsm, &target.hsm_url, &local) {
        (Some(name), None, Some(t)) => Endpoint::parse(&t.hsm_url(name.as_str())?, "the emulator's URL")?,
        (Some(name), None, None) => Endpoint::managed_hsm(name),
        (None, Some(url), _) => Endpoint::parse(url, "--hsm-url")?,
        _ => {
            return Err(CliError::general("say which HSM: --hsm NAME or --hsm-url URL")
                .hint("for the local emulator, `. DIR/env` first lets --hsm NAME reach it"));
        }
    };
    let token_file = target.token_file.clone().or_else(|| local.as_ref().map(LocalTarget::token_file));
    let token = access_token::obtain(&access_token::DATA_PLANE, token_file.as_deref(), &endpoint)?;
    let api_version = target.api_version.as_deref().unwrap_or(default);
    let ca_cert = target.ca_cert.clone().or_else(|| local.as_ref().map(LocalTarget::ca_cert));
    HsmClient::new(&endpoint, ca_cert.as_deref(), api_version, token)
}

/// The operator's key, with its certificate (needed to sign), which must
/// stay valid for as long as a recovery may rely on what it signs now.
fn load_operator(args: &OperatorKeyArgs) -> CliResult<UnlockedKey> {
    let key = UnlockedKey::load(&args.operator_key, args.passphrase_file.as_deref())?;
    let cert = key.require_cert()?;
    check_operator_can_sign(cert, ceremony_cli::now_unix()).map_err(|e| {
        let renew = "renew it while it is still valid: `uploader operator-renew --operator-key OLD.key --out DIR`, then every custodian checks the handover with `keyholder verify` and pins the new fingerprint";
        CliError::file(key.name(), e).hint(renew)
    })?;
    Ok(key)
}
