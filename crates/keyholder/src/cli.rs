//! The command line.

use std::path::PathBuf;

use ceremony_cli::exchange_key::AttestationArgs;
use ceremony_cli::identity::NewKeyArgs;
use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit status:
  0  success (for `check`: the share opens)
  1  the command failed: bad or missing input, wrong passphrase, a key that
     opens no share, a bundle that does not verify... (the message names the file)
  2  the command line itself is wrong

Passphrases (and token PINs) are read from the terminal (no echo) or from
--passphrase-file (a token URI's pin-source=file:…), never from an argument or
the environment. Every --key (and --combiner-key) also takes a pkcs11: URI. Outputs are written atomically and
never replace an existing file unless --force is given (key files never).
keyholder has no networking code, and disables core dumps at start (RLIMIT_CORE
0 and not dumpable), so no key, share or master key can reach a core file.";

/// Offline custodian tool for Azure Managed HSM security-domain ceremonies.
#[derive(Parser)]
#[command(name = "keyholder", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// One `--key` with its passphrase files.
#[derive(Args, Clone)]
pub struct KeysArgs {
    /// Custodian private key: a PKCS#8 PEM file (encrypted or not) or a
    /// token key as a pkcs11: URI; repeat for each custodian.
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<PathBuf>,
    /// Passphrase file for the --key at the same position (unencrypted keys ignore theirs).
    #[arg(long = "passphrase-file", value_name = "FILE")]
    pub passphrase_files: Vec<PathBuf>,
}

/// Who the operator is, as pinned at the activation ceremony.
#[derive(Args, Clone)]
pub struct OperatorArgs {
    /// The operator's certificate: the copy kept from the activation ceremony.
    #[arg(long, value_name = "OPERATOR.cer", conflicts_with = "operator_fingerprint")]
    pub operator_cert: Option<PathBuf>,
    /// The operator certificate's SHA-256 fingerprint as read aloud at the
    /// activation ceremony (64 hex digits; spaces allowed). Without this or
    /// --operator-cert, the signer's fingerprint is shown on the terminal to
    /// be confirmed by typing "yes"; with no terminal the request is refused.
    #[arg(long, value_name = "HEX")]
    pub operator_fingerprint: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Generate a custodian keypair, self-signed certificate and signed enrollment.
    Init {
        /// Custodian name: the certificate CN and the base name of the files.
        #[arg(long)]
        name: String,
        /// Folder to write NAME.key, NAME.cer and NAME.enrollment.json into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// RSA key size.
        #[arg(long, default_value_t = 3072, value_parser = parse_bits)]
        bits: usize,
        /// Certificate validity in days.
        #[arg(long, default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..=36500))]
        days: u32,
        #[command(flatten)]
        protection: NewKeyArgs,
        /// Generate the key on a hardware token instead (RFC 7512 URI, e.g.
        /// 'pkcs11:token=custodian-a;object=sd-recovery?module-path=/usr/lib/softhsm/libsofthsm2.so');
        /// no .key file is written; the certificate is also stored on the token.
        #[arg(long, value_name = "URI", conflicts_with_all = ["passphrase_file", "no_passphrase"])]
        pkcs11: Option<String>,
        /// Replace an existing certificate or enrollment (never a key file).
        #[arg(long)]
        force: bool,
    },
    /// Decrypt and verify this custodian's share, without combining anything.
    Check {
        /// The security-domain file.
        #[arg(long, value_name = "SD.json")]
        sd: PathBuf,
        /// This custodian's private key.
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// Passphrase file for the key.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// One-laptop recovery: unlock a quorum of keys in turn and write a restore blob.
    RestoreBlob {
        /// The security-domain file.
        #[arg(long, value_name = "SD.json")]
        sd: PathBuf,
        /// The recovering HSM's exchange key: the transfer-key response
        /// (uploader init-recovery keeps it) or the PEM certificate az saves.
        #[arg(long, value_name = "EXCHANGE")]
        exchange_key: PathBuf,
        /// The recovering HSM's name: its exchange key must be attested for
        /// NAME.managedhsm.azure.net (confirm it aloud with the operator).
        #[arg(long, value_name = "NAME")]
        hsm: String,
        #[command(flatten)]
        attestation: AttestationArgs,
        #[command(flatten)]
        keys: KeysArgs,
        /// Where to write the restore blob.
        #[arg(long, value_name = "BLOB.json")]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Make the combiner's ephemeral keypair for one distributed recovery.
    CombinerInit {
        /// Folder to write combiner.key and combiner.json into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        protection: NewKeyArgs,
        /// Generate the combiner key on a hardware token (pkcs11: URI) instead of combiner.key.
        #[arg(long, value_name = "URI", conflicts_with_all = ["passphrase_file", "no_passphrase"])]
        pkcs11: Option<String>,
        /// Replace an existing combiner.json (never the key).
        #[arg(long)]
        force: bool,
    },
    /// Distributed recovery: decrypt this custodian's share and seal it to the
    /// combiner that the operator's signed recovery request names.
    Share {
        /// The security-domain file.
        #[arg(long, value_name = "SD.json")]
        sd: PathBuf,
        /// The operator's signed recovery request.
        #[arg(long, value_name = "REQUEST.json")]
        request: PathBuf,
        #[command(flatten)]
        operator: OperatorArgs,
        #[command(flatten)]
        attestation: AttestationArgs,
        /// The combiner's bundle, if you were given it: checked to be the
        /// combiner the request names (shares are sealed to that one only).
        #[arg(long, value_name = "COMBINER.json")]
        combiner: Option<PathBuf>,
        /// This custodian's private key (its .cer must be beside it).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// Passphrase file for the key.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Where to write the share bundle.
        #[arg(long, value_name = "NAME.share.json")]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Distributed recovery: verify share bundles, rebuild the key, write the restore blob.
    Combine {
        /// The security-domain file.
        #[arg(long, value_name = "SD.json")]
        sd: PathBuf,
        /// The operator's signed recovery request.
        #[arg(long, value_name = "REQUEST.json")]
        request: PathBuf,
        #[command(flatten)]
        operator: OperatorArgs,
        #[command(flatten)]
        attestation: AttestationArgs,
        /// The combiner's private key (combiner.key): the combiner the request names.
        #[arg(long, value_name = "KEY")]
        combiner_key: PathBuf,
        /// Passphrase file for the combiner key.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// A custodian's share bundle; repeat for each.
        #[arg(long = "share", value_name = "SHARE.json", required = true)]
        shares: Vec<PathBuf>,
        /// Where to write the restore blob.
        #[arg(long, value_name = "BLOB.json")]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Rebuild the master key with a quorum and re-split it to new custodians.
    Rotate {
        /// The current security-domain file.
        #[arg(long, value_name = "SD.json")]
        sd: PathBuf,
        #[command(flatten)]
        keys: KeysArgs,
        /// A new custodian's certificate; give 3 to 10.
        #[arg(long = "new-cert", value_name = "CERT.cer", required = true)]
        new_certs: Vec<PathBuf>,
        /// The new quorum (2 to 10, at most the number of new certificates).
        #[arg(long)]
        quorum: usize,
        /// Where to write the new SD file.
        #[arg(long, value_name = "NEW_SD.json")]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Prove a quorum can recover: rebuild, verify every EncData entry, wipe, sign a report.
    Drill {
        /// The security-domain file.
        #[arg(long, value_name = "SD.json")]
        sd: PathBuf,
        #[command(flatten)]
        keys: KeysArgs,
        /// Where to write the signed drill report.
        #[arg(long, value_name = "REPORT.json")]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        force: bool,
    },
    /// Verify an hsm-ceremony bundle and print what it says.
    ///
    /// With --sd, a drill report is checked against the SD file's custodians
    /// and quorum; an activation record or recovery request against the SD
    /// file and the pinned operator (--signer). Without them only the
    /// signatures are checked, which says nothing about who signed.
    Verify {
        /// The bundle.
        bundle: PathBuf,
        /// The pinned signer's certificate (the operator's, for an activation
        /// record or recovery request); for other bundles, required among the signers.
        #[arg(long, value_name = "CERT.cer")]
        signer: Option<PathBuf>,
        /// The SD file the bundle is about.
        #[arg(long, value_name = "SD.json")]
        sd: Option<PathBuf>,
        /// For a recovery request: how its exchange key is judged.
        #[command(flatten)]
        attestation: AttestationArgs,
    },
    /// Verify an exchange key's SGX attestation, offline, check by check.
    ///
    /// FILE is a transfer-key response, an exchange certificate (PEM or DER)
    /// or a recovery request. Exit 0 only when every check passes.
    ExchangeKey {
        /// The exchange key.
        file: PathBuf,
        /// The HSM it must belong to (NAME of NAME.managedhsm.azure.net).
        #[arg(long, value_name = "NAME")]
        hsm: String,
        /// Check at this time (RFC 3339) instead of the local clock.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        #[command(flatten)]
        attestation: AttestationArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the fingerprint of a certificate, exchange key, SD file or bundle.
    Fingerprint {
        /// The file.
        file: PathBuf,
    },
}

fn parse_bits(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(b @ (2048 | 3072 | 4096)) => Ok(b),
        Ok(b) if b < 2048 => Err(format!("{b} bits is too weak; use 3072 or 4096")),
        _ => Err("use 2048, 3072 or 4096".into()),
    }
}
