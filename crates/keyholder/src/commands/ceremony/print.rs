//! `keyholder ceremony print`: the record as a printable page.

use std::path::PathBuf;

use ceremony_cli::args::OutputArgs;
use ceremony_cli::error::CliResult;
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::outln;
use sd_core::primitives::hex::sha256_hex;

use super::{RecordFile, html, read_record};

#[derive(clap::Args)]
pub struct Args {
    /// The ceremony record.
    #[arg(value_name = "RECORD.json")]
    record: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> CliResult {
    files::check_writable(&args.output.out, args.output.force)?;
    let RecordFile { bytes, record, id, signers } = read_record(&args.record)?;
    let page = html::render(&record, &sha256_hex(&bytes), &id, &signers);
    files::write_atomic(&args.output.out, page.as_bytes(), PUBLIC_MODE, args.output.force)?;
    outln!(
        "wrote the printable record of {} ({} steps, {} signature(s)) to {}",
        record.plan.title,
        record.steps.len(),
        signers.len(),
        args.output.out.display()
    );
    outln!("print it (A4 or US Letter), sign the attendance sheet, file it with the record");
    Ok(())
}
