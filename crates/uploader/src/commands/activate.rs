//! `uploader activate`: the security-domain download that activates an HSM.

use std::path::{Path, PathBuf};

use ceremony_cli::args::OutputArgs;
use ceremony_cli::artifacts::{load_certificate, print_fingerprint};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::{errln, now_unix, outln};
use sd_core::azure::download_request::DownloadRequest;
use sd_core::bundle::Signer;
use sd_core::handoff::activation::ActivationRecord;
use sd_core::handoff::enrollment::Enrollment;
use sd_core::pki::cert::Certificate;

use crate::cli::{OperatorKeyArgs, Target};
use crate::poll;

/// The activation record's path: `SD.json.activation.json`.
pub fn record_path(out: &Path) -> PathBuf {
    let mut p = out.as_os_str().to_owned();
    p.push(".activation.json");
    PathBuf::from(p)
}

/// An enrollment's certificate, after checking its proof of possession (its
/// fingerprint is then read aloud and confirmed by its custodian).
fn enrolled_certificate(path: &Path) -> CliResult<Certificate> {
    Ok(Enrollment::verify(&files::read(path)?).in_file(path)?.certificate().clone())
}

#[derive(clap::Args)]
pub struct Args {
    /// The quorum (2 to 10, at most the number of custodians).
    #[arg(long)]
    quorum: usize,
    /// A custodian's enrollment bundle; repeat (3 to 10 custodians in all).
    #[arg(long = "enrollment", value_name = "ENROLLMENT.json")]
    enrollments: Vec<PathBuf>,
    /// A custodian certificate without an enrollment (e.g. made by az); after the enrollments.
    #[arg(long = "cert", value_name = "CERT.cer")]
    certs: Vec<PathBuf>,
    #[command(flatten)]
    operator: OperatorKeyArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Do not wait for the HSM to report Success.
    #[arg(long)]
    no_wait: bool,
}

pub fn run(target: &Target, args: Args) -> CliResult {
    let Args { quorum, enrollments, certs: extra_certs, operator, output, no_wait } = &args;
    let (quorum, out, force, no_wait) = (*quorum, output.out.as_path(), output.force, *no_wait);
    let record = record_path(out);
    files::check_writable(out, force)?;
    files::check_writable(&record, force)?;
    let mut certs = Vec::new();
    for p in enrollments {
        certs.push(enrolled_certificate(p)?);
    }
    for p in extra_certs {
        let c = load_certificate(p)?;
        c.rsa_public_key().in_file(p)?;
        certs.push(c);
    }
    let request = DownloadRequest::new(&certs, quorum).map_err(|e| {
        CliError::general(format!("the custodians (--enrollment, --cert, --quorum): {e}"))
            .hint("give 3 to 10 distinct custodians and a --quorum from 2 to their number")
    })?;
    // Only now the operator's key (its passphrase may be asked for), and the HSM.
    let operator = super::load_operator(operator)?;
    let client = super::connect(target)?;
    outln!("custodians, in share order (confirm each fingerprint aloud):");
    for (i, c) in certs.iter().enumerate() {
        print_fingerprint(&format!("share {}", i + 1), c);
    }

    errln!("activating {} with quorum {quorum} of {}...", client.base(), certs.len());
    let resp = client.post(
        "/securitydomain/download",
        request
            .to_json()
            .map_err(|e| {
                // no hint: serialising our own request failing is a bug to report.
                CliError::general(e)
            })?
            .as_bytes(),
    )?;
    if resp.status != 202 && resp.status != 200 {
        return Err(resp.error("security-domain download"));
    }
    let value =
        resp.json("download")?.get("value").and_then(|v| v.as_str()).map(str::to_owned).ok_or_else(|| {
            CliError::general("the HSM's download response has no `value`")
                .hint("`uploader status --download` shows what the HSM says; nothing was written")
        })?;
    // The only copy of the SD: save it verbatim first, whatever else happens.
    files::write_atomic(out, value.as_bytes(), PUBLIC_MODE, force)?;
    outln!(
        "wrote {} ({} bytes, sha256 {})",
        out.display(),
        value.len(),
        sd_core::primitives::hex::sha256_hex(value.as_bytes())
    );
    let activated = request.accept(value.as_bytes()).map_err(|e| {
        let not_sent = e == sd_core::Error::NotWhatWasSent;
        let err = CliError::file(out, e);
        if not_sent {
            err.hint("keep this file; do not rely on this activation until it is understood")
        } else {
            err
        }
    })?;
    let cert = operator.require_cert()?;
    let signer = Signer { key: &operator.key, cert };
    let signed = ActivationRecord::sign(client.base(), &activated, &signer, now_unix()).in_file(&record)?;
    files::write_atomic(&record, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote {}", record.display());
    if no_wait {
        outln!("not waiting; check with `uploader status --download`");
        return Ok(());
    }
    let s = poll::wait(&client, "/securitydomain/download/pending", "activation")?;
    outln!("{}: {}", s.status, s.details);
    Ok(())
}
