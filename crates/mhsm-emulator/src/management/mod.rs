//! The management plane (Azure Resource Manager) on the emulator's own
//! listener: resource groups, `Microsoft.KeyVault/managedHSMs` with their
//! long-running operations, `deletedManagedHSMs` (purge), recover through
//! `createMode`, and `checkMhsmNameAvailability`, with Azure's paths, status
//! codes, `Location` polling and error shape. Each HSM it provisions gets its
//! own data plane on its own port.
//!
//! - [`model`]: the resources and the JSON Resource Manager answers with;
//! - [`lifecycle`]: the operations that change them, and the running data planes;
//! - [`router`]: the routes.

pub mod lifecycle;
pub mod model;
mod router;

pub use router::router;
