//! `keyholder drill`: prove a quorum can recover, and sign a report.

use ceremony_cli::args::OutputArgs;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::outln;
use sd_core::bundle::Signer;
use sd_core::handoff::HandoffError;
use sd_core::handoff::drill_report::DrillReport;
use sd_core::handoff::share_commitment;

use super::now_unix;
use crate::cli::QuorumArgs;
use crate::security_domain;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    quorum: QuorumArgs,
    /// The certificate of a custodian who is not taking part (repeatable):
    /// their share commitment is sealed to it, so that they can check their
    /// share alone later (`keyholder check --commitments`).
    #[arg(long, value_name = "NAME.cer")]
    custodian_cert: Vec<std::path::PathBuf>,
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
    let mut everyone = certs.clone();
    for path in &args.custodian_cert {
        everyone.push(ceremony_cli::artifacts::load_certificate(path)?);
    }
    // A version-1 (xor_split) file has no Shamir shares to commit to.
    let rows = if opened.expected.is_empty() {
        Ok(Vec::new())
    } else {
        share_commitment::commit(&mut getrandom::SysRng, &sd.sd, &opened.expected, &everyone)
    };
    let rows = rows.map_err(|e| match e {
        HandoffError::NotACustodian { .. } => CliError::general(format!("a --custodian-cert: {e}")).hint(
            "give the certificates of this SD file's custodians (`keyholder fingerprint SD.json` lists them)",
        ),
        other => {
            CliError::file(sd_path, other).hint("check this is the SD file downloaded at the activation")
        }
    })?;
    let report = DrillReport::success(&sd.sd, &certs, &opened.secrets, started, now_unix())
        .and_then(|r| if rows.is_empty() { Ok(r) } else { r.with_commitments(&sd.sd, rows) })
        .in_file(sd_path)?;
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
    let shares = sd.sd.shares().len();
    if !report.commitments.is_empty() {
        let missing: Vec<String> = (0..shares)
            .filter(|i| !report.commitments.iter().any(|c| c.share_index == *i))
            .map(|i| (i + 1).to_string())
            .collect();
        outln!("share commitments for {} of {shares} custodians", report.commitments.len());
        if !missing.is_empty() {
            outln!("  none for share(s) {}: give their --custodian-cert to include them", missing.join(", "));
        }
    }
    outln!("wrote signed report {}", out.display());
    Ok(())
}
