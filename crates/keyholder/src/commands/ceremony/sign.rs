//! `keyholder ceremony sign`: a custodian co-signs a ceremony record, on
//! their own laptop or token, after reading what it says.

use std::path::PathBuf;

use ceremony_cli::args::{KeyArg, SdFileArg};
use ceremony_cli::error::CliResult;
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::outln;
use ceremony_cli::unlocked_key::UnlockedKey;
use sd_core::bundle::Signer;
use sd_core::ceremony::record::CeremonyRecord;

use super::{RecordFile, html::grouped, read_record, refused};
use crate::security_domain;

#[derive(clap::Args)]
pub struct Args {
    /// The ceremony record.
    #[arg(value_name = "RECORD.json")]
    record: PathBuf,
    #[command(flatten)]
    sd: SdFileArg,
    #[command(flatten)]
    key: KeyArg,
    /// Where to write the co-signed record.
    #[arg(long, value_name = "FILE", required_unless_present = "in_place", conflicts_with = "in_place")]
    out: Option<PathBuf>,
    /// Replace RECORD with the co-signed record (atomically).
    #[arg(long)]
    in_place: bool,
}

pub fn run(args: Args) -> CliResult {
    let RecordFile { bytes, record, id, signers } = read_record(&args.record)?;
    let sd = security_domain::load(&args.sd.sd)?;
    let key = UnlockedKey::load(&args.key.key, args.key.passphrase_file.as_deref())?;
    let cert = key.require_cert()?.clone();
    // clap requires --out or --in-place; without --out the record is replaced.
    let (out, replace) = match &args.out {
        Some(out) => (out.clone(), false),
        None => (args.record.clone(), true),
    };
    if !replace {
        files::check_writable(&out, false)?;
    }
    outln!(
        "{} ({}), ceremony {} of HSM {}",
        record.plan.title,
        record.plan.kind.name(),
        record.sequence,
        record.plan.hsm
    );
    outln!("  record id:  {}", grouped(&id));
    outln!("  steps:      {} ({} exception(s))", record.steps.len(), record.exceptions().count());
    for (step, e) in record.exceptions() {
        outln!("    step {} {}: {}", step.id, e.kind.name(), ceremony_cli::terminal::capped(&e.reason));
    }
    outln!("  signed by:  {}", signers.iter().map(super::common_name).collect::<Vec<_>>().join(", "));
    let signed = CeremonyRecord::cosign(&bytes, &sd.sd, &Signer { key: &key.key, cert: &cert })
        .map_err(|e| refused(&args.record, e))?;
    files::write_atomic(&out, signed.as_bytes(), PUBLIC_MODE, replace)?;
    outln!("co-signed by {} into {}", super::common_name(&cert), out.display());
    Ok(())
}
