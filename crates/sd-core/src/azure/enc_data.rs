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
    pub(crate) fn validate(&self) -> Result<(), EncDataError> {
        if self.kdf != KDF_NAME {
            return Err(EncDataError::Kdf(self.kdf.clone()));
        }
        if self.data.is_empty() {
            return Err(EncDataError::Empty);
        }
        for (i, entry) in self.data.iter().enumerate() {
            if entry.tag.is_empty() {
                return Err(EncDataError::EmptyTag(i));
            }
            if self.data[..i].iter().any(|e| e.tag == entry.tag) {
                return Err(EncDataError::TagTwice(entry.tag.clone()));
            }
            CompactJwe::parse(&entry.compact_jwe)
                .and_then(|j| j.require_algorithms(Alg::Dir, Enc::A256CbcHs512))
                .map_err(|e| EncDataError::Entry { tag: entry.tag.clone(), problem: Box::new(e) })?;
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

/// What is wrong with an EncData container's structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncDataError {
    /// Another KDF than Azure's.
    Kdf(String),
    /// No entries.
    Empty,
    /// Entry `i` has an empty tag.
    EmptyTag(usize),
    /// A tag twice.
    TagTwice(String),
    /// The entry of this tag is not a `dir` A256CBC-HS512 JWE.
    Entry {
        /// Its tag.
        tag: String,
        /// What is wrong.
        problem: Box<Error>,
    },
}

impl std::fmt::Display for EncDataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EncDataError::Kdf(kdf) => write!(f, "EncData.kdf is {kdf:?}, expected \"{KDF_NAME}\""),
            EncDataError::Empty => f.write_str("EncData.data is empty"),
            EncDataError::EmptyTag(i) => write!(f, "EncData entry {i} has an empty tag"),
            EncDataError::TagTwice(tag) => write!(f, "EncData tag {tag:?} appears twice"),
            EncDataError::Entry { tag, problem } => write!(f, "EncData entry {tag:?}: {problem}"),
        }
    }
}
