//! One module per command; this one dispatches and holds what they share.

mod check;
mod combine;
mod combiner_init;
mod drill;
mod fingerprint;
mod init;
mod restore_blob;
mod rotate;
mod share;
mod verify;

use std::path::Path;

pub(crate) use ceremony_cli::artifacts::{load_certificate, print_fingerprint};
use ceremony_cli::{confirm, files, outln};
pub(crate) use ceremony_cli::{now_unix, rng};
use sd_core::bundle::{self, BundleKind};
use sd_core::handoff::Pin;
use sd_core::handoff::recovery_request::{RecoveryRequest, VerifiedRequest};

use crate::cli::{Command, OperatorArgs};
use ceremony_cli::error::{CliError, CliResult, InFile};

/// Runs one command.
pub fn run(command: Command) -> CliResult {
    match command {
        Command::Init { name, out, bits, days, protection, pkcs11, force } => {
            let home = match &pkcs11 {
                Some(uri) => init::KeyHome::Token(uri),
                None => init::KeyHome::File(protection.protection()),
            };
            init::run(&name, &out, bits, days, home, force)
        }
        Command::Check { sd, key, passphrase_file, json } => {
            check::run(&sd, &key, passphrase_file.as_deref(), json)
        }
        Command::RestoreBlob { sd, exchange_key, keys, out, force } => {
            restore_blob::run(&sd, &exchange_key, &keys, &out, force)
        }
        Command::CombinerInit { out, protection, pkcs11, force } => {
            combiner_init::run(&out, protection.protection(), pkcs11.as_deref(), force)
        }
        Command::Share { sd, request, operator, combiner, key, passphrase_file, out, force } => share::run(
            &share::Inputs {
                sd: &sd,
                request: &request,
                operator: &operator,
                combiner: combiner.as_deref(),
                key: &key,
                passphrase_file: passphrase_file.as_deref(),
            },
            &out,
            force,
        ),
        Command::Combine { sd, request, operator, combiner_key, passphrase_file, shares, out, force } => {
            combine::run(
                &combine::Inputs {
                    sd: &sd,
                    request: &request,
                    operator: &operator,
                    combiner_key: &combiner_key,
                    passphrase_file: passphrase_file.as_deref(),
                    shares: &shares,
                },
                &out,
                force,
            )
        }
        Command::Rotate { sd, keys, new_certs, quorum, out, force } => {
            rotate::run(&sd, &keys, &new_certs, quorum, &out, force)
        }
        Command::Drill { sd, keys, out, force } => drill::run(&sd, &keys, &out, force),
        Command::Verify { bundle, signer, sd } => verify::run(&bundle, signer.as_deref(), sd.as_deref()),
        Command::Fingerprint { file } => fingerprint::run(&file),
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
        return Pin::from_fingerprint(text)
            .map_err(|e| CliError::general(format!("--operator-fingerprint: {e}")));
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
fn load_distributed(
    sd_path: &Path,
    request_path: &Path,
    operator: &OperatorArgs,
) -> CliResult<(crate::security_domain::LoadedSd, VerifiedRequest)> {
    let sd = crate::security_domain::load(sd_path)?;
    if sd.sd.version() != 2 {
        return Err(CliError::file(sd_path, "distributed recovery needs a version-2 (Shamir) SD file"));
    }
    let pin = operator_pin(operator, request_path, BundleKind::RecoveryRequest)?;
    let request = RecoveryRequest::verify(&files::read(request_path)?, &pin, &sd.sd, now_unix())
        .in_file(request_path)?;
    outln!("recovery request for {} (made {})", request.hsm(), request.created().utc);
    print_fingerprint("signed by the pinned operator", request.operator());
    print_fingerprint("exchange key of the target HSM (confirm aloud)", request.exchange());
    print_fingerprint("combiner named by the operator (confirm aloud)", request.combiner());
    Ok((sd, request))
}
