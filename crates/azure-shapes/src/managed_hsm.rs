//! `Microsoft.KeyVault/managedHSMs` as Resource Manager carries it (api-version
//! 2024-11-01, as recorded in `shared/AZURE-ARM.md`): the resource, its
//! soft-deleted form, the body that creates or recovers one, and the name
//! check. The emulator answers with these; the uploader reads them. Members
//! Azure may leave out or send as null are `Option`s, so a real answer with
//! fewer members still reads.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The resource type.
pub const RESOURCE_TYPE: &str = "Microsoft.KeyVault/managedHSMs";

/// A Managed HSM resource (GET, and the final answer of a PUT).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedHsm {
    /// `{"family": "B", "name": "Standard_B1"}`.
    #[serde(default)]
    pub sku: Value,
    /// The resource ID.
    pub id: String,
    /// The HSM's name.
    pub name: String,
    /// [`RESOURCE_TYPE`].
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Its region.
    pub location: String,
    /// Tags.
    #[serde(default)]
    pub tags: Map<String, Value>,
    /// Who made and changed it, when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_data: Option<SystemData>,
    /// What the HSM is.
    pub properties: ManagedHsmProperties,
}

/// Who created and last changed a resource, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemData {
    /// An object ID.
    pub created_by: String,
    /// `User`, `Application`...
    pub created_by_type: String,
    /// RFC 3339.
    pub created_at: String,
    /// An object ID.
    pub last_modified_by: String,
    /// `User`, `Application`...
    pub last_modified_by_type: String,
    /// RFC 3339.
    pub last_modified_at: String,
}

/// A Managed HSM's properties.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedHsmProperties {
    /// The tenant.
    pub tenant_id: Option<String>,
    /// The data plane's URL (none until provisioned).
    pub hsm_uri: Option<String>,
    /// The initial administrators' object IDs.
    #[serde(default)]
    pub initial_admin_object_ids: Vec<String>,
    /// Always true on current HSMs.
    pub enable_soft_delete: Option<bool>,
    /// Days a deleted HSM stays recoverable.
    pub soft_delete_retention_in_days: Option<u64>,
    /// Once on, never off.
    pub enable_purge_protection: Option<bool>,
    /// `Provisioning`, `Succeeded`, `Deleting`...
    pub provisioning_state: Option<String>,
    /// The service's words on that state.
    pub status_message: Option<String>,
    /// Network rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_acls: Option<Value>,
    /// `Enabled` or `Disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    /// Extra regions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<Value>>,
    /// Whether its security domain is in place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_domain_properties: Option<SecurityDomainProperties>,
}

/// A Managed HSM's activation, as Resource Manager sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityDomainProperties {
    /// `Active`, `NotActivated`, `Unknown`...
    pub activation_status: String,
    /// The service's words on it.
    pub activation_status_message: String,
}

/// A soft-deleted Managed HSM (`deletedManagedHSMs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedManagedHsm {
    /// The deleted resource's ID.
    pub id: String,
    /// The HSM's name.
    pub name: String,
    /// `Microsoft.Keyvault/deletedManagedHSMs` (sic).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// What was deleted, and until when it can be recovered.
    pub properties: DeletedProperties,
}

/// A soft-deleted Managed HSM's properties.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedProperties {
    /// The live resource's ID.
    pub mhsm_id: Option<String>,
    /// Its region.
    pub location: Option<String>,
    /// RFC 3339.
    pub deletion_date: Option<String>,
    /// RFC 3339: when it is purged for good.
    pub scheduled_purge_date: Option<String>,
    /// Whether purge protection holds it until then.
    pub purge_protection_enabled: Option<bool>,
    /// Its tags.
    #[serde(default)]
    pub tags: Map<String, Value>,
}

/// The body of a PUT that creates, updates or recovers a Managed HSM.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedHsmRequest {
    /// Its region.
    pub location: String,
    /// The SKU (`Standard_B1` when left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<Value>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
    /// What to make.
    #[serde(default)]
    pub properties: RequestProperties,
}

/// What a create, update or recover asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestProperties {
    /// The tenant (the caller's when left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The initial administrators (at least one, on create).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub initial_admin_object_ids: Vec<String>,
    /// Soft delete (always on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_soft_delete: Option<bool>,
    /// 7 to 90 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_delete_retention_in_days: Option<u64>,
    /// Purge protection (on cannot become off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_purge_protection: Option<bool>,
    /// `Recover` to bring a soft-deleted HSM back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_mode: Option<String>,
    /// Network rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_acls: Option<Value>,
}

/// The answer of `checkMhsmNameAvailability`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NameAvailability {
    /// Whether the name can be taken.
    pub name_available: bool,
    /// `AlreadyExists`, `AccountNameInvalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The service's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resource as az 2.71 recorded it reads, and writes back with the same members.
    #[test]
    fn a_recorded_resource_reads_and_writes_back() {
        let recorded = serde_json::json!({
            "sku": {"family": "B", "name": "Standard_B1"},
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/h",
            "name": "h", "type": RESOURCE_TYPE, "location": "westeurope", "tags": {},
            "properties": {
                "tenantId": "t", "hsmUri": "https://h.managedhsm.azure.net/",
                "initialAdminObjectIds": ["a"], "enableSoftDelete": true,
                "softDeleteRetentionInDays": 7, "enablePurgeProtection": false,
                "provisioningState": "Succeeded", "statusMessage": "The Managed HSM is provisioned and ready to use.",
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"},
                "publicNetworkAccess": "Enabled", "regions": [],
                "securityDomainProperties": {"activationStatus": "NotActivated", "activationStatusMessage": "m"}
            }
        });
        let hsm: ManagedHsm = serde_json::from_value(recorded.clone()).unwrap();
        assert_eq!(hsm.properties.soft_delete_retention_in_days, Some(7));
        assert_eq!(serde_json::to_value(&hsm).unwrap(), recorded);
        // A sparser answer (fields left out or null) still reads.
        let sparse = serde_json::json!({"id": "i", "name": "h", "type": RESOURCE_TYPE, "location": "l",
            "properties": {"hsmUri": null, "enablePurgeProtection": null}});
        let hsm: ManagedHsm = serde_json::from_value(sparse).unwrap();
        assert_eq!((hsm.properties.hsm_uri, hsm.properties.enable_purge_protection), (None, None));
    }

    #[test]
    fn a_recover_request_is_what_az_sends() {
        let req = ManagedHsmRequest {
            location: "westeurope".into(),
            properties: RequestProperties { create_mode: Some("Recover".into()), ..Default::default() },
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"location":"westeurope","properties":{"createMode":"Recover"}}"#
        );
    }
}
