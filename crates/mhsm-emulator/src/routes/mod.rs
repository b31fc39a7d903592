//! The HTTP routes, one module per area of the data plane.

pub mod arm;
pub mod keys;
pub mod rbac;
pub mod security_domain;

use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodRouter, get, post};

use crate::app::{App, check_request};

/// Role management, mounted at every scope (`/`, `/keys`, `/keys/{name}`).
fn with_rbac(mut router: Router<Arc<App>>) -> Router<Arc<App>> {
    let definitions: MethodRouter<Arc<App>> = get(rbac::list_definitions);
    let definition: MethodRouter<Arc<App>> = get(rbac::get_definition);
    let assignments: MethodRouter<Arc<App>> = get(rbac::list_assignments);
    let assignment: MethodRouter<Arc<App>> =
        get(rbac::get_assignment).put(rbac::create_assignment).delete(rbac::delete_assignment);
    for scope in ["", "/keys", "/keys/{scope_key}"] {
        let base = format!("{scope}/providers/Microsoft.Authorization");
        router = router
            .route(&format!("{base}/roleDefinitions"), definitions.clone())
            .route(&format!("{base}/roleDefinitions/{{definition}}"), definition.clone())
            .route(&format!("{base}/roleAssignments"), assignments.clone())
            .route(&format!("{base}/roleAssignments/{{assignment}}"), assignment.clone());
    }
    router
}

/// Every route, behind the token, api-version and role checks.
pub fn router(app: Arc<App>) -> Router {
    let router = Router::new()
        .route("/securitydomain/download", post(security_domain::download))
        .route("/securitydomain/download/pending", get(security_domain::download_pending))
        .route("/securitydomain/upload", get(security_domain::transfer_key).post(security_domain::upload))
        .route("/securitydomain/upload/pending", get(security_domain::upload_pending))
        .route("/keys", get(keys::list))
        .route("/keys/restore", post(keys::restore))
        .route(
            "/keys/{name}",
            get(keys::get_latest).put(keys::import).patch(keys::update_latest).delete(keys::delete),
        )
        .route("/keys/{name}/", get(keys::get_latest).patch(keys::update_latest))
        .route("/keys/{name}/versions", get(keys::versions))
        .route("/keys/{name}/create", post(keys::create))
        .route("/keys/{name}/backup", post(keys::backup))
        .route(
            "/keys/{name}/{version}",
            get(keys::get_version).patch(keys::update_version).post(keys::operate_latest),
        )
        .route("/keys/{name}/{version}/{operation}", post(keys::operate))
        .route("/deletedkeys", get(keys::list_deleted))
        .route("/deletedkeys/{name}", get(keys::get_deleted).delete(keys::purge))
        .route("/deletedkeys/{name}/recover", post(keys::recover))
        .route("/rng", post(keys::rng));
    with_rbac(router)
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
