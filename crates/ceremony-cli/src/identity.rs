//! A new signing identity: an RSA key, its self-signed certificate and its
//! key file (encrypted unless the user chose otherwise). Custodians, the
//! combiner and the operator are all made this way.

use std::path::Path;

use sd_core::pki::cert::{self, Certificate};
use sd_core::{RsaPrivateKey, pki::private_key};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult, InFile};
use crate::{errln, now_unix, passphrase, rng};

/// A freshly generated identity, not yet written.
pub struct NewIdentity {
    /// The private key.
    pub key: RsaPrivateKey,
    /// Its self-signed certificate (CN = the name).
    pub cert: Certificate,
    /// The PKCS#8 PEM to write to the key file.
    pub key_pem: Zeroizing<String>,
    /// True when `key_pem` is encrypted.
    pub encrypted: bool,
}

/// How the new key file is protected.
#[derive(Clone, Copy)]
pub enum Protection<'a> {
    /// Ask twice on the terminal.
    AskTwice,
    /// Read the passphrase from this file.
    PassphraseFile(&'a Path),
    /// No passphrase (tests and rehearsals only).
    None,
}

/// Generates the key (asking for the passphrase first, so a typo costs no
/// key generation), the certificate valid from an hour ago for `days`, and
/// the key file's PEM. `key_path` only names the file in prompts and errors.
pub fn generate(
    name: &str,
    bits: usize,
    days: u32,
    protection: Protection<'_>,
    key_path: &Path,
) -> CliResult<NewIdentity> {
    let pass = new_passphrase(protection, key_path)?;
    errln!("generating an RSA-{bits} key for {name}...");
    let key = private_key::generate(&mut rng(), bits).map_err(CliError::general)?;
    // Back-dated by an hour so a clock slightly behind elsewhere still accepts it.
    let cert = cert::self_signed(&mut rng(), &key, name, cert::backdated(now_unix()), days)
        .map_err(CliError::general)?;
    let key_pem = key_file_pem(&key, pass.as_ref().map(|p| p.as_slice()), key_path)?;
    Ok(NewIdentity { key, cert, key_pem, encrypted: pass.is_some() })
}

/// The passphrase a key file is to be protected with, as `protection` asks
/// (none for an unencrypted file).
pub fn new_passphrase(protection: Protection<'_>, key_path: &Path) -> CliResult<Option<Zeroizing<Vec<u8>>>> {
    Ok(match protection {
        Protection::AskTwice => Some(passphrase::new_for(key_path, None)?),
        Protection::PassphraseFile(f) => Some(passphrase::new_for(key_path, Some(f))?),
        Protection::None => None,
    })
}

/// The PKCS#8 PEM of a key file for `key`: encrypted with `passphrase`, or plain without one.
pub fn key_file_pem(
    key: &RsaPrivateKey,
    passphrase: Option<&[u8]>,
    key_path: &Path,
) -> CliResult<Zeroizing<String>> {
    match passphrase {
        Some(p) => private_key::to_encrypted_pem(&mut rng(), key, p),
        None => private_key::to_plain_pem(key),
    }
    .in_file(key_path)
}

/// How a new key file is protected, as every `…-init` command asks it.
#[derive(clap::Args, Clone, Debug)]
pub struct NewKeyArgs {
    /// Read the new key's passphrase from FILE instead of asking twice.
    #[arg(long, value_name = "FILE", conflicts_with = "no_passphrase")]
    pub passphrase_file: Option<std::path::PathBuf>,
    /// Write the private key unencrypted (for tests and rehearsals only).
    #[arg(long)]
    pub no_passphrase: bool,
}

impl NewKeyArgs {
    /// The protection these flags ask for.
    pub fn protection(&self) -> Protection<'_> {
        match (&self.passphrase_file, self.no_passphrase) {
            (_, true) => Protection::None,
            (Some(f), false) => Protection::PassphraseFile(f),
            (None, false) => Protection::AskTwice,
        }
    }
}

/// Generates the identity on a hardware token instead: the key pair on the
/// token (never extractable), the self-signed certificate signed there and
/// stored next to the key. Returns the token key and its certificate.
pub fn generate_on_token(
    name: &str,
    bits: usize,
    days: u32,
    uri: &str,
) -> CliResult<(crate::pkcs11::Pkcs11Key, Certificate)> {
    use crate::pkcs11::{Pkcs11Key, Pkcs11Uri};
    let parsed = Pkcs11Uri::parse(uri).map_err(|e| {
        CliError::general(format!("--pkcs11 {uri}: {e}")).hint(
            "write it as pkcs11:token=LABEL;object=NAME (`pkcs11-tool --list-token-slots` shows the labels)",
        )
    })?;
    errln!("generating an RSA-{bits} key for {name} on token {:?}...", parsed.token);
    let token = Pkcs11Key::generate(&parsed, bits)?;
    let cert =
        cert::self_signed(&mut rng(), &token, name, cert::backdated(now_unix()), days).map_err(|e| {
            CliError::general(format!("{uri}: signing the certificate on the token: {e}"))
                .hint("check the token is still inserted and unlocked, then run init again")
        })?;
    token.store_certificate(&cert)?;
    Ok((token, cert))
}
