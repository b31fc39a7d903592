//! Full backup, full restore and selective key restore through a storage
//! container: `POST /backup`, `PUT /restore`, `PUT /keys/{name}/restore`,
//! the checks that do neither (`POST /prebackup`, `PUT /prerestore`, 7.6),
//! and their jobs (`GET /backup/{jobId}/pending`, `GET /restore/{jobId}/pending`).
//!
//! As the service does, a request is answered 202 with a job, and storage is
//! reached by the job: a missing container, a SAS that does not open it or a
//! folder that holds no backup end the job `Failed` with storage's (or our)
//! error code. What the folder holds is [`super::full_backup`]'s.
//!
//! Jobs are kept in the HSM's state. One that was running when the emulator
//! stopped is `Failed` when it starts again: its folder has no manifest, so
//! it can never be mistaken for a backup, let alone restored.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use sd_core::primitives::secret::SecretBytes;

use super::app::App;
use super::domain;
use super::full_backup::{self, MANIFEST, SealedBackup};
use super::security_domain::accepted;
use super::state::HsmState;
use crate::blob_storage::{Container, StorageError};
use crate::error::{ApiError, azure_error};
use azure_shapes::backup::{self, JobError, RestoreRequest, SasTokenParameters, SelectiveKeyRestoreRequest};

/// How many finished jobs an HSM remembers.
const KEPT_JOBS: usize = 100;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobKind {
    /// `POST /backup`.
    Backup,
    /// `POST /prebackup`.
    PreBackup,
    /// `PUT /restore`, or `PUT /keys/{name}/restore` for one key.
    Restore,
    /// `PUT /prerestore`.
    PreRestore,
}

impl JobKind {
    fn is_backup(self) -> bool {
        matches!(self, JobKind::Backup | JobKind::PreBackup)
    }
}

/// A job's status, in the service's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobStatus {
    /// Running.
    InProgress,
    /// Done.
    Succeeded,
    /// Ended with an error.
    Failed,
}

impl JobStatus {
    /// The service's word for it.
    fn name(self) -> &'static str {
        match self {
            JobStatus::InProgress => "InProgress",
            JobStatus::Succeeded => "Succeeded",
            JobStatus::Failed => "Failed",
        }
    }
}

impl From<StorageError> for JobError {
    fn from(e: StorageError) -> Self {
        JobError { code: e.code.clone(), message: format!("Storage refused the job: {e}.") }
    }
}

impl From<full_backup::OpenError> for JobError {
    fn from(e: full_backup::OpenError) -> Self {
        let code = match e {
            full_backup::OpenError::OtherSecurityDomain => "SecurityDomainMismatch",
            _ => "InvalidBackup",
        };
        JobError { code: code.into(), message: format!("The backup cannot be restored: {e}.") }
    }
}

/// One backup or restore job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Its ID (32 hex digits).
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// Where it is.
    pub status: JobStatus,
    /// Why it failed.
    pub error: Option<JobError>,
    /// When it started (Unix seconds).
    pub start: u64,
    /// When it ended.
    pub end: Option<u64>,
    /// For a backup: the folder's URL.
    pub folder_url: Option<String>,
}

impl Job {
    /// The job as `…/pending` reports it.
    fn shape(&self) -> backup::Job {
        backup::Job {
            status: self.status.name().to_owned(),
            status_details: self.error.as_ref().map(|e| e.message.clone()),
            error: self.error.clone(),
            start_time: Some(self.start),
            end_time: self.end,
            job_id: self.id.clone(),
            azure_storage_blob_container_uri: if self.kind.is_backup() {
                self.folder_url.clone()
            } else {
                None
            },
        }
    }
}

impl HsmState {
    /// Jobs that were running when the emulator stopped: failed, now.
    /// Returns true when one was (and the state must be saved).
    pub fn fail_interrupted_jobs(&mut self, now: u64) -> bool {
        let mut changed = false;
        for job in self.jobs.iter_mut().filter(|j| j.status == JobStatus::InProgress) {
            job.status = JobStatus::Failed;
            job.end = Some(now);
            job.error = Some(JobError {
                code: "JobInterrupted".into(),
                message: "The HSM restarted while the job ran; nothing it wrote counts \
                          (a backup folder without its manifest never restores). Start it again."
                    .into(),
            });
            changed = true;
        }
        changed
    }

    fn add_job(&mut self, job: Job) {
        self.jobs.push(job);
        while self.jobs.len() > KEPT_JOBS {
            match self.jobs.iter().position(|j| j.status != JobStatus::InProgress) {
                Some(i) => drop(self.jobs.remove(i)),
                None => break,
            }
        }
    }
}

type Reply = Result<Response, ApiError>;

fn bad(message: &str) -> ApiError {
    azure_error(StatusCode::BAD_REQUEST, "BadParameter", message)
}

/// The container a request names, opened with its SAS.
fn container(sas: &SasTokenParameters) -> Result<Container, ApiError> {
    if sas.use_managed_identity == Some(true) {
        return Err(bad(
            "The emulator has no managed identity to reach storage with; give a SAS token instead.",
        ));
    }
    let token = sas.token.as_deref().filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        bad("A SAS token is required (token), or useManagedIdentity for an HSM that has an identity.")
    })?;
    Container::open(&sas.storage_resource_uri, token).map_err(|e| bad(&format!("storageResourceUri: {e}.")))
}

fn parse<T: for<'a> Deserialize<'a>>(body: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| bad(&format!("The body must be {shape}: {e}.")))
}

fn valid_folder(folder: &str) -> Result<&str, ApiError> {
    let ok = !folder.is_empty()
        && folder.len() <= 256
        && folder.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && folder != "."
        && folder != "..";
    if !ok {
        return Err(bad(&format!(
            "{folder:?} is not a backup folder's name (like mhsm-NAME-20250101120000)."
        )));
    }
    Ok(folder)
}

fn random_job_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| crate::error::internal("RNG failure"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The state of an active HSM with its backup protection key.
fn active_with_key(app: &App) -> Result<(std::sync::MutexGuard<'_, HsmState>, SecretBytes), ApiError> {
    let state = super::keys::active(app)?;
    let bpk = state.domain.as_deref().and_then(domain::backup_protection_key).ok_or_else(|| {
        azure_error(
            StatusCode::CONFLICT,
            "Conflict",
            "This security domain has no backup protection key the emulator can use.",
        )
    })?;
    Ok((state, bpk))
}

fn now_unix(app: &App) -> u64 {
    app.clock.now_ms() / 1000
}

/// Registers a job and runs `work` on a blocking thread (storage is reached
/// with blocking I/O); its outcome ends the job.
fn start(
    app: &Arc<App>,
    state: &mut HsmState,
    kind: JobKind,
    folder_url: Option<String>,
    query: Option<String>,
    work: impl FnOnce(&App) -> Result<(), JobError> + Send + 'static,
) -> Reply {
    let job = Job {
        id: random_job_id()?,
        kind,
        status: JobStatus::InProgress,
        error: None,
        start: now_unix(app),
        end: None,
        folder_url,
    };
    let body = serde_json::to_value(job.shape()).map_err(|e| crate::error::internal(&e.to_string()))?;
    let pending = format!("/{}/{}/pending", if kind.is_backup() { "backup" } else { "restore" }, job.id);
    let id = job.id.clone();
    state.add_job(job);
    app.save(state)?;
    let runner = app.clone();
    tokio::task::spawn_blocking(move || {
        let outcome = work(&runner);
        finish(&runner, &id, outcome);
    });
    Ok(accepted(app, &pending, query, body))
}

/// Ends job `id` with `outcome` (unless a restart already failed it).
fn finish(app: &App, id: &str, outcome: Result<(), JobError>) {
    let now = now_unix(app);
    let Ok(mut state) = app.current() else { return };
    if let Some(job) = state.jobs.iter_mut().find(|j| j.id == id && j.status == JobStatus::InProgress) {
        job.end = Some(now);
        match outcome {
            Ok(()) => job.status = JobStatus::Succeeded,
            Err(e) => {
                job.status = JobStatus::Failed;
                job.error = Some(e);
            }
        }
    }
    // A failure to persist leaves the job running in the file: a restart fails it.
    let _ = app.save(&state);
}

/// Writes a sealed backup: every file, a pause as long as an activation (the
/// service takes its time too; a restart then leaves a folder without its
/// manifest), then the manifest.
fn write_backup(
    app: &App,
    container: &Container,
    folder: &str,
    sealed: SealedBackup,
) -> Result<(), JobError> {
    container.list(&format!("{folder}/"))?;
    for (path, contents) in &sealed.files {
        container.put(&format!("{folder}/{path}"), contents.as_bytes())?;
    }
    std::thread::sleep(app.activation_delay);
    container.put(&format!("{folder}/{MANIFEST}"), sealed.manifest.as_bytes())?;
    Ok(())
}

/// `POST /backup`: every key (all versions) and role assignment, sealed
/// under the security domain, into a new folder of the container.
pub async fn backup(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Reply {
    begin_backup(app, query, body, JobKind::Backup)
}

/// `POST /prebackup`: checks that a backup could be written (the container
/// exists and the SAS opens it), and writes nothing.
pub async fn prebackup(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Reply {
    begin_backup(app, query, body, JobKind::PreBackup)
}

fn begin_backup(app: Arc<App>, query: Option<String>, body: Bytes, kind: JobKind) -> Reply {
    let req: SasTokenParameters = parse(&body, "{\"storageResourceUri\": URL, \"token\": SAS}")?;
    let container = container(&req)?;
    let (mut state, bpk) = active_with_key(&app)?;
    let now = now_unix(&app);
    let folder = full_backup::folder_name(&app.name, now);
    if kind == JobKind::PreBackup {
        return start(&app, &mut state, kind, None, query, move |_| {
            container.list(&format!("{folder}/")).map(drop).map_err(JobError::from)
        });
    }
    let sealed = full_backup::seal(&app.name, now, &state.keys, &state.assignments, &bpk)
        .map_err(|e| crate::error::internal(&format!("sealing the backup: {e}")))?;
    let folder_url = format!("{}/{folder}", container.url());
    start(&app, &mut state, kind, Some(folder_url), query, move |app| {
        write_backup(app, &container, &folder, sealed)
    })
}

/// What a restore reads from a folder, opened and checked.
struct Opened {
    keys: Vec<(String, Vec<super::key_material::StoredKey>)>,
    assignments: Vec<super::roles::Assignment>,
}

/// Reads and opens folder `folder` (only key `only`, if given).
fn read_backup(
    container: &Container,
    folder: &str,
    only: Option<&str>,
    bpk: &SecretBytes,
) -> Result<Opened, JobError> {
    let names = container.list(&format!("{folder}/"))?;
    let manifest_path = format!("{folder}/{MANIFEST}");
    if !names.contains(&manifest_path) {
        let message = if names.is_empty() {
            format!("The container has no folder {folder:?}.")
        } else {
            format!("The folder {folder:?} has no {MANIFEST}: the backup never finished.")
        };
        return Err(JobError { code: "FolderNotFound".into(), message });
    }
    let text = |path: &str| -> Result<String, JobError> {
        let bytes = container.get(&format!("{folder}/{path}"))?;
        String::from_utf8(bytes)
            .map_err(|_| JobError { code: "InvalidBackup".into(), message: format!("{path} is not text.") })
    };
    let manifest = full_backup::open_manifest(&text(MANIFEST)?, bpk)?;
    let wanted: Vec<String> = match only {
        Some(name) if !manifest.keys.contains_key(name) => {
            return Err(JobError {
                code: "KeyNotFound".into(),
                message: format!("The backup in {folder:?} holds no key named {name}."),
            });
        }
        Some(name) => vec![name.to_owned()],
        None => manifest.keys.keys().cloned().collect(),
    };
    let mut keys = Vec::with_capacity(wanted.len());
    for name in wanted {
        let versions = full_backup::open_key(&manifest, &name, &text(&full_backup::key_file(&name))?, bpk)?;
        keys.push((name, versions));
    }
    let assignments = match only {
        Some(_) => Vec::new(),
        None => full_backup::open_assignments(&manifest, &text(full_backup::ASSIGNMENTS)?, bpk)?,
    };
    Ok(Opened { keys, assignments })
}

/// Puts what was read into the HSM: each key replaces any key (or deleted
/// key) of its name; role assignments the HSM lacks are added.
fn apply(app: &App, opened: Opened) -> Result<(), JobError> {
    let internal = |m: String| JobError { code: "InternalError".into(), message: m };
    let mut state = app.current().map_err(|_| internal("the HSM's state is unavailable".into()))?;
    for (name, versions) in opened.keys {
        state.deleted_keys.remove(&name);
        state.keys.insert(name, versions);
    }
    for a in opened.assignments {
        if !state.assignments.iter().any(|b| b.name == a.name) {
            state.assignments.push(a);
        }
    }
    app.save(&state).map_err(|_| internal("the restored keys could not be persisted".into()))
}

fn begin_restore(
    app: Arc<App>,
    query: Option<String>,
    sas: &SasTokenParameters,
    folder: &str,
    only: Option<String>,
    kind: JobKind,
) -> Reply {
    let container = container(sas)?;
    let folder = valid_folder(folder)?.to_owned();
    let (mut state, bpk) = active_with_key(&app)?;
    start(&app, &mut state, kind, None, query, move |app| {
        let opened = read_backup(&container, &folder, only.as_deref(), &bpk)?;
        std::thread::sleep(app.activation_delay);
        match kind {
            JobKind::PreRestore => Ok(()),
            _ => apply(app, opened),
        }
    })
}

const RESTORE_SHAPE: &str =
    "{\"sasTokenParameters\": {\"storageResourceUri\": URL, \"token\": SAS}, \"folderToRestore\": FOLDER}";

/// `PUT /restore`: everything in a backup folder, into this HSM.
pub async fn restore(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Reply {
    let req: RestoreRequest = parse(&body, RESTORE_SHAPE)?;
    begin_restore(app, query, &req.sas_token_parameters, &req.folder_to_restore, None, JobKind::Restore)
}

/// `PUT /prerestore`: checks that a folder would restore here (it exists,
/// finished, and opens under this HSM's security domain), and changes nothing.
pub async fn prerestore(State(app): State<Arc<App>>, RawQuery(query): RawQuery, body: Bytes) -> Reply {
    let req: RestoreRequest = parse(&body, RESTORE_SHAPE)?;
    begin_restore(app, query, &req.sas_token_parameters, &req.folder_to_restore, None, JobKind::PreRestore)
}

/// `PUT /keys/{name}/restore`: one key (every version) from a backup folder.
pub async fn restore_key(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Reply {
    let req: SelectiveKeyRestoreRequest = parse(
        &body,
        "{\"sasTokenParameters\": {\"storageResourceUri\": URL, \"token\": SAS}, \"folder\": FOLDER}",
    )?;
    if name.parse::<azure_shapes::KeyName>().is_err() {
        return Err(bad("Key names are 1-127 characters of 0-9, a-z, A-Z and -."));
    }
    begin_restore(app, query, &req.sas_token_parameters, &req.folder, Some(name), JobKind::Restore)
}

fn job_status(app: &App, id: &str, backup: bool) -> Reply {
    let state = app.current()?;
    let job = state.jobs.iter().find(|j| j.id == id && j.kind.is_backup() == backup).ok_or_else(|| {
        azure_error(StatusCode::NOT_FOUND, "NotFound", &format!("No job {id:?} in this HSM."))
    })?;
    Ok(axum::Json(job.shape()).into_response())
}

/// `GET /backup/{jobId}/pending`.
pub async fn backup_pending(State(app): State<Arc<App>>, Path(id): Path<String>) -> Reply {
    job_status(&app, &id, true)
}

/// `GET /restore/{jobId}/pending`.
pub async fn restore_pending(State(app): State<Arc<App>>, Path(id): Path<String>) -> Reply {
    job_status(&app, &id, false)
}
