//! What the attestation is checked against: the root that Intel's chain must
//! end at, and who the Quoting Enclave and the HSM enclave must be.
//!
//! The defaults are Intel's SGX Root CA, Intel's Quoting Enclave, and the
//! Managed HSM enclave signer seen in every attested response from Azure
//! (`shared/vectors/azure-cli/transfer-keys/PROVENANCE.md`). The enclave's
//! measurement (MRENCLAVE) changes with each service build and is reported,
//! not pinned. When Azure rotates its signer, a pins file overrides it.

use serde::Deserialize;

use crate::Error;
use crate::pki::certificate_error::CertificateError;

/// SHA-256 of the Intel SGX Root CA's SubjectPublicKeyInfo.
pub const INTEL_SGX_ROOT_SPKI_SHA256: &str =
    "a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e";
/// Intel's Quoting Enclave signer.
pub const INTEL_QE_MRSIGNER: &str = "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff";
/// The Managed HSM enclave's signer, as seen 2023–2025.
pub const AZURE_MHSM_MRSIGNER: &str = "db55904b231f08298eb093180562d07631c3cab9b7706b2efa53da58b42c943a";

/// Who an enclave must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPin {
    /// MRSIGNER: the hash of the enclave signer's key.
    pub mr_signer: [u8; 32],
    /// ISVPRODID.
    pub prod_id: u16,
    /// The lowest ISVSVN accepted.
    pub min_svn: u16,
}

/// Everything the evidence is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    /// SHA-256 of the root CA's SubjectPublicKeyInfo.
    pub root_spki_sha256: [u8; 32],
    /// True for Intel's root (false only for a root given explicitly, as in drills).
    pub root_is_intel: bool,
    /// The Quoting Enclave.
    pub qe: IdentityPin,
    /// The HSM enclave.
    pub enclave: IdentityPin,
}

fn hex32(text: &str) -> Result<[u8; 32], Error> {
    let bad = || Error::Certificate(CertificateError::NotHex(text.trim().to_owned()));
    crate::primitives::hex::parse(text).and_then(|b| b.try_into().ok()).ok_or_else(bad)
}

impl Default for Pins {
    fn default() -> Self {
        // The constants are valid hex (a unit test proves it).
        let h = |s| hex32(s).unwrap_or([0; 32]);
        Pins {
            root_spki_sha256: h(INTEL_SGX_ROOT_SPKI_SHA256),
            root_is_intel: true,
            qe: IdentityPin { mr_signer: h(INTEL_QE_MRSIGNER), prod_id: 1, min_svn: 8 },
            enclave: IdentityPin { mr_signer: h(AZURE_MHSM_MRSIGNER), prod_id: 1, min_svn: 1 },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityJson {
    mrsigner: String,
    product_id: u16,
    min_svn: u16,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinsJson {
    enclave: Option<IdentityJson>,
    quoting_enclave: Option<IdentityJson>,
}

impl Pins {
    /// The defaults with the identities a pins file overrides:
    /// `{"enclave": {"mrsigner": "<64 hex>", "product_id": 1, "min_svn": 1},
    ///   "quoting_enclave": {…}}` (either member optional).
    pub fn with_file(mut self, json: &[u8]) -> Result<Pins, Error> {
        let p: PinsJson = serde_json::from_slice(json)
            .map_err(|e| Error::Json { what: "attestation pins file", detail: e.to_string() })?;
        let conv = |j: IdentityJson| -> Result<IdentityPin, Error> {
            Ok(IdentityPin { mr_signer: hex32(&j.mrsigner)?, prod_id: j.product_id, min_svn: j.min_svn })
        };
        if let Some(e) = p.enclave {
            self.enclave = conv(e)?;
        }
        if let Some(q) = p.quoting_enclave {
            self.qe = conv(q)?;
        }
        Ok(self)
    }

    /// The defaults with another root: for drills against the emulator, whose
    /// evidence chains to a test root it made. Never Intel's.
    pub fn with_root(mut self, root: &[u8]) -> Result<Pins, Error> {
        use der::{Decode, Encode};
        use sha2::Digest;
        let pem = std::str::from_utf8(root).map_err(|_| Error::Certificate(CertificateError::RootNotText))?;
        let chain = |e: String| Error::Certificate(CertificateError::Chain(e));
        let certs = super::chain::parse_pem_chain(pem).map_err(chain)?;
        let [cert] = certs.as_slice() else {
            return Err(Error::Certificate(CertificateError::RootCount(certs.len())));
        };
        let der = cert.to_der().map_err(|e| Error::Certificate(CertificateError::encoding("", e)))?;
        let cert = x509_cert::Certificate::from_der(&der)
            .map_err(|e| Error::Certificate(CertificateError::encoding("", e)))?;
        let key = super::chain::ec_key(&cert).map_err(chain)?;
        if !super::chain::cert_signed_by(&cert, &key) {
            return Err(Error::Certificate(CertificateError::RootNotEcdsa));
        }
        let spki = cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Error::Certificate(CertificateError::encoding("", e)))?;
        self.root_spki_sha256 = sha2::Sha256::digest(&spki).into();
        self.root_is_intel = self.root_spki_sha256 == Pins::default().root_spki_sha256;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pins_are_the_published_values() {
        for s in [INTEL_SGX_ROOT_SPKI_SHA256, INTEL_QE_MRSIGNER, AZURE_MHSM_MRSIGNER] {
            assert!(hex32(s).is_ok());
        }
        let p = Pins::default();
        assert_eq!(crate::primitives::hex::hex_lower(&p.enclave.mr_signer), AZURE_MHSM_MRSIGNER);
        let q = p.clone().with_file(br#"{"enclave":{"mrsigner":"00000000000000000000000000000000000000000000000000000000000000ff","product_id":2,"min_svn":3}}"#).unwrap();
        assert_eq!(
            (q.enclave.mr_signer[31], q.enclave.prod_id, q.enclave.min_svn, q.qe),
            (0xff, 2, 3, p.qe.clone())
        );
        assert!(p.with_file(br#"{"enclave":{"mrsigner":"zz","product_id":1,"min_svn":1}}"#).is_err());
    }
}
