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

/// api-versions Azure's clients use (PowerShell 7.2-preview, az 7.2/7.5, SDK 7.6/2025-07-01).
pub const API_VERSIONS: &[&str] = &["7.2-preview", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"];

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

/// Rejects requests without a valid bearer token (401 with Azure's challenge)
/// or without a known `api-version` (400).
pub async fn check_request(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !presented.is_some_and(|t| bool::from(t.as_bytes().ct_eq(app.token.as_bytes()))) {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\"https://managedhsm.azure.net\"",
            ),
        );
        return resp;
    }
    match api_version(req.uri().query()) {
        None => azure_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
        .into_response(),
        Some(v) if !API_VERSIONS.contains(&v.as_str()) => azure_error(
            StatusCode::BAD_REQUEST,
            "UnsupportedApiVersion",
            &format!(
                "The specified api-version '{v}' is not supported; supported: {}.",
                API_VERSIONS.join(", ")
            ),
        )
        .into_response(),
        Some(_) => next.run(req).await,
    }
}
