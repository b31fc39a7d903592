//! `keyholder share`: one custodian's share, sealed to the combiner the
//! operator's recovery request names and bound to that request.

use std::path::Path;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::key_file::CustodianKey;
use ceremony_cli::outln;
use sd_core::bundle::Signer;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::share::ShareBundle;

use super::{load_distributed, now_unix, rng};
use crate::cli::OperatorArgs;
use ceremony_cli::exchange_key::AttestationArgs;

pub struct Inputs<'a> {
    pub sd: &'a Path,
    pub request: &'a Path,
    pub operator: &'a OperatorArgs,
    pub attestation: &'a AttestationArgs,
    pub combiner: Option<&'a Path>,
    pub key: &'a Path,
    pub passphrase_file: Option<&'a Path>,
}

pub fn run(inputs: &Inputs<'_>, out: &Path, force: bool) -> CliResult {
    files::check_writable(out, force)?;
    let (sd, request) = load_distributed(inputs.sd, inputs.request, inputs.operator, inputs.attestation)?;
    if let Some(path) = inputs.combiner {
        let given = Combiner::verify(&files::read(path)?, now_unix()).in_file(path)?;
        if given.certificate() != request.combiner() {
            return Err(CliError::file(path, "is not the combiner the recovery request names").hint(
                "shares go only to the combiner the operator signed into the request; ask the operator",
            ));
        }
    }
    let key = CustodianKey::load(inputs.key, inputs.passphrase_file)?;
    let cert = key.require_cert()?;
    let share = sd.open_share(&key)?;
    let signed =
        ShareBundle::seal(&mut rng(), &request, &sd.sd, &share, &Signer { key: &key.key, cert }, now_unix())
            .in_file(out)?;
    let index = share.index;
    drop(share);
    files::write_atomic(out, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote share bundle {} (share {} of {})", out.display(), index + 1, sd.sd.shares().len());
    Ok(())
}
