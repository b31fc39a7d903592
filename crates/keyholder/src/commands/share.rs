//! `keyholder share`: one custodian's share, sealed to the combiner the
//! operator's recovery request names and bound to that request.

use std::path::PathBuf;

use ceremony_cli::args::{KeyArg, OutputArgs};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::outln;
use ceremony_cli::unlocked_key::UnlockedKey;
use sd_core::bundle::Signer;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::share::ShareBundle;

use super::{load_distributed, now_unix, rng};
use crate::cli::RecoveryArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    recovery: RecoveryArgs,
    /// The combiner's bundle, if you were given it: checked to be the
    /// combiner the request names (shares are sealed to that one only).
    #[arg(long, value_name = "COMBINER.json")]
    combiner: Option<PathBuf>,
    #[command(flatten)]
    key: KeyArg,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> CliResult {
    let (out, force) = (args.output.out.as_path(), args.output.force);
    files::check_writable(out, force)?;
    let (sd, request) = load_distributed(&args.recovery)?;
    if let Some(path) = &args.combiner {
        let given = Combiner::verify(&files::read(path)?, now_unix()).in_file(path)?;
        if given.certificate() != request.combiner() {
            return Err(CliError::file(path, "is not the combiner the recovery request names").hint(
                "shares go only to the combiner the operator signed into the request; ask the operator",
            ));
        }
    }
    let key = UnlockedKey::load(&args.key.key, args.key.passphrase_file.as_deref())?;
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
