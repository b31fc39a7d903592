//! `keyholder ledger verify`: one HSM's ceremony records, checked as one
//! hash chain against the SD files current at each point, ending at the SD
//! file given; printed as the HSM's ceremony history.

use std::path::PathBuf;

use ceremony_cli::args::SdFileArg;
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::files;
use ceremony_cli::outln;
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::bundle::{BundleKind, peek_kind};
use sd_core::ceremony::ledger::Ledger;

use super::ceremony::{common_name, hint_for};
use crate::security_domain;

#[derive(clap::Subcommand)]
pub enum LedgerCommand {
    /// Verify every ceremony record in a folder as one HSM's ledger and print its history.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The folder of ceremony records (and the SD files earlier records name).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The SD file current now: the ledger must end with it.
    #[command(flatten)]
    sd: SdFileArg,
}

pub fn run(command: LedgerCommand) -> CliResult {
    let LedgerCommand::Verify(args) = command;
    let current = security_domain::load(&args.sd.sd)?;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .map_err(|e| CliError::file(&args.dir, e).hint("give the folder the ceremony records are kept in"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    let mut records = Vec::new();
    let mut sds: Vec<SecurityDomain> = Vec::new();
    for path in entries {
        let bytes = files::read(&path)?;
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if peek_kind(&bytes).is_ok_and(|k| k == BundleKind::CeremonyRecord) {
            records.push((name, bytes));
        } else if let Ok(sd) = SecurityDomain::parse(&bytes) {
            sds.push(sd);
        }
    }
    if records.is_empty() {
        return Err(CliError::file(&args.dir, "holds no ceremony record").hint(
            "`keyholder ceremony run` writes them; keep every one of the HSM's records in one folder",
        ));
    }
    let ledger = Ledger::verify(&records, &sds, &current.sd).map_err(|e| {
        let hint = hint_for(&e);
        CliError::file(&args.dir, e).hint(hint)
    })?;
    outln!(
        "ledger verified: {} ceremonies of the security domain activated in {}, one chain, ending with {} (sha256 {})",
        ledger.records.len(),
        ledger.records.first().map_or("?", |(_, r)| r.record().plan.hsm.as_str()),
        current.path.display(),
        current.sd.sha256()
    );
    outln!(
        "  #  kind                     held (UTC)            record id     exceptions  co-signed by  (file)"
    );
    for (name, r) in &ledger.records {
        let rec = r.record();
        let names: Vec<String> = r.custodians().iter().map(common_name).collect();
        outln!(
            "{:>3}  {:<24} {:<21} {:<12} {:>11}  {}  ({name})",
            rec.sequence,
            if rec.rehearsal {
                format!("{} (rehearsal)", rec.plan.kind.name())
            } else {
                rec.plan.kind.name().to_owned()
            },
            rec.started.utc(),
            &r.id()[..12],
            rec.exceptions().count(),
            names.join(", ")
        );
    }
    Ok(())
}
