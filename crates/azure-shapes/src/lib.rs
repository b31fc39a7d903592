//! Azure's shapes that both online halves of hsm-ceremony speak: the
//! uploader reads them from Resource Manager, the emulator answers with them,
//! so the two cannot drift apart. Names are checked by Azure's rules
//! ([`names`]); resources are typed ([`managed_hsm`], [`rbac`], and the
//! data plane's full backup and restore, [`backup`]) instead of indexed JSON.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// `as_str` and `Display` for the names that are checked text.
macro_rules! text_name {
    ($($t:ty),*) => {$(
        impl $t {
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

pub mod backup;
pub mod managed_hsm;
pub mod names;
pub mod rbac;

pub use names::{Guid, Location, ResourceGroup, SubscriptionId};
pub use rbac::{KeyName, Scope};

/// A list answer, Resource Manager's and the data plane's alike: `{"value": [...]}`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct List<T> {
    /// The items.
    pub value: Vec<T>,
}
