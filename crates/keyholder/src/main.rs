//! `keyholder`: the offline custodian tool for Azure Managed HSM
//! security-domain ceremonies. It opens no socket; every format and every
//! cryptographic operation comes from `sd-core`. This crate owns the command
//! line, prompts, files and messages.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod security_domain;

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
    ceremony_cli::error::exit(commands::run(cli.command))
}
