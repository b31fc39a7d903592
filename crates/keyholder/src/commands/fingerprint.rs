//! `keyholder fingerprint`: what a file is, and the fingerprint to read aloud.

use std::path::PathBuf;

use ceremony_cli::artifacts::fingerprint_json;
use ceremony_cli::outln;
use sd_core::bundle;
use sd_core::cert::Certificate;
use sd_core::restore_blob::RestoreBlob;
use sd_core::sd_file::SecurityDomain;
use serde_json::json;

use super::print_fingerprint;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files;

#[derive(clap::Args)]
pub struct Args {
    /// The file.
    file: PathBuf,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// What the file turned out to be, with the certificates in it.
struct Identified {
    /// "certificate", "security domain file", "recovery request bundle"...
    kind: String,
    /// Lines that say more (quorum, shares, the exchange key a blob is for).
    details: Vec<(String, serde_json::Value)>,
    /// Labelled certificates to read aloud.
    certificates: Vec<(String, Certificate)>,
}

pub fn run(args: Args) -> CliResult {
    let path = args.file.as_path();
    let bytes = files::read(path)?;
    let sha = sd_core::sha256_hex(&bytes);
    let found = identify(&bytes).in_file(path)?.ok_or_else(|| {
        CliError::file(
            path,
            "is not a certificate, SD file, restore blob, transfer-key response or hsm-ceremony bundle",
        )
    })?;
    if args.json {
        let mut v = json!({
            "file": path.display().to_string(),
            "kind": found.kind,
            "sha256": sha,
            "certificates": found.certificates.iter().map(|(l, c)| fingerprint_json(l, c)).collect::<Vec<_>>(),
        });
        for (k, d) in &found.details {
            v[k] = d.clone();
        }
        outln!("{v:#}");
        return Ok(());
    }
    outln!("{}, file sha256 {sha}", found.kind);
    for (k, d) in &found.details {
        let text = match d {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => {
                items.iter().map(|i| i.as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>().join(", ")
            }
            other => other.to_string(),
        };
        outln!("  {}: {text}", k.replace('_', " "));
    }
    for (label, cert) in &found.certificates {
        print_fingerprint(label, cert);
    }
    if found.kind.starts_with("transfer-key response") {
        outln!("its attestation: keyholder exchange-key {} --hsm NAME", path.display());
    }
    Ok(())
}

/// Recognises the file; `Ok(None)` when it is none of the formats we know.
fn identify(bytes: &[u8]) -> Result<Option<Identified>, sd_core::Error> {
    if let Ok(kind) = bundle::peek_kind(bytes) {
        let verified = bundle::verify_signatures(bytes, kind)?;
        let certificates = verified
            .signers()
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("signer {}", i + 1), c.clone()))
            .collect();
        return Ok(Some(Identified {
            kind: format!("{} bundle", kind.name()),
            details: Vec::new(),
            certificates,
        }));
    }
    if let Ok(sd) = SecurityDomain::parse(bytes) {
        let shares: Vec<_> = sd.thumbprints().iter().map(|t| json!(t)).collect();
        return Ok(Some(Identified {
            kind: format!("security domain file (version {})", sd.version()),
            details: vec![("quorum".into(), json!(sd.required())), ("share_x5t_s256".into(), json!(shares))],
            certificates: Vec::new(),
        }));
    }
    if let Ok(blob) = RestoreBlob::parse(bytes) {
        return Ok(Some(Identified {
            kind: "restore blob".into(),
            details: vec![("exchange_key_x5t_s256".into(), json!(blob.exchange_x5t_s256()))],
            certificates: Vec::new(),
        }));
    }
    if let Ok(cert) = sd_core::transfer_key::parse_response(bytes) {
        return Ok(Some(Identified {
            kind: "transfer-key response (an HSM's exchange key)".into(),
            details: Vec::new(),
            certificates: vec![("exchange certificate".into(), cert)],
        }));
    }
    if let Ok(cert) = Certificate::from_pem_or_der(bytes) {
        return Ok(Some(Identified {
            kind: "certificate".into(),
            details: Vec::new(),
            certificates: vec![("certificate".into(), cert)],
        }));
    }
    Ok(None)
}
