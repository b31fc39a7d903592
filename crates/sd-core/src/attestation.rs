//! Verifying the recovering HSM's exchange key before the master key goes to
//! it: the SGX attestation evidence in its certificate must chain to Intel's
//! root, come from Intel's Quoting Enclave and the pinned HSM enclave signer,
//! bind that very key, and the certificate must name the target HSM. All of it
//! offline; the caller passes the check time and the pins.
//!
//! What this proves: a genuine SGX enclave signed by the pinned signer holds
//! the key, and its certificate names the HSM. What it does not: that the
//! signer is Microsoft's (it is pinned on first use, from Azure's own
//! responses), that the evidence is fresh, or the platform's TCB status and
//! revocation (that needs Intel's collateral, see [`collateral`]).

use std::fmt;

use crate::pki::cert::Certificate;

mod chain;
pub mod collateral;
pub mod evidence;
pub mod pins;
pub mod platform;
mod verify;

pub use pins::Pins;
pub use platform::Platform;
pub use verify::MIN_EXCHANGE_BITS;

/// What is checked: the body of `GET /securitydomain/upload`, or the exchange
/// certificate alone (as az saves it, or as a recovery request carries it).
#[derive(Debug, Clone, Copy)]
pub enum ExchangeKeySource<'a> {
    /// The transfer-key response, as the HSM sent it.
    Response(&'a [u8]),
    /// The certificate only.
    Certificate(&'a Certificate),
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// The values seen, or why it failed.
    pub detail: String,
}

/// An enclave's identity, for people to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// MRENCLAVE, hex.
    pub mr_enclave: String,
    /// MRSIGNER, hex.
    pub mr_signer: String,
    /// ISVPRODID.
    pub prod_id: u16,
    /// ISVSVN.
    pub svn: u16,
    /// DEBUG attribute.
    pub debug: bool,
}

impl Identity {
    fn of(b: &evidence::ReportBody) -> Identity {
        Identity {
            mr_enclave: crate::primitives::hex::hex_lower(&b.mr_enclave),
            mr_signer: crate::primitives::hex::hex_lower(&b.mr_signer),
            prod_id: b.isv_prod_id,
            svn: b.isv_svn,
            debug: b.is_debug(),
        }
    }
}

/// Which exchange certificate a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedCertificate {
    /// SHA-256 of the certificate (hex).
    pub sha256: String,
    /// Its `x5t#S256`.
    pub x5t_s256: String,
}

impl JudgedCertificate {
    /// The fingerprints of `cert`.
    pub fn of(cert: &Certificate) -> JudgedCertificate {
        JudgedCertificate {
            sha256: crate::primitives::hex::hex_lower(&cert.sha256()),
            x5t_s256: cert.x5t_s256(),
        }
    }
}

/// Every check made, in order, and what was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttestationReport {
    /// The checks, in order; on failure the last one failed.
    pub checks: Vec<Check>,
    /// The exchange certificate judged (none when the response could not be read).
    pub certificate: Option<JudgedCertificate>,
    /// The HSM enclave.
    pub enclave: Option<Identity>,
    /// The Quoting Enclave.
    pub qe: Option<Identity>,
    /// The platform, from the PCK certificate.
    pub platform: Option<Platform>,
    /// TCB status from Intel's collateral, when given.
    pub tcb: Option<collateral::TcbEvaluation>,
}

/// The attestation failed: the report ends with the check that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationFailure {
    /// What was checked up to the failure.
    pub report: Box<AttestationReport>,
}

impl fmt::Display for AttestationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.report.checks.last() {
            Some(c) if !c.passed => {
                write!(f, "exchange-key attestation failed at \"{}\": {}", c.name, c.detail)
            }
            _ => write!(f, "exchange-key attestation failed"),
        }
    }
}

impl std::error::Error for AttestationFailure {}

/// Why an exchange key may receive the master key.
#[derive(Debug, Clone)]
pub enum Basis {
    /// Its SGX evidence passed every check.
    Attested(Box<AttestationReport>),
    /// It carries no (usable) evidence; a person confirmed its fingerprint out
    /// of band and accepted that nothing else was verified.
    ConfirmedUnattested,
}

/// An exchange key that passed attestation, or that a person explicitly
/// accepted unattested by its fingerprint.
#[derive(Debug, Clone)]
pub struct VerifiedExchangeKey {
    certificate: Certificate,
    hsm: String,
    basis: Basis,
}

impl VerifiedExchangeKey {
    /// Verifies `source` for the HSM named `hsm` (its name, not its URL) at
    /// Unix time `at`, against `pins`.
    pub fn attested(
        source: ExchangeKeySource<'_>,
        hsm: &str,
        pins: &Pins,
        at: u64,
    ) -> Result<VerifiedExchangeKey, AttestationFailure> {
        let (certificate, _evidence, report) = verify::run(&source, hsm, pins, at)?;
        Ok(VerifiedExchangeKey { certificate, hsm: hsm.to_owned(), basis: Basis::Attested(report) })
    }

    /// Verifies, then evaluates the platform's and QE's TCB status with
    /// Intel's collateral; a `Revoked` status fails.
    pub fn attested_with_collateral(
        source: ExchangeKeySource<'_>,
        hsm: &str,
        pins: &Pins,
        at: u64,
        collateral: &collateral::Collateral,
    ) -> Result<VerifiedExchangeKey, AttestationFailure> {
        let (certificate, evidence, report) = verify::run(&source, hsm, pins, at)?;
        let report = collateral::evaluate(report, &evidence, collateral, at)?;
        Ok(VerifiedExchangeKey { certificate, hsm: hsm.to_owned(), basis: Basis::Attested(report) })
    }

    /// Accepts an exchange key for the HSM named `hsm` without attestation,
    /// because a person confirmed its `x5t#S256` out of band and gave it here.
    /// Only the SGX evidence is waived: the certificate must still pass every
    /// other check at `at` (validity, RSA-3072 or more, CA:FALSE,
    /// keyEncipherment, CN naming the HSM).
    pub fn confirmed_unattested(
        certificate: &Certificate,
        hsm: &str,
        confirmed_x5t_s256: &str,
        at: u64,
    ) -> Result<VerifiedExchangeKey, AttestationFailure> {
        verify::run_unattested(certificate, hsm, confirmed_x5t_s256, at)?;
        Ok(VerifiedExchangeKey {
            certificate: certificate.clone(),
            hsm: hsm.to_owned(),
            basis: Basis::ConfirmedUnattested,
        })
    }

    /// The exchange certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The name of the HSM it was verified for.
    pub fn hsm_name(&self) -> &str {
        &self.hsm
    }

    /// Why it is trusted.
    pub fn basis(&self) -> &Basis {
        &self.basis
    }
}

/// How exchange keys are judged: against `pins` (and, when given, Intel's
/// collateral); a key that fails is still accepted only when a person
/// confirmed its `x5t#S256` out of band and gave it as `allow_unattested`.
#[derive(Debug, Clone, Default)]
pub struct ExchangeKeyPolicy {
    /// The root, QE and enclave pins.
    pub pins: Pins,
    /// Intel's TCB Info and QE Identity, to evaluate TCB status.
    pub collateral: Option<collateral::Collateral>,
    /// The fingerprint of an exchange key accepted without attestation.
    pub allow_unattested: Option<String>,
}

impl ExchangeKeyPolicy {
    /// Verifies `source` for the HSM named `hsm` at Unix time `at`.
    pub fn verify(
        &self,
        source: ExchangeKeySource<'_>,
        hsm: &str,
        at: u64,
    ) -> Result<VerifiedExchangeKey, AttestationFailure> {
        let attested = match &self.collateral {
            Some(c) => VerifiedExchangeKey::attested_with_collateral(source, hsm, &self.pins, at, c),
            None => VerifiedExchangeKey::attested(source, hsm, &self.pins, at),
        };
        let (Err(mut failure), Some(x5t)) = (attested.clone(), &self.allow_unattested) else {
            return attested;
        };
        let cert = match source {
            ExchangeKeySource::Certificate(c) => Ok(c.clone()),
            ExchangeKeySource::Response(body) => crate::azure::transfer_key::parse_response(body),
        };
        match cert {
            Ok(c) => VerifiedExchangeKey::confirmed_unattested(&c, hsm, x5t, at),
            Err(e) => {
                failure.report.checks.push(Check {
                    name: "confirmed fingerprint",
                    passed: false,
                    detail: e.to_string(),
                });
                Err(failure)
            }
        }
    }
}
