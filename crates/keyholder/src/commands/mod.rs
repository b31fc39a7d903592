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

pub(crate) use ceremony_cli::artifacts::{load_bundle, load_certificate, print_fingerprint};
pub(crate) use ceremony_cli::{now_unix, rng};
use sd_core::bundle::payloads::RecoveryRequest;
use sd_core::bundle::{BundleKind, ExpectedSigner};
use sd_core::cert::Certificate;

use crate::cli::Command;
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
        Command::Share { sd, request, operator_cert, combiner, key, passphrase_file, out, force } => {
            share::run(
                &share::Inputs {
                    sd: &sd,
                    request: &request,
                    operator_cert: operator_cert.as_deref(),
                    combiner: &combiner,
                    key: &key,
                    passphrase_file: passphrase_file.as_deref(),
                },
                &out,
                force,
            )
        }
        Command::Combine {
            sd,
            request,
            operator_cert,
            combiner_key,
            passphrase_file,
            shares,
            out,
            force,
        } => combine::run(
            &combine::Inputs {
                sd: &sd,
                request: &request,
                operator_cert: operator_cert.as_deref(),
                combiner_key: &combiner_key,
                passphrase_file: passphrase_file.as_deref(),
                shares: &shares,
            },
            &out,
            force,
        ),
        Command::Rotate { sd, keys, new_certs, quorum, out, force } => {
            rotate::run(&sd, &keys, &new_certs, quorum, &out, force)
        }
        Command::Drill { sd, keys, out, force } => drill::run(&sd, &keys, &out, force),
        Command::Verify { bundle, signer } => verify::run(&bundle, signer.as_deref()),
        Command::Fingerprint { file } => fingerprint::run(&file),
    }
}

/// A verified recovery request, its signer and its exchange certificate.
struct Request {
    payload: RecoveryRequest,
    exchange: Certificate,
}

/// Loads a recovery request, checks its signer (the given operator certificate,
/// or shows the signer's fingerprint to be confirmed aloud) and that it is for
/// this SD file.
fn load_request(path: &Path, operator_cert: Option<&Path>, sd_sha256: &str) -> CliResult<Request> {
    let operator = operator_cert.map(load_certificate).transpose()?;
    let expected = operator.as_ref().map_or(ExpectedSigner::SelfAsserted, ExpectedSigner::Certificate);
    let verified = load_bundle(path, BundleKind::RecoveryRequest, expected)?;
    let payload: RecoveryRequest = verified.payload_as().in_file(path)?;
    if operator.is_none() {
        print_fingerprint("recovery request signed by (confirm aloud with the operator)", verified.signer());
    }
    if payload.sd_sha256 != sd_sha256 {
        return Err(CliError::file(
            path,
            format!("is for SD file {}, not this one ({sd_sha256})", payload.sd_sha256),
        ));
    }
    let exchange = Certificate::from_pem_or_der(payload.exchange_certificate.as_bytes()).in_file(path)?;
    exchange.require_self_signed().in_file(path)?;
    if exchange.x5t_s256() != payload.exchange_x5t_s256 {
        return Err(CliError::file(path, "the exchange certificate does not match its thumbprint"));
    }
    exchange.rsa_public_key().in_file(path)?;
    Ok(Request { payload, exchange })
}

/// What both sides of a distributed recovery start from: a version-2 SD file
/// and a verified recovery request for it, whose exchange key is shown to be
/// confirmed aloud.
fn load_distributed(
    sd_path: &Path,
    request_path: &Path,
    operator_cert: Option<&Path>,
) -> CliResult<(crate::security_domain::LoadedSd, Request)> {
    let sd = crate::security_domain::load(sd_path)?;
    if sd.sd.version() != 2 {
        return Err(CliError::file(sd_path, "distributed recovery needs a version-2 (Shamir) SD file"));
    }
    let request = load_request(request_path, operator_cert, &sd.sha256)?;
    print_fingerprint("exchange key of the target HSM (confirm aloud)", &request.exchange);
    Ok((sd, request))
}
