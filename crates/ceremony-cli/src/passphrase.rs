//! Passphrases: from a file or from the terminal with no echo; never from an
//! argument or the environment. Held in zeroizing buffers.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};
use crate::files;

/// Shortest passphrase accepted for a new key file.
pub const MIN_NEW_LEN: usize = 8;

/// A passphrase file's content without its final line ending.
pub fn from_file(path: &Path) -> CliResult<Zeroizing<Vec<u8>>> {
    let mut data = Zeroizing::new(files::read(path)?);
    if data.ends_with(b"\n") {
        data.pop();
        if data.ends_with(b"\r") {
            data.pop();
        }
    }
    if data.is_empty() {
        return Err(CliError::file(path, "the passphrase file is empty")
            .hint("write the passphrase into it (one line), or leave out --passphrase-file to type it"));
    }
    Ok(data)
}

fn prompt(text: &str) -> CliResult<Zeroizing<Vec<u8>>> {
    let s = rpassword::prompt_password(text).map_err(|e| {
        CliError::general(format!("cannot read a passphrase from the terminal ({e})"))
            .hint("run in a terminal, or give --passphrase-file")
    })?;
    Ok(Zeroizing::new(s.into_bytes()))
}

/// How many times a passphrase typed on the terminal may be wrong.
pub const TRIES: u32 = 3;

/// The passphrase to unlock `key_path`: from `file` if given, else asked for.
pub fn for_key(key_path: &Path, file: Option<&Path>) -> CliResult<Zeroizing<Vec<u8>>> {
    match file {
        Some(f) => from_file(f),
        None => prompt(&format!("Passphrase for {}: ", key_path.display())),
    }
}

/// A passphrase for a new key file: from `file`, or asked twice on the terminal.
pub fn new_for(what: &Path, file: Option<&Path>) -> CliResult<Zeroizing<Vec<u8>>> {
    let pass = match file {
        Some(f) => from_file(f)?,
        None => {
            let a = prompt(&format!("New passphrase for {}: ", what.display()))?;
            // Said before it is typed a second time.
            if a.len() < MIN_NEW_LEN {
                return Err(too_short(None));
            }
            let b = prompt("Repeat the passphrase: ")?;
            if a != b {
                return Err(CliError::general("the two passphrases differ; nothing was written")
                    .hint("run the command again and type the same passphrase twice"));
            }
            a
        }
    };
    if pass.len() < MIN_NEW_LEN {
        return Err(too_short(file));
    }
    Ok(pass)
}

fn too_short(file: Option<&Path>) -> CliError {
    let message = format!("the passphrase is shorter than {MIN_NEW_LEN} characters");
    let e = match file {
        Some(f) => CliError::file(f, message),
        None => CliError::general(message),
    };
    e.hint("choose a longer one: several words are easier to type and harder to guess; nothing was written")
}
