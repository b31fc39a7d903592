//! Recovery request (operator → offline side): which SD file is recovered,
//! into which HSM (its exchange key), through which combiner; signed by the
//! operator, whom every custodian pinned at the activation ceremony.
//!
//! The operator key lives on the online machine, which may be compromised, so
//! its signature alone decides nothing about where the master key goes: the
//! custodians pin the target HSM's name ([`RequestPins::hsm`], from the
//! ceremony plan, typed on their own terminal) and the combiner
//! ([`VerifiedRequest::pin_combiner`], its fingerprint read from the combiner
//! laptop's own screen). A request for a genuine HSM of someone else's, or
//! naming someone else's combiner, is refused however well it is signed.

use serde::{Deserialize, Serialize};

use super::combiner::{VerifiedCombiner, check_combiner_certificate};
use super::{
    CertRole, HandoffError, Nonce, Pin, certificate_in_payload, check_validity, pinned_signer, require_sd,
};
use crate::attestation::{ExchangeKeyPolicy, ExchangeKeySource, VerifiedExchangeKey};
use crate::azure::sd_file::SecurityDomain;
use crate::bundle::{self, BundleKind, Signer};
use crate::hsm_name::HsmName;
use crate::pki::cert::Certificate;
use crate::time::Timestamp;

/// How far ahead of the local clock a request's `created` may be (clocks drift).
pub const MAX_FUTURE_SECS: u64 = 300;

/// What a custodian brings to a recovery, from sources the online machine
/// never touched: the operator pinned at the activation ceremony, and the
/// name of the HSM the ceremony plan says is being recovered into.
#[derive(Debug, Clone, Copy)]
pub struct RequestPins<'a> {
    /// The operator (certificate or fingerprint kept from the activation ceremony).
    pub operator: &'a Pin,
    /// The target HSM, as the ceremony plan names it.
    pub hsm: &'a HsmName,
}

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
    /// Accepts the request's combiner only when it is the one the custodian
    /// pinned (from the combiner laptop's own screen, or a file from media
    /// that never touched the online machine): the only thing a share is
    /// sealed to.
    pub fn pin_combiner(self, pin: &Pin) -> Result<ShareTarget, HandoffError> {
        if !pin.matches(&self.combiner) {
            return Err(HandoffError::CombinerNotPinned {
                named: crate::pki::cert::readable_fingerprint(&self.combiner.sha256()),
                pinned: crate::pki::cert::readable_fingerprint(&pin.sha256()),
            });
        }
        Ok(ShareTarget { request: self })
    }
    /// Fails unless `key` is the private half of the combiner this request names.
    pub fn check_combiner_key(&self, key: &(impl crate::RsaKey + ?Sized)) -> Result<(), HandoffError> {
        if crate::pki::cert::key_matches(&self.combiner, key) {
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

/// A verified request whose combiner the custodian has also pinned: what
/// [`super::share::ShareBundle::seal`] takes, so no share is sealed to a
/// combiner only the operator vouched for.
#[derive(Debug, Clone)]
pub struct ShareTarget {
    request: VerifiedRequest,
}

impl ShareTarget {
    /// The request, its HSM and combiner pinned.
    pub fn request(&self) -> &VerifiedRequest {
        &self.request
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

    /// Verifies a request: signed by the pinned operator, for `sd`, for the
    /// pinned HSM (the name it carries, and the name its exchange key passes
    /// `exchange_policy` for), made no longer ago than a combiner lives and
    /// not in the future, with a valid nonce and a combiner valid at `now`.
    pub fn verify(
        bytes: &[u8],
        pins: RequestPins<'_>,
        sd: &SecurityDomain,
        exchange_policy: &ExchangeKeyPolicy,
        now: u64,
    ) -> Result<VerifiedRequest, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::RecoveryRequest)?;
        let operator = pinned_signer(&signed, pins.operator, CertRole::Operator)?;
        // The operator signs now, for this recovery: their certificate must be valid now.
        check_validity(&operator, CertRole::Operator, now)?;
        let p: RecoveryRequest = signed.payload_as()?;
        require_sd(&p.sd_sha256, sd)?;
        if !pins.hsm.is(&p.hsm_name) {
            return Err(HandoffError::OtherHsm { named: p.hsm_name, pinned: pins.hsm.to_string() });
        }
        check_fresh(p.created, now)?;
        let nonce = Nonce::parse(&p.nonce)?;
        let exchange =
            certificate_in_payload(&p.exchange_certificate, &p.exchange_x5t_s256, CertRole::Exchange)?;
        let combiner =
            certificate_in_payload(&p.combiner_certificate, &p.combiner_x5t_s256, CertRole::Combiner)?;
        check_combiner_certificate(&combiner, now)?;
        let exchange = exchange_policy
            .verify(ExchangeKeySource::Certificate(&exchange), pins.hsm.as_str(), now)
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

/// A request is made for one recovery, which lasts no longer than its
/// one-time combiner may live; one from much later, or from the future, is
/// stale or forged and is refused.
fn check_fresh(created: Timestamp, now: u64) -> Result<(), HandoffError> {
    let max_age = super::combiner::MAX_COMBINER_DAYS * 86_400;
    if created.unix() > now.saturating_add(MAX_FUTURE_SECS) {
        return Err(HandoffError::RequestInFuture { created: created.unix(), now });
    }
    if now.saturating_sub(created.unix()) > max_age {
        return Err(HandoffError::RequestTooOld {
            created: created.unix(),
            now,
            max_days: super::combiner::MAX_COMBINER_DAYS,
        });
    }
    Ok(())
}
