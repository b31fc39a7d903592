//! AES-256-GCM with a detached tag: used by JWE `A256GCM` (our share bundles)
//! and by the emulator's `A256GCM` key operations, as Key Vault shapes them
//! (`value`, `iv`, `tag` returned separately).

use aes_gcm::aead::{AeadInOut, KeyInit};
use rand_core::TryCryptoRng;
use zeroize::Zeroize;

use super::crypto_error::CryptoError;
use crate::Error;
use crate::primitives::secret::SecretBytes;

/// Key length of AES-256.
pub const KEY_LEN: usize = 32;
/// GCM nonce length we use (96 bits, the recommended size).
pub const IV_LEN: usize = 12;
/// GCM tag length.
pub const TAG_LEN: usize = 16;

/// Output of [`seal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Fresh random nonce.
    pub iv: Vec<u8>,
    /// Ciphertext, same length as the plaintext.
    pub ciphertext: Vec<u8>,
    /// Authentication tag.
    pub tag: Vec<u8>,
}

fn cipher(key: &[u8]) -> Result<aes_gcm::Aes256Gcm, Error> {
    aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| {
        Error::Crypto(CryptoError::KeyLength { what: "AES-256-GCM", len: key.len(), expected: KEY_LEN })
    })
}

/// Encrypts with a fresh random nonce.
pub fn seal<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Sealed, Error> {
    let mut iv = vec![0u8; IV_LEN];
    rng.try_fill_bytes(&mut iv).map_err(|_| Error::Rng)?;
    seal_with_iv(key, &iv, aad, plaintext)
}

/// Encrypts with the given nonce (never reuse one under the same key).
pub(crate) fn seal_with_iv(key: &[u8], iv: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Sealed, Error> {
    let nonce = aes_gcm::aead::Nonce::<aes_gcm::Aes256Gcm>::try_from(iv)
        .map_err(|_| Error::Crypto(CryptoError::NonceLength { len: iv.len(), expected: IV_LEN }))?;
    let mut buf = plaintext.to_vec();
    let tag = cipher(key)?
        .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into())
        .map_err(|e| Error::Crypto(CryptoError::operation("AES-GCM encryption", e)))?;
    Ok(Sealed { iv: iv.to_vec(), ciphertext: buf, tag: tag.to_vec() })
}

/// Decrypts and authenticates; [`Error::JweIntegrity`] when the tag does not match.
pub fn open(key: &[u8], iv: &[u8], aad: &[u8], ciphertext: &[u8], tag: &[u8]) -> Result<SecretBytes, Error> {
    let nonce = aes_gcm::aead::Nonce::<aes_gcm::Aes256Gcm>::try_from(iv)
        .map_err(|_| Error::Crypto(CryptoError::NonceLength { len: iv.len(), expected: IV_LEN }))?;
    let tag = aes_gcm::aead::Tag::<aes_gcm::Aes256Gcm>::try_from(tag)
        .map_err(|_| Error::JweTagLength { found: tag.len(), expected: TAG_LEN })?;
    let mut buf = ciphertext.to_vec();
    match cipher(key)?.decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag) {
        Ok(()) => Ok(SecretBytes::new(buf)),
        Err(_) => {
            buf.zeroize();
            Err(Error::JweIntegrity)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = [7u8; 32];
        let s = seal(&mut getrandom::SysRng, &key, b"aad", b"message").unwrap();
        assert_eq!(open(&key, &s.iv, b"aad", &s.ciphertext, &s.tag).unwrap().expose(), b"message");
        assert_eq!(open(&key, &s.iv, b"other", &s.ciphertext, &s.tag).unwrap_err(), Error::JweIntegrity);
        let mut ct = s.ciphertext.clone();
        ct[0] ^= 1;
        assert_eq!(open(&key, &s.iv, b"aad", &ct, &s.tag).unwrap_err(), Error::JweIntegrity);
        assert!(open(&key, &s.iv, b"aad", &s.ciphertext, &s.tag[..8]).is_err());
        assert!(seal(&mut getrandom::SysRng, &[0u8; 16], b"", b"x").is_err());
    }
}
