//! `keyholder passwd`: a key file's passphrase changed in place. The key,
//! its certificate and its fingerprint stay the same, so nothing else in the
//! ceremony changes; the file is replaced atomically (the old one or the new
//! one, never a mix), mode 0600.

use std::path::PathBuf;

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::files::{self, SECRET_MODE};
use ceremony_cli::identity::{self, Protection};
use ceremony_cli::outln;
use ceremony_cli::unlocked_key::unlock_key_file;

#[derive(clap::Args)]
pub struct Args {
    /// The key file (NAME.key); a hardware token's PIN is changed with the token's own tools.
    #[arg(value_name = "KEY")]
    key: PathBuf,
    /// Read the current passphrase from FILE instead of asking.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Read the new passphrase from FILE instead of asking twice.
    #[arg(long, value_name = "FILE", conflicts_with = "no_passphrase")]
    new_passphrase_file: Option<PathBuf>,
    /// Write the key unencrypted (for tests and rehearsals only).
    #[arg(long)]
    no_passphrase: bool,
}

pub fn run(args: Args) -> CliResult {
    let path = args.key.as_path();
    if path.to_string_lossy().starts_with("pkcs11:") {
        return Err(CliError::general("a token key has no passphrase of its own to change")
            .hint("change the token's PIN with its own tools (e.g. pkcs11-tool --change-pin)"));
    }
    // The current passphrase first: a wrong one costs nothing else.
    let key = unlock_key_file(path, args.passphrase_file.as_deref())?;
    let protection = match (&args.new_passphrase_file, args.no_passphrase) {
        (_, true) => Protection::None,
        (Some(f), false) => Protection::PassphraseFile(f),
        (None, false) => Protection::AskTwice,
    };
    let pass = identity::new_passphrase(protection, path)?;
    let pem = identity::key_file_pem(&key, pass.as_ref().map(|p| p.as_slice()), path)?;
    // Replacing the key file is what was asked for; the write is atomic.
    files::write_atomic(path, pem.as_bytes(), SECRET_MODE, true)?;
    let how = if pass.is_some() { "encrypted with the new passphrase" } else { "NOT encrypted" };
    outln!("wrote {} ({how}); the key, its certificate and its fingerprint are unchanged", path.display());
    Ok(())
}
