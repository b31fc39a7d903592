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

use crate::azure::enc_data::{DomainSecret, EncData, EncDataError};
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
    fn validate(&self, what: String) -> Result<(), SdFileError> {
        let bad = |problem: Error| SdFileError::Entry { what: what.clone(), problem: Box::new(problem) };
        let tp = b64::url_decode(&self.x5t_256, "x5t_256").map_err(bad)?;
        if tp.len() != 32 {
            return Err(SdFileError::ThumbprintLength { what, len: tp.len() });
        }
        CompactJwe::parse(&self.enc_key)
            .and_then(|j| j.require_algorithms(Alg::RsaOaep256, Enc::A256CbcHs512))
            .map_err(bad)?;
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

fn sd_err(e: SdFileError) -> Error {
    Error::SdFile(e)
}

impl SecurityDomain {
    /// Parses and validates an SD file: raw JSON, or base64url-wrapped JSON as
    /// the REST spec examples show it.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        crate::artifact::require(bytes, crate::artifact::ArtifactKind::SdFile)?;
        let text = std::str::from_utf8(bytes).map_err(|_| sd_err(SdFileError::NotUtf8))?;
        let text = text.trim();
        if text.is_empty() {
            return Err(sd_err(SdFileError::Empty));
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
            return Err(sd_err(SdFileError::NotObject(what)));
        }
        let unwrapped;
        let json_text = if text.starts_with('{') {
            text
        } else {
            let raw =
                b64::url_decode(text, "security domain").map_err(|_| sd_err(SdFileError::NotJsonOrBase64))?;
            unwrapped = String::from_utf8(raw).map_err(|_| sd_err(SdFileError::WrappedNotUtf8))?;
            &unwrapped
        };
        let json: SdJson =
            serde_json::from_str(json_text).map_err(|e| sd_err(SdFileError::Json(e.to_string())))?;
        let sd = SecurityDomain { json, sha256: crate::primitives::hex::sha256_hex(bytes) };
        sd.validate()?;
        Ok(sd)
    }

    fn validate(&self) -> Result<(), Error> {
        let j = &self.json;
        j.enc_data.validate().map_err(|e| sd_err(SdFileError::EncData(e)))?;
        match (j.version, &j.shared_keys, &j.split_keys) {
            (2, Some(sk), None) => {
                if sk.key_algorithm != SHAMIR_ALGORITHM {
                    return Err(sd_err(SdFileError::Algorithm {
                        field: "SharedKeys",
                        found: sk.key_algorithm.clone(),
                        expected: SHAMIR_ALGORITHM,
                    }));
                }
                if !crate::azure::download_request::QUORUM_RANGE.contains(&sk.required) {
                    return Err(sd_err(SdFileError::Required(sk.required)));
                }
                let n = sk.enc_shares.len();
                if n < sk.required || n > usize::from(shamir::MAX_X) {
                    return Err(sd_err(SdFileError::ShareCount { shares: n, required: sk.required }));
                }
                for (i, s) in sk.enc_shares.iter().enumerate() {
                    s.validate(format!("share {}", i + 1)).map_err(sd_err)?;
                    if sk.enc_shares[..i].iter().any(|o| o.x5t_256 == s.x5t_256) {
                        return Err(sd_err(SdFileError::ThumbprintTwice(i)));
                    }
                }
                Ok(())
            }
            (1, None, Some(sp)) => {
                if sp.key_algorithm != XOR_ALGORITHM {
                    return Err(sd_err(SdFileError::Algorithm {
                        field: "SplitKeys",
                        found: sp.key_algorithm.clone(),
                        expected: XOR_ALGORITHM,
                    }));
                }
                if sp.keys.is_empty() {
                    return Err(sd_err(SdFileError::SplitKeysEmpty));
                }
                for (i, pair) in sp.keys.iter().enumerate() {
                    pair.key1.validate(format!("split key {} key1", i + 1)).map_err(sd_err)?;
                    pair.key2.validate(format!("split key {} key2", i + 1)).map_err(sd_err)?;
                }
                Ok(())
            }
            (2, _, _) => Err(sd_err(SdFileError::Shape(2))),
            (1, _, _) => Err(sd_err(SdFileError::Shape(1))),
            (v, _, _) => Err(sd_err(SdFileError::Shape(v))),
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
            return Err(sd_err(SdFileError::NotShamir));
        }
        for (index, entry) in self.shares().iter().enumerate() {
            if thumbprint.is_some_and(|t| t != entry.x5t_256) {
                continue;
            }
            match entry.decrypt(key) {
                Ok(plain) => {
                    let share = Share::from_bytes(plain.expose())
                        .map_err(|e| sd_err(SdFileError::ShareMalformed { index, problem: Box::new(e) }))?;
                    if share.len() != MasterKey::LEN {
                        return Err(sd_err(SdFileError::ShareLength { index, len: share.len() }));
                    }
                    // The HSM gives the share at position i the x-coordinate i + 1
                    // (as every real SD file does); another x means entries were
                    // reordered or copied in from another file.
                    if usize::from(share.x()) != index + 1 {
                        return Err(sd_err(SdFileError::ShareX { index, x: share.x() }));
                    }
                    return Ok(OpenedShare { index, x5t_256: entry.x5t_256.clone(), share });
                }
                // Listed for this very key's certificate, yet it does not open:
                // the entry is damaged, not a key mismatch.
                Err(Error::KeyUnwrap) if thumbprint.is_some() => {
                    return Err(sd_err(SdFileError::ShareDamaged(index)));
                }
                Err(Error::KeyUnwrap) => continue,
                Err(e) => return Err(sd_err(SdFileError::Share { index, problem: Box::new(e) })),
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
        let sp = self.json.split_keys.as_ref().ok_or(sd_err(SdFileError::NotXorSplit))?;
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
                return Err(sd_err(SdFileError::HalfLength(i)));
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
                .map_err(|e| sd_err(SdFileError::RebuiltKeyFails(Box::new(e))))?;
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
        self.json.enc_data.decrypt(master).map_err(|e| sd_err(SdFileError::KeyDoesNotOpen(Box::new(e))))?;
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
        let text = serde_json::to_string(&json)
            .map_err(|e| Error::Serialize { what: "SD file", detail: e.to_string() })?;
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

/// Why an SD file is refused, or cannot do what was asked ([`Error::SdFile`]).
/// Positions are kept from 0, as the file orders them; messages count from 1,
/// as every screen of the tools does ("share 1 of 3").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdFileError {
    /// Not UTF-8 text.
    NotUtf8,
    /// Empty.
    Empty,
    /// JSON, but not an object (what it is: "a number"...).
    NotObject(&'static str),
    /// Neither JSON nor base64url-wrapped JSON.
    NotJsonOrBase64,
    /// Base64url-wrapped content that is not UTF-8.
    WrappedNotUtf8,
    /// Not an SD file's JSON (the parser's words).
    Json(String),
    /// Its EncData is malformed.
    EncData(EncDataError),
    /// A `key_algorithm` other than the version's.
    Algorithm {
        /// `SharedKeys` or `SplitKeys`.
        field: &'static str,
        /// What it says.
        found: String,
        /// What it must say.
        expected: &'static str,
    },
    /// A quorum outside 2..=10.
    Required(usize),
    /// Fewer shares than the quorum, or more than 127.
    ShareCount {
        /// The shares.
        shares: usize,
        /// The quorum.
        required: usize,
    },
    /// An entry ("share 0", "split key 1 key2") that is malformed.
    Entry {
        /// Which entry.
        what: String,
        /// What is wrong.
        problem: Box<Error>,
    },
    /// An entry whose thumbprint is not 32 bytes.
    ThumbprintLength {
        /// Which entry.
        what: String,
        /// The thumbprint's length.
        len: usize,
    },
    /// Share `i` repeats an earlier share's thumbprint.
    ThumbprintTwice(usize),
    /// No split keys.
    SplitKeysEmpty,
    /// The members do not fit the version (1, 2, or another).
    Shape(u32),
    /// A version-1 file, where Shamir shares are needed.
    NotShamir,
    /// A version-2 file, where split keys are needed.
    NotXorSplit,
    /// Share `index` (from 0) decrypts to something that is not a share.
    ShareMalformed {
        /// Its position, from 0.
        index: usize,
        /// What is wrong.
        problem: Box<Error>,
    },
    /// Share `index` (from 0) covers another length than the master key.
    ShareLength {
        /// Its position, from 0.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// Share `index` (from 0) carries another x than `index + 1`.
    ShareX {
        /// Its position, from 0.
        index: usize,
        /// Its x.
        x: u8,
    },
    /// Share `index` (from 0) is listed for the key's certificate but does not open.
    ShareDamaged(usize),
    /// Share `index` (from 0) cannot be decrypted.
    Share {
        /// Its position, from 0.
        index: usize,
        /// Why.
        problem: Box<Error>,
    },
    /// Split key `i`'s halves are not 32 bytes each.
    HalfLength(usize),
    /// The master key rebuilt from split keys does not open EncData.
    RebuiltKeyFails(Box<Error>),
    /// The master key given does not open this file's EncData.
    KeyDoesNotOpen(Box<Error>),
}

impl std::fmt::Display for SdFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use SdFileError::*;
        match self {
            NotUtf8 => f.write_str("the file is not UTF-8 text"),
            Empty => f.write_str("the file is empty"),
            NotObject(what) => write!(f, "the file holds {what}, not a security-domain JSON object"),
            NotJsonOrBase64 => f.write_str("neither JSON nor base64url-wrapped JSON"),
            WrappedNotUtf8 => f.write_str("wrapped content is not UTF-8"),
            Json(d) => write!(f, "JSON: {d}"),
            EncData(e) => write!(f, "{e}"),
            Algorithm { field, found, expected } => {
                write!(f, "{field}.key_algorithm is {found:?}, expected \"{expected}\"")
            }
            Required(q) => write!(f, "SharedKeys.required is {q}, must be 2..=10"),
            ShareCount { shares, required } => write!(
                f,
                "{shares} shares for a quorum of {required}: need at least the quorum and at most 127"
            ),
            Entry { what, problem } => write!(f, "{what}: {problem}"),
            ThumbprintLength { what, len } => write!(f, "{what}: x5t_256 is {len} bytes, a SHA-256 is 32"),
            ThumbprintTwice(i) => {
                write!(f, "share {} repeats the certificate thumbprint of an earlier share", i + 1)
            }
            SplitKeysEmpty => f.write_str("SplitKeys.keys is empty"),
            Shape(2) => f.write_str("version 2 needs SharedKeys (and no SplitKeys)"),
            Shape(1) => f.write_str("version 1 needs SplitKeys (and no SharedKeys)"),
            Shape(v) => write!(f, "version {v} is not supported (1 or 2)"),
            NotShamir => f.write_str("this is a version-1 (xor_split) file; it has no Shamir shares"),
            NotXorSplit => f.write_str("this is not a version-1 (xor_split) file"),
            ShareMalformed { index, problem } => {
                write!(f, "share {} decrypts but is malformed: {problem}", index + 1)
            }
            ShareLength { index, len } => {
                write!(f, "share {} covers {len} bytes, the master key is {}", index + 1, MasterKey::LEN)
            }
            ShareX { index, x } => write!(
                f,
                "share {} carries x = {x}, not {}: the entries were reordered or copied from another file",
                index + 1,
                index + 1
            ),
            ShareDamaged(index) => write!(
                f,
                "share {} is listed for this key's certificate but does not open with the key: \
                 the entry is damaged (or the certificate beside the key is another key's)",
                index + 1
            ),
            Share { index, problem } => write!(f, "share {}: {problem}", index + 1),
            HalfLength(i) => write!(f, "split key {}: halves must be 32 bytes each", i + 1),
            RebuiltKeyFails(e) => write!(f, "the rebuilt master key does not open EncData ({e})"),
            KeyDoesNotOpen(e) => write!(f, "the master key does not open this file's EncData ({e})"),
        }
    }
}
