//! The tools' error: which file, what is wrong with it, what to do next.
//!
//! Formatting lives in one layer: `Display` is the message alone (with the
//! file it is about), wrapping adds context in front of it without losing the
//! hint, and only [`exit`] — called once, by `main` — writes `error:` and
//! `hint:`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status for every failure the tool detects (bad input, failed check).
/// clap uses 2 for a wrong command line.
pub const EXIT_FAILURE: u8 = 1;

/// An error as the user sees it.
#[derive(Debug)]
pub struct CliError {
    file: Option<PathBuf>,
    message: String,
    hint: Option<String>,
}

impl CliError {
    /// An error about `file`.
    pub fn file(file: &Path, message: impl fmt::Display) -> Self {
        CliError {
            file: Some(file.to_path_buf()),
            message: crate::terminal::capped(&message.to_string()),
            hint: None,
        }
    }

    /// An error not tied to one file. Messages may quote outside text: they
    /// are escaped and cut (see [`crate::terminal::capped`]).
    pub fn general(message: impl fmt::Display) -> Self {
        CliError { file: None, message: crate::terminal::capped(&message.to_string()), hint: None }
    }

    /// Adds advice on what to do next (replacing any earlier advice).
    pub fn hint(mut self, hint: impl fmt::Display) -> Self {
        self.hint = Some(hint.to_string());
        self
    }

    /// Puts `what` in front of the message ("what: file: message"), keeping
    /// the hint: for an error that means something more where it is caught.
    pub fn context(self, what: impl fmt::Display) -> Self {
        CliError { file: None, message: format!("{what}: {self}"), hint: self.hint }
    }

    /// The advice, if any.
    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: {}", p.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Ends a command: prints a failure as `error: …` and `hint: …` on stderr
/// and turns the result into the exit status.
pub fn exit(result: CliResult) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::errln!("error: {e}");
            if let Some(hint) = e.hint_text() {
                crate::errln!("hint: {hint}");
            }
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The whole life of a tool's process: core dumps off before anything
/// secret can be read (refusing to go on if that fails), then the command
/// `run` makes of the command line, ended by [`exit`].
pub fn run_hardened(run: impl FnOnce() -> CliResult) -> ExitCode {
    if let Err(e) = crate::hardening::disable_core_dumps() {
        crate::errln!("error: {e}; refusing to handle keys in a process that could dump core");
        return ExitCode::from(EXIT_FAILURE);
    }
    exit(run())
}

/// Attaches a file name to a core error.
pub trait InFile<T> {
    /// Maps the error to a [`CliError`] about `file`.
    fn in_file(self, file: &Path) -> CliResult<T>;
}

impl<T, E: fmt::Display> InFile<T> for Result<T, E> {
    fn in_file(self, file: &Path) -> CliResult<T> {
        // no hint: the generic conversion; callers that know the next step add it.
        self.map_err(|e| CliError::file(file, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_wraps_once_and_keeps_the_hint() {
        let inner =
            CliError::file(Path::new("blob.json"), "recovery failed").hint("ask for the shares again");
        let outer = inner.context("combine");
        assert_eq!(outer.to_string(), "combine: blob.json: recovery failed");
        assert_eq!(outer.hint_text(), Some("ask for the shares again"));
        assert!(!outer.to_string().contains("error:"));
    }
}
