//! Managed HSM local RBAC: the built-in role definitions (names and IDs as
//! Azure publishes them), role assignments at `/`, `/keys` and `/keys/{name}`,
//! and the one place that decides whether a principal may do what a request
//! asks. Like a real HSM, the administrator who provisioned it holds
//! "Managed HSM Administrator" at `/`, which covers the security domain and
//! role management but no key operation: keys need another role.

use azure_shapes::Scope;
use azure_shapes::rbac;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const PREFIX: &str = "Microsoft.KeyVault/managedHsm";

/// A data action, without the `Microsoft.KeyVault/managedHsm` prefix.
macro_rules! actions {
    ($($name:ident = $path:literal;)*) => {
        $(#[doc = concat!("`Microsoft.KeyVault/managedHsm/", $path, "`.")] pub const $name: &str = $path;)*
    };
}

actions! {
    SD_DOWNLOAD = "securitydomain/download/action";
    SD_DOWNLOAD_READ = "securitydomain/download/read";
    SD_UPLOAD = "securitydomain/upload/action";
    SD_UPLOAD_READ = "securitydomain/upload/read";
    SD_TRANSFER_KEY = "securitydomain/transferkey/read";
    ROLE_DEFINITIONS_READ = "roleDefinitions/read/action";
    ROLE_ASSIGNMENTS_READ = "roleAssignments/read/action";
    ROLE_ASSIGNMENTS_WRITE = "roleAssignments/write/action";
    ROLE_ASSIGNMENTS_DELETE = "roleAssignments/delete/action";
    KEYS_READ = "keys/read/action";
    KEYS_WRITE = "keys/write/action";
    KEYS_CREATE = "keys/create";
    KEYS_DELETE = "keys/delete";
    KEYS_IMPORT = "keys/import/action";
    KEYS_BACKUP = "keys/backup/action";
    KEYS_RESTORE = "keys/restore/action";
    KEYS_ENCRYPT = "keys/encrypt/action";
    KEYS_DECRYPT = "keys/decrypt/action";
    KEYS_WRAP = "keys/wrap/action";
    KEYS_UNWRAP = "keys/unwrap/action";
    KEYS_SIGN = "keys/sign/action";
    KEYS_VERIFY = "keys/verify/action";
    KEYS_RELEASE = "keys/release/action";
    KEYS_EXPORT = "keys/export/action";
    DELETED_KEYS_READ = "keys/deletedKeys/read/action";
    DELETED_KEYS_RECOVER = "keys/deletedKeys/recover/action";
    DELETED_KEYS_PURGE = "keys/deletedKeys/delete";
    RNG = "rng/action";
    BACKUP_START = "backup/start/action";
    BACKUP_STATUS = "backup/status/action";
    RESTORE_START = "restore/start/action";
    RESTORE_STATUS = "restore/status/action";
}

/// A built-in role.
pub struct Role {
    /// Its GUID (the name of the definition).
    pub id: &'static str,
    /// "Managed HSM Crypto User"...
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// The data actions it grants.
    pub actions: &'static [&'static str],
}

const ROLE_MANAGEMENT: [&str; 4] =
    [ROLE_DEFINITIONS_READ, ROLE_ASSIGNMENTS_READ, ROLE_ASSIGNMENTS_WRITE, ROLE_ASSIGNMENTS_DELETE];

/// The nine built-in roles, with the IDs Azure publishes and the permissions
/// of Azure's "Local RBAC built-in roles for Managed HSM" table.
pub const ROLES: [Role; 9] = [
    Role {
        id: "a290e904-7015-4bba-90c8-60543313cdb4",
        name: "Managed HSM Administrator",
        description: "Security domain, full backup and restore, and role management; no key operations.",
        actions: &[
            SD_DOWNLOAD,
            SD_DOWNLOAD_READ,
            SD_UPLOAD,
            SD_UPLOAD_READ,
            SD_TRANSFER_KEY,
            ROLE_MANAGEMENT[0],
            ROLE_MANAGEMENT[1],
            ROLE_MANAGEMENT[2],
            ROLE_MANAGEMENT[3],
            BACKUP_START,
            BACKUP_STATUS,
            RESTORE_START,
            RESTORE_STATUS,
        ],
    },
    Role {
        id: "515eb02d-2335-4d2d-92f2-b1cbdf9c3778",
        name: "Managed HSM Crypto Officer",
        description: "Role management, purge or recover deleted keys, export keys.",
        actions: &[
            ROLE_MANAGEMENT[0],
            ROLE_MANAGEMENT[1],
            ROLE_MANAGEMENT[2],
            ROLE_MANAGEMENT[3],
            KEYS_READ,
            KEYS_EXPORT,
            DELETED_KEYS_READ,
            DELETED_KEYS_RECOVER,
            DELETED_KEYS_PURGE,
        ],
    },
    Role {
        id: "21dbd100-6940-42c2-9190-5d6cb909625b",
        name: "Managed HSM Crypto User",
        description: "All key management operations except purge or recover deleted keys and export keys.",
        actions: &[
            ROLE_DEFINITIONS_READ,
            ROLE_ASSIGNMENTS_READ,
            KEYS_READ,
            KEYS_WRITE,
            KEYS_CREATE,
            KEYS_DELETE,
            KEYS_IMPORT,
            KEYS_BACKUP,
            KEYS_RESTORE,
            KEYS_ENCRYPT,
            KEYS_DECRYPT,
            KEYS_WRAP,
            KEYS_UNWRAP,
            KEYS_SIGN,
            KEYS_VERIFY,
            KEYS_RELEASE,
            DELETED_KEYS_READ,
            RNG,
        ],
    },
    Role {
        id: "4bd23610-cdcf-4971-bdee-bdc562cc28e4",
        name: "Managed HSM Policy Administrator",
        description: "Create and delete role assignments.",
        actions: &[ROLE_MANAGEMENT[0], ROLE_MANAGEMENT[1], ROLE_MANAGEMENT[2], ROLE_MANAGEMENT[3]],
    },
    Role {
        id: "2c18b078-7c48-4d3a-af88-5a3a1b3f82b3",
        name: "Managed HSM Crypto Auditor",
        description: "Read (not use) key attributes.",
        actions: &[ROLE_DEFINITIONS_READ, ROLE_ASSIGNMENTS_READ, KEYS_READ, DELETED_KEYS_READ],
    },
    Role {
        id: "33413926-3206-4cdd-b39a-83574fe37a17",
        name: "Managed HSM Crypto Service Encryption User",
        description: "Use a key for service encryption.",
        actions: &[KEYS_READ, KEYS_WRAP, KEYS_UNWRAP],
    },
    Role {
        id: "21dbd100-6940-42c2-9190-5d6cb909625c",
        name: "Managed HSM Crypto Service Release User",
        description: "Release keys to a trusted execution environment.",
        actions: &[KEYS_RELEASE],
    },
    Role {
        id: "7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8",
        name: "Managed HSM Backup User",
        description: "Back up single keys or the whole HSM.",
        actions: &[KEYS_READ, KEYS_BACKUP, BACKUP_START, BACKUP_STATUS],
    },
    Role {
        id: "6efe6056-5259-49d2-8b3d-d3d73544b20b",
        name: "Managed HSM Restore User",
        description: "Restore single keys or the whole HSM.",
        actions: &[KEYS_RESTORE, RESTORE_START, RESTORE_STATUS],
    },
];

/// The Administrator role (the initial administrator's).
pub const ADMINISTRATOR: &str = ROLES[0].id;

/// The `roleDefinitionId` form of a role's ID, as the service writes it.
pub fn definition_id(role_id: &str) -> String {
    format!("Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/{role_id}")
}

/// The role a `roleDefinitionId` (full form or bare GUID) or role name names.
pub fn role(reference: &str) -> Option<&'static Role> {
    let id = reference.rsplit('/').next().unwrap_or(reference);
    ROLES.iter().find(|r| r.id.eq_ignore_ascii_case(id) || r.name.eq_ignore_ascii_case(reference))
}

/// A role definition as `GET …/roleDefinitions` lists it.
pub fn definition_json(role: &Role) -> Value {
    let definition = rbac::RoleDefinition {
        id: definition_id(role.id),
        name: role.id.to_owned(),
        resource_type: "Microsoft.Authorization/roleDefinitions".into(),
        properties: rbac::RoleDefinitionProperties {
            role_name: role.name.to_owned(),
            description: role.description.to_owned(),
            role_type: "AKVBuiltInRole".into(),
            assignable_scopes: vec!["/".into()],
            permissions: vec![rbac::Permission {
                data_actions: role.actions.iter().map(|a| format!("{PREFIX}/{a}")).collect(),
                ..Default::default()
            }],
        },
    };
    serde_json::to_value(definition).unwrap_or_default()
}

/// One role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Its name (a GUID, chosen by the client).
    pub name: String,
    /// `/`, `/keys` or `/keys/{name}`.
    pub scope: String,
    /// The role's GUID.
    pub role_id: String,
    /// The principal's object ID.
    pub principal_id: String,
}

impl Assignment {
    /// As the service returns it.
    pub fn json(&self) -> Value {
        let scope_path = if self.scope == "/" { "" } else { self.scope.as_str() };
        let assignment = rbac::RoleAssignment {
            id: format!("{scope_path}/providers/Microsoft.Authorization/roleAssignments/{}", self.name),
            name: self.name.clone(),
            resource_type: "Microsoft.Authorization/roleAssignments".into(),
            properties: rbac::RoleAssignmentProperties {
                scope: self.scope.clone(),
                role_definition_id: definition_id(&self.role_id),
                principal_id: self.principal_id.clone(),
            },
        };
        serde_json::to_value(assignment).unwrap_or_default()
    }

    /// True when this assignment's scope covers `scope`.
    fn covers(&self, scope: &str) -> bool {
        self.scope.parse::<Scope>().is_ok_and(|mine| mine.covers(scope))
    }
}

/// A valid assignment scope: `/`, `/keys` or `/keys/{name}`.
pub fn valid_scope(scope: &str) -> bool {
    scope.parse::<Scope>().is_ok()
}

/// True when `principal` holds, at a scope covering `scope`, a role granting `action`.
pub fn permits(assignments: &[Assignment], principal: &str, action: &str, scope: &str) -> bool {
    assignments
        .iter()
        .filter(|a| a.principal_id == principal && a.covers(scope))
        .any(|a| role(&a.role_id).is_some_and(|r| r.actions.contains(&action)))
}

/// The data action a key operation (`POST /keys/{name}[/{version}]/{op}`)
/// needs, or `None` for an operation Key Vault does not have.
pub fn key_operation(op: &str) -> Option<&'static str> {
    Some(match op.to_ascii_lowercase().as_str() {
        "encrypt" => KEYS_ENCRYPT,
        "decrypt" => KEYS_DECRYPT,
        "wrapkey" => KEYS_WRAP,
        "unwrapkey" => KEYS_UNWRAP,
        "sign" => KEYS_SIGN,
        "verify" => KEYS_VERIFY,
        "release" => KEYS_RELEASE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(scope: &str, role: &str) -> Assignment {
        Assignment { name: "a".into(), scope: scope.into(), role_id: role.into(), principal_id: "p".into() }
    }

    #[test]
    fn the_administrator_holds_the_security_domain_but_no_key() {
        let admin = [assign("/", ADMINISTRATOR)];
        assert!(permits(&admin, "p", SD_UPLOAD, "/"));
        assert!(!permits(&admin, "p", KEYS_CREATE, "/keys/k"));
        assert!(!permits(&admin, "someone else", SD_UPLOAD, "/"));
    }

    #[test]
    fn a_key_scoped_assignment_covers_that_key_only() {
        let user = [assign("/keys/drill-key", ROLES[2].id)];
        assert_eq!(key_operation("Encrypt"), Some(KEYS_ENCRYPT));
        assert_eq!(key_operation("export"), None);
        assert!(permits(&user, "p", KEYS_ENCRYPT, "/keys/drill-key"));
        assert!(
            !permits(&user, "p", KEYS_ENCRYPT, "/keys/drill-key-2"),
            "a name sharing a prefix is another key"
        );
        assert!(!permits(&user, "p", KEYS_READ, "/keys"));
        assert!(permits(&[assign("/keys", ROLES[2].id)], "p", KEYS_READ, "/keys"));
    }

    #[test]
    fn roles_are_found_by_id_full_id_or_name() {
        assert_eq!(role("Managed HSM Crypto User").map(|r| r.id), Some(ROLES[2].id));
        assert_eq!(role(&definition_id(ROLES[1].id)).map(|r| r.name), Some("Managed HSM Crypto Officer"));
        assert!(role("Owner").is_none());
        assert!(valid_scope("/keys/k-1") && !valid_scope("/keys/") && !valid_scope("/secrets"));
    }
}
