//! The keyholder's error: which file, what is wrong with it, what to do next.

use std::fmt;
use std::path::{Path, PathBuf};

/// Exit status for every failure the tool detects (bad input, failed check).
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
            message: crate::terminal::message(&message.to_string()),
            hint: None,
        }
    }

    /// An error not tied to one file. Messages may quote outside text: they
    /// are escaped and cut (see [`crate::terminal::message`]).
    pub fn general(message: impl fmt::Display) -> Self {
        CliError { file: None, message: crate::terminal::message(&message.to_string()), hint: None }
    }

    /// Adds advice on what to do next.
    pub fn hint(mut self, hint: impl fmt::Display) -> Self {
        self.hint = Some(hint.to_string());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "error: {}: {}", p.display(), self.message)?,
            None => write!(f, "error: {}", self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "\nhint: {h}")?;
        }
        Ok(())
    }
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

/// Attaches a file name to a core error.
pub trait InFile<T> {
    /// Maps the error to a [`CliError`] about `file`.
    fn in_file(self, file: &Path) -> CliResult<T>;
}

impl<T, E: fmt::Display> InFile<T> for Result<T, E> {
    fn in_file(self, file: &Path) -> CliResult<T> {
        self.map_err(|e| CliError::file(file, e))
    }
}
