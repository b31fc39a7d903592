//! `keyholder verify`: check a bundle against what anchors it (the SD file's
//! custodians, the pinned operator) and show what it says.

use std::path::Path;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::exchange_key::AttestationArgs;
use ceremony_cli::files;
use ceremony_cli::outln;
use sd_core::bundle::{self, BundleKind, SignedBundle};
use sd_core::handoff::Pin;
use sd_core::handoff::activation::ActivationRecord;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::drill_report::DrillReport;
use sd_core::handoff::enrollment::Enrollment;
use sd_core::handoff::recovery_request::RecoveryRequest;

use super::{load_certificate, now_unix, print_fingerprint};
use crate::security_domain;

pub fn run(
    path: &Path,
    signer: Option<&Path>,
    sd_path: Option<&Path>,
    attestation: &AttestationArgs,
) -> CliResult {
    let bytes = files::read(path)?;
    let kind = bundle::peek_kind(&bytes).in_file(path)?;
    let signed = bundle::verify_signatures(&bytes, kind).in_file(path)?;
    let pin = signer.map(load_certificate).transpose()?.map(|c| Pin::certificate(&c));
    let sd = sd_path.map(security_domain::load).transpose()?;
    let needs_pin = || {
        CliError::general(format!(
            "checking a {} against the SD file needs --signer (the operator's certificate)",
            kind.name()
        ))
    };
    match (kind, &sd, &pin) {
        (BundleKind::DrillReport, Some(sd), _) => {
            let report = DrillReport::verify(&bytes, &sd.sd).in_file(path)?;
            let r = report.report();
            if let Some(p) = &pin {
                require_signer(path, &signed, p)?;
            }
            outln!(
                "valid drill report for {}: signed by {} custodian(s) of this SD file (quorum {})",
                sd.path.display(),
                report.signers().len(),
                sd.sd.required()
            );
            outln!(
                "  result: {} ({} of {} EncData entries verified), {} to {}",
                r.result,
                r.enc_data.iter().filter(|e| e.verified).count(),
                r.enc_data.len(),
                r.started.utc,
                r.finished.utc
            );
            print_signers(&signed);
            if !report.succeeded() {
                return Err(CliError::file(
                    path,
                    "the report is genuine, but the drill it reports did not succeed",
                ));
            }
            return Ok(());
        }
        (BundleKind::ActivationRecord, Some(sd), Some(pin)) => {
            let record = ActivationRecord::verify(&bytes, pin, &sd.sd).in_file(path)?;
            outln!(
                "valid activation record of {} for {}: signed by the pinned operator; quorum and custodians match",
                record.hsm(),
                sd.path.display()
            );
        }
        (BundleKind::RecoveryRequest, Some(sd), Some(pin)) => {
            let request = RecoveryRequest::verify(&bytes, pin, &sd.sd, &attestation.policy()?, now_unix())
                .in_file(path)?;
            outln!(
                "valid recovery request for {} into {}: signed by the pinned operator",
                sd.path.display(),
                request.hsm()
            );
            print_fingerprint("exchange key", request.exchange());
            ceremony_cli::exchange_key::print_verdict(request.exchange_key());
            print_fingerprint("combiner", request.combiner());
        }
        (BundleKind::ActivationRecord | BundleKind::RecoveryRequest, Some(_), None) => {
            return Err(needs_pin());
        }
        (BundleKind::Enrollment, _, _) => {
            let e = Enrollment::verify(&bytes).in_file(path)?;
            outln!("valid enrollment of {:?}: its key signed it (proof of possession)", e.custodian());
        }
        (BundleKind::Combiner, _, _) => {
            Combiner::verify(&bytes, now_unix()).in_file(path)?;
            outln!("valid combiner bundle: its key signed it (proof of possession), valid now");
        }
        _ => {
            outln!("valid {} bundle, {} signature(s)", kind.name(), signed.signers().len());
        }
    }
    match &pin {
        Some(p) => require_signer(path, &signed, p)?,
        None if sd.is_none() => outln!(
            "note: only the signatures were checked, nothing about who signed; pass --signer CERT{}",
            if kind == BundleKind::DrillReport { " or --sd SD.json" } else { "" }
        ),
        None => {}
    }
    print_signers(&signed);
    outln!("{:#}", signed.payload_for_display().in_file(path)?);
    Ok(())
}

fn require_signer(path: &Path, signed: &SignedBundle, pin: &Pin) -> CliResult {
    if signed.signers().iter().any(|c| pin.matches(c)) {
        Ok(())
    } else {
        Err(CliError::file(path, "is not signed by the --signer certificate"))
    }
}

fn print_signers(signed: &SignedBundle) {
    for (i, c) in signed.signers().iter().enumerate() {
        print_fingerprint(&format!("signer {}", i + 1), c);
    }
}
