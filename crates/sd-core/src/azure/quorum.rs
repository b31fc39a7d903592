//! Rebuilding the master key from a quorum of opened shares, with the SD
//! file itself as the judge.
//!
//! Shamir's scheme alone cannot say which share is wrong: any M shares define
//! a polynomial, and a bad share among them only yields a wrong secret. What
//! can say it is the SD file: every EncData entry carries a MAC under a key
//! derived from the master key. So, given more than M shares, every M-subset
//! is tried until one rebuilds a key that authenticates every EncData entry;
//! only then are the other shares compared with that key's polynomial, and
//! those that disagree are named. A dishonest custodian cannot get an honest
//! one blamed by handing in first. With exactly M shares that fail, nothing
//! can tell which one is bad, and the error says so.

use std::fmt;

use crate::azure::enc_data::DomainSecret;
use crate::azure::sd_file::{OpenedShare, SecurityDomain};
use crate::primitives::secret::MasterKey;
use crate::primitives::shamir::{self, Share};

/// The outcome of a successful rebuild (its `Debug` shows no secret).
#[derive(Debug)]
pub struct Recovered {
    /// The master key, proven by every EncData MAC.
    pub master: MasterKey,
    /// Every EncData plaintext, authenticated.
    pub secrets: Vec<DomainSecret>,
    /// Positions (in the input) of the M shares that rebuilt the key.
    pub basis: Vec<usize>,
    /// Positions of further shares that disagree with the proven key: each
    /// one is damaged, or was not made by the HSM for this file.
    pub disagreeing: Vec<usize>,
    /// Every custodian's share as the proven key's polynomials give it, in
    /// the file's order (x = 1, 2, ...): what each custodian should hold,
    /// for share commitments ([`crate::handoff::share_commitment`]).
    pub expected: Vec<Share>,
}

/// Why no master key could be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumError {
    /// A version-1 (xor_split) file has no Shamir shares.
    NotShamir,
    /// Fewer shares than the quorum.
    TooFew {
        /// How many were given.
        given: usize,
        /// The file's quorum.
        required: usize,
    },
    /// Two inputs carry the same share of the file.
    SameShare {
        /// Position of the first.
        first: usize,
        /// Position of the second.
        second: usize,
        /// The share's position in the SD file (0-based).
        index: usize,
    },
    /// No M of the shares given rebuild a key that opens EncData: with exactly
    /// M, at least one is bad and nobody can tell which; with more, fewer
    /// than M are good.
    Inconsistent {
        /// How many shares were given.
        given: usize,
        /// The file's quorum.
        required: usize,
    },
}

impl fmt::Display for QuorumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuorumError::NotShamir => {
                write!(f, "this is a version-1 (xor_split) file; it has no Shamir shares")
            }
            QuorumError::TooFew { given, required } => {
                write!(f, "{given} share(s) given, the quorum is {required}")
            }
            QuorumError::SameShare { first, second, index } => write!(
                f,
                "inputs {} and {} carry the same share ({} of the file)",
                first + 1,
                second + 1,
                index + 1
            ),
            QuorumError::Inconsistent { given, required } if given == required => write!(
                f,
                "the quorum is inconsistent: these {given} shares do not rebuild a master key that \
                 opens this file's EncData; at least one of them is bad, and with exactly the quorum \
                 nothing can tell which"
            ),
            QuorumError::Inconsistent { given, required } => write!(
                f,
                "no {required} of these {given} shares rebuild a master key that opens this file's \
                 EncData: fewer than {required} of them are good"
            ),
        }
    }
}

impl std::error::Error for QuorumError {}

/// Rebuilds the master key of a version-2 file from `shares` (at least the
/// quorum, each opened from this file or from a custodian's share bundle).
pub fn rebuild(sd: &SecurityDomain, shares: &[OpenedShare]) -> Result<Recovered, QuorumError> {
    if sd.version() != 2 {
        return Err(QuorumError::NotShamir);
    }
    let required = sd.required();
    if shares.len() < required {
        return Err(QuorumError::TooFew { given: shares.len(), required });
    }
    for (second, s) in shares.iter().enumerate() {
        if let Some(first) = shares[..second].iter().position(|o| o.index == s.index) {
            return Err(QuorumError::SameShare { first, second, index: s.index });
        }
    }
    let mut basis: Vec<usize> = (0..required).collect();
    loop {
        if let Some((master, secrets)) = try_basis(sd, shares, &basis) {
            let disagreeing = (0..shares.len())
                .filter(|p| !basis.contains(p) && !agrees(shares, &basis, *p, required))
                .collect();
            let on_the_polynomial = pick(shares, &basis);
            let expected = (1..=sd.shares().len())
                .map(|x| u8::try_from(x).ok().and_then(|x| shamir::evaluate(&on_the_polynomial, x).ok()))
                .collect::<Option<Vec<Share>>>()
                .ok_or(QuorumError::Inconsistent { given: shares.len(), required })?;
            return Ok(Recovered { master, secrets, basis, disagreeing, expected });
        }
        if !next_combination(&mut basis, shares.len()) {
            return Err(QuorumError::Inconsistent { given: shares.len(), required });
        }
    }
}

fn pick(shares: &[OpenedShare], positions: &[usize]) -> Vec<Share> {
    positions.iter().map(|&p| shares[p].share.clone()).collect()
}

/// The master key these M shares rebuild, if it authenticates every EncData entry.
fn try_basis(
    sd: &SecurityDomain,
    shares: &[OpenedShare],
    basis: &[usize],
) -> Option<(MasterKey, Vec<DomainSecret>)> {
    let secret = shamir::combine(&pick(shares, basis), basis.len()).ok()?;
    let master = MasterKey::from_slice(secret.expose())?;
    let secrets = sd.enc_data().decrypt(&master).ok()?;
    Some((master, secrets))
}

/// True when the share at `p` lies on the polynomial the `basis` shares define.
fn agrees(shares: &[OpenedShare], basis: &[usize], p: usize, required: usize) -> bool {
    let mut with = pick(shares, basis);
    with.push(shares[p].share.clone());
    shamir::combine(&with, required).is_ok()
}

/// Advances `c` (strictly increasing positions below `n`) to the next
/// combination in lexicographic order; false after the last.
fn next_combination(c: &mut [usize], n: usize) -> bool {
    let k = c.len();
    for i in (0..k).rev() {
        if c[i] < n - k + i {
            c[i] += 1;
            for j in i + 1..k {
                c[j] = c[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Shares gathered one custodian at a time, each refused as it comes when it
/// breaks a rule (so a tool can stop before asking the next custodian for a
/// passphrase), then rebuilt with the SD file as the judge.
pub struct Quorum<'a> {
    sd: &'a SecurityDomain,
    shares: Vec<OpenedShare>,
}

impl<'a> Quorum<'a> {
    /// Starts gathering for `sd` from `custodians` keys: refused at once when
    /// they are fewer than the file's quorum.
    pub fn gather(sd: &'a SecurityDomain, custodians: usize) -> Result<Quorum<'a>, QuorumError> {
        if custodians < sd.required() {
            return Err(QuorumError::TooFew { given: custodians, required: sd.required() });
        }
        Ok(Quorum { sd, shares: Vec::new() })
    }

    /// Adds the next custodian's share: refused when an earlier custodian
    /// brought the same share of the file.
    pub fn add(&mut self, share: OpenedShare) -> Result<(), QuorumError> {
        if let Some(first) = self.shares.iter().position(|s| s.index == share.index) {
            return Err(QuorumError::SameShare { first, second: self.shares.len(), index: share.index });
        }
        self.shares.push(share);
        Ok(())
    }

    /// Rebuilds the master key from what was gathered (see [`rebuild`]).
    pub fn rebuild(self) -> Result<Recovered, QuorumError> {
        rebuild(self.sd, &self.shares)
    }
}

impl SecurityDomain {
    /// Rebuilds the master key from opened shares (version 2), with this
    /// file's EncData MACs deciding which shares are good (see [`rebuild`]).
    pub fn recover(&self, shares: &[OpenedShare]) -> Result<Recovered, QuorumError> {
        rebuild(self, shares)
    }
}

#[cfg(test)]
mod tests {
    use super::next_combination;

    #[test]
    fn combinations_are_all_visited_once() {
        let mut c = vec![0, 1, 2];
        let mut seen = vec![c.clone()];
        while next_combination(&mut c, 5) {
            seen.push(c.clone());
        }
        assert_eq!(seen.len(), 10); // C(5,3)
        let mut dedup = seen.clone();
        dedup.dedup();
        assert_eq!(dedup, seen);
        assert_eq!(seen.last(), Some(&vec![2, 3, 4]));
    }
}
