//! `/keys/*`: just enough of the Key Vault key API to prove a recovery:
//! AES-256 `oct-HSM` keys, A256GCM encrypt/decrypt, backup and restore.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use sd_core::{aead, b64};

use crate::app::{ApiError, App, azure_error, now_ms};
use crate::domain;
use crate::state::{Activation, State as HsmState, StoredKey};

const DEFAULT_OPS: [&str; 4] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];

fn bad(message: &str) -> Response {
    azure_error(StatusCode::BAD_REQUEST, "BadParameter", message).into_response()
}

fn not_found(name: &str) -> Response {
    azure_error(
        StatusCode::NOT_FOUND,
        "KeyNotFound",
        &format!("A key with (name/id) {name} was not found in this key vault."),
    )
    .into_response()
}

fn active(app: &App) -> Result<std::sync::MutexGuard<'_, HsmState>, ApiError> {
    let state = app.lock()?;
    if state.activation != Activation::Active {
        return Err(azure_error(
            StatusCode::FORBIDDEN,
            "HSMNotActivated",
            "The HSM is not activated; download or upload its security domain first.",
        ));
    }
    Ok(state)
}

fn bundle(app: &App, key: &StoredKey) -> Value {
    json!({
        "key": {
            "kid": format!("{}/keys/{}/{}", app.base_url, key.name, key.version),
            "kty": key.kty,
            "key_ops": key.key_ops,
        },
        "attributes": {
            "enabled": true,
            "created": key.created,
            "updated": key.created,
            "recoveryLevel": "Recoverable+Purgeable",
            "exportable": false,
        },
    })
}

#[derive(Deserialize)]
struct CreateBody {
    kty: String,
    #[serde(default)]
    key_size: Option<u32>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
}

/// `POST /keys/{name}/create`.
pub async fn create(State(app): State<Arc<App>>, Path(name): Path<String>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<CreateBody>(&body) else {
        return bad("The body must be a JSON key-creation request.");
    };
    if req.kty != "oct-HSM" || req.key_size.unwrap_or(256) != 256 {
        return bad("The emulator creates only oct-HSM keys of 256 bits.");
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return bad("Key names are 1-127 characters of 0-9, a-z, A-Z and -.");
    }
    let mut state = match active(&app) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let mut k = [0u8; 32];
    let mut v = [0u8; 16];
    if getrandom::fill(&mut k).and(getrandom::fill(&mut v)).is_err() {
        return azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "RNG failure")
            .into_response();
    }
    let key = StoredKey {
        name: name.clone(),
        version: sd_core::hex_lower(&v),
        kty: "oct-HSM".into(),
        k: b64::url_encode(&k),
        key_ops: req.key_ops.unwrap_or_else(|| DEFAULT_OPS.iter().map(|s| s.to_string()).collect()),
        created: now_ms() / 1000,
    };
    zeroize::Zeroize::zeroize(&mut k);
    state.keys.insert(name, key.clone());
    if let Err(r) = app.save(&state) {
        return r.into_response();
    }
    axum::Json(bundle(&app, &key)).into_response()
}

/// `GET /keys/{name}`.
pub async fn get(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    let state = match active(&app) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match state.keys.get(&name) {
        Some(k) => axum::Json(bundle(&app, k)).into_response(),
        None => not_found(&name),
    }
}

#[derive(Deserialize)]
struct CryptBody {
    alg: String,
    value: String,
    #[serde(default)]
    iv: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    aad: Option<String>,
}

/// `POST /keys/{name}/{encrypt|decrypt}` (no version: the latest).
pub async fn operate_latest(
    State(app): State<Arc<App>>,
    Path((name, operation)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    run_operation(&app, &name, None, &operation, &body)
}

/// `POST /keys/{name}/{version}/{encrypt|decrypt}`.
pub async fn operate(
    State(app): State<Arc<App>>,
    Path((name, version, operation)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    run_operation(&app, &name, Some(&version), &operation, &body)
}

fn run_operation(app: &App, name: &str, version: Option<&str>, operation: &str, body: &[u8]) -> Response {
    if operation != "encrypt" && operation != "decrypt" {
        return azure_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The emulator supports encrypt and decrypt only.",
        )
        .into_response();
    }
    let Ok(req) = serde_json::from_slice::<CryptBody>(body) else {
        return bad("The body must be a JSON key-operation request.");
    };
    if req.alg != "A256GCM" {
        return bad("The emulator supports the A256GCM algorithm only.");
    }
    let state = match active(app) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let Some(key) = state.keys.get(name).filter(|k| version.is_none_or(|v| v.is_empty() || v == k.version))
    else {
        return not_found(name);
    };
    if !key.key_ops.iter().any(|o| o == operation) {
        return azure_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("Operation {operation} is not permitted on this key."),
        )
        .into_response();
    }
    let kid = format!("{}/keys/{}/{}", app.base_url, key.name, key.version);
    let decode = |s: &str, what: &'static str| b64::url_decode(s, what);
    let result = (|| {
        let k = zeroize::Zeroizing::new(decode(&key.k, "key")?);
        let aad = req.aad.as_deref().map(|a| decode(a, "aad")).transpose()?.unwrap_or_default();
        let value = decode(&req.value, "value")?;
        if operation == "encrypt" {
            let sealed = aead::seal(&mut getrandom::SysRng, &k, &aad, &value)?;
            Ok(json!({
                "kid": kid,
                "value": b64::url_encode(&sealed.ciphertext),
                "iv": b64::url_encode(&sealed.iv),
                "tag": b64::url_encode(&sealed.tag),
            }))
        } else {
            let iv = decode(req.iv.as_deref().unwrap_or_default(), "iv")?;
            let tag = decode(req.tag.as_deref().unwrap_or_default(), "tag")?;
            let plain = aead::open(&k, &iv, &aad, &value, &tag)?;
            Ok(json!({"kid": kid, "value": b64::url_encode(plain.expose())}))
        }
    })();
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e @ sd_core::Error::JweIntegrity) => bad(&format!("Decryption failed: {e}")),
        Err(e) => bad(&e.to_string()),
    }
}

/// `POST /keys/{name}/backup`: protected by the security domain's backup key.
pub async fn backup(State(app): State<Arc<App>>, Path(name): Path<String>) -> Response {
    let state = match active(&app) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let Some(key) = state.keys.get(&name) else {
        return not_found(&name);
    };
    let Some(bpk) = state.domain.as_deref().and_then(domain::backup_protection_key) else {
        return azure_error(
            StatusCode::CONFLICT,
            "Conflict",
            "This security domain has no backup protection key the emulator can use.",
        )
        .into_response();
    };
    match domain::backup(key, &bpk) {
        Ok(value) => axum::Json(json!({"value": value})).into_response(),
        Err(e) => {
            azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", &e.to_string()).into_response()
        }
    }
}

#[derive(Deserialize)]
struct RestoreBody {
    value: String,
}

/// `POST /keys/restore`: only a backup made under the same security domain opens.
pub async fn restore(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<RestoreBody>(&body) else {
        return bad("The body must be {\"value\": \"<key backup>\"}.");
    };
    let mut state = match active(&app) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let Some(bpk) = state.domain.as_deref().and_then(domain::backup_protection_key) else {
        return azure_error(
            StatusCode::CONFLICT,
            "Conflict",
            "This security domain has no backup protection key the emulator can use.",
        )
        .into_response();
    };
    let key = match domain::restore(&req.value, &bpk) {
        Ok(k) => k,
        Err(e) => {
            return bad(&format!("The backup does not belong to this HSM's security domain ({e})."));
        }
    };
    if state.keys.contains_key(&key.name) {
        return azure_error(
            StatusCode::CONFLICT,
            "Conflict",
            &format!("A key named {} already exists.", key.name),
        )
        .into_response();
    }
    state.keys.insert(key.name.clone(), key.clone());
    if let Err(r) = app.save(&state) {
        return r.into_response();
    }
    axum::Json(bundle(&app, &key)).into_response()
}
