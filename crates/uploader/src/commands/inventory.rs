//! `uploader key inventory` and `uploader key diff`: what keys an HSM holds,
//! written down before a disaster and compared after the restore, so that
//! "every key came back" is a checked statement, not a feeling.
//!
//! An inventory lists every key and every version: its type, operations,
//! attributes, and the RFC 7638 thumbprint of its public key (RSA and EC; a
//! symmetric key shows no public part, so its version and attributes are
//! what is compared, and a decryption with it is the drill's proof).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::outln;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use sd_core::primitives::b64;

use crate::http::HsmClient;

const FORMAT: &str = "hsm-ceremony key inventory 1";

/// One key version as the inventory records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    /// `RSA-HSM`, `EC-HSM`, `oct-HSM`...
    pub kty: String,
    /// Permitted operations, sorted.
    pub key_ops: Vec<String>,
    /// RFC 7638 thumbprint of the public key (base64url SHA-256); none for symmetric keys.
    pub thumbprint: Option<String>,
    /// The attributes as the HSM reports them (enabled, created, updated, exp, nbf, recoveryLevel...).
    pub attributes: BTreeMap<String, Value>,
}

/// Every key and version an HSM holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    format: String,
    /// The HSM's URL.
    pub hsm: String,
    /// When it was taken (RFC 3339).
    pub taken: String,
    /// Key name → version → entry.
    pub keys: BTreeMap<String, BTreeMap<String, VersionEntry>>,
}

#[derive(clap::Args)]
pub struct InventoryArgs {
    /// Where to write the inventory (JSON).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The inventory taken before (e.g. of the production HSM).
    #[arg(value_name = "BEFORE.json")]
    before: PathBuf,
    /// The inventory taken after (e.g. of the recovered HSM, after the restore).
    #[arg(value_name = "AFTER.json")]
    after: PathBuf,
}

/// The RFC 7638 thumbprint of a public JWK (RSA or EC), or none.
fn thumbprint(jwk: &Value) -> Option<String> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    let kty = s("kty")?;
    // Members in lexicographic order, no whitespace (RFC 7638 §3).
    let canonical = if kty.starts_with("RSA") {
        json!({"e": s("e")?, "kty": "RSA", "n": s("n")?}).to_string()
    } else if kty.starts_with("EC") {
        json!({"crv": s("crv")?, "kty": "EC", "x": s("x")?, "y": s("y")?}).to_string()
    } else {
        return None;
    };
    Some(b64::url_encode(&Sha256::digest(canonical.as_bytes())))
}

/// Every item of a listing, following `nextLink`.
fn list_all(client: &HsmClient, path: &str, what: &str) -> CliResult<Vec<Value>> {
    let mut items = Vec::new();
    let mut resp = client.get(path)?;
    loop {
        if resp.status != 200 {
            return Err(resp.error(&format!("listing {what}")));
        }
        let page = resp.json(what)?;
        items.extend(page.get("value").and_then(Value::as_array).cloned().unwrap_or_default());
        match page.get("nextLink").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => resp = client.get_link(next)?,
            _ => return Ok(items),
        }
    }
}

/// The last segment of an item's `kid`: the NAME of `…/keys/NAME`, the
/// VERSION of `…/keys/NAME/VERSION`.
fn last_segment(item: &Value) -> Option<String> {
    let kid = item.get("kid").and_then(Value::as_str)?;
    kid.trim_end_matches('/').rsplit('/').next().map(str::to_owned)
}

fn take(client: &HsmClient) -> CliResult<Inventory> {
    let mut keys = BTreeMap::new();
    for item in list_all(client, "/keys", "keys")? {
        let name = last_segment(&item)
            .ok_or_else(|| CliError::general("the HSM listed a key without a kid").hint("report it"))?;
        let mut versions = BTreeMap::new();
        for v in list_all(client, &format!("/keys/{name}/versions"), "key versions")? {
            let version = last_segment(&v).ok_or_else(|| {
                CliError::general("the HSM listed a version without a kid").hint("report it")
            })?;
            let resp = client.get(&format!("/keys/{name}/{version}"))?;
            if resp.status != 200 {
                return Err(resp.error(&format!("reading key {name} version {version}")));
            }
            let bundle = resp.json("key")?;
            let jwk = bundle.get("key").cloned().unwrap_or_default();
            let mut key_ops: Vec<String> = jwk
                .get("key_ops")
                .and_then(Value::as_array)
                .map(|ops| ops.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            key_ops.sort();
            let attributes = bundle
                .get("attributes")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            let entry = VersionEntry {
                kty: jwk.get("kty").and_then(Value::as_str).unwrap_or_default().to_owned(),
                key_ops,
                thumbprint: thumbprint(&jwk),
                attributes,
            };
            versions.insert(version, entry);
        }
        keys.insert(name, versions);
    }
    Ok(Inventory {
        format: FORMAT.into(),
        hsm: client.base().to_owned(),
        taken: sd_core::time::rfc3339(ceremony_cli::now_unix()),
        keys,
    })
}

/// `uploader key inventory --out FILE`.
pub fn inventory(client: &HsmClient, args: InventoryArgs) -> CliResult {
    files::check_writable(&args.out, false)?;
    let inv = take(client)?;
    let text = serde_json::to_string_pretty(&inv).map_err(|e| {
        CliError::general(format!("writing the inventory as JSON: {e}")).hint("this is a bug: report it")
    })?;
    files::write_atomic(&args.out, format!("{text}\n").as_bytes(), PUBLIC_MODE, false)?;
    let versions: usize = inv.keys.values().map(BTreeMap::len).sum();
    outln!(
        "{}, {} in {} -> {}",
        count(inv.keys.len(), "key"),
        count(versions, "version"),
        inv.hsm,
        args.out.display()
    );
    Ok(())
}

fn read(path: &Path) -> CliResult<Inventory> {
    let v: Value = serde_json::from_slice(&files::read(path)?).in_file(path)?;
    let not_inventory = |why: String| {
        CliError::file(path, format!("is not a key inventory ({why})"))
            .hint("give files written by `uploader key inventory`")
    };
    match v.get("format").and_then(Value::as_str) {
        Some(FORMAT) => serde_json::from_value(v).map_err(|e| not_inventory(e.to_string())),
        Some(other) => Err(not_inventory(format!("its format is {other:?}"))),
        None => Err(not_inventory("it names no format".into())),
    }
}

/// The HSM's soft-delete settings, which every key reports among its
/// attributes: a recovered HSM may be given another retention, and its keys
/// are no different for it.
const HSM_SETTINGS: [&str; 2] = ["recoverableDays", "recoveryLevel"];

fn key_attributes(a: &BTreeMap<String, Value>) -> BTreeMap<&String, &Value> {
    a.iter().filter(|(k, _)| !HSM_SETTINGS.contains(&k.as_str())).collect()
}

/// "1 key", "3 versions".
fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

fn versions(n: usize) -> String {
    count(n, "version")
}

/// What differs between two inventories, one line per key or version.
/// Two entries whose only difference is the HSM's soft-delete settings are the same.
pub fn differences(before: &Inventory, after: &Inventory) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, versions_of) in &before.keys {
        let Some(now) = after.keys.get(name) else {
            lines.push(format!("missing key {name} ({})", versions(versions_of.len())));
            continue;
        };
        for (version, entry) in versions_of {
            match now.get(version) {
                None => lines.push(format!("missing version {name}/{version}")),
                Some(e) => {
                    let mut what = Vec::new();
                    if e.kty != entry.kty {
                        what.push("kty");
                    }
                    if e.key_ops != entry.key_ops {
                        what.push("key_ops");
                    }
                    if e.thumbprint != entry.thumbprint {
                        what.push("public key");
                    }
                    if key_attributes(&e.attributes) != key_attributes(&entry.attributes) {
                        what.push("attributes");
                    }
                    if !what.is_empty() {
                        lines.push(format!("changed {name}/{version}: {}", what.join(", ")));
                    }
                }
            }
        }
        for version in now.keys().filter(|v| !versions_of.contains_key(*v)) {
            lines.push(format!("extra version {name}/{version}"));
        }
    }
    for (name, extra) in after.keys.iter().filter(|(n, _)| !before.keys.contains_key(*n)) {
        lines.push(format!("extra key {name} ({})", versions(extra.len())));
    }
    lines
}

/// `uploader key diff BEFORE AFTER`: exit 0 when every key and version is
/// there, unchanged; else each difference, and exit 1.
pub fn diff(args: DiffArgs) -> CliResult {
    let (before, after) = (read(&args.before)?, read(&args.after)?);
    let lines = differences(&before, &after);
    let all: usize = before.keys.values().map(BTreeMap::len).sum();
    if lines.is_empty() {
        outln!(
            "same: all {} and {} of {} are in {}",
            count(before.keys.len(), "key"),
            versions(all),
            args.before.display(),
            args.after.display()
        );
        return Ok(());
    }
    for line in &lines {
        outln!("{line}");
    }
    let places = if lines.len() == 1 { "1 place".to_owned() } else { format!("{} places", lines.len()) };
    Err(CliError::general(format!("the inventories differ in {places}")).hint(
        "restore what is missing (`uploader restore --folder F`, or --key NAME for one key), then take the inventory again",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(thumb: &str) -> VersionEntry {
        VersionEntry {
            kty: "RSA-HSM".into(),
            key_ops: vec!["sign".into()],
            thumbprint: Some(thumb.into()),
            attributes: BTreeMap::from([("enabled".to_owned(), json!(true))]),
        }
    }

    fn inv(keys: &[(&str, &[(&str, &str)])]) -> Inventory {
        Inventory {
            format: FORMAT.into(),
            hsm: "h".into(),
            taken: "t".into(),
            keys: keys
                .iter()
                .map(|(n, vs)| (n.to_string(), vs.iter().map(|(v, t)| (v.to_string(), entry(t))).collect()))
                .collect(),
        }
    }

    #[test]
    fn every_difference_is_named() {
        let before = inv(&[("a", &[("1", "x"), ("2", "y")]), ("b", &[("1", "z")])]);
        assert!(differences(&before, &before).is_empty());
        let after = inv(&[("a", &[("1", "x"), ("3", "y")]), ("c", &[("1", "w")])]);
        assert_eq!(
            differences(&before, &after),
            vec![
                "missing version a/2".to_owned(),
                "extra version a/3".into(),
                "missing key b (1 version)".into(),
                "extra key c (1 version)".into(),
            ]
        );
        let changed = inv(&[("a", &[("1", "x"), ("2", "other")]), ("b", &[("1", "z")])]);
        assert_eq!(differences(&before, &changed), vec!["changed a/2: public key".to_owned()]);
        // Another retention on the recovered HSM is no change to its keys; a disabled key is.
        let mut retained = before.clone();
        fn attributes(i: &mut Inventory) -> &mut BTreeMap<String, Value> {
            &mut i.keys.get_mut("b").unwrap().get_mut("1").unwrap().attributes
        }
        attributes(&mut retained).insert("recoverableDays".into(), json!(90));
        assert!(differences(&before, &retained).is_empty());
        attributes(&mut retained).insert("enabled".into(), json!(false));
        assert_eq!(differences(&before, &retained), vec!["changed b/1: attributes".to_owned()]);
    }

    #[test]
    fn thumbprints_follow_rfc_7638() {
        // RFC 7638 §3.1's example key and thumbprint.
        let jwk = json!({"kty": "RSA", "e": "AQAB", "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(thumbprint(&jwk).as_deref(), Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
        assert_eq!(thumbprint(&json!({"kty": "oct-HSM"})), None);
    }
}
