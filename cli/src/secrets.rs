//! The CLI's secure store: one file per secret in `<data dir>/secrets/`, readable by
//! its owner only (0600, in a 0700 folder), written atomically. Phones use their
//! keychain instead; on a desktop this is what an SSH key gets.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use tessera_core::{SecureStore, SecureStoreError};

pub const SECRETS_DIR: &str = "secrets";

#[derive(Debug)]
pub struct FileSecureStore {
    dir: PathBuf,
}

impl FileSecureStore {
    pub fn new(data_dir: &Path) -> Self {
        FileSecureStore {
            dir: data_dir.join(SECRETS_DIR),
        }
    }

    fn path(&self, key: &str) -> Result<PathBuf, SecureStoreError> {
        let safe = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && !key.starts_with('.');
        if !safe {
            return Err(failure(format!("{key:?} is not a valid secret name")));
        }
        Ok(self.dir.join(key))
    }
}

impl SecureStore for FileSecureStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, SecureStoreError> {
        let path = self.path(key)?;
        match fs::read(&path) {
            Ok(bytes) => {
                refuse_if_shared(&path)?;
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(failure(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// Writes a private temporary file and renames it into place, so a crash never
    /// leaves half a secret behind.
    fn put(&self, key: &str, value: &[u8]) -> Result<(), SecureStoreError> {
        let path = self.path(key)?;
        let failed = |e: std::io::Error| failure(format!("cannot write {}: {e}", path.display()));
        create_private_dir(&self.dir).map_err(failed)?;
        // tempfile creates the file readable by its owner only (0600).
        let mut file = tempfile::NamedTempFile::new_in(&self.dir).map_err(failed)?;
        file.write_all(value).map_err(failed)?;
        file.as_file().sync_all().map_err(failed)?;
        file.persist(&path).map_err(|e| failed(e.error))?;
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), SecureStoreError> {
        let path = self.path(key)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(failure(format!("cannot delete {}: {e}", path.display())))
            }
            _ => Ok(()),
        }
    }
}

fn failure(reason: String) -> SecureStoreError {
    SecureStoreError { reason }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn refuse_if_shared(path: &Path) -> Result<(), SecureStoreError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| failure(format!("cannot read {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(failure(format!(
            "{} can be read by other users (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_shared(_path: &Path) -> Result<(), SecureStoreError> {
    Ok(())
}
