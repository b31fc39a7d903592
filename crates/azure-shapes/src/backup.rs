//! Full backup and restore as Key Vault's administration API speaks it
//! (`/backup`, `/restore`, `/keys/{name}/restore`, the 7.6 pre-checks and
//! their jobs): the requests the uploader sends and the emulator reads, the
//! job both report, and the storage container URL with the one rule for
//! whether it is on this machine (Azurite's).
//!
//! The SAS token is a credential: it is wiped when a request is dropped and
//! never shown by `Debug`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// How the HSM reaches the container: `{"storageResourceUri":…,"token":…}`,
/// or `{…,"useManagedIdentity":true}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SasTokenParameters {
    /// The container's URL.
    pub storage_resource_uri: String,
    /// The SAS token (without a leading `?`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Whether the HSM uses its own managed identity instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_managed_identity: Option<bool>,
}

impl Drop for SasTokenParameters {
    fn drop(&mut self) {
        self.token.zeroize();
    }
}

impl fmt::Debug for SasTokenParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SasTokenParameters")
            .field("storage_resource_uri", &self.storage_resource_uri)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("use_managed_identity", &self.use_managed_identity)
            .finish()
    }
}

/// `PUT /restore` and `PUT /prerestore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreRequest {
    /// The container and its SAS.
    pub sas_token_parameters: SasTokenParameters,
    /// The backup's folder in the container.
    pub folder_to_restore: String,
}

/// `PUT /keys/{name}/restore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectiveKeyRestoreRequest {
    /// The container and its SAS.
    pub sas_token_parameters: SasTokenParameters,
    /// The backup's folder in the container.
    pub folder: String,
}

/// Why a job failed: `{"code":…,"message":…}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// The error code.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// A backup or restore job as `…/pending` reports it (and the 202 that starts it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// `InProgress`, `Succeeded`, `Failed` (or `Canceled`).
    pub status: String,
    /// The service's words, on failure.
    pub status_details: Option<String>,
    /// Why it failed.
    pub error: Option<JobError>,
    /// When it started (Unix seconds).
    pub start_time: Option<u64>,
    /// When it ended.
    pub end_time: Option<u64>,
    /// Its ID.
    pub job_id: String,
    /// For a backup: the folder's URL (absent from restore jobs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_storage_blob_container_uri: Option<String>,
}

impl Job {
    /// True while the job runs.
    pub fn running(&self) -> bool {
        self.status.eq_ignore_ascii_case("InProgress")
    }
    /// True when it ended well.
    pub fn succeeded(&self) -> bool {
        self.status.eq_ignore_ascii_case("Succeeded")
    }
}

/// A storage container's URL: `http(s)://HOST[:PORT]/[ACCOUNT/]CONTAINER`,
/// with no query (a SAS belongs in the token), no fragment, no user info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerUrl {
    url: String,
    https: bool,
    host: String,
}

/// Why a text is not a container URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerUrlError {
    /// Not `http://` or `https://`.
    Scheme,
    /// It carries a query or a fragment.
    Query,
    /// No host, or user info before it.
    Host,
    /// It names no container.
    NoContainer,
}

impl fmt::Display for ContainerUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContainerUrlError::Scheme => "storage is reached over https",
            ContainerUrlError::Query => "it carries a query",
            ContainerUrlError::Host => "it names no host (or hides one behind user info)",
            ContainerUrlError::NoContainer => "it names no container",
        })
    }
}

impl std::error::Error for ContainerUrlError {}

impl ContainerUrl {
    /// Parses a container URL (a trailing `/` is dropped).
    pub fn parse(text: &str) -> Result<ContainerUrl, ContainerUrlError> {
        let url = text.trim().trim_end_matches('/');
        let (https, rest) = match url.split_once("://") {
            Some(("https", rest)) => (true, rest),
            Some(("http", rest)) => (false, rest),
            _ => return Err(ContainerUrlError::Scheme),
        };
        if url.contains(['?', '#']) {
            return Err(ContainerUrlError::Query);
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.split(':').next().unwrap_or_default(),
        };
        if host.is_empty() || authority.contains('@') {
            return Err(ContainerUrlError::Host);
        }
        if path.trim_matches('/').is_empty() {
            return Err(ContainerUrlError::NoContainer);
        }
        Ok(ContainerUrl { url: url.to_owned(), https, host: host.to_ascii_lowercase() })
    }

    /// The URL, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// True for `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// True when the host is this machine (see [`loopback`]): Azurite's.
    pub fn on_this_machine(&self) -> bool {
        loopback(&self.host).is_some()
    }
}

/// The loopback address a host name stands for, if it stands for one: a
/// loopback IP, `localhost`, or a name under `.localhost` (which RFC 6761
/// reserves for the loopback, and Azurite's "production style" URLs use).
pub fn loopback(host: &str) -> Option<IpAddr> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback().then_some(ip);
    }
    let lower = host.to_ascii_lowercase();
    (lower == "localhost" || lower.ends_with(".localhost")).then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_urls_are_read_by_one_rule() {
        for (text, https, here) in [
            ("https://acct.blob.core.windows.net/backups", true, false),
            ("http://devstoreaccount1.blob.localhost:10000/backups/", false, true),
            ("http://127.0.0.1:10000/devstoreaccount1/backups", false, true),
            ("http://[::1]:10000/devstoreaccount1/backups", false, true),
            ("http://10.0.0.1:10000/acct/backups", false, false),
            ("http://localhost.evil.example/backups", false, false),
        ] {
            let u = ContainerUrl::parse(text).unwrap();
            assert_eq!((u.is_https(), u.on_this_machine()), (https, here), "{text}");
            assert!(!u.as_str().ends_with('/'));
        }
        for (text, e) in [
            ("ftp://acct/backups", ContainerUrlError::Scheme),
            ("not a url", ContainerUrlError::Scheme),
            ("https://acct.blob.core.windows.net/backups?sig=x", ContainerUrlError::Query),
            ("https://127.0.0.1@evil.example/backups", ContainerUrlError::Host),
            ("https://acct.blob.core.windows.net/", ContainerUrlError::NoContainer),
        ] {
            assert_eq!(ContainerUrl::parse(text).unwrap_err(), e, "{text}");
        }
    }

    #[test]
    fn the_sas_is_never_shown() {
        let p = SasTokenParameters {
            storage_resource_uri: "https://a/b".into(),
            token: Some("sig=SECRET".into()),
            use_managed_identity: None,
        };
        assert!(!format!("{p:?}").contains("SECRET"));
        let job: Job = serde_json::from_str(
            r#"{"status":"InProgress","statusDetails":null,"error":null,"startTime":1,"endTime":null,"jobId":"j"}"#,
        )
        .unwrap();
        assert!(job.running() && !job.succeeded() && job.azure_storage_blob_container_uri.is_none());
    }
}
