//! Compact JWE (RFC 7516 §7.1) restricted to what the security domain uses.
//!
//! Key management: `dir` (EncData: the CEK comes from the KDF) or
//! `RSA-OAEP-256` (shares, wrapped master key, our share bundles).
//! Content encryption: `A256CBC-HS512` (everything Azure makes) or `A256GCM`
//! (only our own share bundles). Anything else is refused.
//!
//! The A256CBC-HS512 tag must be exactly 32 bytes and is compared in constant
//! time before any CBC or padding work: Azure's reference readers skip the
//! comparison for any other tag length, so a truncated tag would pass there.

use std::fmt;

use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
use hmac::{Hmac, Mac};
use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::crypto_error::CryptoError;
use crate::primitives::secret::SecretBytes;
use crate::{Error, primitives::b64};

/// Key-management algorithm (`alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// Direct use of a shared key (the CEK is derived by the KDF).
    Dir,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
    RsaOaep256,
}

/// Content-encryption algorithm (`enc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    /// AES-256-CBC + HMAC-SHA-512/256 (RFC 7518 §5.2.5); 64-byte CEK.
    A256CbcHs512,
    /// AES-256-GCM; 32-byte CEK. Used only by hsm-ceremony's own share bundles.
    A256Gcm,
}

impl Alg {
    fn name(self) -> &'static str {
        match self {
            Alg::Dir => "dir",
            Alg::RsaOaep256 => "RSA-OAEP-256",
        }
    }
}

impl Enc {
    fn name(self) -> &'static str {
        match self {
            Enc::A256CbcHs512 => "A256CBC-HS512",
            Enc::A256Gcm => "A256GCM",
        }
    }
    fn cek_len(self) -> usize {
        match self {
            Enc::A256CbcHs512 => 64,
            Enc::A256Gcm => 32,
        }
    }
    fn iv_len(self) -> usize {
        match self {
            Enc::A256CbcHs512 => 16,
            Enc::A256Gcm => 12,
        }
    }
    fn tag_len(self) -> usize {
        match self {
            Enc::A256CbcHs512 => 32,
            Enc::A256Gcm => 16,
        }
    }
}

/// Header members in the order Azure writes them: alg, enc, kid.
#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    enc: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    kid: Option<String>,
}

/// A parsed compact JWE. Parsing checks structure and algorithms; the tag is
/// checked when decrypting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactJwe {
    header_b64: String,
    alg: Alg,
    enc: Enc,
    kid: Option<String>,
    encrypted_key: Vec<u8>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

impl CompactJwe {
    /// Parses `B64U(header).B64U(key).B64U(iv).B64U(ciphertext).B64U(tag)`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() != 5 {
            return Err(Error::JweFormat(JweFormatError::Parts(parts.len())));
        }
        let header_json = b64::url_decode(parts[0], "JWE header")?;
        let header: Header = serde_json::from_slice(&header_json)
            .map_err(|e| Error::Json { what: "JWE header", detail: e.to_string() })?;
        let alg = match header.alg.as_str() {
            "dir" => Some(Alg::Dir),
            "RSA-OAEP-256" => Some(Alg::RsaOaep256),
            _ => None,
        };
        let enc = match header.enc.as_str() {
            "A256CBC-HS512" => Some(Enc::A256CbcHs512),
            "A256GCM" => Some(Enc::A256Gcm),
            _ => None,
        };
        let (Some(alg), Some(enc)) = (alg, enc) else {
            return Err(Error::JweAlgorithm { alg: header.alg, enc: header.enc });
        };
        let jwe = CompactJwe {
            header_b64: parts[0].to_owned(),
            alg,
            enc,
            kid: header.kid,
            encrypted_key: b64::url_decode(parts[1], "JWE encrypted key")?,
            iv: b64::url_decode(parts[2], "JWE initialization vector")?,
            ciphertext: b64::url_decode(parts[3], "JWE ciphertext")?,
            tag: b64::url_decode(parts[4], "JWE authentication tag")?,
        };
        if alg == Alg::Dir && !jwe.encrypted_key.is_empty() {
            return Err(Error::JweFormat(JweFormatError::DirWithKey));
        }
        if alg == Alg::RsaOaep256 && jwe.encrypted_key.is_empty() {
            return Err(Error::JweFormat(JweFormatError::NoWrappedKey));
        }
        if jwe.iv.len() != enc.iv_len() {
            return Err(Error::JweFormat(JweFormatError::IvLength { len: jwe.iv.len(), enc }));
        }
        if jwe.tag.len() != enc.tag_len() {
            return Err(Error::JweTagLength { found: jwe.tag.len(), expected: enc.tag_len() });
        }
        if enc == Enc::A256CbcHs512 && (jwe.ciphertext.is_empty() || !jwe.ciphertext.len().is_multiple_of(16))
        {
            return Err(Error::JweFormat(JweFormatError::CbcLength(jwe.ciphertext.len())));
        }
        Ok(jwe)
    }

    /// The key-management algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }
    /// The content-encryption algorithm.
    pub fn enc(&self) -> Enc {
        self.enc
    }
    /// The `kid` header, if any (opaque: Azure uses tags, "not used" or UUIDs).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Fails unless the JWE uses exactly these algorithms.
    pub fn require_algorithms(&self, alg: Alg, enc: Enc) -> Result<(), Error> {
        if self.alg == alg && self.enc == enc {
            Ok(())
        } else {
            Err(Error::JweAlgorithm { alg: self.alg.name().into(), enc: self.enc.name().into() })
        }
    }

    /// Decrypts a `dir` JWE with the given content-encryption key.
    pub fn decrypt_dir(&self, cek: &SecretBytes) -> Result<SecretBytes, Error> {
        if self.alg != Alg::Dir {
            return Err(Error::JweFormat(JweFormatError::NotAlg(Alg::Dir)));
        }
        self.decrypt_content(cek.expose())
    }

    /// Unwraps the CEK with the RSA private key, then decrypts.
    pub fn decrypt_rsa(&self, key: &(impl crate::RsaKey + ?Sized)) -> Result<SecretBytes, Error> {
        if self.alg != Alg::RsaOaep256 {
            return Err(Error::JweFormat(JweFormatError::NotAlg(Alg::RsaOaep256)));
        }
        let cek = key.decrypt_oaep_sha256(&self.encrypted_key)?;
        if cek.len() != self.enc.cek_len() {
            return Err(Error::JweFormat(JweFormatError::CekLength { len: cek.len(), enc: self.enc }));
        }
        self.decrypt_content(&cek)
    }

    fn decrypt_content(&self, cek: &[u8]) -> Result<SecretBytes, Error> {
        if cek.len() != self.enc.cek_len() {
            return Err(Error::Crypto(CryptoError::KeyLength {
                what: self.enc.name(),
                len: cek.len(),
                expected: self.enc.cek_len(),
            }));
        }
        // Tag length was checked by `parse`; re-check so this can never be skipped.
        if self.tag.len() != self.enc.tag_len() {
            return Err(Error::JweTagLength { found: self.tag.len(), expected: self.enc.tag_len() });
        }
        let aad = self.header_b64.as_bytes();
        match self.enc {
            Enc::A256CbcHs512 => {
                let (mac_key, enc_key) = cek.split_at(32);
                let expected = cbc_hs512_tag(mac_key, aad, &self.iv, &self.ciphertext)?;
                if !bool::from(expected.as_slice().ct_eq(&self.tag)) {
                    return Err(Error::JweIntegrity);
                }
                let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(enc_key, &self.iv)
                    .map_err(|e| Error::Crypto(CryptoError::operation("AES-CBC key/IV", e)))?;
                let mut buf = self.ciphertext.clone();
                let result = dec.decrypt_padded::<Pkcs7>(&mut buf).map(<[u8]>::len);
                match result {
                    Ok(n) => {
                        buf.truncate(n);
                        Ok(SecretBytes::new(buf))
                    }
                    Err(_) => {
                        buf.zeroize();
                        // Authenticated but badly padded: the sender is broken.
                        Err(Error::JweFormat(JweFormatError::Padding))
                    }
                }
            }
            Enc::A256Gcm => crate::primitives::aead::open(cek, &self.iv, aad, &self.ciphertext, &self.tag),
        }
    }

    /// The compact serialization.
    pub fn serialize(&self) -> String {
        format!(
            "{}.{}.{}.{}.{}",
            self.header_b64,
            b64::url_encode(&self.encrypted_key),
            b64::url_encode(&self.iv),
            b64::url_encode(&self.ciphertext),
            b64::url_encode(&self.tag)
        )
    }

    /// Encrypts with `dir` and the given CEK; header `{"alg":"dir","enc":…,"kid":kid}`.
    pub fn encrypt_dir<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        enc: Enc,
        cek: &SecretBytes,
        kid: &str,
        plaintext: &[u8],
    ) -> Result<Self, Error> {
        Self::encrypt(rng, Alg::Dir, enc, cek.expose(), Vec::new(), kid, plaintext)
    }

    /// Encrypts to an RSA public key with `RSA-OAEP-256` and a fresh random CEK.
    pub fn encrypt_rsa<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        enc: Enc,
        recipient: &rsa::PublicKey,
        kid: &str,
        plaintext: &[u8],
    ) -> Result<Self, Error> {
        let mut cek = Zeroizing::new(vec![0u8; enc.cek_len()]);
        rng.try_fill_bytes(&mut cek).map_err(|_| Error::Rng)?;
        let wrapped = recipient
            .oaep_encrypt_with_rng::<Sha256, _>(rng, &cek)
            .map_err(|e| Error::Crypto(CryptoError::operation("RSA-OAEP encryption", e)))?;
        Self::encrypt(rng, Alg::RsaOaep256, enc, &cek, wrapped, kid, plaintext)
    }

    fn encrypt<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
        alg: Alg,
        enc: Enc,
        cek: &[u8],
        encrypted_key: Vec<u8>,
        kid: &str,
        plaintext: &[u8],
    ) -> Result<Self, Error> {
        if cek.len() != enc.cek_len() {
            return Err(Error::Crypto(CryptoError::KeyLength {
                what: enc.name(),
                len: cek.len(),
                expected: enc.cek_len(),
            }));
        }
        let header = Header { alg: alg.name().into(), enc: enc.name().into(), kid: Some(kid.into()) };
        let header_json = serde_json::to_vec(&header)
            .map_err(|e| Error::Serialize { what: "JWE header", detail: e.to_string() })?;
        let header_b64 = b64::url_encode(&header_json);
        let aad = header_b64.as_bytes();
        let mut iv = vec![0u8; enc.iv_len()];
        rng.try_fill_bytes(&mut iv).map_err(|_| Error::Rng)?;
        let (ciphertext, tag) = match enc {
            Enc::A256CbcHs512 => {
                let (mac_key, enc_key) = cek.split_at(32);
                let ct = cbc::Encryptor::<aes::Aes256>::new_from_slices(enc_key, &iv)
                    .map_err(|e| Error::Crypto(CryptoError::operation("AES-CBC key/IV", e)))?
                    .encrypt_padded_vec::<Pkcs7>(plaintext);
                let tag = cbc_hs512_tag(mac_key, aad, &iv, &ct)?;
                (ct, tag)
            }
            Enc::A256Gcm => {
                let sealed = crate::primitives::aead::seal_with_iv(cek, &iv, aad, plaintext)?;
                (sealed.ciphertext, sealed.tag)
            }
        };
        Ok(CompactJwe { header_b64, alg, enc, kid: Some(kid.into()), encrypted_key, iv, ciphertext, tag })
    }
}

/// RFC 7518 §5.2.2.1: first 32 bytes of HMAC-SHA-512(MAC_KEY, AAD || IV || C || AL).
fn cbc_hs512_tag(mac_key: &[u8], aad: &[u8], iv: &[u8], ct: &[u8]) -> Result<Vec<u8>, Error> {
    let mut mac = <Hmac<Sha512> as hmac::KeyInit>::new_from_slice(mac_key)
        .map_err(|e| Error::Crypto(CryptoError::operation("HMAC key", e)))?;
    mac.update(aad);
    mac.update(iv);
    mac.update(ct);
    mac.update(&((aad.len() as u64) * 8).to_be_bytes());
    Ok(mac.finalize().into_bytes()[..32].to_vec())
}

/// What is wrong with a compact JWE's structure ([`Error::JweFormat`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JweFormatError {
    /// Not 5 dot-separated parts.
    Parts(usize),
    /// A `dir` JWE with an encrypted key.
    DirWithKey,
    /// An RSA-OAEP-256 JWE without one.
    NoWrappedKey,
    /// An IV of the wrong length for `enc`.
    IvLength {
        /// Its length.
        len: usize,
        /// The content encryption.
        enc: Enc,
    },
    /// A CBC ciphertext that is not a positive multiple of 16 bytes.
    CbcLength(usize),
    /// Another key management than this one was expected.
    NotAlg(Alg),
    /// An unwrapped key of the wrong length for `enc`.
    CekLength {
        /// Its length.
        len: usize,
        /// The content encryption.
        enc: Enc,
    },
    /// Authenticated, but badly padded: the sender is broken.
    Padding,
    /// A share's `kid` is not the request's nonce.
    KidNotNonce,
}

impl fmt::Display for JweFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use JweFormatError::*;
        match self {
            Parts(n) => write!(f, "a compact JWE has 5 dot-separated parts, this has {n}"),
            DirWithKey => f.write_str("a `dir` JWE must have an empty encrypted key"),
            NoWrappedKey => f.write_str("the RSA-OAEP-256 encrypted key is empty"),
            IvLength { len, enc } => {
                write!(f, "the initialization vector is {len} bytes, {} needs {}", enc.name(), enc.iv_len())
            }
            CbcLength(n) => write!(f, "the CBC ciphertext is {n} bytes, not a positive multiple of 16"),
            NotAlg(Alg::Dir) => f.write_str("expected a `dir` JWE"),
            NotAlg(Alg::RsaOaep256) => f.write_str("expected an RSA-OAEP-256 JWE"),
            CekLength { len, enc } => {
                write!(f, "the unwrapped key is {len} bytes, {} needs {}", enc.name(), enc.cek_len())
            }
            Padding => f.write_str("authenticated plaintext has invalid padding"),
            KidNotNonce => f.write_str("its kid is not this request's nonce"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> getrandom::SysRng {
        getrandom::SysRng
    }

    fn cek() -> SecretBytes {
        SecretBytes::new((0u8..64).collect())
    }

    #[test]
    fn dir_round_trip_and_exact_header() {
        let jwe =
            CompactJwe::encrypt_dir(&mut rng(), Enc::A256CbcHs512, &cek(), "hsm_backup", b"secret").unwrap();
        let text = jwe.serialize();
        let header = b64::url_decode(text.split('.').next().unwrap(), "h").unwrap();
        assert_eq!(header, br#"{"alg":"dir","enc":"A256CBC-HS512","kid":"hsm_backup"}"#);
        assert_eq!(text.split('.').nth(1), Some(""));
        let parsed = CompactJwe::parse(&text).unwrap();
        assert_eq!(parsed.decrypt_dir(&cek()).unwrap().expose(), b"secret");
        // CBC: ciphertext length is 16 * (len/16 + 1).
        assert_eq!(parsed.ciphertext.len(), 16);
    }

    fn tamper(text: &str, part: usize, f: impl Fn(&mut Vec<u8>)) -> String {
        let mut parts: Vec<String> = text.split('.').map(str::to_owned).collect();
        let mut raw = b64::url_decode(&parts[part], "t").unwrap();
        f(&mut raw);
        parts[part] = b64::url_encode(&raw);
        parts.join(".")
    }

    #[test]
    fn a256gcm_tag_length_must_be_16() {
        let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        let text = CompactJwe::encrypt_rsa(&mut rng(), Enc::A256Gcm, &rsa::PublicKey::from(&key), "n", b"x")
            .unwrap()
            .serialize();
        let bad = tamper(&text, 4, |t| t.resize(32, 0));
        let err = CompactJwe::parse(&bad).unwrap_err();
        assert_eq!(err, Error::JweTagLength { found: 32, expected: 16 });
        assert_eq!(err.to_string(), "JWE authentication tag is 32 bytes, it must be exactly 16; refused");
    }

    #[test]
    fn tag_length_must_be_32() {
        let text =
            CompactJwe::encrypt_dir(&mut rng(), Enc::A256CbcHs512, &cek(), "t", b"x").unwrap().serialize();
        for len in [0usize, 3, 16, 31, 33, 64] {
            let bad = tamper(&text, 4, |t| t.resize(len, 0));
            assert_eq!(
                CompactJwe::parse(&bad).unwrap_err(),
                Error::JweTagLength { found: len, expected: 32 },
                "len {len}"
            );
        }
    }

    #[test]
    fn every_flipped_byte_is_rejected() {
        let text = CompactJwe::encrypt_dir(&mut rng(), Enc::A256CbcHs512, &cek(), "t", &[7u8; 40])
            .unwrap()
            .serialize();
        for part in [0usize, 2, 3, 4] {
            let n = b64::url_decode(text.split('.').nth(part).unwrap(), "t").unwrap().len();
            for i in 0..n {
                let bad = tamper(&text, part, |b| b[i] ^= 0x01);
                let result = CompactJwe::parse(&bad).and_then(|j| j.decrypt_dir(&cek()));
                assert!(result.is_err(), "part {part} byte {i} accepted");
            }
        }
        // Wrong key.
        let wrong = SecretBytes::new(vec![1u8; 64]);
        assert_eq!(CompactJwe::parse(&text).unwrap().decrypt_dir(&wrong).unwrap_err(), Error::JweIntegrity);
    }

    #[test]
    fn structure_and_algorithms_checked() {
        assert!(matches!(CompactJwe::parse("a.b.c.d"), Err(Error::JweFormat(_))));
        assert!(matches!(CompactJwe::parse("a.b.c.d.e.f"), Err(Error::JweFormat(_))));
        let hdr = |s: &str| b64::url_encode(s.as_bytes());
        for (alg, enc) in [
            ("RSA-OAEP", "A256CBC-HS512"),
            ("RSA1_5", "A256CBC-HS512"),
            ("dir", "A128CBC-HS256"),
            ("none", "A256GCM"),
        ] {
            let text = format!(
                "{}..AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA",
                hdr(&format!(r#"{{"alg":"{alg}","enc":"{enc}"}}"#))
            );
            assert!(matches!(CompactJwe::parse(&text), Err(Error::JweAlgorithm { .. })), "{alg}/{enc}");
        }
        assert!(matches!(CompactJwe::parse(&format!("{}....", hdr("{not json"))), Err(Error::Json { .. })));
    }

    #[test]
    fn gcm_round_trip_and_tamper() {
        let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        let jwe =
            CompactJwe::encrypt_rsa(&mut rng(), Enc::A256Gcm, key.as_ref(), "share", b"payload").unwrap();
        let text = jwe.serialize();
        let parsed = CompactJwe::parse(&text).unwrap();
        parsed.require_algorithms(Alg::RsaOaep256, Enc::A256Gcm).unwrap();
        assert!(parsed.require_algorithms(Alg::RsaOaep256, Enc::A256CbcHs512).is_err());
        assert_eq!(parsed.decrypt_rsa(&key).unwrap().expose(), b"payload");
        let bad = tamper(&text, 3, |b| b[0] ^= 0x80);
        assert_eq!(CompactJwe::parse(&bad).unwrap().decrypt_rsa(&key).unwrap_err(), Error::JweIntegrity);
        let other = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
        assert_eq!(parsed.decrypt_rsa(&other).unwrap_err(), Error::KeyUnwrap);
    }
}
