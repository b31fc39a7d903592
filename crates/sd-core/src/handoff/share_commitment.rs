//! Share commitments: what lets one custodian, alone, check that the share
//! they hold is exactly the one a quorum rebuilt.
//!
//! Azure's shares carry no commitment, so on its own a custodian's `check`
//! can only say their share is well-formed. But a drill rebuilds the
//! polynomials from a proven quorum (the SD file's EncData MACs are the
//! judge), and with them every custodian's expected share. For each
//! custodian i the drill then writes
//!
//! ```text
//! commitment_i = SHA-256("hsm-ceremony share commitment v1" 0x00 ‖ sd_sha256 ‖ x_i ‖ share_i ‖ salt_i)
//! ```
//!
//! with a fresh 32-byte `salt_i` sealed (RSA-OAEP-256) to custodian i's
//! certificate only, and the participants sign the table into the drill
//! report. Later, custodian i opens their own share and salt and compares:
//! nobody else present, nothing rebuilt.
//!
//! The table leaks nothing: each share is high-entropy (the master key's
//! bytes, masked by random polynomials), a hash of it reveals nothing to
//! whoever lacks it, and the salts, different per custodian and readable
//! only by that custodian, keep equal shares of two files (or two drills)
//! from matching.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::HandoffError;
use crate::azure::sd_file::{OpenedShare, SecurityDomain};
use crate::pki::cert::Certificate;
use crate::primitives::hex;
use crate::primitives::jwe::{Alg, CompactJwe, Enc};
use crate::primitives::shamir::Share;
use crate::{Error, RsaKey};

const DOMAIN: &[u8] = b"hsm-ceremony share commitment v1\0";
const SALT_LEN: usize = 32;

/// One custodian's row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareCommitment {
    /// The share's position in the SD file (0-based).
    pub share_index: usize,
    /// The custodian's certificate thumbprint, as the SD file lists it.
    pub x5t_s256: String,
    /// SHA-256 (hex) of the share, as above.
    pub commitment: String,
    /// The salt, a compact JWE to the custodian's certificate.
    pub sealed_salt: String,
}

fn commitment(sd_sha256: &str, share: &Share, salt: &[u8]) -> Result<[u8; 32], Error> {
    let sd = hex::parse(sd_sha256)
        .ok_or_else(|| Error::Json { what: "SD file hash", detail: "not hex".into() })?;
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(&sd);
    h.update([share.x()]);
    h.update(share.to_bytes().expose());
    h.update(salt);
    Ok(h.finalize().into())
}

/// The table for `custodians` (certificates the SD file lists), from the
/// shares the proven polynomials give (`expected`, in the file's order).
pub fn commit<R: rand_core::TryCryptoRng + ?Sized>(
    rng: &mut R,
    sd: &SecurityDomain,
    expected: &[Share],
    custodians: &[Certificate],
) -> Result<Vec<ShareCommitment>, HandoffError> {
    let thumbprints = sd.thumbprints();
    let mut rows = Vec::with_capacity(custodians.len());
    for cert in custodians {
        let x5t_s256 = cert.x5t_s256();
        let share_index = thumbprints.iter().position(|t| *t == x5t_s256).ok_or_else(|| {
            HandoffError::NotACustodian { subject: cert.subject(), x5t_s256: x5t_s256.clone() }
        })?;
        if rows.iter().any(|r: &ShareCommitment| r.share_index == share_index) {
            continue;
        }
        let share =
            expected.get(share_index).ok_or(HandoffError::DisagreesWithSd { what: "number of shares" })?;
        let mut salt = zeroize::Zeroizing::new([0u8; SALT_LEN]);
        rng.try_fill_bytes(salt.as_mut()).map_err(|_| Error::Rng)?;
        let sealed =
            CompactJwe::encrypt_rsa(rng, Enc::A256Gcm, &cert.rsa_public_key()?, &x5t_s256, salt.as_ref())?;
        rows.push(ShareCommitment {
            share_index,
            commitment: hex::hex_lower(&commitment(sd.sha256(), share, salt.as_ref())?),
            x5t_s256,
            sealed_salt: sealed.serialize(),
        });
    }
    rows.sort_by_key(|r| r.share_index);
    Ok(rows)
}

/// Checks that every row names the custodian the SD file lists at its position.
pub fn check_table(rows: &[ShareCommitment], sd: &SecurityDomain) -> Result<(), HandoffError> {
    let thumbprints = sd.thumbprints();
    for r in rows {
        let listed = thumbprints.get(r.share_index).is_some_and(|t| *t == r.x5t_s256);
        let once = rows.iter().filter(|o| o.share_index == r.share_index).count() == 1;
        if !listed || !once {
            return Err(HandoffError::DisagreesWithSd { what: "share commitments" });
        }
    }
    Ok(())
}

/// What comparing one's own share with the table says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The share is exactly the one the quorum rebuilt.
    Exact,
    /// The share is not the one the quorum rebuilt.
    Differs,
}

/// Compares `mine` (opened with `key` from the custodian's copy of the SD
/// file) with its row of the table a drill of the file `drill_sd_sha256`
/// made: `Exact` only when it is the very share the quorum rebuilt there.
pub fn compare(
    rows: &[ShareCommitment],
    drill_sd_sha256: &str,
    mine: &OpenedShare,
    key: &(impl RsaKey + ?Sized),
) -> Result<Verdict, CommitmentError> {
    let row = rows
        .iter()
        .find(|r| r.share_index == mine.index)
        .ok_or(CommitmentError::NoRow { share_index: mine.index })?;
    if row.x5t_s256 != mine.x5t_256 {
        return Err(CommitmentError::NoRow { share_index: mine.index });
    }
    let jwe = CompactJwe::parse(&row.sealed_salt).map_err(CommitmentError::Salt)?;
    jwe.require_algorithms(Alg::RsaOaep256, Enc::A256Gcm).map_err(CommitmentError::Salt)?;
    let salt = jwe.decrypt_rsa(key).map_err(CommitmentError::Salt)?;
    if salt.len() != SALT_LEN {
        return Err(CommitmentError::Salt(Error::Json {
            what: "sealed salt",
            detail: "not 32 bytes".into(),
        }));
    }
    let mine_now = commitment(drill_sd_sha256, &mine.share, salt.expose()).map_err(CommitmentError::Salt)?;
    let recorded = hex::parse(&row.commitment)
        .ok_or_else(|| CommitmentError::Salt(Error::Json { what: "commitment", detail: "not hex".into() }))?;
    Ok(if bool::from(mine_now.as_slice().ct_eq(&recorded)) { Verdict::Exact } else { Verdict::Differs })
}

/// Why a custodian's share cannot be compared with a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitmentError {
    /// The table has no row for this share (or names another custodian there).
    NoRow {
        /// The share's position (0-based).
        share_index: usize,
    },
    /// The sealed salt does not open with this key, or is malformed.
    Salt(Error),
}

impl std::fmt::Display for CommitmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommitmentError::NoRow { share_index } => {
                write!(f, "the report holds no commitment for share {} and this custodian", share_index + 1)
            }
            CommitmentError::Salt(e) => write!(f, "the salt sealed to this custodian does not open: {e}"),
        }
    }
}

impl std::error::Error for CommitmentError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_covers_the_file_the_share_and_the_salt() {
        let share = Share::from_bytes(&((2u16 << 9) | 17).to_le_bytes()).unwrap();
        let other = Share::from_bytes(&((2u16 << 9) | 18).to_le_bytes()).unwrap();
        let sd = "00".repeat(32);
        let base = commitment(&sd, &share, &[1; 32]).unwrap();
        assert_ne!(base, commitment(&sd, &other, &[1; 32]).unwrap());
        assert_ne!(base, commitment(&sd, &share, &[2; 32]).unwrap());
        assert_ne!(base, commitment(&"01".repeat(32), &share, &[1; 32]).unwrap());
    }
}
