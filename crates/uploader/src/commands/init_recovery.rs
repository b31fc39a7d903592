//! `uploader init-recovery`: fetch the exchange key and verify its attestation
//! before anything is signed; write a signed recovery request naming it and
//! the combiner, and/or save it as az does. The raw response is kept.

use std::path::{Path, PathBuf};

use ceremony_cli::args::SdFileArg;
use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::exchange_key::AttestationArgs;
use ceremony_cli::exchange_key::print_verdict;
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::unlocked_key::{KeySource, UnlockedKey};
use ceremony_cli::{now_unix, outln, rng};
use sd_core::attestation::{ExchangeKeyPolicy, ExchangeKeySource};
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::bundle::Signer;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::recovery_request::RecoveryRequest;

use crate::cli::{OperatorKeyArgs, Target};

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("output").required(true).multiple(true).args(["out", "exchange_key_out"]))]
pub struct Args {
    #[command(flatten)]
    sd: SdFileArg,
    /// The combiner's bundle (from keyholder combiner-init): custodians
    /// will seal their shares to this combiner only. Confirm its
    /// fingerprint aloud with the combiner before signing.
    #[arg(long, value_name = "COMBINER.json", requires = "out")]
    combiner: Option<PathBuf>,
    /// The operator's key (operator.cer beside it), to sign the request.
    #[arg(long, value_name = "OP.key", requires = "out")]
    operator_key: Option<KeySource>,
    /// Passphrase file for the operator key.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Where to write the recovery request (needs --combiner and --operator-key).
    #[arg(long, value_name = "REQUEST.json", requires_all = ["combiner", "operator_key"])]
    out: Option<PathBuf>,
    /// Also write the exchange key as PEM, exactly as az init-recovery does.
    #[arg(long, value_name = "EXCHANGE.pem")]
    exchange_key_out: Option<PathBuf>,
    #[command(flatten)]
    attestation: AttestationArgs,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
}

/// What a signed recovery request needs besides the HSM and the SD file.
struct RequestOutput {
    /// Where to write it.
    out: PathBuf,
    /// The operator's key, to sign.
    operator: UnlockedKey,
}

/// Which HSM the exchange key must belong to, and how it is judged.
struct Exchange {
    /// The HSM's name (its certificate is for NAME.managedhsm.azure.net).
    hsm_name: String,
    /// Attestation pins, collateral, or a confirmed fingerprint.
    policy: ExchangeKeyPolicy,
}

/// Where the raw transfer-key response is kept: beside the request, or
/// beside the exchange PEM.
fn response_path(request_out: Option<&Path>, exchange_out: Option<&Path>) -> Option<PathBuf> {
    let base = request_out.or(exchange_out)?;
    let mut p = base.as_os_str().to_owned();
    p.push(".transfer-key.json");
    Some(PathBuf::from(p))
}

pub fn run(target: &Target, args: Args) -> CliResult {
    let exchange = &Exchange { hsm_name: super::hsm_name(target)?, policy: args.attestation.policy()? };
    let (sd_path, exchange_out, force) = (args.sd.sd.as_path(), args.exchange_key_out.as_deref(), args.force);
    // clap's `requires` makes --out come with both --combiner and --operator-key.
    let wanted = match (&args.out, &args.combiner, &args.operator_key) {
        (Some(out), Some(combiner), Some(key)) => Some((out, combiner, key)),
        _ => None,
    };
    let request_out = wanted.map(|(out, _, _)| out.as_path());
    let raw_path = response_path(request_out, exchange_out);
    for p in request_out.into_iter().chain(exchange_out).chain(raw_path.as_deref()) {
        files::check_writable(p, force)?;
    }
    let sd = SecurityDomain::parse(&files::read(sd_path)?).in_file(sd_path)?;
    // Everything offline is checked before a passphrase is asked or the HSM is asked.
    let combiner = wanted
        .map(|(_, path, _)| {
            files::refuse_keys_beside(path, "the combiner's public bundle")?;
            Combiner::verify(&files::read(path)?, now_unix()).in_file(path)
        })
        .transpose()?;
    let request = match wanted {
        Some((out, _, key)) => Some(RequestOutput {
            out: out.clone(),
            operator: super::load_operator(&OperatorKeyArgs {
                operator_key: key.clone(),
                passphrase_file: args.passphrase_file.clone(),
            })?,
        }),
        None => None,
    };
    let request = request.as_ref();
    let client = &super::connect(target)?;
    let resp = client.get("/securitydomain/upload")?;
    if resp.status != 200 {
        return Err(resp.error("fetching the exchange (transfer) key"));
    }
    // Nothing is signed or written for a key that is not the named HSM's.
    let verified = exchange
        .policy
        .verify(ExchangeKeySource::Response(&resp.body), &exchange.hsm_name, now_unix())
        .map_err(|f| {
            CliError::general(format!("{}: {f}", client.base()))
                .hint("nothing was written; do not go on with this HSM's exchange key, and tell the ceremony administrator (--hsm-name must be the HSM's own name; a test emulator needs --attestation-root)")
        })?;
    let signed = match (request, &combiner) {
        (Some(r), Some(combiner)) => {
            let cert = r.operator.require_cert()?;
            let signer = Signer { key: &r.operator.key, cert };
            let signed = RecoveryRequest::sign(
                &mut rng(),
                client.base(),
                &verified,
                combiner,
                &sd,
                &signer,
                now_unix(),
            )
            .in_file(&r.out)?;
            Some((r, signed))
        }
        _ => None,
    };
    if let Some(p) = &raw_path {
        files::write_atomic(p, &resp.body, PUBLIC_MODE, force)?;
        outln!("wrote {} (the HSM's response, verbatim)", p.display());
    }
    if let Some(p) = exchange_out {
        files::write_atomic(p, verified.certificate().to_pem_azure().as_bytes(), PUBLIC_MODE, force)?;
        outln!("wrote {}", p.display());
    }
    if let Some((r, signed)) = &signed {
        files::write_atomic(&r.out, signed.as_bytes(), PUBLIC_MODE, force)?;
        outln!(
            "wrote recovery request {} for HSM {:?} at {}",
            r.out.display(),
            exchange.hsm_name,
            client.base()
        );
    }
    print_fingerprint("exchange key of the target HSM (read aloud to the witnesses)", verified.certificate());
    print_verdict(&verified);
    if let (Some((r, _)), Some(combiner)) = (&signed, &combiner) {
        print_fingerprint(
            "combiner named in the request (confirm aloud with the combiner)",
            combiner.certificate(),
        );
        print_fingerprint("recovery request signed by", r.operator.require_cert()?);
    }
    Ok(())
}
