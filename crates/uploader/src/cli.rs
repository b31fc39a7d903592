//! The command line.

use std::path::PathBuf;

use ceremony_cli::unlocked_key::KeySource;
use clap::{Args, Parser, Subcommand};
use sd_core::HsmName;

use crate::commands;

const AFTER_HELP: &str = "\
Target: --hsm NAME means https://NAME.managedhsm.azure.net; --hsm-url for anything
else (the emulator prints its URL and writes DIR/url; trust it with --ca-cert DIR/ca.pem).
Token: --token-file F, else $AZURE_ACCESS_TOKEN, else `az account get-access-token
--resource https://managedhsm.azure.net`; for provision, show, delete, list-deleted,
purge and recover (Resource Manager): --arm-token-file, $AZURE_ARM_ACCESS_TOKEN, or
az with --resource https://management.azure.com. Tokens are never printed, and one
from the environment or az goes only to Azure's own hosts.

Emulator: with HSM_CEREMONY_TARGET=DIR (the emulator's data folder; `. DIR/env`
sets it), --hsm NAME is the emulator's HSM NAME, and Resource Manager, the token
and the CA certificate come from DIR unless a flag says otherwise.

Exit status: 0 success; 1 the command failed (the message says why, naming the file
or the HSM's answer); 2 the command line itself is wrong.";

/// Online side of hsm-ceremony: activate a Managed HSM, fetch its exchange key, upload a restore blob.
#[derive(Parser)]
#[command(name = "uploader", version = build_info::VERSION, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten, next_help_heading = "Which HSM, and how to authenticate")]
    pub target: Target,
    #[command(subcommand)]
    pub command: Command,
}

/// Which HSM and how to authenticate.
#[derive(Args)]
pub struct Target {
    /// Managed HSM name (https://NAME.managedhsm.azure.net).
    #[arg(long, global = true, value_name = "NAME", conflicts_with = "hsm_url")]
    pub hsm: Option<HsmName>,
    /// Full HSM URL, e.g. the emulator's https://127.0.0.1:PORT.
    #[arg(long, global = true, value_name = "URL")]
    pub hsm_url: Option<String>,
    /// With --hsm-url to a host that is not NAME.managedhsm.azure.net (the
    /// emulator): the HSM's name, which its exchange key must be attested for.
    #[arg(long, global = true, value_name = "NAME", requires = "hsm_url")]
    pub hsm_name: Option<HsmName>,
    /// Trust only this CA certificate (PEM), e.g. the emulator's ca.pem.
    #[arg(long, global = true, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Data-plane api-version (default: 7.5; 7.4 for role commands, as az sends).
    #[arg(long, global = true, value_name = "VERSION")]
    pub api_version: Option<String>,
    /// Read the bearer token from FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// The operator's signing key (`--operator-key`, with operator.cer beside it).
#[derive(Args, Clone)]
pub struct OperatorKeyArgs {
    /// The operator's key (operator.key or a pkcs11: URI; operator.cer beside
    /// it or on the token), to sign what this command produces.
    #[arg(long, value_name = "OP.key")]
    pub operator_key: KeySource,
    /// Passphrase file for the operator key.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Make the operator's signing key (operator.key) and certificate (operator.cer).
    OperatorInit(commands::operator_init::Args),
    /// Renew the operator's identity before it ends: a new key and certificate,
    /// and a handover signed by the old key and the new one, for custodians to
    /// check against the operator they pinned.
    OperatorRenew(commands::operator_renew::Args),
    /// Activate the HSM: send the custodians' certificates and quorum, save the SD file.
    Activate(commands::activate::Args),
    /// Start a recovery: fetch the exchange key and write a signed recovery
    /// request naming it and the combiner (distributed recovery), and/or save
    /// the exchange key as az does (one-laptop recovery).
    InitRecovery(commands::init_recovery::Args),
    /// Upload a restore blob and wait until the HSM is active.
    Upload(commands::upload::Args),
    /// Print the status of the last security-domain upload (or download).
    Status(commands::status::Args),
    /// Wait until the last upload (or, with --download, the activation) is
    /// done: exit 0 when the HSM reports success, 1 when it reports failure.
    Wait(commands::status::WaitArgs),
    /// Full backup of the HSM (every key and role assignment) into a storage
    /// container; prints the backup's folder. Follows the job to the end.
    Backup(commands::backup::BackupArgs),
    /// Restore a full backup's folder into the HSM (or, with --key, one key);
    /// the HSM must hold the security domain the backup was made under.
    Restore(commands::backup::RestoreArgs),
    /// Key operations to prove that keys survive a recovery (drills), and the
    /// key inventory that proves every key came back (`inventory`, `diff`).
    #[command(subcommand, visible_alias = "keys")]
    Key(commands::key::KeyCommand),
    /// Provision a Managed HSM (Azure Resource Manager), and wait until it is ready.
    Provision(commands::manage::WithArm<commands::manage::provision::Args>),
    /// Show a Managed HSM: provisioning and activation status, URI, retention.
    Show(commands::manage::WithArm<commands::manage::show::Args>),
    /// Delete a Managed HSM (soft delete: recoverable, and billed, until purged).
    Delete(commands::manage::WithArm<commands::manage::delete::Args>),
    /// List the soft-deleted Managed HSMs of the subscription, with their purge dates.
    ListDeleted(commands::manage::WithArm<commands::manage::list_deleted::Args>),
    /// Purge a deleted Managed HSM for good (frees its name, ends its billing).
    Purge(commands::manage::WithArm<commands::manage::purge::Args>),
    /// Recover a deleted Managed HSM, with its security domain and keys.
    Recover(commands::manage::WithArm<commands::manage::recover::Args>),
    /// Local RBAC: grant a principal a role (e.g. Managed HSM Crypto User), list, remove.
    #[command(subcommand)]
    Role(commands::role::RoleCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    Completions(ceremony_cli::manual::CompletionsArgs),
    /// Write the man pages (uploader.1 and one per command) into a folder.
    Manpages(ceremony_cli::manual::ManpagesArgs),
}
