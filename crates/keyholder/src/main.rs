//! `keyholder`: the offline custodian tool for Azure Managed HSM
//! security-domain ceremonies. It opens no socket; every format and every
//! cryptographic operation comes from `sd-core`. This crate owns the command
//! line, prompts, files and messages.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod security_domain;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ceremony_cli::error::run_hardened(|| commands::run(cli::Cli::parse().command))
}
