//! Reading inputs and writing outputs.
//!
//! Every output is written atomically: a temporary file in the same folder,
//! written, fsynced, then linked into place (which fails if the name exists,
//! so an existing file is never replaced unless the user said `--force`), and
//! the folder fsynced. On any failure the temporary file is removed, so no
//! partial output is ever left behind.

use std::fs::{self, File};
use std::io::{ErrorKind, Read};

use std::path::{Path, PathBuf};
use zeroize::Zeroize;

use crate::error::{CliError, CliResult, InFile};

/// Mode for files holding secrets (private keys).
pub const SECRET_MODE: u32 = 0o600;
/// Mode for public outputs (certificates, bundles, SD files, restore blobs).
pub const PUBLIC_MODE: u32 = 0o644;

/// Largest input we read: SD files are ~20 KB, bundles smaller.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Makes sure `dir` is a folder to write new key material into: creates it
/// (and missing parents) with mode 0700 and says so, or checks that what is
/// there is a folder.
pub fn output_dir(dir: &Path) -> CliResult {
    ensure_dir(dir, 0o700)
}

/// [`output_dir`] for public files (man pages): created with mode 0755.
pub fn public_dir(dir: &Path) -> CliResult {
    ensure_dir(dir, 0o755)
}

/// Refuses a public file (`what`) that sits in a folder holding a `*.key`
/// file: that folder is key-bearing media, which never goes to the online
/// machine, so the tools that run there do not read from it.
pub fn refuse_keys_beside(path: &Path, what: &str) -> CliResult {
    let folder = match parent(path) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    let Ok(entries) = fs::read_dir(&folder) else { return Ok(()) };
    let mut keys: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".key"))
        .collect();
    keys.sort();
    match keys.first() {
        None => Ok(()),
        Some(key) => Err(CliError::file(
            path,
            format!("{what} sits beside a private key ({key}); key files never come to the online machine"),
        )
        .hint("bring only the public folder (the tools write it to DIR/public), and take the key media back offline")),
    }
}

/// True when `a` and `b` are the same folder (as named, or once both exist).
pub fn same_folder(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

fn ensure_dir(dir: &Path, mode: u32) -> CliResult {
    use std::os::unix::fs::DirBuilderExt;
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(CliError::file(dir, "exists and is not a folder").hint("choose another output folder")),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::DirBuilder::new().recursive(true).mode(mode).create(dir).map_err(|e| {
                CliError::file(dir, format!("cannot create the folder: {e}"))
                    .hint("check that the medium is mounted and writable, or choose another folder")
            })?;
            crate::errln!("created folder {} (mode {mode:04o})", dir.display());
            Ok(())
        }
        Err(e) => Err(CliError::file(dir, e).hint("check that the medium is mounted and readable")),
    }
}

/// Reads a whole input file, naming it in any error. At most [`MAX_INPUT`]
/// bytes are read whatever the file is (a device, a FIFO, a file that grows):
/// its size as reported is not trusted.
pub fn read(path: &Path) -> CliResult<Vec<u8>> {
    let file = File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => CliError::file(path, "no such file")
            .hint("check the name and the folder (is the medium mounted?)"),
        _ => CliError::file(path, e).hint("check that the file can be read by you"),
    })?;
    if file.metadata().in_file(path)?.is_dir() {
        return Err(CliError::file(path, "is a directory, not a file").hint("name the file inside it"));
    }
    let mut data = Vec::new();
    file.take(MAX_INPUT + 1).read_to_end(&mut data).in_file(path)?;
    if data.len() as u64 > MAX_INPUT {
        data.zeroize();
        return Err(CliError::file(
            path,
            format!("is larger than {} MiB; that is not a ceremony file", MAX_INPUT >> 20),
        )
        .hint("check which file was meant; `keyholder fingerprint FILE` says what a ceremony file is"));
    }
    Ok(data)
}

/// Reads an input file that must be UTF-8 text.
pub fn read_text(path: &Path) -> CliResult<String> {
    String::from_utf8(read(path)?).map_err(|e| {
        // It may be a key or a passphrase: wipe it even on this path.
        e.into_bytes().zeroize();
        CliError::file(path, "is not UTF-8 text")
            .hint("check which file was meant; `keyholder fingerprint FILE` says what a ceremony file is")
    })
}

/// Fails if a private key file already exists at `path`: a key is never
/// replaced, `--force` or not (its share may be the only way back in).
pub fn check_new_key(path: &Path) -> CliResult {
    if path.symlink_metadata().is_ok() {
        return Err(CliError::file(path, "a key file is already there; keys are never replaced, not even with --force")
            .hint("if a new key is really meant, move the old one away first (and keep it until its share is rotated out)"));
    }
    Ok(())
}

/// Fails if `path` exists and `force` is not set; its folder may not exist
/// yet (for outputs into folders the command creates).
pub fn check_not_replacing(path: &Path, force: bool) -> CliResult {
    if path.exists() && !force {
        return Err(CliError::file(path, "already exists; refusing to overwrite it")
            .hint("choose another output name, or pass --force to replace it"));
    }
    Ok(())
}

/// Fails if `path` exists and `force` is not set, or its folder does not
/// exist. Used to refuse before any work is done.
pub fn check_writable(path: &Path, force: bool) -> CliResult {
    check_not_replacing(path, force)?;
    if let Some(dir) = parent(path)
        && !dir.is_dir()
    {
        return Err(CliError::file(path, format!("folder {} does not exist", dir.display()))
            .hint("create the folder first (or check that the medium is mounted)"));
    }
    Ok(())
}

fn parent(path: &Path) -> Option<&Path> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => None,
        other => other,
    }
}

/// Writes `data` to `path` atomically with `mode`. Without `force` an existing
/// file is an error and is left untouched.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32, force: bool) -> CliResult {
    check_writable(path, force)?;
    atomic_file::write(path, data, mode, force).map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => CliError::file(path, "already exists; refusing to overwrite it")
            .hint("choose another output name, or pass --force to replace it"),
        ErrorKind::InvalidInput => {
            CliError::file(path, "is not a file name").hint("name a file, not a folder")
        }
        _ => CliError::file(path, format!("cannot write: {e}"))
            .hint("check that the medium is writable and has room; nothing was left half-written"),
    })
}

/// Several outputs that succeed or fail together: if one write fails, the
/// ones already written are removed again.
#[derive(Default)]
pub struct OutputSet {
    written: Vec<PathBuf>,
}

impl OutputSet {
    /// Writes one file of the set (see [`write_atomic`]).
    pub fn write(&mut self, path: &Path, data: &[u8], mode: u32, force: bool) -> CliResult {
        match write_atomic(path, data, mode, force) {
            Ok(()) => {
                self.written.push(path.to_path_buf());
                Ok(())
            }
            Err(e) => {
                for p in self.written.drain(..) {
                    let _ = fs::remove_file(p);
                }
                Err(e)
            }
        }
    }
}

/// The certificate that az pairs with a key file: same base name, `.cer`.
pub fn sibling_certificate(key_path: &Path) -> PathBuf {
    key_path.with_extension("cer")
}
