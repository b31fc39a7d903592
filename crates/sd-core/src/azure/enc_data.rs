//! `EncData`: the HSM's domain secrets, each a `dir` JWE under a key derived
//! from the master key and the entry's tag. Shared by the SD file and the
//! restore blob.

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::primitives::jwe::{Alg, CompactJwe, Enc};
use crate::primitives::kdf;
use crate::primitives::secret::{MasterKey, SecretBytes};

/// The only KDF Azure uses.
pub const KDF_NAME: &str = "sp108_kdf";

/// One `EncData.data` entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncDataEntry {
    /// The `dir` compact JWE, stored raw.
    pub compact_jwe: String,
    /// The entry's tag: KDF label and JWE `kid`.
    pub tag: String,
    /// Members we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `EncData` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncData {
    /// Entries in the HSM's order; order is preserved on re-encryption.
    pub data: Vec<EncDataEntry>,
    /// Always `sp108_kdf`.
    pub kdf: String,
    /// Members we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A decrypted domain secret. Never interpreted, never logged.
#[derive(Debug, Clone)]
pub struct DomainSecret {
    /// The EncData tag, e.g. `hsm_backup`.
    pub tag: String,
    /// The plaintext.
    pub data: SecretBytes,
}

impl EncData {
    /// Checks structure: KDF name, non-empty unique tags, every JWE is `dir` +
    /// A256CBC-HS512 with a 32-byte tag. `what` names the container in errors.
    pub(crate) fn validate(&self, what: fn(String) -> Error) -> Result<(), Error> {
        if self.kdf != KDF_NAME {
            return Err(what(format!("EncData.kdf is {:?}, expected \"{KDF_NAME}\"", self.kdf)));
        }
        if self.data.is_empty() {
            return Err(what("EncData.data is empty".into()));
        }
        for (i, entry) in self.data.iter().enumerate() {
            if entry.tag.is_empty() {
                return Err(what(format!("EncData entry {i} has an empty tag")));
            }
            if self.data[..i].iter().any(|e| e.tag == entry.tag) {
                return Err(what(format!("EncData tag {:?} appears twice", entry.tag)));
            }
            CompactJwe::parse(&entry.compact_jwe)
                .and_then(|j| j.require_algorithms(Alg::Dir, Enc::A256CbcHs512))
                .map_err(|e| what(format!("EncData entry {:?}: {e}", entry.tag)))?;
        }
        Ok(())
    }

    /// Decrypts and authenticates every entry with keys derived from `master`.
    pub fn decrypt(&self, master: &MasterKey) -> Result<Vec<DomainSecret>, Error> {
        self.data
            .iter()
            .map(|entry| {
                let cek = kdf::enc_data_key(master, &entry.tag)?;
                let data = CompactJwe::parse(&entry.compact_jwe).and_then(|j| j.decrypt_dir(&cek))?;
                Ok(DomainSecret { tag: entry.tag.clone(), data })
            })
            .collect()
    }

    /// Encrypts `secrets` in order under keys derived from `master`, as the HSM
    /// and Azure's clients do (header kid = tag, fresh IV each).
    pub fn encrypt<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        master: &MasterKey,
        secrets: &[DomainSecret],
    ) -> Result<Self, Error> {
        let data = secrets
            .iter()
            .map(|s| {
                let cek = kdf::enc_data_key(master, &s.tag)?;
                let jwe = CompactJwe::encrypt_dir(rng, Enc::A256CbcHs512, &cek, &s.tag, s.data.expose())?;
                Ok(EncDataEntry { compact_jwe: jwe.serialize(), tag: s.tag.clone(), extra: Map::new() })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(EncData { data, kdf: KDF_NAME.into(), extra: Map::new() })
    }
}
