//! `uploader key …`: the few key operations a drill needs to prove that keys
//! created before the "disaster" work after the recovery.

use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::{self, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::outln;
use sd_core::primitives::b64;
use serde_json::{Value, json};

use std::path::PathBuf;

use crate::cli::Target;
use crate::http::HsmClient;

#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Create an AES-256 key (oct-HSM).
    Create {
        /// Key name.
        #[arg(long)]
        name: String,
    },
    /// Encrypt a file with A256GCM; writes the Key Vault result JSON.
    Encrypt {
        /// Key name.
        #[arg(long)]
        name: String,
        /// Plaintext file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the ciphertext JSON.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Decrypt a ciphertext JSON made by `key encrypt`.
    Decrypt {
        /// Key name.
        #[arg(long)]
        name: String,
        /// Ciphertext JSON.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the plaintext.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Back up a key (protected by the security domain).
    Backup {
        /// Key name.
        #[arg(long)]
        name: String,
        /// Where to write the backup.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Restore a key backup into this HSM.
    Restore {
        /// The backup file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
    },
    /// Write down every key and version the HSM holds (type, operations,
    /// attributes, public-key thumbprint), to compare after a restore.
    Inventory(super::inventory::InventoryArgs),
    /// Compare two inventories: name every key or version missing, extra or
    /// changed; exit 1 unless they are the same.
    Diff(super::inventory::DiffArgs),
}

fn call(client: &HsmClient, path: &str, body: &Value, what: &str) -> CliResult<Value> {
    let resp = client.post(path, body.to_string().as_bytes())?;
    if resp.status != 200 {
        return Err(resp.error(what));
    }
    resp.json(what)
}

fn kid(v: &Value) -> &str {
    v.pointer("/key/kid").or_else(|| v.get("kid")).and_then(Value::as_str).unwrap_or("?")
}

fn check_name(name: &str) -> CliResult {
    if name.parse::<azure_shapes::KeyName>().is_err() {
        return Err(CliError::general(format!("--name {name:?}: key names are 0-9, a-z, A-Z and -"))
            .hint("choose a name of letters, digits and hyphens, e.g. drill-key"));
    }
    Ok(())
}

pub fn run(target: &Target, command: KeyCommand) -> CliResult {
    let client = &super::connect(target)?;
    match command {
        KeyCommand::Diff(args) => super::inventory::diff(args)?,
        KeyCommand::Inventory(args) => super::inventory::inventory(client, args)?,
        KeyCommand::Create { name } => {
            check_name(&name)?;
            let v = call(
                client,
                &format!("/keys/{name}/create"),
                &json!({"kty": "oct-HSM", "key_size": 256}),
                "key creation",
            )?;
            outln!("created {}", kid(&v));
        }
        KeyCommand::Encrypt { name, input, out } => {
            check_name(&name)?;
            files::check_writable(&out, false)?;
            let plain = zeroize::Zeroizing::new(files::read(&input)?);
            let v = call(
                client,
                &format!("/keys/{name}/encrypt"),
                &json!({"alg": "A256GCM", "value": b64::url_encode(&plain)}),
                "encryption",
            )?;
            let mut result = v.clone();
            result["alg"] = json!("A256GCM");
            files::write_atomic(&out, format!("{result:#}\n").as_bytes(), PUBLIC_MODE, false)?;
            outln!("encrypted {} with {} into {}", input.display(), kid(&v), out.display());
        }
        KeyCommand::Decrypt { name, input, out } => {
            check_name(&name)?;
            files::check_writable(&out, false)?;
            let c: Value = serde_json::from_slice(&files::read(&input)?).in_file(&input)?;
            let field = |k: &str| {
                c.get(k).cloned().ok_or_else(|| {
                    CliError::file(&input, format!("has no {k:?}"))
                        .hint("give the file `uploader key encrypt` wrote")
                })
            };
            let body =
                json!({"alg": "A256GCM", "value": field("value")?, "iv": field("iv")?, "tag": field("tag")?});
            let v = call(client, &format!("/keys/{name}/decrypt"), &body, "decryption")?;
            let value = v.get("value").and_then(Value::as_str).ok_or_else(|| {
                CliError::general("decryption returned no value")
                    .hint("check the URL points at a Managed HSM")
            })?;
            let plain = zeroize::Zeroizing::new(b64::url_decode(value, "value").map_err(CliError::general)?);
            files::write_atomic(&out, &plain, SECRET_MODE, false)?;
            outln!("decrypted {} with {} into {}", input.display(), kid(&v), out.display());
        }
        KeyCommand::Backup { name, out } => {
            check_name(&name)?;
            files::check_writable(&out, false)?;
            let v = call(client, &format!("/keys/{name}/backup"), &json!({}), "key backup")?;
            let value = v.get("value").and_then(Value::as_str).ok_or_else(|| {
                CliError::general("backup returned no value").hint("check the URL points at a Managed HSM")
            })?;
            files::write_atomic(&out, value.as_bytes(), PUBLIC_MODE, false)?;
            outln!("backed up key {name} into {}", out.display());
        }
        KeyCommand::Restore { input } => {
            let value = files::read_text(&input)?;
            let v = call(client, "/keys/restore", &json!({"value": value.trim()}), "key restore")?;
            outln!("restored {}", kid(&v));
        }
    }
    Ok(())
}
