//! The command line.

use std::path::PathBuf;

use ceremony_cli::exchange_key::AttestationArgs;
use ceremony_cli::identity::NewKeyArgs;
use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Target: --hsm NAME means https://NAME.managedhsm.azure.net; --hsm-url for anything
else (the emulator prints its URL and writes DIR/url; trust it with --ca-cert DIR/ca.pem).
Token: --token-file F, else $AZURE_ACCESS_TOKEN, else `az account get-access-token
--resource https://managedhsm.azure.net`. The token is never printed.

Exit status: 0 success; 1 the command failed (the message says why, naming the file
or the HSM's answer); 2 the command line itself is wrong.";

/// Online side of hsm-ceremony: activate a Managed HSM, fetch its exchange key, upload a restore blob.
#[derive(Parser)]
#[command(name = "uploader", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub target: Target,
    #[command(subcommand)]
    pub command: Command,
}

/// Which HSM and how to authenticate.
#[derive(Args)]
pub struct Target {
    /// Managed HSM name (https://NAME.managedhsm.azure.net).
    #[arg(long, global = true, conflicts_with = "hsm_url")]
    pub hsm: Option<String>,
    /// Full HSM URL, e.g. the emulator's https://127.0.0.1:PORT.
    #[arg(long, global = true, value_name = "URL")]
    pub hsm_url: Option<String>,
    /// With --hsm-url to a host that is not NAME.managedhsm.azure.net (the
    /// emulator): the HSM's name, which its exchange key must be attested for.
    #[arg(long, global = true, value_name = "NAME", requires = "hsm_url")]
    pub hsm_name: Option<String>,
    /// Trust only this CA certificate (PEM), e.g. the emulator's ca.pem.
    #[arg(long, global = true, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,
    /// Data-plane api-version.
    #[arg(long, global = true, default_value = "7.5")]
    pub api_version: String,
    /// Read the bearer token from FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Make the operator's signing key (operator.key) and certificate (operator.cer).
    OperatorInit {
        /// Folder to write operator.key and operator.cer into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        protection: NewKeyArgs,
        /// Replace an existing operator.cer (never the key).
        #[arg(long)]
        force: bool,
    },
    /// Activate the HSM: send the custodians' certificates and quorum, save the SD file.
    Activate {
        /// The quorum (2 to 10, at most the number of custodians).
        #[arg(long)]
        quorum: usize,
        /// A custodian's enrollment bundle; repeat (3 to 10 custodians in all).
        #[arg(long = "enrollment", value_name = "ENROLLMENT.json")]
        enrollments: Vec<PathBuf>,
        /// A custodian certificate without an enrollment (e.g. made by az); after the enrollments.
        #[arg(long = "cert", value_name = "CERT.cer")]
        certs: Vec<PathBuf>,
        /// The operator's key (operator.cer beside it), to sign the activation record.
        #[arg(long, value_name = "OP.key")]
        operator_key: PathBuf,
        /// Passphrase file for the operator key.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Where to save the SD file (the activation record goes to OUT.activation.json).
        #[arg(long, value_name = "SD.json")]
        out: PathBuf,
        /// Do not wait for the HSM to report Success.
        #[arg(long)]
        no_wait: bool,
        /// Replace existing output files.
        #[arg(long)]
        force: bool,
    },
    /// Start a recovery: fetch the exchange key and write a signed recovery
    /// request naming it and the combiner (distributed recovery), and/or save
    /// the exchange key as az does (one-laptop recovery).
    #[command(group = clap::ArgGroup::new("output").required(true).multiple(true).args(["out", "exchange_key_out"]))]
    InitRecovery {
        /// The SD file to be recovered.
        #[arg(long, value_name = "SD.json")]
        sd: PathBuf,
        /// The combiner's bundle (from keyholder combiner-init): custodians
        /// will seal their shares to this combiner only. Confirm its
        /// fingerprint aloud with the combiner before signing.
        #[arg(long, value_name = "COMBINER.json", requires = "out")]
        combiner: Option<PathBuf>,
        /// The operator's key (operator.cer beside it), to sign the request.
        #[arg(long, value_name = "OP.key", requires = "out")]
        operator_key: Option<PathBuf>,
        /// Passphrase file for the operator key.
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// Where to write the recovery request (needs --combiner).
        #[arg(long, value_name = "REQUEST.json", requires_all = ["combiner", "operator_key"])]
        out: Option<PathBuf>,
        /// Also write the exchange key as PEM, exactly as az init-recovery does.
        #[arg(long, value_name = "EXCHANGE.pem")]
        exchange_key_out: Option<PathBuf>,
        #[command(flatten)]
        attestation: AttestationArgs,
        /// Replace existing output files.
        #[arg(long)]
        force: bool,
    },
    /// Upload a restore blob and wait until the HSM is active.
    Upload {
        /// The restore blob (from keyholder restore-blob / combine, or az).
        #[arg(long, value_name = "BLOB.json")]
        restore_blob: PathBuf,
        /// Do not wait for the HSM to report Success.
        #[arg(long)]
        no_wait: bool,
    },
    /// Print the status of the last security-domain upload (or download).
    Status {
        /// Report the download (activation) instead of the upload (recovery).
        #[arg(long)]
        download: bool,
    },
    /// Key operations to prove that keys survive a recovery (drills).
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an AES-256 key (oct-HSM).
    Create {
        /// Key name.
        #[arg(long)]
        name: String,
    },
    /// Encrypt a file with A256GCM; writes the Key Vault result JSON.
    Encrypt {
        /// Key name.
        #[arg(long)]
        name: String,
        /// Plaintext file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the ciphertext JSON.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Decrypt a ciphertext JSON made by `key encrypt`.
    Decrypt {
        /// Key name.
        #[arg(long)]
        name: String,
        /// Ciphertext JSON.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the plaintext.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Back up a key (protected by the security domain).
    Backup {
        /// Key name.
        #[arg(long)]
        name: String,
        /// Where to write the backup.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a key backup into this HSM.
    Restore {
        /// The backup file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
    },
}
