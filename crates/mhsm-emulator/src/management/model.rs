//! The management plane's resources: resource groups and Managed HSMs with
//! their real lifecycle (provisioning that takes a moment, soft delete with a
//! retention period, purge, purge protection, recover), the long-running
//! operations that report on them, and the JSON Azure Resource Manager
//! answers with (as recorded, `shared/AZURE-ARM.md`). Persisted in
//! `DIR/arm.json`; each HSM's own data plane lives in `DIR/hsms/NAME/`.

use std::collections::BTreeMap;

use azure_shapes::managed_hsm as shapes;
use sd_core::time::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A resource group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResourceGroup {
    /// As created (ARM keeps the case it was given).
    pub name: String,
    /// Its region.
    pub location: String,
    /// Tags.
    pub tags: Value,
    /// Set while a deletion runs.
    pub deleting: bool,
}

/// When a Managed HSM was deleted, and until when it can be recovered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deletion {
    /// Seconds since the epoch.
    pub deleted: u64,
    /// Seconds since the epoch.
    pub scheduled_purge: u64,
}

/// One Managed HSM resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedHsm {
    /// Its name (global: NAME.managedhsm.azure.net).
    pub name: String,
    /// The subscription it was created in.
    pub subscription: String,
    /// Its resource group.
    pub resource_group: String,
    /// Its region.
    pub location: String,
    /// `{"family", "name"}`.
    pub sku: Value,
    /// Tags.
    pub tags: Value,
    /// The tenant.
    pub tenant_id: String,
    /// `initialAdminObjectIds`.
    pub admins: Vec<String>,
    /// 7 to 90.
    pub retention_days: u64,
    /// Once on, never off; blocks purge until the scheduled purge date.
    pub purge_protection: bool,
    /// `networkAcls` as given (defaulted like Azure's).
    pub network_acls: Value,
    /// When it was created (seconds).
    pub created: u64,
    /// When provisioning started (ms).
    #[serde(default)]
    pub started_ms: u64,
    /// When provisioning completes (ms).
    pub ready_at_ms: u64,
    /// Set while a deletion runs.
    pub deleting: bool,
    /// Set once it is soft-deleted.
    pub deleted: Option<Deletion>,
}

/// What a long-running operation does when it completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationKind {
    /// Provisioning an HSM (final: 200 with the resource).
    Create,
    /// Soft-deleting an HSM (final: 200, empty).
    Delete,
    /// Purging a deleted HSM (final: 200, empty).
    Purge,
    /// Recovering a deleted HSM (final: 200, empty, as recorded).
    Recover,
    /// Updating a live HSM's tags or purge protection (final: 200, empty).
    Update,
    /// Deleting a resource group and what is in it (final: 200, empty).
    DeleteResourceGroup,
}

/// A long-running operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    /// What it does.
    pub kind: OperationKind,
    /// The HSM (or resource group) it is about.
    pub target: String,
    /// When it completes (ms).
    pub ready_at_ms: u64,
    /// Set once its effect was applied.
    pub done: bool,
}

/// Everything the management plane remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ArmState {
    /// Resource groups by lower-case name.
    pub resource_groups: BTreeMap<String, ResourceGroup>,
    /// Managed HSMs (live and soft-deleted) by lower-case name.
    pub hsms: BTreeMap<String, ManagedHsm>,
    /// Operations by ID.
    pub operations: BTreeMap<String, Operation>,
}

/// How far provisioning has come at `now_ms`: in thirds (0, 1, 2), or 3 when done.
fn third(hsm: &ManagedHsm, now_ms: u64) -> u64 {
    if now_ms >= hsm.ready_at_ms {
        return 3;
    }
    let total = hsm.ready_at_ms.saturating_sub(hsm.started_ms).max(1);
    (now_ms.saturating_sub(hsm.started_ms) * 3 / total).min(2)
}

/// The provisioning state and status text at `now_ms`, in the order Azure
/// reports them (as recorded): allocating hardware, starting the service, ready.
fn phase(hsm: &ManagedHsm, now_ms: u64) -> (&'static str, &'static str) {
    if hsm.deleting {
        return ("Deleting", "The Managed HSM is being deleted.");
    }
    match third(hsm, now_ms) {
        0 => ("Provisioning", "Resource creation in progress. Allocating hardware..."),
        1 | 2 => ("Provisioning", "Resource creation in progress. Starting service..."),
        _ => ("Succeeded", "The Managed HSM is provisioned and ready to use."),
    }
}

impl ManagedHsm {
    /// The resource ID.
    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/managedHSMs/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    /// True once provisioned and not deleted.
    pub fn ready(&self, now_ms: u64) -> bool {
        now_ms >= self.ready_at_ms && self.deleted.is_none()
    }

    /// The resource as GET returns it; `hsm_uri` is its data plane, and
    /// `activated` whether its security domain is in place.
    pub fn json(&self, now_ms: u64, hsm_uri: &str, activated: Option<bool>) -> Value {
        let (state, message) = phase(self, now_ms);
        let (activation, activation_message) = match (state, activated) {
            // The security domain's state is unknown until the service starts.
            ("Provisioning", _) if third(self, now_ms) < 2 => {
                ("Unknown", "An unknown error has occurred. Please contact Microsoft Support.")
            }
            (_, Some(true)) => {
                ("Active", "Your HSM has been activated and can be used for cryptographic operations.")
            }
            _ => (
                "NotActivated",
                "Your HSM has been provisioned, but cannot be used for cryptographic operations until it is activated. To activate the HSM, download the security domain.",
            ),
        };
        let created = rfc3339(self.created);
        let admin = self.admins.first().cloned().unwrap_or_default();
        let resource = shapes::ManagedHsm {
            sku: self.sku.clone(),
            id: self.id(),
            name: self.name.clone(),
            resource_type: shapes::RESOURCE_TYPE.into(),
            location: self.location.clone(),
            tags: self.tags.as_object().cloned().unwrap_or_default(),
            system_data: Some(shapes::SystemData {
                created_by: admin.clone(),
                created_by_type: "User".into(),
                created_at: created.clone(),
                last_modified_by: admin,
                last_modified_by_type: "User".into(),
                last_modified_at: created,
            }),
            properties: shapes::ManagedHsmProperties {
                tenant_id: Some(self.tenant_id.clone()),
                hsm_uri: Some(hsm_uri.to_owned()),
                initial_admin_object_ids: self.admins.clone(),
                enable_soft_delete: Some(true),
                soft_delete_retention_in_days: Some(self.retention_days),
                enable_purge_protection: Some(self.purge_protection),
                provisioning_state: Some(state.into()),
                status_message: Some(message.into()),
                network_acls: Some(self.network_acls.clone()),
                public_network_access: Some("Enabled".into()),
                regions: Some(Vec::new()),
                security_domain_properties: Some(shapes::SecurityDomainProperties {
                    activation_status: activation.into(),
                    activation_status_message: activation_message.into(),
                }),
            },
        };
        serde_json::to_value(resource).unwrap_or_default()
    }

    /// The deleted resource as `deletedManagedHSMs` returns it.
    pub fn deleted_json(&self) -> Option<Value> {
        let d = self.deleted.as_ref()?;
        let deleted = shapes::DeletedManagedHsm {
            id: format!(
                "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedManagedHSMs/{}",
                self.subscription, self.location, self.name
            ),
            name: self.name.clone(),
            resource_type: "Microsoft.Keyvault/deletedManagedHSMs".into(),
            properties: shapes::DeletedProperties {
                mhsm_id: Some(self.id()),
                location: Some(self.location.clone()),
                deletion_date: Some(rfc3339(d.deleted)),
                scheduled_purge_date: Some(rfc3339(d.scheduled_purge)),
                purge_protection_enabled: Some(self.purge_protection),
                tags: self.tags.as_object().cloned().unwrap_or_default(),
            },
        };
        serde_json::to_value(deleted).ok()
    }
}

impl ResourceGroup {
    /// As `resourcegroups` returns it.
    pub fn json(&self, subscription: &str) -> Value {
        json!({
            "id": format!("/subscriptions/{subscription}/resourceGroups/{}", self.name),
            "name": self.name,
            "type": "Microsoft.Resources/resourceGroups",
            "location": self.location,
            "tags": self.tags,
            "properties": {"provisioningState": if self.deleting { "Deleting" } else { "Succeeded" }},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provisioning_reports_its_phases_then_succeeds() {
        let hsm = ManagedHsm {
            name: "h".into(),
            subscription: "s".into(),
            resource_group: "rg".into(),
            location: "l".into(),
            sku: json!({}),
            tags: json!({}),
            tenant_id: "t".into(),
            admins: vec!["a".into()],
            retention_days: 7,
            purge_protection: false,
            network_acls: json!({}),
            created: 100,
            started_ms: 101_000,
            ready_at_ms: 110_000,
            deleting: false,
            deleted: None,
        };
        assert_eq!(phase(&hsm, 101_000).1, "Resource creation in progress. Allocating hardware...");
        let status = |ms| {
            hsm.json(ms, "u", None)["properties"]["securityDomainProperties"]["activationStatus"].clone()
        };
        assert_eq!(status(101_000), "Unknown");
        assert_eq!(phase(&hsm, 105_000).1, "Resource creation in progress. Starting service...");
        assert_eq!(status(105_000), "Unknown");
        assert_eq!(phase(&hsm, 108_000).1, "Resource creation in progress. Starting service...");
        assert_eq!(status(108_000), "NotActivated");
        assert_eq!(phase(&hsm, 110_000).0, "Succeeded");
        assert!(!hsm.ready(109_999) && hsm.ready(110_000));
    }
}
