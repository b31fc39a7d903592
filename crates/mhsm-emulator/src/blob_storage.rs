//! A storage container as a full backup reaches it: Azure Blob Storage's REST
//! API, authorised by the shared access signature (SAS) the request carried.
//! In drills and tests the account is Azurite's (`storage/azurite.sh`).
//!
//! The emulator reaches storage on this machine only: container URLs must
//! name a loopback address, `localhost` or a name under `.localhost` (which
//! RFC 6761 reserves for the loopback, and which Azurite's "production style"
//! URLs use: `http://ACCOUNT.blob.localhost:PORT/CONTAINER`). The resolver
//! below answers nothing else, so no request, however crafted, makes the
//! emulator send a SAS (or anything) to another host.
//!
//! The SAS is never put in an error or a log line: errors name the blob and
//! storage's own error code.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use azure_shapes::backup::{ContainerUrl, loopback};
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use zeroize::Zeroizing;

/// The Blob REST version the emulator speaks (Azurite and Azure both take it).
const X_MS_VERSION: &str = "2021-08-06";

/// What storage answered instead of success, in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError {
    /// The HTTP status (0 when storage could not be reached).
    pub status: u16,
    /// Storage's error code (`x-ms-error-code`: `ContainerNotFound`,
    /// `AuthenticationFailed`, `BlobNotFound`...), or our own for a failure
    /// to reach it.
    pub code: String,
    /// What failed.
    pub message: String,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// A container and the SAS that opens it.
pub struct Container {
    /// The container's URL as the request gave it, without a trailing `/`.
    url: String,
    /// The SAS, without its leading `?`.
    sas: Zeroizing<String>,
    agent: ureq::Agent,
}

impl fmt::Debug for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Container").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Container {
    /// The container `storage_resource_uri` names, opened with `sas`.
    /// Refuses a URL that is not `http://HOST[:PORT]/…CONTAINER` on this
    /// machine, or one that carries a query (a SAS belongs in `token`).
    pub fn open(storage_resource_uri: &str, sas: &str) -> Result<Container, String> {
        let url = ContainerUrl::parse(storage_resource_uri)
            .map_err(|e| format!("{storage_resource_uri:?}: {e}"))?;
        if url.is_https() || !url.on_this_machine() {
            return Err(format!(
                "{:?}: the emulator reaches storage on this machine only (a loopback address or a name under .localhost), over http (Azurite)",
                url.as_str()
            ));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        let agent = ureq::Agent::with_parts(config, DefaultConnector::default(), LoopbackOnly);
        let sas = Zeroizing::new(sas.trim().trim_start_matches('?').to_owned());
        Ok(Container { url: url.as_str().to_owned(), sas, agent })
    }

    /// The container's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn blob_url(&self, blob: &str) -> Zeroizing<String> {
        Zeroizing::new(format!("{}/{blob}?{}", self.url, self.sas.as_str()))
    }

    /// Writes blob `name` (a block blob, replaced if it exists).
    pub fn put(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let resp = self
            .agent
            .put(self.blob_url(name).as_str())
            .header("x-ms-version", X_MS_VERSION)
            .header("x-ms-blob-type", "BlockBlob")
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| unreachable_storage(&e))?;
        expect(resp, 201, &format!("writing blob {name}")).map(drop)
    }

    /// Reads blob `name`.
    pub fn get(&self, name: &str) -> Result<Vec<u8>, StorageError> {
        let resp = self
            .agent
            .get(self.blob_url(name).as_str())
            .header("x-ms-version", X_MS_VERSION)
            .call()
            .map_err(|e| unreachable_storage(&e))?;
        expect(resp, 200, &format!("reading blob {name}"))
    }

    /// The names of the blobs under `prefix`, every page of them. Also how a
    /// job first checks that the container exists and the SAS opens it.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut names = Vec::new();
        let mut marker = String::new();
        loop {
            let mut query = format!("restype=container&comp=list&prefix={}", encode(prefix));
            if !marker.is_empty() {
                query.push_str(&format!("&marker={}", encode(&marker)));
            }
            let url = Zeroizing::new(format!("{}?{query}&{}", self.url, self.sas.as_str()));
            let resp = self
                .agent
                .get(url.as_str())
                .header("x-ms-version", X_MS_VERSION)
                .call()
                .map_err(|e| unreachable_storage(&e))?;
            let body = expect(resp, 200, "listing the container")?;
            let xml = String::from_utf8_lossy(&body);
            names.extend(elements(&xml, "Name"));
            marker = elements(&xml, "NextMarker").into_iter().next().unwrap_or_default();
            if marker.is_empty() {
                return Ok(names);
            }
        }
    }
}

/// The body of a response with status `want`, else storage's error.
fn expect(resp: ureq::http::Response<ureq::Body>, want: u16, what: &str) -> Result<Vec<u8>, StorageError> {
    let status = resp.status().as_u16();
    let code = resp
        .headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("StorageError")
        .to_owned();
    let mut body = resp.into_body();
    let bytes = body.with_config().limit(64 * 1024 * 1024).read_to_vec().map_err(|e| StorageError {
        status,
        code: "StorageUnreachable".into(),
        message: format!("{what}: the answer could not be read ({e})"),
    })?;
    if status == want {
        return Ok(bytes);
    }
    Err(StorageError { status, code, message: format!("{what}: storage answered {status}") })
}

fn unreachable_storage(e: &ureq::Error) -> StorageError {
    // ureq's own text names no URL (so no SAS) for these errors.
    StorageError {
        status: 0,
        code: "StorageUnreachable".into(),
        message: format!("storage is unreachable: {e}"),
    }
}

/// The text of every `<tag>…</tag>` in `xml`, unescaped (Blob's listings are flat enough for this).
fn elements(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(unescape(&after[..end]));
        rest = &after[end + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Resolves loopback names only (see the module's documentation).
#[derive(Debug)]
struct LoopbackOnly;

impl Resolver for LoopbackOnly {
    fn resolve(
        &self,
        uri: &Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let ip = uri.host().and_then(loopback).ok_or(ureq::Error::HostNotFound)?;
        let port = uri.port_u16().unwrap_or(80);
        let mut addrs = self.empty();
        addrs.push(SocketAddr::new(ip, port));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_containers_on_this_machine_open() {
        for ok in [
            "http://devstoreaccount1.blob.localhost:10000/backups",
            "http://127.0.0.1:10000/devstoreaccount1/backups/",
            "http://[::1]:10000/devstoreaccount1/backups",
        ] {
            assert!(Container::open(ok, "?sv=x&sig=y").is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("https://acct.blob.core.windows.net/backups", "on this machine only"),
            ("https://127.0.0.1:10000/acct/backups", "over http"),
            ("http://acct.blob.core.windows.net/backups", "on this machine only"),
            ("http://10.0.0.1:10000/acct/backups", "on this machine only"),
            ("http://localhost.evil.example/backups", "on this machine only"),
            ("http://127.0.0.1:10000/", "names no container"),
            ("http://127.0.0.1:10000/a/b?sig=z", "carries a query"),
            ("not a url", "reached over https"),
        ] {
            let e = Container::open(bad, "sig=x").unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn the_sas_stays_out_of_what_is_shown() {
        let c = Container::open("http://127.0.0.1:1/acct/c", "?sv=1&sig=SECRET").unwrap();
        assert!(!format!("{c:?}").contains("SECRET"));
        let e = c.get("f/x").unwrap_err();
        assert_eq!(e.code, "StorageUnreachable");
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }

    #[test]
    fn listings_are_read_with_escapes() {
        let xml =
            "<Blobs><Blob><Name>a&amp;b</Name></Blob><Blob><Name>f/c</Name></Blob></Blobs><NextMarker/>";
        assert_eq!(elements(xml, "Name"), vec!["a&b".to_owned(), "f/c".to_owned()]);
        assert!(elements(xml, "NextMarker").is_empty());
        assert_eq!(encode("mhsm-x/ k"), "mhsm-x/%20k");
    }
}
