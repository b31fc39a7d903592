//! A custodian key as the commands use it: the private key from its PEM file,
//! unlocked with its passphrase, and its certificate when it sits beside it.

use std::path::{Path, PathBuf};

use sd_core::cert::{self, Certificate};
use sd_core::private_key::{self, KeyEncoding};

use crate::error::{CliError, CliResult, InFile};
use crate::{files, passphrase};

/// An unlocked key and where it came from.
pub struct CustodianKey {
    /// The key file.
    pub path: PathBuf,
    /// The private key (zeroized on drop by the `rsa` crate).
    pub key: sd_core::RsaPrivateKey,
    /// `NAME.cer` beside `NAME.key`, if present (checked to match the key).
    pub cert: Option<Certificate>,
}

impl CustodianKey {
    /// Loads `path`, asking for or reading its passphrase if it is encrypted.
    pub fn load(path: &Path, passphrase_file: Option<&Path>) -> CliResult<Self> {
        let pem = zeroize::Zeroizing::new(files::read_text(path)?);
        let encoding = private_key::encoding_of(&pem).in_file(path)?;
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
                return Err(
                    CliError::file(&cer, format!("does not belong to the key {}", path.display()))
                        .hint("a key file and its .cer must be made together (keyholder init)"),
                );
            }
            Some(cert)
        } else {
            None
        };
        Ok(CustodianKey {
            path: path.to_path_buf(),
            key,
            cert,
        })
    }

    /// The certificate, which signing commands need.
    pub fn require_cert(&self) -> CliResult<&Certificate> {
        self.cert.as_ref().ok_or_else(|| {
            let cer = files::sibling_certificate(&self.path);
            CliError::file(
                &self.path,
                format!("this command needs the key's certificate at {}", cer.display()),
            )
            .hint("keep NAME.cer beside NAME.key, as keyholder init writes them")
        })
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
    Ok(keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_path(), files.get(i).map(PathBuf::as_path)))
        .collect())
}
