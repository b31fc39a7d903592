//! `keyholder share`: one custodian's share, sealed to the combiner and bound
//! to the recovery request.

use ceremony_cli::outln;

use std::path::Path;

use sd_core::bundle::payloads::{Combiner, ShareBundle, Timestamp};
use sd_core::bundle::{self, BundleKind, ExpectedSigner, Signer};
use sd_core::cert::Certificate;
use sd_core::jwe::{CompactJwe, Enc};

use super::{load_bundle, load_distributed, now_unix, print_fingerprint, rng};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::key_file::CustodianKey;

pub struct Inputs<'a> {
    pub sd: &'a Path,
    pub request: &'a Path,
    pub operator_cert: Option<&'a Path>,
    pub combiner: &'a Path,
    pub key: &'a Path,
    pub passphrase_file: Option<&'a Path>,
}

/// Reads a combiner bundle: self-signed, and the certificate it names is its signer's.
pub fn load_combiner(path: &Path) -> CliResult<Certificate> {
    let verified = load_bundle(path, BundleKind::Combiner, ExpectedSigner::SelfAsserted)?;
    let payload: Combiner = verified.payload_as().in_file(path)?;
    let cert = Certificate::from_pem_or_der(payload.certificate.as_bytes()).in_file(path)?;
    if &cert != verified.signer() || cert.x5t_s256() != payload.x5t_s256 {
        return Err(CliError::file(path, "the combiner certificate is not the one that signed the bundle"));
    }
    cert.rsa_public_key().in_file(path)?;
    Ok(cert)
}

pub fn run(inputs: &Inputs<'_>, out: &Path, force: bool) -> CliResult {
    files::check_writable(out, force)?;
    let (sd, request) = load_distributed(inputs.sd, inputs.request, inputs.operator_cert)?;
    let combiner = load_combiner(inputs.combiner)?;
    print_fingerprint("combiner key (confirm aloud)", &combiner);

    let key = CustodianKey::load(inputs.key, inputs.passphrase_file)?;
    let cert = key.require_cert()?.clone();
    let share = sd.open_share(&key)?;
    let sealed = CompactJwe::encrypt_rsa(
        &mut rng(),
        Enc::A256Gcm,
        &combiner.rsa_public_key().in_file(inputs.combiner)?,
        &request.payload.nonce,
        share.share.to_bytes().expose(),
    )
    .in_file(out)?;
    let payload = ShareBundle {
        request_nonce: request.payload.nonce.clone(),
        sd_sha256: sd.sha256.clone(),
        exchange_x5t_s256: request.exchange.x5t_s256(),
        combiner_x5t_s256: combiner.x5t_s256(),
        custodian_x5t_s256: cert.x5t_s256(),
        share_index: share.index,
        encrypted_share: sealed.serialize(),
        created: Timestamp::from_unix(now_unix()),
    };
    drop(share);
    let signed =
        bundle::sign(BundleKind::Share, &payload, &[Signer { key: &key.key, cert: &cert }]).in_file(out)?;
    files::write_atomic(out, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!(
        "wrote share bundle {} (share {} of {})",
        out.display(),
        payload.share_index + 1,
        sd.sd.shares().len()
    );
    Ok(())
}
