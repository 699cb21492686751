//! The XDG base directories sixfive keeps its files under: the store (data), the UI's
//! settings (config) and the agent's spool (state), one rule for all three.

use std::path::PathBuf;

/// `$var/sixfive` when `var` holds an absolute path (the specification ignores relative
/// ones), else `$HOME/<home_default>/sixfive`; None without either.
pub fn sixfive_dir(var: &str, home_default: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(home_default)))
        .map(|dir| dir.join("sixfive"))
}
