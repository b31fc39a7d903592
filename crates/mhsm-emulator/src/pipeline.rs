//! The one request pipeline both planes use: a bearer token that names a
//! principal (else the plane's 401 challenge), then an `api-version` the
//! plane answers (else 400), then the route (whose guard, on the data plane,
//! checks the caller's role: 403), or no route (404). JSON answers say
//! `charset=utf-8`, as the real service's do.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, azure_error};

/// The content type of every JSON answer.
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// The principal a request's token belongs to, for the route's guard.
#[derive(Debug, Clone)]
pub struct Principal(pub String);

/// What a plane decides for the pipeline.
pub trait Gate: Send + Sync + 'static {
    /// The principal a bearer token belongs to, if any.
    fn principal(&self, token: &str) -> Option<String>;
    /// The 401 this plane answers without a valid token.
    fn challenge(&self, method: &Method) -> Response;
    /// Whether this plane answers api-version `version` (a known one).
    fn check_api_version(&self, version: &str) -> Result<(), ApiError>;
}

/// The api-version of a request's query, if it names one.
pub fn api_version(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "api-version")
        .map(|(_, v)| v.to_owned())
}

/// The pipeline, as an axum middleware over a plane's [`Gate`].
pub async fn pipeline<G: Gate>(State(gate): State<Arc<G>>, mut req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.is_empty());
    let Some(principal) = presented.and_then(|t| gate.principal(t)) else {
        return gate.challenge(req.method());
    };
    let checked = match api_version(req.uri().query()) {
        None => Err(azure_error(
            StatusCode::BAD_REQUEST,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )),
        Some(v) => gate.check_api_version(&v),
    };
    if let Err(e) = checked {
        return e.into_response();
    }
    // Who asked; each route's guard decides what they may do.
    req.extensions_mut().insert(Principal(principal));
    let mut resp = next.run(req).await;
    let is_json = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/json");
    if is_json {
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    }
    resp
}
