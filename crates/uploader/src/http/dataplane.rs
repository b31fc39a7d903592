//! A Managed HSM's data-plane client: paths below the HSM's URL, each with
//! the data plane's `api-version`, over a [`Transport`] whose errors carry
//! the data plane's hints.

use std::path::Path;

use ceremony_cli::error::CliResult;
use zeroize::Zeroizing;

use super::transport::{HttpResponse, Method, Plane, Transport};
use crate::endpoint::Endpoint;

/// One HSM's data plane.
pub struct HsmClient {
    transport: Transport,
    api_version: String,
}

impl HsmClient {
    /// A client for the HSM at `endpoint` (or the emulator, trusted by `ca_cert`).
    pub fn new(
        endpoint: &Endpoint,
        ca_cert: Option<&Path>,
        api_version: &str,
        access_token: Zeroizing<String>,
    ) -> CliResult<Self> {
        let transport = Transport::new(endpoint, Plane::Hsm, ca_cert, access_token)?;
        Ok(HsmClient { transport, api_version: api_version.to_owned() })
    }

    /// The HSM's base URL.
    pub fn base(&self) -> &str {
        self.transport.base()
    }

    /// Sends `method` to `path` below the HSM's URL, with the api-version.
    fn send(&self, method: Method<'_>, path: &str) -> CliResult<HttpResponse> {
        self.transport.send(method, &format!("{}{path}?api-version={}", self.base(), self.api_version))
    }

    /// GETs `path`.
    pub fn get(&self, path: &str) -> CliResult<HttpResponse> {
        self.send(Method::Get, path)
    }

    /// GETs a link the HSM gave (a listing's `nextLink`): on the HSM's own origin only.
    pub fn get_link(&self, url: &str) -> CliResult<HttpResponse> {
        self.transport.send(Method::Get, url)
    }

    /// POSTs a JSON `body` to `path`.
    pub fn post(&self, path: &str, body: &[u8]) -> CliResult<HttpResponse> {
        self.send(Method::Post(body), path)
    }

    /// PUTs a JSON `body` to `path`.
    pub fn put(&self, path: &str, body: &[u8]) -> CliResult<HttpResponse> {
        self.send(Method::Put(body), path)
    }

    /// DELETEs `path`.
    pub fn delete(&self, path: &str) -> CliResult<HttpResponse> {
        self.send(Method::Delete, path)
    }
}
