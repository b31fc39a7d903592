//! A custodian key as the commands use it: a key file (PEM, unlocked with its
//! passphrase, with its certificate when it sits beside it) or a key on a
//! hardware token (a `pkcs11:` URI, unlocked with its PIN, with the
//! certificate stored next to it on the token). Every command that takes
//! `--key` takes either, and a mix of both.

use std::path::{Path, PathBuf};

use sd_core::cert::{self, Certificate};
use sd_core::private_key::{self, KeyEncoding};

use crate::error::{CliError, CliResult, InFile};
use crate::{files, passphrase};

/// An unlocked key and where it came from.
pub struct CustodianKey {
    /// The key file, or the `pkcs11:` URI.
    pub path: PathBuf,
    /// The private key: in memory for a key file (zeroized on drop by the
    /// `rsa` crate), or a handle to a key that stays on its token.
    pub key: Box<dyn sd_core::RsaKey>,
    /// The certificate: `NAME.cer` beside `NAME.key`, or the one stored with
    /// the token key (checked to match the key).
    pub cert: Option<Certificate>,
}

impl CustodianKey {
    /// Loads `path`, asking for or reading its passphrase if it is encrypted.
    /// A `pkcs11:` URI opens the token key instead (its PIN comes from the
    /// terminal or the URI's pin-source; `passphrase_file` is not used).
    pub fn load(path: &Path, passphrase_file: Option<&Path>) -> CliResult<Self> {
        if let Some(uri) = path.to_str().filter(|s| crate::token::TokenUri::is_uri(s)) {
            return Self::load_token(uri);
        }
        let pem = zeroize::Zeroizing::new(files::read_text(path)?);
        let encoding = private_key::encoding_of(&pem).in_file(path)?;
        warn_if_exposed(path, encoding);
        let key = if encoding == KeyEncoding::EncryptedPkcs8 {
            let pass = passphrase::for_key(path, passphrase_file)?;
            private_key::from_pem(&pem, Some(&pass)).map_err(|e| match e {
                sd_core::Error::WrongPassphrase => CliError::file(path, "wrong passphrase for this key file")
                    .hint("check the passphrase (or passphrase file) paired with this --key"),
                other => CliError::file(path, other),
            })?
        } else {
            private_key::from_pem(&pem, None).in_file(path)?
        };
        let cer = files::sibling_certificate(path);
        let cert = if cer.is_file() {
            let cert = crate::artifacts::load_certificate(&cer)?;
            if !cert::key_matches(&cert, &key) {
                return Err(CliError::file(&cer, format!("does not belong to the key {}", path.display()))
                    .hint("a key file and its .cer must be made together (keyholder init)"));
            }
            Some(cert)
        } else {
            None
        };
        Ok(CustodianKey { path: path.to_path_buf(), key: Box::new(key), cert })
    }

    fn load_token(uri: &str) -> CliResult<Self> {
        let parsed =
            crate::token::TokenUri::parse(uri).map_err(|e| CliError::general(format!("{uri}: {e}")))?;
        let token = crate::token::TokenKey::open(&parsed)?;
        let cert = token.certificate()?;
        if let Some(c) = &cert {
            c.require_self_signed()
                .map_err(|e| CliError::general(format!("{uri}: certificate on the token: {e}")))?;
            if !cert::key_matches(c, &token) {
                return Err(CliError::general(format!(
                    "{uri}: the certificate on the token does not belong to the key"
                )));
            }
        }
        Ok(CustodianKey { path: PathBuf::from(uri), key: Box::new(token), cert })
    }

    /// The certificate, which signing commands need.
    pub fn require_cert(&self) -> CliResult<&Certificate> {
        self.cert.as_ref().ok_or_else(|| {
            if self.path.to_str().is_some_and(crate::token::TokenUri::is_uri) {
                return CliError::general(format!(
                    "{}: no certificate is stored next to this key on the token",
                    self.path.display()
                ))
                .hint("keyholder init --pkcs11 stores it there");
            }
            let cer = files::sibling_certificate(&self.path);
            CliError::file(
                &self.path,
                format!("this command needs the key's certificate at {}", cer.display()),
            )
            .hint("keep NAME.cer beside NAME.key, as keyholder init writes them")
        })
    }
}

/// Tells the custodian (it is their decision) when a key file is not
/// encrypted, or can be read by anyone but its owner.
fn warn_if_exposed(path: &Path, encoding: KeyEncoding) {
    use std::os::unix::fs::PermissionsExt;
    if encoding != KeyEncoding::EncryptedPkcs8 {
        crate::errln!(
            "warning: {}: the private key is NOT encrypted; whoever copies the file has the key",
            path.display()
        );
    }
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            crate::errln!(
                "warning: {}: readable by others than its owner (mode {mode:04o}); `chmod 600 {}` if that is not meant",
                path.display(),
                path.display()
            );
        }
    }
}

/// Pairs each `--key` with the `--passphrase-file` at the same position.
pub fn pair_passphrases<'a>(
    keys: &'a [PathBuf],
    files: &'a [PathBuf],
) -> CliResult<Vec<(&'a Path, Option<&'a Path>)>> {
    if files.len() > keys.len() {
        return Err(CliError::general(format!(
            "{} --passphrase-file given for {} --key; they pair in order",
            files.len(),
            keys.len()
        )));
    }
    Ok(keys.iter().enumerate().map(|(i, k)| (k.as_path(), files.get(i).map(PathBuf::as_path))).collect())
}
