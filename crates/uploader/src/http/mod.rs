//! Talking to Azure (or the emulator): one [`transport`] (TLS, token,
//! retries, one origin), and a client for each plane on top of it, each with
//! its own hints: [`dataplane`] for an HSM, [`resource_manager`] for Azure
//! Resource Manager.

pub mod dataplane;
pub mod resource_manager;
pub mod transport;

pub use dataplane::HsmClient;
pub use transport::{HttpResponse, Method};
