//! The restore blob: the domain secrets re-encrypted under a fresh master key,
//! and that key wrapped to the recovering HSM's exchange (transfer) key. This
//! is what `POST /securitydomain/upload` takes inside `value`.

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;
use crate::azure::enc_data::{DomainSecret, EncData};
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

fn blob_err(msg: String) -> Error {
    Error::RestoreBlob(msg)
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
            return Err(blob_err("there are no domain secrets to restore".into()));
        }
        let master = MasterKey::generate(rng)?;
        let enc_data = EncData::encrypt(rng, &master, secrets)?;
        let wrapped_key = EncKey::encrypt(rng, exchange, "not used", master.expose())?;
        Ok(RestoreBlob { json: BlobJson { enc_data, wrapped_key, extra: Map::new() } })
    }

    /// Parses and validates a blob (az's spaced JSON or compact JSON).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        crate::artifact::require(bytes, crate::artifact::ArtifactKind::RestoreBlob)?;
        let json: BlobJson = serde_json::from_slice(bytes).map_err(|e| blob_err(format!("JSON: {e}")))?;
        json.enc_data.validate(blob_err)?;
        let tp = crate::primitives::b64::url_decode(&json.wrapped_key.x5t_256, "WrappedKey.x5t_256")?;
        if tp.len() != 32 {
            return Err(blob_err("WrappedKey.x5t_256 is not a SHA-256 thumbprint".into()));
        }
        crate::primitives::jwe::CompactJwe::parse(&json.wrapped_key.enc_key)
            .and_then(|j| {
                j.require_algorithms(
                    crate::primitives::jwe::Alg::RsaOaep256,
                    crate::primitives::jwe::Enc::A256CbcHs512,
                )
            })
            .map_err(|e| blob_err(format!("WrappedKey: {e}")))?;
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
            Error::KeyUnwrap => blob_err("the wrapped key is not for this exchange key".into()),
            other => blob_err(format!("WrappedKey: {other}")),
        })?;
        let master = MasterKey::from_slice(raw.expose())
            .ok_or_else(|| blob_err(format!("the wrapped key is {} bytes, not 32", raw.len())))?;
        self.json.enc_data.decrypt(&master).map_err(|e| blob_err(format!("EncData: {e}")))
    }

    /// Compact JSON (as PowerShell writes; the service also accepts az's spacing).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(&self.json)
            .map_err(|e| Error::Serialize { what: "restore blob", detail: e.to_string() })
    }
}
