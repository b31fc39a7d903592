//! A local Azure Managed HSM, so that every ceremony and drill can run on one
//! machine with no cloud account: the data plane (security domain, keys,
//! local RBAC) and the management plane (Resource Manager: resource groups,
//! Managed HSMs and their lifecycle) over HTTPS, answering as real HSMs did in
//! Azure's recordings. State is persisted in the data folder.
//!
//! - [`server`]: starting it (one path for every HSM it runs);
//! - [`pipeline`]: what every request passes, on both planes: token,
//!   api-version, then the route and its role check;
//! - [`dataplane`]: the security domain, keys and RBAC of one HSM;
//! - [`management`]: Resource Manager;
//! - [`store`]: what is kept in the data folder;
//! - [`blob_storage`]: the storage container a full backup goes to;
//! - [`clock`], [`error`]: the clock both planes run by, and their errors.
//!
//! Resource Manager's shapes and names come from `azure-shapes`, which the
//! uploader reads them with.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blob_storage;
pub mod clock;
pub mod dataplane;
pub mod directions;
pub mod error;
pub mod management;
pub mod pipeline;
pub mod server;
pub mod store;
