//! The ceremony record: the plan a ceremony follows ([`plan`]), the signed
//! record of what happened ([`record`]), and the hash-chained ledger of one
//! HSM's ceremonies ([`ledger`]). What auditors ask of key ceremonies
//! (WebTrust's root-key generation script and report, IANA's annotated
//! ceremony scripts: numbered steps, roles, times, witness confirmations,
//! exceptions, bag serials, hashes of every output) as checkable files.

use std::fmt;

use crate::handoff::HandoffError;

pub mod ledger;
pub mod plan;
pub mod record;

/// Why a plan, record or ledger is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CeremonyError {
    /// The plan cannot be followed (what is wrong).
    Plan(String),
    /// A signature, signer or SD file is not what the record needs.
    Handoff(HandoffError),
    /// The record's steps are not its plan's.
    StepsDisagree,
    /// An activation must be the first record, and only it.
    ActivationFirst,
    /// A rotation names the SD file it made; nothing else does.
    SdAfter,
    /// The key signing as administrator is not the one the plan names.
    NotTheAdministrator {
        /// The signer's subject.
        subject: String,
    },
    /// The administrator the plan names did not sign the record.
    NoAdministratorSignature,
    /// No record starts the ledger (an activation with no predecessor).
    NoActivation,
    /// Two records follow the same one.
    Fork {
        /// The record they both follow.
        after: String,
        /// One of them.
        first: String,
        /// The other.
        second: String,
    },
    /// A record's predecessor is not in the ledger.
    Missing {
        /// The record.
        record: String,
        /// The identity it names.
        previous: String,
    },
    /// A record's sequence number or time is not its place in the chain.
    OutOfOrder {
        /// The record.
        record: String,
        /// Its sequence number.
        sequence: u64,
        /// Its place in the chain.
        expected: u64,
    },
    /// A record is about another SD file than the one current at its point.
    SdNotCurrent {
        /// The record.
        record: String,
        /// The SD file it names.
        named: String,
        /// The SD file current then.
        current: String,
    },
    /// No SD file given has the hash a record names.
    SdUnknown {
        /// The record.
        record: String,
        /// The hash.
        sha256: String,
    },
    /// The ledger leaves the HSM with another SD file than the one given.
    EndsElsewhere {
        /// The SD file the last record leaves.
        ends: String,
        /// The SD file given.
        given: String,
    },
    /// A problem with one record of a ledger.
    InRecord {
        /// The record's file.
        record: String,
        /// What is wrong with it.
        problem: Box<CeremonyError>,
    },
}

impl CeremonyError {
    /// This error, said of the record in file `name`.
    pub fn in_record(self, name: &str) -> CeremonyError {
        CeremonyError::InRecord { record: name.to_owned(), problem: Box::new(self) }
    }
}

impl From<HandoffError> for CeremonyError {
    fn from(e: HandoffError) -> Self {
        CeremonyError::Handoff(e)
    }
}

impl fmt::Display for CeremonyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CeremonyError::*;
        match self {
            Plan(why) => write!(f, "the plan cannot be followed: {why}"),
            Handoff(e) => write!(f, "{e}"),
            StepsDisagree => f.write_str("its steps are not its plan's steps, in order"),
            ActivationFirst => f.write_str(
                "an activation's record comes first (sequence 0, no previous record), and only it",
            ),
            SdAfter => f.write_str("a rotation names the SD file it made, and only a rotation does"),
            NotTheAdministrator { subject } => {
                write!(f, "{subject} is not the ceremony administrator the plan names (by fingerprint)")
            }
            NoAdministratorSignature => {
                f.write_str("the ceremony administrator the plan names did not sign it")
            }
            NoActivation => f.write_str("no record starts the ledger: the activation's record is missing"),
            Fork { after, first, second } => {
                write!(f, "a fork: {first} and {second} both follow {after}; one HSM has one history")
            }
            Missing { record, previous } => {
                write!(f, "{record} follows record {previous}, which is not in the ledger")
            }
            OutOfOrder { record, sequence, expected } => write!(
                f,
                "{record} is out of order: it says it is ceremony {sequence} but is ceremony {expected} of the chain (or it starts before the one before it ended)"
            ),
            SdNotCurrent { record, named, current } => {
                write!(f, "{record} is about SD file {named}, but the SD file at that point is {current}")
            }
            SdUnknown { record, sha256 } => {
                write!(f, "{record} names SD file {sha256}, which is not among the files given")
            }
            EndsElsewhere { ends, given } => write!(
                f,
                "the ledger leaves the HSM with SD file {ends}, not the one given ({given}): a record is missing at the end"
            ),
            InRecord { record, problem } => write!(f, "{record}: {problem}"),
        }
    }
}

impl std::error::Error for CeremonyError {}
