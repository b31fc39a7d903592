//! The restore blob: the domain secrets re-encrypted under a fresh master key,
//! and that key wrapped to the recovering HSM's exchange (transfer) key. This
//! is what `POST /securitydomain/upload` takes inside `value`.

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::azure::enc_data::{DomainSecret, EncData, EncDataError};
use crate::azure::sd_file::EncKey;
use crate::pki::cert::Certificate;
use crate::primitives::secret::MasterKey;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BlobJson {
    #[serde(rename = "EncData")]
    enc_data: EncData,
    #[serde(rename = "WrappedKey")]
    wrapped_key: EncKey,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A validated restore blob.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreBlob {
    json: BlobJson,
}

/// Why a restore blob is refused or cannot be opened ([`Error::RestoreBlob`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreBlobError {
    /// No domain secrets to put in it.
    NoSecrets,
    /// Not a restore blob's JSON (the parser's words).
    Json(String),
    /// Its EncData is malformed.
    EncData(EncDataError),
    /// `WrappedKey.x5t_256` is not 32 bytes.
    Thumbprint,
    /// The wrapped key is malformed, or cannot be unwrapped.
    WrappedKey(Box<Error>),
    /// The wrapped key is for another exchange key.
    OtherExchangeKey,
    /// The unwrapped key is not 32 bytes.
    KeyLength(usize),
    /// EncData does not open with the unwrapped key.
    Decrypt(Box<Error>),
}

impl std::fmt::Display for RestoreBlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use RestoreBlobError::*;
        match self {
            NoSecrets => f.write_str("there are no domain secrets to restore"),
            Json(d) => write!(f, "JSON: {d}"),
            EncData(e) => write!(f, "{e}"),
            Thumbprint => f.write_str("WrappedKey.x5t_256 is not a SHA-256 thumbprint"),
            WrappedKey(e) => write!(f, "WrappedKey: {e}"),
            OtherExchangeKey => f.write_str("the wrapped key is not for this exchange key"),
            KeyLength(n) => write!(f, "the wrapped key is {n} bytes, not 32"),
            Decrypt(e) => write!(f, "EncData: {e}"),
        }
    }
}

fn blob_err(e: RestoreBlobError) -> Error {
    Error::RestoreBlob(e)
}

impl RestoreBlob {
    /// Builds a blob as az and PowerShell do: a fresh random master key, every
    /// secret re-encrypted in order, the key wrapped to `exchange` (kid "not used").
    pub fn build<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        secrets: &[DomainSecret],
        exchange: &Certificate,
    ) -> Result<Self, Error> {
        if secrets.is_empty() {
            return Err(blob_err(RestoreBlobError::NoSecrets));
        }
        let master = MasterKey::generate(rng)?;
        let enc_data = EncData::encrypt(rng, &master, secrets)?;
        let wrapped_key = EncKey::encrypt(rng, exchange, "not used", master.expose())?;
        Ok(RestoreBlob { json: BlobJson { enc_data, wrapped_key, extra: Map::new() } })
    }

    /// Parses and validates a blob (az's spaced JSON or compact JSON).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        crate::artifact::require(bytes, crate::artifact::ArtifactKind::RestoreBlob)?;
        let json: BlobJson =
            serde_json::from_slice(bytes).map_err(|e| blob_err(RestoreBlobError::Json(e.to_string())))?;
        json.enc_data.validate().map_err(|e| blob_err(RestoreBlobError::EncData(e)))?;
        let tp = crate::primitives::b64::url_decode(&json.wrapped_key.x5t_256, "WrappedKey.x5t_256")?;
        if tp.len() != 32 {
            return Err(blob_err(RestoreBlobError::Thumbprint));
        }
        crate::primitives::jwe::CompactJwe::parse(&json.wrapped_key.enc_key)
            .and_then(|j| {
                j.require_algorithms(
                    crate::primitives::jwe::Alg::RsaOaep256,
                    crate::primitives::jwe::Enc::A256CbcHs512,
                )
            })
            .map_err(|e| blob_err(RestoreBlobError::WrappedKey(Box::new(e))))?;
        Ok(RestoreBlob { json })
    }

    /// Thumbprint (`x5t#S256`) of the exchange key the blob is wrapped to.
    pub fn exchange_x5t_s256(&self) -> &str {
        &self.json.wrapped_key.x5t_256
    }

    /// Unwraps the master key with the exchange private key and decrypts every
    /// entry: what the HSM does on upload.
    pub fn open(&self, exchange_key: &(impl crate::RsaKey + ?Sized)) -> Result<Vec<DomainSecret>, Error> {
        let raw = self.json.wrapped_key.decrypt(exchange_key).map_err(|e| match e {
            Error::KeyUnwrap => blob_err(RestoreBlobError::OtherExchangeKey),
            other => blob_err(RestoreBlobError::WrappedKey(Box::new(other))),
        })?;
        let master = MasterKey::from_slice(raw.expose())
            .ok_or_else(|| blob_err(RestoreBlobError::KeyLength(raw.len())))?;
        self.json.enc_data.decrypt(&master).map_err(|e| blob_err(RestoreBlobError::Decrypt(Box::new(e))))
    }

    /// Compact JSON (as PowerShell writes; the service also accepts az's spacing).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(&self.json)
            .map_err(|e| Error::Serialize { what: "restore blob", detail: e.to_string() })
    }
}
