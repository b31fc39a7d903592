//! The security-domain file: what `POST /securitydomain/download` returns and
//! what az CLI and PowerShell save.
//!
//! Version 2 holds `SharedKeys` (Shamir over GF(257), one RSA-OAEP-256 JWE per
//! custodian); version 1, which Azure PowerShell still reads, holds `SplitKeys`
//! (the master key as the XOR of two halves, each encrypted to a custodian).
//! Members we do not know are preserved, and [`SecurityDomain::to_json`]
//! writes the compact JSON, in the HSM's member order, that the HSM emits.

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::azure::enc_data::{DomainSecret, EncData};
use crate::pki::cert::Certificate;
use crate::primitives::jwe::{Alg, CompactJwe, Enc};
use crate::primitives::secret::MasterKey;
use crate::primitives::shamir::{self, Share};
use crate::{Error, primitives::b64};

/// `SharedKeys.key_algorithm` of a version-2 file.
pub const SHAMIR_ALGORITHM: &str = "shamir_share";
/// `SplitKeys.key_algorithm` of a version-1 file.
pub const XOR_ALGORITHM: &str = "xor_split";

/// A key encrypted to one certificate (a share, a split-key half, or the
/// restore blob's wrapped master key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncKey {
    /// RSA-OAEP-256 + A256CBC-HS512 compact JWE, stored raw.
    pub enc_key: String,
    /// base64url SHA-256 of the recipient certificate's DER.
    pub x5t_256: String,
    /// Members we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EncKey {
    fn validate(&self, what: &str) -> Result<(), String> {
        let tp = b64::url_decode(&self.x5t_256, "x5t_256").map_err(|e| format!("{what}: {e}"))?;
        if tp.len() != 32 {
            return Err(format!("{what}: x5t_256 is {} bytes, a SHA-256 is 32", tp.len()));
        }
        CompactJwe::parse(&self.enc_key)
            .and_then(|j| j.require_algorithms(Alg::RsaOaep256, Enc::A256CbcHs512))
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(())
    }

    /// Decrypts with `key`. [`Error::KeyUnwrap`] means "not this key's".
    pub fn decrypt(
        &self,
        key: &(impl crate::RsaKey + ?Sized),
    ) -> Result<crate::primitives::secret::SecretBytes, Error> {
        CompactJwe::parse(&self.enc_key)?.decrypt_rsa(key)
    }

    /// Encrypts `secret` to `cert` as Azure does (kid given by the caller).
    pub fn encrypt<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        cert: &Certificate,
        kid: &str,
        secret: &[u8],
    ) -> Result<Self, Error> {
        let jwe = CompactJwe::encrypt_rsa(rng, Enc::A256CbcHs512, &cert.rsa_public_key()?, kid, secret)?;
        Ok(EncKey { enc_key: jwe.serialize(), x5t_256: cert.x5t_s256(), extra: Map::new() })
    }
}

/// `SharedKeys` of a version-2 file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedKeys {
    /// One share per custodian, in download-request order (x = index + 1).
    pub enc_shares: Vec<EncKey>,
    /// Always `shamir_share`.
    pub key_algorithm: String,
    /// The quorum.
    pub required: usize,
    /// Members we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of a version-1 `SplitKeys.keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitKeyPair {
    /// First half.
    pub key1: EncKey,
    /// Second half.
    pub key2: EncKey,
    /// Members we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `SplitKeys` of a version-1 file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitKeys {
    /// Always `xor_split`.
    pub key_algorithm: String,
    /// Pairs of halves; any one pair rebuilds the master key.
    pub keys: Vec<SplitKeyPair>,
    /// Members we do not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SdJson {
    #[serde(rename = "EncData")]
    enc_data: EncData,
    #[serde(rename = "SharedKeys", skip_serializing_if = "Option::is_none", default)]
    shared_keys: Option<SharedKeys>,
    #[serde(rename = "SplitKeys", skip_serializing_if = "Option::is_none", default)]
    split_keys: Option<SplitKeys>,
    version: u32,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A validated security-domain file.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityDomain {
    json: SdJson,
    /// SHA-256 (hex) of the file's exact bytes: what hand-offs bind to.
    sha256: String,
}

/// A custodian's decrypted share and where it came from.
#[derive(Debug, Clone)]
pub struct OpenedShare {
    /// Position in `enc_shares` (0-based).
    pub index: usize,
    /// The entry's `x5t_256`.
    pub x5t_256: String,
    /// The share itself.
    pub share: Share,
}

fn sd_err(msg: String) -> Error {
    Error::SdFile(msg)
}

impl SecurityDomain {
    /// Parses and validates an SD file: raw JSON, or base64url-wrapped JSON as
    /// the REST spec examples show it.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        crate::artifact::require(bytes, crate::artifact::ArtifactKind::SdFile)?;
        let text = std::str::from_utf8(bytes).map_err(|_| sd_err("the file is not UTF-8 text".into()))?;
        let text = text.trim();
        if text.is_empty() {
            return Err(sd_err("the file is empty".into()));
        }
        // JSON, but not an object: say what it is (base64 of it would be nonsense).
        if let Ok(v) = serde_json::from_str::<Value>(text)
            && !v.is_object()
        {
            let what = match v {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a JSON string",
                Value::Array(_) => "a JSON array",
                Value::Object(_) => "an object",
            };
            return Err(sd_err(format!("the file holds {what}, not a security-domain JSON object")));
        }
        let unwrapped;
        let json_text = if text.starts_with('{') {
            text
        } else {
            let raw = b64::url_decode(text, "security domain")
                .map_err(|_| sd_err("neither JSON nor base64url-wrapped JSON".into()))?;
            unwrapped = String::from_utf8(raw).map_err(|_| sd_err("wrapped content is not UTF-8".into()))?;
            &unwrapped
        };
        let json: SdJson = serde_json::from_str(json_text).map_err(|e| sd_err(format!("JSON: {e}")))?;
        let sd = SecurityDomain { json, sha256: crate::primitives::hex::sha256_hex(bytes) };
        sd.validate()?;
        Ok(sd)
    }

    fn validate(&self) -> Result<(), Error> {
        let j = &self.json;
        j.enc_data.validate(sd_err)?;
        match (j.version, &j.shared_keys, &j.split_keys) {
            (2, Some(sk), None) => {
                if sk.key_algorithm != SHAMIR_ALGORITHM {
                    return Err(sd_err(format!(
                        "SharedKeys.key_algorithm is {:?}, expected \"{SHAMIR_ALGORITHM}\"",
                        sk.key_algorithm
                    )));
                }
                if !crate::azure::download_request::QUORUM_RANGE.contains(&sk.required) {
                    return Err(sd_err(format!("SharedKeys.required is {}, must be 2..=10", sk.required)));
                }
                let n = sk.enc_shares.len();
                if n < sk.required || n > usize::from(shamir::MAX_X) {
                    return Err(sd_err(format!(
                        "{n} shares for a quorum of {}: need at least the quorum and at most 127",
                        sk.required
                    )));
                }
                for (i, s) in sk.enc_shares.iter().enumerate() {
                    s.validate(&format!("share {i}")).map_err(sd_err)?;
                    if sk.enc_shares[..i].iter().any(|o| o.x5t_256 == s.x5t_256) {
                        return Err(sd_err(format!(
                            "share {i} repeats the certificate thumbprint of an earlier share"
                        )));
                    }
                }
                Ok(())
            }
            (1, None, Some(sp)) => {
                if sp.key_algorithm != XOR_ALGORITHM {
                    return Err(sd_err(format!(
                        "SplitKeys.key_algorithm is {:?}, expected \"{XOR_ALGORITHM}\"",
                        sp.key_algorithm
                    )));
                }
                if sp.keys.is_empty() {
                    return Err(sd_err("SplitKeys.keys is empty".into()));
                }
                for (i, pair) in sp.keys.iter().enumerate() {
                    pair.key1.validate(&format!("split key {i} key1")).map_err(sd_err)?;
                    pair.key2.validate(&format!("split key {i} key2")).map_err(sd_err)?;
                }
                Ok(())
            }
            (2, _, _) => Err(sd_err("version 2 needs SharedKeys (and no SplitKeys)".into())),
            (1, _, _) => Err(sd_err("version 1 needs SplitKeys (and no SharedKeys)".into())),
            (v, _, _) => Err(sd_err(format!("version {v} is not supported (1 or 2)"))),
        }
    }

    /// The file as the HSM writes it: compact JSON, no trailing newline.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(&self.json)
            .map_err(|e| Error::Serialize { what: "SD file", detail: e.to_string() })
    }

    /// SHA-256 (hex) of the file's bytes as read (or, for a file made here,
    /// as [`SecurityDomain::to_json`] writes it).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Format version (1 or 2).
    pub fn version(&self) -> u32 {
        self.json.version
    }

    /// The encrypted domain secrets.
    pub fn enc_data(&self) -> &EncData {
        &self.json.enc_data
    }

    /// The quorum (version 2), or 2 for a version-1 XOR split.
    pub fn required(&self) -> usize {
        self.json.shared_keys.as_ref().map_or(2, |s| s.required)
    }

    /// The version-2 shares; empty for version 1.
    pub fn shares(&self) -> &[EncKey] {
        self.json.shared_keys.as_ref().map_or(&[], |s| &s.enc_shares)
    }

    /// The version-1 split keys, if this is a version-1 file.
    pub fn split_keys(&self) -> Option<&SplitKeys> {
        self.json.split_keys.as_ref()
    }

    /// Every certificate thumbprint the file names, in order.
    pub fn thumbprints(&self) -> Vec<String> {
        match &self.json.split_keys {
            Some(sp) => {
                sp.keys.iter().flat_map(|p| [p.key1.x5t_256.clone(), p.key2.x5t_256.clone()]).collect()
            }
            None => self.shares().iter().map(|s| s.x5t_256.clone()).collect(),
        }
    }

    /// Finds and decrypts the share that `key` opens (version 2).
    ///
    /// With `thumbprint` (from the key's certificate) only the matching entry
    /// is tried; otherwise every entry is tried, since the file carries no
    /// public keys to compare with.
    pub fn open_share(
        &self,
        key: &(impl crate::RsaKey + ?Sized),
        thumbprint: Option<&str>,
    ) -> Result<OpenedShare, Error> {
        if self.json.version != 2 {
            return Err(sd_err("this is a version-1 (xor_split) file; it has no Shamir shares".into()));
        }
        for (index, entry) in self.shares().iter().enumerate() {
            if thumbprint.is_some_and(|t| t != entry.x5t_256) {
                continue;
            }
            match entry.decrypt(key) {
                Ok(plain) => {
                    let share = Share::from_bytes(plain.expose())
                        .map_err(|e| sd_err(format!("share {index} decrypts but is malformed: {e}")))?;
                    if share.len() != MasterKey::LEN {
                        return Err(sd_err(format!(
                            "share {index} covers {} bytes, the master key is {}",
                            share.len(),
                            MasterKey::LEN
                        )));
                    }
                    // The HSM gives the share at position i the x-coordinate i + 1
                    // (as every real SD file does); another x means entries were
                    // reordered or copied in from another file.
                    if usize::from(share.x()) != index + 1 {
                        return Err(sd_err(format!(
                            "share {} carries x = {}, not {}: the entries were reordered or copied from another file",
                            index + 1,
                            share.x(),
                            index + 1
                        )));
                    }
                    return Ok(OpenedShare { index, x5t_256: entry.x5t_256.clone(), share });
                }
                // Listed for this very key's certificate, yet it does not open:
                // the entry is damaged, not a key mismatch.
                Err(Error::KeyUnwrap) if thumbprint.is_some() => {
                    return Err(sd_err(format!(
                        "share {} is listed for this key's certificate but does not open with the key: \
                         the entry is damaged (or the certificate beside the key is another key's)",
                        index + 1
                    )));
                }
                Err(Error::KeyUnwrap) => continue,
                Err(e) => return Err(sd_err(format!("share {index}: {e}"))),
            }
        }
        Err(Error::NoMatchingShare)
    }

    /// Rebuilds the master key of a version-1 file: the first pair whose two
    /// halves the given keys open, XORed; then proves it on EncData.
    pub fn recover_xor_split(
        &self,
        keys: &[&dyn crate::RsaKey],
    ) -> Result<(MasterKey, Vec<DomainSecret>), Error> {
        let sp = self
            .json
            .split_keys
            .as_ref()
            .ok_or_else(|| sd_err("this is not a version-1 (xor_split) file".into()))?;
        let open = |half: &EncKey| -> Result<Option<crate::primitives::secret::SecretBytes>, Error> {
            for key in keys {
                match half.decrypt(*key) {
                    Ok(p) => return Ok(Some(p)),
                    Err(Error::KeyUnwrap) => continue,
                    Err(e) => return Err(e),
                }
            }
            Ok(None)
        };
        for (i, pair) in sp.keys.iter().enumerate() {
            let (Some(a), Some(b)) = (open(&pair.key1)?, open(&pair.key2)?) else {
                continue;
            };
            if a.len() != MasterKey::LEN || b.len() != MasterKey::LEN {
                return Err(sd_err(format!("split key {i}: halves must be 32 bytes each")));
            }
            let mut mk = [0u8; MasterKey::LEN];
            for (j, byte) in mk.iter_mut().enumerate() {
                *byte = a.expose()[j] ^ b.expose()[j];
            }
            let master = MasterKey::from_bytes(mk);
            zeroize::Zeroize::zeroize(&mut mk);
            let secrets = self
                .json
                .enc_data
                .decrypt(&master)
                .map_err(|e| sd_err(format!("the rebuilt master key does not open EncData ({e})")))?;
            return Ok((master, secrets));
        }
        Err(Error::NoMatchingShare)
    }

    /// A new version-2 file: `secrets` encrypted under `master`, and `master`
    /// split to `certs` with quorum `required` (what the HSM does on download).
    pub fn create<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        master: &MasterKey,
        secrets: &[DomainSecret],
        certs: &[Certificate],
        required: usize,
    ) -> Result<Self, Error> {
        let enc_data = EncData::encrypt(rng, master, secrets)?;
        Self::with_enc_data(rng, enc_data, master, certs, required)
    }

    /// The same EncData re-split to a new set of custodians (rotation). The
    /// master key must be this file's.
    pub fn resplit<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        master: &MasterKey,
        certs: &[Certificate],
        required: usize,
    ) -> Result<Self, Error> {
        self.json
            .enc_data
            .decrypt(master)
            .map_err(|e| sd_err(format!("the master key does not open this file's EncData ({e})")))?;
        Self::with_enc_data(rng, self.json.enc_data.clone(), master, certs, required)
    }

    fn with_enc_data<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        enc_data: EncData,
        master: &MasterKey,
        certs: &[Certificate],
        required: usize,
    ) -> Result<Self, Error> {
        crate::azure::download_request::check_limits(certs, required)?;
        let shares = shamir::split(rng, master.expose(), certs.len(), required)?;
        let enc_shares = certs
            .iter()
            .zip(&shares)
            .map(|(cert, share)| {
                let kid = random_uuid(rng)?;
                EncKey::encrypt(rng, cert, &kid, share.to_bytes().expose())
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let json = SdJson {
            enc_data,
            shared_keys: Some(SharedKeys {
                enc_shares,
                key_algorithm: SHAMIR_ALGORITHM.into(),
                required,
                extra: Map::new(),
            }),
            split_keys: None,
            version: 2,
            extra: Map::new(),
        };
        let text = serde_json::to_string(&json).map_err(|e| sd_err(format!("serialising: {e}")))?;
        let sd = SecurityDomain { sha256: crate::primitives::hex::sha256_hex(text.as_bytes()), json };
        sd.validate()?;
        Ok(sd)
    }
}

/// A random RFC 4122 version-4 UUID string: the 2025 HSM uses one as each share's `kid`.
fn random_uuid<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<String, Error> {
    let mut b = [0u8; 16];
    rng.try_fill_bytes(&mut b).map_err(|_| Error::Rng)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::primitives::hex::hex_lower(&b);
    Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}
