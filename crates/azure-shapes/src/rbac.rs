//! A Managed HSM's local RBAC as its data plane carries it (api-version
//! 7.4 and later): role definitions, role assignments and the body that
//! makes one, and the scopes they apply at. The emulator answers with these;
//! the uploader reads and sends them.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a role assignment applies: the whole HSM (`/`), all keys
/// (`/keys`), or one key (`/keys/NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    /// The path prefix of the scope's RBAC endpoints (empty for `/`).
    pub fn path_prefix(&self) -> &str {
        if self.0 == "/" { "" } else { &self.0 }
    }

    /// True when an assignment at this scope covers `other`.
    pub fn covers(&self, other: &str) -> bool {
        self.0 == "/"
            || self.0 == other
            || other.strip_prefix(self.0.as_str()).is_some_and(|r| r.starts_with('/'))
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let key = s.strip_prefix("/keys/").map(str::parse::<KeyName>);
        if s == "/" || s == "/keys" || matches!(key, Some(Ok(_))) {
            Ok(Scope(s.to_owned()))
        } else {
            Err("a Managed HSM scope is /, /keys or /keys/NAME".into())
        }
    }
}

/// A key's name: 1 to 127 letters, digits and hyphens (Key Vault's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl FromStr for KeyName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if (1..=127).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            Ok(KeyName(s.to_owned()))
        } else {
            Err("key names are 1-127 characters of 0-9, a-z, A-Z and -".into())
        }
    }
}

text_name!(Scope, KeyName);

/// A role definition (`GET …/roleDefinitions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleDefinition {
    /// `Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/GUID`.
    pub id: String,
    /// The role's GUID.
    pub name: String,
    /// `Microsoft.Authorization/roleDefinitions`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// What the role is.
    pub properties: RoleDefinitionProperties,
}

/// A role definition's properties.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinitionProperties {
    /// "Managed HSM Crypto User"...
    pub role_name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// `AKVBuiltInRole` or `CustomRole`.
    #[serde(rename = "type", default)]
    pub role_type: String,
    /// Where it can be assigned.
    #[serde(default)]
    pub assignable_scopes: Vec<String>,
    /// The data actions it grants.
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

/// What a role grants and denies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    /// Control-plane actions (none for Managed HSM roles).
    #[serde(default)]
    pub actions: Vec<String>,
    /// Control-plane exclusions.
    #[serde(default)]
    pub not_actions: Vec<String>,
    /// Data actions (`Microsoft.KeyVault/managedHsm/keys/read/action`...).
    #[serde(default)]
    pub data_actions: Vec<String>,
    /// Data-action exclusions.
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

/// A role assignment (`…/roleAssignments/NAME`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleAssignment {
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments/NAME`.
    pub id: String,
    /// Its name, a GUID.
    pub name: String,
    /// `Microsoft.Authorization/roleAssignments`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Who holds which role where.
    pub properties: RoleAssignmentProperties,
}

/// A role assignment's properties.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    /// `/`, `/keys` or `/keys/NAME`.
    pub scope: String,
    /// The role definition's ID.
    pub role_definition_id: String,
    /// The principal's object ID.
    pub principal_id: String,
}

/// The body of `PUT …/roleAssignments/NAME`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleAssignmentRequest {
    /// The role and the principal.
    pub properties: RoleAssignmentRequestProperties,
}

/// The role and the principal of a new assignment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentRequestProperties {
    /// The role definition's ID (or its GUID).
    pub role_definition_id: String,
    /// The principal's object ID.
    pub principal_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_key_names_by_the_service_rules() {
        for ok in ["/", "/keys", "/keys/my-key-1"] {
            assert_eq!(ok.parse::<Scope>().unwrap().as_str(), ok);
        }
        for bad in ["", "keys", "/keys/", "/keys/a/b", "/keys/a_b", "/secrets"] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
        assert_eq!("/".parse::<Scope>().unwrap().path_prefix(), "");
        let keys: Scope = "/keys".parse().unwrap();
        assert!(keys.covers("/keys/k") && !keys.covers("/keysx") && !keys.covers("/"));
        assert!("k".repeat(127).parse::<KeyName>().is_ok() && "k".repeat(128).parse::<KeyName>().is_err());
    }
}
