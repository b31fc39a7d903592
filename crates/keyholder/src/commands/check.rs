//! `keyholder check`: does this custodian's share still open?

use ceremony_cli::outln;

use serde_json::json;

use crate::security_domain;
use ceremony_cli::args::{KeyArg, SdFileArg};
use ceremony_cli::error::CliResult;
use ceremony_cli::unlocked_key::UnlockedKey;

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
}

pub fn run(args: Args) -> CliResult {
    let (sd_path, as_json) = (args.sd.sd.as_path(), args.json);
    let sd = security_domain::load(sd_path)?;
    let key = UnlockedKey::load(&args.key.key, args.key.passphrase_file.as_deref())?;
    let share = sd.open_share(&key)?;
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
