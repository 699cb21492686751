//! The demo's private network: unprivileged user and network namespaces that the process
//! enters itself, with the city's addresses on the namespace's loopback. Nothing the demo
//! sends can leave it: the namespace has no link but `lo`.
//!
//! `unshare(CLONE_NEWUSER)` refuses a process with more than one thread, so [`enter`] runs
//! before any runtime or thread starts.

use std::collections::BTreeSet;
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

use nix::sched::{CloneFlags, unshare};

#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    #[error("the kernel refuses a private network namespace: {0}")]
    Refused(nix::Error),
    #[error("cannot map the user into its namespace ({file}): {source}")]
    Map {
        file: &'static str,
        source: std::io::Error,
    },
    #[error("cannot set up the namespace's loopback with `ip`: {0}")]
    Ip(String),
}

/// Enters new user and network namespaces, as root inside them (root of nothing outside),
/// so the demo may add addresses and open ping sockets there. Only this process and its
/// children are in them; the machine's network is untouched.
pub fn enter() -> Result<(), NamespaceError> {
    let (uid, gid) = (nix::unistd::getuid(), nix::unistd::getgid());
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET)
        .map_err(NamespaceError::Refused)?;
    let write = |file: &'static str, text: String| {
        std::fs::write(format!("/proc/self/{file}"), text)
            .map_err(|source| NamespaceError::Map { file, source })
    };
    // An unprivileged process must give up setgroups before it may map its group.
    write("setgroups", "deny".into())?;
    write("uid_map", format!("0 {uid} 1"))?;
    write("gid_map", format!("0 {gid} 1"))?;
    // Ping sockets for group 0, which the process now is: the site poller's echoes need
    // no raw socket then. Raw ones would work too (CAP_NET_RAW within the namespace).
    let _ = std::fs::write("/proc/sys/net/ipv4/ping_group_range", "0 0");
    Ok(())
}

/// Brings `lo` up and gives it `addresses`, in one run of iproute2's `ip -batch`: one
/// process for a few hundred addresses, and no netlink code of the demo's own to keep.
pub fn add_addresses(addresses: &BTreeSet<IpAddr>) -> Result<(), NamespaceError> {
    let mut batch = String::from("link set lo up\n");
    for address in addresses {
        // No duplicate address detection on IPv6: the addresses are usable at once.
        let (bits, options) = if address.is_ipv6() {
            (128, " nodad")
        } else {
            (32, "")
        };
        batch.push_str(&format!("address add {address}/{bits} dev lo{options}\n"));
    }
    let mut child = Command::new(ip()?)
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NamespaceError::Ip(e.to_string()))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(batch.as_bytes())
        .map_err(|e| NamespaceError::Ip(e.to_string()))?;
    let output = child
        .wait_with_output()
        .map_err(|e| NamespaceError::Ip(e.to_string()))?;
    if !output.status.success() {
        return Err(NamespaceError::Ip(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    Ok(())
}

/// iproute2's `ip`: on PATH, or where distributions put it (/usr/sbin is not on a
/// user's PATH on Debian).
fn ip() -> Result<std::path::PathBuf, NamespaceError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(Into::into))
        .map(|dir| dir.join("ip"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| NamespaceError::Ip("iproute2's `ip` is not installed".into()))
}
