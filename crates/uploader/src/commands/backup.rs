//! `uploader backup` and `uploader restore`: a full backup of the HSM into a
//! storage container, and a full (or one key's) restore from it, each
//! followed to the end of its job.
//!
//! The SAS that opens the container is read from a file (`--sas-file`) or
//! from `AZURE_STORAGE_SAS_TOKEN`, never from the command line (where `ps`
//! and shell history would keep it), and is never printed: it goes only
//! into the request, which names the storage URL the HSM is to use it with.

use std::path::PathBuf;
use std::time::Duration;

use azure_shapes::backup::{
    ContainerUrl, ContainerUrlError, Job, RestoreRequest, SasTokenParameters, SelectiveKeyRestoreRequest,
};
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::{files, outln};
use zeroize::Zeroizing;

use crate::cli::Target;
use crate::http::HsmClient;
use crate::poll::{self, First, Look};

/// The api-version backup and restore are sent with (7.6 has the pre-checks).
const API_VERSION: &str = "7.6";
/// Where a SAS may come from when no file is named.
const SAS_ENV: &str = "AZURE_STORAGE_SAS_TOKEN";

/// How the HSM reaches the container.
#[derive(clap::Args)]
pub struct StorageArgs {
    /// The storage container, e.g. https://ACCOUNT.blob.core.windows.net/CONTAINER.
    #[arg(long, value_name = "URL")]
    storage_url: String,
    /// A file holding the container's SAS token (create, read, write, delete
    /// and list); else $AZURE_STORAGE_SAS_TOKEN.
    #[arg(long, value_name = "FILE", conflicts_with = "managed_identity")]
    sas_file: Option<PathBuf>,
    /// The HSM reaches storage with its own managed identity, no SAS.
    #[arg(long)]
    managed_identity: bool,
}

#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Only check that a backup could be written (7.6 pre-backup); write nothing.
    #[arg(long)]
    pre: bool,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The backup's folder in the container (mhsm-NAME-YYYYMMDDHHMMSS, as `uploader backup` printed).
    #[arg(long, value_name = "FOLDER")]
    folder: String,
    /// Restore only this key (every version of it).
    #[arg(long, value_name = "NAME", conflicts_with = "pre")]
    key: Option<String>,
    /// Only check that the folder would restore here (7.6 pre-restore); change nothing.
    #[arg(long)]
    pre: bool,
}

impl StorageArgs {
    /// `{"storageResourceUri":…,"token":…}` (or `useManagedIdentity`);
    /// the SAS is wiped when they are dropped.
    fn parameters(&self) -> CliResult<SasTokenParameters> {
        let url = check_storage_url(&self.storage_url)?;
        let (token, use_managed_identity) =
            if self.managed_identity { (None, Some(true)) } else { (Some(self.sas()?.to_string()), None) };
        Ok(SasTokenParameters { storage_resource_uri: url.as_str().to_owned(), token, use_managed_identity })
    }

    fn sas(&self) -> CliResult<Zeroizing<String>> {
        let (text, from) = match &self.sas_file {
            Some(path) => (Zeroizing::new(files::read_text(path)?), path.display().to_string()),
            None => match std::env::var(SAS_ENV) {
                Ok(v) => (Zeroizing::new(v), format!("${SAS_ENV}")),
                Err(_) => {
                    return Err(CliError::general("no SAS token for the storage container").hint(format!(
                        "put it in a file and give --sas-file FILE (or set {SAS_ENV}); or --managed-identity"
                    )));
                }
            },
        };
        let sas = Zeroizing::new(text.trim().trim_start_matches('?').to_owned());
        if !sas.split('&').any(|p| p.starts_with("sig=")) || sas.contains(char::is_whitespace) {
            return Err(CliError::general(format!("{from}: this is not a SAS token (no sig= field)")).hint(
                "the file holds the token alone, e.g. sv=…&sr=c&sp=crwdl&se=…&sig=… (the part of a SAS URL after ?)",
            ));
        }
        Ok(sas)
    }
}

/// The container URL, checked: https (or http to this machine, Azurite's),
/// naming a container, without a query (a SAS there would be printed).
fn check_storage_url(url: &str) -> CliResult<ContainerUrl> {
    let shown = url.split('?').next().unwrap_or_default();
    let fail = |why: &dyn std::fmt::Display, hint: &str| {
        CliError::general(format!("--storage-url {shown:?}: {why}")).hint(hint)
    };
    let example =
        "e.g. https://ACCOUNT.blob.core.windows.net/CONTAINER (http only for Azurite on this machine)";
    let parsed = ContainerUrl::parse(url).map_err(|e| match e {
        ContainerUrlError::Query => fail(&e, "give the container URL alone, and the SAS with --sas-file"),
        ContainerUrlError::NoContainer => {
            fail(&e, "add the container: https://ACCOUNT.blob.core.windows.net/CONTAINER")
        }
        ContainerUrlError::Scheme | ContainerUrlError::Host => fail(&e, example),
    })?;
    if !parsed.is_https() && !parsed.on_this_machine() {
        return Err(fail(&ContainerUrlError::Scheme, example));
    }
    Ok(parsed)
}

/// Follows a job from its 202 to the end; a failed job is an error carrying the HSM's reason.
fn follow(
    client: &HsmClient,
    resp: crate::http::HttpResponse,
    start: &str,
    kind: &str,
    what: &str,
) -> CliResult<Job> {
    if resp.status != 202 {
        return Err(resp.error(start));
    }
    let job: Job = resp.json_as("job")?;
    let pending = format!("/{kind}/{}/pending", job.job_id);
    let job = poll::until_done(
        what,
        poll::JOBS,
        First::AfterPause(resp.retry_after.map(Duration::from_secs)),
        || {
            let resp = client.get(&pending)?;
            if resp.status != 200 {
                return Err(resp.error(&format!("GET {pending}")));
            }
            let job: Job = resp.json_as("job status")?;
            let state = ceremony_cli::terminal::capped(&job.status);
            let done = !job.running();
            Ok((
                state,
                if done { Look::Done(job) } else { Look::Running(resp.retry_after.map(Duration::from_secs)) },
            ))
        },
    )?;
    if job.succeeded() {
        return Ok(job);
    }
    let (code, message) = match &job.error {
        Some(e) => (e.code.clone(), e.message.clone()),
        None => (String::new(), job.status_details.clone().unwrap_or_default()),
    };
    let reason = ceremony_cli::terminal::capped(&format!("{code}: {message}"));
    Err(CliError::general(format!("{what} failed: {reason}")).hint(hint_for(&code)))
}

/// The next step for a failed job's error code.
fn hint_for(code: &str) -> &'static str {
    match code {
        "ContainerNotFound" => {
            "create the container first (az storage container create), then run this again"
        }
        "AuthenticationFailed" | "AuthorizationFailure" | "AuthorizationPermissionMismatch" => {
            "the SAS does not open the container: make a new one with create, read, write, delete and list, not expired"
        }
        "FolderNotFound" => {
            "list the container's folders (az storage blob list) and give the one `uploader backup` printed"
        }
        "SecurityDomainMismatch" => {
            "a backup restores only into an HSM holding the security domain it was made under: recover that SD first"
        }
        "KeyNotFound" => {
            "the backup holds no such key: `uploader restore --pre` checks a folder; a key inventory lists keys"
        }
        "JobInterrupted" => "the HSM restarted during the job: start it again",
        _ => "the HSM's reason is above",
    }
}

/// A request as JSON bytes, wiped when dropped (it carries the SAS).
fn request_body(request: &impl serde::Serialize) -> CliResult<Zeroizing<Vec<u8>>> {
    serde_json::to_vec(request)
        .map(Zeroizing::new)
        .map_err(|e| CliError::general(format!("writing the request: {e}")).hint("this is a bug: report it"))
}

/// `uploader backup`.
pub fn backup(target: &Target, args: BackupArgs) -> CliResult {
    let body = request_body(&args.storage.parameters()?)?;
    let client = super::connect_with_api_version(target, API_VERSION)?;
    let (path, what) = if args.pre { ("/prebackup", "pre-backup check") } else { ("/backup", "full backup") };
    let resp = client.post(path, &body)?;
    let job = follow(&client, resp, &format!("POST {path}"), "backup", what)?;
    if args.pre {
        outln!("pre-backup check passed: the HSM can write a backup to {}", args.storage.storage_url);
        return Ok(());
    }
    let url = job.azure_storage_blob_container_uri.unwrap_or_default();
    let folder = url.rsplit('/').next().unwrap_or_default();
    outln!("backed up {} to {}", client.base(), ceremony_cli::terminal::capped(&url));
    outln!("folder: {}", ceremony_cli::terminal::capped(folder));
    Ok(())
}

/// `uploader restore`.
pub fn restore(target: &Target, args: RestoreArgs) -> CliResult {
    let sas = args.storage.parameters()?;
    if let Some(key) = &args.key {
        if key.parse::<azure_shapes::KeyName>().is_err() {
            return Err(CliError::general(format!("--key {key:?}: key names are 0-9, a-z, A-Z and -"))
                .hint("give the key's name as the HSM lists it"));
        }
    }
    let client = super::connect_with_api_version(target, API_VERSION)?;
    let (resp, start, what) = match (&args.key, args.pre) {
        (Some(key), _) => {
            let path = format!("/keys/{key}/restore");
            let request =
                SelectiveKeyRestoreRequest { sas_token_parameters: sas, folder: args.folder.clone() };
            (client.put(&path, &request_body(&request)?)?, format!("PUT {path}"), "selective key restore")
        }
        (None, pre) => {
            let path = if pre { "/prerestore" } else { "/restore" };
            let request =
                RestoreRequest { sas_token_parameters: sas, folder_to_restore: args.folder.clone() };
            let what = if pre { "pre-restore check" } else { "full restore" };
            (client.put(path, &request_body(&request)?)?, format!("PUT {path}"), what)
        }
    };
    follow(&client, resp, &start, "restore", what)?;
    let folder = ceremony_cli::terminal::capped(&args.folder);
    match (&args.key, args.pre) {
        (Some(key), _) => outln!("restored key {key} (every version) from {folder}"),
        (None, true) => outln!("pre-restore check passed: {folder} would restore into {}", client.base()),
        (None, false) => outln!("restored {folder} into {}", client.base()),
    }
    Ok(())
}
