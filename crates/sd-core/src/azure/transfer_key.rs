//! The exchange (transfer) key, as `GET /securitydomain/upload` returns it:
//! `{"key_format":"jwk","transfer_key":"<JWK as a JSON string>"}`.
//!
//! The real service sends `transfer_key` as a string holding JSON although the
//! spec types it as an object; PowerShell also knows `key_format` `pem`. We
//! accept all three and always return the certificate.

use rsa::traits::PublicKeyParts;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::pki::cert::Certificate;
use crate::{Error, primitives::b64};

#[derive(Deserialize)]
struct Response {
    key_format: Option<String>,
    transfer_key: Value,
}

#[derive(Deserialize)]
struct TransferJwk {
    kty: String,
    #[serde(default)]
    x5c: Vec<String>,
    n: Option<String>,
    e: Option<String>,
    #[serde(rename = "x5t#S256")]
    x5t_s256: Option<String>,
    x5t: Option<String>,
}

impl TransferJwk {
    fn members(&self) -> JwkMembers<'_> {
        JwkMembers {
            kty: &self.kty,
            x5c: &self.x5c,
            n: self.n.as_deref(),
            e: self.e.as_deref(),
            x5t_s256: self.x5t_s256.as_deref(),
        }
    }
}

/// Why a transfer-key response is refused ([`Error::TransferKey`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferKeyError {
    /// The response is not JSON of its shape (the parser's words).
    Json(String),
    /// The JWK is not JSON of its shape (the parser's words).
    Jwk(String),
    /// A `key_format` and `transfer_key` this tool does not read.
    Format(String),
    /// A `key_format` other than `jwk` where only that is taken.
    NotJwk(Option<String>),
    /// `transfer_key` is neither a JWK nor a string holding one.
    NotAJwk,
    /// Not exactly one `x5c` certificate.
    X5cCount(usize),
    /// `n`, `e` or `x5t#S256` missing.
    Incomplete,
    /// A `kty` other than RSA.
    NotRsa(String),
    /// No `x5c` certificate.
    NoX5c,
    /// A member that disagrees with the `x5c` certificate.
    Mismatch(&'static str),
}

impl std::fmt::Display for TransferKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use TransferKeyError::*;
        match self {
            Json(d) => write!(f, "JSON: {d}"),
            Jwk(d) => write!(f, "JWK: {d}"),
            Format(format) => write!(f, "key_format {format:?} with this transfer_key is not supported"),
            NotJwk(format) => write!(f, "key_format is {format:?}, expected \"jwk\""),
            NotAJwk => f.write_str("transfer_key is neither a JWK nor a JSON string holding one"),
            X5cCount(n) => write!(f, "the JWK has {n} x5c certificates; exactly one is expected"),
            Incomplete => f.write_str("the JWK lacks n, e or x5t#S256"),
            NotRsa(kty) => write!(f, "kty is {kty:?}, expected \"RSA\""),
            NoX5c => f.write_str("the JWK has no x5c certificate"),
            Mismatch(what) => {
                let verb = if what.contains('/') { "do" } else { "does" };
                write!(f, "the JWK's {what} {verb} not match its x5c certificate")
            }
        }
    }
}

fn tk_err(e: TransferKeyError) -> Error {
    Error::TransferKey(e)
}

/// Extracts the exchange certificate from a transfer-key response body.
pub fn parse_response(body: &[u8]) -> Result<Certificate, Error> {
    crate::artifact::require(body, crate::artifact::ArtifactKind::TransferKey)?;
    let resp: Response =
        serde_json::from_slice(body).map_err(|e| tk_err(TransferKeyError::Json(e.to_string())))?;
    let format = resp.key_format.as_deref().unwrap_or("jwk");
    match (format, &resp.transfer_key) {
        ("pem", Value::String(pem)) => Certificate::from_pem_or_der(pem.as_bytes()),
        ("jwk", Value::String(s)) => {
            let jwk: TransferJwk =
                serde_json::from_str(s).map_err(|e| tk_err(TransferKeyError::Jwk(e.to_string())))?;
            jwk_certificate(jwk.members(), tk_err)
        }
        ("jwk", obj @ Value::Object(_)) => {
            let jwk: TransferJwk = serde_json::from_value(obj.clone())
                .map_err(|e| tk_err(TransferKeyError::Jwk(e.to_string())))?;
            jwk_certificate(jwk.members(), tk_err)
        }
        (f, _) => Err(tk_err(TransferKeyError::Format(f.to_owned()))),
    }
}

/// The strict reading used before trusting an exchange key: `key_format`
/// `jwk`, a JWK (as a string or an object) with exactly one `x5c`, whose
/// `n`, `e` and thumbprints are present and equal the certificate's.
pub fn parse_response_strict(body: &[u8]) -> Result<Certificate, Error> {
    let resp: Response =
        serde_json::from_slice(body).map_err(|e| tk_err(TransferKeyError::Json(e.to_string())))?;
    if resp.key_format.as_deref() != Some("jwk") {
        return Err(tk_err(TransferKeyError::NotJwk(resp.key_format)));
    }
    let jwk: TransferJwk = match resp.transfer_key {
        Value::String(s) => {
            serde_json::from_str(&s).map_err(|e| tk_err(TransferKeyError::Jwk(e.to_string())))?
        }
        obj @ Value::Object(_) => {
            serde_json::from_value(obj).map_err(|e| tk_err(TransferKeyError::Jwk(e.to_string())))?
        }
        _ => return Err(tk_err(TransferKeyError::NotAJwk)),
    };
    if jwk.x5c.len() != 1 {
        return Err(tk_err(TransferKeyError::X5cCount(jwk.x5c.len())));
    }
    if jwk.n.is_none() || jwk.e.is_none() || jwk.x5t_s256.is_none() {
        return Err(tk_err(TransferKeyError::Incomplete));
    }
    let cert = jwk_certificate(jwk.members(), tk_err)?;
    if jwk.x5t.as_ref().is_some_and(|t| *t != cert.x5t_sha1()) {
        return Err(tk_err(TransferKeyError::Mismatch("x5t")));
    }
    Ok(cert)
}

/// The members of an RSA certificate JWK that say which key it is.
pub(crate) struct JwkMembers<'a> {
    pub kty: &'a str,
    pub x5c: &'a [String],
    pub n: Option<&'a str>,
    pub e: Option<&'a str>,
    pub x5t_s256: Option<&'a str>,
}

/// The certificate in `x5c[0]`, checked against `kty`, and against `n`, `e`
/// (as numbers: leading zero bytes do not count) and `x5t#S256` where they
/// are given; `wrap` files a JWK's own problem under the caller's error.
pub(crate) fn jwk_certificate(
    jwk: JwkMembers<'_>,
    wrap: impl Fn(TransferKeyError) -> Error,
) -> Result<Certificate, Error> {
    if jwk.kty != "RSA" {
        return Err(wrap(TransferKeyError::NotRsa(jwk.kty.to_owned())));
    }
    let der = jwk.x5c.first().ok_or_else(|| wrap(TransferKeyError::NoX5c))?;
    let cert = Certificate::from_der(&b64::std_decode(der, "x5c")?)?;
    let key = cert.rsa_public_key()?;
    if let (Some(n), Some(e)) = (jwk.n, jwk.e) {
        let (n, e) = (b64::url_decode(n, "n")?, b64::url_decode(e, "e")?);
        if strip_zeros(&n) != &*key.n_bytes() || strip_zeros(&e) != &*key.e_bytes() {
            return Err(wrap(TransferKeyError::Mismatch("n/e")));
        }
    }
    if jwk.x5t_s256.is_some_and(|t| t != cert.x5t_s256()) {
        return Err(wrap(TransferKeyError::Mismatch("x5t#S256")));
    }
    Ok(cert)
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

/// The response body the real service sends for `cert`: a JWK (members e,
/// key_ops, kid, kty, n, x5c, x5t, x5t#S256) serialised into a string.
pub fn response_json(cert: &Certificate) -> Result<String, Error> {
    let key = cert.rsa_public_key()?;
    let jwk = json!({
        "e": b64::url_encode(&key.e_bytes()),
        "key_ops": ["wrapKey", "verify", "encrypt"],
        "kid": "not used",
        "kty": "RSA",
        "n": b64::url_encode(&key.n_bytes()),
        "x5c": [b64::std_encode(cert.der())],
        "x5t": cert.x5t_sha1(),
        "x5t#S256": cert.x5t_s256(),
    });
    Ok(json!({"key_format": "jwk", "transfer_key": jwk.to_string()}).to_string())
}
