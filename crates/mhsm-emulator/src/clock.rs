//! The emulator's clock, injected into both planes so that what happens
//! "later" (an activation finishing, provisioning, a soft-deleted HSM's
//! purge date) is decided by one clock a test can also drive by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Milliseconds since the epoch, from the system or set by hand.
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System,
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// The machine's clock.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock that stands still at `start_ms` until [`Clock::advance`]d
    /// (clones share it).
    pub fn manual(start_ms: u64) -> Clock {
        Clock(Source::Manual(Arc::new(AtomicU64::new(start_ms))))
    }

    /// Milliseconds since the epoch.
    pub fn now_ms(&self) -> u64 {
        match &self.0 {
            Source::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            Source::Manual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Seconds since the epoch.
    pub fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Moves a manual clock forward (the system clock moves by itself).
    pub fn advance(&self, by: Duration) {
        if let Source::Manual(ms) = &self.0 {
            ms.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
        }
    }
}

/// The time the emulator signs with (its exchange certificates): the
/// tools' `HSM_CEREMONY_NOW` when set, so that a rehearsal years ahead
/// gets an HSM made "then"; TLS and timing use the machine's clock.
pub fn signing_now() -> u64 {
    std::env::var("HSM_CEREMONY_NOW")
        .ok()
        .and_then(|text| sd_core::time::parse_instant(&text))
        .unwrap_or_else(|| Clock::system().now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        let shared = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        shared.advance(Duration::from_millis(1_500));
        assert_eq!((clock.now_ms(), clock.now()), (2_500, 2));
    }
}
