//! `keyholder restore-blob`: the one-laptop recovery.

use super::write_restore_blob;

use std::path::PathBuf;

use ceremony_cli::args::{OutputArgs, SdFileArg};
use ceremony_cli::exchange_key::{AttestationArgs, print_verdict};

use super::{load_exchange_key, print_fingerprint};
use crate::cli::{KeysArgs, TargetHsmArg};
use crate::security_domain;
use ceremony_cli::error::CliResult;
use ceremony_cli::files;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    sd: SdFileArg,
    /// The recovering HSM's exchange key: the transfer-key response
    /// (uploader init-recovery keeps it) or the PEM certificate az saves.
    #[arg(long, value_name = "EXCHANGE")]
    exchange_key: PathBuf,
    #[command(flatten)]
    target: TargetHsmArg,
    #[command(flatten)]
    attestation: AttestationArgs,
    #[command(flatten)]
    keys: KeysArgs,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> CliResult {
    let Args { sd, exchange_key: exchange_path, target, attestation, keys, output } = &args;
    let (sd_path, out, force) = (sd.sd.as_path(), output.out.as_path(), output.force);
    files::check_writable(out, force)?;
    let sd = security_domain::load(sd_path)?;
    // The master key goes only to an exchange key proven to be the HSM's, checked before any passphrase.
    let exchange = load_exchange_key(exchange_path, target.hsm.as_str(), attestation, None)?;
    print_fingerprint("exchange key (confirm aloud with the operator)", exchange.certificate());
    print_verdict(&exchange);
    let quorum = security_domain::open_quorum(&sd, &keys.keys, &keys.passphrase_files)?;
    write_restore_blob(out, force, quorum.secrets, exchange.certificate())
}
