//! A terminal program under test, as an engineer sees it: run in a tmux server of the
//! test's own at 80×24, keys sent with send-keys, the screen read with capture-pane. Shared
//! by the tests that drive the TUI (tests/tui.rs, tests/secrets.rs).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of the test's own (its own socket), killed when dropped.
pub struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Runs `command` in a new 80×24 session, with `env` set for it alone.
    pub fn start(dir: &Path, command: &[&str], env: &[(&str, &Path)]) -> Tmux {
        let socket = dir.join("tmux.sock");
        let mut line: Vec<String> = vec!["env".into()];
        line.extend(env.iter().map(|(k, v)| format!("{k}={}", v.display())));
        line.extend(command.iter().map(|c| format!("'{c}'")));
        // The pane stays after the program ends, so the test can read its last screen.
        let status = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "80",
                "-y",
                "24",
            ])
            .arg(line.join(" "))
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session");
        let tmux = Tmux { socket };
        tmux.run(&["set-option", "-t", "t", "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types `keys` as tmux names them (`Enter`, `Escape`, or literal text with `-l`).
    pub fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "t", keys]);
    }

    // Not every test that shares this module types text.
    #[allow(dead_code)]
    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "t", "-l", text]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-t", "t", "-p"])
    }

    /// The first screen that `wanted` accepts, polled until `limit`.
    pub fn wait(&self, limit: Duration, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if wanted(&screen) {
                return screen;
            }
            assert!(
                started.elapsed() < limit,
                "no {what} within {limit:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn ended(&self) -> bool {
        self.run(&["display-message", "-t", "t", "-p", "#{pane_dead}"])
            .trim()
            == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}
