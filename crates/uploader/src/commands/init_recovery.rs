//! `uploader init-recovery`: fetch the exchange key and verify its attestation
//! before anything is signed; write a signed recovery request naming it and
//! the combiner, and/or save it as az does. The raw response is kept.

use std::path::{Path, PathBuf};

use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::exchange_key::print_verdict;
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::key_file::CustodianKey;
use ceremony_cli::{now_unix, outln, rng};
use sd_core::attestation::{ExchangeKeyPolicy, ExchangeKeySource};
use sd_core::bundle::Signer;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::recovery_request::RecoveryRequest;
use sd_core::sd_file::SecurityDomain;

use crate::client::HsmClient;

/// What a signed recovery request needs besides the HSM and the SD file.
pub struct RequestOutput {
    /// Where to write it.
    pub out: PathBuf,
    /// The combiner's bundle, to name its certificate.
    pub combiner: PathBuf,
    /// The operator's key, to sign.
    pub operator: CustodianKey,
}

/// Which HSM the exchange key must belong to, and how it is judged.
pub struct Exchange {
    /// The HSM's name (its certificate is for NAME.managedhsm.azure.net).
    pub hsm_name: String,
    /// Attestation pins, collateral, or a confirmed fingerprint.
    pub policy: ExchangeKeyPolicy,
}

/// Where the raw transfer-key response is kept: beside the request, or
/// beside the exchange PEM.
fn response_path(request: Option<&RequestOutput>, exchange_out: Option<&Path>) -> Option<PathBuf> {
    let base = request.map(|r| r.out.as_path()).or(exchange_out)?;
    let mut p = base.as_os_str().to_owned();
    p.push(".transfer-key.json");
    Some(PathBuf::from(p))
}

pub fn run(
    client: &HsmClient,
    sd_path: &Path,
    exchange: &Exchange,
    request: Option<&RequestOutput>,
    exchange_out: Option<&Path>,
    force: bool,
) -> CliResult {
    let raw_path = response_path(request, exchange_out);
    for p in request.map(|r| r.out.as_path()).into_iter().chain(exchange_out).chain(raw_path.as_deref()) {
        files::check_writable(p, force)?;
    }
    let sd = SecurityDomain::parse(&files::read(sd_path)?).in_file(sd_path)?;
    // Everything offline is checked before the HSM is asked.
    let combiner = request
        .map(|r| Combiner::verify(&files::read(&r.combiner)?, now_unix()).in_file(&r.combiner))
        .transpose()?;
    let resp = client.send("GET", "/securitydomain/upload", None)?;
    if resp.status != 200 {
        return Err(resp.error("fetching the exchange (transfer) key"));
    }
    // Nothing is signed or written for a key that is not the named HSM's.
    let verified = exchange
        .policy
        .verify(ExchangeKeySource::Response(&resp.body), &exchange.hsm_name, now_unix())
        .map_err(|f| {
            CliError::general(format!("{}: {f}", client.base()))
                .hint("nothing was written; do not go on with this key. `keyholder exchange-key` on the saved response shows every check")
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
