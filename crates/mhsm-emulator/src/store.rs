//! What the emulator keeps in its data folder, and how: every file written
//! atomically (a restart at any moment finds the old state or the new one,
//! never a mix), the state files with mode 0600 (they hold the emulated
//! HSMs' secrets; this is a test tool, not an HSM).
//!
//! - `DIR/state.json`: the HSM of the data folder itself ([`HsmState`]);
//! - `DIR/arm.json`: the management plane's resources ([`ArmState`]);
//! - `DIR/hsms/NAME/`: the data folder of each HSM provisioned through it.

use std::path::{Path, PathBuf};

use crate::dataplane::state::HsmState;
use crate::error::StartError;
use crate::management::model::ArmState;

/// Writes `data` to `path` atomically with `mode`, replacing it: the tools'
/// writer ([`atomic_file::write`]).
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    atomic_file::write(path, data, mode, true)
}

/// Writes a small public file for scripts (`url`, `principal`...).
pub fn publish(path: &Path, text: &str) -> Result<(), StartError> {
    write_atomic(path, text.as_bytes(), 0o644).map_err(StartError::file(path))
}

/// Where an HSM's state lives in its data folder.
pub fn hsm_state_path(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Where the management plane's state lives.
pub fn arm_state_path(dir: &Path) -> PathBuf {
    dir.join("arm.json")
}

/// The data folder of the provisioned HSM `name`.
pub fn hsm_dir(dir: &Path, name: &str) -> PathBuf {
    dir.join("hsms").join(name.to_ascii_lowercase())
}

/// Reads a JSON state file, or `None` when there is none yet.
fn load<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, StartError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StartError::Corrupt { path: path.to_owned(), problem: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StartError::File { path: path.to_owned(), source: e }),
    }
}

fn save<T: serde::Serialize>(path: &Path, state: &T) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    write_atomic(path, &json, 0o600)
}

/// The HSM state of data folder `dir`, or `None` on first start.
pub fn load_hsm(dir: &Path) -> Result<Option<HsmState>, StartError> {
    load(&hsm_state_path(dir))
}

/// Persists an HSM's state.
pub fn save_hsm(dir: &Path, state: &HsmState) -> std::io::Result<()> {
    save(&hsm_state_path(dir), state)
}

/// The management plane's state (empty on first start).
pub fn load_arm(dir: &Path) -> Result<ArmState, StartError> {
    Ok(load(&arm_state_path(dir))?.unwrap_or_default())
}

/// Persists the management plane's state.
pub fn save_arm(dir: &Path, state: &ArmState) -> std::io::Result<()> {
    save(&arm_state_path(dir), state)
}
