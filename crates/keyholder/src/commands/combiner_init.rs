//! `keyholder combiner-init`: the ephemeral keypair shares are sealed to.

use std::path::Path;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity;
use ceremony_cli::outln;
use sd_core::bundle::payloads::{Combiner, Timestamp};
use sd_core::bundle::{self, BundleKind, Signer};

use super::{now_unix, print_fingerprint};

pub fn run(out: &Path, passphrase_file: Option<&Path>, no_passphrase: bool, force: bool) -> CliResult {
    if !out.is_dir() {
        return Err(CliError::file(out, "is not an existing folder"));
    }
    let key_path = out.join("combiner.key");
    let bundle_path = out.join("combiner.json");
    files::check_writable(&key_path, false)?;
    files::check_writable(&bundle_path, force)?;
    // One recovery: a week is plenty.
    let id = identity::generate(
        "combiner",
        3072,
        7,
        identity::protection(passphrase_file, no_passphrase),
        &key_path,
    )?;
    let payload = Combiner {
        certificate: id.cert.to_pem(),
        x5t_s256: id.cert.x5t_s256(),
        created: Timestamp::from_unix(now_unix()),
    };
    let signed = bundle::sign(
        BundleKind::Combiner,
        &payload,
        &[Signer {
            key: &id.key,
            cert: &id.cert,
        }],
    )
    .in_file(&bundle_path)?;
    let mut outputs = OutputSet::default();
    outputs.write(&bundle_path, signed.as_bytes(), PUBLIC_MODE, force)?;
    // The key last: a crash before it leaves only public files, which --force replaces.
    outputs.write(&key_path, id.key_pem.as_bytes(), SECRET_MODE, false)?;
    outln!("wrote {}", key_path.display());
    outln!("wrote {}", bundle_path.display());
    print_fingerprint("combiner key (custodians confirm this aloud)", &id.cert);
    Ok(())
}
