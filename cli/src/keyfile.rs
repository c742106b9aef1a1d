//! The store key of a data directory, kept in a 0600 file until the platform
//! keystores of the apps take over that job.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::Path;

use tessera_core::{STORE_FILE, StoreKey};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};

pub const KEY_FILE: &str = "store.key";

/// Reads the data directory's key, or creates one for a directory without a store.
pub fn load_or_create(data_dir: &Path) -> CliResult<StoreKey> {
    let path = data_dir.join(KEY_FILE);
    match fs::read(&path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            refuse_if_shared(&path)?;
            StoreKey::from_slice(&bytes)
                .map_err(|_| CliError::KeyFile(format!("{} is not a 32-byte key", path.display())))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if data_dir.join(STORE_FILE).exists() {
                return Err(CliError::KeyFile(format!(
                    "{} is missing; without it the codes in {} cannot be read",
                    path.display(),
                    data_dir.display()
                )));
            }
            create(data_dir, &path)
        }
        Err(e) => Err(CliError::KeyFile(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes a fresh key atomically: a private temporary file renamed into place,
/// so a crash never leaves half a key behind.
fn create(data_dir: &Path, path: &Path) -> CliResult<StoreKey> {
    let failed = |e: std::io::Error| CliError::KeyFile(format!("cannot create {}: {e}", path.display()));
    fs::create_dir_all(data_dir).map_err(failed)?;
    let key = StoreKey::generate()?;
    // tempfile creates the file readable by its owner only (0600).
    let mut file = tempfile::NamedTempFile::new_in(data_dir).map_err(failed)?;
    file.write_all(key.as_bytes()).map_err(failed)?;
    file.as_file().sync_all().map_err(failed)?;
    file.persist_noclobber(path).map_err(|e| failed(e.error))?;
    Ok(key)
}

#[cfg(unix)]
fn refuse_if_shared(path: &Path) -> CliResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| CliError::KeyFile(format!("cannot read {}: {e}", path.display())))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CliError::KeyFile(format!(
            "{} can be read by other users (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_shared(_path: &Path) -> CliResult<()> {
    Ok(())
}
