//! `mhsm-emulator`: the command line of the emulator library (see its
//! crate documentation): reads the options, starts it, says why it could not.
#![forbid(unsafe_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mhsm_emulator::server::{self, Config};

/// A local Azure Managed HSM (data plane and Resource Manager) for hsm-ceremony drills.
#[derive(Parser)]
#[command(
    name = "mhsm-emulator",
    version = build_info::VERSION,
    about,
    after_help = "\
On start it prints how to point the tools at it, and writes DIR/env: `. DIR/env`
sets HSM_CEREMONY_TARGET=DIR, after which `uploader --hsm NAME` (this HSM, or one
provisioned here through Resource Manager) and keyholder use this emulator.

Writes DIR/url, DIR/arm-url, DIR/name (this HSM's), DIR/subscription, DIR/ca.pem (the server certificate to trust), DIR/token (the
bearer token of the initial administrator, mode 0600), DIR/principal (that
administrator's object ID) and DIR/attestation-root.pem (the test root its exchange
key's SGX evidence chains to: pass it to the tools with --attestation-root; it is
not Intel's) so scripts can find them. Further principals: a file
DIR/tokens/OBJECT_ID.token holding a bearer token makes that token OBJECT_ID's
(read at each request); what it may do is decided by local RBAC role assignments,
as on a real HSM (the administrator holds Managed HSM Administrator at /, which
grants no key operation). State is kept in DIR/state.json
(mode 0600: it holds the emulated HSM's secrets; this is a test tool, not an HSM).
Stops cleanly on SIGINT or SIGTERM."
)]
struct Cli {
    /// Folder for state, TLS certificate and token (created if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "list_routes")]
    data_dir: Option<PathBuf>,
    /// Print every data-plane route with the data action a caller's role must
    /// grant and its scope, then exit (no other route is answered).
    #[arg(long)]
    list_routes: bool,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Read the bearer token from FILE instead of making a random one.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// How long a download or upload stays InProgress before the HSM is active.
    #[arg(long, value_name = "MS", default_value_t = 1500)]
    activation_delay_ms: u64,
    /// Size of the exchange (transfer) key; the real service uses 4096, and
    /// an attested exchange key must have at least 3072.
    #[arg(long, default_value_t = 4096, value_parser = parse_bits)]
    transfer_key_bits: usize,
    /// How long provisioning a Managed HSM through the management plane takes
    /// (Azure: about 15 minutes; a drill need not wait that long).
    #[arg(long, value_name = "MS", default_value_t = 3000)]
    provisioning_ms: u64,
    /// The HSM's name: its exchange certificate is for NAME.managedhsm.azure.net.
    #[arg(long, value_name = "NAME", default_value = "emulated-hsm")]
    hsm_name: String,
}

fn parse_bits(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(b @ (3072 | 4096)) => Ok(b),
        _ => Err("use 3072 or 4096".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list_routes {
        // A closed pipe (`| head`) ends the listing quietly.
        let mut out = std::io::stdout().lock();
        for line in mhsm_emulator::dataplane::listing() {
            if writeln!(out, "{line}").is_err() {
                break;
            }
        }
        return ExitCode::SUCCESS;
    }
    let Some(data_dir) = cli.data_dir else {
        eprintln!("mhsm-emulator: error: --data-dir is required");
        return ExitCode::FAILURE;
    };
    let config = Config {
        data_dir,
        listen: cli.listen,
        token_file: cli.token_file,
        activation_delay: Duration::from_millis(cli.activation_delay_ms),
        transfer_key_bits: cli.transfer_key_bits,
        provisioning: Duration::from_millis(cli.provisioning_ms),
        hsm_name: cli.hsm_name,
    };
    match server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mhsm-emulator: error: {e}");
            ExitCode::FAILURE
        }
    }
}
