//! The emulator's own domain secrets and what it does with them.
//!
//! A real HSM's EncData plaintexts are internal (an opaque blob and two BSON
//! documents). The emulator uses the same three tags with contents of its
//! own: `partition_enclave_backup` holds the backup protection key as JSON
//! (`{"backup_protection_key":{"k":…}}`), and key backups are `dir` JWEs
//! under that key with `kid` `backup-protection-key`, like a real HSM's. So a
//! key backup (and a full backup) restores only into an HSM holding the same
//! security domain.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use sd_core::azure::enc_data::DomainSecret;
use sd_core::primitives::jwe::{Alg, CompactJwe, Enc};
use sd_core::primitives::secret::SecretBytes;
use sd_core::{Error, primitives::b64};

use super::key_material::StoredKey;
use super::state::StoredSecret;

/// The tags a real HSM uses, in its order.
pub const TAGS: [&str; 3] = ["hsm_backup", "base_enclave_backup", "partition_enclave_backup"];
/// JWE `kid` of key backups.
pub const BACKUP_KID: &str = "backup-protection-key";

fn rng() -> getrandom::SysRng {
    getrandom::SysRng
}

fn random(n: usize) -> Result<Vec<u8>, Error> {
    let mut v = vec![0u8; n];
    getrandom::fill(&mut v).map_err(|_| Error::Rng)?;
    Ok(v)
}

/// Fresh domain secrets for a new security domain.
pub fn generate(hsm: &str, now: u64) -> Result<Vec<DomainSecret>, Error> {
    let bpk = random(64)?;
    let partition = json!({"backup_protection_key": {"k": b64::url_encode(&bpk)}}).to_string();
    let base = json!({"hsm_context": {"emulator": "mhsm-emulator", "hsm": hsm, "created": now}}).to_string();
    Ok(vec![
        DomainSecret { tag: TAGS[0].into(), data: SecretBytes::new(random(8180)?) },
        DomainSecret { tag: TAGS[1].into(), data: SecretBytes::new(base.into_bytes()) },
        DomainSecret { tag: TAGS[2].into(), data: SecretBytes::new(partition.into_bytes()) },
    ])
}

/// Secrets as stored in the state file.
pub fn to_stored(secrets: &[DomainSecret]) -> Vec<StoredSecret> {
    secrets
        .iter()
        .map(|s| StoredSecret { tag: s.tag.clone(), data: b64::url_encode(s.data.expose()) })
        .collect()
}

/// The backup protection key in a domain, if the domain is one the emulator made.
pub fn backup_protection_key(domain: &[StoredSecret]) -> Option<SecretBytes> {
    #[derive(Deserialize)]
    struct Partition {
        backup_protection_key: Bpk,
    }
    #[derive(Deserialize)]
    struct Bpk {
        k: String,
    }
    let entry = domain.iter().find(|s| s.tag == TAGS[2])?;
    let raw = zeroize::Zeroizing::new(b64::url_decode(&entry.data, "partition_enclave_backup").ok()?);
    let p: Partition = serde_json::from_slice(&raw).ok()?;
    let k = b64::url_decode(&p.backup_protection_key.k, "backup_protection_key").ok()?;
    (k.len() == 64).then(|| SecretBytes::new(k))
}

/// Seals `value` as base64url of a `dir` JWE under the backup protection
/// key: how key backups (every version of a key, as Key Vault's backups
/// hold) and every file of a full backup are protected.
pub fn seal<T: Serialize + ?Sized>(
    what: &'static str,
    value: &T,
    bpk: &SecretBytes,
) -> Result<String, Error> {
    let payload = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|e| Error::Serialize { what, detail: e.to_string() })?,
    );
    let jwe = CompactJwe::encrypt_dir(&mut rng(), Enc::A256CbcHs512, bpk, BACKUP_KID, &payload)?;
    Ok(b64::url_encode(jwe.serialize().as_bytes()))
}

/// Opens what [`seal`] made; fails unless it was sealed under the same
/// backup protection key, i.e. the same security domain.
pub fn open<T: DeserializeOwned>(what: &'static str, value: &str, bpk: &SecretBytes) -> Result<T, Error> {
    let text = String::from_utf8(b64::url_decode(value.trim(), what)?)
        .map_err(|_| Error::Json { what, detail: "it is not a JWE".into() })?;
    let jwe = CompactJwe::parse(&text)?;
    jwe.require_algorithms(Alg::Dir, Enc::A256CbcHs512)?;
    let plain = jwe.decrypt_dir(bpk)?;
    serde_json::from_slice(plain.expose()).map_err(|e| Error::Json { what, detail: e.to_string() })
}

/// A key backup: every version of the key, sealed.
pub fn backup(versions: &[StoredKey], bpk: &SecretBytes) -> Result<String, Error> {
    seal("key backup", versions, bpk)
}

/// Opens a key backup; fails unless it was made under the same backup protection key.
pub fn restore(value: &str, bpk: &SecretBytes) -> Result<Vec<StoredKey>, Error> {
    let versions: Vec<StoredKey> = open("key backup", value, bpk)?;
    if versions.is_empty() {
        return Err(Error::Json { what: "key backup", detail: "no key version".into() });
    }
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_restores_only_under_the_same_domain() {
        let d1 = to_stored(&generate("a", 0).unwrap());
        let d2 = to_stored(&generate("b", 0).unwrap());
        let bpk1 = backup_protection_key(&d1).unwrap();
        let bpk2 = backup_protection_key(&d2).unwrap();
        let key = StoredKey {
            name: "k".into(),
            version: "0".repeat(32),
            kty: "oct-HSM".into(),
            material: crate::dataplane::key_material::Material::Oct { k: b64::url_encode(&[9u8; 32]) },
            key_ops: vec!["encrypt".into()],
            enabled: true,
            created: 1,
            updated: 1,
        };
        let blob = backup(std::slice::from_ref(&key), &bpk1).unwrap();
        assert_eq!(restore(&blob, &bpk1).unwrap(), vec![key]);
        assert_eq!(restore(&blob, &bpk2).unwrap_err(), Error::JweIntegrity);
        assert!(backup_protection_key(&[]).is_none());
    }
}
