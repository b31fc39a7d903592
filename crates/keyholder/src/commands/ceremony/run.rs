//! `keyholder ceremony run`: the plan, step by step, on the ceremony laptop.
//!
//! Each step is shown with its instructions and command; bags it opens are
//! read off the bag and typed; the witness answers whether it was done as
//! written (`y`), or skipped, retried or changed (`s`, `r`, `c`, then the
//! reason). The time and the SHA-256 of each file the step reads and writes
//! are recorded at the answer. Answers come from standard input, a line each:
//! the terminal, or a file of answers for a rehearsal. At the end the
//! administrator's key signs the record; the custodians co-sign it with
//! `keyholder ceremony sign`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use ceremony_cli::args::OutputArgs;
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::unlocked_key::{KeySource, UnlockedKey};
use ceremony_cli::{errln, outln};
use sd_core::bundle::Signer;
use sd_core::ceremony::plan::{CeremonyKind, CeremonyPlan, PlanStep};
use sd_core::ceremony::record::{
    BagAction, BagEvent, CeremonyRecord, Exception, ExceptionKind, FileHash, RecordInput, StepRecord,
};
use sd_core::primitives::hex::sha256_hex;
use sd_core::time::Timestamp;

use super::{read_record, refused};
use crate::commands::now_unix;
use crate::security_domain;

#[derive(clap::Args)]
pub struct Args {
    /// The ceremony plan (`keyholder ceremony new` writes one).
    #[arg(value_name = "PLAN.json")]
    plan: PathBuf,
    /// The ceremony administrator's key (its certificate beside it), which
    /// signs the record; it must be the one the plan names.
    #[arg(long, value_name = "KEY")]
    key: KeySource,
    /// Passphrase file for --key.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// The SD file the ceremony is about (read at the end: an activation makes it).
    #[arg(long, value_name = "SD.json")]
    sd: PathBuf,
    /// For a rotation: the SD file it made.
    #[arg(long, value_name = "SD.json")]
    sd_after: Option<PathBuf>,
    /// The ledger's newest record, which this ceremony follows (every ceremony but the activation).
    #[arg(long, value_name = "RECORD.json")]
    previous: Option<PathBuf>,
    /// A rehearsal: the tool answers for the witness (every step done as
    /// written unless a file it should have made is missing, which is then
    /// an exception; every bag as planned). The record says so.
    #[arg(long)]
    rehearsal: bool,
    /// The operator's own transcript of the online steps (brought from the
    /// online machine on the transfer medium): its SHA-256 goes into the record.
    #[arg(long, value_name = "FILE")]
    operator_transcript: Option<PathBuf>,
    /// The folder the plan's file names are in (default: the current one).
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

/// The answers, a line at a time, from standard input; or, in a rehearsal,
/// the tool's own (`None`).
struct Answers<R: BufRead> {
    lines: Option<std::io::Lines<R>>,
}

impl<R: BufRead> Answers<R> {
    fn rehearsal(&self) -> bool {
        self.lines.is_none()
    }

    fn next(&mut self, question: &str) -> CliResult<String> {
        errln!("{question}");
        let Some(lines) = self.lines.as_mut() else {
            return Err(CliError::general("internal: a rehearsal asked a question")
                .hint("this is a bug: report it, with the plan"));
        };
        match lines.next() {
            Some(Ok(line)) => Ok(line.trim().to_owned()),
            Some(Err(e)) => Err(CliError::general(format!("reading the answer: {e}"))
                .hint("answer on the terminal, or give a file of answers on standard input")),
            None => Err(CliError::general(format!("no answer to {question:?} (end of input)"))
                .hint("the record was not written; run the ceremony again and answer every step")),
        }
    }
}

/// The SHA-256 of each file, as found now.
fn hashes(dir: &Path, paths: &[String]) -> CliResult<Vec<FileHash>> {
    paths
        .iter()
        .map(|p| {
            let path = dir.join(p);
            let sha256 = if path.exists() { Some(sha256_hex(&files::read(&path)?)) } else { None };
            Ok(FileHash { path: p.clone(), sha256 })
        })
        .collect()
}

/// Asks for the serial of each bag, as read off it; a different serial is an exception.
fn bags<R: BufRead>(
    answers: &mut Answers<R>,
    step: &PlanStep,
    action: BagAction,
    plan: &CeremonyPlan,
    events: &mut Vec<BagEvent>,
    notes: &mut Vec<String>,
) -> CliResult {
    let (list, verb) = match action {
        BagAction::Opened => (&step.bags_opened, "open"),
        BagAction::Sealed => (&step.bags_sealed, "seal"),
    };
    for serial in list {
        let holds = plan.bags.iter().find(|b| b.serial == *serial).map_or("", |b| b.holds.as_str());
        let read = if answers.rehearsal() {
            outln!("  bag {serial} ({holds}): {verb} (rehearsal: as planned)");
            serial.clone()
        } else {
            answers
                .next(&format!("  bag {serial} ({holds}): type the serial printed on the bag you {verb}:"))?
        };
        if read != *serial {
            notes.push(format!("bag {serial}: the serial read was {read:?}"));
        }
        events.push(BagEvent { serial: serial.clone(), action, step: step.id.clone(), read });
    }
    Ok(())
}

/// The witness's answer for one step: done as written, or an exception.
fn verdict<R: BufRead>(
    answers: &mut Answers<R>,
    dir: &Path,
    step: &PlanStep,
) -> CliResult<Option<Exception>> {
    if answers.rehearsal() {
        let missing: Vec<&str> =
            step.outputs.iter().filter(|o| !dir.join(o).exists()).map(String::as_str).collect();
        return Ok((!missing.is_empty()).then(|| Exception {
            kind: ExceptionKind::Changed,
            reason: format!("rehearsal: {} not made", missing.join(", ")),
        }));
    }
    loop {
        let a = answers.next("  witness: done as written? [y]es, or [s]kipped, [r]etried, [c]hanged:")?;
        let kind = match a.to_ascii_lowercase().as_str() {
            "y" | "yes" => {
                let missing: Vec<&String> = step.outputs.iter().filter(|o| !dir.join(o).exists()).collect();
                if missing.is_empty() {
                    return Ok(None);
                }
                errln!("  not done: {} is not there yet (answer again when it is)", missing[0]);
                continue;
            }
            "s" | "skipped" => ExceptionKind::Skipped,
            "r" | "retried" => ExceptionKind::Retried,
            "c" | "changed" => ExceptionKind::Changed,
            _ => {
                errln!("  answer y, s, r or c");
                continue;
            }
        };
        let reason =
            answers.next(&format!("  why was step {} {}? (recorded as typed)", step.id, kind.name()))?;
        if reason.is_empty() {
            errln!("  an exception needs its reason");
            continue;
        }
        return Ok(Some(Exception { kind, reason }));
    }
}

pub fn run(args: Args) -> CliResult {
    files::check_writable(&args.output.out, args.output.force)?;
    let plan_bytes = files::read(&args.plan)?;
    let plan = CeremonyPlan::parse(&plan_bytes).map_err(|e| refused(&args.plan, e))?;
    let key = UnlockedKey::load(&args.key, args.passphrase_file.as_deref())?;
    let cert = key.require_cert()?.clone();
    // Refuse the wrong administrator now, not after the ceremony.
    if !plan.roles.administrator.pin().is_some_and(|p| p.matches(&cert)) {
        return Err(CliError::file(
            key.name(),
            format!("is not the key of {}, the administrator the plan names", plan.roles.administrator.name),
        )
        .hint("sign with the administrator's key, or correct the plan's fingerprint before the day"));
    }
    let (sequence, previous) = match (&args.previous, plan.kind) {
        (None, CeremonyKind::Activation) => (0, None),
        (Some(path), kind) if kind != CeremonyKind::Activation => {
            // The ledger follows the security domain from HSM to HSM (a
            // recovery moves it): the SD file's hash links the records.
            let previous = read_record(path)?;
            (previous.record.sequence + 1, Some(previous.id))
        }
        (Some(_), _) => {
            return Err(CliError::general("an activation starts the ledger: it has no --previous record")
                .hint("leave out --previous"));
        }
        (None, _) => {
            return Err(CliError::general("every ceremony after the activation names the record before it")
                .hint("give --previous with the HSM's last record (the ledger's newest)"));
        }
    };

    outln!("{} ({} steps), HSM {}", plan.title, plan.steps.len(), plan.hsm);
    let mut answers = Answers { lines: (!args.rehearsal).then(|| std::io::stdin().lock().lines()) };
    let mut steps = Vec::with_capacity(plan.steps.len());
    let mut events = Vec::new();
    for (n, step) in plan.steps.iter().enumerate() {
        let started = now_unix();
        outln!("");
        outln!("[{}/{}] step {} ({}): {}", n + 1, plan.steps.len(), step.id, step.role, step.instruction);
        if let Some(command) = &step.command {
            outln!("    $ {command}");
        }
        let mut notes = Vec::new();
        bags(&mut answers, step, BagAction::Opened, &plan, &mut events, &mut notes)?;
        let inputs = hashes(&args.dir, &step.inputs)?;
        let mut exception = verdict(&mut answers, &args.dir, step)?;
        bags(&mut answers, step, BagAction::Sealed, &plan, &mut events, &mut notes)?;
        if !notes.is_empty() {
            let reason = notes.join("; ");
            exception = Some(match exception {
                Some(e) => Exception { kind: e.kind, reason: format!("{}; {reason}", e.reason) },
                None => Exception { kind: ExceptionKind::Changed, reason },
            });
        }
        let outputs = hashes(&args.dir, &step.outputs)?;
        for f in inputs.iter().chain(&outputs) {
            if let Some(sha) = &f.sha256 {
                outln!("    {}: sha256 {sha}", f.path);
            }
        }
        if let Some(e) = &exception {
            outln!("    EXCEPTION ({}): {}", e.kind.name(), e.reason);
        }
        steps.push(StepRecord {
            id: step.id.clone(),
            started: Timestamp::from_unix(started),
            finished: Timestamp::from_unix(now_unix()),
            inputs,
            outputs,
            witnessed: !args.rehearsal,
            exception,
        });
    }

    let operator_transcript = match &args.operator_transcript {
        Some(path) => {
            Some(FileHash { path: path.display().to_string(), sha256: Some(sha256_hex(&files::read(path)?)) })
        }
        None => None,
    };
    let sd = security_domain::load(&args.sd)?;
    let sd_after = args.sd_after.as_deref().map(security_domain::load).transpose()?;
    let record = CeremonyRecord::new(RecordInput {
        sequence,
        previous,
        plan_sha256: sha256_hex(&plan_bytes),
        plan,
        sd_sha256: sd.sd.sha256().to_owned(),
        sd_after_sha256: sd_after.map(|s| s.sd.sha256().to_owned()),
        steps,
        bags: events,
        rehearsal: args.rehearsal,
        operator_transcript,
    })
    .map_err(|e| refused(&args.plan, e))?;
    let signed = record.sign(&Signer { key: &key.key, cert: &cert }).map_err(|e| refused(key.name(), e))?;
    files::write_atomic(&args.output.out, signed.as_bytes(), PUBLIC_MODE, args.output.force)?;
    let (_, id, _) = CeremonyRecord::read(signed.as_bytes()).map_err(|e| refused(&args.output.out, e))?;
    let exceptions = record.exceptions().count();
    outln!("");
    outln!(
        "wrote the record of ceremony {} of {} to {} ({exceptions} exception(s)), signed by {}",
        record.sequence,
        record.plan.hsm,
        args.output.out.display(),
        record.plan.roles.administrator.name
    );
    outln!("record id (read aloud): {}", super::html::grouped(&id));
    outln!(
        "each custodian co-signs it: keyholder ceremony sign {} --sd SD.json --key KEY --in-place",
        args.output.out.display()
    );
    Ok(())
}
