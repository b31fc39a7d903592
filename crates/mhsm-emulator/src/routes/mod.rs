//! The HTTP routes, one module per area of the data plane.

pub mod keys;
pub mod security_domain;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::app::{App, check_request};

/// Every route, behind the token and api-version checks.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/securitydomain/download", post(security_domain::download))
        .route("/securitydomain/download/pending", get(security_domain::download_pending))
        .route("/securitydomain/upload", get(security_domain::transfer_key).post(security_domain::upload))
        .route("/securitydomain/upload/pending", get(security_domain::upload_pending))
        .route("/keys/restore", post(keys::restore))
        .route("/keys/{name}", get(keys::get))
        .route("/keys/{name}/create", post(keys::create))
        .route("/keys/{name}/backup", post(keys::backup))
        .route("/keys/{name}/{operation}", post(keys::operate_latest))
        .route("/keys/{name}/{version}/{operation}", post(keys::operate))
        .fallback(|| async {
            crate::app::azure_error(
                axum::http::StatusCode::NOT_FOUND,
                "NotFound",
                "No such endpoint in the emulator.",
            )
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), check_request))
        .with_state(app)
}
