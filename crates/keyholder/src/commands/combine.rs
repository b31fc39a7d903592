//! `keyholder combine`: verify share bundles, rebuild the master key (the SD
//! file's MACs judging the shares), write the restore blob to the exchange key
//! named in the signed request.

use super::write_restore_blob;
use std::path::PathBuf;

use ceremony_cli::args::OutputArgs;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files;
use ceremony_cli::unlocked_key::{KeySource, UnlockedKey};
use ceremony_cli::{errln, outln};
use sd_core::azure::quorum::QuorumError;
use sd_core::azure::sd_file::OpenedShare;
use sd_core::handoff::share::ShareBundle;

use super::load_distributed;
use crate::cli::RecoveryArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    recovery: RecoveryArgs,
    /// The combiner's private key (combiner.key, or a pkcs11: URI): the
    /// combiner the request names.
    #[arg(long, value_name = "KEY")]
    combiner_key: KeySource,
    /// Passphrase file for the combiner key.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// A custodian's share bundle; repeat for each.
    #[arg(long = "share", value_name = "SHARE.json", required = true)]
    shares: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> CliResult {
    let (out, force, sd_path) = (args.output.out.as_path(), args.output.force, args.recovery.sd.sd.as_path());
    files::check_writable(out, force)?;
    let (sd, request) = load_distributed(&args.recovery)?;
    let required = sd.sd.required();
    if args.shares.len() < required {
        return Err(CliError::general(format!(
            "{} share bundle(s) given, but the quorum of {} is {required}",
            args.shares.len(),
            sd_path.display()
        ))
        .hint(format!("ask for share bundles from at least {required} custodians")));
    }
    let combiner = UnlockedKey::load(&args.combiner_key, args.passphrase_file.as_deref())?;
    request.check_combiner_key(&combiner.key).in_file(combiner.name())?;
    let mut opened: Vec<OpenedShare> = Vec::with_capacity(args.shares.len());
    for path in &args.shares {
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
    let name = |p: usize| args.shares[p].display().to_string();
    let recovered = sd.sd.recover(&opened).map_err(|e| match e {
        QuorumError::SameShare { first, second, index } => CliError::file(
            &args.shares[second],
            format!("carries share {}, the same share as {}", index + 1, name(first)),
        )
        .hint("each custodian's share counts once: give each bundle once, and ask another custodian of the quorum for theirs"),
        QuorumError::Inconsistent { .. } => {
            let all: Vec<String> = (0..opened.len()).map(name).collect();
            CliError::file(sd_path, e).hint(format!("the share bundles given: {}", all.join(", ")))
        }
        other => CliError::file(sd_path, other).hint("check this is the SD file the request names"),
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
    write_restore_blob(out, force, recovered.secrets, request.exchange())
}
