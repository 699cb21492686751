//! Reads SNMP secrets from where the inventory says they are. Errors name the variable
//! or file, never the value.

use std::path::{Path, PathBuf};

use crate::model::SecretRef;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("no {0} given")]
    Missing(&'static str),
    #[error("{name} is given in more than one way")]
    Ambiguous { name: &'static str },
    #[error("environment variable `{var}` for {name} is not set")]
    EnvUnset { name: &'static str, var: String },
    #[error("environment variable `{var}` for {name} is empty")]
    EnvEmpty { name: &'static str, var: String },
    #[error("cannot read {name} file {}: {reason}", path.display())]
    FileUnreadable {
        name: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{name} file {} is empty", path.display())]
    FileEmpty { name: &'static str, path: PathBuf },
}

/// The permission bits of a secret file that group or others may use, when any are set: a
/// secret should be its owner's alone, as ssh asks of a private key. None when the file is
/// private or cannot be read (which [`read_secret`] reports). A link's target is what counts.
pub fn open_to_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// The secret's value, from its environment variable, its file (first line) or literally.
pub fn read_secret(secret: &SecretRef<'_>) -> Result<String, SecretError> {
    let name = secret.name;
    let given = [
        secret.env.is_some(),
        secret.file.is_some(),
        secret.literal.is_some(),
    ];
    match given.iter().filter(|g| **g).count() {
        0 => return Err(SecretError::Missing(name)),
        1 => {}
        _ => return Err(SecretError::Ambiguous { name }),
    }
    if let Some(var) = secret.env {
        let value = std::env::var(var).map_err(|_| SecretError::EnvUnset {
            name,
            var: var.to_owned(),
        })?;
        if value.is_empty() {
            return Err(SecretError::EnvEmpty {
                name,
                var: var.to_owned(),
            });
        }
        return Ok(value);
    }
    if let Some(path) = secret.file {
        let text = std::fs::read_to_string(path).map_err(|e| SecretError::FileUnreadable {
            name,
            path: path.to_path_buf(),
            reason: e.kind().to_string(),
        })?;
        let value = text.lines().next().unwrap_or("").trim_end().to_owned();
        if value.is_empty() {
            return Err(SecretError::FileEmpty {
                name,
                path: path.to_path_buf(),
            });
        }
        return Ok(value);
    }
    Ok(secret
        .literal
        .map(|literal| literal.expose().to_owned())
        .unwrap_or_default())
}
