//! Share bundle (custodian → combiner): one custodian's decrypted share,
//! sealed to the combiner the recovery request names and bound to that
//! request (nonce, SD file, exchange key, combiner); signed by the custodian,
//! whose certificate the SD file lists.

use serde::{Deserialize, Serialize};

use super::recovery_request::{ShareTarget, VerifiedRequest};
use super::{HandoffError, require_sd};
use crate::azure::sd_file::{OpenedShare, SecurityDomain};
use crate::bundle::{self, BundleKind, Signer};
use crate::pki::cert::Certificate;
use crate::primitives::jwe::{Alg, CompactJwe, Enc, JweFormatError};
use crate::primitives::secret::MasterKey;
use crate::primitives::shamir::{ShamirError, Share};
use crate::time::Timestamp;
use crate::{Error, RsaKey};

/// The share-bundle payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareBundle {
    /// The recovery request's nonce.
    pub request_nonce: String,
    /// SHA-256 (hex) of the SD file the share came from.
    pub sd_sha256: String,
    /// The request's exchange-key thumbprint.
    pub exchange_x5t_s256: String,
    /// The combiner's certificate thumbprint.
    pub combiner_x5t_s256: String,
    /// The custodian's certificate thumbprint (`x5t_256` of the share in the SD).
    pub custodian_x5t_s256: String,
    /// Position of the share in the SD file (0-based).
    pub share_index: usize,
    /// The share plaintext as a compact JWE, RSA-OAEP-256 + A256GCM, to the
    /// combiner; its `kid` is the request nonce.
    pub encrypted_share: String,
    /// When it was made.
    pub created: Timestamp,
}

/// A share from a custodian of the SD file, bound to the verified request,
/// opened with the combiner key the request names.
#[derive(Debug, Clone)]
pub struct VerifiedShare {
    custodian: Certificate,
    share: OpenedShare,
}

impl VerifiedShare {
    /// The custodian who signed it.
    pub fn custodian(&self) -> &Certificate {
        &self.custodian
    }
    /// The share and its position in the SD file.
    pub fn share(&self) -> &OpenedShare {
        &self.share
    }
}

fn same_sd(request: &VerifiedRequest, sd: &SecurityDomain) -> Result<(), HandoffError> {
    require_sd(request.sd_sha256(), sd)
}

/// The share at `index` of `sd` belongs to `custodian` and has x = index + 1.
fn check_own_share(
    sd: &SecurityDomain,
    index: usize,
    custodian: &Certificate,
    share: &Share,
) -> Result<(), HandoffError> {
    if sd.thumbprints().get(index) != Some(&custodian.x5t_s256()) {
        return Err(HandoffError::ShareNotSignersOwn { share_index: index });
    }
    if usize::from(share.x()) != index + 1 {
        return Err(HandoffError::ShareXMismatch { x: share.x(), share_index: index });
    }
    Ok(())
}

impl ShareBundle {
    /// Seals the custodian's opened share to the combiner the custodian
    /// pinned (which the request names), bound to the request, and signs it
    /// with the custodian's key.
    pub fn seal<R: rand_core::TryCryptoRng + ?Sized>(
        rng: &mut R,
        target: &ShareTarget,
        sd: &SecurityDomain,
        share: &OpenedShare,
        custodian: &Signer<'_>,
        now: u64,
    ) -> Result<String, HandoffError> {
        let request = target.request();
        same_sd(request, sd)?;
        check_own_share(sd, share.index, custodian.cert, &share.share)?;
        let combiner_key = request.combiner().rsa_public_key()?;
        let nonce = request.nonce().encode();
        let sealed = CompactJwe::encrypt_rsa(
            rng,
            Enc::A256Gcm,
            &combiner_key,
            &nonce,
            share.share.to_bytes().expose(),
        )?;
        let payload = ShareBundle {
            request_nonce: nonce,
            sd_sha256: sd.sha256().to_owned(),
            exchange_x5t_s256: request.exchange().x5t_s256(),
            combiner_x5t_s256: request.combiner().x5t_s256(),
            custodian_x5t_s256: custodian.cert.x5t_s256(),
            share_index: share.index,
            encrypted_share: sealed.serialize(),
            created: Timestamp::from_unix(now),
        };
        Ok(bundle::sign(BundleKind::Share, &payload, std::slice::from_ref(custodian))?)
    }

    /// Verifies a share bundle against the request and the SD file and opens
    /// it with `combiner_key`, which must be the combiner the request names.
    pub fn open(
        bytes: &[u8],
        request: &VerifiedRequest,
        sd: &SecurityDomain,
        combiner_key: &(impl RsaKey + ?Sized),
    ) -> Result<VerifiedShare, HandoffError> {
        same_sd(request, sd)?;
        request.check_combiner_key(combiner_key)?;
        let signed = bundle::verify_signatures(bytes, BundleKind::Share)?;
        let custodian = signed.sole_signer()?.clone();
        let thumbprints = sd.thumbprints();
        if !thumbprints.contains(&custodian.x5t_s256()) {
            return Err(HandoffError::NotACustodian {
                subject: custodian.subject(),
                x5t_s256: custodian.x5t_s256(),
            });
        }
        let p: ShareBundle = signed.payload_as()?;
        let nonce = request.nonce().encode();
        if p.request_nonce != nonce {
            return Err(HandoffError::OtherRequest);
        }
        require_sd(&p.sd_sha256, sd)?;
        if p.exchange_x5t_s256 != request.exchange().x5t_s256() {
            return Err(HandoffError::OtherExchangeKey);
        }
        if p.combiner_x5t_s256 != request.combiner().x5t_s256() {
            return Err(HandoffError::OtherCombiner);
        }
        if p.custodian_x5t_s256 != custodian.x5t_s256() {
            return Err(HandoffError::ShareNotSignersOwn { share_index: p.share_index });
        }
        let jwe = CompactJwe::parse(&p.encrypted_share).map_err(HandoffError::SealedShare)?;
        jwe.require_algorithms(Alg::RsaOaep256, Enc::A256Gcm).map_err(HandoffError::SealedShare)?;
        if jwe.kid() != Some(nonce.as_str()) {
            return Err(HandoffError::SealedShare(Error::JweFormat(JweFormatError::KidNotNonce)));
        }
        let plain = jwe.decrypt_rsa(combiner_key).map_err(|e| match e {
            Error::KeyUnwrap => HandoffError::OtherCombiner,
            other => HandoffError::SealedShare(other),
        })?;
        let share = Share::from_bytes(plain.expose()).map_err(HandoffError::SealedShare)?;
        if share.len() != MasterKey::LEN {
            return Err(HandoffError::SealedShare(Error::Shamir(ShamirError::WrongLength {
                len: share.len(),
                expected: MasterKey::LEN,
            })));
        }
        check_own_share(sd, p.share_index, &custodian, &share)?;
        Ok(VerifiedShare {
            share: OpenedShare { index: p.share_index, x5t_256: custodian.x5t_s256(), share },
            custodian,
        })
    }
}
