//! The one polling loop: asks how a long-running operation is doing until it
//! ends, shows each new state with the time elapsed, honours the service's
//! `Retry-After` (else backs off), and gives up after a limit. The
//! security-domain status endpoints and Resource Manager's operations both
//! run through it.

use std::time::{Duration, Instant};

use ceremony_cli::errln;
use ceremony_cli::error::{CliError, CliResult};

use crate::http::HsmClient;

/// How often to ask and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// The first pause, doubled up to `max_interval` when the service does not say.
    pub first_interval: Duration,
    /// The longest pause of our own choosing.
    pub max_interval: Duration,
    /// The range a `Retry-After` is kept in.
    pub retry_after: (Duration, Duration),
    /// When to give up.
    pub limit: Duration,
    /// What to suggest when the limit is reached.
    pub limit_hint: Option<&'static str>,
}

/// What one look found.
pub enum Look<T> {
    /// Still running; the service may say when to ask again.
    Running(Option<Duration>),
    /// Ended, with this result.
    Done(T),
}

/// When the first look comes.
#[derive(Debug, Clone, Copy)]
pub enum First {
    /// At once (an operation already under way).
    Now,
    /// After a pause: as long as the request that began the operation asked
    /// (`Retry-After`), else the first interval.
    AfterPause(Option<Duration>),
}

/// Looks with `look` (which also returns the state to show) until it says
/// done; `what` names the operation in the progress lines and errors.
pub fn until_done<T>(
    what: &str,
    pace: Pace,
    first: First,
    mut look: impl FnMut() -> CliResult<(String, Look<T>)>,
) -> CliResult<T> {
    let start = Instant::now();
    let mut shown = String::new();
    let mut backoff = pace.first_interval;
    let keep = |d: Duration| d.clamp(pace.retry_after.0, pace.retry_after.1);
    let mut pause = match first {
        First::Now => None,
        First::AfterPause(asked) => Some(asked.map_or(backoff, keep)),
    };
    loop {
        if let Some(p) = pause {
            std::thread::sleep(p);
        }
        let (state, outcome) = look()?;
        if state != shown {
            errln!("[{:>6.1} s] {what}: {state}", start.elapsed().as_secs_f32());
            shown = state;
        }
        let retry_after = match outcome {
            Look::Done(t) => return Ok(t),
            Look::Running(after) => after,
        };
        if start.elapsed() > pace.limit {
            let minutes = pace.limit.as_secs() / 60;
            let err = CliError::general(format!("{what} still running after {minutes} minutes"));
            return Err(match pace.limit_hint {
                Some(hint) => err.hint(hint),
                None => err,
            });
        }
        pause = Some(retry_after.map_or(backoff, keep));
        backoff = (backoff * 2).min(pace.max_interval);
    }
}

/// The status of a security-domain operation as the HSM reports it.
pub struct Status {
    /// `InProgress`, `Success`, `Succeeded` (old api-versions) or `Failed`.
    pub status: String,
    /// The HSM's explanation.
    pub details: String,
    /// How long to wait before asking again.
    pub retry_after: Option<u64>,
}

impl Status {
    /// True for `Success` (and the older `Succeeded`).
    pub fn succeeded(&self) -> bool {
        self.status.eq_ignore_ascii_case("success") || self.status.eq_ignore_ascii_case("succeeded")
    }
    /// True for `Failed` (and `Canceled`).
    pub fn failed(&self) -> bool {
        self.status.eq_ignore_ascii_case("failed") || self.status.eq_ignore_ascii_case("canceled")
    }
}

/// Reads a security-domain status endpoint (`…/pending`) once.
pub fn status(client: &HsmClient, path: &str) -> CliResult<Status> {
    let resp = client.get(path)?;
    if resp.status != 200 {
        return Err(resp.error(&format!("GET {path}")));
    }
    let v = resp.json("status")?;
    // The HSM's words reach the terminal: escaped and capped, however long.
    let field =
        |k: &str| ceremony_cli::terminal::capped(v.get(k).and_then(|s| s.as_str()).unwrap_or_default());
    let status = field("status");
    if status.is_empty() {
        return Err(CliError::general(format!("GET {path}: the HSM's answer has no status"))
            .hint("check the URL points at a Managed HSM (or the emulator)"));
    }
    Ok(Status { status, details: field("status_details"), retry_after: resp.retry_after })
}

/// The security-domain operations' pace: the service normally needs well
/// under a minute and sends no `Retry-After`, so start quick and back off to
/// every 2 s.
const SECURITY_DOMAIN: Pace = Pace {
    first_interval: Duration::from_millis(250),
    max_interval: Duration::from_secs(2),
    retry_after: (Duration::from_secs(1), Duration::from_secs(30)),
    limit: Duration::from_secs(15 * 60),
    limit_hint: Some("check later with `uploader status`"),
};

/// Full backup and restore jobs: a backup of many keys takes minutes on the
/// real service; ask every 2 s at most, give up after an hour.
pub const JOBS: Pace = Pace {
    first_interval: Duration::from_millis(250),
    max_interval: Duration::from_secs(2),
    retry_after: (Duration::from_secs(1), Duration::from_secs(30)),
    limit: Duration::from_secs(60 * 60),
    limit_hint: Some("the job goes on in the HSM: its status is at /backup/JOB/pending (or /restore/…)"),
};

/// Polls a security-domain status endpoint until `Success` (Ok) or `Failed`
/// (an error carrying the HSM's reason).
pub fn wait(client: &HsmClient, path: &str, what: &str) -> CliResult<Status> {
    let result = until_done(what, SECURITY_DOMAIN, First::Now, || {
        let s = status(client, path)?;
        let state = format!("{}: {}", s.status, s.details);
        let look = if s.succeeded() || s.failed() {
            Look::Done(s)
        } else {
            Look::Running(s.retry_after.map(Duration::from_secs))
        };
        Ok((state, look))
    })?;
    if result.failed() {
        return Err(CliError::general(format!("{what} failed: {}", result.details))
            .hint("the HSM's reason is above; `uploader status` shows it again"));
    }
    Ok(result)
}
