//! What the hsm-ceremony command-line tools share: errors that name the file,
//! atomic no-overwrite outputs, passphrase input, and loading key files.
//! No networking: the offline `keyholder` depends on this crate.
#![forbid(unsafe_code)]

pub mod args;
pub mod artifacts;
pub mod clock;
pub mod confirm;
pub mod error;
pub mod exchange_key;
pub mod files;
pub mod hardening;
pub mod identity;
pub mod local_target;
pub mod manual;
pub mod passphrase;
pub mod pkcs11;
pub mod terminal;
pub mod unlocked_key;

/// `println!` that never panics: a closed pipe (`tool … | head`) must not turn
/// into a crash (the results that matter are files); and whatever came from
/// outside reaches the terminal with its control characters escaped.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = $crate::terminal::printable_lines(&format!($($arg)*));
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }};
}

/// `eprintln!` that never panics (progress and errors), escaped like [`outln!`].
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = $crate::terminal::printable_lines(&format!($($arg)*));
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }};
}

/// Seconds since the Unix epoch (the binaries own the clock; sd-core reads
/// none): the machine's, or the rehearsal time `HSM_CEREMONY_NOW` sets.
pub use clock::now_unix;

/// The operating system's RNG.
pub fn rng() -> getrandom::SysRng {
    getrandom::SysRng
}
