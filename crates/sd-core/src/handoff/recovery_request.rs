//! Recovery request (operator → offline side): which SD file is recovered,
//! into which HSM (its exchange key), through which combiner; signed by the
//! operator, whom every custodian pinned at the activation ceremony.

use serde::{Deserialize, Serialize};

use super::combiner::{VerifiedCombiner, check_combiner_certificate};
use super::{
    CertRole, HandoffError, Nonce, Pin, Timestamp, certificate_in_payload, pinned_signer, require_sd,
};
use crate::bundle::{self, BundleKind, Signer};
use crate::cert::Certificate;
use crate::sd_file::SecurityDomain;

/// The recovery-request payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    /// The target HSM's URL.
    pub hsm: String,
    /// Its exchange-key certificate, PEM.
    pub exchange_certificate: String,
    /// The exchange certificate's `x5t#S256`.
    pub exchange_x5t_s256: String,
    /// The combiner's certificate, PEM: the only key shares may be sealed to.
    pub combiner_certificate: String,
    /// The combiner certificate's `x5t#S256`.
    pub combiner_x5t_s256: String,
    /// SHA-256 (hex) of the SD file to recover.
    pub sd_sha256: String,
    /// 32 random bytes, base64url: binds every share bundle to this request.
    pub nonce: String,
    /// When it was made.
    pub created: Timestamp,
}

/// A recovery request signed by the pinned operator, for the SD file given,
/// naming a fresh combiner and a usable exchange key.
#[derive(Debug, Clone)]
pub struct VerifiedRequest {
    hsm: String,
    exchange: Certificate,
    combiner: Certificate,
    operator: Certificate,
    nonce: Nonce,
    sd_sha256: String,
    created: Timestamp,
}

impl VerifiedRequest {
    /// The target HSM's URL, as the operator signed it.
    pub fn hsm(&self) -> &str {
        &self.hsm
    }
    /// The target HSM's exchange key.
    pub fn exchange(&self) -> &Certificate {
        &self.exchange
    }
    /// The combiner the operator named.
    pub fn combiner(&self) -> &Certificate {
        &self.combiner
    }
    /// Fails unless `key` is the private half of the combiner this request names.
    pub fn check_combiner_key(&self, key: &(impl crate::RsaKey + ?Sized)) -> Result<(), HandoffError> {
        if crate::cert::key_matches(&self.combiner, key) {
            Ok(())
        } else {
            Err(HandoffError::WrongCombinerKey)
        }
    }
    /// The operator who signed (the pinned certificate).
    pub fn operator(&self) -> &Certificate {
        &self.operator
    }
    /// The request's nonce.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }
    /// SHA-256 (hex) of the SD file it recovers.
    pub fn sd_sha256(&self) -> &str {
        &self.sd_sha256
    }
    /// When the operator made it.
    pub fn created(&self) -> &Timestamp {
        &self.created
    }
}

impl RecoveryRequest {
    /// Makes and signs a request to recover `sd` into the HSM at `hsm`, whose
    /// exchange key is `exchange`, through `combiner`, with a fresh nonce.
    pub fn sign<R: rand_core::TryCryptoRng + ?Sized>(
        rng: &mut R,
        hsm: &str,
        exchange: &Certificate,
        combiner: &VerifiedCombiner,
        sd: &SecurityDomain,
        operator: &Signer<'_>,
        now: u64,
    ) -> Result<String, HandoffError> {
        check_combiner_certificate(combiner.certificate(), now)?;
        exchange
            .rsa_public_key()
            .map_err(|error| HandoffError::BadCertificate { role: CertRole::Exchange, error })?;
        let payload = RecoveryRequest {
            hsm: hsm.to_owned(),
            exchange_certificate: exchange.to_pem(),
            exchange_x5t_s256: exchange.x5t_s256(),
            combiner_certificate: combiner.certificate().to_pem(),
            combiner_x5t_s256: combiner.certificate().x5t_s256(),
            sd_sha256: sd.sha256().to_owned(),
            nonce: Nonce::generate(rng)?.encode(),
            created: Timestamp::from_unix(now),
        };
        Ok(bundle::sign(BundleKind::RecoveryRequest, &payload, std::slice::from_ref(operator))?)
    }

    /// Verifies a request: signed by the `operator` pin, for `sd`, with a
    /// valid nonce, a usable exchange key, and a combiner valid at `now`.
    pub fn verify(
        bytes: &[u8],
        operator: &Pin,
        sd: &SecurityDomain,
        now: u64,
    ) -> Result<VerifiedRequest, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::RecoveryRequest)?;
        let operator = pinned_signer(&signed, operator, CertRole::Operator)?;
        let p: RecoveryRequest = signed.payload_as()?;
        require_sd(&p.sd_sha256, sd)?;
        let nonce = Nonce::parse(&p.nonce)?;
        let exchange =
            certificate_in_payload(&p.exchange_certificate, &p.exchange_x5t_s256, CertRole::Exchange)?;
        let combiner =
            certificate_in_payload(&p.combiner_certificate, &p.combiner_x5t_s256, CertRole::Combiner)?;
        check_combiner_certificate(&combiner, now)?;
        Ok(VerifiedRequest {
            hsm: p.hsm,
            exchange,
            combiner,
            operator,
            nonce,
            sd_sha256: p.sd_sha256,
            created: p.created,
        })
    }
}
