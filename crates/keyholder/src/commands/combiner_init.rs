//! `keyholder combiner-init`: the ephemeral keypair shares are sealed to.

use ceremony_cli::errln;

use ceremony_cli::outln;

use std::path::Path;

use sd_core::bundle::payloads::{Combiner, Timestamp};
use sd_core::bundle::{self, BundleKind, Signer};
use sd_core::{cert, private_key};

use super::{now_unix, print_fingerprint, rng};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::passphrase;

pub fn run(out: &Path, passphrase_file: Option<&Path>, no_passphrase: bool, force: bool) -> CliResult {
    if !out.is_dir() {
        return Err(CliError::file(out, "is not an existing folder"));
    }
    let key_path = out.join("combiner.key");
    let bundle_path = out.join("combiner.json");
    files::check_writable(&key_path, false)?;
    files::check_writable(&bundle_path, force)?;
    let pass = if no_passphrase {
        None
    } else {
        Some(passphrase::new_for(&key_path, passphrase_file)?)
    };
    errln!("generating the combiner's RSA-3072 key...");
    let key = private_key::generate(&mut rng(), 3072).map_err(CliError::general)?;
    let now = now_unix();
    // One recovery: a week is plenty.
    let certificate = cert::self_signed(&mut rng(), &key, "combiner", now.saturating_sub(3600), 7)
        .map_err(CliError::general)?;
    let key_pem = match &pass {
        Some(p) => private_key::to_encrypted_pem(&mut rng(), &key, p),
        None => private_key::to_plain_pem(&key),
    }
    .in_file(&key_path)?;
    let payload = Combiner {
        certificate: certificate.to_pem(),
        x5t_s256: certificate.x5t_s256(),
        created: Timestamp::from_unix(now),
    };
    let signed = bundle::sign(
        &mut rng(),
        BundleKind::Combiner,
        &payload,
        &[Signer {
            key: &key,
            cert: &certificate,
        }],
    )
    .in_file(&bundle_path)?;
    let mut outputs = OutputSet::default();
    outputs.write(&key_path, key_pem.as_bytes(), SECRET_MODE, false)?;
    outputs.write(&bundle_path, signed.as_bytes(), PUBLIC_MODE, force)?;
    outln!("wrote {}", key_path.display());
    outln!("wrote {}", bundle_path.display());
    print_fingerprint("combiner key (custodians confirm this aloud)", &certificate);
    Ok(())
}
