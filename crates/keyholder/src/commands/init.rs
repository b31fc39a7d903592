//! `keyholder init`: a custodian's keypair, certificate and enrollment.

use ceremony_cli::errln;

use ceremony_cli::outln;

use std::path::Path;

use sd_core::bundle::payloads::{Enrollment, Timestamp};
use sd_core::bundle::{self, BundleKind, Signer};
use sd_core::{cert, private_key};

use super::{now_unix, print_fingerprint, rng};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::passphrase;

pub fn run(
    name: &str,
    out: &Path,
    bits: usize,
    days: u32,
    passphrase_file: Option<&Path>,
    no_passphrase: bool,
    force: bool,
) -> CliResult {
    cert::validate_common_name(name).map_err(|e| CliError::general(format!("--name: {e}")))?;
    if !out.is_dir() {
        return Err(CliError::file(out, "is not an existing folder"));
    }
    let key_path = out.join(format!("{name}.key"));
    let cer_path = out.join(format!("{name}.cer"));
    let enrollment_path = out.join(format!("{name}.enrollment.json"));
    // Refuse before generating anything: a key file is never replaced.
    files::check_writable(&key_path, false)?;
    files::check_writable(&cer_path, force)?;
    files::check_writable(&enrollment_path, force)?;

    let pass = if no_passphrase {
        None
    } else {
        Some(passphrase::new_for(&key_path, passphrase_file)?)
    };

    errln!("generating an RSA-{bits} key...");
    let key = private_key::generate(&mut rng(), bits).map_err(CliError::general)?;
    let now = now_unix();
    // Back-date by an hour so a clock slightly behind on another machine still accepts it.
    let certificate = cert::self_signed(&mut rng(), &key, name, now.saturating_sub(3600), days)
        .map_err(CliError::general)?;
    let key_pem = match &pass {
        Some(p) => private_key::to_encrypted_pem(&mut rng(), &key, p),
        None => private_key::to_plain_pem(&key),
    }
    .in_file(&key_path)?;
    let enrollment = Enrollment {
        custodian: name.to_owned(),
        certificate: certificate.to_pem(),
        x5t_s256: certificate.x5t_s256(),
        created: Timestamp::from_unix(now),
    };
    let signed = bundle::sign(
        &mut rng(),
        BundleKind::Enrollment,
        &enrollment,
        &[Signer {
            key: &key,
            cert: &certificate,
        }],
    )
    .in_file(&enrollment_path)?;

    let mut outputs = OutputSet::default();
    outputs.write(&key_path, key_pem.as_bytes(), SECRET_MODE, false)?;
    outputs.write(&cer_path, certificate.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    outputs.write(&enrollment_path, signed.as_bytes(), PUBLIC_MODE, force)?;

    outln!(
        "wrote {}{}",
        key_path.display(),
        if pass.is_some() {
            " (encrypted)"
        } else {
            " (NOT encrypted)"
        }
    );
    outln!("wrote {}", cer_path.display());
    outln!("wrote {}", enrollment_path.display());
    print_fingerprint("custodian certificate", &certificate);
    Ok(())
}
