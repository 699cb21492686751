//! What the tests that build small networks of their own (tests/demo.rs, tests/hostile.rs,
//! tests/privileges.rs) share: network namespaces deleted when the test ends, `ip`, and an
//! unprivileged user to run sixfive as.

use std::process::Command;

/// Network namespaces made for one test, deleted when it ends however it ends.
pub struct Netns(pub Vec<String>);

impl Drop for Netns {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// Runs `ip` with `args`, failing the test when it fails.
pub fn ip(args: &str) {
    let status = Command::new("ip")
        .args(args.split_whitespace())
        .status()
        .unwrap();
    assert!(status.success(), "ip {args}");
}

// Not every test that shares this module runs sixfive as nobody.
#[allow(dead_code)]
pub fn which(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A folder that `nobody` may write to.
#[allow(dead_code)]
pub fn sandbox() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

/// The words that run a command as `nobody`, holding no capability, when the tests run as
/// root (with `setpriv`); none otherwise, as the user running the tests holds none.
#[allow(dead_code)]
pub fn as_nobody() -> Vec<&'static str> {
    if nix::unistd::getuid().is_root() && which("setpriv") {
        vec![
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
        ]
    } else {
        Vec::new()
    }
}
