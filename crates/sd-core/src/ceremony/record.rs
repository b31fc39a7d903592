//! The ceremony record: what happened, step by step, signed.
//!
//! A record holds its plan, and for each step the time it started and
//! ended, the SHA-256 of every file it read and wrote, the witness's
//! confirmation, and any exception (a step skipped, retried or changed, with
//! the reason typed then), and the serial of every bag opened and sealed as
//! it was read off the bag. It names the SD file the ceremony was about
//! (and, for a rotation, the SD file it made), and the record before it for
//! the same HSM, by the SHA-256 of that record's signed content (its
//! identity, which co-signatures do not change): the records of one HSM are
//! a hash chain, which [`super::ledger`] verifies.
//!
//! The ceremony administrator signs it first; each custodian who took part
//! co-signs it on their own laptop or token ([`CeremonyRecord::cosign`]).
//! A record counts when the administrator the plan names signed it and a
//! quorum of the SD file's custodians co-signed it, and nobody else did.

use serde::{Deserialize, Serialize};

use super::CeremonyError;
use super::plan::{CeremonyKind, CeremonyPlan};
use crate::azure::sd_file::SecurityDomain;
use crate::bundle::{self, BundleKind, Signer};
use crate::handoff::HandoffError;
use crate::pki::cert::Certificate;
use crate::time::Timestamp;

/// What a record says it is.
pub const FORMAT: &str = "hsm-ceremony record 1";

/// A file a step read or wrote, by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileHash {
    /// The path as the plan gives it.
    pub path: String,
    /// SHA-256 (hex) of its content; none when it was not there.
    pub sha256: Option<String>,
}

/// How a step departed from the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExceptionKind {
    /// Not done.
    Skipped,
    /// Done again after a failure.
    Retried,
    /// Done otherwise than written.
    Changed,
}

impl ExceptionKind {
    /// The word, as printed.
    pub fn name(self) -> &'static str {
        match self {
            ExceptionKind::Skipped => "skipped",
            ExceptionKind::Retried => "retried",
            ExceptionKind::Changed => "changed",
        }
    }
}

/// A departure from the plan, with the reason typed at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Skipped, retried or changed.
    pub kind: ExceptionKind,
    /// Why.
    pub reason: String,
}

/// One step as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    /// The plan's step ID.
    pub id: String,
    /// When it was shown.
    pub started: Timestamp,
    /// When the witness confirmed it.
    pub finished: Timestamp,
    /// What it read.
    pub inputs: Vec<FileHash>,
    /// What it wrote.
    pub outputs: Vec<FileHash>,
    /// The witness confirmed it.
    pub witnessed: bool,
    /// How it departed from the plan, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Exception>,
}

/// What was done with a bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BagAction {
    /// Opened (its seal checked).
    Opened,
    /// Sealed.
    Sealed,
}

/// A bag opened or sealed, with the serial as read off it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BagEvent {
    /// The serial the plan names.
    pub serial: String,
    /// Opened or sealed.
    pub action: BagAction,
    /// At which step.
    pub step: String,
    /// The serial read off the bag and typed (an exception when it differs).
    pub read: String,
}

/// The record (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyRecord {
    format: String,
    /// Its place in the HSM's ledger: 0 for the activation.
    pub sequence: u64,
    /// The identity (SHA-256 of the signed content) of the record before it.
    pub previous: Option<String>,
    /// SHA-256 (hex) of the plan file followed.
    pub plan_sha256: String,
    /// The plan followed.
    pub plan: CeremonyPlan,
    /// SHA-256 (hex) of the SD file the ceremony was about (for an
    /// activation, the one it made).
    pub sd_sha256: String,
    /// For a rotation, the SD file it made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd_after_sha256: Option<String>,
    /// When the first step was shown.
    pub started: Timestamp,
    /// When the last step was confirmed.
    pub finished: Timestamp,
    /// Every step of the plan, in order.
    pub steps: Vec<StepRecord>,
    /// Every bag opened and sealed.
    pub bags: Vec<BagEvent>,
    /// A rehearsal: the tool answered for the witness (every step as
    /// written unless its files were missing, every bag as planned).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rehearsal: bool,
    /// The operator's own transcript of the online steps (the file that
    /// left the online machine), by its SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_transcript: Option<FileHash>,
}

/// A record whose signatures are those the plan and the SD file call for.
#[derive(Debug, Clone)]
pub struct VerifiedRecord {
    record: CeremonyRecord,
    id: String,
    administrator: Certificate,
    custodians: Vec<Certificate>,
}

impl VerifiedRecord {
    /// What it says.
    pub fn record(&self) -> &CeremonyRecord {
        &self.record
    }
    /// Its identity: SHA-256 (hex) of the signed content.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The administrator who signed it.
    pub fn administrator(&self) -> &Certificate {
        &self.administrator
    }
    /// The custodians who co-signed it.
    pub fn custodians(&self) -> &[Certificate] {
        &self.custodians
    }
}

/// What a record is made from.
pub struct RecordInput {
    /// Its place in the ledger (0 for an activation).
    pub sequence: u64,
    /// The identity of the record before it (none for an activation).
    pub previous: Option<String>,
    /// SHA-256 of the plan file.
    pub plan_sha256: String,
    /// The plan.
    pub plan: CeremonyPlan,
    /// The SD file the ceremony was about.
    pub sd_sha256: String,
    /// For a rotation, the SD file it made.
    pub sd_after_sha256: Option<String>,
    /// Every step, as it happened.
    pub steps: Vec<StepRecord>,
    /// Every bag event.
    pub bags: Vec<BagEvent>,
    /// Whether the tool answered for the witness.
    pub rehearsal: bool,
    /// The operator's transcript of the online steps.
    pub operator_transcript: Option<FileHash>,
}

impl CeremonyRecord {
    /// A record, checked: it follows its plan step by step, an activation
    /// comes first and only first, and only a rotation makes a new SD file.
    pub fn new(input: RecordInput) -> Result<CeremonyRecord, CeremonyError> {
        let started = input.steps.first().map(|s| s.started).ok_or(CeremonyError::StepsDisagree)?;
        let finished = input.steps.last().map(|s| s.finished).ok_or(CeremonyError::StepsDisagree)?;
        let record = CeremonyRecord {
            format: FORMAT.into(),
            sequence: input.sequence,
            previous: input.previous,
            plan_sha256: input.plan_sha256,
            plan: input.plan,
            sd_sha256: input.sd_sha256,
            sd_after_sha256: input.sd_after_sha256,
            started,
            finished,
            steps: input.steps,
            bags: input.bags,
            rehearsal: input.rehearsal,
            operator_transcript: input.operator_transcript,
        };
        record.check()?;
        Ok(record)
    }

    fn check(&self) -> Result<(), CeremonyError> {
        if self.format != FORMAT {
            return Err(CeremonyError::Plan(format!("the record's format is {:?}", self.format)));
        }
        self.plan.check()?;
        let ids_match = self.steps.len() == self.plan.steps.len()
            && self.steps.iter().zip(&self.plan.steps).all(|(s, p)| s.id == p.id);
        if !ids_match {
            return Err(CeremonyError::StepsDisagree);
        }
        let first = self.plan.kind == CeremonyKind::Activation;
        if first != (self.previous.is_none() && self.sequence == 0) {
            return Err(CeremonyError::ActivationFirst);
        }
        if (self.plan.kind == CeremonyKind::Rotation) != self.sd_after_sha256.is_some() {
            return Err(CeremonyError::SdAfter);
        }
        Ok(())
    }

    /// The steps that departed from the plan.
    pub fn exceptions(&self) -> impl Iterator<Item = (&StepRecord, &Exception)> {
        self.steps.iter().filter_map(|s| s.exception.as_ref().map(|e| (s, e)))
    }

    /// Signs the record as the ceremony administrator the plan names.
    pub fn sign(&self, administrator: &Signer<'_>) -> Result<String, CeremonyError> {
        let pinned = self.plan.roles.administrator.pin();
        if !pinned.is_some_and(|p| p.matches(administrator.cert)) {
            return Err(CeremonyError::NotTheAdministrator { subject: administrator.cert.subject() });
        }
        Ok(bundle::sign(BundleKind::CeremonyRecord, self, std::slice::from_ref(administrator))
            .map_err(HandoffError::from)?)
    }

    /// Adds a custodian's co-signature to a signed record about `sd` (for a
    /// rotation, the file before or the one it made), after checking every
    /// signature already there. `signer` must be one of `sd`'s custodians.
    pub fn cosign(bytes: &[u8], sd: &SecurityDomain, signer: &Signer<'_>) -> Result<String, CeremonyError> {
        let signed =
            bundle::verify_signatures(bytes, BundleKind::CeremonyRecord).map_err(HandoffError::from)?;
        let record: CeremonyRecord = signed.payload_as().map_err(HandoffError::from)?;
        record.check()?;
        let about = record.sd_sha256 == sd.sha256() || record.sd_after_sha256.as_deref() == Some(sd.sha256());
        if !about {
            return Err(
                HandoffError::OtherSdFile { named: record.sd_sha256, given: sd.sha256().to_owned() }.into()
            );
        }
        if !sd.thumbprints().contains(&signer.cert.x5t_s256()) {
            return Err(HandoffError::NotACustodian {
                subject: signer.cert.subject(),
                x5t_s256: signer.cert.x5t_s256(),
            }
            .into());
        }
        Ok(bundle::cosign(bytes, BundleKind::CeremonyRecord, signer).map_err(HandoffError::from)?)
    }

    /// Reads a record and checks its signatures, without deciding whom to
    /// trust: for showing and printing. Returns the record, its identity and
    /// its signers.
    pub fn read(bytes: &[u8]) -> Result<(CeremonyRecord, String, Vec<Certificate>), CeremonyError> {
        let signed =
            bundle::verify_signatures(bytes, BundleKind::CeremonyRecord).map_err(HandoffError::from)?;
        let record: CeremonyRecord = signed.payload_as().map_err(HandoffError::from)?;
        record.check()?;
        Ok((record, signed.payload_sha256(), signed.signers().to_vec()))
    }

    /// Verifies a record against `sd`, the SD file it names (and `after`, the
    /// one a rotation made): signed by the administrator its plan names and
    /// co-signed by at least the quorum of `sd`'s custodians (and of
    /// `after`'s), and by nobody else.
    pub fn verify(
        bytes: &[u8],
        sd: &SecurityDomain,
        after: Option<&SecurityDomain>,
    ) -> Result<VerifiedRecord, CeremonyError> {
        let (record, id, signers) = CeremonyRecord::read(bytes)?;
        if record.sd_sha256 != sd.sha256() {
            return Err(
                HandoffError::OtherSdFile { named: record.sd_sha256, given: sd.sha256().to_owned() }.into()
            );
        }
        if let (Some(named), Some(after)) = (&record.sd_after_sha256, after)
            && named != after.sha256()
        {
            return Err(
                HandoffError::OtherSdFile { named: named.clone(), given: after.sha256().to_owned() }.into()
            );
        }
        let pin = record.plan.roles.administrator.pin();
        let mut administrator = None;
        let mut custodians = Vec::new();
        let listed = |file: Option<&SecurityDomain>, c: &Certificate| {
            file.is_some_and(|f| f.thumbprints().contains(&c.x5t_s256()))
        };
        for c in signers {
            if pin.as_ref().is_some_and(|p| p.matches(&c)) {
                administrator = Some(c);
            } else if listed(Some(sd), &c) || listed(after, &c) {
                custodians.push(c);
            } else {
                return Err(
                    HandoffError::NotACustodian { subject: c.subject(), x5t_s256: c.x5t_s256() }.into()
                );
            }
        }
        let administrator = administrator.ok_or(CeremonyError::NoAdministratorSignature)?;
        for file in std::iter::once(sd).chain(after) {
            let count = custodians.iter().filter(|c| listed(Some(file), c)).count();
            if count < file.required() {
                return Err(HandoffError::TooFewSigners { signers: count, required: file.required() }.into());
            }
        }
        Ok(VerifiedRecord { record, id, administrator, custodians })
    }
}
