//! The tools' clock. Certificates, requests and combiners are judged against
//! it, so a disaster-recovery rehearsal years ahead ("will this still work
//! when the operator certificate is old?") sets it with `HSM_CEREMONY_NOW`
//! (seconds since the Unix epoch, or RFC 3339 UTC) instead of moving the
//! machine's clock; every tool then says so on stderr, once, so a moved clock
//! is never silent. TLS is not affected: it keeps the machine's clock.

use std::sync::OnceLock;

/// The variable that sets the clock, for rehearsals.
pub const CLOCK_VAR: &str = "HSM_CEREMONY_NOW";

fn system_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The time `HSM_CEREMONY_NOW` sets, read once: `Some(seconds)`, or `None`
/// for the machine's clock (unset, or unreadable: then a warning says it is ignored).
fn rehearsal_time() -> Option<u64> {
    static SET: OnceLock<Option<u64>> = OnceLock::new();
    *SET.get_or_init(|| {
        let text = std::env::var(CLOCK_VAR).ok().filter(|t| !t.trim().is_empty())?;
        let text = text.trim();
        match sd_core::time::parse_instant(text) {
            Some(t) => {
                crate::errln!(
                    "note: {CLOCK_VAR} sets this tool's clock to {} (a rehearsal; the machine says {})",
                    sd_core::time::rfc3339(t),
                    sd_core::time::rfc3339(system_now())
                );
                Some(t)
            }
            None => {
                crate::errln!(
                    "warning: {CLOCK_VAR}={text:?} is not a time (seconds since 1970, or RFC 3339 UTC); the machine's clock is used"
                );
                None
            }
        }
    })
}

/// Seconds since the Unix epoch: `HSM_CEREMONY_NOW` when set, else the machine's clock.
pub fn now_unix() -> u64 {
    rehearsal_time().unwrap_or_else(system_now)
}
