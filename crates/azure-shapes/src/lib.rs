//! Azure's shapes that both online halves of hsm-ceremony speak: the
//! uploader reads them from Resource Manager, the emulator answers with them,
//! so the two cannot drift apart. Names are checked by Azure's rules
//! ([`names`]); resources are typed ([`managed_hsm`]) instead of indexed JSON.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod managed_hsm;
pub mod names;

pub use names::{Guid, Location, ResourceGroup, SubscriptionId};
