//! `keyholder combine`: verify share bundles, rebuild the master key (the SD
//! file's MACs judging the shares), write the restore blob to the exchange key
//! named in the signed request.

use std::path::{Path, PathBuf};

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::key_file::CustodianKey;
use ceremony_cli::{errln, outln};
use sd_core::handoff::share::ShareBundle;
use sd_core::quorum::QuorumError;
use sd_core::restore_blob::RestoreBlob;
use sd_core::sd_file::OpenedShare;

use super::{load_distributed, rng};
use crate::cli::OperatorArgs;
use ceremony_cli::exchange_key::AttestationArgs;

pub struct Inputs<'a> {
    pub sd: &'a Path,
    pub request: &'a Path,
    pub operator: &'a OperatorArgs,
    pub attestation: &'a AttestationArgs,
    pub combiner_key: &'a Path,
    pub passphrase_file: Option<&'a Path>,
    pub shares: &'a [PathBuf],
}

pub fn run(inputs: &Inputs<'_>, out: &Path, force: bool) -> CliResult {
    files::check_writable(out, force)?;
    let (sd, request) = load_distributed(inputs.sd, inputs.request, inputs.operator, inputs.attestation)?;
    let required = sd.sd.required();
    if inputs.shares.len() < required {
        return Err(CliError::general(format!(
            "{} share bundle(s) given, the quorum of {} is {required}",
            inputs.shares.len(),
            inputs.sd.display()
        )));
    }
    let combiner = CustodianKey::load(inputs.combiner_key, inputs.passphrase_file)?;
    request.check_combiner_key(&combiner.key).in_file(inputs.combiner_key)?;
    let mut opened: Vec<OpenedShare> = Vec::with_capacity(inputs.shares.len());
    for path in inputs.shares {
        let verified =
            ShareBundle::open(&files::read(path)?, &request, &sd.sd, &combiner.key).in_file(path).map_err(
                |e| e.hint("a share bundle must come from a custodian of this SD file, for this request"),
            )?;
        errln!(
            "{}: share {} from {}",
            path.display(),
            verified.share().index + 1,
            verified.custodian().subject()
        );
        opened.push(verified.share().clone());
    }
    let name = |p: usize| inputs.shares[p].display().to_string();
    let recovered = sd.sd.recover(&opened).map_err(|e| match e {
        QuorumError::SameShare { first, second, index } => CliError::file(
            &inputs.shares[second],
            format!("carries share {}, the same share as {}", index + 1, name(first)),
        ),
        QuorumError::Inconsistent { .. } => {
            let all: Vec<String> = (0..opened.len()).map(name).collect();
            CliError::file(inputs.sd, e).hint(format!("the share bundles given: {}", all.join(", ")))
        }
        other => CliError::file(inputs.sd, other),
    })?;
    for p in &recovered.disagreeing {
        errln!(
            "warning: {}: its share disagrees with the master key this SD file confirms; it was not used \
             (the share is damaged, or not the one the HSM made for its custodian)",
            name(*p)
        );
    }
    let used: Vec<String> = recovered.basis.iter().map(|&p| name(p)).collect();
    outln!("master key rebuilt and proven on every EncData entry, from {}", used.join(", "));
    let blob = RestoreBlob::build(&mut rng(), &recovered.secrets, request.exchange()).in_file(out)?;
    drop(recovered);
    files::write_atomic(out, blob.to_json().as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote restore blob {} for exchange key {}", out.display(), request.exchange().x5t_s256());
    Ok(())
}
