//! `/keys/*`, `/deletedkeys/*` and `/rng`: the Key Vault key API as a
//! Managed HSM answers it (bodies, status codes and attributes as recorded
//! from real HSMs). The keys themselves are in [`super::key_material`]; who may call
//! what was decided before the request got here ([`super::roles`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use sd_core::primitives::b64;

use super::app::App;
use super::domain;
use super::key_material::{self, KeyError, OperationRequest, RECOVERABLE_DAYS, StoredKey};
use super::state::{Activation, HsmState};
use crate::error::{ApiError, azure_error};

type Reply = Result<Response, ApiError>;

fn bad(message: &str) -> ApiError {
    azure_error(StatusCode::BAD_REQUEST, "BadParameter", message)
}

fn not_found(name: &str) -> ApiError {
    azure_error(
        StatusCode::NOT_FOUND,
        "KeyNotFound",
        &format!("A key with (name/id) {name} was not found in this key vault."),
    )
}

fn deleted_not_found(name: &str) -> ApiError {
    azure_error(StatusCode::NOT_FOUND, "KeyNotFound", &format!("Deleted Key not found: {name}"))
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> ApiError {
        match e {
            KeyError::BadParameter(m) => bad(&m),
            KeyError::OperationNotAllowed(m) => azure_error(StatusCode::FORBIDDEN, "Forbidden", &m),
        }
    }
}

fn json(v: Value) -> Reply {
    Ok(axum::Json(v).into_response())
}

/// The state, for an active HSM only (a real one refuses keys before activation).
pub(super) fn active(app: &App) -> Result<std::sync::MutexGuard<'_, HsmState>, ApiError> {
    let state = app.current()?;
    if state.activation != Activation::Active {
        return Err(azure_error(
            StatusCode::FORBIDDEN,
            "HSMNotActivated",
            "The HSM is not activated; download or upload its security domain first.",
        ));
    }
    Ok(state)
}

fn valid_name(name: &str) -> Result<(), ApiError> {
    if name.parse::<azure_shapes::KeyName>().is_err() {
        return Err(bad("Key names are 1-127 characters of 0-9, a-z, A-Z and -."));
    }
    Ok(())
}

fn parse<T: for<'a> Deserialize<'a>>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| bad(&format!("The body must be a JSON {what}: {e}.")))
}

/// Adds a version to `name` (refused while a deleted key of that name exists).
fn store(app: &App, state: &mut HsmState, key: StoredKey) -> Reply {
    if state.deleted_keys.contains_key(&key.name) {
        return Err(azure_error(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Key {} is currently in a deleted but recoverable state; recover or purge it first.",
                key.name
            ),
        ));
    }
    let body = key.bundle(&app.base_url);
    state.keys.entry(key.name.clone()).or_default().push(key);
    app.save(state)?;
    json(body)
}

/// `POST /keys/{name}/create`.
pub async fn create(State(app): State<Arc<App>>, Path(name): Path<String>, body: Bytes) -> Reply {
    valid_name(&name)?;
    let req: key_material::CreateRequest = parse(&body, "key-creation request")?;
    let mut state = active(&app)?;
    let key = key_material::create(&name, &req, app.clock.now())?;
    store(&app, &mut state, key)
}

#[derive(Deserialize)]
struct ImportBody {
    key: Value,
    attributes: Option<key_material::Attributes>,
}

/// `PUT /keys/{name}`: import a key (kept in the HSM, never exportable).
pub async fn import(State(app): State<Arc<App>>, Path(name): Path<String>, body: Bytes) -> Reply {
    valid_name(&name)?;
    let req: ImportBody = parse(&body, "key-import request")?;
    let mut state = active(&app)?;
    let enabled = req.attributes.and_then(|a| a.enabled).unwrap_or(true);
    let key = key_material::import(&name, &req.key, enabled, app.clock.now())?;
    store(&app, &mut state, key)
}

/// `GET /keys/{name}` (also with a trailing slash).
pub async fn get_latest(State(app): State<Arc<App>>, Path(name): Path<String>) -> Reply {
    get_version(State(app), Path((name, String::new()))).await
}

/// `GET /keys/{name}/{version}`.
pub async fn get_version(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
) -> Reply {
    let state = active(&app)?;
    let key = state.version(&name, &version).ok_or_else(|| not_found(&name))?;
    json(key.bundle(&app.base_url))
}

/// `GET /keys`: the latest version of every key.
pub async fn list(State(app): State<Arc<App>>) -> Reply {
    let state = active(&app)?;
    let items: Vec<Value> =
        state.keys.values().filter_map(|v| v.last()).map(|k| k.list_item(&app.base_url)).collect();
    json(json!({"value": items}))
}

/// `GET /keys/{name}/versions`.
pub async fn versions(State(app): State<Arc<App>>, Path(name): Path<String>) -> Reply {
    let state = active(&app)?;
    let versions = state.keys.get(&name).ok_or_else(|| not_found(&name))?;
    let items: Vec<Value> = versions.iter().map(|k| k.version_item(&app.base_url)).collect();
    json(json!({"value": items}))
}

#[derive(Deserialize)]
struct UpdateBody {
    attributes: Option<key_material::Attributes>,
    key_ops: Option<Vec<String>>,
}

/// `PATCH /keys/{name}` (latest version, also with a trailing slash).
pub async fn update_latest(State(app): State<Arc<App>>, Path(name): Path<String>, body: Bytes) -> Reply {
    update_version(State(app), Path((name, String::new())), body).await
}

/// `PATCH /keys/{name}/{version}`: attributes and allowed operations.
pub async fn update_version(
    State(app): State<Arc<App>>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let req: UpdateBody = parse(&body, "key-update request")?;
    let mut state = active(&app)?;
    let versions = state.keys.get_mut(&name).ok_or_else(|| not_found(&name))?;
    let key = if version.is_empty() {
        versions.last_mut()
    } else {
        versions.iter_mut().find(|k| k.version == version)
    }
    .ok_or_else(|| not_found(&name))?;
    if let Some(enabled) = req.attributes.and_then(|a| a.enabled) {
        key.enabled = enabled;
    }
    if let Some(ops) = req.key_ops {
        key.key_ops = ops;
    }
    key.updated = app.clock.now();
    let body = key.bundle(&app.base_url);
    app.save(&state)?;
    json(body)
}

fn deleted_bundle(app: &App, name: &str, deleted: &key_material::DeletedKey) -> Option<Value> {
    let latest = deleted.versions.last()?;
    let mut v = latest.bundle(&app.base_url);
    v["recoveryId"] = json!(format!("{}/deletedkeys/{name}", app.base_url));
    v["deletedDate"] = json!(deleted.deleted);
    v["scheduledPurgeDate"] = json!(deleted.scheduled_purge);
    Some(v)
}

/// `DELETE /keys/{name}`: soft delete; recoverable for the retention period.
pub async fn delete(State(app): State<Arc<App>>, Path(name): Path<String>) -> Reply {
    let mut state = active(&app)?;
    let versions = state.keys.remove(&name).ok_or_else(|| not_found(&name))?;
    let deleted = key_material::DeletedKey {
        versions,
        deleted: app.clock.now(),
        scheduled_purge: app.clock.now() + RECOVERABLE_DAYS * 86_400,
    };
    let body = deleted_bundle(&app, &name, &deleted).ok_or_else(|| not_found(&name))?;
    state.deleted_keys.insert(name, deleted);
    app.save(&state)?;
    json(body)
}

/// `GET /deletedkeys`.
pub async fn list_deleted(State(app): State<Arc<App>>) -> Reply {
    let state = active(&app)?;
    let items: Vec<Value> = state
        .deleted_keys
        .iter()
        .filter_map(|(name, d)| {
            let mut v = deleted_bundle(&app, name, d)?;
            let item = json!({
                "kid": format!("{}/keys/{name}", app.base_url),
                "attributes": v["attributes"].take(),
                "recoveryId": v["recoveryId"].take(),
                "deletedDate": d.deleted,
                "scheduledPurgeDate": d.scheduled_purge,
            });
            Some(item)
        })
        .collect();
    json(json!({"value": items}))
}

/// `GET /deletedkeys/{name}`.
pub async fn get_deleted(State(app): State<Arc<App>>, Path(name): Path<String>) -> Reply {
    let state = active(&app)?;
    let deleted = state.deleted_keys.get(&name).ok_or_else(|| deleted_not_found(&name))?;
    json(deleted_bundle(&app, &name, deleted).ok_or_else(|| deleted_not_found(&name))?)
}

/// `DELETE /deletedkeys/{name}`: purge, for good (204, empty body).
pub async fn purge(State(app): State<Arc<App>>, Path(name): Path<String>) -> Reply {
    let mut state = active(&app)?;
    state.deleted_keys.remove(&name).ok_or_else(|| deleted_not_found(&name))?;
    app.save(&state)?;
    // As recorded: 204 with a JSON content type and no body.
    Ok((StatusCode::NO_CONTENT, [(axum::http::header::CONTENT_TYPE, crate::pipeline::JSON_UTF8)])
        .into_response())
}

/// `POST /deletedkeys/{name}/recover`.
pub async fn recover(State(app): State<Arc<App>>, Path(name): Path<String>) -> Reply {
    let mut state = active(&app)?;
    let deleted = state.deleted_keys.remove(&name).ok_or_else(|| deleted_not_found(&name))?;
    let body =
        deleted.versions.last().map(|k| k.bundle(&app.base_url)).ok_or_else(|| deleted_not_found(&name))?;
    state.keys.insert(name, deleted.versions);
    app.save(&state)?;
    json(body)
}

/// `POST /keys/{name}/{operation}` (the latest version).
pub async fn operate_latest(
    State(app): State<Arc<App>>,
    Path((name, operation)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    run_operation(&app, &name, "", &operation, &body)
}

/// `POST /keys/{name}/{version}/{operation}`.
pub async fn operate(
    State(app): State<Arc<App>>,
    Path((name, version, operation)): Path<(String, String, String)>,
    body: Bytes,
) -> Reply {
    run_operation(&app, &name, &version, &operation, &body)
}

/// The operations, by their path segment (the REST API spells `wrapkey` and
/// `unwrapkey` in lower case; camel case is taken too) and their `key_ops` name.
const OPERATIONS: [(&str, &str); 6] = [
    ("encrypt", "encrypt"),
    ("decrypt", "decrypt"),
    ("wrapkey", "wrapKey"),
    ("unwrapkey", "unwrapKey"),
    ("sign", "sign"),
    ("verify", "verify"),
];

fn run_operation(app: &App, name: &str, version: &str, segment: &str, body: &[u8]) -> Reply {
    let lower = segment.to_ascii_lowercase();
    let Some(&(_, operation)) = OPERATIONS.iter().find(|(path, _)| *path == lower) else {
        return Err(azure_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("No key operation {segment:?}."),
        ));
    };
    let req: OperationRequest = parse(body, "key-operation request")?;
    let state = active(app)?;
    let key = state.version(name, version).ok_or_else(|| not_found(name))?;
    json(key.operate(&app.base_url, operation, &req)?)
}

/// The backup protection key of the security domain the HSM holds.
fn backup_key(state: &HsmState) -> Result<sd_core::primitives::secret::SecretBytes, ApiError> {
    state.domain.as_deref().and_then(domain::backup_protection_key).ok_or_else(|| {
        azure_error(
            StatusCode::CONFLICT,
            "Conflict",
            "This security domain has no backup protection key the emulator can use.",
        )
    })
}

/// `POST /keys/{name}/backup`: every version, protected by the security domain.
pub async fn backup(State(app): State<Arc<App>>, Path(name): Path<String>) -> Reply {
    let state = active(&app)?;
    let versions = state.keys.get(&name).ok_or_else(|| not_found(&name))?;
    let value = domain::backup(versions, &backup_key(&state)?)
        .map_err(|e| azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &e.to_string()))?;
    json(json!({"value": value}))
}

#[derive(Deserialize)]
struct RestoreBody {
    value: String,
}

/// `POST /keys/restore`: only a backup made under the same security domain opens.
pub async fn restore(State(app): State<Arc<App>>, body: Bytes) -> Reply {
    let req: RestoreBody = parse(&body, "{\"value\": \"<key backup>\"}")?;
    let mut state = active(&app)?;
    let versions = domain::restore(&req.value, &backup_key(&state)?)
        .map_err(|e| bad(&format!("The backup does not belong to this HSM's security domain ({e}).")))?;
    let name = versions[0].name.clone();
    if state.keys.contains_key(&name) || state.deleted_keys.contains_key(&name) {
        return Err(azure_error(
            StatusCode::CONFLICT,
            "Conflict",
            &format!("A key named {name} already exists."),
        ));
    }
    let body = versions.last().map(|k| k.bundle(&app.base_url)).unwrap_or_default();
    state.keys.insert(name, versions);
    app.save(&state)?;
    json(body)
}

#[derive(Deserialize)]
struct RngBody {
    count: usize,
}

/// `POST /rng`: random bytes from the HSM (1 to 128).
pub async fn rng(State(app): State<Arc<App>>, body: Bytes) -> Reply {
    let req: RngBody = parse(&body, "{\"count\": N}")?;
    drop(active(&app)?);
    if !(1..=128).contains(&req.count) {
        return Err(bad("count must be 1 to 128."));
    }
    let mut bytes = vec![0u8; req.count];
    getrandom::fill(&mut bytes)
        .map_err(|_| azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "RNG failure"))?;
    json(json!({"value": b64::url_encode(&bytes)}))
}
