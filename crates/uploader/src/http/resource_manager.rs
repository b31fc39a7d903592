//! Azure Resource Manager for Managed HSMs: the subscription, the token for
//! `https://management.azure.com`, the resource paths and api-versions Azure's
//! clients use, and long-running operations followed the way Azure answers
//! them (202 with a new `Location` on each poll, `Retry-After` honoured, a
//! final 200 or 204; after a delete, a final 404 counts as done).

use std::path::PathBuf;
use std::time::Duration;

use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::local_target::LocalTarget;
use serde_json::Value;

use sd_core::HsmName;
use ureq::http::Uri;

use super::transport::{HttpResponse, Method, Plane, Transport};
use crate::access_token;
use crate::endpoint::{Endpoint, segment};
use crate::poll::{First, Look, Pace};
use azure_shapes::{Location, ResourceGroup, SubscriptionId};

/// The api-version for `Microsoft.KeyVault/managedHSMs` (what az 2.71 sends, as recorded).
pub const HSM_API: &str = "2024-11-01";
/// The api-version for resource groups.
pub const GROUP_API: &str = "2025-04-01";

/// Azure's Resource Manager.
const AZURE_RESOURCE_MANAGER: &str = "https://management.azure.com";

/// Where Resource Manager is and who we are there.
#[derive(clap::Args, Clone, Debug)]
pub struct ArmArgs {
    /// The subscription ID, a GUID (given neither this nor the variable:
    /// `az account show`).
    #[arg(long, value_name = "ID", env = "AZURE_SUBSCRIPTION_ID")]
    pub subscription: Option<SubscriptionId>,
    /// Resource Manager's URL: Azure's (the default,
    /// https://management.azure.com), or the emulator's DIR/arm-url.
    #[arg(long, value_name = "URL")]
    pub arm_url: Option<String>,
    /// Read the Resource Manager token from FILE (default:
    /// $AZURE_ARM_ACCESS_TOKEN, else `az account get-access-token --resource
    /// https://management.azure.com`).
    #[arg(long, value_name = "FILE")]
    pub arm_token_file: Option<PathBuf>,
}

/// A Resource Manager client for one subscription.
pub struct Arm {
    http: Transport,
    /// The subscription ID.
    pub subscription: SubscriptionId,
}

/// A path below the subscription, one segment at a time, each percent-encoded
/// where the URL is made ([`crate::endpoint::segment`]): a name is always one
/// segment, never a path, a query or a fragment.
#[derive(Debug, Clone)]
pub struct ArmPath(Vec<String>);

impl ArmPath {
    /// The path of these segments.
    pub fn new(segments: &[&str]) -> ArmPath {
        ArmPath(segments.iter().map(|s| (*s).to_owned()).collect())
    }

    /// This path with one more segment.
    pub fn child(&self, segment: &str) -> ArmPath {
        let mut next = self.clone();
        next.0.push(segment.to_owned());
        next
    }

    fn encoded(&self) -> String {
        self.0.iter().map(|s| format!("/{}", segment(s))).collect()
    }
}

impl Arm {
    /// Connects (no call is made yet); `ca_cert` is for the emulator.
    pub fn connect(args: &ArmArgs, ca_cert: Option<&std::path::Path>) -> CliResult<Arm> {
        // What a flag leaves out, an emulator named by HSM_CEREMONY_TARGET supplies.
        let local = LocalTarget::from_env();
        let arm_url = match (&args.arm_url, &local) {
            (Some(url), _) => url.clone(),
            (None, Some(t)) => t.arm_url()?,
            (None, None) => AZURE_RESOURCE_MANAGER.to_owned(),
        };
        let endpoint = Endpoint::parse(&arm_url, "--arm-url")?;
        let token_file = args.arm_token_file.clone().or_else(|| local.as_ref().map(LocalTarget::token_file));
        let token = access_token::obtain(&access_token::MANAGEMENT, token_file.as_deref(), &endpoint)?;
        let subscription = match (&args.subscription, &local) {
            (Some(s), _) => s.clone(),
            (None, Some(t)) => {
                let id = t.subscription()?;
                id.parse().map_err(|e| {
                    CliError::general(format!("the emulator's subscription {id:?}: {e}"))
                        .hint("restart the emulator: it writes DIR/subscription anew")
                })?
            }
            (None, None) => {
                let id = access_token::az_value(
                    &["account", "show", "--query", "id", "-o", "tsv"],
                    "the subscription",
                )?;
                id.parse().map_err(|e| {
                    CliError::general(format!("az gave the subscription {id:?}: {e}"))
                        .hint("give --subscription ID")
                })?
            }
        };
        let local_ca = local.as_ref().map(LocalTarget::ca_cert);
        let ca_cert = ca_cert.or(local_ca.as_deref());
        // The api-version goes into each call: it differs by resource type.
        Ok(Arm { http: Transport::new(&endpoint, Plane::ResourceManager, ca_cert, token)?, subscription })
    }

    /// The URL of `path` below the subscription, with `api`.
    fn url(&self, path: &ArmPath, api: &str) -> CliResult<Uri> {
        let subscription = ArmPath::new(&["subscriptions", self.subscription.as_str()]);
        let text = format!(
            "{}{}{}?api-version={}",
            self.http.base(),
            subscription.encoded(),
            path.encoded(),
            segment(api)
        );
        text.parse::<Uri>().map_err(|e| {
            CliError::general(format!("cannot make a URL of {text}: {e}")).hint("check --arm-url")
        })
    }

    /// Sends `method` to `path` (below the subscription) with `api`.
    pub fn call(&self, method: Method<'_>, path: &ArmPath, api: &str) -> CliResult<HttpResponse> {
        self.http.send(method, &self.url(path, api)?.to_string())
    }

    /// The path of a Managed HSM.
    pub fn hsm_path(resource_group: &ResourceGroup, name: &HsmName) -> ArmPath {
        ArmPath::new(&[
            "resourceGroups",
            resource_group.as_str(),
            "providers",
            "Microsoft.KeyVault",
            "managedHSMs",
            name.as_str(),
        ])
    }

    /// The path of a deleted Managed HSM.
    pub fn deleted_path(location: &Location, name: &HsmName) -> ArmPath {
        ArmPath::new(&[
            "providers",
            "Microsoft.KeyVault",
            "locations",
            location.as_str(),
            "deletedManagedHSMs",
            name.as_str(),
        ])
    }

    /// Follows the operation `started` began until it ends, printing elapsed
    /// time and `status()` (the resource's own status text) as they change.
    /// Returns the final response (200 or 204; a 404 when `gone_is_done`).
    pub fn follow(
        &self,
        started: HttpResponse,
        what: &str,
        gone_is_done: bool,
        status: &dyn Fn() -> Option<String>,
    ) -> CliResult<HttpResponse> {
        let Some(first) = started.async_operation.clone().or_else(|| started.location.clone()) else {
            return Ok(started);
        };
        let mut next = first;
        let asked = started.retry_after.map(Duration::from_secs);
        crate::poll::until_done(what, OPERATIONS, First::AfterPause(asked), || {
            let resp = self.http.send(Method::Get, &next)?;
            let state = status().unwrap_or_else(|| operation_status(&resp));
            let look = match resp.status {
                202 => {
                    // Azure hands out a new Location on each poll.
                    if let Some(l) = resp.location.clone().or(resp.async_operation.clone()) {
                        next = l;
                    }
                    Look::Running(resp.retry_after.map(Duration::from_secs))
                }
                200 if is_running(&resp) => Look::Running(resp.retry_after.map(Duration::from_secs)),
                200 | 204 => Look::Done(resp),
                404 if gone_is_done => Look::Done(resp),
                _ => return Err(resp.error(what)),
            };
            Ok((state, look))
        })
    }
}

/// Resource Manager's operations: provisioning takes about 15 minutes, the
/// others seconds; `Retry-After` honoured up to a minute.
const OPERATIONS: Pace = Pace {
    first_interval: Duration::from_millis(500),
    max_interval: Duration::from_secs(10),
    retry_after: (Duration::ZERO, Duration::from_secs(60)),
    limit: Duration::from_secs(60 * 60),
    limit_hint: None,
};

/// An `Azure-AsyncOperation` body that says the operation is still running.
fn is_running(resp: &HttpResponse) -> bool {
    serde_json::from_slice::<Value>(&resp.body)
        .ok()
        .and_then(|v| v["status"].as_str().map(|s| matches!(s, "InProgress" | "Running" | "Accepted")))
        .unwrap_or(false)
}

fn operation_status(resp: &HttpResponse) -> String {
    match resp.status {
        202 => "in progress".into(),
        200 | 204 => "done".into(),
        404 => "gone".into(),
        s => format!("HTTP {s}"),
    }
}
