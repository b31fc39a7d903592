//! The management plane's routes: Resource Manager's paths, status codes, `Location`
//! polling and error shape, each answered from the [`super::lifecycle`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

use super::lifecycle::{Arm, Reply, accepted};
use azure_shapes::managed_hsm::{ManagedHsmRequest, NameAvailability};

use super::model::{ManagedHsm, OperationKind, ResourceGroup};
use crate::error::{ApiError, azure_error as error, internal};
use crate::pipeline::{api_version, pipeline};

fn api(query: Option<&str>) -> String {
    api_version(query).unwrap_or_else(|| "2024-11-01".into())
}

/// A JSON request body, or ARM's 400 for one that is not what it should be.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            &format!("The request content was invalid: {e}"),
        )
    })
}

fn ok_json(status: StatusCode, v: Value) -> Reply {
    Ok((status, axum::Json(v)).into_response())
}

/// `PUT /subscriptions/{sub}/resourcegroups/{rg}`: 201 new, 200 existing.
async fn put_group(
    State(arm): State<Arc<Arm>>,
    Path((sub, rg)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    #[derive(Deserialize)]
    struct Body {
        location: String,
        tags: Option<Value>,
    }
    let req: Body = parse(&body)?;
    if rg.parse::<azure_shapes::ResourceGroup>().is_err() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidResourceGroup",
            &format!("The resource group name '{rg}' is invalid."),
        ));
    }
    let mut state = arm.current()?;
    let existed = state.resource_groups.contains_key(&rg.to_ascii_lowercase());
    let group = ResourceGroup {
        name: rg.clone(),
        location: req.location,
        tags: req.tags.unwrap_or(json!({})),
        deleting: false,
    };
    let body = group.json(&sub);
    state.resource_groups.insert(rg.to_ascii_lowercase(), group);
    arm.save(&state)?;
    ok_json(if existed { StatusCode::OK } else { StatusCode::CREATED }, body)
}

fn group_not_found(rg: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "ResourceGroupNotFound",
        &format!("Resource group '{rg}' could not be found."),
    )
}

/// `GET` (200) or `HEAD` (204) a resource group; 404 when absent.
async fn get_group(
    State(arm): State<Arc<Arm>>,
    method: Method,
    Path((sub, rg)): Path<(String, String)>,
) -> Reply {
    let state = arm.current()?;
    let group = state.resource_groups.get(&rg.to_ascii_lowercase()).ok_or_else(|| group_not_found(&rg))?;
    if method == Method::HEAD {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    ok_json(StatusCode::OK, group.json(&sub))
}

/// `DELETE` a resource group: 202, and what is in it is soft-deleted.
async fn delete_group(
    State(arm): State<Arc<Arm>>,
    Path((sub, rg)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Reply {
    let mut state = arm.current()?;
    let group =
        state.resource_groups.get_mut(&rg.to_ascii_lowercase()).ok_or_else(|| group_not_found(&rg))?;
    group.deleting = true;
    arm.begin(&mut state, OperationKind::DeleteResourceGroup, &rg, "", &sub, &api(query.as_deref()))
}

/// A route's named segments (for handlers serving routes of several shapes).
type Segments = Path<HashMap<String, String>>;

/// The segment `name` of a route that has it, or "" for one that does not.
fn segment<'a>(segments: &'a HashMap<String, String>, name: &str) -> &'a str {
    segments.get(name).map_or("", String::as_str)
}

/// `GET /subscriptions/{sub}/operationresults/{id}`: a resource-group deletion.
async fn group_operation(State(arm): State<Arc<Arm>>, Path(at): Segments, RawQuery(q): RawQuery) -> Reply {
    operation_result(&arm, &at, q, true)
}

/// `GET …/locations/{loc}/managedHsmOperationResults/{id}`.
async fn hsm_operation(State(arm): State<Arc<Arm>>, Path(at): Segments, RawQuery(q): RawQuery) -> Reply {
    operation_result(&arm, &at, q, false)
}

/// 202 with a new `Location` while running; then the operation's final answer.
fn operation_result(
    arm: &Arm,
    at: &HashMap<String, String>,
    query: Option<String>,
    resource_group: bool,
) -> Reply {
    let (sub, location, id) = (segment(at, "sub"), segment(at, "location"), segment(at, "id"));
    let query = query.unwrap_or_default();
    let poll: u64 =
        query.split('&').find_map(|kv| kv.strip_prefix("t=")).and_then(|t| t.parse().ok()).unwrap_or(0);
    let state = arm.current()?;
    let op = state.operations.get(id).ok_or_else(|| {
        error(StatusCode::NOT_FOUND, "OperationNotFound", &format!("Operation {id} was not found."))
    })?;
    let api = api(Some(&query));
    let hsm_ready = match op.kind {
        OperationKind::Create => {
            state.hsms.get(&op.target.to_ascii_lowercase()).is_some_and(|h| h.ready(arm.now_ms()))
        }
        _ => op.done,
    };
    if !hsm_ready {
        return Ok(accepted(&arm.operation_url(sub, location, id, &api, poll + 1, resource_group)));
    }
    match op.kind {
        OperationKind::Create => {
            let hsm = state.hsms.get(&op.target.to_ascii_lowercase()).cloned();
            drop(state);
            let hsm =
                hsm.ok_or_else(|| error(StatusCode::NOT_FOUND, "ResourceNotFound", "The HSM is gone."))?;
            let (uri, active) = arm.plane(&hsm.name);
            ok_json(StatusCode::OK, hsm.json(arm.now_ms(), &uri, active))
        }
        _ => Ok(StatusCode::OK.into_response()),
    }
}

fn hsm_not_found(name: &str, rg: &str) -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource 'Microsoft.KeyVault/managedHSMs/{name}' under resource group '{rg}' was not found."
        ),
    )
}

/// `PUT …/managedHSMs/{name}`: create (202; provisioning takes a moment) or,
/// with `createMode: recover`, bring a soft-deleted HSM back.
async fn put_hsm(
    State(arm): State<Arc<Arm>>,
    Path((sub, rg, name)): Path<(String, String, String)>,
    req: Request,
) -> Reply {
    let query = req.uri().query().map(str::to_owned);
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|_| error(StatusCode::BAD_REQUEST, "InvalidRequestContent", "The body is too large."))?;
    let bad = |code: &str, m: &str| error(StatusCode::BAD_REQUEST, code, m);
    let req: ManagedHsmRequest = parse(&body)?;
    if !sd_core::hsm_name::is_managed_hsm_name(&name) {
        return Err(bad(
            "InvalidResourceName",
            &format!(
                "The name '{name}' is invalid: 3 to 24 letters, digits and hyphens, starting with a letter."
            ),
        ));
    }
    let api = api(query.as_deref());
    let mut state = arm.current()?;
    if !state.resource_groups.contains_key(&rg.to_ascii_lowercase()) {
        return Err(group_not_found(&rg));
    }
    let key = name.to_ascii_lowercase();
    let recover = req.properties.create_mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("recover"));
    match state.hsms.get(&key) {
        Some(h) if h.deleted.is_some() && recover => {
            if !h.resource_group.eq_ignore_ascii_case(&rg) {
                return Err(bad(
                    "BadRequest",
                    "A deleted HSM is recovered into the resource group it was deleted from.",
                ));
            }
            let location = h.location.clone();
            return arm.begin(&mut state, OperationKind::Recover, &name, &location, &sub, &api);
        }
        Some(h) if h.deleted.is_some() => {
            return Err(error(
                StatusCode::CONFLICT,
                "ConflictError",
                "A KV MHSM with the same name already exists in deleted state. You need to either recover or purge existing KV MHSM.",
            ));
        }
        Some(h) if h.resource_group.eq_ignore_ascii_case(&rg) => {
            // An update: tags and network rules; purge protection only on;
            // the retention never changes.
            let p = &req.properties;
            if p.soft_delete_retention_in_days.is_some_and(|d| d != h.retention_days) {
                return Err(bad("BadRequest", "softDeleteRetentionInDays cannot be changed after creation."));
            }
            if h.purge_protection && p.enable_purge_protection == Some(false) {
                return Err(bad("BadRequest", "Purge protection cannot be turned off once it is on."));
            }
            let location = h.location.clone();
            if let Some(hsm) = state.hsms.get_mut(&key) {
                if let Some(tags) = req.tags {
                    hsm.tags = tags;
                }
                if let Some(acls) = req.properties.network_acls {
                    hsm.network_acls = network_acls(Some(acls));
                }
                if req.properties.enable_purge_protection == Some(true) {
                    hsm.purge_protection = true;
                }
            }
            return arm.begin(&mut state, OperationKind::Update, &name, &location, &sub, &api);
        }
        Some(_) => {
            return Err(error(
                StatusCode::CONFLICT,
                "ConflictError",
                &format!("The name '{name}' is already in use."),
            ));
        }
        None if recover => {
            return Err(error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                &format!("No deleted Managed HSM '{name}' to recover."),
            ));
        }
        None => {}
    }
    let p = req.properties;
    let retention = p.soft_delete_retention_in_days.unwrap_or(90);
    if !(7..=90).contains(&retention) {
        return Err(bad("BadRequest", "softDeleteRetentionInDays must be 7 to 90."));
    }
    if p.initial_admin_object_ids.is_empty() {
        return Err(bad("BadRequest", "initialAdminObjectIds needs at least one object ID."));
    }
    let hsm = ManagedHsm {
        name: name.clone(),
        subscription: sub.clone(),
        resource_group: rg.clone(),
        location: req.location.clone(),
        sku: req.sku.unwrap_or(json!({"family": "B", "name": "Standard_B1"})),
        tags: req.tags.unwrap_or(json!({})),
        tenant_id: p.tenant_id.unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into()),
        admins: p.initial_admin_object_ids,
        retention_days: retention,
        purge_protection: p.enable_purge_protection.unwrap_or(false),
        network_acls: network_acls(p.network_acls),
        created: arm.now(),
        started_ms: arm.now_ms(),
        ready_at_ms: arm.now_ms() + arm.provisioning.as_millis() as u64,
        deleting: false,
        deleted: None,
    };
    // The HSM's own data plane, with a fresh exchange key (a few hundred ms);
    // provisioning is timed from when it is there.
    tokio::task::block_in_place(|| arm.start_plane(&hsm)).map_err(|e| internal(&e.to_string()))?;
    let mut hsm = hsm;
    hsm.started_ms = arm.now_ms();
    hsm.ready_at_ms = hsm.started_ms + arm.provisioning.as_millis() as u64;
    state.hsms.insert(key, hsm);
    arm.begin(&mut state, OperationKind::Create, &name, &req.location, &sub, &api)
}

/// Network rules as the service stores them: what was given, with the
/// members it leaves out filled in (as recorded: empty rule lists).
fn network_acls(given: Option<Value>) -> Value {
    let mut acls = json!({"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []});
    if let Some(Value::Object(given)) = given {
        for (k, v) in given {
            acls[k] = v;
        }
    }
    acls
}

/// `GET …/managedHSMs/{name}`.
async fn get_hsm(State(arm): State<Arc<Arm>>, Path((_, rg, name)): Path<(String, String, String)>) -> Reply {
    let state = arm.current()?;
    let hsm = state
        .hsms
        .get(&name.to_ascii_lowercase())
        .filter(|h| h.deleted.is_none() && h.resource_group.eq_ignore_ascii_case(&rg))
        .cloned()
        .ok_or_else(|| hsm_not_found(&name, &rg))?;
    drop(state);
    let (uri, active) = arm.plane(&hsm.name);
    ok_json(StatusCode::OK, hsm.json(arm.now_ms(), &uri, active))
}

/// `DELETE …/managedHSMs/{name}`: 202; soft-deleted when done.
async fn delete_hsm(
    State(arm): State<Arc<Arm>>,
    Path((sub, rg, name)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Reply {
    let api = api(query.as_deref());
    let mut state = arm.current()?;
    let hsm = state
        .hsms
        .get_mut(&name.to_ascii_lowercase())
        .filter(|h| h.deleted.is_none() && h.resource_group.eq_ignore_ascii_case(&rg))
        .ok_or_else(|| hsm_not_found(&name, &rg))?;
    hsm.deleting = true;
    let location = hsm.location.clone();
    arm.begin(&mut state, OperationKind::Delete, &name, &location, &sub, &api)
}

/// The live HSMs of a subscription, optionally of one resource group.
async fn list_hsms(State(arm): State<Arc<Arm>>, Path(at): Segments) -> Reply {
    let (sub, rg) = (segment(&at, "sub"), at.get("rg"));
    let state = arm.current()?;
    let hsms: Vec<ManagedHsm> = state
        .hsms
        .values()
        .filter(|h| {
            h.deleted.is_none()
                && h.subscription == sub
                && rg.is_none_or(|rg| h.resource_group.eq_ignore_ascii_case(rg))
        })
        .cloned()
        .collect();
    drop(state);
    let value: Vec<Value> = hsms
        .iter()
        .map(|h| {
            let (uri, active) = arm.plane(&h.name);
            h.json(arm.now_ms(), &uri, active)
        })
        .collect();
    ok_json(StatusCode::OK, json!({"value": value}))
}

/// `GET …/deletedManagedHSMs`.
async fn list_deleted(State(arm): State<Arc<Arm>>, Path(sub): Path<String>) -> Reply {
    let state = arm.current()?;
    let value: Vec<Value> =
        state.hsms.values().filter(|h| h.subscription == sub).filter_map(ManagedHsm::deleted_json).collect();
    ok_json(StatusCode::OK, json!({"value": value}))
}

fn deleted_not_found(name: &str) -> ApiError {
    error(StatusCode::NOT_FOUND, "ResourceNotFound", &format!("Deleted Managed HSM '{name}' was not found."))
}

/// `GET …/locations/{loc}/deletedManagedHSMs/{name}`.
async fn get_deleted(
    State(arm): State<Arc<Arm>>,
    Path((_, _, name)): Path<(String, String, String)>,
) -> Reply {
    let state = arm.current()?;
    let v = state.hsms.get(&name.to_ascii_lowercase()).and_then(ManagedHsm::deleted_json);
    ok_json(StatusCode::OK, v.ok_or_else(|| deleted_not_found(&name))?)
}

/// `POST …/locations/{loc}/deletedManagedHSMs/{name}/purge`: 202, refused
/// while purge protection holds.
async fn purge(
    State(arm): State<Arc<Arm>>,
    Path((sub, location, name)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Reply {
    let api = api(query.as_deref());
    let mut state = arm.current()?;
    let hsm = state.hsms.get(&name.to_ascii_lowercase()).ok_or_else(|| deleted_not_found(&name))?;
    let deleted = hsm.deleted.as_ref().ok_or_else(|| deleted_not_found(&name))?;
    if hsm.purge_protection && arm.now() < deleted.scheduled_purge {
        return Err(error(
            StatusCode::CONFLICT,
            "ConflictError",
            &format!(
                "Purge protection is enabled on Managed HSM '{name}': it cannot be purged before its scheduled purge date {}.",
                sd_core::time::rfc3339(deleted.scheduled_purge)
            ),
        ));
    }
    arm.begin(&mut state, OperationKind::Purge, &name, &location, &sub, &api)
}

/// `POST …/checkMhsmNameAvailability`.
async fn check_name(State(arm): State<Arc<Arm>>, body: Bytes) -> Reply {
    #[derive(Deserialize)]
    struct Body {
        name: String,
    }
    let req: Body = parse(&body)?;
    let unavailable = |reason: &str, message: String| NameAvailability {
        name_available: false,
        reason: Some(reason.into()),
        message: Some(message),
    };
    let answer = if !sd_core::hsm_name::is_managed_hsm_name(&req.name) {
        unavailable(
            "AccountNameInvalid",
            format!(
                "The name '{}' is invalid: 3 to 24 letters, digits and hyphens, starting with a letter.",
                req.name
            ),
        )
    } else {
        match arm.current()?.hsms.get(&req.name.to_ascii_lowercase()) {
            None => NameAvailability { name_available: true, reason: None, message: None },
            Some(h) if h.deleted.is_some() => unavailable(
                "AlreadyExists",
                format!("A Managed HSM named '{}' is soft-deleted; purge or recover it first.", req.name),
            ),
            Some(_) => unavailable("AlreadyExists", format!("The name '{}' is already in use.", req.name)),
        }
    };
    let v = serde_json::to_value(answer).map_err(|e| internal(&e.to_string()))?;
    ok_json(StatusCode::OK, v)
}

/// The management plane's routes, behind its token and api-version check.
pub fn router(arm: Arc<Arm>) -> Router {
    let kv = "/subscriptions/{sub}/providers/Microsoft.KeyVault";
    let mut router = Router::new();
    for groups in ["resourcegroups", "resourceGroups"] {
        router = router
            .route(
                &format!("/subscriptions/{{sub}}/{groups}/{{rg}}"),
                put(put_group).get(get_group).head(get_group).delete(delete_group),
            )
            .route(
                &format!("/subscriptions/{{sub}}/{groups}/{{rg}}/providers/Microsoft.KeyVault/managedHSMs"),
                get(list_hsms),
            )
            .route(
                &format!(
                    "/subscriptions/{{sub}}/{groups}/{{rg}}/providers/Microsoft.KeyVault/managedHSMs/{{name}}"
                ),
                put(put_hsm).get(get_hsm).delete(delete_hsm),
            );
    }
    router
        .route("/subscriptions/{sub}/operationresults/{id}", get(group_operation))
        .route(&format!("{kv}/managedHSMs"), get(list_hsms))
        .route(&format!("{kv}/deletedManagedHSMs"), get(list_deleted))
        .route(&format!("{kv}/locations/{{location}}/deletedManagedHSMs/{{name}}"), get(get_deleted))
        .route(&format!("{kv}/locations/{{location}}/deletedManagedHSMs/{{name}}/purge"), post(purge))
        .route(&format!("{kv}/locations/{{location}}/managedHsmOperationResults/{{id}}"), get(hsm_operation))
        .route(&format!("{kv}/checkMhsmNameAvailability"), post(check_name))
        .layer(axum::middleware::from_fn_with_state(arm.clone(), pipeline::<Arm>))
        .with_state(arm)
}
