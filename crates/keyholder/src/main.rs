//! `keyholder`: the offline custodian tool for Azure Managed HSM
//! security-domain ceremonies. It opens no socket; every format and every
//! cryptographic operation comes from `sd-core`. This crate owns the command
//! line, prompts, files and messages.
#![forbid(unsafe_code)]

/// `println!` that never panics: a closed pipe (`keyholder verify X | head`)
/// must not turn into a crash. The results that matter are files.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that never panics (progress and errors).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod custodian;
mod error;
mod files;
mod passphrase;
mod security_domain;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("{e}");
            ExitCode::from(error::EXIT_FAILURE)
        }
    }
}
