//! Writing a file atomically, the one way hsm-ceremony writes every output
//! (the tools' keys, bundles and SD files; the emulator's state): a temporary
//! file with a random name in the same folder, created exclusively (so a
//! symlink planted there is never followed), written and fsynced, then linked
//! into place (which fails if the name exists, unless replacing was asked
//! for) and the folder fsynced. On any failure the temporary file is removed,
//! so a crash leaves the old file or the new one, never a partial one.
#![warn(missing_docs)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Writes `data` to `path` with `mode`. Without `replace`, an existing file
/// is an error ([`ErrorKind::AlreadyExists`]) and is left untouched.
pub fn write(path: &Path, data: &[u8], mode: u32, replace: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "is not a file name"))?
        .to_string_lossy()
        .into_owned();
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| io::Error::other(format!("the random number generator: {e}")))?;
    let hex: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".{name}.{hex}.tmp"));
    let result = (|| -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        if replace {
            fs::rename(&tmp, path)?;
        } else {
            match fs::hard_link(&tmp, path) {
                Ok(()) => fs::remove_file(&tmp)?,
                // Filesystems without hard links (FAT on removable media): the
                // caller's existence check stands in for the atomic one.
                Err(e) if e.kind() != ErrorKind::AlreadyExists && !path.exists() => fs::rename(&tmp, path)?,
                Err(e) => return Err(e),
            }
        }
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_with_the_mode_refuses_to_replace_unless_asked_and_leaves_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("atomic-file-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.json");
        write(&path, b"one", 0o600, false).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(write(&path, b"two", 0o600, false).unwrap_err().kind(), ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write(&path, b"two", 0o644, true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["out.json"], "no temporary file left");
        fs::remove_dir_all(&dir).unwrap();
    }
}
