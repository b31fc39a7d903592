//! The private-key operations the formats need, behind one trait, so that a
//! custodian key can be a key file (an `rsa::PrivateKey` in memory) or a key
//! on a hardware token that never leaves it (PKCS#11, in another crate).

use sha2::Sha256;
use signature::{SignatureEncoding, Signer};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use super::crypto_error::CryptoError;
use crate::Error;

/// An RSA private key as the ceremony uses it.
pub trait RsaKey {
    /// The public half.
    fn public_key(&self) -> rsa::PublicKey;
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label (JWE `RSA-OAEP-256`).
    /// [`Error::KeyUnwrap`] when the ciphertext is not for this key.
    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error>;
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (JWS `PS256`).
    fn sign_pss_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
    /// RSASSA-PKCS1-v1_5 with SHA-256 (X.509 `sha256WithRSAEncryption`).
    fn sign_pkcs1v15_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error>;
}

impl RsaKey for rsa::PrivateKey {
    fn public_key(&self) -> rsa::PublicKey {
        self.to_public_key()
    }
    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.oaep_decrypt::<Sha256>(ciphertext).map(Zeroizing::new).map_err(|_| Error::KeyUnwrap)
    }
    fn sign_pss_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        rsa::pss::SigningKey::<Sha256>::new(self.clone())
            .try_sign(message)
            .map(|s| s.to_vec())
            .map_err(|e| Error::Crypto(CryptoError::operation("PSS signing", e)))
    }
    fn sign_pkcs1v15_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        rsa::pkcs1v15::SigningKey::<Sha256>::new(self.clone())
            .try_sign(message)
            .map(|s| s.to_vec())
            .map_err(|e| Error::Crypto(CryptoError::operation("PKCS#1 v1.5 signing", e)))
    }
}

impl<K: RsaKey + ?Sized> RsaKey for Box<K> {
    fn public_key(&self) -> rsa::PublicKey {
        (**self).public_key()
    }
    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        (**self).decrypt_oaep_sha256(ciphertext)
    }
    fn sign_pss_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).sign_pss_sha256(message)
    }
    fn sign_pkcs1v15_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).sign_pkcs1v15_sha256(message)
    }
}

/// True when `key` is the private half of `public`.
pub fn is_pair(key: &(impl RsaKey + ?Sized), public: &rsa::PublicKey) -> bool {
    &key.public_key() == public
}

/// EME-OAEP decoding (RFC 8017 §7.1.2 step 3) with SHA-256 and an empty label,
/// for tokens that only offer raw RSA (`CKM_RSA_X_509`): `em` is the raw RSA
/// result, `k` the modulus length in bytes. Runs in time independent of where
/// the decoding fails, and zeroizes its intermediate values.
pub fn oaep_sha256_decode(em: &[u8], k: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    use sha2::Digest;
    const H: usize = 32;
    if k < 2 * H + 2 || em.len() > k {
        return Err(Error::KeyUnwrap);
    }
    // Left-pad to k bytes (a token may strip leading zeros).
    let mut padded = Zeroizing::new(vec![0u8; k]);
    padded[k - em.len()..].copy_from_slice(em);
    let y = padded[0];
    let (masked_seed, masked_db) = padded[1..].split_at(H);
    let mgf1 = |seed: &[u8], len: usize| -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(len + H));
        let mut counter = 0u32;
        while out.len() < len {
            let mut h = Sha256::new();
            h.update(seed);
            h.update(counter.to_be_bytes());
            out.extend_from_slice(&h.finalize());
            counter += 1;
        }
        out.truncate(len);
        out
    };
    let seed_mask = mgf1(masked_db, H);
    let seed: Zeroizing<Vec<u8>> =
        Zeroizing::new(masked_seed.iter().zip(seed_mask.iter()).map(|(a, b)| a ^ b).collect());
    let db_mask = mgf1(&seed, k - H - 1);
    let db: Zeroizing<Vec<u8>> =
        Zeroizing::new(masked_db.iter().zip(db_mask.iter()).map(|(a, b)| a ^ b).collect());
    let l_hash = Sha256::digest(b"");
    let mut good = y.ct_eq(&0) & db[..H].ct_eq(&l_hash[..]);
    // Find the 0x01 separator after the zero padding, without branching on secrets.
    let mut looking = subtle::Choice::from(1u8);
    let mut index = 0u32;
    for (i, &b) in db.iter().enumerate().skip(H) {
        let is_one = b.ct_eq(&1);
        let is_zero = b.ct_eq(&0);
        index.conditional_assign(&(i as u32), looking & is_one);
        // While looking, only zeros or the separator are allowed.
        good &= !looking | is_zero | is_one;
        looking &= !is_one;
    }
    good &= !looking;
    if bool::from(good) {
        Ok(Zeroizing::new(db[index as usize + 1..].to_vec()))
    } else {
        Err(Error::KeyUnwrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::PublicKeyParts;

    #[test]
    fn host_oaep_decoding_matches_the_rsa_crate() {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        let k = key.size();
        for len in [0usize, 1, 32, 64, 190] {
            let msg = vec![0x5a; len];
            let ct =
                key.to_public_key().oaep_encrypt_with_rng::<Sha256, _>(&mut getrandom::SysRng, &msg).unwrap();
            // Raw RSA, as CKM_RSA_X_509 returns it.
            let c = rsa::BoxedUint::from_be_slice(&ct, key.n().bits_precision()).unwrap();
            let m = rsa::hazmat::rsa_decrypt_and_check(&key, None::<&mut getrandom::SysRng>, &c).unwrap();
            let em = m.to_be_bytes();
            assert_eq!(&oaep_sha256_decode(&em, k).unwrap()[..], &msg[..]);
            // A flipped bit anywhere is refused.
            let mut bad = em.to_vec();
            bad[k / 2] ^= 1;
            assert_eq!(oaep_sha256_decode(&bad, k).unwrap_err(), Error::KeyUnwrap);
        }
    }
}
