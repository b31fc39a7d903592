//! `keyholder verify`: check a bundle against what anchors it (the SD file's
//! custodians, the pinned operator) and show what it says.

use std::path::{Path, PathBuf};

use ceremony_cli::artifacts::fingerprint_json;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::exchange_key::AttestationArgs;
use ceremony_cli::files;
use ceremony_cli::outln;
use sd_core::HsmName;
use sd_core::attestation::{Basis, VerifiedExchangeKey};
use sd_core::bundle::{self, BundleKind, SignedBundle};
use sd_core::handoff::Pin;
use sd_core::handoff::activation::ActivationRecord;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::drill_report::DrillReport;
use sd_core::handoff::enrollment::Enrollment;
use sd_core::handoff::operator_handover::OperatorHandover;
use sd_core::handoff::recovery_request::{RecoveryRequest, RequestPins};
use sd_core::pki::cert::Certificate;
use serde_json::json;

use super::{load_certificate, now_unix, print_fingerprint};
use crate::security_domain;

#[derive(clap::Args)]
pub struct Args {
    /// The bundle.
    bundle: PathBuf,
    /// The pinned signer's certificate (the operator's, for an activation
    /// record, recovery request or operator handover); for other bundles,
    /// required among the signers.
    #[arg(long, value_name = "CERT.cer", visible_alias = "operator-cert")]
    signer: Option<PathBuf>,
    /// The pinned signer by the fingerprint read aloud instead of its
    /// certificate (64 hex digits, spaces allowed; or its x5t#S256).
    #[arg(long, value_name = "HEX", visible_alias = "operator-fingerprint", conflicts_with = "signer")]
    signer_fingerprint: Option<String>,
    /// The SD file the bundle is about.
    #[arg(long, value_name = "SD.json")]
    sd: Option<PathBuf>,
    /// For a recovery request: the HSM the ceremony plan names, which the
    /// request and its exchange key must name.
    #[arg(long, value_name = "NAME")]
    hsm: Option<HsmName>,
    #[command(flatten)]
    attestation: AttestationArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// What was established about the bundle.
struct Finding {
    /// One sentence: what is valid, and against what.
    summary: String,
    /// Certificates worth reading aloud beyond the signers (exchange key, combiner).
    named: Vec<(&'static str, Certificate)>,
    /// True when who signed was checked (against the SD file or a pin).
    anchored: bool,
    /// For a drill report: whether the drill it reports succeeded.
    drill_succeeded: Option<bool>,
    /// For a recovery request: its exchange key, as judged.
    exchange_key: Option<VerifiedExchangeKey>,
}

pub fn run(args: Args) -> CliResult {
    let path = args.bundle.as_path();
    let bytes = files::read(path)?;
    let kind = bundle::peek_kind(&bytes).in_file(path)?;
    let signed = bundle::verify_signatures(&bytes, kind).in_file(path)?;
    let pin = match (&args.signer, &args.signer_fingerprint) {
        (Some(cert), _) => Some(Pin::certificate(&load_certificate(cert)?)),
        (None, Some(text)) => Some(Pin::from_fingerprint(text).map_err(|e| {
            CliError::general(format!("--signer-fingerprint: {e}"))
                .hint("copy the \"read aloud\" line recorded at the activation ceremony")
        })?),
        (None, None) => None,
    };
    let sd = args.sd.as_deref().map(security_domain::load).transpose()?;
    let finding = check(path, &bytes, kind, sd.as_ref(), pin.as_ref(), &args, signed.signers().len())?;
    if let Some(p) = &pin {
        require_signer(path, &signed, p)?;
    }
    let anchored = finding.anchored || pin.is_some();
    let note = (!anchored).then(|| {
        format!(
            "only the signatures were checked, nothing about who signed; pass --signer CERT{}",
            if kind == BundleKind::DrillReport { " or --sd SD.json" } else { "" }
        )
    });
    let payload = signed.payload_for_display().in_file(path)?;
    if args.json {
        let v = json!({
            "file": path.display().to_string(),
            "kind": kind.name(),
            "valid": finding.drill_succeeded != Some(false),
            "summary": finding.summary,
            "signer_checked": anchored,
            "note": note,
            "signers": signed.signers().iter().enumerate()
                .map(|(i, c)| fingerprint_json(&format!("signer {}", i + 1), c)).collect::<Vec<_>>(),
            "certificates": finding.named.iter().map(|(l, c)| fingerprint_json(l, c)).collect::<Vec<_>>(),
            "exchange_key_attested": finding.exchange_key.as_ref().map(|k| matches!(k.basis(), Basis::Attested(_))),
            "payload": payload,
        });
        outln!("{v:#}");
    } else {
        outln!("{}", finding.summary);
        for (label, cert) in &finding.named {
            print_fingerprint(label, cert);
        }
        if let Some(key) = &finding.exchange_key {
            ceremony_cli::exchange_key::print_verdict(key);
        }
        if let Some(n) = &note {
            outln!("note: {n}");
        }
        for (i, c) in signed.signers().iter().enumerate() {
            print_fingerprint(&format!("signer {}", i + 1), c);
        }
        // What was signed, one member a line: what a witness reads, not JSON.
        outln!("signed content:");
        print_members("", &summarise_certificates(payload));
    }
    if finding.drill_succeeded == Some(false) {
        return Err(CliError::file(path, "the report is genuine, but the drill it reports did not succeed")
            .hint("the custodians named in it could not recover: run `keyholder check` for each, and a new drill"));
    }
    Ok(())
}

/// Runs the hand-off verifier that fits the bundle and what was given.
fn check(
    path: &Path,
    bytes: &[u8],
    kind: BundleKind,
    sd: Option<&security_domain::LoadedSd>,
    pin: Option<&Pin>,
    args: &Args,
    signer_count: usize,
) -> CliResult<Finding> {
    let plain = |summary: String| Finding {
        summary,
        named: Vec::new(),
        anchored: false,
        drill_succeeded: None,
        exchange_key: None,
    };
    Ok(match (kind, sd, pin) {
        (BundleKind::DrillReport, Some(sd), _) => {
            let report = DrillReport::verify(bytes, &sd.sd).in_file(path)?;
            let r = report.report();
            Finding {
                summary: format!(
                    "valid drill report for {}: signed by {} custodian(s) of this SD file (quorum {}); \
                     result: {} ({} of {} EncData entries verified), {} to {}",
                    sd.path.display(),
                    report.signers().len(),
                    sd.sd.required(),
                    r.result,
                    r.enc_data.iter().filter(|e| e.verified).count(),
                    r.enc_data.len(),
                    r.started,
                    r.finished
                ),
                named: Vec::new(),
                anchored: true,
                drill_succeeded: Some(report.succeeded()),
                exchange_key: None,
            }
        }
        (BundleKind::ActivationRecord, Some(sd), Some(pin)) => {
            let record = ActivationRecord::verify(bytes, pin, &sd.sd).in_file(path)?;
            Finding {
                anchored: true,
                ..plain(format!(
                    "valid activation record of {} for {}: signed by the pinned operator; quorum and custodians match",
                    record.hsm(),
                    sd.path.display()
                ))
            }
        }
        (BundleKind::RecoveryRequest, Some(sd), Some(pin)) => {
            let hsm = args.hsm.as_ref().ok_or_else(|| {
                CliError::general("checking a recovery request needs --hsm (the HSM the ceremony plan names)")
                    .hint("the request must name the HSM you are recovering into: give --hsm NAME")
            })?;
            let pins = RequestPins { operator: pin, hsm };
            let request =
                RecoveryRequest::verify(bytes, pins, &sd.sd, &args.attestation.policy()?, now_unix())
                    .in_file(path)?;
            Finding {
                summary: format!(
                    "valid recovery request for {} into {}: signed by the pinned operator",
                    sd.path.display(),
                    request.hsm()
                ),
                named: vec![
                    ("exchange key", request.exchange().clone()),
                    ("combiner", request.combiner().clone()),
                ],
                anchored: true,
                drill_succeeded: None,
                exchange_key: Some(request.exchange_key().clone()),
            }
        }
        (BundleKind::ActivationRecord | BundleKind::RecoveryRequest, Some(_), None) => {
            return Err(CliError::general(format!(
                "checking {} against the SD file needs --signer (the operator's certificate)",
                kind.with_article()
            ))
            .hint("add --signer operator.cer, your copy from the activation ceremony"));
        }
        (BundleKind::OperatorHandover, _, Some(pin)) => {
            let handover = OperatorHandover::verify(bytes, pin, now_unix()).in_file(path)?;
            Finding {
                summary: format!(
                    "valid operator handover, signed at {} by the pinned operator while its certificate was \
                     valid: from now on pin the new operator below (its certificate, or the fingerprint read aloud)",
                    handover.created()
                ),
                named: vec![("new operator", handover.new_operator().clone())],
                anchored: true,
                drill_succeeded: None,
                exchange_key: None,
            }
        }
        (BundleKind::Enrollment, _, _) => {
            let e = Enrollment::verify(bytes).in_file(path)?;
            plain(format!("valid enrollment of {:?}: its key signed it (proof of possession)", e.custodian()))
        }
        (BundleKind::Combiner, _, _) => {
            Combiner::verify(bytes, now_unix()).in_file(path)?;
            plain("valid combiner bundle: its key signed it (proof of possession), valid now".to_owned())
        }
        _ => plain(format!("valid {} bundle, {signer_count} signature(s)", kind.name())),
    })
}

fn require_signer(path: &Path, signed: &SignedBundle, pin: &Pin) -> CliResult {
    if signed.signers().iter().any(|c| pin.matches(c)) {
        Ok(())
    } else {
        Err(CliError::file(path, "is not signed by the --signer certificate")
            .hint("check --signer is the operator certificate pinned at the activation; if it is, this file is not the operator's"))
    }
}

/// Payload fields that hold a time (seconds since the Unix epoch).
const TIME_FIELDS: [&str; 3] = ["created", "started", "finished"];

/// The payload for reading: each embedded PEM certificate replaced by its
/// subject and fingerprint, each time by its RFC 3339 text (`--json` keeps
/// the payload as signed).
/// `value` as `  path: value` lines (`shares[0].x5t_s256: …`), for people.
fn print_members(path: &str, value: &serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                print_members(&key, v);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                print_members(&format!("{path}[{i}]"), v);
            }
        }
        Value::String(s) => outln!("  {path}: {s}"),
        other => outln!("  {path}: {other}"),
    }
}

fn summarise_certificates(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.starts_with("-----BEGIN CERTIFICATE-----") => {
            match Certificate::from_pem_or_der(s.as_bytes()) {
                Ok(c) => Value::String(format!(
                    "(certificate {}, x5t#S256 {})",
                    ceremony_cli::terminal::capped(&c.subject()),
                    c.x5t_s256()
                )),
                Err(_) => Value::String(ceremony_cli::terminal::capped(&s)),
            }
        }
        // Any other text in a payload is the signer's choice: capped for the terminal.
        Value::String(s) => Value::String(ceremony_cli::terminal::capped(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(summarise_certificates).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match v.as_u64() {
                    Some(unix) if TIME_FIELDS.contains(&k.as_str()) => {
                        (k, Value::String(sd_core::time::rfc3339(unix)))
                    }
                    _ => (k, summarise_certificates(v)),
                })
                .collect(),
        ),
        other => other,
    }
}
