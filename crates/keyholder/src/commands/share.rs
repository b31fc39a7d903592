//! `keyholder share`: one custodian's share, sealed to the combiner the
//! operator's recovery request names and bound to that request.

use std::path::{Path, PathBuf};

use ceremony_cli::args::{KeyArg, OutputArgs};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::unlocked_key::UnlockedKey;
use ceremony_cli::{confirm, outln};
use sd_core::bundle::Signer;
use sd_core::handoff::Pin;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::share::ShareBundle;
use sd_core::pki::cert::Certificate;

use super::{load_distributed, now_unix, rng};
use crate::cli::RecoveryArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    recovery: RecoveryArgs,
    /// The combiner's SHA-256 fingerprint, read from the combiner laptop's
    /// own screen (64 hex digits, spaces allowed). Without this or --combiner,
    /// the request's combiner is shown to be confirmed by typing "yes"; with
    /// no terminal nothing is sealed.
    #[arg(long, value_name = "HEX", conflicts_with = "combiner")]
    combiner_fingerprint: Option<String>,
    /// The combiner's public bundle (combiner.json), from media that never
    /// touched the online machine.
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
    // Before any passphrase: the combiner is the one this custodian pinned.
    let pin = combiner_pin(&args, &args.recovery.request, request.combiner())?;
    let target = request.pin_combiner(&pin).in_file(&args.recovery.request).map_err(|e| {
        e.hint("read the fingerprint again from the combiner laptop's screen; if it differs, share nothing and tell the ceremony administrator")
    })?;
    let key = UnlockedKey::load(&args.key.key, args.key.passphrase_file.as_deref())?;
    let cert = key.require_cert()?;
    let share = sd.open_share(&key)?;
    let signed =
        ShareBundle::seal(&mut rng(), &target, &sd.sd, &share, &Signer { key: &key.key, cert }, now_unix())
            .in_file(out)?;
    let index = share.index;
    drop(share);
    files::write_atomic(out, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote share bundle {} (share {} of {})", out.display(), index + 1, sd.sd.shares().len());
    Ok(())
}

/// The combiner as this custodian pinned it: its bundle from media that never
/// touched the online machine, its fingerprint as read from the combiner
/// laptop, or else the request's combiner once a person confirms it on the
/// terminal (refused with no terminal).
fn combiner_pin(args: &Args, request_path: &Path, named: &Certificate) -> CliResult<Pin> {
    if let Some(path) = &args.combiner {
        let given = Combiner::verify(&files::read(path)?, now_unix()).in_file(path)?;
        return Ok(Pin::certificate(given.certificate()));
    }
    if let Some(text) = &args.combiner_fingerprint {
        return Pin::from_fingerprint(text).map_err(|e| {
            CliError::general(format!("--combiner-fingerprint: {e}")).hint(
                "copy the \"read aloud\" line that `keyholder combiner-init` showed on the combiner laptop",
            )
        });
    }
    let no_terminal = CliError::file(request_path, "no combiner is pinned, and there is no terminal to confirm it on")
        .hint("give --combiner-fingerprint (read from the combiner laptop's screen) or --combiner (its combiner.json, from media that never touched the online machine)");
    confirm::typed(
        "Is this the fingerprint the combiner laptop shows on its own screen?",
        "yes",
        no_terminal,
    )?;
    Ok(Pin::certificate(named))
}
