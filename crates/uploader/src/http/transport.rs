//! HTTPS to one origin, for both clients ([`super::dataplane`] and
//! [`super::resource_manager`]): rustls with the given roots, the bearer
//! token (only ever to that origin), timeouts, no redirects, and retries with
//! backoff on connection errors, 5xx and 429 (never on other 4xx). Which plane
//! a transport talks to decides the hints its errors carry.

use std::path::Path;
use std::time::Duration;

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::{errln, files};
use serde_json::Value;
use ureq::tls::{RootCerts, TlsConfig};
use zeroize::Zeroizing;

use crate::endpoint::Endpoint;

const ATTEMPTS: u32 = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Which service a transport talks to: its errors' hints depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// A Managed HSM's data plane (`https://NAME.managedhsm.azure.net`).
    Hsm,
    /// Azure Resource Manager (`https://management.azure.com`).
    ResourceManager,
}

/// One origin, and how to reach it.
pub struct Transport {
    agent: ureq::Agent,
    endpoint: Endpoint,
    base: String,
    plane: Plane,
    access_token: Zeroizing<String>,
}

/// A response with its status, body and the headers we use.
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Body bytes.
    pub body: Vec<u8>,
    /// `Retry-After`, seconds.
    pub retry_after: Option<u64>,
    /// `Location` (a long-running operation's status URL).
    pub location: Option<String>,
    /// `Azure-AsyncOperation`.
    pub async_operation: Option<String>,
    /// Who answered.
    pub plane: Plane,
}

impl HttpResponse {
    /// The body as JSON, or an error that quotes the HSM.
    pub fn json(&self, what: &str) -> CliResult<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            CliError::general(format!("the {what} response is not JSON ({e})"))
                .hint("check the URL points at a Managed HSM (or the emulator), not another web server")
        })
    }

    /// The body read as Azure's `T`, or an error saying whose answer is not Azure's shape.
    pub fn json_as<T: serde::de::DeserializeOwned>(&self, what: &str) -> CliResult<T> {
        let who = match self.plane {
            Plane::Hsm => "the HSM",
            Plane::ResourceManager => "Resource Manager",
        };
        serde_json::from_slice(&self.body).map_err(|e| {
            CliError::general(format!("{who}'s {what} is not what Azure sends: {e}")).hint(
                "check the URL points at Azure (or the emulator); if it does, the service changed: report it",
            )
        })
    }

    /// An error for an unexpected status, with Azure's error code and message when present.
    pub fn error(&self, what: &str) -> CliError {
        // Azure's `{"error": {"code", "message"}}`, when the body is that.
        let azure_error =
            serde_json::from_slice::<Value>(&self.body).ok().and_then(|v| v.get("error").cloned());
        let code = azure_error.as_ref().and_then(|e| e.get("code")?.as_str());
        let detail = azure_error
            .as_ref()
            .and_then(|e| {
                Some(format!(
                    "{}: {}",
                    e.get("code")?.as_str().unwrap_or("?"),
                    e.get("message").and_then(Value::as_str).unwrap_or("")
                ))
            })
            // A 401's body is no explanation (the real service sends "OK" with it).
            .unwrap_or_else(|| match self.status {
                401 => String::new(),
                _ => String::from_utf8_lossy(&self.body).chars().take(300).collect(),
            });
        let detail = detail.trim();
        let err = if detail.is_empty() {
            CliError::general(format!("{what} failed: HTTP {}", self.status))
        } else {
            CliError::general(format!("{what} failed: HTTP {} {detail}", self.status))
        };
        match (self.status, self.plane) {
            (403, Plane::Hsm) if code == Some("HSMNotActivated") => err.hint(
                "activate the HSM first (`uploader activate`), or, for a recovery, upload the restore blob (`uploader upload`)",
            ),
            (401, Plane::Hsm) => {
                err.hint("the access token was refused: is it for https://managedhsm.azure.net, and current?")
            }
            (401, Plane::ResourceManager) => err.hint(
                "the Resource Manager token was refused: is it for https://management.azure.com, and current?",
            ),
            (403, Plane::Hsm) => err.hint(
                "the identity lacks a Managed HSM local RBAC role for this: the security domain needs \
                 Managed HSM Administrator, keys e.g. Managed HSM Crypto User (`uploader role assign`)",
            ),
            (403, Plane::ResourceManager) => err.hint(
                "the identity lacks an Azure role on the subscription or resource group for this \
                 (e.g. Managed HSM Contributor); Azure RBAC, not the HSM's local RBAC",
            ),
            _ => err,
        }
    }
}

impl Transport {
    /// A transport to `endpoint` (`https://NAME.managedhsm.azure.net`,
    /// Resource Manager, or the emulator) on `plane`.
    pub fn new(
        endpoint: &Endpoint,
        plane: Plane,
        ca_cert: Option<&Path>,
        access_token: Zeroizing<String>,
    ) -> CliResult<Self> {
        let base = endpoint.to_string();
        let roots = match ca_cert {
            Some(p) => {
                let pem = files::read(p)?;
                let cert = ureq::tls::Certificate::from_pem(&pem).map_err(|e| {
                    CliError::file(p, format!("not a PEM certificate ({e})"))
                        .hint("--ca-cert takes the emulator's DIR/ca.pem")
                })?;
                RootCerts::Specific(std::sync::Arc::new(vec![cert]))
            }
            None => RootCerts::WebPki,
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(120)))
            .max_redirects(0)
            .user_agent(concat!("hsm-ceremony-uploader/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build();
        Ok(Transport { agent: config.into(), endpoint: endpoint.clone(), base, plane, access_token })
    }

    /// The origin's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn once(&self, method: Method<'_>, url: &str) -> Result<HttpResponse, ureq::Error> {
        let auth = Zeroizing::new(format!("Bearer {}", self.access_token.as_str()));
        let mut resp = match method {
            Method::Post(body) | Method::Put(body) => {
                let request = if matches!(method, Method::Post(_)) {
                    self.agent.post(url)
                } else {
                    self.agent.put(url)
                };
                request
                    .header("Authorization", auth.as_str())
                    .header("Content-Type", "application/json")
                    .send(body)?
            }
            Method::Get => self.agent.get(url).header("Authorization", auth.as_str()).call()?,
            Method::Delete => self.agent.delete(url).header("Authorization", auth.as_str()).call()?,
        };
        let retry_after = resp
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (location, async_operation) = (header("Location"), header("Azure-AsyncOperation"));
        let status = resp.status().as_u16();
        let body = resp.body_mut().with_config().limit(16 * 1024 * 1024).read_to_vec()?;
        Ok(HttpResponse { status, body, retry_after, location, async_operation, plane: self.plane })
    }

    /// Sends a request to a full URL (one made from the base URL, or an
    /// operation's `Location` the service gave): only to the same origin as
    /// the base URL, so the token never goes to another host.
    pub fn send(&self, method: Method<'_>, url: &str) -> CliResult<HttpResponse> {
        if !self.endpoint.same_origin(url) {
            return Err(CliError::general(format!(
                "the service pointed to {url}, which is not on {}; not followed",
                self.base
            ))
            .hint("the token is never sent to another host; if the service is genuine, report this"));
        }
        let label =
            url.strip_prefix(&self.base).unwrap_or(url).split('?').next().unwrap_or_default().to_owned();
        self.send_url(method, url, &label)
    }

    /// Sends a request, retrying connection errors, 429 and 5xx with backoff.
    fn send_url(&self, method: Method<'_>, url: &str, path: &str) -> CliResult<HttpResponse> {
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let last = attempt == ATTEMPTS;
            match self.once(method, url) {
                Ok(r) if (r.status == 429 || r.status >= 500) && !last => {
                    let wait = r.retry_after.map_or(delay, Duration::from_secs).min(MAX_BACKOFF);
                    errln!("{method} {path}: HTTP {}; retrying in {:.1} s", r.status, wait.as_secs_f32());
                    std::thread::sleep(wait);
                }
                Ok(r) => return Ok(r),
                Err(e) if !last && retryable(&e) => {
                    errln!("{method} {path}: {e}; retrying in {:.1} s", delay.as_secs_f32());
                    std::thread::sleep(delay);
                }
                Err(e) => {
                    let flags = match self.plane {
                        Plane::Hsm => "--hsm / --hsm-url",
                        Plane::ResourceManager => "--arm-url",
                    };
                    return Err(CliError::general(format!("{method} {}{path}: {e}", self.base))
                        .hint(format!("check {flags}, the network, and --ca-cert for the emulator")));
                }
            }
            delay = (delay * 2).min(MAX_BACKOFF);
        }
        Err(CliError::general(format!("{method} {}{path}: no answer after {ATTEMPTS} attempts", self.base))
            .hint("the service is busy or failing; try again later (Azure's status page says more)"))
    }
}

/// The requests the service needs; writes carry a JSON body.
#[derive(Clone, Copy)]
pub enum Method<'a> {
    /// GET.
    Get,
    /// POST with a JSON body.
    Post(&'a [u8]),
    /// PUT with a JSON body.
    Put(&'a [u8]),
    /// DELETE.
    Delete,
}

impl std::fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post(_) => "POST",
            Method::Put(_) => "PUT",
            Method::Delete => "DELETE",
        })
    }
}

/// Transient failures only: a refused or dropped connection, a timeout. A TLS
/// certificate problem or a bad URL will not get better by asking again.
fn retryable(e: &ureq::Error) -> bool {
    use std::io::ErrorKind::*;
    match e {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ConnectionRefused
                | ConnectionReset
                | ConnectionAborted
                | NotConnected
                | BrokenPipe
                | TimedOut
                | UnexpectedEof
                | Interrupted
        ),
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
        _ => false,
    }
}
