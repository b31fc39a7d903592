//! The keys an emulated Managed HSM holds, and what can be done with them:
//! `RSA-HSM` (2048/3072/4096), `EC-HSM` (P-256) and `oct-HSM` (AES-128/192/256)
//! keys, created or imported, in versions; the cryptographic operations Key
//! Vault defines for each (encrypt/decrypt, wrapKey/unwrapKey, sign/verify);
//! and the JSON a real Managed HSM answers with. No HTTP here.

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use rsa::signature::SignatureEncoding;
use rsa::traits::PublicKeyParts;
use sd_core::primitives::b64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Days a deleted key can be recovered (the real service's default, as recorded).
pub const RECOVERABLE_DAYS: u64 = 7;
/// The recovery level a Managed HSM reports with soft delete on, as recorded.
pub const RECOVERY_LEVEL: &str = "CustomizedRecoverable+Purgeable";

/// A failure, as the HTTP layer turns it into Azure's error.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyError {
    /// 400 BadParameter.
    BadParameter(String),
    /// 403 Forbidden: the key does not allow the operation.
    OperationNotAllowed(String),
}

fn bad(message: impl Into<String>) -> KeyError {
    KeyError::BadParameter(message.into())
}

/// The private key material of one version (the state file is mode 0600).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Material {
    /// RSA.
    Rsa {
        /// The private key, PKCS#8 PEM.
        pem: String,
    },
    /// EC P-256.
    Ec {
        /// The private scalar, base64url.
        d: String,
    },
    /// AES.
    Oct {
        /// The key, base64url.
        k: String,
    },
}

/// One version of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    /// Key name.
    pub name: String,
    /// 32 hex characters, as Key Vault versions are.
    pub version: String,
    /// `RSA-HSM`, `EC-HSM` or `oct-HSM`.
    pub kty: String,
    /// The key itself.
    pub material: Material,
    /// Allowed operations, as given or defaulted at creation.
    pub key_ops: Vec<String>,
    /// Whether the version may be used.
    pub enabled: bool,
    /// Seconds since the epoch.
    pub created: u64,
    /// Seconds since the epoch.
    pub updated: u64,
}

/// A key that was deleted and can still be recovered or purged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedKey {
    /// Every version, oldest first.
    pub versions: Vec<StoredKey>,
    /// When it was deleted (seconds).
    pub deleted: u64,
    /// When it will be purged (seconds).
    pub scheduled_purge: u64,
}

/// What `POST /keys/{name}/create` asks for.
#[derive(Debug, Deserialize)]
pub struct CreateRequest {
    /// `RSA`, `RSA-HSM`, `EC`, `EC-HSM`, `oct`, `oct-HSM`.
    pub kty: String,
    /// Bits (RSA: 2048/3072/4096; oct: 128/192/256).
    pub key_size: Option<u32>,
    /// EC curve (P-256).
    pub crv: Option<String>,
    /// Allowed operations.
    pub key_ops: Option<Vec<String>>,
    /// `{"enabled": bool}`.
    pub attributes: Option<Attributes>,
}

/// The attributes a client may set.
#[derive(Debug, Default, Deserialize)]
pub struct Attributes {
    /// Whether the key may be used.
    pub enabled: Option<bool>,
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, KeyError> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::fill(&mut *b).map_err(|_| bad("the random number generator failed"))?;
    Ok(b)
}

fn new_version() -> Result<String, KeyError> {
    Ok(sd_core::primitives::hex::hex_lower(&*random::<16>()?))
}

fn rsa_ops() -> Vec<String> {
    ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"].map(String::from).to_vec()
}

/// Makes a new version of `name` as `req` asks.
pub fn create(name: &str, req: &CreateRequest, now: u64) -> Result<StoredKey, KeyError> {
    let (kty, material, default_ops) = match req.kty.as_str() {
        "RSA" | "RSA-HSM" => {
            let bits = req.key_size.unwrap_or(2048);
            if ![2048, 3072, 4096].contains(&bits) {
                return Err(bad(format!("RSA key size {bits} is not supported; use 2048, 3072 or 4096.")));
            }
            let key = sd_core::pki::private_key::generate(&mut getrandom::SysRng, bits as usize)
                .map_err(|e| bad(e.to_string()))?;
            let pem = sd_core::pki::private_key::to_plain_pem(&key).map_err(|e| bad(e.to_string()))?;
            ("RSA-HSM", Material::Rsa { pem: pem.to_string() }, rsa_ops())
        }
        "EC" | "EC-HSM" => {
            let crv = req.crv.as_deref().unwrap_or("P-256");
            if crv != "P-256" {
                return Err(bad(format!("The curve {crv} is not supported by the emulator; use P-256.")));
            }
            let d = random::<32>()?;
            let secret =
                p256::SecretKey::from_slice(&*d).map_err(|_| bad("the random scalar is not a key"))?;
            let d = b64::url_encode(&secret.to_bytes());
            ("EC-HSM", Material::Ec { d }, ["sign", "verify", "deriveKey"].map(String::from).to_vec())
        }
        "oct" | "oct-HSM" => {
            let bits = req.key_size.unwrap_or(256);
            let k = random::<32>()?;
            let len = match bits {
                128 => 16,
                192 => 24,
                256 => 32,
                _ => return Err(bad(format!("AES key size {bits} is not supported; use 128, 192 or 256."))),
            };
            let ops = ["encrypt", "decrypt", "wrapKey", "unwrapKey"].map(String::from).to_vec();
            ("oct-HSM", Material::Oct { k: b64::url_encode(&k[..len]) }, ops)
        }
        other => return Err(bad(format!("The key type {other:?} is not supported."))),
    };
    Ok(StoredKey {
        name: name.to_owned(),
        version: new_version()?,
        kty: kty.to_owned(),
        material,
        key_ops: req.key_ops.clone().unwrap_or(default_ops),
        enabled: req.attributes.as_ref().and_then(|a| a.enabled).unwrap_or(true),
        created: now,
        updated: now,
    })
}

fn field(jwk: &Value, name: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let text =
        jwk.get(name).and_then(Value::as_str).ok_or_else(|| bad(format!("The JWK has no {name:?}.")))?;
    b64::url_decode(text, "JWK member").map(Zeroizing::new).map_err(|e| bad(e.to_string()))
}

/// Imports a JWK (`PUT /keys/{name}`) as a new version of `name`.
pub fn import(name: &str, jwk: &Value, enabled: bool, now: u64) -> Result<StoredKey, KeyError> {
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let (kty, material, default_ops) = match kty {
        "RSA" | "RSA-HSM" => {
            // Every number at the modulus's width, rounded up to whole 64-bit limbs.
            let width = (field(jwk, "n")?.len() as u32 * 8).div_ceil(64) * 64;
            let uint = |name: &str| -> Result<rsa::BoxedUint, KeyError> {
                rsa::BoxedUint::from_be_slice(&field(jwk, name)?, width)
                    .map_err(|_| bad(format!("The JWK's {name:?} is not a number that fits the modulus.")))
            };
            let key = rsa::PrivateKey::from_components_with_wide_primes(
                uint("n")?,
                uint("e")?,
                uint("d")?,
                vec![uint("p")?, uint("q")?],
            )
            .map_err(|e| bad(format!("The RSA key is not valid: {e}.")))?;
            let pem = sd_core::pki::private_key::to_plain_pem(&key).map_err(|e| bad(e.to_string()))?;
            ("RSA-HSM", Material::Rsa { pem: pem.to_string() }, rsa_ops())
        }
        "EC" | "EC-HSM" => {
            if jwk.get("crv").and_then(Value::as_str) != Some("P-256") {
                return Err(bad("The emulator imports P-256 keys only."));
            }
            let d = field(jwk, "d")?;
            let secret =
                p256::SecretKey::from_slice(&d).map_err(|_| bad("The JWK's d is not a P-256 key."))?;
            // An imported EC key may sign, verify and derive, as recorded.
            let ops = ["sign", "verify", "deriveKey"].map(String::from).to_vec();
            ("EC-HSM", Material::Ec { d: b64::url_encode(&secret.to_bytes()) }, ops)
        }
        "oct" | "oct-HSM" => {
            let k = field(jwk, "k")?;
            if ![16, 24, 32].contains(&k.len()) {
                return Err(bad("An AES key is 128, 192 or 256 bits."));
            }
            let ops = ["encrypt", "decrypt", "wrapKey", "unwrapKey"].map(String::from).to_vec();
            ("oct-HSM", Material::Oct { k: b64::url_encode(&k) }, ops)
        }
        other => return Err(bad(format!("The key type {other:?} cannot be imported."))),
    };
    let key_ops = match jwk.get("key_ops").and_then(Value::as_array) {
        Some(ops) => ops.iter().filter_map(Value::as_str).map(String::from).collect(),
        None => default_ops,
    };
    Ok(StoredKey {
        name: name.to_owned(),
        version: new_version()?,
        kty: kty.to_owned(),
        material,
        key_ops,
        enabled,
        created: now,
        updated: now,
    })
}

impl StoredKey {
    fn rsa(&self) -> Result<rsa::PrivateKey, KeyError> {
        match &self.material {
            Material::Rsa { pem } => {
                sd_core::pki::private_key::from_pem(pem, None).map_err(|e| bad(e.to_string()))
            }
            _ => Err(bad("This operation needs an RSA key.")),
        }
    }

    fn ec(&self) -> Result<p256::SecretKey, KeyError> {
        match &self.material {
            Material::Ec { d } => {
                let d = Zeroizing::new(b64::url_decode(d, "d").map_err(|e| bad(e.to_string()))?);
                p256::SecretKey::from_slice(&d).map_err(|_| bad("stored EC key is damaged"))
            }
            _ => Err(bad("This operation needs an EC key.")),
        }
    }

    fn aes(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match &self.material {
            Material::Oct { k } => {
                b64::url_decode(k, "k").map(Zeroizing::new).map_err(|e| bad(e.to_string()))
            }
            _ => Err(bad("This operation needs an AES (oct) key.")),
        }
    }

    /// The key's `kid`: `{base}/keys/{name}/{version}`.
    pub fn kid(&self, base: &str) -> String {
        format!("{base}/keys/{}/{}", self.name, self.version)
    }

    /// The public JWK, as the service shows it (never private parts).
    pub fn jwk(&self, base: &str) -> Value {
        let mut jwk = json!({"kid": self.kid(base), "kty": self.kty, "key_ops": self.key_ops});
        match &self.material {
            Material::Rsa { .. } => {
                if let Ok(key) = self.rsa() {
                    jwk["n"] = json!(b64::url_encode(&key.n().to_be_bytes_trimmed_vartime()));
                    jwk["e"] = json!(b64::url_encode(&key.e().to_be_bytes_trimmed_vartime()));
                }
            }
            Material::Ec { .. } => {
                if let Ok(key) = self.ec() {
                    use p256::elliptic_curve::sec1::ToSec1Point;
                    let point = key.public_key().to_sec1_point(false);
                    jwk["crv"] = json!("P-256");
                    jwk["x"] = json!(b64::url_encode(point.x().map(|x| x.as_slice()).unwrap_or_default()));
                    jwk["y"] = json!(b64::url_encode(point.y().map(|y| y.as_slice()).unwrap_or_default()));
                }
            }
            Material::Oct { .. } => {}
        }
        jwk
    }

    /// The attributes object, as recorded.
    pub fn attributes(&self) -> Value {
        json!({
            "enabled": self.enabled,
            "created": self.created,
            "updated": self.updated,
            "recoveryLevel": RECOVERY_LEVEL,
            "recoverableDays": RECOVERABLE_DAYS,
            "exportable": false,
        })
    }

    /// The key bundle: `{"key": JWK, "attributes": …}`.
    pub fn bundle(&self, base: &str) -> Value {
        json!({"key": self.jwk(base), "attributes": self.attributes()})
    }

    /// The list item: `{"kid" (no version), "attributes"}`.
    pub fn list_item(&self, base: &str) -> Value {
        json!({"kid": format!("{base}/keys/{}", self.name), "attributes": self.attributes()})
    }

    /// The list item of one version: `{"kid" (with version), "attributes"}`.
    pub fn version_item(&self, base: &str) -> Value {
        json!({"kid": self.kid(base), "attributes": self.attributes()})
    }

    fn allow(&self, op: &str) -> Result<(), KeyError> {
        if !self.enabled {
            return Err(KeyError::OperationNotAllowed("Operation is not allowed on a disabled key.".into()));
        }
        if !self.key_ops.iter().any(|o| o == op) {
            return Err(KeyError::OperationNotAllowed(format!(
                "Operation {op} is not permitted on this key."
            )));
        }
        Ok(())
    }

    /// Runs one cryptographic operation; `req` and the answer are Key Vault's JSON.
    pub fn operate(&self, base: &str, op: &str, req: &OperationRequest) -> Result<Value, KeyError> {
        self.allow(op)?;
        let value = Zeroizing::new(b64::url_decode(&req.value, "value").map_err(|e| bad(e.to_string()))?);
        let opt = |v: &Option<String>, what: &'static str| -> Result<Option<Vec<u8>>, KeyError> {
            v.as_deref().map(|s| b64::url_decode(s, what).map_err(|e| bad(e.to_string()))).transpose()
        };
        let kid = self.kid(base);
        let alg = req.alg.as_str();
        match (op, alg) {
            ("encrypt" | "wrapKey", "RSA-OAEP" | "RSA-OAEP-256" | "RSA1_5") => {
                let public = self.rsa()?.to_public_key();
                let mut rng = getrandom::SysRng;
                let out = match alg {
                    "RSA-OAEP" => public.encrypt(&mut rng, rsa::Oaep::<sha1::Sha1>::new(), &value),
                    "RSA-OAEP-256" => public.encrypt(&mut rng, rsa::Oaep::<Sha256>::new(), &value),
                    _ => public.encrypt(&mut rng, rsa::Pkcs1v15Encrypt, &value),
                }
                .map_err(|e| bad(format!("{alg}: {e}")))?;
                Ok(json!({"kid": kid, "alg": alg, "value": b64::url_encode(&out)}))
            }
            ("decrypt" | "unwrapKey", "RSA-OAEP" | "RSA-OAEP-256" | "RSA1_5") => {
                let key = self.rsa()?;
                let out = match alg {
                    "RSA-OAEP" => key.decrypt(rsa::Oaep::<sha1::Sha1>::new(), &value),
                    "RSA-OAEP-256" => key.decrypt(rsa::Oaep::<Sha256>::new(), &value),
                    _ => key.decrypt(rsa::Pkcs1v15Encrypt, &value),
                }
                .map(Zeroizing::new)
                .map_err(|_| {
                    bad("Decryption failed: the ciphertext was not made with this key and algorithm.")
                })?;
                Ok(json!({"kid": kid, "alg": alg, "value": b64::url_encode(&out)}))
            }
            ("encrypt", "A256GCM") => {
                let k = self.aes_sized(alg)?;
                let aad = opt(&req.aad, "aad")?.unwrap_or_default();
                let sealed = sd_core::primitives::aead::seal(&mut getrandom::SysRng, &k, &aad, &value)
                    .map_err(|e| bad(e.to_string()))?;
                let mut out = json!({
                    "kid": kid, "alg": alg,
                    "value": b64::url_encode(&sealed.ciphertext),
                    "iv": b64::url_encode(&sealed.iv),
                    "tag": b64::url_encode(&sealed.tag),
                });
                if let Some(a) = &req.aad {
                    out["aad"] = json!(a);
                }
                Ok(out)
            }
            ("decrypt", "A256GCM") => {
                let k = self.aes_sized(alg)?;
                let aad = opt(&req.aad, "aad")?.unwrap_or_default();
                let iv = opt(&req.iv, "iv")?.ok_or_else(|| bad("A GCM decryption needs the iv."))?;
                let tag = opt(&req.tag, "tag")?.ok_or_else(|| bad("A GCM decryption needs the tag."))?;
                let plain = sd_core::primitives::aead::open(&k, &iv, &aad, &value, &tag)
                    .map_err(|_| bad("Decryption failed: the tag does not match."))?;
                Ok(json!({"kid": kid, "alg": alg, "value": b64::url_encode(plain.expose())}))
            }
            ("encrypt" | "decrypt", "A128CBCPAD" | "A192CBCPAD" | "A256CBCPAD") => {
                let k = self.aes_sized(alg)?;
                let iv = match opt(&req.iv, "iv")? {
                    Some(iv) => iv,
                    None if op == "encrypt" => random::<16>()?.to_vec(),
                    None => return Err(bad("A CBC decryption needs the iv.")),
                };
                let out = if op == "encrypt" {
                    super::aes_modes::cbc_pad_encrypt(&k, &iv, &value)
                } else {
                    super::aes_modes::cbc_pad_decrypt(&k, &iv, &value)
                }
                .map(Zeroizing::new)
                .map_err(|e| bad(format!("{alg}: {e}")))?;
                Ok(
                    json!({"kid": kid, "alg": alg, "value": b64::url_encode(&out), "iv": b64::url_encode(&iv)}),
                )
            }
            ("wrapKey" | "unwrapKey", "A128KW" | "A192KW" | "A256KW") => {
                let k = self.aes_sized(alg)?;
                let out = if op == "wrapKey" {
                    super::aes_modes::key_wrap(&k, &value)
                } else {
                    super::aes_modes::key_unwrap(&k, &value)
                }
                .map(Zeroizing::new)
                .map_err(|e| bad(format!("{alg}: {e}")))?;
                Ok(json!({"kid": kid, "alg": alg, "value": b64::url_encode(&out)}))
            }
            ("sign", _) => {
                let sig = self.sign(alg, &value)?;
                Ok(json!({"kid": kid, "value": b64::url_encode(&sig)}))
            }
            ("verify", _) => {
                let digest = opt(&req.digest, "digest")?.ok_or_else(|| bad("verify needs the digest."))?;
                Ok(json!({"value": self.verify(alg, &digest, &value)?}))
            }
            _ => Err(bad(format!("The algorithm {alg:?} cannot be used to {op} with a {} key.", self.kty))),
        }
    }

    /// The AES key, which must be the size the algorithm names.
    fn aes_sized(&self, alg: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let k = self.aes()?;
        let bits: usize = alg.get(1..4).and_then(|b| b.parse().ok()).unwrap_or(0);
        if k.len() * 8 != bits {
            return Err(bad(format!("{alg} needs a {bits}-bit key; this key has {} bits.", k.len() * 8)));
        }
        Ok(k)
    }

    fn sign(&self, alg: &str, digest: &[u8]) -> Result<Vec<u8>, KeyError> {
        let bad_digest = || bad(format!("{alg} signs a 32-byte SHA-256 digest."));
        if digest.len() != 32 {
            return Err(bad_digest());
        }
        match alg {
            "RS256" => rsa::pkcs1v15::SigningKey::<Sha256>::new(self.rsa()?)
                .sign_prehash(digest)
                .map(|s| s.to_vec())
                .map_err(|_| bad_digest()),
            "PS256" => rsa::pss::SigningKey::<Sha256>::new(self.rsa()?)
                .sign_prehash(digest)
                .map(|s| s.to_vec())
                .map_err(|_| bad_digest()),
            "ES256" => {
                let key = p256::ecdsa::SigningKey::from(self.ec()?);
                let sig: p256::ecdsa::Signature = key.sign_prehash(digest).map_err(|_| bad_digest())?;
                Ok(sig.to_bytes().to_vec())
            }
            other => Err(bad(format!("The signature algorithm {other:?} is not supported."))),
        }
    }

    fn verify(&self, alg: &str, digest: &[u8], signature: &[u8]) -> Result<bool, KeyError> {
        Ok(match alg {
            "RS256" => {
                let key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(self.rsa()?.to_public_key());
                rsa::pkcs1v15::Signature::try_from(signature)
                    .is_ok_and(|s| key.verify_prehash(digest, &s).is_ok())
            }
            "PS256" => {
                let key = rsa::pss::VerifyingKey::<Sha256>::new(self.rsa()?.to_public_key());
                rsa::pss::Signature::try_from(signature).is_ok_and(|s| key.verify_prehash(digest, &s).is_ok())
            }
            "ES256" => {
                let key = p256::ecdsa::VerifyingKey::from(self.ec()?.public_key());
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|s| key.verify_prehash(digest, &s).is_ok())
            }
            other => return Err(bad(format!("The signature algorithm {other:?} is not supported."))),
        })
    }
}

/// The body of `encrypt`, `decrypt`, `wrapKey`, `unwrapKey`, `sign`, `verify`.
#[derive(Debug, Deserialize)]
pub struct OperationRequest {
    /// The algorithm.
    pub alg: String,
    /// Plaintext, ciphertext, key to wrap, digest to sign, or signature to verify.
    pub value: String,
    /// For verify: the digest.
    pub digest: Option<String>,
    /// AES: the IV.
    pub iv: Option<String>,
    /// GCM: the tag.
    pub tag: Option<String>,
    /// GCM: additional authenticated data.
    pub aad: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(alg: &str, value: &[u8]) -> OperationRequest {
        OperationRequest {
            alg: alg.into(),
            value: b64::url_encode(value),
            digest: None,
            iv: None,
            tag: None,
            aad: None,
        }
    }

    fn value(v: &Value) -> Vec<u8> {
        b64::url_decode(v["value"].as_str().unwrap(), "value").unwrap()
    }

    #[test]
    fn rsa_encrypts_wraps_and_signs_both_ways() {
        let request = CreateRequest {
            kty: "RSA-HSM".into(),
            key_size: None,
            crv: None,
            key_ops: None,
            attributes: None,
        };
        let key = create("k", &request, 1).unwrap();
        for alg in ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"] {
            for (seal, open) in [("encrypt", "decrypt"), ("wrapKey", "unwrapKey")] {
                let sealed =
                    key.operate("https://h", seal, &req(alg, b"thirty-two bytes of key material")).unwrap();
                assert_eq!(sealed["alg"], alg);
                let opened = key.operate("https://h", open, &req(alg, &value(&sealed))).unwrap();
                assert_eq!(value(&opened), b"thirty-two bytes of key material");
            }
        }
        let digest = [7u8; 32];
        for alg in ["RS256", "PS256"] {
            let sig = value(&key.operate("https://h", "sign", &req(alg, &digest)).unwrap());
            let mut v = req(alg, &sig);
            v.digest = Some(b64::url_encode(&digest));
            assert_eq!(key.operate("https://h", "verify", &v).unwrap()["value"], true);
            v.digest = Some(b64::url_encode(&[8u8; 32]));
            assert_eq!(key.operate("https://h", "verify", &v).unwrap()["value"], false);
        }
        assert_eq!(key.jwk("https://h")["kty"], "RSA-HSM");
        assert!(key.jwk("https://h").get("d").is_none(), "never the private key");
    }

    #[test]
    fn aes_gcm_cbc_and_key_wrap_round_trip_and_refuse_tampering() {
        let request = CreateRequest {
            kty: "oct-HSM".into(),
            key_size: Some(256),
            crv: None,
            key_ops: None,
            attributes: None,
        };
        let key = create("k", &request, 1).unwrap();
        let mut r = req("A256GCM", b"hello");
        r.aad = Some(b64::url_encode(b"context"));
        let sealed = key.operate("https://h", "encrypt", &r).unwrap();
        assert_eq!(sealed["aad"], r.aad.clone().unwrap());
        let mut d = req("A256GCM", &value(&sealed));
        d.iv = sealed["iv"].as_str().map(String::from);
        d.tag = sealed["tag"].as_str().map(String::from);
        d.aad = r.aad.clone();
        assert_eq!(value(&key.operate("https://h", "decrypt", &d).unwrap()), b"hello");
        d.aad = Some(b64::url_encode(b"other"));
        assert!(key.operate("https://h", "decrypt", &d).is_err());
        let sealed = key.operate("https://h", "encrypt", &req("A256CBCPAD", b"seventeen bytes!!")).unwrap();
        let mut d = req("A256CBCPAD", &value(&sealed));
        d.iv = sealed["iv"].as_str().map(String::from);
        assert_eq!(value(&key.operate("https://h", "decrypt", &d).unwrap()), b"seventeen bytes!!");
        let wrapped = key.operate("https://h", "wrapKey", &req("A256KW", &[9u8; 32])).unwrap();
        assert_eq!(value(&wrapped).len(), 40);
        assert_eq!(
            value(&key.operate("https://h", "unwrapKey", &req("A256KW", &value(&wrapped))).unwrap()),
            [9u8; 32]
        );
        assert!(key.operate("https://h", "sign", &req("RS256", &[0u8; 32])).is_err());
    }

    #[test]
    fn ec_signs_and_disabled_keys_refuse() {
        let request = CreateRequest {
            kty: "EC-HSM".into(),
            key_size: None,
            crv: None,
            key_ops: None,
            attributes: None,
        };
        let mut key = create("k", &request, 1).unwrap();
        let digest = [3u8; 32];
        let sig = value(&key.operate("https://h", "sign", &req("ES256", &digest)).unwrap());
        let mut v = req("ES256", &sig);
        v.digest = Some(b64::url_encode(&digest));
        assert_eq!(key.operate("https://h", "verify", &v).unwrap()["value"], true);
        key.enabled = false;
        assert!(matches!(key.operate("https://h", "verify", &v), Err(KeyError::OperationNotAllowed(_))));
    }
}
