//! The emulated HSM's persistent state and its state machine.
//!
//! `NotActivated` → (download, or upload of a restore blob) → an operation
//! `InProgress` for a configurable moment → `Active`. Everything lives in one
//! JSON file in the data folder (mode 0600: it holds the emulated HSM's
//! secrets), rewritten atomically after every change, so a restart at any
//! moment finds either the old or the new state, never a mix.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::backup_restore::Job;
use super::key_material::{DeletedKey, StoredKey};
use super::roles::Assignment;

/// Whether the HSM can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// Provisioned; waiting for a security-domain download or upload.
    NotActivated,
    /// Holds a security domain; key operations work.
    Active,
}

/// Which security-domain operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SdOperationKind {
    /// `POST /securitydomain/download`.
    Download,
    /// `POST /securitydomain/upload`.
    Upload,
}

/// Azure's LRO status values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationStatus {
    /// Still running.
    InProgress,
    /// Done; the HSM is active.
    Success,
    /// Done; the HSM is not active. See the details.
    Failed,
}

/// One domain secret (EncData plaintext), base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSecret {
    /// EncData tag.
    pub tag: String,
    /// The plaintext, base64url.
    pub data: String,
}

/// The last security-domain operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdOperation {
    /// Download or upload.
    pub kind: SdOperationKind,
    /// Its status.
    pub status: OperationStatus,
    /// Azure's `status_details` text.
    pub details: String,
    /// When an in-progress operation completes (ms since the epoch).
    pub ready_at_ms: u64,
    /// What it completes with: the domain secrets, or the reason it fails.
    pub outcome: Result<Vec<StoredSecret>, String>,
}

/// Everything the emulated HSM remembers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HsmState {
    /// Activation status.
    pub activation: Activation,
    /// The last security-domain operation, if any.
    pub operation: Option<SdOperation>,
    /// The domain secrets once active.
    pub domain: Option<Vec<StoredSecret>>,
    /// The exchange (transfer) private key, PKCS#8 PEM.
    pub transfer_key_pem: String,
    /// Its certificate, PEM.
    pub transfer_cert_pem: String,
    /// Keys by name, every version, oldest first.
    pub keys: BTreeMap<String, Vec<StoredKey>>,
    /// Deleted keys, recoverable until they are purged.
    pub deleted_keys: BTreeMap<String, DeletedKey>,
    /// The object ID of the administrator the HSM was provisioned for (the
    /// owner of `DIR/token`).
    pub admin_principal: String,
    /// Local RBAC role assignments.
    pub assignments: Vec<Assignment>,
    /// Full backup and restore jobs, oldest first (none in a state file
    /// written before the emulator had them).
    #[serde(default)]
    pub jobs: Vec<Job>,
}

impl HsmState {
    /// A freshly provisioned HSM.
    /// The administrator holds "Managed HSM Administrator" at `/`, as the
    /// initial administrator of a real HSM does.
    pub fn new(transfer_key_pem: String, transfer_cert_pem: String, admin_principal: String) -> Self {
        let admin = Assignment {
            name: admin_principal.clone(),
            scope: "/".into(),
            role_id: super::roles::ADMINISTRATOR.into(),
            principal_id: admin_principal.clone(),
        };
        HsmState {
            activation: Activation::NotActivated,
            operation: None,
            domain: None,
            transfer_key_pem,
            transfer_cert_pem,
            keys: BTreeMap::new(),
            deleted_keys: BTreeMap::new(),
            admin_principal,
            assignments: vec![admin],
            jobs: Vec::new(),
        }
    }

    /// The latest version of key `name`.
    pub fn latest(&self, name: &str) -> Option<&StoredKey> {
        self.keys.get(name).and_then(|v| v.last())
    }

    /// Version `version` of key `name` (the latest for an empty version).
    pub fn version(&self, name: &str, version: &str) -> Option<&StoredKey> {
        if version.is_empty() {
            return self.latest(name);
        }
        self.keys.get(name).and_then(|v| v.iter().find(|k| k.version == version))
    }

    /// Completes an in-progress operation whose time has come. Returns true
    /// when the state changed (and must be saved).
    pub fn advance(&mut self, now_ms: u64) -> bool {
        let Some(op) = self.operation.as_mut() else {
            return false;
        };
        if op.status != OperationStatus::InProgress || now_ms < op.ready_at_ms {
            return false;
        }
        match &op.outcome {
            Ok(secrets) => {
                self.domain = Some(secrets.clone());
                self.activation = Activation::Active;
                op.status = OperationStatus::Success;
                op.details = "The resource is active.".into();
            }
            Err(reason) => {
                op.status = OperationStatus::Failed;
                op.details = reason.clone();
            }
        }
        // The secrets now live in `domain`; the copy in the operation goes.
        op.outcome = Ok(Vec::new());
        true
    }

    /// True while a download or upload is running.
    pub fn busy(&self) -> bool {
        self.operation.as_ref().is_some_and(|o| o.status == OperationStatus::InProgress)
    }

    /// A security domain can be downloaded or uploaded only once, when the
    /// HSM is not active and nothing is running.
    pub fn accepts_security_domain(&self) -> bool {
        self.activation == Activation::NotActivated && !self.busy()
    }

    /// Starts a download or upload that completes at `ready_at_ms` with `outcome`.
    pub fn begin(
        &mut self,
        kind: SdOperationKind,
        details: &str,
        ready_at_ms: u64,
        outcome: Result<Vec<StoredSecret>, String>,
    ) {
        self.operation = Some(SdOperation {
            kind,
            status: OperationStatus::InProgress,
            details: details.to_owned(),
            ready_at_ms,
            outcome,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_completes_only_when_due() {
        let mut s = HsmState::new(String::new(), String::new(), "admin".into());
        s.operation = Some(SdOperation {
            kind: SdOperationKind::Download,
            status: OperationStatus::InProgress,
            details: "The Security Domain is being confirmed.".into(),
            ready_at_ms: 1000,
            outcome: Ok(vec![StoredSecret { tag: "t".into(), data: "AA".into() }]),
        });
        assert!(s.busy());
        assert!(!s.advance(999));
        assert_eq!(s.activation, Activation::NotActivated);
        assert!(s.advance(1000));
        assert_eq!(s.activation, Activation::Active);
        assert_eq!(s.domain.as_ref().map(Vec::len), Some(1));
        assert!(!s.advance(2000));
        let mut f = HsmState::new(String::new(), String::new(), "admin".into());
        f.operation = Some(SdOperation {
            kind: SdOperationKind::Upload,
            status: OperationStatus::InProgress,
            details: String::new(),
            ready_at_ms: 0,
            outcome: Err("bad blob".into()),
        });
        assert!(f.advance(0));
        assert_eq!(f.activation, Activation::NotActivated);
        assert_eq!(f.operation.unwrap().status, OperationStatus::Failed);
    }
}
