//! The body of `POST /securitydomain/download`: the custodians' certificates
//! as JWKs and the quorum.
//!
//! The JWK members and their order are azure-cli's: `x5c`, `x5t`, `x5t#S256`,
//! `key_ops`, `kty`, `alg`, `n`, `e` (no `kid`; the service accepts that).

use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};

use super::transfer_key::{JwkMembers, TransferKeyError, jwk_certificate};
use crate::pki::cert::Certificate;
use crate::{Error, primitives::b64};

/// Quorum limits enforced by Azure's service and clients.
pub const QUORUM_RANGE: std::ops::RangeInclusive<usize> = 2..=10;

/// Number of custodian certificates the service accepts.
pub const CERTIFICATE_RANGE: std::ops::RangeInclusive<usize> = 3..=10;

/// One certificate as a JWK, in azure-cli's member order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateJwk {
    /// The certificate DER, standard base64 with padding.
    pub x5c: Vec<String>,
    /// base64url SHA-1 thumbprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    /// base64url SHA-256 thumbprint.
    #[serde(rename = "x5t#S256", default, skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
    /// `["verify","encrypt","wrapKey"]`.
    #[serde(default)]
    pub key_ops: Vec<String>,
    /// `RSA`.
    pub kty: String,
    /// `RSA-OAEP-256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
}

/// The whole request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadRequest {
    /// One JWK per custodian; share k goes to certificate k.
    pub certificates: Vec<CertificateJwk>,
    /// The quorum.
    pub required: usize,
}

/// Azure's limits: 3..=10 certificates, quorum 2..=10 and not above the
/// number of certificates, every key RSA ≥ 2048 bits, no certificate twice.
pub fn check_limits(certs: &[Certificate], required: usize) -> Result<(), Error> {
    if !CERTIFICATE_RANGE.contains(&certs.len()) {
        return Err(Error::CustodianSet(CustodianSetError::Count(certs.len())));
    }
    if !QUORUM_RANGE.contains(&required) || required > certs.len() {
        return Err(Error::CustodianSet(CustodianSetError::Quorum { required, custodians: certs.len() }));
    }
    for (i, c) in certs.iter().enumerate() {
        c.rsa_public_key().map_err(|e| {
            let problem = match e {
                Error::Certificate(c) => c,
                other => crate::pki::certificate_error::CertificateError::encoding("", other),
            };
            Error::CustodianSet(CustodianSetError::Certificate {
                number: i + 1,
                subject: c.subject(),
                problem,
            })
        })?;
        if certs[..i].iter().any(|o| o.der() == c.der()) {
            return Err(Error::CustodianSet(CustodianSetError::Twice {
                number: i + 1,
                subject: c.subject(),
            }));
        }
    }
    Ok(())
}

impl CertificateJwk {
    /// The JWK azure-cli sends for `cert`.
    pub fn from_certificate(cert: &Certificate) -> Result<Self, Error> {
        let key = cert.rsa_public_key()?;
        Ok(CertificateJwk {
            x5c: vec![b64::std_encode(cert.der())],
            x5t: Some(cert.x5t_sha1()),
            x5t_s256: Some(cert.x5t_s256()),
            key_ops: vec!["verify".into(), "encrypt".into(), "wrapKey".into()],
            kty: "RSA".into(),
            alg: Some("RSA-OAEP-256".into()),
            n: b64::url_encode(&key.n_bytes()),
            e: b64::url_encode(&key.e_bytes()),
        })
    }

    /// The certificate in `x5c[0]`, checked against `kty`, `n`, `e` and the thumbprints.
    pub fn certificate(&self) -> Result<Certificate, Error> {
        let members = JwkMembers {
            kty: &self.kty,
            x5c: &self.x5c,
            n: Some(&self.n),
            e: Some(&self.e),
            x5t_s256: self.x5t_s256.as_deref(),
        };
        jwk_certificate(members, |e| Error::DownloadRequest(DownloadRequestError::Jwk(e)))
    }
}

impl DownloadRequest {
    /// Builds the request, enforcing Azure's limits.
    pub fn new(certs: &[Certificate], required: usize) -> Result<Self, Error> {
        check_limits(certs, required)?;
        Ok(DownloadRequest {
            certificates: certs.iter().map(CertificateJwk::from_certificate).collect::<Result<_, _>>()?,
            required,
        })
    }

    /// Compact JSON body.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self)
            .map_err(|e| Error::Serialize { what: "download request", detail: e.to_string() })
    }

    /// Parses a request body and returns its certificates (in order) and quorum,
    /// enforcing the same limits (what the HSM does).
    pub fn parse(body: &[u8]) -> Result<(Vec<Certificate>, usize), Error> {
        let req: DownloadRequest = serde_json::from_slice(body)
            .map_err(|e| Error::DownloadRequest(DownloadRequestError::Json(e.to_string())))?;
        let certs = req
            .certificates
            .iter()
            .enumerate()
            .map(|(i, j)| {
                j.certificate().map_err(|e| {
                    Error::DownloadRequest(DownloadRequestError::Certificate {
                        index: i,
                        problem: Box::new(e),
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_limits(&certs, req.required)?;
        Ok((certs, req.required))
    }
}

/// Why a set of custodian certificates and a quorum is refused ([`Error::CustodianSet`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustodianSetError {
    /// Not 3 to 10 certificates.
    Count(usize),
    /// A quorum outside 2..=10 or above the number of custodians.
    Quorum {
        /// The quorum.
        required: usize,
        /// The number of custodians.
        custodians: usize,
    },
    /// A certificate that cannot be a custodian's (1-based).
    Certificate {
        /// Its position, from 1.
        number: usize,
        /// Its subject.
        subject: String,
        /// What is wrong with it.
        problem: crate::pki::certificate_error::CertificateError,
    },
    /// The same certificate twice (1-based).
    Twice {
        /// The second one's position, from 1.
        number: usize,
        /// Its subject.
        subject: String,
    },
}

impl std::fmt::Display for CustodianSetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustodianSetError::Count(n) => write!(f, "{n} custodian certificates given; Azure takes 3 to 10"),
            CustodianSetError::Quorum { required, custodians } => write!(
                f,
                "quorum {required} is invalid; it must be 2 to 10 and at most the number of custodian certificates ({custodians})"
            ),
            CustodianSetError::Certificate { number, subject, problem } => {
                write!(f, "custodian certificate {number} ({subject}): invalid certificate: {problem}")
            }
            CustodianSetError::Twice { number, subject } => {
                write!(f, "custodian certificate {number} ({subject}) is given twice")
            }
        }
    }
}

/// Why a download request body is refused ([`Error::DownloadRequest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadRequestError {
    /// Not JSON of its shape (the parser's words).
    Json(String),
    /// A certificate JWK that is not what it claims.
    Jwk(TransferKeyError),
    /// Certificate `index` (from 0) cannot be used.
    Certificate {
        /// Its position, from 0.
        index: usize,
        /// What is wrong with it.
        problem: Box<Error>,
    },
}

impl std::fmt::Display for DownloadRequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownloadRequestError::Json(d) => write!(f, "JSON: {d}"),
            DownloadRequestError::Jwk(e) => write!(f, "{e}"),
            DownloadRequestError::Certificate { index, problem } => {
                write!(f, "certificate {index}: {problem}")
            }
        }
    }
}
