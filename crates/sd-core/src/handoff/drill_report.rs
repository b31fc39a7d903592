//! Drill report: which custodians proved, when, that a quorum rebuilds the
//! master key and opens every EncData entry; signed by every participant.
//!
//! Verified against the SD file, a report counts only when every signer is one
//! of the file's custodians, at least the quorum of them signed, and the
//! participants it lists are exactly the signers. Without the SD file only the
//! signatures can be checked, which says nothing about who signed.

use serde::{Deserialize, Serialize};

use super::share_commitment::{self, ShareCommitment};
use super::{HandoffError, require_sd};
use crate::azure::enc_data::DomainSecret;
use crate::azure::sd_file::SecurityDomain;
use crate::bundle::{self, BundleKind, Signer};
use crate::pki::cert::Certificate;
use crate::time::Timestamp;

/// The result a successful drill reports.
pub const SUCCESS: &str = "success";

/// One custodian's part in a drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillParticipant {
    /// Certificate subject.
    pub subject: String,
    /// Certificate thumbprint.
    pub x5t_s256: String,
    /// Position of the custodian's certificate in the SD file.
    pub share_index: usize,
}

/// One EncData entry checked in a drill (never its content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillEntry {
    /// The tag.
    pub tag: String,
    /// Plaintext length.
    pub bytes: usize,
    /// True when it decrypted and authenticated.
    pub verified: bool,
}

/// The drill-report payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillReport {
    /// SHA-256 (hex) of the SD file.
    pub sd_sha256: String,
    /// The quorum.
    pub quorum: usize,
    /// Number of custodian certificates in the SD.
    pub shares: usize,
    /// The custodians who took part.
    pub participants: Vec<DrillParticipant>,
    /// Every EncData entry and whether it verified.
    pub enc_data: Vec<DrillEntry>,
    /// [`SUCCESS`] when the master key was rebuilt and every entry verified.
    pub result: String,
    /// When the drill started.
    pub started: Timestamp,
    /// When it finished.
    pub finished: Timestamp,
    /// Every custodian's share commitment, from the rebuilt polynomials
    /// ([`super::share_commitment`]); none in reports made before them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commitments: Vec<ShareCommitment>,
}

/// A drill report verified against its SD file.
#[derive(Debug, Clone)]
pub struct VerifiedReport {
    report: DrillReport,
    signers: Vec<Certificate>,
}

impl VerifiedReport {
    /// What the report says (its participants are exactly its signers).
    pub fn report(&self) -> &DrillReport {
        &self.report
    }
    /// The custodians who signed, in signature order.
    pub fn signers(&self) -> &[Certificate] {
        &self.signers
    }
    /// True when the drill succeeded and every EncData entry verified.
    pub fn succeeded(&self) -> bool {
        self.report.result == SUCCESS
            && !self.report.enc_data.is_empty()
            && self.report.enc_data.iter().all(|e| e.verified)
    }
}

impl DrillReport {
    /// The report of a successful drill on `sd`: `participants` rebuilt the
    /// master key, which opened every entry of `secrets`.
    pub fn success(
        sd: &SecurityDomain,
        participants: &[Certificate],
        secrets: &[DomainSecret],
        started: u64,
        finished: u64,
    ) -> Result<DrillReport, HandoffError> {
        let thumbprints = sd.thumbprints();
        let participants = participants
            .iter()
            .map(|c| {
                let x5t_s256 = c.x5t_s256();
                let share_index = thumbprints.iter().position(|t| *t == x5t_s256).ok_or_else(|| {
                    HandoffError::NotACustodian { subject: c.subject(), x5t_s256: x5t_s256.clone() }
                })?;
                Ok(DrillParticipant { subject: c.subject(), x5t_s256, share_index })
            })
            .collect::<Result<Vec<_>, HandoffError>>()?;
        Ok(DrillReport {
            sd_sha256: sd.sha256().to_owned(),
            quorum: sd.required(),
            shares: thumbprints.len(),
            participants,
            enc_data: secrets
                .iter()
                .map(|s| DrillEntry { tag: s.tag.clone(), bytes: s.data.len(), verified: true })
                .collect(),
            result: SUCCESS.into(),
            started: Timestamp::from_unix(started),
            finished: Timestamp::from_unix(finished),
            commitments: Vec::new(),
        })
    }

    /// The report with the share commitments of a drill (rows the SD file
    /// does not list are refused).
    pub fn with_commitments(
        mut self,
        sd: &SecurityDomain,
        rows: Vec<ShareCommitment>,
    ) -> Result<DrillReport, HandoffError> {
        share_commitment::check_table(&rows, sd)?;
        self.commitments = rows;
        Ok(self)
    }

    /// Signs the report by every participant; `signers` must be exactly them.
    pub fn sign(&self, signers: &[Signer<'_>]) -> Result<String, HandoffError> {
        if !same_custodians(&self.participants, signers.iter().map(|s| s.cert)) {
            return Err(HandoffError::ParticipantsNotSigners);
        }
        Ok(bundle::sign(BundleKind::DrillReport, self, signers)?)
    }

    /// Verifies a report against `sd`: every signer a custodian of it, at
    /// least its quorum of them, the participants exactly the signers, and
    /// the report about this very file and its quorum.
    pub fn verify(bytes: &[u8], sd: &SecurityDomain) -> Result<VerifiedReport, HandoffError> {
        let verified = DrillReport::verify_by_custodians(bytes, sd)?;
        require_sd(&verified.report.sd_sha256, sd)?;
        Ok(verified)
    }

    /// [`DrillReport::verify`] but for the file's hash: the signers are a
    /// quorum of `sd`'s custodians and the report agrees with its quorum and
    /// custodians, but it may be about another copy of the file (one whose
    /// entries differ). For comparing one's share with the commitments, which
    /// name the drill's file themselves.
    pub fn verify_by_custodians(bytes: &[u8], sd: &SecurityDomain) -> Result<VerifiedReport, HandoffError> {
        let signed = bundle::verify_signatures(bytes, BundleKind::DrillReport)?;
        let thumbprints = sd.thumbprints();
        for c in signed.signers() {
            if !thumbprints.contains(&c.x5t_s256()) {
                return Err(HandoffError::NotACustodian { subject: c.subject(), x5t_s256: c.x5t_s256() });
            }
        }
        // verify_signatures refuses a certificate twice, so these are distinct custodians.
        let signers = signed.signers().to_vec();
        if signers.len() < sd.required() {
            return Err(HandoffError::TooFewSigners { signers: signers.len(), required: sd.required() });
        }
        let report: DrillReport = signed.payload_as()?;
        if report.quorum != sd.required() {
            return Err(HandoffError::DisagreesWithSd { what: "quorum" });
        }
        if report.shares != thumbprints.len() {
            return Err(HandoffError::DisagreesWithSd { what: "number of shares" });
        }
        let positions_ok =
            report.participants.iter().all(|p| thumbprints.get(p.share_index) == Some(&p.x5t_s256));
        if !positions_ok || !same_custodians(&report.participants, signers.iter()) {
            return Err(HandoffError::ParticipantsNotSigners);
        }
        share_commitment::check_table(&report.commitments, sd)?;
        Ok(VerifiedReport { report, signers })
    }
}

/// True when the participants listed are exactly these certificates, each once.
fn same_custodians<'a>(
    participants: &[DrillParticipant],
    certs: impl Iterator<Item = &'a Certificate>,
) -> bool {
    let mut listed: Vec<&str> = participants.iter().map(|p| p.x5t_s256.as_str()).collect();
    let mut signing: Vec<String> = certs.map(Certificate::x5t_s256).collect();
    listed.sort_unstable();
    signing.sort_unstable();
    listed.len() == signing.len() && listed.iter().zip(&signing).all(|(a, b)| a == b)
}
