//! Shared server state, the Azure-style error body, and the two checks every
//! request passes: a valid bearer token and a known `api-version`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::state::{self, State as HsmState};

/// The data-plane api-versions the emulator answers: what az (7.2 to 7.6,
/// 7.5-preview.1, 7.6-preview.2), PowerShell (7.2-preview), Azure's SDKs
/// (7.6, 2025-07-01, 2026-01-01-preview) and the security-domain client send.
pub const API_VERSIONS: &[&str] = &[
    "7.2-preview",
    "7.2",
    "7.3",
    "7.4",
    "7.5-preview.1",
    "7.5",
    "7.6-preview.2",
    "7.6",
    "2025-07-01",
    "2026-01-01-preview",
];

/// The newest generally available api-version of [`API_VERSIONS`].
pub const LATEST_API_VERSION: &str = "2025-07-01";

/// What every handler shares.
pub struct App {
    /// The data folder.
    pub dir: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub base_url: String,
    /// The bearer token clients must send.
    pub token: String,
    /// How long a download or upload stays `InProgress`.
    pub activation_delay: Duration,
    /// The HSM's state, persisted after every change.
    pub state: Mutex<HsmState>,
}

impl App {
    /// Locks the state and completes any operation that is due.
    pub fn lock(&self) -> Result<MutexGuard<'_, HsmState>, ApiError> {
        let mut guard = self.state.lock().map_err(|_| {
            azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "state lock poisoned")
        })?;
        if guard.advance(now_ms()) {
            self.save(&guard)?;
        }
        Ok(guard)
    }

    /// Persists the state; a failure is a 500 (the change is not acknowledged).
    pub fn save(&self, state: &HsmState) -> Result<(), ApiError> {
        state::save(&self.dir, state).map_err(|e| {
            azure_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                &format!("cannot persist state: {e}"),
            )
        })
    }

    /// The `Azure-AsyncOperation` URL of a pending endpoint.
    pub fn operation_url(&self, path: &str, api_version: &str) -> String {
        format!("{}{path}?api-version={api_version}", self.base_url)
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// An error response in Azure's shape: `{"error":{"code":…,"message":…}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

/// Builds an [`ApiError`].
pub fn azure_error(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError { status, code: code.to_owned(), message: message.to_owned() }
}

/// The api-version of a request (already validated by [`check_request`]).
pub fn api_version(req_query: Option<&str>) -> Option<String> {
    req_query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "api-version")
        .map(|(_, v)| v.to_owned())
}

/// A random GUID (version 4), for object IDs.
pub fn new_guid() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = sd_core::primitives::hex::hex_lower(&b);
    Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

impl App {
    /// The principal a bearer token belongs to: the administrator's
    /// (`DIR/token`) or one of `DIR/tokens/OBJECT_ID.token`.
    fn principal(&self, presented: &str) -> Option<String> {
        let matches = |t: &str| bool::from(t.trim().as_bytes().ct_eq(presented.as_bytes()));
        if matches(&self.token) {
            return self.state.lock().ok().map(|s| s.admin_principal.clone());
        }
        let entries = std::fs::read_dir(self.dir.join("tokens")).ok()?;
        entries.filter_map(Result::ok).find_map(|e| {
            let path = e.path();
            let id = path.file_name()?.to_str()?.strip_suffix(".token")?.to_owned();
            let token = std::fs::read_to_string(&path).ok()?;
            matches(&token).then_some(id)
        })
    }
}

/// The 401 a real HSM sends without a valid token: Azure's challenge, JSON
/// content type, and (as recorded) the two bytes `OK` as the body of a GET.
fn challenge(method: &axum::http::Method) -> Response {
    let body = if method == axum::http::Method::GET { Body::from("OK") } else { Body::empty() };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\"https://managedhsm.azure.net\"",
        ),
    );
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    resp
}

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// The principal a request's token belongs to, for the route's guard.
#[derive(Debug, Clone)]
pub struct Principal(pub String);

/// Every request passes here: a valid bearer token (401 with Azure's
/// challenge) and a known `api-version` (400). Then the route it matched
/// checks the caller's role (403), or no route matched (404). JSON answers
/// say `charset=utf-8`, as the real service's do.
pub async fn check_request(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut resp = authorize_and_run(&app, req, next).await;
    let is_json = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/json");
    if is_json {
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    }
    resp
}

async fn authorize_and_run(app: &App, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty());
    let Some(principal) = presented.and_then(|t| app.principal(t)) else {
        return challenge(req.method());
    };
    match api_version(req.uri().query()) {
        None => {
            return azure_error(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
            .into_response();
        }
        Some(v) if !API_VERSIONS.contains(&v.as_str()) => {
            return azure_error(
                StatusCode::BAD_REQUEST,
                // Key Vault's own answer to a version it does not know.
                "BadParameter",
                &format!("The specified version ({v}) is not recognized. Consider using the latest supported version ({LATEST_API_VERSION})."),
            )
            .into_response();
        }
        Some(_) => {}
    }
    // Who asked; each route's guard decides what they may do (routes::Guard).
    req.extensions_mut().insert(Principal(principal));
    next.run(req).await
}
