//! `keyholder check`: does this custodian's share still open?

use ceremony_cli::outln;

use serde_json::json;

use crate::security_domain;
use ceremony_cli::args::{KeyArg, SdFileArg};
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files;
use ceremony_cli::unlocked_key::UnlockedKey;
use sd_core::azure::sd_file::OpenedShare;
use sd_core::handoff::drill_report::DrillReport;
use sd_core::handoff::share_commitment::{self, Verdict};
use std::path::{Path, PathBuf};

/// What opening one share proves; said in both output forms.
const VERIFIED_OPENS: &str = "this key opens its own share of the file";
const VERIFIED_WELL_FORMED: &str = "the share is well-formed (32 bytes, x-coordinate matching its position)";
/// What it cannot prove, since no master key is rebuilt.
const NOT_VERIFIED: &str = "that the shares belong together and rebuild a key that opens the file's EncData";

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    sd: SdFileArg,
    #[command(flatten)]
    key: KeyArg,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// A signed drill report with share commitments: compare this share with
    /// the one the quorum rebuilt then (exit 1 when it differs).
    #[arg(long, value_name = "REPORT.json")]
    commitments: Option<PathBuf>,
}

pub fn run(args: Args) -> CliResult {
    let (sd_path, as_json) = (args.sd.sd.as_path(), args.json);
    let sd = security_domain::load(sd_path)?;
    let key = UnlockedKey::load(&args.key.key, args.key.passphrase_file.as_deref())?;
    let share = sd.open_share(&key)?;
    if let Some(report) = &args.commitments {
        return against_commitments(report, &sd, &share, &key, as_json);
    }
    let total = sd.sd.shares().len();
    let required = sd.sd.required();
    if as_json {
        let v = json!({
            "result": "opens",
            "sd": sd_path.display().to_string(),
            "sd_sha256": sd.sd.sha256(),
            "share": share.index + 1,
            "shares": total,
            "required": required,
            "x": share.share.x(),
            "x5t_s256": share.x5t_256,
            "certificate_checked": key.cert.is_some(),
            "verified": [VERIFIED_OPENS, VERIFIED_WELL_FORMED],
            "not_verified": [NOT_VERIFIED],
        });
        outln!("{v:#}");
    } else {
        outln!("share {} of {total} opens (quorum {required})", share.index + 1);
        outln!("  SD file:   {} (sha256 {})", sd_path.display(), sd.sd.sha256());
        outln!("  x5t#S256:  {}", share.x5t_256);
        if key.cert.is_none() {
            outln!("  note: no certificate beside the key; the share was found by trying every entry");
        }
        outln!("verified:     {VERIFIED_OPENS}");
        outln!("              {VERIFIED_WELL_FORMED}");
        outln!("not verified: {NOT_VERIFIED}");
        outln!("              only a quorum can prove that: `keyholder drill` with {required} custodians");
    }
    Ok(())
}

/// `check --commitments REPORT`: this share against the commitment a quorum
/// signed for it; exit 0 only when it is exactly that share.
fn against_commitments(
    path: &Path,
    sd: &security_domain::LoadedSd,
    share: &OpenedShare,
    key: &UnlockedKey,
    as_json: bool,
) -> CliResult {
    let verified =
        DrillReport::verify_by_custodians(&files::read(path)?, &sd.sd).in_file(path).map_err(|e| {
            e.hint(
                "give the drill report signed by a quorum of this SD file's custodians (`keyholder drill`)",
            )
        })?;
    let report = verified.report();
    if report.commitments.is_empty() {
        return Err(CliError::file(
            path,
            "holds no share commitments (made before they existed, or from a version-1 file)",
        )
        .hint("run a new drill (`keyholder drill`) with every custodian's certificate"));
    }
    let same_file = report.sd_sha256 == sd.sd.sha256();
    let verdict = share_commitment::compare(&report.commitments, &report.sd_sha256, share, &key.key).in_file(path).map_err(|e| {
        e.hint("the drill was given another certificate for you, or none: ask for a drill that includes yours")
    })?;
    let when = report.finished.utc();
    let signers: Vec<String> = verified.signers().iter().map(|c| c.subject()).collect();
    let n = share.index + 1;
    if as_json {
        let v = json!({
            "result": if verdict == Verdict::Exact { "exact" } else { "differs" },
            "share": n,
            "sd_sha256": sd.sd.sha256(),
            "report": path.display().to_string(),
            "rebuilt": when,
            "signed_by": signers,
        });
        outln!("{v:#}");
    }
    match verdict {
        Verdict::Exact => {
            if !as_json {
                outln!("share {n}: exactly right: it is exactly the share the quorum rebuilt on {when}");
                outln!("  report:    {} (signed by {})", path.display(), signers.join(", "));
                outln!("  SD file:   {} (sha256 {})", sd.path.display(), sd.sd.sha256());
                if !same_file {
                    outln!(
                        "  note: the drill used another copy of the file (sha256 {}); your share in this one is the same",
                        report.sd_sha256
                    );
                }
            }
            Ok(())
        }
        Verdict::Differs => Err(CliError::file(
            &sd.path,
            format!(
                "share {n} is NOT the share the quorum rebuilt on {when} ({}){}",
                path.display(),
                if same_file {
                    ""
                } else {
                    ": this copy of the SD file is not the one drilled (its entry for your share was altered, or it is another file)"
                }
            ),
        )
        .hint("do not rely on this copy: compare its sha256 with the one recorded at the activation, and take another custodian's copy")),
    }
}
