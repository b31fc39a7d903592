//! Polling a security-domain operation until it ends, with visible progress.

use std::time::{Duration, Instant};

use ceremony_cli::errln;
use ceremony_cli::error::{CliError, CliResult};

use crate::client::HsmClient;

/// Longest we wait (the service normally needs well under a minute).
const LIMIT: Duration = Duration::from_secs(15 * 60);
/// The first pause between polls, doubled up to [`MAX_INTERVAL`].
const FIRST_INTERVAL: Duration = Duration::from_millis(250);
/// The longest pause between polls when the HSM does not say.
const MAX_INTERVAL: Duration = Duration::from_secs(2);

/// The status of an operation as the HSM reports it.
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

/// Reads `path` once.
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
        return Err(CliError::general(format!("GET {path}: the HSM's answer has no status")));
    }
    Ok(Status { status, details: field("status_details"), retry_after: resp.retry_after })
}

/// Polls until `Success` (Ok) or `Failed` (an error carrying the HSM's reason).
pub fn wait(client: &HsmClient, path: &str, what: &str) -> CliResult<Status> {
    let start = Instant::now();
    let mut last = String::new();
    let mut backoff = FIRST_INTERVAL;
    loop {
        let s = status(client, path)?;
        let line = format!("{}: {}", s.status, s.details);
        if line != last {
            errln!("[{:>5.1} s] {what}: {line}", start.elapsed().as_secs_f32());
            last = line;
        }
        if s.succeeded() {
            return Ok(s);
        }
        if s.failed() {
            return Err(CliError::general(format!("{what} failed: {}", s.details)));
        }
        if start.elapsed() > LIMIT {
            return Err(CliError::general(format!(
                "{what} still in progress after {} minutes",
                LIMIT.as_secs() / 60
            ))
            .hint("check later with `uploader status`"));
        }
        // The real service sends no Retry-After on these polls: start quick
        // (most operations end within seconds) and back off to every 2 s.
        let wait = match s.retry_after {
            Some(secs) => Duration::from_secs(secs.clamp(1, 30)),
            None => backoff,
        };
        std::thread::sleep(wait);
        backoff = (backoff * 2).min(MAX_INTERVAL);
    }
}
