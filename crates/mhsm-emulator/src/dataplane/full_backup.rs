//! What a full backup puts in its storage folder, and how a restore reads it
//! back. The format is the emulator's own (a real HSM's is internal), with
//! the property that matters kept: every file is sealed under the security
//! domain's backup protection key ([`domain::seal`]), so only an HSM holding
//! the same security domain can read, or restore, any of it.
//!
//! A folder `mhsm-NAME-YYYYMMDDHHMMSS` holds `keys/NAME` (every version of a
//! key), `role-assignments`, and `backup.json`, the manifest, written last:
//! it names every key file with its SHA-256, so a folder whose manifest is
//! missing (a backup that never finished) or whose files were removed,
//! swapped or altered does not restore.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use sd_core::Error;
use sd_core::primitives::secret::SecretBytes;

use super::domain;
use super::key_material::StoredKey;
use super::roles::Assignment;

/// The manifest's name in the folder.
pub const MANIFEST: &str = "backup.json";
/// The role assignments' name in the folder.
pub const ASSIGNMENTS: &str = "role-assignments";
const FORMAT: &str = "mhsm-emulator-full-backup/1";

/// The folder a backup of HSM `hsm` taken at `unix` (seconds) goes to, as
/// Azure names it: `mhsm-NAME-YYYYMMDDHHMMSS`.
pub fn folder_name(hsm: &str, unix: u64) -> String {
    let digits: String = sd_core::time::rfc3339(unix).chars().filter(char::is_ascii_digit).collect();
    format!("mhsm-{hsm}-{digits}")
}

/// The path of key `name`'s file in a folder.
pub fn key_file(name: &str) -> String {
    format!("keys/{name}")
}

/// The manifest: which HSM, when, and the SHA-256 of every other file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    format: String,
    /// The HSM backed up.
    pub hsm: String,
    /// When (Unix seconds).
    pub created: u64,
    /// Key name → SHA-256 (hex) of its file.
    pub keys: BTreeMap<String, String>,
    /// SHA-256 (hex) of the role assignments' file.
    pub role_assignments: String,
}

/// The files of one backup, sealed: write `files` first, `manifest` last.
pub struct SealedBackup {
    /// (path in the folder, contents).
    pub files: Vec<(String, String)>,
    /// The manifest's contents.
    pub manifest: String,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Seals the HSM's keys and role assignments for a backup.
pub fn seal(
    hsm: &str,
    created: u64,
    keys: &BTreeMap<String, Vec<StoredKey>>,
    assignments: &[Assignment],
    bpk: &SecretBytes,
) -> Result<SealedBackup, Error> {
    let mut files = Vec::with_capacity(keys.len() + 1);
    let mut digests = BTreeMap::new();
    for (name, versions) in keys {
        let sealed = domain::backup(versions, bpk)?;
        digests.insert(name.clone(), sha256_hex(&sealed));
        files.push((key_file(name), sealed));
    }
    let sealed_assignments = domain::seal("role assignments", assignments, bpk)?;
    let manifest = Manifest {
        format: FORMAT.into(),
        hsm: hsm.into(),
        created,
        keys: digests,
        role_assignments: sha256_hex(&sealed_assignments),
    };
    files.push((ASSIGNMENTS.into(), sealed_assignments));
    Ok(SealedBackup { files, manifest: domain::seal("backup manifest", &manifest, bpk)? })
}

/// Why a folder does not restore here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The manifest does not open under this HSM's security domain.
    OtherSecurityDomain,
    /// The manifest is not one the emulator wrote.
    NotABackup(String),
    /// A file is not the one the manifest names.
    Altered(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::OtherSecurityDomain => f.write_str(
                "the backup was made under another security domain; it restores only into an HSM holding the same one",
            ),
            OpenError::NotABackup(why) => write!(f, "the folder holds no backup this HSM can read: {why}"),
            OpenError::Altered(file) => {
                write!(f, "{file} is not the file the backup's manifest names (altered, swapped or removed)")
            }
        }
    }
}

/// Opens a folder's manifest.
pub fn open_manifest(text: &str, bpk: &SecretBytes) -> Result<Manifest, OpenError> {
    let manifest: Manifest = domain::open("backup manifest", text, bpk).map_err(|e| match e {
        Error::JweIntegrity => OpenError::OtherSecurityDomain,
        other => OpenError::NotABackup(other.to_string()),
    })?;
    if manifest.format != FORMAT {
        return Err(OpenError::NotABackup(format!("format {:?}", manifest.format)));
    }
    Ok(manifest)
}

/// Opens key `name`'s file, which must be the one the manifest names.
pub fn open_key(
    manifest: &Manifest,
    name: &str,
    text: &str,
    bpk: &SecretBytes,
) -> Result<Vec<StoredKey>, OpenError> {
    let path = key_file(name);
    if manifest.keys.get(name) != Some(&sha256_hex(text)) {
        return Err(OpenError::Altered(path));
    }
    let versions = domain::restore(text, bpk).map_err(|_| OpenError::Altered(path.clone()))?;
    if versions.iter().any(|v| v.name != name) {
        return Err(OpenError::Altered(path));
    }
    Ok(versions)
}

/// Opens the role assignments' file, which must be the one the manifest names.
pub fn open_assignments(
    manifest: &Manifest,
    text: &str,
    bpk: &SecretBytes,
) -> Result<Vec<Assignment>, OpenError> {
    if manifest.role_assignments != sha256_hex(text) {
        return Err(OpenError::Altered(ASSIGNMENTS.into()));
    }
    domain::open("role assignments", text, bpk).map_err(|_| OpenError::Altered(ASSIGNMENTS.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::domain::{backup_protection_key, generate, to_stored};
    use crate::dataplane::key_material::Material;
    use sd_core::primitives::b64;

    fn key(name: &str, version: char) -> StoredKey {
        StoredKey {
            name: name.into(),
            version: version.to_string().repeat(32),
            kty: "oct-HSM".into(),
            material: Material::Oct { k: b64::url_encode(&[7u8; 32]) },
            key_ops: vec!["encrypt".into()],
            enabled: true,
            created: 1,
            updated: 1,
        }
    }

    #[test]
    fn a_backup_opens_whole_under_its_domain_only() {
        let bpk = backup_protection_key(&to_stored(&generate("a", 0).unwrap())).unwrap();
        let other = backup_protection_key(&to_stored(&generate("b", 0).unwrap())).unwrap();
        let mut keys = BTreeMap::new();
        keys.insert("k1".to_owned(), vec![key("k1", 'a'), key("k1", 'b')]);
        keys.insert("k2".to_owned(), vec![key("k2", 'c')]);
        let sealed = seal("hsm", 1_765_000_000, &keys, &[], &bpk).unwrap();
        assert_eq!(sealed.files.len(), 3);
        let manifest = open_manifest(&sealed.manifest, &bpk).unwrap();
        assert_eq!(manifest.keys.len(), 2);
        let (_, k1) = &sealed.files[0];
        assert_eq!(open_key(&manifest, "k1", k1, &bpk).unwrap(), keys["k1"]);
        // k1's file offered as k2's, and the other domain's view of it all.
        assert_eq!(open_key(&manifest, "k2", k1, &bpk), Err(OpenError::Altered("keys/k2".into())));
        assert_eq!(open_manifest(&sealed.manifest, &other), Err(OpenError::OtherSecurityDomain));
        let (_, assignments) = &sealed.files[2];
        assert_eq!(open_assignments(&manifest, assignments, &bpk).unwrap(), Vec::new());
        assert!(open_assignments(&manifest, k1, &bpk).is_err());
        assert_eq!(folder_name("hsm", 1_765_000_000), "mhsm-hsm-20251206054640");
    }
}
