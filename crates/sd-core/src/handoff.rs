//! The hand-offs between the offline and online sides: one module per kind of
//! signed bundle, each with a constructor that signs it and a verifier that
//! returns an already-checked value.
//!
//! Nothing self-asserted decides anything. A bundle's signature only proves
//! that whoever holds the key in its `x5c` signed it; the verifiers here decide
//! whom to believe:
//! - the **operator** is pinned: a [`Pin`] (the certificate or fingerprint a
//!   custodian confirmed at the activation ceremony) must match the signer of
//!   a recovery request or an activation record;
//! - **custodians** are listed in the SD file: a share bundle or a drill
//!   report counts only when its signers' thumbprints are the file's;
//! - the **target HSM** and the **combiner** are pinned by each custodian
//!   (the HSM's name from the ceremony plan, the combiner's fingerprint from
//!   the combiner laptop's screen): the operator's request must name both,
//!   but its signature alone decides neither, since the operator key lives on
//!   the online machine;
//! - **enrollments** and **combiner bundles** prove possession of a key only;
//!   their fingerprints are confirmed aloud before anyone relies on them
//!   (the operator at activation, the operator and custodians at recovery).
//!
//! Like the rest of the crate this is pure: the caller passes the time.

use std::fmt;

use crate::bundle::SignedBundle;
use crate::pki::cert::Certificate;
use crate::time::rfc3339;
use crate::{Error, primitives::b64};

pub mod activation;
pub mod combiner;
pub mod drill_report;
pub mod enrollment;
pub mod exchange_key_file;
pub mod operator_handover;
pub mod recovery_request;
pub mod share;
pub mod share_commitment;

/// A certificate a person confirmed in an earlier ceremony: the certificate
/// itself (the copy kept from the activation ceremony) or its SHA-256
/// fingerprint (the 64 hex digits read aloud then). Both pin the same thing,
/// the SHA-256 of the certificate's DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    sha256: [u8; 32],
}

impl Pin {
    /// Pins exactly this certificate.
    pub fn certificate(cert: &Certificate) -> Pin {
        Pin { sha256: cert.sha256() }
    }

    /// Parses a fingerprint as people write it down: the 64 hex digits read
    /// aloud, in any case, with optional spaces or colons between them; or
    /// the same SHA-256 as the `x5t#S256` the tools also print (43 characters
    /// of base64url).
    pub fn from_fingerprint(text: &str) -> Result<Pin, HandoffError> {
        let trimmed = text.trim();
        if trimmed.len() == 43
            && let Ok(bytes) = b64::url_decode(trimmed, "x5t#S256")
            && let Ok(sha256) = <[u8; 32]>::try_from(bytes)
        {
            return Ok(Pin { sha256 });
        }
        let digits: Vec<u8> =
            text.bytes().filter(|b| !matches!(b, b' ' | b':' | b'\t' | b'\n' | b'\r')).collect();
        let bad = || HandoffError::BadFingerprint { length: digits.len() };
        if digits.len() != 64 {
            return Err(bad());
        }
        let mut sha256 = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).map_err(|_| bad())?;
            sha256[i] = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
        }
        Ok(Pin { sha256 })
    }

    /// True when `cert` is the pinned certificate.
    pub fn matches(&self, cert: &Certificate) -> bool {
        cert.sha256() == self.sha256
    }

    /// The pinned SHA-256.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
}

/// The 32 random bytes that bind every share bundle to one recovery request.
#[derive(Clone, PartialEq, Eq)]
pub struct Nonce([u8; Nonce::LEN]);

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nonce({})", self.encode())
    }
}

impl Nonce {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// A fresh nonce from `rng`.
    pub fn generate<R: rand_core::TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Nonce, Error> {
        let mut n = [0u8; Self::LEN];
        rng.try_fill_bytes(&mut n).map_err(|_| Error::Rng)?;
        Ok(Nonce(n))
    }

    /// Parses the unpadded base64url text of exactly 32 bytes, and only the
    /// canonical encoding (so one nonce has one spelling).
    pub fn parse(text: &str) -> Result<Nonce, HandoffError> {
        let bytes = b64::url_decode(text, "nonce")
            .map_err(|_| HandoffError::BadNonce { detail: "not base64url".into() })?;
        let n: [u8; Self::LEN] = bytes.as_slice().try_into().map_err(|_| HandoffError::BadNonce {
            detail: format!("{} bytes, it must be {}", bytes.len(), Self::LEN),
        })?;
        let nonce = Nonce(n);
        if nonce.encode() != text {
            return Err(HandoffError::BadNonce { detail: "not in canonical unpadded base64url".into() });
        }
        Ok(nonce)
    }

    /// Unpadded base64url, as carried in payloads and as the share JWE's `kid`.
    pub fn encode(&self) -> String {
        b64::url_encode(&self.0)
    }
}

/// Which certificate a time check is about, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertRole {
    /// The operator's signing certificate.
    Operator,
    /// The combiner's one-time certificate.
    Combiner,
    /// The recovering HSM's exchange key.
    Exchange,
    /// A custodian's certificate.
    Custodian,
}

impl fmt::Display for CertRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CertRole::Operator => "operator",
            CertRole::Combiner => "combiner",
            CertRole::Exchange => "exchange-key",
            CertRole::Custodian => "custodian",
        })
    }
}

/// Everything a hand-off verifier can refuse, with what a person needs to
/// know to act on it. Fingerprints are `x5t#S256`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandoffError {
    /// The bundle is malformed, of another kind, or a signature does not verify.
    Bundle(Error),
    /// The signer is not the pinned certificate.
    NotPinned {
        /// Whose signature was expected.
        role: CertRole,
        /// The signer's subject.
        subject: String,
        /// The signer's SHA-256 fingerprint, grouped upper-case hex.
        sha256: String,
        /// The pinned SHA-256 fingerprint, grouped upper-case hex.
        pinned: String,
    },
    /// A signer is not one of the SD file's custodians.
    NotACustodian {
        /// The signer's subject.
        subject: String,
        /// The signer's `x5t#S256`.
        x5t_s256: String,
    },
    /// The certificate a bundle names is not the key that signed it.
    NotSignedByNamedKey {
        /// What the certificate is.
        role: CertRole,
    },
    /// A payload's thumbprint does not match the certificate beside it.
    ThumbprintMismatch {
        /// What the certificate is.
        role: CertRole,
    },
    /// A certificate in a payload is not usable.
    BadCertificate {
        /// What the certificate is.
        role: CertRole,
        /// Why.
        error: Error,
    },
    /// A certificate that must be fresh is not valid yet.
    NotYetValid {
        /// What the certificate is.
        role: CertRole,
        /// Its notBefore.
        not_before: u64,
        /// The time checked at (the local clock).
        now: u64,
    },
    /// A certificate that must be fresh has expired.
    Expired {
        /// What the certificate is.
        role: CertRole,
        /// Its notAfter.
        not_after: u64,
        /// The time checked at (the local clock).
        now: u64,
    },
    /// A one-time certificate is valid for longer than allowed.
    ValidTooLong {
        /// What the certificate is.
        role: CertRole,
        /// Its validity, in seconds.
        seconds: u64,
        /// The most allowed, in days.
        max_days: u64,
    },
    /// The bundle is about another SD file.
    OtherSdFile {
        /// The SHA-256 the bundle names.
        named: String,
        /// The SHA-256 of the SD file given.
        given: String,
    },
    /// A request nonce is not 32 random bytes in base64url.
    BadNonce {
        /// What is wrong.
        detail: String,
    },
    /// A fingerprint given to pin is not 64 hex digits.
    BadFingerprint {
        /// How many characters remained after removing separators.
        length: usize,
    },
    /// A recovery request is for another HSM than the one the custodian pinned.
    OtherHsm {
        /// The HSM the request names.
        named: String,
        /// The HSM the custodian pinned.
        pinned: String,
    },
    /// A recovery request names another combiner than the one the custodian pinned.
    CombinerNotPinned {
        /// The named combiner's fingerprint, for reading aloud.
        named: String,
        /// The pinned fingerprint, for reading aloud.
        pinned: String,
    },
    /// A recovery request is dated in the future.
    RequestInFuture {
        /// Its `created`.
        created: u64,
        /// The local clock.
        now: u64,
    },
    /// A recovery request is older than one recovery may last.
    RequestTooOld {
        /// Its `created`.
        created: u64,
        /// The local clock.
        now: u64,
        /// The most a recovery may last, in days.
        max_days: u64,
    },
    /// An enrollment's custodian name is one `keyholder init` would refuse.
    BadCustodianName,
    /// The operator certificate ends too soon to sign (renew it first).
    RenewOperator {
        /// Its notAfter.
        not_after: u64,
        /// Whole days left.
        days_left: u64,
    },
    /// A handover names the certificate that signs it as its own successor.
    HandoverToItself,
    /// A handover was signed outside the old operator certificate's validity.
    HandedOverOutsideValidity {
        /// When it says it was signed.
        created: u64,
        /// The old certificate's notAfter.
        not_after: u64,
    },
    /// A share bundle belongs to another recovery request (its nonce differs).
    OtherRequest,
    /// A share bundle names another exchange key than the request.
    OtherExchangeKey,
    /// A share bundle is sealed to another combiner than the request names.
    OtherCombiner,
    /// The combiner key given is not the one the request names.
    WrongCombinerKey,
    /// A share bundle's index and custodian disagree with its signer or the SD file.
    ShareNotSignersOwn {
        /// The share index the bundle claims (0-based).
        share_index: usize,
    },
    /// The share inside a bundle has the wrong x-coordinate for its index.
    ShareXMismatch {
        /// The x found.
        x: u8,
        /// The share index the bundle claims (0-based).
        share_index: usize,
    },
    /// The sealed share is malformed or does not open.
    SealedShare(Error),
    /// A drill report has fewer distinct custodian signatures than the quorum.
    TooFewSigners {
        /// Distinct custodians who signed.
        signers: usize,
        /// The SD file's quorum.
        required: usize,
    },
    /// A drill report lists participants who are not exactly its signers.
    ParticipantsNotSigners,
    /// The exchange key failed its attestation (and was not accepted by a confirmed fingerprint).
    ExchangeKey(crate::attestation::AttestationFailure),
    /// A bundle's statement about the SD file (quorum, custodians) is not what the file says.
    DisagreesWithSd {
        /// What differs.
        what: &'static str,
    },
}

impl From<Error> for HandoffError {
    fn from(e: Error) -> Self {
        HandoffError::Bundle(e)
    }
}

fn clock_hint(now: u64) -> String {
    format!("the local clock says {}; if that is wrong, set the clock and try again", rfc3339(now))
}

impl fmt::Display for HandoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoffError::Bundle(e) => write!(f, "{e}"),
            HandoffError::NotPinned { role, subject, sha256, pinned } => {
                write!(f, "signed by {subject} ({sha256}), not by the pinned {role} ({pinned})")
            }
            HandoffError::NotACustodian { subject, x5t_s256 } => {
                write!(f, "signed by {subject} (x5t#S256 {x5t_s256}), who is not a custodian of this SD file")
            }
            HandoffError::NotSignedByNamedKey { role } => {
                write!(f, "the {role} certificate it carries is not the key that signed it")
            }
            HandoffError::ThumbprintMismatch { role } => {
                write!(f, "the {role} certificate does not match its thumbprint")
            }
            HandoffError::BadCertificate { role, error } => write!(f, "{role} certificate: {error}"),
            HandoffError::NotYetValid { role, not_before, now } => write!(
                f,
                "the {role} certificate is not valid until {}; {}",
                rfc3339(*not_before),
                clock_hint(*now)
            ),
            HandoffError::Expired { role, not_after, now } => {
                write!(f, "the {role} certificate expired at {}; {}", rfc3339(*not_after), clock_hint(*now))
            }
            HandoffError::ValidTooLong { role, seconds, max_days } => write!(
                f,
                "the {role} certificate is valid for {:.1} days; a one-time {role} key may be valid for at most {max_days}",
                *seconds as f64 / 86_400.0
            ),
            HandoffError::OtherSdFile { named, given } => {
                write!(f, "is for SD file {named}, not this one ({given})")
            }
            HandoffError::BadNonce { detail } => write!(f, "the request nonce is invalid: {detail}"),
            HandoffError::BadFingerprint { length } => write!(
                f,
                "a fingerprint is the 64 hex digits of the \"read aloud\" line (spaces allowed), not {length} characters"
            ),
            HandoffError::OtherHsm { named, pinned } => write!(
                f,
                "is for HSM {named:?}, not the HSM {pinned:?} you are recovering into; the master key \
                 goes only to the HSM the ceremony plan names"
            ),
            HandoffError::CombinerNotPinned { named, pinned } => write!(
                f,
                "names combiner {named}, not the combiner you pinned ({pinned}); shares are sealed only \
                 to the combiner whose fingerprint you read from the combiner laptop"
            ),
            HandoffError::RequestInFuture { created, now } => {
                write!(f, "is dated {}, in the future; {}", rfc3339(*created), clock_hint(*now))
            }
            HandoffError::RequestTooOld { created, now, max_days } => write!(
                f,
                "was made at {}, more than {max_days} days ago (a recovery request lives no longer than \
                 its one-time combiner); {}",
                rfc3339(*created),
                clock_hint(*now)
            ),
            HandoffError::RenewOperator { not_after, days_left } => write!(
                f,
                "the operator certificate ends at {} ({days_left} day(s) from now); it may not sign what \
                 a recovery must rely on for up to {} more days",
                rfc3339(*not_after),
                operator_handover::RENEW_WITHIN_DAYS
            ),
            HandoffError::BadCustodianName => write!(
                f,
                "its custodian name is not 1 to 64 of A-Z a-z 0-9 - _ . (not starting with a dot), as keyholder init makes them"
            ),
            HandoffError::HandoverToItself => {
                write!(f, "hands the operator role over to the same certificate")
            }
            HandoffError::HandedOverOutsideValidity { created, not_after } => write!(
                f,
                "was signed at {}, outside the old operator certificate's validity (it ends {}); an \
                 expired operator cannot name a successor",
                rfc3339(*created),
                rfc3339(*not_after)
            ),
            HandoffError::OtherRequest => write!(f, "is for another recovery request (its nonce differs)"),
            HandoffError::OtherExchangeKey => {
                write!(f, "names another exchange key than the recovery request")
            }
            HandoffError::OtherCombiner => {
                write!(f, "is sealed to another combiner than the one the recovery request names")
            }
            HandoffError::WrongCombinerKey => {
                write!(f, "this is not the combiner key the recovery request names")
            }
            HandoffError::ShareNotSignersOwn { share_index } => {
                write!(f, "claims share {} of the SD file, which is not its signer's share", share_index + 1)
            }
            HandoffError::ShareXMismatch { x, share_index } => write!(
                f,
                "the sealed share has x = {x}, but share {} of the file must have x = {}",
                share_index + 1,
                share_index + 1
            ),
            HandoffError::SealedShare(e) => write!(f, "the sealed share: {e}"),
            HandoffError::TooFewSigners { signers, required } => {
                write!(f, "signed by {signers} custodian(s) of this SD file; its quorum is {required}")
            }
            HandoffError::ParticipantsNotSigners => {
                write!(f, "the participants it lists are not exactly the custodians who signed it")
            }
            HandoffError::ExchangeKey(failure) => write!(f, "{failure}"),
            HandoffError::DisagreesWithSd { what } => {
                write!(f, "its {what} is not what the SD file says")
            }
        }
    }
}

impl std::error::Error for HandoffError {}

/// The certificate a proof-of-possession bundle carries: it must be the
/// bundle's only signer and match its thumbprint.
fn possessed_certificate(
    bundle: &SignedBundle,
    pem: &str,
    x5t_s256: &str,
    role: CertRole,
) -> Result<Certificate, HandoffError> {
    let cert = certificate_in_payload(pem, x5t_s256, role)?;
    if bundle.sole_signer()? != &cert {
        return Err(HandoffError::NotSignedByNamedKey { role });
    }
    Ok(cert)
}

/// A certificate carried as PEM in a payload, next to its `x5t#S256`: parsed,
/// self-signed, RSA of a usable size, and matching the thumbprint.
fn certificate_in_payload(pem: &str, x5t_s256: &str, role: CertRole) -> Result<Certificate, HandoffError> {
    let bad = |error| HandoffError::BadCertificate { role, error };
    let cert = Certificate::from_pem_or_der(pem.as_bytes()).map_err(bad)?;
    cert.require_self_signed().map_err(bad)?;
    cert.rsa_public_key().map_err(bad)?;
    if cert.x5t_s256() != x5t_s256 {
        return Err(HandoffError::ThumbprintMismatch { role });
    }
    Ok(cert)
}

/// Checks that `cert` is inside its validity at `now`.
pub fn check_validity(cert: &Certificate, role: CertRole, now: u64) -> Result<(), HandoffError> {
    if now < cert.not_before_unix() {
        return Err(HandoffError::NotYetValid { role, not_before: cert.not_before_unix(), now });
    }
    if now > cert.not_after_unix() {
        return Err(HandoffError::Expired { role, not_after: cert.not_after_unix(), now });
    }
    Ok(())
}

/// The signer of a single-signer bundle, which must be the pinned certificate.
fn pinned_signer(bundle: &SignedBundle, pin: &Pin, role: CertRole) -> Result<Certificate, HandoffError> {
    let signer = bundle.sole_signer()?;
    if !pin.matches(signer) {
        return Err(HandoffError::NotPinned {
            role,
            subject: signer.subject(),
            sha256: crate::pki::cert::readable_fingerprint(&signer.sha256()),
            pinned: crate::pki::cert::readable_fingerprint(&pin.sha256()),
        });
    }
    Ok(signer.clone())
}

/// The SD file a bundle names must be the one given.
fn require_sd(named: &str, sd: &crate::azure::sd_file::SecurityDomain) -> Result<(), HandoffError> {
    if named != sd.sha256() {
        return Err(HandoffError::OtherSdFile { named: named.to_owned(), given: sd.sha256().to_owned() });
    }
    Ok(())
}
