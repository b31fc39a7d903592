//! The management plane's state machine: resources change through
//! long-running operations that complete when due (provisioning, soft
//! delete, purge, recover, resource-group deletion), and each live HSM has its
//! own data plane running on a port of its own.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::model::{ArmState, Deletion, ManagedHsm, Operation, OperationKind};
use crate::dataplane::app::App;
use crate::dataplane::state::Activation;
use crate::error::{ApiError, StartError, azure_error, internal};
use crate::pipeline::Gate;
use crate::server::Planes;
use crate::{dataplane, server, store};

/// A provisioned HSM's running data plane.
struct RunningPlane {
    app: Arc<App>,
    handle: axum_server::Handle<std::net::SocketAddr>,
}

/// The management plane's shared state.
pub struct Arm {
    /// The emulator's data folder.
    pub dir: PathBuf,
    /// `https://127.0.0.1:PORT` (also `DIR/arm-url`).
    pub base_url: String,
    /// How long provisioning takes.
    pub provisioning: Duration,
    /// How long a delete, purge, recover or resource-group deletion takes.
    pub operation_time: Duration,
    /// What each HSM's data plane is started with (the token, the clock...).
    pub planes: Planes,
    /// Resources, persisted.
    state: Mutex<ArmState>,
    /// Running data planes by lower-case HSM name.
    running: Mutex<BTreeMap<String, RunningPlane>>,
}

/// A handler's answer.
pub type Reply = Result<Response, ApiError>;

impl Arm {
    /// The management plane for `dir`, with `state` as loaded.
    pub fn new(
        dir: PathBuf,
        base_url: String,
        provisioning: Duration,
        planes: Planes,
        state: ArmState,
    ) -> Arm {
        Arm {
            dir,
            base_url,
            operation_time: provisioning.min(Duration::from_secs(2)),
            provisioning,
            planes,
            state: Mutex::new(state),
            running: Mutex::new(BTreeMap::new()),
        }
    }

    /// Seconds since the epoch, by the emulator's clock.
    pub fn now(&self) -> u64 {
        self.planes.clock.now()
    }

    /// Milliseconds since the epoch, by the emulator's clock.
    pub fn now_ms(&self) -> u64 {
        self.planes.clock.now_ms()
    }

    /// Persists the state; a failure is a 500 (the change is not acknowledged).
    pub fn save(&self, state: &ArmState) -> Result<(), ApiError> {
        store::save_arm(&self.dir, state).map_err(|e| internal(&format!("cannot persist state: {e}")))
    }

    /// Starts the data plane of `hsm` on a port of its own (making its
    /// exchange key on first start). Returns its URL.
    pub fn start_plane(&self, hsm: &ManagedHsm) -> Result<String, StartError> {
        let dir = store::hsm_dir(&self.dir, &hsm.name);
        let (listener, url) = server::listen(([127, 0, 0, 1], 0).into())?;
        let app = self.planes.open_hsm(&dir, &hsm.name, hsm.admins.first().cloned(), &url)?;
        let handle = axum_server::Handle::new();
        server::spawn(listener, self.planes.tls.clone(), dataplane::router(app.clone()), handle.clone())?;
        if let Ok(mut running) = self.running.lock() {
            running.insert(hsm.name.to_ascii_lowercase(), RunningPlane { app, handle });
        }
        Ok(url)
    }

    fn stop_plane(&self, name: &str) {
        if let Some(plane) = self.running.lock().ok().and_then(|mut p| p.remove(&name.to_ascii_lowercase())) {
            plane.handle.shutdown();
        }
    }

    /// The data plane URL (`hsmUri`) and activation of a running HSM.
    pub fn plane(&self, name: &str) -> (String, Option<bool>) {
        let running = self.running.lock().ok();
        let plane = running.as_ref().and_then(|p| p.get(&name.to_ascii_lowercase()));
        match plane {
            Some(p) => {
                let active = p.app.current().ok().map(|s| s.activation == Activation::Active);
                (format!("{}/", p.app.base_url), active)
            }
            None => (format!("https://{name}.managedhsm.azure.net/"), None),
        }
    }

    /// Starts the planes of every live HSM (after a restart).
    pub fn start_all(&self) -> Result<(), StartError> {
        let live: Vec<ManagedHsm> = self
            .state
            .lock()
            .map_err(|_| StartError::Server("state lock poisoned".into()))?
            .hsms
            .values()
            .filter(|h| h.deleted.is_none())
            .cloned()
            .collect();
        for hsm in &live {
            self.start_plane(hsm)?;
        }
        Ok(())
    }

    /// Applies every operation that is due.
    fn advance(&self, state: &mut ArmState) -> bool {
        let now_ms = self.now_ms();
        let due: Vec<(String, Operation)> = state
            .operations
            .iter()
            .filter(|(_, o)| !o.done && o.ready_at_ms <= now_ms)
            .map(|(k, o)| (k.clone(), o.clone()))
            .collect();
        for (id, op) in &due {
            let key = op.target.to_ascii_lowercase();
            match op.kind {
                OperationKind::Create | OperationKind::Update => {}
                OperationKind::Delete => self.soft_delete(state, &key),
                OperationKind::Purge => {
                    state.hsms.remove(&key);
                    let _ = std::fs::remove_dir_all(store::hsm_dir(&self.dir, &key));
                }
                OperationKind::Recover => {
                    if let Some(hsm) = state.hsms.get_mut(&key) {
                        hsm.deleted = None;
                        let hsm = hsm.clone();
                        if let Err(e) = self.start_plane(&hsm) {
                            eprintln!("mhsm-emulator: cannot restart {}: {e}", hsm.name);
                        }
                    }
                }
                OperationKind::DeleteResourceGroup => {
                    let inside: Vec<String> = state
                        .hsms
                        .iter()
                        .filter(|(_, h)| {
                            h.resource_group.eq_ignore_ascii_case(&op.target) && h.deleted.is_none()
                        })
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in inside {
                        self.soft_delete(state, &k);
                    }
                    state.resource_groups.remove(&key);
                }
            }
            if let Some(o) = state.operations.get_mut(id) {
                o.done = true;
            }
        }
        !due.is_empty()
    }

    fn soft_delete(&self, state: &mut ArmState, key: &str) {
        if let Some(hsm) = state.hsms.get_mut(key) {
            hsm.deleting = false;
            let now = self.now();
            hsm.deleted = Some(Deletion { deleted: now, scheduled_purge: now + hsm.retention_days * 86_400 });
            self.stop_plane(&hsm.name);
        }
    }

    /// Locks the state with every due operation applied.
    pub fn current(&self) -> Result<MutexGuard<'_, ArmState>, ApiError> {
        let mut state = self.state.lock().map_err(|_| internal("state lock poisoned"))?;
        if self.advance(&mut state) {
            self.save(&state)?;
        }
        Ok(state)
    }

    /// Starts a long-running operation; the 202 that reports it.
    pub fn begin(
        &self,
        state: &mut ArmState,
        kind: OperationKind,
        target: &str,
        location: &str,
        sub: &str,
        api: &str,
    ) -> Reply {
        let id = azure_shapes::Guid::random().map_err(|_| internal("RNG failure"))?.to_string();
        let wait = if kind == OperationKind::Create { self.provisioning } else { self.operation_time };
        let rg = kind == OperationKind::DeleteResourceGroup;
        state.operations.insert(
            id.clone(),
            Operation {
                kind,
                target: target.to_owned(),
                ready_at_ms: self.now_ms() + wait.as_millis() as u64,
                done: false,
            },
        );
        self.save(state)?;
        Ok(accepted(&self.operation_url(sub, location, &id, api, 0, rg)))
    }

    /// Where the operation `id` is polled (the `Location` of its 202); `poll`
    /// counts the polls, as Azure's URLs do.
    pub fn operation_url(
        &self,
        sub: &str,
        location: &str,
        id: &str,
        api: &str,
        poll: u64,
        resource_group: bool,
    ) -> String {
        // Azure signs these URLs (c, s, h); the emulator's carry the same parameters, unsigned.
        if resource_group {
            format!(
                "{}/subscriptions/{sub}/operationresults/{id}?api-version={api}&t={poll}&c=emulated&s=emulated&h=emulated",
                self.base_url
            )
        } else {
            format!(
                "{}/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{location}/managedHsmOperationResults/{id}?api-version={api}&t={poll}&c=emulated&s=emulated&h=emulated",
                self.base_url
            )
        }
    }
}

/// 202 with the operation's `Location`, no body (as recorded).
pub fn accepted(location: &str) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::ACCEPTED;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

impl Gate for Arm {
    /// Resource Manager knows one principal here: the administrator's token.
    fn principal(&self, presented: &str) -> Option<String> {
        bool::from(presented.as_bytes().ct_eq(self.planes.token.as_bytes()))
            .then(|| "administrator".to_owned())
    }

    /// Resource Manager's 401: its error body, and a challenge naming it.
    fn challenge(&self, _method: &Method) -> Response {
        let mut resp = azure_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing or not a valid bearer token.",
        )
        .into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", error=\"invalid_token\", resource=\"https://management.azure.com\"",
            ),
        );
        resp
    }

    /// Every api-version is answered (the client's choice of the resource's shape).
    fn check_api_version(&self, _version: &str) -> Result<(), ApiError> {
        Ok(())
    }
}
