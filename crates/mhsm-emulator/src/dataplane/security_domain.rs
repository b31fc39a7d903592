//! `/securitydomain/*`: activation by download, recovery by upload.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use sd_core::azure::download_request::DownloadRequest;
use sd_core::azure::restore_blob::RestoreBlob;
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::pki::cert::Certificate;
use sd_core::primitives::secret::MasterKey;
use sd_core::{azure::transfer_key, pki::private_key};

use super::app::App;
use super::domain;
use super::state::{HsmState, OperationStatus, SdOperationKind};
use crate::error::{ApiError, azure_error};
use crate::pipeline::api_version;

fn bad_request(message: &str) -> Response {
    azure_error(StatusCode::BAD_REQUEST, "BadParameter", message).into_response()
}

/// The operation's status URL, which the real service sends with the 202
/// and repeats on every poll (it sends no Retry-After).
fn async_operation(app: &App, pending_path: &str, query: Option<&str>) -> HeaderMap {
    let version = api_version(query).unwrap_or_else(|| "7.5".into());
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&app.operation_url(pending_path, &version)) {
        headers.insert("Azure-AsyncOperation", v);
    }
    headers
}

pub(super) fn accepted(
    app: &App,
    pending_path: &str,
    query: Option<String>,
    body: serde_json::Value,
) -> Response {
    (StatusCode::ACCEPTED, async_operation(app, pending_path, query.as_deref()), axum::Json(body))
        .into_response()
}

/// The state, locked, of an HSM that has no security domain yet (else the
/// 409 saying it cannot be `what` again).
fn without_security_domain<'a>(
    app: &'a App,
    what: &str,
) -> Result<std::sync::MutexGuard<'a, HsmState>, ApiError> {
    let state = app.current()?;
    if !state.accepts_security_domain() {
        let message =
            format!("The HSM already has a security domain (or is activating); it cannot be {what} again.");
        return Err(azure_error(StatusCode::CONFLICT, "Conflict", &message));
    }
    Ok(state)
}

/// `POST /securitydomain/download`: make a security domain for 3-10 custodians.
pub async fn download(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let (certs, required) = match DownloadRequest::parse(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(&e.to_string()),
    };
    let mut state = match without_security_domain(&app, "downloaded") {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let host = app.base_url.clone();
    let made = (|| {
        let secrets = domain::generate(&host, app.clock.now_ms() / 1000)?;
        let master = MasterKey::generate(&mut getrandom::SysRng)?;
        let sd = SecurityDomain::create(&mut getrandom::SysRng, &master, &secrets, &certs, required)?;
        Ok::<_, sd_core::Error>((sd.to_json()?, domain::to_stored(&secrets)))
    })();
    let (sd_json, stored) = match made {
        Ok(x) => x,
        Err(e) => {
            return azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &e.to_string())
                .into_response();
        }
    };
    state.begin(
        SdOperationKind::Download,
        "The Security Domain is being confirmed.",
        app.clock.now_ms() + app.activation_delay.as_millis() as u64,
        Ok(stored),
    );
    if let Err(r) = app.save(&state) {
        return r.into_response();
    }
    accepted(&app, "/securitydomain/download/pending", query, json!({"value": sd_json}))
}

fn pending(app: &App, kind: SdOperationKind, pending_path: &str, query: Option<String>) -> Response {
    let state = match app.current() {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match &state.operation {
        Some(op) if op.kind == kind => {
            let status = match op.status {
                OperationStatus::InProgress => "InProgress",
                OperationStatus::Success => "Success",
                OperationStatus::Failed => "Failed",
            };
            let body = axum::Json(json!({"status": status, "status_details": op.details}));
            (async_operation(app, pending_path, query.as_deref()), body).into_response()
        }
        _ => azure_error(StatusCode::NOT_FOUND, "NotFound", "No such security domain operation on this HSM.")
            .into_response(),
    }
}

/// `GET /securitydomain/download/pending`.
pub async fn download_pending(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    pending(&app, SdOperationKind::Download, "/securitydomain/download/pending", query)
}

/// `GET /securitydomain/upload/pending`.
pub async fn upload_pending(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    pending(&app, SdOperationKind::Upload, "/securitydomain/upload/pending", query)
}

/// `GET /securitydomain/upload`: the exchange key, as the real service sends it.
pub async fn transfer_key(State(app): State<Arc<App>>) -> Response {
    let state = match app.current() {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let body = Certificate::from_pem_or_der(state.transfer_cert_pem.as_bytes())
        .and_then(|c| transfer_key::response_json(&c));
    match body {
        Ok(b) => ([(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], b).into_response(),
        Err(e) => {
            azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &e.to_string()).into_response()
        }
    }
}

#[derive(Deserialize)]
struct UploadBody {
    value: String,
}

/// `POST /securitydomain/upload`: recover from a restore blob.
pub async fn upload(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let Ok(UploadBody { value }) = serde_json::from_slice::<UploadBody>(&body) else {
        return bad_request("The body must be {\"value\": \"<restore blob JSON>\"}.");
    };
    let blob = match RestoreBlob::parse(value.as_bytes()) {
        Ok(b) => b,
        Err(e) => return bad_request(&e.to_string()),
    };
    let mut state = match without_security_domain(&app, "restored") {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    // Decrypt and verify now; report the outcome after the activation delay.
    let outcome = (|| {
        let cert =
            Certificate::from_pem_or_der(state.transfer_cert_pem.as_bytes()).map_err(|e| e.to_string())?;
        if blob.exchange_x5t_s256() != cert.x5t_s256() {
            return Err(format!(
                "The restore blob is wrapped to exchange key {}, not this HSM's ({}).",
                blob.exchange_x5t_s256(),
                cert.x5t_s256()
            ));
        }
        let key = private_key::from_pem(&state.transfer_key_pem, None).map_err(|e| e.to_string())?;
        let secrets = blob.open(&key).map_err(|e| format!("The restore blob does not open: {e}"))?;
        Ok(domain::to_stored(&secrets))
    })();
    state.begin(
        SdOperationKind::Upload,
        "The Security Domain is being restored.",
        app.clock.now_ms() + app.activation_delay.as_millis() as u64,
        outcome,
    );
    if let Err(r) = app.save(&state) {
        return r.into_response();
    }
    accepted(
        &app,
        "/securitydomain/upload/pending",
        query,
        json!({"status": "InProgress", "status_details": "The Security Domain is being restored."}),
    )
}
