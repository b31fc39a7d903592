//! The ledger: every ceremony record of one HSM, as one hash chain.
//!
//! The activation's record comes first; each later record names the one
//! before it by identity and carries the next sequence number. The chain is
//! anchored at its end by the SD file the verifier trusts now (a custodian's
//! own copy): the last record must leave the HSM with that file, so the last
//! record's co-signers are that file's custodians, each record pins the one
//! before it, and each record's signers are checked against the SD file
//! current at its point (found among the files given, by the hash the record
//! names; a rotation moves the chain to the file it made). Refused, each with
//! the file it is about: two records after the same one (a fork), a record
//! whose predecessor is missing, a record out of order, one about another SD
//! file than the one current then, and any record whose signatures do not
//! verify (which is what removing an exception after signing does).

use std::collections::BTreeMap;

use super::CeremonyError;
use super::plan::CeremonyKind;
use super::record::{CeremonyRecord, VerifiedRecord};
use crate::azure::sd_file::SecurityDomain;

/// One record of a ledger, read but not yet trusted.
struct Entry<'a> {
    name: &'a str,
    bytes: &'a [u8],
    record: CeremonyRecord,
    id: String,
}

/// A verified ledger: its records in chain order.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// (file name, record) from the activation on.
    pub records: Vec<(String, VerifiedRecord)>,
}

impl Ledger {
    /// Verifies `records` ((file name, bytes)) as one HSM's ledger, with the
    /// SD files `sds` for the hashes records name, ending at `current`.
    pub fn verify(
        records: &[(String, Vec<u8>)],
        sds: &[SecurityDomain],
        current: &SecurityDomain,
    ) -> Result<Ledger, CeremonyError> {
        let mut entries = Vec::with_capacity(records.len());
        for (name, bytes) in records {
            let (record, id, _) = CeremonyRecord::read(bytes).map_err(|e| e.in_record(name))?;
            entries.push(Entry { name, bytes, record, id });
        }
        let first: Vec<&Entry<'_>> = entries.iter().filter(|e| e.record.previous.is_none()).collect();
        let genesis = match first.as_slice() {
            [] => return Err(CeremonyError::NoActivation),
            [one] => *one,
            [a, b, ..] => {
                return Err(CeremonyError::Fork {
                    after: "(none)".into(),
                    first: a.name.into(),
                    second: b.name.into(),
                });
            }
        };
        let mut after: BTreeMap<&str, &Entry<'_>> = BTreeMap::new();
        for e in &entries {
            let Some(previous) = e.record.previous.as_deref() else { continue };
            if !entries.iter().any(|o| o.id == previous) {
                return Err(CeremonyError::Missing { record: e.name.into(), previous: previous.into() });
            }
            if let Some(other) = after.insert(previous, e) {
                let before = entries.iter().find(|o| o.id == previous).map_or("?", |o| o.name);
                return Err(CeremonyError::Fork {
                    after: before.into(),
                    first: other.name.into(),
                    second: e.name.into(),
                });
            }
        }
        let by_hash = |sha: &str| std::iter::once(current).chain(sds).find(|s| s.sha256() == sha);
        let mut chain = Vec::with_capacity(entries.len());
        let mut at = Some(genesis);
        let mut sd_now = genesis.record.sd_sha256.clone();
        let mut last_finished = None;
        while let Some(e) = at {
            let expected = chain.len() as u64;
            let in_time = last_finished.is_none_or(|t| e.record.started >= t);
            if e.record.sequence != expected || !in_time {
                return Err(CeremonyError::OutOfOrder {
                    record: e.name.into(),
                    sequence: e.record.sequence,
                    expected,
                });
            }
            if e.record.sd_sha256 != sd_now {
                return Err(CeremonyError::SdNotCurrent {
                    record: e.name.into(),
                    named: e.record.sd_sha256.clone(),
                    current: sd_now,
                });
            }
            let sd = by_hash(&sd_now)
                .ok_or_else(|| CeremonyError::SdUnknown { record: e.name.into(), sha256: sd_now.clone() })?;
            let made = match &e.record.sd_after_sha256 {
                Some(sha) => Some(by_hash(sha).ok_or_else(|| CeremonyError::SdUnknown {
                    record: e.name.into(),
                    sha256: sha.clone(),
                })?),
                None => None,
            };
            let verified = CeremonyRecord::verify(e.bytes, sd, made).map_err(|err| err.in_record(e.name))?;
            if e.record.plan.kind == CeremonyKind::Rotation {
                sd_now = made.map(|m| m.sha256().to_owned()).unwrap_or(sd_now);
            }
            last_finished = Some(e.record.finished);
            chain.push((e.name.to_owned(), verified));
            at = after.get(e.id.as_str()).copied();
        }
        // Every record was reached: each names a predecessor in the ledger,
        // no two name the same one, only the activation names none, and a
        // cycle would need a record to hold its own hash.
        if sd_now != current.sha256() {
            return Err(CeremonyError::EndsElsewhere { ends: sd_now, given: current.sha256().to_owned() });
        }
        Ok(Ledger { records: chain })
    }
}
