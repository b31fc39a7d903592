//! `keyholder drill`: prove a quorum can recover, and sign a report.

use ceremony_cli::outln;

use std::path::Path;

use sd_core::bundle::payloads::{DrillEntry, DrillReport, Timestamp};
use sd_core::bundle::{self, BundleKind, Signer};

use super::now_unix;
use crate::cli::KeysArgs;
use crate::security_domain;
use ceremony_cli::error::{CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};

pub fn run(sd_path: &Path, keys: &KeysArgs, out: &Path, force: bool) -> CliResult {
    files::check_writable(out, force)?;
    let started = now_unix();
    let sd = security_domain::load(sd_path)?;
    let opened = security_domain::open_quorum(&sd, &keys.keys, &keys.passphrase_files)?;
    // Signing needs every participant's certificate: check before reporting.
    let certs = opened.keys.iter().map(|k| k.require_cert().cloned()).collect::<CliResult<Vec<_>>>()?;
    let enc_data: Vec<DrillEntry> = opened
        .secrets
        .iter()
        .map(|s| DrillEntry { tag: s.tag.clone(), bytes: s.data.len(), verified: true })
        .collect();
    let report = DrillReport {
        sd_sha256: sd.sha256.clone(),
        quorum: sd.sd.required(),
        shares: sd.sd.thumbprints().len(),
        participants: opened.participants.clone(),
        enc_data,
        result: "success".into(),
        started: Timestamp::from_unix(started),
        finished: Timestamp::from_unix(now_unix()),
    };
    let custodians = opened.keys.len();
    let signers: Vec<Signer<'_>> =
        opened.keys.iter().zip(&certs).map(|(k, c)| Signer { key: &k.key, cert: c }).collect();
    let signed = bundle::sign(BundleKind::DrillReport, &report, &signers).in_file(out)?;
    drop(signers);
    drop(opened);
    files::write_atomic(out, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!(
        "drill succeeded: master key rebuilt from {} share(s), {} EncData entries verified",
        custodians,
        report.enc_data.len()
    );
    for e in &report.enc_data {
        outln!("  {:<28} {:>6} bytes  verified", e.tag, e.bytes);
    }
    outln!("wrote signed report {}", out.display());
    Ok(())
}
