//! A private key as the commands use it (a custodian's, the operator's or the
//! combiner's), with an explicit source: a key file (PEM, unlocked with its
//! passphrase, with its certificate when it sits beside it) or a key on a
//! hardware token (a `pkcs11:` URI, unlocked with its PIN, with the
//! certificate stored next to it on the token). Every command that takes a
//! key takes either, and a mix of both.

use std::path::{Path, PathBuf};

use sd_core::RsaPrivateKey;
use sd_core::pki::cert::{self, Certificate};
use sd_core::pki::private_key::{self, KeyEncoding};

use crate::error::{CliError, CliResult, InFile};
use crate::pkcs11::{Pkcs11Key, Pkcs11Uri};
use crate::{files, passphrase};

/// Where a `--key` lives: a key file, or a key on a hardware token. Parsed
/// from the argument, so a malformed `pkcs11:` URI is refused before anything
/// is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A PKCS#8 PEM key file (its certificate may sit beside it as NAME.cer).
    File(PathBuf),
    /// A key on a PKCS#11 token (its certificate is stored next to it there).
    Pkcs11(Pkcs11Uri),
}

impl KeySource {
    /// Parses a `--key` argument: a `pkcs11:` URI or a file path.
    pub fn parse(arg: &std::ffi::OsStr) -> Result<Self, String> {
        match arg.to_str().filter(|s| Pkcs11Uri::is_uri(s)) {
            Some(uri) => Pkcs11Uri::parse(uri).map(KeySource::Pkcs11),
            None if arg.is_empty() => Err("an empty key path".into()),
            None => Ok(KeySource::File(PathBuf::from(arg))),
        }
    }

    /// How errors name it: the file, or the URI (which holds no secret).
    pub fn name(&self) -> &Path {
        match self {
            KeySource::File(path) => path,
            KeySource::Pkcs11(uri) => Path::new(&uri.text),
        }
    }
}

/// Lets clap parse `--key` straight into a [`KeySource`].
#[derive(Clone)]
pub struct KeySourceParser;

impl clap::builder::TypedValueParser for KeySourceParser {
    type Value = KeySource;
    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<KeySource, clap::Error> {
        KeySource::parse(value).map_err(|why| {
            let name = arg.map_or_else(|| "--key".to_owned(), ToString::to_string);
            // The URI is not repeated: a refused one may carry a pin-value.
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid pkcs11: URI for '{name}': {why}\n"),
            )
            .with_cmd(cmd)
        })
    }
}

impl clap::builder::ValueParserFactory for KeySource {
    type Parser = KeySourceParser;
    fn value_parser() -> Self::Parser {
        KeySourceParser
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name().display())
    }
}

/// An unlocked key (custodian, operator or combiner) and where it came from.
pub struct UnlockedKey {
    /// Where it was loaded from.
    pub source: KeySource,
    /// The private key: in memory for a key file (zeroized on drop by the
    /// `rsa` crate), or a handle to a key that stays on its token.
    pub key: Box<dyn sd_core::RsaKey>,
    /// The certificate: `NAME.cer` beside `NAME.key`, or the one stored with
    /// the token key (checked to match the key).
    pub cert: Option<Certificate>,
}

impl UnlockedKey {
    /// Loads a key file, asking for or reading its passphrase if it is
    /// encrypted; or opens a token key (its PIN comes from the terminal or the
    /// URI's pin-source; `passphrase_file` is not used).
    pub fn load(source: &KeySource, passphrase_file: Option<&Path>) -> CliResult<Self> {
        match source {
            KeySource::File(path) => Self::load_file(path, passphrase_file),
            KeySource::Pkcs11(uri) => Self::load_token(uri),
        }
    }

    fn load_file(path: &Path, passphrase_file: Option<&Path>) -> CliResult<Self> {
        let key = unlock_key_file(path, passphrase_file)?;
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
        Ok(UnlockedKey { source: KeySource::File(path.to_path_buf()), key: Box::new(key), cert })
    }

    fn load_token(uri: &Pkcs11Uri) -> CliResult<Self> {
        let name = Path::new(&uri.text);
        let token = Pkcs11Key::open(uri)?;
        let cert = token.certificate()?;
        if let Some(c) = &cert {
            c.require_self_signed()
                .map_err(|e| {
                    CliError::file(name, format!("certificate on the token: {e}"))
                        .hint("the token's certificate is damaged or not the one keyholder init stored; do not use this key")
                })?;
            if !cert::key_matches(c, &token) {
                return Err(CliError::file(name, "the certificate on the token does not belong to the key")
                    .hint("the token holds another key's certificate under this label; do not use it, and tell the ceremony administrator"));
            }
        }
        Ok(UnlockedKey { source: KeySource::Pkcs11(uri.clone()), key: Box::new(token), cert })
    }

    /// Where the key came from, as errors name it.
    pub fn name(&self) -> &Path {
        self.source.name()
    }

    /// The certificate, which signing commands need.
    pub fn require_cert(&self) -> CliResult<&Certificate> {
        self.cert.as_ref().ok_or_else(|| match &self.source {
            KeySource::Pkcs11(_) => {
                CliError::file(self.name(), "no certificate is stored next to this key on the token")
                    .hint("keyholder init --pkcs11 stores it there")
            }
            KeySource::File(path) => {
                let cer = files::sibling_certificate(path);
                CliError::file(path, format!("this command needs the key's certificate at {}", cer.display()))
                    .hint("keep NAME.cer beside NAME.key, as keyholder init writes them")
            }
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
    keys: &'a [KeySource],
    files: &'a [PathBuf],
) -> CliResult<Vec<(&'a KeySource, Option<&'a Path>)>> {
    if files.len() > keys.len() {
        return Err(CliError::general(format!(
            "{} --passphrase-file given for {} --key; they pair in order",
            files.len(),
            keys.len()
        ))
        .hint("give one --passphrase-file after each --key that needs one, in the same order"));
    }
    Ok(keys.iter().enumerate().map(|(i, k)| (k, files.get(i).map(PathBuf::as_path))).collect())
}

/// The private key of the key file `path`: its passphrase from
/// `passphrase_file`, or asked on the terminal (three tries there; a file
/// gets one), when it is encrypted.
pub fn unlock_key_file(path: &Path, passphrase_file: Option<&Path>) -> CliResult<RsaPrivateKey> {
    let pem = zeroize::Zeroizing::new(files::read_text(path)?);
    let encoding = private_key::encoding_of(&pem).in_file(path)?;
    warn_if_exposed(path, encoding);
    let key = if encoding == KeyEncoding::EncryptedPkcs8 {
        // Typed on a terminal, a passphrase gets three tries; a file gets one.
        let tries = if passphrase_file.is_some() { 1 } else { passphrase::TRIES };
        let mut attempt = 1;
        loop {
            let pass = passphrase::for_key(path, passphrase_file)?;
            match private_key::from_pem(&pem, Some(&pass)) {
                Ok(key) => break key,
                Err(sd_core::Error::WrongPassphrase) if attempt < tries => {
                    crate::errln!(
                        "{}: wrong passphrase; {} more {} left",
                        path.display(),
                        tries - attempt,
                        if tries - attempt == 1 { "try" } else { "tries" }
                    );
                    attempt += 1;
                }
                Err(sd_core::Error::WrongPassphrase) => {
                    return Err(CliError::file(path, "wrong passphrase for this key file").hint(
                        "check the passphrase (or the --passphrase-file given for this key); the key file itself is unchanged",
                    ));
                }
                Err(other) => {
                    return Err(CliError::file(path, other)
                        .hint("check that this is a key file keyholder init wrote (NAME.key)"));
                }
            }
        }
    } else {
        private_key::from_pem(&pem, None).in_file(path)?
    };
    Ok(key)
}
