//! What every data-plane handler shares: the HSM's state behind one lock,
//! its data folder, its clock, and who may call it (the [`Gate`] the request
//! pipeline asks).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::state::HsmState;
use crate::clock::Clock;
use crate::error::{ApiError, azure_error, internal};
use crate::pipeline::{Gate, JSON_UTF8};
use crate::store;

/// The data-plane api-versions the emulator answers: what az (7.2 to 7.6,
/// 7.5-preview.1, 7.6-preview.2), PowerShell (7.2-preview), Azure's SDKs
/// (7.6, 2025-07-01, 2026-01-01-preview) and the security-domain client send.
pub const API_VERSIONS: &[&str] = &[
    "7.2-preview",
    "7.2",
    "7.3",
    "7.4",
    "7.5-preview.1",
    "7.5",
    "7.6-preview.2",
    "7.6",
    "2025-07-01",
    "2026-01-01-preview",
];

/// The newest generally available api-version of [`API_VERSIONS`].
pub const LATEST_API_VERSION: &str = "2025-07-01";

/// One HSM's data plane.
pub struct App {
    /// The HSM's name (a full backup's folder is named after it).
    pub name: String,
    /// The data folder.
    pub dir: PathBuf,
    /// `https://127.0.0.1:PORT`.
    pub base_url: String,
    /// The bearer token of the administrator.
    pub token: String,
    /// How long a download or upload stays `InProgress`.
    pub activation_delay: Duration,
    /// The clock operations complete by.
    pub clock: Clock,
    /// The HSM's state, persisted after every change.
    pub state: Mutex<HsmState>,
}

impl App {
    /// Locks the state with every operation that is due completed.
    pub fn current(&self) -> Result<MutexGuard<'_, HsmState>, ApiError> {
        let mut guard = self.state.lock().map_err(|_| internal("state lock poisoned"))?;
        if guard.advance(self.clock.now_ms()) {
            self.save(&guard)?;
        }
        Ok(guard)
    }

    /// Persists the state; a failure is a 500 (the change is not acknowledged).
    pub fn save(&self, state: &HsmState) -> Result<(), ApiError> {
        store::save_hsm(&self.dir, state).map_err(|e| internal(&format!("cannot persist state: {e}")))
    }

    /// The `Azure-AsyncOperation` URL of a pending endpoint.
    pub fn operation_url(&self, path: &str, api_version: &str) -> String {
        format!("{}{path}?api-version={api_version}", self.base_url)
    }
}

impl Gate for App {
    /// The administrator's (`DIR/token`), or one of `DIR/tokens/OBJECT_ID.token`
    /// (read at each request, so tests can add principals while it runs).
    fn principal(&self, presented: &str) -> Option<String> {
        let matches = |t: &str| bool::from(t.trim().as_bytes().ct_eq(presented.as_bytes()));
        if matches(&self.token) {
            return self.state.lock().ok().map(|s| s.admin_principal.clone());
        }
        let entries = std::fs::read_dir(self.dir.join("tokens")).ok()?;
        entries.filter_map(Result::ok).find_map(|e| {
            let path = e.path();
            let id = path.file_name()?.to_str()?.strip_suffix(".token")?.to_owned();
            let token = std::fs::read_to_string(&path).ok()?;
            matches(&token).then_some(id)
        })
    }

    /// Azure's challenge, JSON content type, and (as recorded) the two bytes
    /// `OK` as the body of a GET.
    fn challenge(&self, method: &Method) -> Response {
        let body = if method == Method::GET { Body::from("OK") } else { Body::empty() };
        let mut resp = Response::new(body);
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\"https://managedhsm.azure.net\"",
            ),
        );
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        resp
    }

    fn check_api_version(&self, v: &str) -> Result<(), ApiError> {
        if API_VERSIONS.contains(&v) {
            return Ok(());
        }
        Err(azure_error(
            StatusCode::BAD_REQUEST,
            // Key Vault's own answer to a version it does not know.
            "BadParameter",
            &format!(
                "The specified version ({v}) is not recognized. Consider using the latest supported version ({LATEST_API_VERSION})."
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::state::{Activation, SdOperationKind, StoredSecret};

    /// An activation completes when the emulator's clock says so, and is
    /// persisted then: driven by a manual clock, no test has to sleep.
    #[test]
    fn an_activation_completes_by_the_injected_clock() {
        let dir = std::env::temp_dir().join(format!("mhsm-clock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clock = Clock::manual(1_000_000);
        let mut state = HsmState::new(String::new(), String::new(), "admin".into());
        let secrets = vec![StoredSecret { tag: "t".into(), data: "AA".into() }];
        state.begin(SdOperationKind::Download, "confirming", clock.now_ms() + 1_500, Ok(secrets));
        let app = App {
            name: "hsm".into(),
            dir: dir.clone(),
            base_url: "https://127.0.0.1:1".into(),
            token: "t".into(),
            activation_delay: Duration::from_millis(1_500),
            clock: clock.clone(),
            state: Mutex::new(state),
        };
        assert_eq!(app.current().unwrap().activation, Activation::NotActivated);
        clock.advance(Duration::from_millis(1_499));
        assert_eq!(app.current().unwrap().activation, Activation::NotActivated);
        assert!(store::load_hsm(&dir).unwrap().is_none(), "nothing changed, nothing written");
        clock.advance(Duration::from_millis(1));
        assert_eq!(app.current().unwrap().activation, Activation::Active);
        let saved = store::load_hsm(&dir).unwrap().expect("saved when it completed");
        assert_eq!(saved.activation, Activation::Active);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
