//! `keyholder rotate`: re-split the master key to a new set of custodians.

use ceremony_cli::outln;

use std::path::PathBuf;

use ceremony_cli::args::OutputArgs;

use sd_core::azure::sd_file::SecurityDomain;

use super::{load_certificate, print_fingerprint, rng};
use crate::cli::QuorumArgs;
use crate::security_domain;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    quorum: QuorumArgs,
    /// A new custodian's certificate; give 3 to 10.
    #[arg(long = "new-cert", value_name = "CERT.cer", required = true)]
    new_certs: Vec<PathBuf>,
    /// The new quorum (2 to 10, at most the number of new certificates).
    #[arg(long = "quorum", value_name = "QUORUM")]
    new_quorum: usize,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> CliResult {
    let Args { quorum: QuorumArgs { sd, keys }, new_certs, new_quorum: quorum, output } = &args;
    let (sd_path, quorum, out, force) = (sd.sd.as_path(), *quorum, output.out.as_path(), output.force);
    files::check_writable(out, force)?;
    let sd = security_domain::load(sd_path)?;
    let certs = new_certs.iter().map(|p| load_certificate(p)).collect::<CliResult<Vec<_>>>()?;
    for (p, c) in new_certs.iter().zip(&certs) {
        c.rsa_public_key().in_file(p)?;
    }
    // Check the limits before anyone types a passphrase.
    sd_core::azure::download_request::check_limits(&certs, quorum).map_err(|e| {
        CliError::general(format!("the new custodians (--new-cert, --quorum): {e}"))
            .hint("give 3 to 10 distinct --new-cert and a --quorum from 2 to their number")
    })?;
    let opened = security_domain::open_quorum(&sd, &keys.keys, &keys.passphrase_files)?;
    let rotated = sd.sd.resplit(&mut rng(), &opened.master, &certs, quorum).map_err(|e| {
        // no hint: the limits were checked above; a failure here is a bug to report.
        CliError::general(e)
    })?;
    drop(opened);
    let json = rotated.to_json().map_err(|e| {
        // no hint: serialising our own SD file failing is a bug to report.
        CliError::general(e)
    })?;
    // The new file must parse and carry exactly the old EncData.
    let check = SecurityDomain::parse(json.as_bytes()).in_file(out)?;
    if check.enc_data() != sd.sd.enc_data() {
        // no hint: a bug to report; the old SD file is untouched.
        return Err(CliError::file(out, "internal check failed: EncData changed; nothing written"));
    }
    files::write_atomic(out, json.as_bytes(), PUBLIC_MODE, force)?;
    outln!(
        "wrote {} (sha256 {}), quorum {quorum} of {}",
        out.display(),
        sd_core::primitives::hex::sha256_hex(json.as_bytes()),
        certs.len()
    );
    for (i, c) in certs.iter().enumerate() {
        print_fingerprint(&format!("share {}", i + 1), c);
    }
    // Azure's format has no re-keying: say plainly what rotation does not do.
    outln!("important: rotation keeps the master key. {} and a quorum of its old", sd_path.display());
    outln!("  custodian keys still recover this HSM's security domain. Destroy every copy of the");
    outln!("  old SD file (and retire the old keys), and record that in the ceremony record;");
    outln!("  see SECURITY.md, \"Rotation keeps the master key\".");
    Ok(())
}
