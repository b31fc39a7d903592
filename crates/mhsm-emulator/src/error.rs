//! The emulator's errors: what a request is answered with, in Azure's shape,
//! and why the emulator could not start.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error response in Azure's shape: `{"error":{"code":…,"message":…}}`
/// (the data plane's and Resource Manager's alike).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, axum::Json(body)).into_response()
    }
}

/// Builds an [`ApiError`].
pub fn azure_error(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError { status, code: code.to_owned(), message: message.to_owned() }
}

/// A 500 for what went wrong inside the emulator (the change is not acknowledged).
pub fn internal(message: &str) -> ApiError {
    azure_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
}

/// Why the emulator (or one HSM's data plane) could not start.
#[derive(Debug)]
pub enum StartError {
    /// A file in the data folder could not be read or written.
    File {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file in the data folder is not what the emulator wrote there.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The token given is not usable as a bearer token.
    BadToken,
    /// Making a key or certificate failed.
    Crypto(sd_core::Error),
    /// The address cannot be listened on.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The server could not be set up or stopped with an error.
    Server(String),
}

impl StartError {
    /// A file error for `path`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StartError {
        let path = path.into();
        move |source| StartError::File { path, source }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::File { path, source } => write!(f, "{}: {source}", path.display()),
            StartError::Corrupt { path, problem } => write!(f, "{}: corrupt: {problem}", path.display()),
            StartError::BadToken => f.write_str("the token must be non-empty printable ASCII"),
            StartError::Crypto(e) => write!(f, "{e}"),
            StartError::Listen { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            StartError::Server(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for StartError {}

impl From<sd_core::Error> for StartError {
    fn from(e: sd_core::Error) -> Self {
        StartError::Crypto(e)
    }
}
