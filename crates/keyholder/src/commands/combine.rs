//! `keyholder combine`: verify share bundles, rebuild the master key, write
//! the restore blob to the exchange key named in the signed request.

use ceremony_cli::errln;

use ceremony_cli::outln;

use std::path::{Path, PathBuf};

use sd_core::bundle::BundleKind;
use sd_core::bundle::ExpectedSigner;
use sd_core::bundle::payloads::ShareBundle;
use sd_core::jwe::{Alg, CompactJwe, Enc};
use sd_core::restore_blob::RestoreBlob;
use sd_core::sd_file::OpenedShare;
use sd_core::secret::MasterKey;
use sd_core::shamir::Share;

use super::{load_bundle, load_distributed, rng};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::key_file::CustodianKey;

pub struct Inputs<'a> {
    pub sd: &'a Path,
    pub request: &'a Path,
    pub operator_cert: Option<&'a Path>,
    pub combiner_key: &'a Path,
    pub passphrase_file: Option<&'a Path>,
    pub shares: &'a [PathBuf],
}

pub fn run(inputs: &Inputs<'_>, out: &Path, force: bool) -> CliResult {
    files::check_writable(out, force)?;
    let (sd, request) = load_distributed(inputs.sd, inputs.request, inputs.operator_cert)?;
    let required = sd.sd.required();
    if inputs.shares.len() < required {
        return Err(CliError::general(format!(
            "{} share bundle(s) given, the quorum of {} is {required}",
            inputs.shares.len(),
            inputs.sd.display()
        )));
    }
    let combiner = CustodianKey::load(inputs.combiner_key, inputs.passphrase_file)?;
    let thumbprints = sd.sd.thumbprints();

    let mut opened: Vec<OpenedShare> = Vec::new();
    let mut sources: Vec<&Path> = Vec::new();
    let mut combiner_x5t: Option<String> = None;
    for path in inputs.shares {
        let verified =
            load_bundle(path, BundleKind::Share, ExpectedSigner::AnyOf(&thumbprints)).map_err(|e| {
                e.hint("a share bundle must be signed by a custodian whose certificate is in this SD file")
            })?;
        let p: ShareBundle = verified.payload_as().in_file(path)?;
        let signer = verified.signer().x5t_s256();
        let fail = |m: &str| CliError::file(path, m);
        if p.request_nonce != request.payload.nonce {
            return Err(fail("is for another recovery request (its nonce differs)"));
        }
        if p.sd_sha256 != sd.sha256 {
            return Err(fail("is for another SD file"));
        }
        if p.exchange_x5t_s256 != request.exchange.x5t_s256() {
            return Err(fail("names another exchange key than the recovery request"));
        }
        if p.custodian_x5t_s256 != signer || thumbprints.get(p.share_index) != Some(&signer) {
            return Err(fail("its share index and custodian do not match its signer"));
        }
        if *combiner_x5t.get_or_insert_with(|| p.combiner_x5t_s256.clone()) != p.combiner_x5t_s256 {
            return Err(fail("is sealed to another combiner than the other share bundles"));
        }
        if let Some(i) = opened.iter().position(|s| s.index == p.share_index) {
            return Err(fail(&format!(
                "carries share {}, the same share as {}",
                p.share_index + 1,
                sources[i].display()
            )));
        }
        let jwe = CompactJwe::parse(&p.encrypted_share).in_file(path)?;
        jwe.expect(Alg::RsaOaep256, Enc::A256Gcm).in_file(path)?;
        if jwe.kid() != Some(request.payload.nonce.as_str()) {
            return Err(fail("the sealed share is not bound to this request's nonce"));
        }
        let plain = jwe.decrypt_rsa(&combiner.key).map_err(|e| match e {
            sd_core::Error::KeyUnwrap => CliError::file(
                path,
                format!("is sealed to another combiner key than {}", inputs.combiner_key.display()),
            ),
            other => CliError::file(path, other),
        })?;
        let share = Share::from_bytes(plain.expose()).in_file(path)?;
        if share.len() != MasterKey::LEN {
            return Err(fail("the share does not cover a 32-byte master key"));
        }
        errln!("{}: share {} from {}", path.display(), p.share_index + 1, verified.signer().subject());
        opened.push(OpenedShare { index: p.share_index, x5t_256: signer, share });
        sources.push(path);
    }
    let (_master, secrets) = sd.sd.recover(&opened).map_err(|e| {
        let order: Vec<String> =
            sources.iter().enumerate().map(|(i, p)| format!("share {i} = {}", p.display())).collect();
        CliError::general(format!("the share bundles do not rebuild the master key: {e}"))
            .hint(order.join(", "))
    })?;
    let blob = RestoreBlob::build(&mut rng(), &secrets, &request.exchange).in_file(out)?;
    drop(secrets);
    files::write_atomic(out, blob.to_json().as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote restore blob {} for exchange key {}", out.display(), request.exchange.x5t_s256());
    Ok(())
}
