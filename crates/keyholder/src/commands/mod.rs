//! One module per command; this one dispatches and holds what they share.

pub mod ceremony;
pub mod check;
pub mod combine;
pub mod combiner_init;
pub mod drill;
pub mod exchange_key;
pub mod fingerprint;
pub mod init;
pub mod ledger;
pub mod passwd;
pub mod restore_blob;
pub mod rotate;
pub mod share;
pub mod verify;

use std::path::Path;

pub(crate) use ceremony_cli::artifacts::{load_certificate, print_fingerprint};
use ceremony_cli::{confirm, files, outln};
pub(crate) use ceremony_cli::{now_unix, rng};
use clap::CommandFactory;
use sd_core::attestation::VerifiedExchangeKey;
use sd_core::azure::enc_data::DomainSecret;
use sd_core::azure::restore_blob::RestoreBlob;
use sd_core::bundle::{self, BundleKind};
use sd_core::handoff::Pin;
use sd_core::handoff::exchange_key_file::ExchangeKeyFile;
use sd_core::handoff::recovery_request::{RecoveryRequest, RequestPins, VerifiedRequest};
use sd_core::handoff::{CertRole, HandoffError};
use sd_core::pki::cert::{Certificate, readable_fingerprint};

use crate::cli::{Cli, Command, OperatorArgs, RecoveryArgs};
use ceremony_cli::args::SdFileArg;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::exchange_key::AttestationArgs;

/// Runs one command.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Init(args) => init::run(args),
        Command::Check(args) => check::run(args),
        Command::RestoreBlob(args) => restore_blob::run(args),
        Command::CombinerInit(args) => combiner_init::run(args),
        Command::Share(args) => share::run(args),
        Command::Combine(args) => combine::run(args),
        Command::Rotate(args) => rotate::run(args),
        Command::Drill(args) => drill::run(args),
        Command::Verify(args) => verify::run(args),
        Command::ExchangeKey(args) => exchange_key::run(args),
        Command::Fingerprint(args) => fingerprint::run(args),
        Command::Passwd(args) => passwd::run(args),
        Command::Ceremony(c) => ceremony::run(c),
        Command::Ledger(c) => ledger::run(c),
        Command::Completions(args) => ceremony_cli::manual::completions(&args, Cli::command()),
        Command::Manpages(args) => {
            ceremony_cli::manual::manpages(&args, Cli::command(), include_str!("../../man-examples.txt"))
        }
    }
}

/// The operator as pinned at the activation ceremony: the certificate or
/// fingerprint given, or else the signer of `bundle_path` once a person
/// confirms its fingerprint on the terminal (refused with no terminal).
fn operator_pin(operator: &OperatorArgs, bundle_path: &Path, kind: BundleKind) -> CliResult<Pin> {
    if let Some(path) = &operator.operator_cert {
        return Ok(Pin::certificate(&load_certificate(path)?));
    }
    if let Some(text) = &operator.operator_fingerprint {
        return Pin::from_fingerprint(text).map_err(|e| {
            CliError::general(format!("--operator-fingerprint: {e}"))
                .hint("copy the \"read aloud\" line recorded at the activation ceremony (the x5t#S256 line works too)")
        });
    }
    let signed = bundle::verify_signatures(&files::read(bundle_path)?, kind).in_file(bundle_path)?;
    let signer = &signed.signers()[0];
    print_fingerprint(&format!("{} signed by", kind.name()), signer);
    let no_terminal = CliError::file(bundle_path, "no operator is pinned, and there is no terminal to confirm its signer on")
        .hint("give --operator-cert (your copy from the activation ceremony) or --operator-fingerprint (the one read aloud then)");
    confirm::typed(
        "Is this the operator fingerprint recorded at the activation ceremony?",
        "yes",
        no_terminal,
    )?;
    Ok(Pin::certificate(signer))
}

/// What both sides of a distributed recovery start from: a version-2 SD file
/// and a recovery request for it, signed by the pinned operator; its target
/// HSM, exchange key and combiner are shown to be confirmed aloud.
fn load_distributed(args: &RecoveryArgs) -> CliResult<(crate::security_domain::LoadedSd, VerifiedRequest)> {
    let RecoveryArgs { sd: SdFileArg { sd: sd_path }, request: request_path, target, operator, attestation } =
        args;
    let sd = crate::security_domain::load(sd_path)?;
    if sd.sd.version() != 2 {
        return Err(CliError::file(sd_path, "distributed recovery needs a version-2 (Shamir) SD file")
            .hint("recover a version-1 file on one laptop: `keyholder restore-blob`"));
    }
    let pin = operator_pin(operator, request_path, BundleKind::RecoveryRequest)?;
    let policy = attestation.policy()?;
    let pins = RequestPins { operator: &pin, hsm: &target.hsm };
    let request = RecoveryRequest::verify(&files::read(request_path)?, pins, &sd.sd, &policy, now_unix())
        .map_err(|e| request_refused(request_path, e))?;
    outln!(
        "recovery request for HSM {:?}, the HSM you named, at {} (made {})",
        request.hsm_name(),
        ceremony_cli::terminal::capped(request.hsm()),
        request.created()
    );
    print_fingerprint("signed by the pinned operator", request.operator());
    print_fingerprint("exchange key of the target HSM (confirm aloud)", request.exchange());
    ceremony_cli::exchange_key::print_verdict(request.exchange_key());
    print_fingerprint("combiner named by the operator (confirm aloud)", request.combiner());
    Ok((sd, request))
}

/// A refused recovery request, with what the custodian should do next.
fn request_refused(path: &Path, e: HandoffError) -> CliError {
    let hint = match &e {
        HandoffError::OtherHsm { .. } => Some(
            "check --hsm against the ceremony plan; if it is right, this request was not made for your \
             recovery: tell the ceremony administrator and share nothing",
        ),
        HandoffError::RequestTooOld { .. }
        | HandoffError::Expired { role: CertRole::Combiner, .. }
        | HandoffError::NotYetValid { role: CertRole::Combiner, .. } => Some(
            "a recovery needs a fresh combiner and a new request: `keyholder combiner-init`, then the \
             operator's `uploader init-recovery`",
        ),
        HandoffError::ExchangeKey(_) => Some(
            "share nothing: the request's exchange key is not one attested for this HSM; `keyholder exchange-key REQUEST --hsm NAME` shows every check",
        ),
        HandoffError::NotPinned { role: CertRole::Operator, .. } => Some(
            "pin the operator with the certificate or fingerprint kept from the activation ceremony; if that is what you gave, this request is not the operator's: share nothing",
        ),
        _ => None,
    };
    let err = CliError::file(path, e);
    match hint {
        Some(h) => err.hint(h),
        None => err,
    }
}

/// Wraps the rebuilt `secrets` to `exchange` and writes the restore blob to
/// `out`, named by the exchange key's read-aloud fingerprint. The secrets are
/// wiped as soon as they are wrapped, before anything is written.
fn write_restore_blob(
    out: &Path,
    force: bool,
    secrets: Vec<DomainSecret>,
    exchange: &Certificate,
) -> CliResult {
    let blob = RestoreBlob::build(&mut rng(), &secrets, exchange).in_file(out)?;
    drop(secrets);
    let json = blob.to_json().map_err(|e| {
        // no hint: serialising our own restore blob failing is a bug to report.
        CliError::general(e)
    })?;
    files::write_atomic(out, json.as_bytes(), files::PUBLIC_MODE, force)?;
    outln!(
        "wrote restore blob {} for exchange key {}",
        out.display(),
        readable_fingerprint(&exchange.sha256())
    );
    Ok(())
}

/// Reads and verifies an exchange key for the HSM `hsm`, at `at` (default: now).
fn load_exchange_key(
    path: &Path,
    hsm: &str,
    attestation: &AttestationArgs,
    at: Option<u64>,
) -> CliResult<VerifiedExchangeKey> {
    let file = ExchangeKeyFile::parse(files::read(path)?).in_file(path)?;
    let policy = attestation.policy()?;
    policy.verify(file.source(), hsm, at.unwrap_or_else(now_unix)).map_err(|f| {
        CliError::file(path, f).hint("`keyholder exchange-key FILE --hsm NAME` shows every check")
    })
}
