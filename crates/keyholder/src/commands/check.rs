//! `keyholder check`: does this custodian's share still open?

use ceremony_cli::outln;

use std::path::Path;

use serde_json::json;

use crate::security_domain;
use ceremony_cli::error::CliResult;
use ceremony_cli::key_file::CustodianKey;

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
            "sd_sha256": sd.sha256,
            "share": share.index + 1,
            "shares": total,
            "required": required,
            "x": share.share.x(),
            "x5t_s256": share.x5t_256,
            "certificate_checked": key.cert.is_some(),
        });
        outln!("{v:#}");
    } else {
        outln!("share {} of {total} opens (quorum {required})", share.index + 1);
        outln!("  SD file:   {} (sha256 {})", sd_path.display(), sd.sha256);
        outln!("  x5t#S256:  {}", share.x5t_256);
        if key.cert.is_none() {
            outln!("  note: no certificate beside the key; the share was found by trying every entry");
        }
    }
    Ok(())
}
