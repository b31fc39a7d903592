//! How to point the tools at this emulator: printed on start and written to
//! `DIR/env` (a shell file that sets `HSM_CEREMONY_TARGET=DIR`, which the
//! tools read), with the same as explicit flags for both planes. The files
//! the tools read through `HSM_CEREMONY_TARGET` are published here too:
//! `name` (this HSM's) and `subscription` (the one the emulator stands for).

use std::path::Path;

use crate::error::StartError;
use crate::store;

/// What a newcomer needs to reach this emulator.
pub struct Directions<'a> {
    /// The data folder, absolute.
    pub dir: &'a Path,
    /// The URL both planes answer on.
    pub url: &'a str,
    /// The emulator's own HSM.
    pub hsm_name: &'a str,
    /// The subscription Resource Manager answers for.
    pub subscription: &'a str,
    /// The administrator (the owner of `DIR/token`).
    pub principal: &'a str,
}

/// The subscription kept in `DIR/subscription`, made on first start.
pub fn subscription(dir: &Path) -> Result<String, StartError> {
    let path = dir.join("subscription");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(id) = text.trim().parse::<azure_shapes::SubscriptionId>()
    {
        return Ok(id.to_string());
    }
    let id = azure_shapes::Guid::random()
        .map_err(|e| StartError::Server(format!("random subscription ID: {e}")))?
        .to_string();
    store::publish(&path, &format!("{id}\n"))?;
    Ok(id)
}

impl Directions<'_> {
    /// Publishes `DIR/name` (before the URL files scripts wait on).
    pub fn publish_name(&self) -> Result<(), StartError> {
        store::publish(&self.dir.join("name"), &format!("{}\n", self.hsm_name))
    }

    /// Writes `DIR/env` (last: its presence means everything is in place).
    pub fn publish_env(&self) -> Result<(), StartError> {
        let text = format!(
            "# Source this file (. {env}) to point hsm-ceremony's tools at the emulator in\n\
             # {dir}: --hsm {name} (and any HSM it provisions) means this emulator, and\n\
             # Resource Manager, its token and its TLS certificate come from the folder.\n\
             HSM_CEREMONY_TARGET={dir_quoted}\nexport HSM_CEREMONY_TARGET\n",
            env = self.dir.join("env").display(),
            dir = self.dir.display(),
            name = self.hsm_name,
            dir_quoted = shell_quote(&self.dir.display().to_string()),
        );
        store::publish(&self.dir.join("env"), &text)
    }

    /// The lines printed on start.
    pub fn text(&self) -> String {
        let d = self.dir.display();
        format!(
            "HSM {name:?} at {url}; Resource Manager at {url} (subscription {sub}, administrator {who})\n\
             point the tools at it:  . {d}/env   (sets HSM_CEREMONY_TARGET={d}; then `uploader --hsm {name} ...`)\n\
             or with flags:\n  \
             uploader --hsm-url {url} --hsm-name {name} --ca-cert {d}/ca.pem --token-file {d}/token COMMAND ...\n  \
             uploader provision|show|delete|list-deleted|purge|recover ... --arm-url {url} --arm-token-file {d}/token --subscription {sub} --ca-cert {d}/ca.pem\n  \
             keyholder share|combine|restore-blob|exchange-key ... --attestation-root {d}/attestation-root.pem   (a test root, NOT Intel's)",
            name = self.hsm_name,
            url = self.url,
            sub = self.subscription,
            who = self.principal,
        )
    }
}

/// `text` in single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
