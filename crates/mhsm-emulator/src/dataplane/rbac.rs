//! `{scope}/providers/Microsoft.Authorization/roleDefinitions` and
//! `…/roleAssignments`: local RBAC as a Managed HSM answers it, at the
//! scopes `/`, `/keys` and `/keys/{name}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use azure_shapes::rbac::RoleAssignmentRequest;
use serde_json::json;

use super::app::App;
use super::roles::{self, Assignment};
use crate::error::{ApiError, azure_error};

type Reply = Result<Response, ApiError>;

/// The scope a request is about: what comes before `/providers/`.
fn scope_of(uri: &Uri) -> Result<String, ApiError> {
    let path = uri.path();
    let scope = path.split("/providers/").next().unwrap_or_default().trim_end_matches('/');
    let scope = if scope.is_empty() { "/".to_owned() } else { scope.to_owned() };
    if !roles::valid_scope(&scope) {
        return Err(azure_error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            &format!("The scope {scope:?} is not valid; use /, /keys or /keys/{{name}}."),
        ));
    }
    Ok(scope)
}

/// The last path segment: a role definition's or assignment's name (the
/// path's other parameters belong to the scope).
fn last_segment(uri: &Uri) -> String {
    uri.path().trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned()
}

/// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions`.
pub async fn list_definitions(uri: Uri) -> Reply {
    scope_of(&uri)?;
    let value: Vec<_> = roles::ROLES.iter().map(roles::definition_json).collect();
    Ok(axum::Json(json!({"value": value})).into_response())
}

/// `GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}`.
pub async fn get_definition(uri: Uri) -> Reply {
    scope_of(&uri)?;
    let id = last_segment(&uri);
    let role = roles::role(&id).filter(|r| r.id.eq_ignore_ascii_case(&id)).ok_or_else(|| {
        azure_error(
            StatusCode::NOT_FOUND,
            "RoleDefinitionNotFound",
            &format!("Role definition {id} was not found."),
        )
    })?;
    Ok(axum::Json(roles::definition_json(role)).into_response())
}

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments`: the
/// assignments at this scope and below.
pub async fn list_assignments(State(app): State<Arc<App>>, uri: Uri) -> Reply {
    let scope = scope_of(&uri)?;
    let state = app.current()?;
    let value: Vec<_> = state
        .assignments
        .iter()
        .filter(|a| scope == "/" || a.scope == scope || a.scope.starts_with(&format!("{scope}/")))
        .map(Assignment::json)
        .collect();
    Ok(axum::Json(json!({"value": value})).into_response())
}

fn assignment_not_found(name: &str) -> ApiError {
    azure_error(
        StatusCode::NOT_FOUND,
        "RoleAssignmentNotFound",
        &format!("Role assignment {name} was not found."),
    )
}

/// `GET {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
pub async fn get_assignment(State(app): State<Arc<App>>, uri: Uri) -> Reply {
    let scope = scope_of(&uri)?;
    let name = last_segment(&uri);
    let state = app.current()?;
    let a = state.assignments.iter().find(|a| a.name == name && a.scope == scope);
    Ok(axum::Json(a.ok_or_else(|| assignment_not_found(&name))?.json()).into_response())
}

/// `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}` → 201.
pub async fn create_assignment(State(app): State<Arc<App>>, uri: Uri, body: Bytes) -> Reply {
    let scope = scope_of(&uri)?;
    let name = last_segment(&uri);
    let bad = |m: &str| azure_error(StatusCode::BAD_REQUEST, "BadParameter", m);
    let req: RoleAssignmentRequest = serde_json::from_slice(&body).map_err(|e| {
        bad(&format!("The body must be {{\"properties\": {{\"roleDefinitionId\", \"principalId\"}}}}: {e}."))
    })?;
    let role = roles::role(&req.properties.role_definition_id).ok_or_else(|| {
        bad(&format!("The role definition {} does not exist.", req.properties.role_definition_id))
    })?;
    let principal = req.properties.principal_id.trim();
    if principal.is_empty() || !principal.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(bad("principalId must be an object ID (a GUID)."));
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(bad("The role assignment name must be a GUID."));
    }
    let mut state = app.current()?;
    if state.assignments.iter().any(|a| a.name == name) {
        return Err(azure_error(
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        ));
    }
    let a = Assignment { name, scope, role_id: role.id.to_owned(), principal_id: principal.to_owned() };
    let body = a.json();
    state.assignments.push(a);
    app.save(&state)?;
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

/// `DELETE {scope}/providers/Microsoft.Authorization/roleAssignments/{name}` → 200 with what was deleted.
pub async fn delete_assignment(State(app): State<Arc<App>>, uri: Uri) -> Reply {
    let scope = scope_of(&uri)?;
    let name = last_segment(&uri);
    let mut state = app.current()?;
    let i = state
        .assignments
        .iter()
        .position(|a| a.name == name && a.scope == scope)
        .ok_or_else(|| assignment_not_found(&name))?;
    let a = state.assignments.remove(i);
    app.save(&state)?;
    Ok(axum::Json(a.json()).into_response())
}
