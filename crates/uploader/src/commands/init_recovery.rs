//! `uploader init-recovery`: fetch the exchange key; write a signed recovery
//! request naming it and the combiner, and/or save it as az does.

use std::path::{Path, PathBuf};

use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::key_file::CustodianKey;
use ceremony_cli::{now_unix, outln, rng};
use sd_core::bundle::Signer;
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::recovery_request::RecoveryRequest;
use sd_core::sd_file::SecurityDomain;
use sd_core::transfer_key;

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

pub fn run(
    client: &HsmClient,
    sd_path: &Path,
    request: Option<&RequestOutput>,
    exchange_out: Option<&Path>,
    force: bool,
) -> CliResult {
    for p in request.map(|r| r.out.as_path()).into_iter().chain(exchange_out) {
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
    let exchange = transfer_key::parse_response(&resp.body).map_err(CliError::general)?;
    let signed = match (request, &combiner) {
        (Some(r), Some(combiner)) => {
            let cert = r.operator.require_cert()?;
            let signer = Signer { key: &r.operator.key, cert };
            let signed = RecoveryRequest::sign(
                &mut rng(),
                client.base(),
                &exchange,
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
    if let Some(p) = exchange_out {
        files::write_atomic(p, exchange.to_pem_azure().as_bytes(), PUBLIC_MODE, force)?;
        outln!("wrote {}", p.display());
    }
    if let Some((r, signed)) = &signed {
        files::write_atomic(&r.out, signed.as_bytes(), PUBLIC_MODE, force)?;
        outln!("wrote recovery request {} for {}", r.out.display(), client.base());
    }
    print_fingerprint("exchange key of the target HSM (read aloud to the witnesses)", &exchange);
    if let (Some((r, _)), Some(combiner)) = (&signed, &combiner) {
        print_fingerprint(
            "combiner named in the request (confirm aloud with the combiner)",
            combiner.certificate(),
        );
        print_fingerprint("recovery request signed by", r.operator.require_cert()?);
    }
    Ok(())
}
