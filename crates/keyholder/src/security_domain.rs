//! Loading an SD file and opening a quorum of its shares, one key at a time.

use std::path::{Path, PathBuf};

use ceremony_cli::errln;
use sd_core::azure::enc_data::DomainSecret;
use sd_core::azure::quorum::{Quorum, QuorumError};
use sd_core::azure::sd_file::{OpenedShare, SecurityDomain};
use sd_core::primitives::secret::MasterKey;

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files;
use ceremony_cli::unlocked_key::{KeySource, UnlockedKey, pair_passphrases};

/// A parsed SD file with its path and hash.
pub struct LoadedSd {
    /// Where it was read from.
    pub path: PathBuf,
    /// The parsed file (with the SHA-256 of its bytes).
    pub sd: SecurityDomain,
}

/// Reads and validates an SD file.
pub fn load(path: &Path) -> CliResult<LoadedSd> {
    let bytes = files::read(path)?;
    let sd = SecurityDomain::parse(&bytes).in_file(path)?;
    Ok(LoadedSd { path: path.to_path_buf(), sd })
}

impl LoadedSd {
    /// Finds this key's share (by its certificate's thumbprint when the
    /// certificate is beside the key, else by trying every share).
    pub fn open_share(&self, key: &UnlockedKey) -> CliResult<OpenedShare> {
        let thumbprint = key.cert.as_ref().map(|c| c.x5t_s256());
        match self.sd.open_share(&key.key, thumbprint.as_deref()) {
            Ok(s) => Ok(s),
            Err(sd_core::Error::NoMatchingShare) => {
                Err(CliError::file(key.name(), format!("this key opens no share in {}", self.path.display()))
                    .hint(
                        "is this the right key for this security domain? `keyholder fingerprint` shows both",
                    ))
            }
            Err(e) => Err(CliError::file(&self.path, e)
                .hint("check this is the SD file downloaded at the activation (`keyholder fingerprint FILE` says what a file is)")),
        }
    }
}

/// The outcome of unlocking a quorum.
pub struct OpenedQuorum {
    /// The rebuilt master key.
    pub master: MasterKey,
    /// Every EncData plaintext, authenticated.
    pub secrets: Vec<DomainSecret>,
    /// The keys that took part, in the order given.
    pub keys: Vec<UnlockedKey>,
    /// Every custodian's share as the proven polynomials give it (version 2
    /// files; empty for version 1).
    pub expected: Vec<sd_core::primitives::shamir::Share>,
}

/// Unlocks each key in turn, opens its share, and rebuilds the master key.
/// Refuses a key that opens no share, the same share twice, and too few shares.
pub fn open_quorum(
    sd: &LoadedSd,
    keys: &[KeySource],
    passphrase_files: &[PathBuf],
) -> CliResult<OpenedQuorum> {
    let pairs = pair_passphrases(keys, passphrase_files)?;
    let mut quorum = Quorum::gather(&sd.sd, keys.len()).map_err(|e| match e {
        QuorumError::TooFew { given, required } => CliError::general(format!(
            "{given} --key given, but {} needs {required} custodians",
            sd.path.display()
        ))
        .hint(format!("pass at least {required} custodian keys")),
        other => {
            CliError::file(&sd.path, other).hint("check this is the SD file downloaded at the activation")
        }
    })?;
    let mut loaded: Vec<UnlockedKey> = Vec::with_capacity(pairs.len());
    for (n, (source, pass)) in pairs.into_iter().enumerate() {
        let path = source.name();
        if loaded.iter().any(|k| k.source == *source) {
            return Err(
                CliError::file(path, "is given twice as --key").hint("each custodian brings their own key")
            );
        }
        let key = UnlockedKey::load(source, pass)?;
        if sd.sd.version() == 2 {
            let share = sd.open_share(&key)?;
            let index = share.index;
            quorum.add(share).map_err(|e| match e {
                // Positions among the shares are positions among the keys: every v2 key opens one.
                QuorumError::SameShare { first, index, .. } => CliError::file(
                    path,
                    format!(
                        "opens share {}, the same share as {}",
                        index + 1,
                        loaded[first].name().display()
                    ),
                )
                .hint("each custodian must bring their own key"),
                other => CliError::file(&sd.path, other)
                    .hint("check this is the SD file downloaded at the activation"),
            })?;
            errln!(
                "key {}/{} {}: opens share {} of {}",
                n + 1,
                keys.len(),
                path.display(),
                index + 1,
                sd.sd.shares().len()
            );
        }
        loaded.push(key);
    }
    let (master, secrets, expected) = if sd.sd.version() == 2 {
        // Every share came out of this very file, so disagreement means the file was altered.
        let recovered = quorum.rebuild().map_err(|e| match e {
            QuorumError::Inconsistent { .. } => CliError::file(
                &sd.path,
                "the shares these keys open do not rebuild a master key that opens its EncData: \
                 the file is damaged or was altered",
            )
            .hint("use a copy of the SD file from another custodian's media, and compare its sha256 with the one recorded at the activation"),
            other => CliError::file(&sd.path, other).hint("check this is the SD file downloaded at the activation"),
        })?;
        for &p in &recovered.disagreeing {
            errln!(
                "warning: {}: the share it opens disagrees with the master key this file's EncData confirms; \
                 the file's entry for it was altered",
                loaded[p].name().display()
            );
        }
        (recovered.master, recovered.secrets, recovered.expected)
    } else {
        let refs: Vec<&dyn sd_core::RsaKey> = loaded.iter().map(|k| &k.key as &dyn sd_core::RsaKey).collect();
        let (master, secrets) = sd.sd.recover_xor_split(&refs).map_err(|e| match e {
            sd_core::Error::NoMatchingShare => {
                CliError::file(&sd.path, "these keys do not open both halves of any split key")
                    .hint("a version-1 SD file needs the keys of both halves of one split: check which custodians' keys were given")
            }
            other => CliError::file(&sd.path, other).hint("check this is the SD file downloaded at the activation"),
        })?;
        (master, secrets, Vec::new())
    };
    Ok(OpenedQuorum { master, secrets, keys: loaded, expected })
}
