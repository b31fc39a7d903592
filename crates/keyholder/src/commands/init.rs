//! `keyholder init`: a custodian's keypair, certificate and enrollment.

use std::path::Path;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity;
use ceremony_cli::outln;
use sd_core::bundle::payloads::{Enrollment, Timestamp};
use sd_core::bundle::{self, BundleKind, Signer};
use sd_core::cert;

use super::{now_unix, print_fingerprint};

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

    let id = identity::generate(
        name,
        bits,
        days,
        identity::protection(passphrase_file, no_passphrase),
        &key_path,
    )?;
    let enrollment = Enrollment {
        custodian: name.to_owned(),
        certificate: id.cert.to_pem(),
        x5t_s256: id.cert.x5t_s256(),
        created: Timestamp::from_unix(now_unix()),
    };
    let signed = bundle::sign(
        BundleKind::Enrollment,
        &enrollment,
        &[Signer {
            key: &id.key,
            cert: &id.cert,
        }],
    )
    .in_file(&enrollment_path)?;

    let mut outputs = OutputSet::default();
    outputs.write(&cer_path, id.cert.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    outputs.write(&enrollment_path, signed.as_bytes(), PUBLIC_MODE, force)?;
    // The key last: a crash before it leaves only public files, which --force replaces.
    outputs.write(&key_path, id.key_pem.as_bytes(), SECRET_MODE, false)?;

    outln!(
        "wrote {}{}",
        key_path.display(),
        if id.encrypted {
            " (encrypted)"
        } else {
            " (NOT encrypted)"
        }
    );
    outln!("wrote {}", cer_path.display());
    outln!("wrote {}", enrollment_path.display());
    print_fingerprint("custodian certificate", &id.cert);
    Ok(())
}

/// `keyholder init --pkcs11 URI`: the key pair is generated on the token,
/// the certificate and the enrollment are signed there, and the certificate
/// is stored next to the key. Only NAME.cer and NAME.enrollment.json are written.
pub fn run_on_token(name: &str, out: &Path, bits: usize, days: u32, uri: &str, force: bool) -> CliResult {
    cert::validate_common_name(name).map_err(|e| CliError::general(format!("--name: {e}")))?;
    if !out.is_dir() {
        return Err(CliError::file(out, "is not an existing folder"));
    }
    let cer_path = out.join(format!("{name}.cer"));
    let enrollment_path = out.join(format!("{name}.enrollment.json"));
    files::check_writable(&cer_path, force)?;
    files::check_writable(&enrollment_path, force)?;
    let (token, certificate) = identity::generate_on_token(name, bits, days, uri)?;
    let now = now_unix();
    let enrollment = Enrollment {
        custodian: name.to_owned(),
        certificate: certificate.to_pem(),
        x5t_s256: certificate.x5t_s256(),
        created: Timestamp::from_unix(now),
    };
    let signed = bundle::sign(
        BundleKind::Enrollment,
        &enrollment,
        &[Signer {
            key: &token,
            cert: &certificate,
        }],
    )
    .in_file(&enrollment_path)?;
    let mut outputs = OutputSet::default();
    outputs.write(&cer_path, certificate.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    outputs.write(&enrollment_path, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!("generated the key on the token: {uri}");
    outln!("wrote {}", cer_path.display());
    outln!("wrote {}", enrollment_path.display());
    print_fingerprint("custodian certificate", &certificate);
    Ok(())
}
