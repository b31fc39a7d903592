//! `keyholder check`: does this custodian's share still open?

use ceremony_cli::outln;

use std::path::Path;

use serde_json::json;

use crate::security_domain;
use ceremony_cli::error::CliResult;
use ceremony_cli::key_file::CustodianKey;

/// What opening one share proves; said in both output forms.
const VERIFIED_OPENS: &str = "this key opens its own share of the file";
const VERIFIED_WELL_FORMED: &str = "the share is well-formed (32 bytes, x-coordinate matching its position)";
/// What it cannot prove, since no master key is rebuilt.
const NOT_VERIFIED: &str = "that the shares belong together and rebuild a key that opens the file's EncData";

pub fn run(sd_path: &Path, key_path: &Path, passphrase_file: Option<&Path>, as_json: bool) -> CliResult {
    let sd = security_domain::load(sd_path)?;
    let key = CustodianKey::load(key_path, passphrase_file)?;
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
