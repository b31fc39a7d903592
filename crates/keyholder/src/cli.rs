//! The command line.

use std::path::PathBuf;

use ceremony_cli::args::SdFileArg;
use ceremony_cli::exchange_key::AttestationArgs;
use ceremony_cli::unlocked_key::KeySource;
use clap::{Args, Parser, Subcommand};
use sd_core::HsmName;

use crate::commands;

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
#[command(name = "keyholder", version = build_info::VERSION, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Every `--key` of a quorum with its passphrase files.
#[derive(Args, Clone)]
pub struct KeysArgs {
    /// Custodian private key: a PKCS#8 PEM file (encrypted or not) or a
    /// token key as a pkcs11: URI; repeat for each custodian.
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<KeySource>,
    /// Passphrase file for the --key at the same position (unencrypted keys ignore theirs).
    #[arg(long = "passphrase-file", value_name = "FILE")]
    pub passphrase_files: Vec<PathBuf>,
}

/// An SD file and a quorum of its custodians' keys: what rebuilds the master key.
#[derive(Args, Clone)]
pub struct QuorumArgs {
    #[command(flatten)]
    pub sd: SdFileArg,
    #[command(flatten)]
    pub keys: KeysArgs,
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

/// `--hsm`: the HSM the master key may go to, as the ceremony plan names it.
#[derive(Args, Clone)]
pub struct TargetHsmArg {
    /// The name of the HSM you are recovering into (NAME of
    /// NAME.managedhsm.azure.net), from the ceremony plan agreed beforehand,
    /// never from the online machine: the request and its attested exchange
    /// key must name it, or nothing is written.
    #[arg(long, value_name = "NAME")]
    pub hsm: HsmName,
}

/// What both sides of a distributed recovery start from: the SD file, the
/// operator's signed recovery request, the HSM and operator the custodians
/// pinned, and how the request's exchange key is judged.
#[derive(Args, Clone)]
pub struct RecoveryArgs {
    #[command(flatten)]
    pub sd: SdFileArg,
    /// The operator's signed recovery request.
    #[arg(long, value_name = "REQUEST.json")]
    pub request: PathBuf,
    #[command(flatten)]
    pub target: TargetHsmArg,
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(flatten)]
    pub attestation: AttestationArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Generate a custodian keypair, self-signed certificate and signed enrollment.
    Init(commands::init::Args),
    /// Decrypt and verify this custodian's share, without combining anything.
    Check(commands::check::Args),
    /// One-laptop recovery: unlock a quorum of keys in turn and write a restore blob.
    RestoreBlob(commands::restore_blob::Args),
    /// Make the combiner's ephemeral keypair for one distributed recovery.
    CombinerInit(commands::combiner_init::Args),
    /// Distributed recovery: decrypt this custodian's share and seal it to the
    /// combiner that the operator's signed recovery request names.
    Share(commands::share::Args),
    /// Distributed recovery: verify share bundles, rebuild the key, write the restore blob.
    Combine(commands::combine::Args),
    /// Rebuild the master key with a quorum and re-split it to new custodians.
    Rotate(commands::rotate::Args),
    /// Prove a quorum can recover: rebuild, verify every EncData entry, wipe, sign a report.
    Drill(commands::drill::Args),
    /// Verify an hsm-ceremony bundle and print what it says.
    ///
    /// With --sd, a drill report is checked against the SD file's custodians
    /// and quorum; an activation record or recovery request against the SD
    /// file and the pinned operator (--signer). Without them only the
    /// signatures are checked, which says nothing about who signed.
    Verify(commands::verify::Args),
    /// Verify an exchange key's SGX attestation, offline, check by check.
    ///
    /// FILE is a transfer-key response, an exchange certificate (PEM or DER)
    /// or a recovery request. Exit 0 only when every check passes.
    ExchangeKey(commands::exchange_key::Args),
    /// Print the fingerprint of a certificate, exchange key, SD file or bundle.
    Fingerprint(commands::fingerprint::Args),
    /// Change a key file's passphrase, in place (the key and its certificate stay the same).
    Passwd(commands::passwd::Args),
    /// The ceremony record: a plan (`new`), walked and signed (`run`),
    /// co-signed by custodians (`sign`), printed for the auditor (`print`).
    #[command(subcommand)]
    Ceremony(commands::ceremony::CeremonyCommand),
    /// An HSM's ceremony records as one hash chain (`verify`).
    #[command(subcommand)]
    Ledger(commands::ledger::LedgerCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    Completions(ceremony_cli::manual::CompletionsArgs),
    /// Write the man pages (keyholder.1 and one per command) into a folder.
    Manpages(ceremony_cli::manual::ManpagesArgs),
}
