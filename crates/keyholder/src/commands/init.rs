//! `keyholder init`: a custodian's keypair, certificate and enrollment — the
//! key in an encrypted key file, or generated on a hardware token.

use std::path::Path;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity::{self, Protection};
use ceremony_cli::outln;
use sd_core::RsaKey;
use sd_core::bundle::Signer;
use sd_core::cert;
use sd_core::handoff::enrollment::Enrollment;

use super::{now_unix, print_fingerprint};

/// Where the new key goes.
pub enum KeyHome<'a> {
    /// `DIR/NAME.key`, protected as chosen.
    File(Protection<'a>),
    /// A hardware token (pkcs11: URI); no key file is written.
    Token(&'a str),
}

pub fn run(name: &str, out: &Path, bits: usize, days: u32, home: KeyHome<'_>, force: bool) -> CliResult {
    cert::validate_common_name(name).map_err(|e| CliError::general(format!("--name: {e}")))?;
    if !out.is_dir() {
        return Err(CliError::file(out, "is not an existing folder"));
    }
    let key_path = out.join(format!("{name}.key"));
    let cer_path = out.join(format!("{name}.cer"));
    let enrollment_path = out.join(format!("{name}.enrollment.json"));
    // Refuse before generating anything: a key file is never replaced.
    files::check_writable(&cer_path, force)?;
    files::check_writable(&enrollment_path, force)?;
    let (key, certificate, key_file): (Box<dyn RsaKey>, _, _) = match home {
        KeyHome::File(protection) => {
            files::check_writable(&key_path, false)?;
            let id = identity::generate(name, bits, days, protection, &key_path)?;
            let encrypted = id.encrypted;
            (Box::new(id.key), id.cert, Some((id.key_pem, encrypted)))
        }
        KeyHome::Token(uri) => {
            let (token, cert) = identity::generate_on_token(name, bits, days, uri)?;
            (Box::new(token), cert, None)
        }
    };
    let signed = Enrollment::sign(name, &Signer { key: &key, cert: &certificate }, now_unix())
        .in_file(&enrollment_path)?;

    let mut outputs = OutputSet::default();
    outputs.write(&cer_path, certificate.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    outputs.write(&enrollment_path, signed.as_bytes(), PUBLIC_MODE, force)?;
    match (&key_file, home) {
        (Some((pem, encrypted)), _) => {
            // The key last: a crash before it leaves only public files, which --force replaces.
            outputs.write(&key_path, pem.as_bytes(), SECRET_MODE, false)?;
            outln!(
                "wrote {}{}",
                key_path.display(),
                if *encrypted { " (encrypted)" } else { " (NOT encrypted)" }
            );
        }
        (None, KeyHome::Token(uri)) => outln!("generated the key on the token: {uri}"),
        (None, KeyHome::File(_)) => {}
    }
    outln!("wrote {}", cer_path.display());
    outln!("wrote {}", enrollment_path.display());
    print_fingerprint("custodian certificate", &certificate);
    Ok(())
}
