//! `uploader init-recovery`: fetch the exchange key, write a signed recovery request.

use std::path::Path;

use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::key_file::CustodianKey;
use ceremony_cli::{now_unix, outln};
use sd_core::bundle::payloads::{RecoveryRequest, Timestamp};
use sd_core::bundle::{self, BundleKind, Signer};
use sd_core::sd_file::SecurityDomain;
use sd_core::{b64, transfer_key};

use crate::client::HsmClient;

pub fn run(
    client: &HsmClient,
    sd_path: &Path,
    operator: &CustodianKey,
    out: &Path,
    exchange_out: Option<&Path>,
    force: bool,
) -> CliResult {
    files::check_writable(out, force)?;
    if let Some(p) = exchange_out {
        files::check_writable(p, force)?;
    }
    let sd_bytes = files::read(sd_path)?;
    SecurityDomain::parse(&sd_bytes).in_file(sd_path)?;
    let resp = client.send("GET", "/securitydomain/upload", None)?;
    if resp.status != 200 {
        return Err(resp.error("fetching the exchange (transfer) key"));
    }
    let exchange = transfer_key::parse_response(&resp.body).map_err(CliError::general)?;
    let mut nonce = [0u8; 32];
    getrandom::fill(&mut nonce)
        .map_err(|_| CliError::general("the system random number generator failed"))?;
    let payload = RecoveryRequest {
        hsm: client.base().to_owned(),
        exchange_certificate: exchange.to_pem(),
        exchange_x5t_s256: exchange.x5t_s256(),
        sd_sha256: sd_core::sha256_hex(&sd_bytes),
        nonce: b64::url_encode(&nonce),
        created: Timestamp::from_unix(now_unix()),
    };
    let cert = operator.require_cert()?;
    let signed = bundle::sign(BundleKind::RecoveryRequest, &payload, &[Signer { key: &operator.key, cert }])
        .in_file(out)?;
    if let Some(p) = exchange_out {
        files::write_atomic(p, exchange.to_pem_azure().as_bytes(), PUBLIC_MODE, force)?;
        outln!("wrote {}", p.display());
    }
    files::write_atomic(out, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote recovery request {} for {}", out.display(), client.base());
    print_fingerprint("exchange key of the target HSM (read aloud to the witnesses)", &exchange);
    print_fingerprint("recovery request signed by", cert);
    Ok(())
}
