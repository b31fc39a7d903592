//! Recovery request (operator → offline side): which SD file is recovered,
//! into which HSM (its exchange key), through which combiner; signed by the
//! operator, whom every custodian pinned at the activation ceremony.

use serde::{Deserialize, Serialize};

use super::combiner::{VerifiedCombiner, check_combiner_certificate};
use super::{
    CertRole, HandoffError, Nonce, Pin, Timestamp, certificate_in_payload, check_validity, pinned_signer,
    require_sd,
};
use crate::attestation::{ExchangeKeyPolicy, ExchangeKeySource, VerifiedExchangeKey};
use crate::bundle::{self, BundleKind, Signer};
use crate::cert::Certificate;
use crate::sd_file::SecurityDomain;

/// The recovery-request payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryRequest {
    /// The target HSM's URL.
    pub hsm: String,
    /// The target HSM's name: its exchange certificate must be for
    /// `NAME.managedhsm.azure.net`. Read aloud and confirmed at the ceremony.
    pub hsm_name: String,
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
    hsm_name: String,
    exchange: VerifiedExchangeKey,
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
    /// The target HSM's name, as the operator signed it.
    pub fn hsm_name(&self) -> &str {
        &self.hsm_name
    }
    /// The target HSM's exchange key certificate.
    pub fn exchange(&self) -> &Certificate {
        self.exchange.certificate()
    }
    /// The exchange key with why it is trusted (its attestation report).
    pub fn exchange_key(&self) -> &VerifiedExchangeKey {
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
    /// Makes and signs a request to recover `sd` into the HSM at `hsm` (URL),
    /// whose exchange key is `exchange` (verified for the HSM's name, which
    /// the request carries), through `combiner`, with a fresh nonce.
    pub fn sign<R: rand_core::TryCryptoRng + ?Sized>(
        rng: &mut R,
        hsm: &str,
        exchange: &VerifiedExchangeKey,
        combiner: &VerifiedCombiner,
        sd: &SecurityDomain,
        operator: &Signer<'_>,
        now: u64,
    ) -> Result<String, HandoffError> {
        check_combiner_certificate(combiner.certificate(), now)?;
        let hsm_name = exchange.hsm_name().to_owned();
        let exchange = exchange.certificate();
        let payload = RecoveryRequest {
            hsm: hsm.to_owned(),
            hsm_name,
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
    /// valid nonce, an exchange key that passes `exchange_policy` for the HSM
    /// the request names, and a combiner valid at `now`.
    pub fn verify(
        bytes: &[u8],
        operator: &Pin,
        sd: &SecurityDomain,
        exchange_policy: &ExchangeKeyPolicy,
        now: u64,
    ) -> Result<VerifiedRequest, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::RecoveryRequest)?;
        let operator = pinned_signer(&signed, operator, CertRole::Operator)?;
        // The operator signs now, for this recovery: their certificate must be valid now.
        check_validity(&operator, CertRole::Operator, now)?;
        let p: RecoveryRequest = signed.payload_as()?;
        require_sd(&p.sd_sha256, sd)?;
        let nonce = Nonce::parse(&p.nonce)?;
        let exchange =
            certificate_in_payload(&p.exchange_certificate, &p.exchange_x5t_s256, CertRole::Exchange)?;
        let combiner =
            certificate_in_payload(&p.combiner_certificate, &p.combiner_x5t_s256, CertRole::Combiner)?;
        check_combiner_certificate(&combiner, now)?;
        let exchange = exchange_policy
            .verify(ExchangeKeySource::Certificate(&exchange), &p.hsm_name, now)
            .map_err(HandoffError::ExchangeKey)?;
        Ok(VerifiedRequest {
            hsm: p.hsm,
            hsm_name: p.hsm_name,
            exchange,
            combiner,
            operator,
            nonce,
            sd_sha256: p.sd_sha256,
            created: p.created,
        })
    }
}
