//! `keyholder exchange-key`: every attestation check on an exchange key, one
//! line each, with the identities and platform, and a verdict.

use std::path::PathBuf;

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::exchange_key::{AttestationArgs, print_checks, print_identity};
use ceremony_cli::outln;
use sd_core::attestation::{AttestationReport, Basis};
use serde_json::json;

use super::now_unix;
use ceremony_cli::error::InFile;
use sd_core::handoff::exchange_key_file::ExchangeKeyFile;

#[derive(clap::Args)]
pub struct Args {
    /// The exchange key.
    file: PathBuf,
    /// The HSM it must belong to (NAME of NAME.managedhsm.azure.net).
    #[arg(long, value_name = "NAME")]
    hsm: String,
    /// Check at this time (RFC 3339) instead of the local clock.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    #[command(flatten)]
    attestation: AttestationArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    let Args { file: path, hsm, at, attestation, json: as_json } = &args;
    let (path, hsm, as_json) = (path.as_path(), hsm.as_str(), *as_json);
    let at = match at.as_deref() {
        Some(text) => parse_rfc3339(text)?,
        None => now_unix(),
    };
    let file = ExchangeKeyFile::parse(ceremony_cli::files::read(path)?).in_file(path)?;
    let policy = attestation.policy()?;
    let result = policy.verify(file.source(), hsm, at);
    let (report, verdict, unattested) = match &result {
        Ok(key) => match key.basis() {
            Basis::Attested(r) => ((**r).clone(), "PASS: every check passed".to_owned(), false),
            Basis::ConfirmedUnattested => (
                AttestationReport::default(),
                "PASS (UNATTESTED): accepted only by the fingerprint given with --allow-unattested"
                    .to_owned(),
                true,
            ),
        },
        Err(f) => ((*f.report).clone(), format!("FAIL: {f}"), false),
    };
    if as_json {
        let checks: Vec<_> = report
            .checks
            .iter()
            .map(|c| json!({"check": c.name, "passed": c.passed, "detail": c.detail}))
            .collect();
        let v = json!({
            "file": path.display().to_string(),
            "hsm": hsm,
            "checked_at": sd_core::time::rfc3339(at),
            "verdict": if result.is_ok() { if unattested { "unattested" } else { "pass" } } else { "fail" },
            "checks": checks,
            "certificate_sha256": report.certificate.as_ref().map(|c| &c.sha256),
            "x5t_s256": report.certificate.as_ref().map(|c| &c.x5t_s256),
            "enclave": report.enclave.as_ref().map(|e| json!({"mrenclave": e.mr_enclave, "mrsigner": e.mr_signer, "product_id": e.prod_id, "svn": e.svn, "debug": e.debug})),
            "platform": report.platform.as_ref().map(|p| json!({"fmspc": p.fmspc, "pce_id": p.pce_id, "pce_svn": p.pce_svn})),
            "tcb": report.tcb.as_ref().map(|t| json!({"platform": t.platform_status, "platform_tcb_date": t.platform_tcb_date, "qe": t.qe_status, "qe_tcb_date": t.qe_tcb_date, "tcb_info_issued": t.tcb_info_dates.0, "tcb_info_next_update": t.tcb_info_dates.1})),
        });
        outln!("{v:#}");
    } else {
        outln!("exchange key {} for HSM {hsm:?}, checked at {}", path.display(), sd_core::time::rfc3339(at));
        print_checks(&report);
        if let Some(judged) = &report.certificate {
            outln!("certificate sha256 {}", judged.sha256);
            outln!("certificate x5t#S256 {}", judged.x5t_s256);
        }
        if result.is_ok() && !unattested {
            print_identity(&report);
        }
        outln!("{verdict}");
    }
    match result {
        Ok(_) => Ok(()),
        Err(_) => Err(CliError::file(
            path,
            "the exchange key did not pass its attestation; do not send it the master key",
        )
        .hint("the failed check is listed above; ask the operator for the HSM's exchange key again (`uploader init-recovery`) and stop if it fails again")),
    }
}

fn parse_rfc3339(text: &str) -> CliResult<u64> {
    sd_core::time::parse_rfc3339(text).ok_or_else(|| {
        CliError::general(format!("--at {text:?} is not an RFC 3339 UTC time like 2025-04-22T09:00:00Z"))
            .hint("write the date, T, the time and Z, e.g. --at 2026-12-07T09:00:00Z")
    })
}
