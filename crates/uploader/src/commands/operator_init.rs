//! `uploader operator-init`: the operator's signing identity.

use std::path::Path;

use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity::{self, Protection};
use ceremony_cli::outln;

pub fn run(out: &Path, protection: Protection<'_>, force: bool) -> CliResult {
    if !out.is_dir() {
        return Err(CliError::file(out, "is not an existing folder"));
    }
    let key_path = out.join("operator.key");
    let cer_path = out.join("operator.cer");
    files::check_writable(&key_path, false)?;
    files::check_writable(&cer_path, force)?;
    let id = identity::generate("operator", 3072, 730, protection, &key_path)?;
    let mut outputs = OutputSet::default();
    outputs.write(&cer_path, id.cert.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    // The key last: a crash before it leaves only public files, which --force replaces.
    outputs.write(&key_path, id.key_pem.as_bytes(), SECRET_MODE, false)?;
    outln!("wrote {}", key_path.display());
    outln!("wrote {}", cer_path.display());
    print_fingerprint("operator certificate (custodians confirm this aloud)", &id.cert);
    Ok(())
}
