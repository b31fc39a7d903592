//! The JWS JSON serialization (RFC 7515 §7.2) as bundles carry it: the
//! flattened and general forms, and the protected header's members.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize, Deserialize)]
pub(super) struct Protected {
    pub(super) alg: String,
    pub(super) typ: String,
    pub(super) x5c: Vec<String>,
    #[serde(rename = "x5t#S256", default, skip_serializing_if = "Option::is_none")]
    pub(super) x5t_s256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) crit: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct SignatureJson {
    pub(super) protected: String,
    pub(super) signature: String,
    pub(super) header: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct BundleJson {
    pub(super) payload: String,
    pub(super) protected: Option<String>,
    pub(super) signature: Option<String>,
    pub(super) header: Option<Value>,
    pub(super) signatures: Option<Vec<SignatureJson>>,
}
