//! `keyholder restore-blob`: the one-laptop recovery.

use ceremony_cli::outln;

use std::path::Path;

use ceremony_cli::exchange_key::{AttestationArgs, print_verdict};
use sd_core::restore_blob::RestoreBlob;

use super::{load_exchange_key, print_fingerprint, rng};
use crate::cli::KeysArgs;
use crate::security_domain;
use ceremony_cli::error::{CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};

pub fn run(
    sd_path: &Path,
    exchange_path: &Path,
    hsm: &str,
    attestation: &AttestationArgs,
    keys: &KeysArgs,
    out: &Path,
    force: bool,
) -> CliResult {
    files::check_writable(out, force)?;
    let sd = security_domain::load(sd_path)?;
    // The master key goes only to an exchange key proven to be the HSM's, checked before any passphrase.
    let exchange = load_exchange_key(exchange_path, hsm, attestation, None)?;
    print_fingerprint("exchange key (confirm aloud with the operator)", exchange.certificate());
    print_verdict(&exchange);
    let quorum = security_domain::open_quorum(&sd, &keys.keys, &keys.passphrase_files)?;
    let blob = RestoreBlob::build(&mut rng(), &quorum.secrets, exchange.certificate()).in_file(out)?;
    drop(quorum);
    files::write_atomic(out, blob.to_json().as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote restore blob {} for exchange key {}", out.display(), exchange.certificate().x5t_s256());
    Ok(())
}
