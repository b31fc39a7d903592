//! `keyholder restore-blob`: the one-laptop recovery.

use ceremony_cli::outln;

use std::path::Path;

use sd_core::restore_blob::RestoreBlob;

use super::{load_certificate, print_fingerprint, rng};
use crate::cli::KeysArgs;
use crate::security_domain;
use ceremony_cli::error::{CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};

pub fn run(sd_path: &Path, exchange_path: &Path, keys: &KeysArgs, out: &Path, force: bool) -> CliResult {
    files::check_writable(out, force)?;
    let sd = security_domain::load(sd_path)?;
    let exchange = load_certificate(exchange_path)?;
    exchange.rsa_public_key().in_file(exchange_path)?;
    print_fingerprint("exchange key (confirm aloud with the operator)", &exchange);
    let quorum = security_domain::open_quorum(&sd, &keys.keys, &keys.passphrase_files)?;
    let blob = RestoreBlob::build(&mut rng(), &quorum.secrets, &exchange).in_file(out)?;
    drop(quorum);
    files::write_atomic(out, blob.to_json().as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote restore blob {} for exchange key {}", out.display(), exchange.x5t_s256());
    Ok(())
}
