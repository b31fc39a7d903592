//! `HSM_CEREMONY_TARGET=DIR`: the local emulator whose data folder is DIR
//! stands in for Azure, so that the README's own lines run against it
//! unchanged. The emulator writes what the tools need into DIR (`url`,
//! `ca.pem`, `token`, `principal`, `name`, `subscription`, `arm-url`,
//! `attestation-root.pem`, and `hsms/NAME/url` for each HSM it provisioned);
//! this module reads them. Every tool that uses it says so on stderr, as
//! `HSM_CEREMONY_NOW` does: a variable left set must never pass unnoticed.
//!
//! Flags given on the command line always win over what DIR supplies.

use std::path::{Path, PathBuf};
use std::sync::Once;

use crate::error::{CliError, CliResult};
use crate::{errln, files};

/// The environment variable naming the emulator's data folder.
pub const TARGET_VAR: &str = "HSM_CEREMONY_TARGET";

/// The emulator folder `HSM_CEREMONY_TARGET` names.
#[derive(Debug, Clone)]
pub struct LocalTarget {
    dir: PathBuf,
}

impl LocalTarget {
    /// The emulator folder, when `HSM_CEREMONY_TARGET` is set (and not empty).
    pub fn from_env() -> Option<LocalTarget> {
        let dir = std::env::var_os(TARGET_VAR).filter(|d| !d.is_empty())?;
        let target = LocalTarget { dir: PathBuf::from(dir) };
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            errln!(
                "note: {TARGET_VAR}={}: the local emulator there stands in for Azure",
                target.dir.display()
            )
        });
        Some(target)
    }

    /// The emulator's TLS certificate, to trust.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The emulator administrator's bearer token (both planes).
    pub fn token_file(&self) -> PathBuf {
        self.dir.join("token")
    }

    /// The test root the emulator's exchange keys are attested under (NOT Intel's).
    pub fn attestation_root(&self) -> PathBuf {
        self.dir.join("attestation-root.pem")
    }

    /// The data-plane URL of the HSM `name`: the emulator's own HSM, or one
    /// it provisioned through Resource Manager.
    pub fn hsm_url(&self, name: &str) -> CliResult<String> {
        let provisioned = self.dir.join("hsms").join(name.to_ascii_lowercase()).join("url");
        if provisioned.is_file() {
            return self.text(&provisioned);
        }
        let own = self.text(&self.dir.join("name"))?;
        if own.eq_ignore_ascii_case(name) {
            return self.text(&self.dir.join("url"));
        }
        Err(CliError::general(format!(
            "{TARGET_VAR}={}: the emulator there has no HSM {name:?} (its own is {own:?})",
            self.dir.display()
        ))
        .hint(format!(
            "provision it first (`uploader provision --name {name} ...`), or unset {TARGET_VAR} to reach Azure"
        )))
    }

    /// The Resource Manager URL.
    pub fn arm_url(&self) -> CliResult<String> {
        self.text(&self.dir.join("arm-url"))
    }

    /// The subscription the emulator stands for.
    pub fn subscription(&self) -> CliResult<String> {
        self.text(&self.dir.join("subscription"))
    }

    /// The administrator's object ID (the owner of [`Self::token_file`]).
    pub fn principal(&self) -> CliResult<String> {
        self.text(&self.dir.join("principal"))
    }

    /// One line the emulator published.
    fn text(&self, path: &Path) -> CliResult<String> {
        if !path.exists() {
            return Err(CliError::file(path, "missing: is an emulator running with this data folder?").hint(
                format!(
                    "start one with `mhsm-emulator --data-dir {}`, or unset {TARGET_VAR}",
                    self.dir.display()
                ),
            ));
        }
        Ok(files::read_text(path)?.trim().to_owned())
    }
}
