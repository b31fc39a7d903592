//! `uploader`: the online side of hsm-ceremony. It talks to a Managed HSM data
//! plane (real Azure or the local emulator): activates the HSM (security-domain
//! download), fetches the exchange key for a recovery, uploads the restore
//! blob, and polls status. It never sees a share or the master key.
#![forbid(unsafe_code)]

mod access_token;
mod arm;
mod cli;
mod client;
mod commands;
mod endpoint;
mod poll;
mod resource_names;

use std::process::ExitCode;

use ceremony_cli::errln;
use clap::Parser;

fn main() -> ExitCode {
    // Before anything secret is read: no core dump may ever hold a key.
    if let Err(e) = ceremony_cli::hardening::disable_core_dumps() {
        errln!("error: {e}; refusing to handle keys in a process that could dump core");
        return ExitCode::from(ceremony_cli::error::EXIT_FAILURE);
    }
    let cli = cli::Cli::parse();
    ceremony_cli::error::exit(commands::run(cli))
}
