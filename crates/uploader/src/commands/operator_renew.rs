//! `uploader operator-renew`: a successor to the operator's identity, made
//! while the old certificate is still valid. Custodians pinned the old one at
//! the activation; the handover, signed by the old key and the new one, is
//! what lets them pin the new one (`keyholder verify HANDOVER --operator-cert
//! OLD.cer` shows its fingerprint), so a recovery years later still works.

use std::path::PathBuf;

use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::{CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::unlocked_key::{KeySource, UnlockedKey};
use ceremony_cli::{now_unix, outln};
use sd_core::bundle::Signer;
use sd_core::handoff::operator_handover::OperatorHandover;
use sd_core::handoff::{CertRole, check_validity};
use sd_core::time::rfc3339;

use super::operator_init;

#[derive(clap::Args)]
pub struct Args {
    /// The current operator key (operator.cer beside it, or on the token):
    /// the one custodians pinned. It must still be valid.
    #[arg(long, value_name = "OLD.key")]
    operator_key: KeySource,
    /// Passphrase file for the current operator key.
    #[arg(long, value_name = "FILE")]
    operator_passphrase_file: Option<PathBuf>,
    /// The successor, made as `operator-init` makes one; the handover goes to
    /// its public folder.
    #[command(flatten)]
    new: operator_init::Args,
}

pub fn run(args: Args) -> CliResult {
    let handover_path = args.new.output.public_dir().join("operator-handover.json");
    let old = UnlockedKey::load(&args.operator_key, args.operator_passphrase_file.as_deref())?;
    let old_cert = old.require_cert()?;
    // Only a valid operator may name its successor; after its end, nobody can.
    check_validity(old_cert, CertRole::Operator, now_unix()).in_file(old.name()).map_err(|e| {
        e.hint("an expired operator cannot hand over: custodians must pin a new operator in person, as at an activation")
    })?;
    let new = operator_init::create(&args.new, &[&handover_path])?;
    let signed = OperatorHandover::sign(
        &Signer { key: &old.key, cert: old_cert },
        &Signer { key: &new.key, cert: &new.cert },
        now_unix(),
    )
    .in_file(&handover_path)?;
    files::write_atomic(&handover_path, signed.as_bytes(), PUBLIC_MODE, args.new.output.force).map_err(
        |e| {
            e.hint("the new key was written; keep it, and run operator-renew again only after moving it away")
        },
    )?;
    outln!("wrote {} (signed by the old and the new operator key)", handover_path.display());
    print_fingerprint("old operator (the one custodians pinned)", old_cert);
    print_fingerprint(
        "new operator (custodians pin this after `keyholder verify` of the handover)",
        &new.cert,
    );
    outln!("valid until {}", rfc3339(new.cert.not_after_unix()));
    Ok(())
}
