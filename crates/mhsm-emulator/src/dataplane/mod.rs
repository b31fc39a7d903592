//! The HTTP routes, one module per area of the data plane, and the one table
//! that registers them. Each route is declared with the data action a
//! caller's role must grant and the scope it applies at, so a request either
//! matches a declared route and passes its role check, or matches none and is
//! refused (404): there is no second table to fall out of step with the
//! router. `mhsm-emulator --list-routes` prints the same table.

mod aes_modes;
pub mod app;
pub mod backup_restore;
pub mod domain;
pub mod full_backup;
pub mod key_material;
mod keys;
mod rbac;
pub mod roles;
mod security_domain;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};

use app::App;
use roles::*;

use crate::error::{ApiError, azure_error};
use crate::pipeline::{Principal, pipeline};

/// Where a route's action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole HSM (`/`).
    Hsm,
    /// All keys (`/keys`).
    Keys,
    /// The key the path names (`/keys/{name}`), from its second segment.
    Key,
}

/// What a route's caller must be granted.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// This data action.
    Fixed(&'static str),
    /// The key operation the path's last segment names (encrypt, sign...).
    KeyOperation,
}

/// A route's guard: its action, and where it applies.
#[derive(Debug, Clone, Copy)]
pub struct Guard {
    /// The data action.
    pub action: Action,
    /// Its scope.
    pub scope: Scope,
}

/// The methods the data plane answers.
#[derive(Debug, Clone, Copy)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Verb {
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// What routes are declared into: the router, or the printed listing.
trait Declare {
    fn route<H, T>(&mut self, verb: Verb, path: &str, guard: Guard, handler: H)
    where
        H: Handler<T, Arc<App>>,
        T: 'static;
}

const fn hsm(action: &'static str) -> Guard {
    Guard { action: Action::Fixed(action), scope: Scope::Hsm }
}
const fn keys(action: &'static str) -> Guard {
    Guard { action: Action::Fixed(action), scope: Scope::Keys }
}
const fn key(action: &'static str) -> Guard {
    Guard { action: Action::Fixed(action), scope: Scope::Key }
}
const KEY_OPERATION: Guard = Guard { action: Action::KeyOperation, scope: Scope::Key };

/// Every data-plane route, with its guard.
fn declare(d: &mut impl Declare) {
    use Verb::*;
    d.route(Post, "/securitydomain/download", hsm(SD_DOWNLOAD), security_domain::download);
    d.route(
        Get,
        "/securitydomain/download/pending",
        hsm(SD_DOWNLOAD_READ),
        security_domain::download_pending,
    );
    d.route(Get, "/securitydomain/upload", hsm(SD_TRANSFER_KEY), security_domain::transfer_key);
    d.route(Post, "/securitydomain/upload", hsm(SD_UPLOAD), security_domain::upload);
    d.route(Get, "/securitydomain/upload/pending", hsm(SD_UPLOAD_READ), security_domain::upload_pending);
    d.route(Get, "/keys", keys(KEYS_READ), keys::list);
    d.route(Post, "/keys/restore", keys(KEYS_RESTORE), keys::restore);
    d.route(Get, "/keys/{name}", key(KEYS_READ), keys::get_latest);
    d.route(Put, "/keys/{name}", key(KEYS_IMPORT), keys::import);
    d.route(Patch, "/keys/{name}", key(KEYS_WRITE), keys::update_latest);
    d.route(Delete, "/keys/{name}", key(KEYS_DELETE), keys::delete);
    d.route(Get, "/keys/{name}/", key(KEYS_READ), keys::get_latest);
    d.route(Patch, "/keys/{name}/", key(KEYS_WRITE), keys::update_latest);
    d.route(Get, "/keys/{name}/versions", key(KEYS_READ), keys::versions);
    d.route(Post, "/keys/{name}/create", key(KEYS_CREATE), keys::create);
    d.route(Post, "/keys/{name}/backup", key(KEYS_BACKUP), keys::backup);
    d.route(Get, "/keys/{name}/{version}", key(KEYS_READ), keys::get_version);
    d.route(Patch, "/keys/{name}/{version}", key(KEYS_WRITE), keys::update_version);
    // POST /keys/{name}/{operation}: an operation with the latest version.
    d.route(Post, "/keys/{name}/{version}", KEY_OPERATION, keys::operate_latest);
    d.route(Post, "/keys/{name}/{version}/{operation}", KEY_OPERATION, keys::operate);
    d.route(Get, "/deletedkeys", keys(DELETED_KEYS_READ), keys::list_deleted);
    d.route(Get, "/deletedkeys/{name}", keys(DELETED_KEYS_READ), keys::get_deleted);
    d.route(Delete, "/deletedkeys/{name}", key(DELETED_KEYS_PURGE), keys::purge);
    d.route(Post, "/deletedkeys/{name}/recover", key(DELETED_KEYS_RECOVER), keys::recover);
    d.route(Post, "/rng", hsm(RNG), keys::rng);
    // Full backup and restore through a storage container (Administrator, Backup/Restore User).
    d.route(Post, "/backup", hsm(BACKUP_START), backup_restore::backup);
    d.route(Post, "/prebackup", hsm(BACKUP_START), backup_restore::prebackup);
    d.route(Get, "/backup/{job}/pending", hsm(BACKUP_STATUS), backup_restore::backup_pending);
    d.route(Put, "/restore", hsm(RESTORE_START), backup_restore::restore);
    d.route(Put, "/prerestore", hsm(RESTORE_START), backup_restore::prerestore);
    d.route(Put, "/keys/{name}/restore", hsm(RESTORE_START), backup_restore::restore_key);
    d.route(Get, "/restore/{job}/pending", hsm(RESTORE_STATUS), backup_restore::restore_pending);
    // Role management, at every scope (`/`, `/keys`, `/keys/{name}`); its actions are the HSM's.
    for scope in ["", "/keys", "/keys/{scope_key}"] {
        let base = format!("{scope}/providers/Microsoft.Authorization");
        let definitions = format!("{base}/roleDefinitions");
        let assignments = format!("{base}/roleAssignments");
        d.route(Get, &definitions, hsm(ROLE_DEFINITIONS_READ), rbac::list_definitions);
        d.route(
            Get,
            &format!("{definitions}/{{definition}}"),
            hsm(ROLE_DEFINITIONS_READ),
            rbac::get_definition,
        );
        d.route(Get, &assignments, hsm(ROLE_ASSIGNMENTS_READ), rbac::list_assignments);
        let one = format!("{assignments}/{{assignment}}");
        d.route(Get, &one, hsm(ROLE_ASSIGNMENTS_READ), rbac::get_assignment);
        d.route(Put, &one, hsm(ROLE_ASSIGNMENTS_WRITE), rbac::create_assignment);
        d.route(Delete, &one, hsm(ROLE_ASSIGNMENTS_DELETE), rbac::delete_assignment);
    }
}

/// Declares into an axum router, each route behind its guard.
struct RouterSink {
    app: Arc<App>,
    router: Router<Arc<App>>,
}

impl Declare for RouterSink {
    fn route<H, T>(&mut self, verb: Verb, path: &str, guard: Guard, handler: H)
    where
        H: Handler<T, Arc<App>>,
        T: 'static,
    {
        let guarded = on(verb.filter(), handler)
            .route_layer(axum::middleware::from_fn_with_state((self.app.clone(), guard), authorize));
        self.router = std::mem::take(&mut self.router).route(path, guarded);
    }
}

/// Declares into lines of text: method, path, action, scope.
struct Listing(Vec<String>);

impl Declare for Listing {
    fn route<H, T>(&mut self, verb: Verb, path: &str, guard: Guard, _handler: H)
    where
        H: Handler<T, Arc<App>>,
        T: 'static,
    {
        let action = match guard.action {
            Action::Fixed(a) => a,
            Action::KeyOperation => "keys/{encrypt,decrypt,wrap,unwrap,sign,verify,release}/action",
        };
        let scope = match guard.scope {
            Scope::Hsm => "/",
            Scope::Keys => "/keys",
            Scope::Key => "/keys/{name}",
        };
        self.0.push(format!("{:<6} {path}  {action}  at {scope}", verb.name()));
    }
}

/// Every data-plane route as `METHOD PATH  ACTION  at SCOPE`, one a line.
pub fn listing() -> Vec<String> {
    let mut l = Listing(Vec::new());
    declare(&mut l);
    l.0
}

/// The data action and scope a request needs under `guard`, or a 404 for a
/// key operation Key Vault does not have.
fn needs(guard: Guard, path: &str) -> Result<(&'static str, String), ApiError> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let action = match guard.action {
        Action::Fixed(a) => a,
        Action::KeyOperation => {
            let op = segments.last().copied().unwrap_or_default();
            key_operation(op).ok_or_else(|| {
                azure_error(StatusCode::NOT_FOUND, "NotFound", &format!("No key operation named {op:?}."))
            })?
        }
    };
    let scope = match guard.scope {
        Scope::Hsm => "/".to_owned(),
        Scope::Keys => "/keys".to_owned(),
        Scope::Key => format!("/keys/{}", segments.get(2).copied().unwrap_or_default()),
    };
    Ok((action, scope))
}

/// A route's guard at work: the caller's roles must grant its action at its
/// scope; before activation only the security domain may be used.
async fn authorize(State((app, guard)): State<(Arc<App>, Guard)>, req: Request, next: Next) -> Response {
    let Some(Principal(principal)) = req.extensions().get::<Principal>().cloned() else {
        // check_request runs first on every route; without it nobody is anybody.
        return azure_error(StatusCode::UNAUTHORIZED, "Unauthorized", "No caller.").into_response();
    };
    let (action, scope) = match needs(guard, req.uri().path()) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let verdict = app.current().map(|s| {
        let usable = s.activation == state::Activation::Active || action.starts_with("securitydomain/");
        (usable, permits(&s.assignments, &principal, action, &scope))
    });
    match verdict {
        Ok((false, _)) => azure_error(
            StatusCode::FORBIDDEN,
            "HSMNotActivated",
            "The HSM is not activated; download or upload its security domain first.",
        )
        .into_response(),
        Ok((true, false)) => azure_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "Caller is not authorized to perform action on resource. Caller: oid={principal}; \
                 Action: 'Microsoft.KeyVault/managedHsm/{action}'; Resource: '{scope}'"
            ),
        )
        .into_response(),
        Ok((true, true)) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// Every route, behind the token and api-version checks and its own guard;
/// anything else is a 404.
pub fn router(app: Arc<App>) -> Router {
    let mut sink = RouterSink { app: app.clone(), router: Router::new() };
    declare(&mut sink);
    sink.router
        .fallback(|| async {
            azure_error(StatusCode::NOT_FOUND, "NotFound", "No such endpoint in the emulator.")
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), pipeline::<App>))
        .with_state(app)
}
