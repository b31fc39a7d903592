//! `keyholder drill`: prove a quorum can recover, and sign a report.

use ceremony_cli::args::OutputArgs;
use ceremony_cli::error::{CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::outln;
use sd_core::bundle::Signer;
use sd_core::handoff::drill_report::DrillReport;

use super::now_unix;
use crate::cli::QuorumArgs;
use crate::security_domain;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    quorum: QuorumArgs,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> CliResult {
    let QuorumArgs { sd, keys } = &args.quorum;
    let (sd_path, out, force) = (sd.sd.as_path(), args.output.out.as_path(), args.output.force);
    files::check_writable(out, force)?;
    let started = now_unix();
    let sd = security_domain::load(sd_path)?;
    let opened = security_domain::open_quorum(&sd, &keys.keys, &keys.passphrase_files)?;
    // Signing needs every participant's certificate: check before reporting.
    let certs = opened.keys.iter().map(|k| k.require_cert().cloned()).collect::<CliResult<Vec<_>>>()?;
    let report =
        DrillReport::success(&sd.sd, &certs, &opened.secrets, started, now_unix()).in_file(sd_path)?;
    let signers: Vec<Signer<'_>> =
        opened.keys.iter().zip(&certs).map(|(k, c)| Signer { key: &k.key, cert: c }).collect();
    let signed = report.sign(&signers).in_file(out)?;
    drop(signers);
    drop(opened);
    files::write_atomic(out, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!(
        "drill succeeded: master key rebuilt by {} custodian(s), {} EncData entries verified",
        certs.len(),
        report.enc_data.len()
    );
    for e in &report.enc_data {
        outln!("  {:<28} {:>6} bytes  verified", e.tag, e.bytes);
    }
    outln!("wrote signed report {}", out.display());
    Ok(())
}
