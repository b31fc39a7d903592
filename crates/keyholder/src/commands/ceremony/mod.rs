//! `keyholder ceremony …`: the ceremony record. `new` writes a plan from a
//! template, `run` walks it step by step and writes the record the
//! administrator signs, `sign` adds a custodian's co-signature, `print`
//! renders the record for paper. The rules (what a plan, a record and a
//! ledger must be) are sd-core's `ceremony`.

pub mod html;
pub mod new;
pub mod print;
pub mod run;
pub mod sign;

use std::path::Path;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files;
use sd_core::ceremony::CeremonyError;
use sd_core::ceremony::record::CeremonyRecord;
use sd_core::pki::cert::Certificate;

#[derive(clap::Subcommand)]
pub enum CeremonyCommand {
    /// Write a ceremony plan from the template for its kind, to edit before the day.
    New(new::Args),
    /// Walk a plan step by step: instructions, the witness's confirmation,
    /// exceptions, bag serials, the SHA-256 of every file; write the signed record.
    Run(run::Args),
    /// Co-sign a ceremony record as a custodian who took part.
    Sign(sign::Args),
    /// Render a ceremony record as a printable page (HTML, A4 and US Letter).
    Print(print::Args),
}

pub fn run(command: CeremonyCommand) -> CliResult {
    match command {
        CeremonyCommand::New(args) => new::run(args),
        CeremonyCommand::Run(args) => run::run(args),
        CeremonyCommand::Sign(args) => sign::run(args),
        CeremonyCommand::Print(args) => print::run(args),
    }
}

/// A record file as read, its signatures checked (whom to trust is the
/// ledger's to decide).
pub struct RecordFile {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// What it says.
    pub record: CeremonyRecord,
    /// Its identity (SHA-256 of the signed content).
    pub id: String,
    /// Who signed it, in order.
    pub signers: Vec<Certificate>,
}

/// Reads the record at `path`.
pub fn read_record(path: &Path) -> CliResult<RecordFile> {
    let bytes = files::read(path)?;
    let (record, id, signers) = CeremonyRecord::read(&bytes).in_file(path).map_err(|e| {
        e.hint(
            "give a record written by `keyholder ceremony run` (and co-signed by `ceremony sign`), unaltered",
        )
    })?;
    Ok(RecordFile { bytes, record, id, signers })
}

/// The next step for a refused plan, record or ledger.
pub fn hint_for(e: &CeremonyError) -> &'static str {
    match e {
        CeremonyError::Plan(_) => "edit the plan (`keyholder ceremony new` writes a valid one to start from)",
        CeremonyError::NotTheAdministrator { .. } => {
            "sign with the key whose certificate the plan names as administrator"
        }
        _ => {
            "the record or ledger was altered, or a record is missing: compare with the copies kept by each custodian"
        }
    }
}

/// The common name of a certificate's subject ("alice" for "CN=alice").
pub fn common_name(cert: &Certificate) -> String {
    let subject = cert.subject();
    subject.split(',').find_map(|part| part.trim().strip_prefix("CN=")).unwrap_or(&subject).to_owned()
}

/// An error naming `path` for a ceremony rule that refused it.
pub fn refused(path: &Path, e: CeremonyError) -> CliError {
    let hint = hint_for(&e);
    CliError::file(path, e).hint(hint)
}
