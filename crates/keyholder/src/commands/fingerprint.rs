//! `keyholder fingerprint`: what a file is, and the fingerprint to read aloud.

use std::path::PathBuf;

use ceremony_cli::artifacts::fingerprint_json;
use ceremony_cli::outln;
use sd_core::azure::restore_blob::RestoreBlob;
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::bundle;
use sd_core::pki::cert::Certificate;
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
    /// For an SD file: each share's certificate thumbprint (`x5t#S256`), in share order.
    shares: Vec<String>,
}

pub fn run(args: Args) -> CliResult {
    let path = args.file.as_path();
    let bytes = files::read(path)?;
    let sha = sd_core::primitives::hex::sha256_hex(&bytes);
    if sd_core::artifact::identify(&bytes) == Some(sd_core::artifact::ArtifactKind::PrivateKey) {
        return key_file(path);
    }
    let found = identify(&bytes).in_file(path)?.ok_or_else(|| {
        CliError::file(
            path,
            "is not a certificate, SD file, restore blob, transfer-key response or hsm-ceremony bundle",
        )
        .hint(
            "fingerprint reads the files of a ceremony and key files (NAME.key); check which file was meant",
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
    // The shares are listed below, one a line, each in both forms.
    for (k, d) in found.details.iter().filter(|(k, _)| !k.starts_with("share_")) {
        let text = match d {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => {
                items.iter().map(|i| i.as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>().join(", ")
            }
            other => other.to_string(),
        };
        outln!("  {}: {text}", k.replace('_', " "));
    }
    for (i, x5t) in found.shares.iter().enumerate() {
        outln!("share {} of {}: custodian certificate", i + 1, found.shares.len());
        outln!("  x5t#S256:    {x5t}");
        outln!("  read aloud:  {}", read_aloud(x5t));
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
            shares: Vec::new(),
        }));
    }
    if let Ok(sd) = SecurityDomain::parse(bytes) {
        let shares = sd.thumbprints();
        let readable: Vec<_> = shares.iter().map(|t| json!(read_aloud(t))).collect();
        return Ok(Some(Identified {
            kind: format!("security domain file (version {})", sd.version()),
            details: vec![
                ("quorum".into(), json!(sd.required())),
                ("share_x5t_s256".into(), json!(shares)),
                ("share_read_aloud".into(), json!(readable)),
            ],
            certificates: Vec::new(),
            shares,
        }));
    }
    if let Ok(blob) = RestoreBlob::parse(bytes) {
        return Ok(Some(Identified {
            kind: "restore blob".into(),
            details: vec![("exchange_key_x5t_s256".into(), json!(blob.exchange_x5t_s256()))],
            certificates: Vec::new(),
            shares: Vec::new(),
        }));
    }
    if let Ok(cert) = sd_core::azure::transfer_key::parse_response(bytes) {
        return Ok(Some(Identified {
            kind: "transfer-key response (an HSM's exchange key)".into(),
            details: Vec::new(),
            certificates: vec![("exchange certificate".into(), cert)],
            shares: Vec::new(),
        }));
    }
    if let Ok(cert) = Certificate::from_pem_or_der(bytes) {
        return Ok(Some(Identified {
            kind: "certificate".into(),
            details: Vec::new(),
            certificates: vec![("certificate".into(), cert)],
            shares: Vec::new(),
        }));
    }
    Ok(None)
}

/// An `x5t#S256` as the grouped hex people read aloud (the same SHA-256).
fn read_aloud(x5t_s256: &str) -> String {
    match sd_core::primitives::b64::url_decode(x5t_s256, "x5t#S256")
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
    {
        Some(sha) => sd_core::pki::cert::readable_fingerprint(&sha),
        None => "(not a SHA-256 thumbprint)".into(),
    }
}

/// A private key file: the fingerprint is its certificate's, `NAME.cer`
/// beside it (an encrypted key shows nothing without its passphrase, and
/// needs none for this).
fn key_file(path: &std::path::Path) -> CliResult {
    let cer = files::sibling_certificate(path);
    if !cer.is_file() {
        return Err(CliError::file(
            path,
            "is a private key file; its fingerprint is its certificate's, and there is none beside it",
        )
        .hint(format!("keep {} beside the key, as keyholder init writes them", cer.display())));
    }
    let cert = super::load_certificate(&cer)?;
    outln!("private key file; its certificate is {}", cer.display());
    print_fingerprint("certificate", &cert);
    outln!("(that the key and certificate belong together: `keyholder check` with the SD file)");
    Ok(())
}
