//! `uploader`: the online side of hsm-ceremony. It talks to a Managed HSM data
//! plane (real Azure or the local emulator): activates the HSM (security-domain
//! download), fetches the exchange key for a recovery, uploads the restore
//! blob, and polls status. It never sees a share or the master key.
#![forbid(unsafe_code)]

mod access_token;
mod cli;
mod commands;
mod endpoint;
mod http;
mod poll;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ceremony_cli::error::run_hardened(|| commands::run(cli::Cli::parse()))
}
