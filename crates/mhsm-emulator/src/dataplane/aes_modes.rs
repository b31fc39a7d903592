//! The AES modes Key Vault defines for `oct-HSM` keys besides GCM (which
//! `sd_core::primitives::aead` provides): CBC with PKCS#7 padding (`A*CBCPAD`) and
//! AES Key Wrap, RFC 3394 (`A*KW`), for 128-, 192- and 256-bit keys.

use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};

/// Runs `$body` with `$cipher` bound to the AES type for the key's size.
macro_rules! by_key_size {
    ($key:expr, $cipher:ident => $body:expr) => {
        match $key.len() {
            16 => {
                type $cipher = aes::Aes128;
                $body
            }
            24 => {
                type $cipher = aes::Aes192;
                $body
            }
            32 => {
                type $cipher = aes::Aes256;
                $body
            }
            n => Err(format!("an AES key is 16, 24 or 32 bytes, not {n}")),
        }
    };
}

/// AES-CBC encryption with PKCS#7 padding.
pub fn cbc_pad_encrypt(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, String> {
    by_key_size!(key, C => cbc::Encryptor::<C>::new_from_slices(key, iv)
        .map(|e| e.encrypt_padded_vec::<Pkcs7>(plaintext))
        .map_err(|_| "the IV must be 16 bytes".to_owned()))
}

/// AES-CBC decryption, removing PKCS#7 padding.
pub fn cbc_pad_decrypt(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, String> {
    by_key_size!(key, C => {
        let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| "the IV must be 16 bytes".to_owned())?;
        let mut buf = ciphertext.to_vec();
        let n = dec.decrypt_padded::<Pkcs7>(&mut buf).map_err(|_| "bad padding: wrong key or IV".to_owned())?.len();
        buf.truncate(n);
        Ok(buf)
    })
}

/// RFC 3394's default initial value.
const KW_IV: [u8; 8] = [0xA6; 8];

/// AES Key Wrap (RFC 3394, section 2.2.1).
pub fn key_wrap(kek: &[u8], key: &[u8]) -> Result<Vec<u8>, String> {
    if key.len() < 16 || !key.len().is_multiple_of(8) {
        return Err("the key to wrap must be a multiple of 8 bytes, at least 16".into());
    }
    by_key_size!(kek, C => {
        let cipher = C::new_from_slice(kek).map_err(|_| "bad key".to_owned())?;
        let n = key.len() / 8;
        let mut a = KW_IV;
        let mut r: Vec<[u8; 8]> = key.chunks(8).map(|c| c.try_into().unwrap_or([0; 8])).collect();
        for j in 0..6 {
            for (i, ri) in r.iter_mut().enumerate() {
                let mut block = aes::Block::default();
                block[..8].copy_from_slice(&a);
                block[8..].copy_from_slice(ri);
                cipher.encrypt_block(&mut block);
                let t = (n * j + i + 1) as u64;
                a.copy_from_slice(&block[..8]);
                for (x, y) in a.iter_mut().zip(t.to_be_bytes()) {
                    *x ^= y;
                }
                ri.copy_from_slice(&block[8..]);
            }
        }
        Ok(a.iter().chain(r.iter().flatten()).copied().collect())
    })
}

/// AES Key Unwrap (RFC 3394, section 2.2.2), checking the integrity value.
pub fn key_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, String> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err("a wrapped key is a multiple of 8 bytes, at least 24".into());
    }
    by_key_size!(kek, C => {
        let cipher = C::new_from_slice(kek).map_err(|_| "bad key".to_owned())?;
        let n = wrapped.len() / 8 - 1;
        let mut a: [u8; 8] = wrapped[..8].try_into().unwrap_or([0; 8]);
        let mut r: Vec<[u8; 8]> = wrapped[8..].chunks(8).map(|c| c.try_into().unwrap_or([0; 8])).collect();
        for j in (0..6).rev() {
            for i in (0..n).rev() {
                let t = (n * j + i + 1) as u64;
                for (x, y) in a.iter_mut().zip(t.to_be_bytes()) {
                    *x ^= y;
                }
                let mut block = aes::Block::default();
                block[..8].copy_from_slice(&a);
                block[8..].copy_from_slice(&r[i]);
                cipher.decrypt_block(&mut block);
                a.copy_from_slice(&block[..8]);
                r[i].copy_from_slice(&block[8..]);
            }
        }
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&a[..], &KW_IV[..])) {
            return Err("the integrity check failed: wrong key, or the data was altered".into());
        }
        Ok(r.concat())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_wrap_matches_rfc_3394_test_vector() {
        // RFC 3394, 4.6: 256 bits of key data wrapped with a 256-bit KEK.
        let kek: Vec<u8> = (0u8..32).collect();
        let data = hex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
        let wrapped = key_wrap(&kek, &data).unwrap();
        assert_eq!(
            wrapped,
            hex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21")
        );
        assert_eq!(key_unwrap(&kek, &wrapped).unwrap(), data);
        let mut bad = wrapped.clone();
        bad[10] ^= 1;
        assert!(key_unwrap(&kek, &bad).is_err());
    }

    #[test]
    fn cbc_round_trips_for_every_key_size() {
        for len in [16, 24, 32] {
            let key = vec![5u8; len];
            let ct = cbc_pad_encrypt(&key, &[1u8; 16], b"a message of some length").unwrap();
            assert_eq!(ct.len() % 16, 0);
            assert_eq!(cbc_pad_decrypt(&key, &[1u8; 16], &ct).unwrap(), b"a message of some length");
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
