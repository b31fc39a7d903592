//! RSA private keys in the PEM forms Azure's tools read and write:
//! PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2),
//! and, for reading only, PKCS#1 (`RSA PRIVATE KEY`).
//!
//! We write encrypted PKCS#8 with PBES2: scrypt (N = 2^14, r = 8, p = 1; OpenSSL 3.0
//! refuses larger N) and AES-256-CBC, which `openssl pkey`, az CLI and
//! PowerShell all read.

use std::fmt;

use der::pem::LineEnding;
use pkcs8::{EncodePrivateKey, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use rand_core::TryCryptoRng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use zeroize::Zeroizing;

use crate::Error;
use crate::pki::cert::MIN_RSA_BITS;

/// How a PEM private key is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEncoding {
    /// `ENCRYPTED PRIVATE KEY`: needs a passphrase.
    EncryptedPkcs8,
    /// `PRIVATE KEY`.
    Pkcs8,
    /// `RSA PRIVATE KEY` (read only).
    Pkcs1,
}

/// Identifies the PEM label without decoding secrets.
pub fn encoding_of(pem: &str) -> Result<KeyEncoding, Error> {
    let label = pem
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("-----BEGIN "))
        .ok_or(Error::PrivateKey(PrivateKeyError::NoPem))?;
    match label {
        "-----BEGIN ENCRYPTED PRIVATE KEY-----" => Ok(KeyEncoding::EncryptedPkcs8),
        "-----BEGIN PRIVATE KEY-----" => Ok(KeyEncoding::Pkcs8),
        "-----BEGIN RSA PRIVATE KEY-----" => Ok(KeyEncoding::Pkcs1),
        other => Err(Error::PrivateKey(PrivateKeyError::NotAKey(other.to_owned()))),
    }
}

/// Reads a PEM private key. `passphrase` is needed for encrypted keys and
/// ignored for unencrypted ones.
///
/// Besides parsing, every field of the key must agree with the others: the
/// `rsa` crate recomputes the CRT values (exponent1, exponent2, coefficient)
/// instead of reading them, so a damaged key file could otherwise load.
pub fn from_pem(pem: &str, passphrase: Option<&[u8]>) -> Result<rsa::PrivateKey, Error> {
    let encoding = encoding_of(pem)?;
    let (label, der) = der::pem::decode_vec(pem.trim_matches(|c: char| c.is_ascii_whitespace()).as_bytes())
        .map_err(|e| Error::PrivateKey(PrivateKeyError::BadPem(e.to_string())))?;
    let der = Zeroizing::new(der);
    let expected_label = match encoding {
        KeyEncoding::EncryptedPkcs8 => "ENCRYPTED PRIVATE KEY",
        KeyEncoding::Pkcs8 => "PRIVATE KEY",
        KeyEncoding::Pkcs1 => "RSA PRIVATE KEY",
    };
    if label != expected_label {
        return Err(Error::PrivateKey(PrivateKeyError::UnexpectedLabel(label.to_owned())));
    }
    let key = match encoding {
        KeyEncoding::Pkcs1 => from_pkcs1(&der, Error::PrivateKey(PrivateKeyError::NotPkcs1))?,
        KeyEncoding::Pkcs8 => from_pkcs8(&der, |e| Error::PrivateKey(PrivateKeyError::NotPkcs8(e)))?,
        KeyEncoding::EncryptedPkcs8 => {
            let passphrase = passphrase.ok_or(Error::PassphraseRequired)?;
            let info = EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
                .map_err(|e| Error::PrivateKey(PrivateKeyError::BadEncryptedStructure(e.to_string())))?;
            // Before any work: a crafted file must not make us allocate or spin without bound.
            check_kdf_limits(&info.encryption_algorithm)?;
            // The structure is valid, so any failure from here on means the
            // passphrase is wrong (a wrong key can pass the CBC padding check by
            // chance and then fail to parse).
            let plain = info.decrypt(passphrase).map_err(|_| Error::WrongPassphrase)?;
            from_pkcs8(plain.as_bytes(), |_| Error::WrongPassphrase)?
        }
    };
    let bits = key.size() * 8;
    if bits < MIN_RSA_BITS {
        return Err(Error::PrivateKey(PrivateKeyError::KeyTooSmall { bits, min: MIN_RSA_BITS }));
    }
    Ok(key)
}

/// Largest scrypt cost accepted, as log2 N (OpenSSL, age and our own writer use 14 to 20).
pub const MAX_SCRYPT_LOG_N: u32 = 22;
/// Largest scrypt block size r.
pub const MAX_SCRYPT_R: u16 = 32;
/// Largest scrypt parallelism p.
pub const MAX_SCRYPT_P: u16 = 16;
/// Most memory scrypt may take (128 · N · r bytes): 1 GiB, four times age's
/// largest default and 64 times OpenSSL's.
pub const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
/// Most PBKDF2 iterations accepted (OWASP's 2023 advice for SHA-256 is 600 000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Refuses key-derivation parameters beyond what any sane writer uses: with
/// them a key file alone could exhaust memory (scrypt) or time (PBKDF2).
fn check_kdf_limits(scheme: &pkcs5::EncryptionScheme) -> Result<(), Error> {
    let too = |limit: KdfLimit| Err(Error::PrivateKey(PrivateKeyError::KdfLimit(limit)));
    let pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Err(Error::PrivateKey(PrivateKeyError::Pbes1));
    };
    match &params.kdf {
        pkcs5::pbes2::Kdf::Scrypt(p) => {
            let n = p.cost_parameter;
            if !n.is_power_of_two() || n.trailing_zeros() > MAX_SCRYPT_LOG_N {
                return too(KdfLimit::ScryptN(n));
            }
            if p.block_size > MAX_SCRYPT_R {
                return too(KdfLimit::ScryptR(p.block_size.into()));
            }
            if p.parallelization > MAX_SCRYPT_P {
                return too(KdfLimit::ScryptP(p.parallelization.into()));
            }
            let memory = 128 * n * u64::from(p.block_size);
            if memory > MAX_SCRYPT_MEMORY {
                return too(KdfLimit::ScryptMemory { n, r: p.block_size.into(), memory });
            }
        }
        pkcs5::pbes2::Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => {
            return too(KdfLimit::Pbkdf2(p.iteration_count.into()));
        }
        pkcs5::pbes2::Kdf::Pbkdf2(_) => {}
        _ => return Err(Error::PrivateKey(PrivateKeyError::UnknownKdf)),
    }
    Ok(())
}

fn from_pkcs8(der: &[u8], err: impl Fn(String) -> Error) -> Result<rsa::PrivateKey, Error> {
    let info = PrivateKeyInfoRef::try_from(der).map_err(|e| err(e.to_string()))?;
    if info.algorithm.oid != const_oid::db::rfc5912::RSA_ENCRYPTION {
        return Err(err(format!("algorithm {} is not rsaEncryption", info.algorithm.oid)));
    }
    from_pkcs1(info.private_key.as_bytes(), err("bad RSA key structure".into()))
}

/// Parses PKCS#1 `RSAPrivateKey` and checks that every stored field equals
/// what the key implies.
fn from_pkcs1(der: &[u8], err: Error) -> Result<rsa::PrivateKey, Error> {
    use der::Decode;
    use rsa::pkcs1::{EncodeRsaPrivateKey, RsaPrivateKeyRef};
    let given = RsaPrivateKeyRef::from_der(der).map_err(|_| err.clone())?;
    let key = rsa::PrivateKey::from_pkcs1_der(der).map_err(|_| err.clone())?;
    let ours_doc = key.to_pkcs1_der().map_err(|_| err.clone())?;
    let ours = RsaPrivateKeyRef::from_der(ours_doc.as_bytes()).map_err(|_| err.clone())?;
    let same = given.modulus == ours.modulus
        && given.public_exponent == ours.public_exponent
        && given.private_exponent == ours.private_exponent
        && given.prime1 == ours.prime1
        && given.prime2 == ours.prime2
        && given.exponent1 == ours.exponent1
        && given.exponent2 == ours.exponent2
        && given.coefficient == ours.coefficient;
    if !same {
        return Err(Error::PrivateKey(PrivateKeyError::Inconsistent));
    }
    Ok(key)
}

/// Generates an RSA key of `bits` bits (at least 2048), exponent 65537.
pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<rsa::PrivateKey, Error> {
    if bits < MIN_RSA_BITS {
        return Err(Error::PrivateKey(PrivateKeyError::TooWeak { bits, min: MIN_RSA_BITS }));
    }
    rsa::PrivateKey::new(rng, bits).map_err(|e| Error::PrivateKey(PrivateKeyError::Generation(e.to_string())))
}

/// Encrypted PKCS#8 PEM (PBES2, scrypt 2^14, AES-256-CBC).
pub fn to_encrypted_pem<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &rsa::PrivateKey,
    passphrase: &[u8],
) -> Result<Zeroizing<String>, Error> {
    if passphrase.is_empty() {
        return Err(Error::PrivateKey(PrivateKeyError::EmptyPassphrase));
    }
    let plain =
        key.to_pkcs8_der().map_err(|e| Error::PrivateKey(PrivateKeyError::encoding("encoding", e)))?;
    let info = PrivateKeyInfoRef::try_from(plain.as_bytes())
        .map_err(|e| Error::PrivateKey(PrivateKeyError::encoding("encoding", e)))?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rng.try_fill_bytes(&mut salt).map_err(|_| Error::Rng)?;
    rng.try_fill_bytes(&mut iv).map_err(|_| Error::Rng)?;
    let params = pkcs5::scrypt::Params::new(14, 8, 1)
        .map_err(|e| Error::PrivateKey(PrivateKeyError::encoding("scrypt parameters", e)))
        .and_then(|p| {
            pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(p, &salt, iv)
                .map_err(|e| Error::PrivateKey(PrivateKeyError::encoding("PBES2 parameters", e)))
        })?;
    let encrypted = info
        .encrypt_with_params(params, passphrase)
        .map_err(|e| Error::PrivateKey(PrivateKeyError::encoding("encryption", e)))?;
    encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
        .map_err(|e| Error::PrivateKey(PrivateKeyError::encoding("PEM", e)))
}

/// Unencrypted PKCS#8 PEM (for `--no-passphrase` and test keys).
pub fn to_plain_pem(key: &rsa::PrivateKey) -> Result<Zeroizing<String>, Error> {
    key.to_pkcs8_pem(LineEnding::LF).map_err(|e| Error::PrivateKey(PrivateKeyError::encoding("PEM", e)))
}

/// Why a private key cannot be read or made ([`Error::PrivateKey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateKeyError {
    /// No PEM `-----BEGIN` line.
    NoPem,
    /// A PEM block of another kind (its BEGIN line).
    NotAKey(String),
    /// The PEM cannot be decoded (the decoder's words).
    BadPem(String),
    /// The PEM label disagrees with its BEGIN line.
    UnexpectedLabel(String),
    /// Not an RSA PKCS#1 key.
    NotPkcs1,
    /// Not an RSA PKCS#8 key (why).
    NotPkcs8(String),
    /// The encrypted PKCS#8 structure cannot be read (the decoder's words).
    BadEncryptedStructure(String),
    /// The RSA key is smaller than the least taken.
    KeyTooSmall {
        /// Its size.
        bits: usize,
        /// The least size taken.
        min: usize,
    },
    /// A key size to generate below the least taken.
    TooWeak {
        /// The size asked for.
        bits: usize,
        /// The least size taken.
        min: usize,
    },
    /// The key file's KDF would cost more than a key file may.
    KdfLimit(KdfLimit),
    /// PBES1 encryption.
    Pbes1,
    /// A KDF other than scrypt and PBKDF2.
    UnknownKdf,
    /// The key's fields disagree with each other.
    Inconsistent,
    /// An empty passphrase to encrypt with.
    EmptyPassphrase,
    /// Generating a key failed (the library's words).
    Generation(String),
    /// Generating or encoding a key failed at `step` (the library's words).
    Encoding {
        /// What was being done.
        step: &'static str,
        /// The library's explanation.
        detail: String,
    },
}

/// Which limit a key file's KDF parameters break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfLimit {
    /// scrypt N above 2^[`MAX_SCRYPT_LOG_N`], or not a power of two.
    ScryptN(u64),
    /// scrypt r above [`MAX_SCRYPT_R`].
    ScryptR(u64),
    /// scrypt p above [`MAX_SCRYPT_P`].
    ScryptP(u64),
    /// scrypt N and r that take more than [`MAX_SCRYPT_MEMORY`] bytes.
    ScryptMemory {
        /// N.
        n: u64,
        /// r.
        r: u64,
        /// The bytes it takes.
        memory: u64,
    },
    /// PBKDF2 iterations above [`MAX_PBKDF2_ITERATIONS`].
    Pbkdf2(u64),
}

impl PrivateKeyError {
    fn encoding(step: &'static str, detail: impl fmt::Display) -> PrivateKeyError {
        PrivateKeyError::Encoding { step, detail: detail.to_string() }
    }
}

impl fmt::Display for KdfLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KdfLimit::ScryptN(n) => {
                write!(f, "scrypt N = {n} is above 2^{MAX_SCRYPT_LOG_N} (or not a power of two)")
            }
            KdfLimit::ScryptR(r) => write!(f, "scrypt r = {r} is above {MAX_SCRYPT_R}"),
            KdfLimit::ScryptP(p) => write!(f, "scrypt p = {p} is above {MAX_SCRYPT_P}"),
            KdfLimit::ScryptMemory { n, r, memory } => write!(
                f,
                "scrypt N = {n}, r = {r} would take {} MiB of memory, above {} MiB",
                memory >> 20,
                MAX_SCRYPT_MEMORY >> 20
            ),
            KdfLimit::Pbkdf2(i) => write!(f, "PBKDF2 iteration count {i} is above {MAX_PBKDF2_ITERATIONS}"),
        }
    }
}

impl fmt::Display for PrivateKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PrivateKeyError::*;
        match self {
            NoPem => f.write_str("no PEM `-----BEGIN` line found"),
            NotAKey(label) => write!(
                f,
                "PEM block {label:?} is not a private key (expected PRIVATE KEY or ENCRYPTED PRIVATE KEY)"
            ),
            BadPem(d) => write!(f, "bad PEM ({d})"),
            UnexpectedLabel(label) => write!(f, "unexpected PEM label {label:?}"),
            NotPkcs1 => f.write_str("not an RSA PKCS#1 key"),
            NotPkcs8(d) => write!(f, "not an RSA PKCS#8 key ({d})"),
            BadEncryptedStructure(d) => write!(f, "bad encrypted PKCS#8 structure ({d})"),
            KeyTooSmall { bits, min } => write!(f, "the RSA key is {bits} bits; at least {min} are required"),
            TooWeak { bits, min } => {
                write!(f, "{bits}-bit keys are too weak; at least {min} bits are required")
            }
            KdfLimit(limit) => {
                write!(f, "{limit}; refused (a key file's KDF must stay within OpenSSL's and our limits)")
            }
            Pbes1 => f.write_str("PBES1 encryption is obsolete; only PBES2 is accepted"),
            UnknownKdf => f.write_str("unknown key-derivation function; only scrypt and PBKDF2"),
            Inconsistent => f.write_str("the key's fields do not agree with each other: the file is damaged"),
            EmptyPassphrase => f.write_str("the passphrase is empty"),
            Generation(detail) => write!(f, "key generation failed: {detail}"),
            Encoding { step, detail } => write!(f, "{step} ({detail})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_round_trip_and_wrong_passphrase() {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        let pem = to_encrypted_pem(&mut getrandom::SysRng, &key, b"correct horse").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert_eq!(encoding_of(&pem).unwrap(), KeyEncoding::EncryptedPkcs8);
        assert_eq!(from_pem(&pem, Some(b"correct horse")).unwrap(), key);
        assert_eq!(from_pem(&pem, Some(b"battery staple")).unwrap_err(), Error::WrongPassphrase);
        assert_eq!(from_pem(&pem, None).unwrap_err(), Error::PassphraseRequired);
        let plain = to_plain_pem(&key).unwrap();
        assert_eq!(from_pem(&plain, None).unwrap(), key);
        assert_eq!(from_pem(&plain, Some(b"ignored")).unwrap(), key);
    }

    #[test]
    fn inconsistent_crt_fields_are_refused() {
        use der::{Decode, Encode};
        use rsa::pkcs1::{EncodeRsaPrivateKey, RsaPrivateKeyRef};
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
        let doc = key.to_pkcs1_der().unwrap();
        let mut fields = RsaPrivateKeyRef::from_der(doc.as_bytes()).unwrap();
        // Swap exponent1 and exponent2: every field still parses, the key is wrong.
        std::mem::swap(&mut fields.exponent1, &mut fields.exponent2);
        let der = fields.to_der().unwrap();
        let pem = der::pem::encode_string("RSA PRIVATE KEY", der::pem::LineEnding::LF, &der).unwrap();
        let err = from_pem(&pem, None).unwrap_err();
        assert!(err.to_string().contains("do not agree"), "{err}");
        // The untouched key loads from all three encodings.
        let good =
            der::pem::encode_string("RSA PRIVATE KEY", der::pem::LineEnding::LF, doc.as_bytes()).unwrap();
        assert_eq!(from_pem(&good, None).unwrap(), key);
    }

    #[test]
    fn garbage_is_named() {
        assert!(matches!(from_pem("hello", None), Err(Error::PrivateKey(_))));
        assert!(matches!(
            from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", None),
            Err(Error::PrivateKey(_))
        ));
        assert!(matches!(
            from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", None),
            Err(Error::PrivateKey(_))
        ));
        assert!(matches!(
            from_pem(
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
                Some(b"x")
            ),
            Err(Error::PrivateKey(_))
        ));
    }
}
