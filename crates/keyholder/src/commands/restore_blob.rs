//! `keyholder restore-blob`: the one-laptop recovery.

use ceremony_cli::outln;
use sd_core::pki::cert::readable_fingerprint;

use std::path::PathBuf;

use ceremony_cli::args::{OutputArgs, SdFileArg};
use ceremony_cli::exchange_key::{AttestationArgs, print_verdict};
use sd_core::azure::restore_blob::RestoreBlob;

use super::{load_exchange_key, print_fingerprint, rng};
use crate::cli::{KeysArgs, TargetHsmArg};
use crate::security_domain;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};

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
    let blob = RestoreBlob::build(&mut rng(), &quorum.secrets, exchange.certificate()).in_file(out)?;
    drop(quorum);
    files::write_atomic(out, blob.to_json().map_err(CliError::general)?.as_bytes(), PUBLIC_MODE, force)?;
    outln!(
        "wrote restore blob {} for exchange key {}",
        out.display(),
        readable_fingerprint(&exchange.certificate().sha256())
    );
    Ok(())
}
