//! Argument groups that several commands flatten into their own `Args`, so
//! each flag is declared (and documented) once.

use std::path::PathBuf;

use crate::unlocked_key::KeySource;

/// `--sd`: the security-domain file a command works on.
#[derive(clap::Args, Clone, Debug)]
pub struct SdFileArg {
    /// The security-domain file (SD.json, as the HSM's activation produced it).
    #[arg(long, value_name = "SD.json")]
    pub sd: PathBuf,
}

/// `--key` with its `--passphrase-file`: one private key.
#[derive(clap::Args, Clone, Debug)]
pub struct KeyArg {
    /// Your private key: a PKCS#8 PEM file (its NAME.cer beside it) or a
    /// key on a hardware token as a pkcs11: URI.
    #[arg(long, value_name = "KEY")]
    pub key: KeySource,
    /// Read the key's passphrase from FILE instead of the terminal.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// `--out FILE` and `--force`: one output file.
#[derive(clap::Args, Clone, Debug)]
pub struct OutputArgs {
    /// Where to write the output (written atomically; an existing file is
    /// kept unless --force).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// `--out DIR`, `--public-out DIR` and `--force`: the two folders new key
/// material goes into. Key files never travel, so the private key (with its
/// own copy of its certificate) and the public files live apart, and only the
/// public folder is ever carried to the online machine.
#[derive(clap::Args, Clone, Debug)]
pub struct OutDirArgs {
    /// Folder for the new private key and its certificate; created (mode
    /// 0700) if missing. It never goes to the online machine.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Folder for the public files (certificate, signed bundle): the only
    /// folder that goes to the online machine [default: DIR/public].
    #[arg(long, value_name = "DIR")]
    pub public_out: Option<PathBuf>,
    /// Replace existing public files (certificate, bundle); a key file is never replaced.
    #[arg(long)]
    pub force: bool,
}

impl OutDirArgs {
    /// The public folder: `--public-out`, or `public` inside `--out`.
    pub fn public_dir(&self) -> PathBuf {
        self.public_out.clone().unwrap_or_else(|| self.out.join("public"))
    }
}
