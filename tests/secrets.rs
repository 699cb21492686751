//! No secret leaves sixfive. With the sites lab's SNMP communities and v3 passphrases (the
//! right ones and the wrong ones its routers refuse) and a DSN password, every command runs
//! at its most verbose log level, as text and as JSON: `inventory validate|import|edit|list`
//! (the audit log too), `check` in every format, `sites`, `scan`, the agent (its log,
//! /metrics, /healthz, /readyz), `report` in every format and the TUI's screens. Then every
//! byte they printed or wrote, and the stores, are searched for each secret.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sixfive_inventory::store::{RunKind, RunStatus};
use sixfive_inventory::{Store, StoreUrl};

mod common;
use common::{lab, lab_city, sites_secrets, sixfive_in};
#[path = "common/tmux.rs"]
mod tmux;

/// A password no output may show; the store it names is never there (port 1 on loopback).
const DSN: &str = "postgres://sixfive:dsn-pass-5e2b91@[::1]:1/sixfive";

/// Everything the commands printed or wrote, each named for the failure message.
#[derive(Default)]
struct Seen(Vec<(String, Vec<u8>)>);

impl Seen {
    fn output(&mut self, what: &str, out: &Output) {
        self.0.push((format!("{what}: stdout"), out.stdout.clone()));
        self.0.push((format!("{what}: stderr"), out.stderr.clone()));
    }

    fn text(&mut self, what: &str, text: &str) {
        self.0.push((what.to_owned(), text.as_bytes().to_vec()));
    }

    /// Every file under `path` but the secret files themselves; a workbook's parts
    /// unzipped, as its XML is compressed.
    fn files(&mut self, path: &Path) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                let entry = entry.unwrap().path();
                if !entry.ends_with("secrets") {
                    self.files(&entry);
                }
            }
            return;
        }
        if !path.is_file() {
            return; // tmux's socket
        }
        let bytes = std::fs::read(path).unwrap();
        if path.extension().is_some_and(|e| e == "xlsx") {
            let mut workbook = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
            for i in 0..workbook.len() {
                let mut part = workbook.by_index(i).unwrap();
                let mut xml = Vec::new();
                part.read_to_end(&mut xml).unwrap();
                self.0.push((
                    format!("{} ({})", path.display(), part.name().unwrap()),
                    xml,
                ));
            }
        }
        self.0.push((path.display().to_string(), bytes));
    }

    fn assert_free_of(&self, secrets: &[String]) {
        for secret in secrets {
            for (what, bytes) in &self.0 {
                let found = bytes
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes());
                assert!(!found, "the secret `{secret}` appears in {what}");
            }
        }
    }
}

#[test]
fn no_command_prints_logs_serves_or_stores_a_secret() {
    let Some((netns, _)) = lab() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inventory = lab_city(dir.path());
    let db = dir.path().join("store.db");
    let community = &sites_secrets()[0];
    let mut seen = Seen::default();
    let sixfive = |args: &[&str]| -> Output {
        sixfive_in(&netns, &db, &inventory)
            .env("SIXFIVE_LAB_COMMUNITY", community)
            // -vvv is the whole log only when no log filter of the caller's replaces it.
            .env_remove("SIXFIVE_LOG")
            .arg("-vvv")
            .args(args)
            .output()
            .unwrap()
    };

    let validate = sixfive(&["inventory", "validate"]);
    assert!(validate.status.success(), "{validate:?}");
    seen.output("inventory validate", &validate);
    let import = sixfive(&["inventory", "import"]);
    assert!(import.status.success(), "{import:?}");
    seen.output("inventory import", &import);
    let edited = sixfive(&["inventory", "edit", "ready.lab.test", "--owner", "Lab Ops"]);
    assert!(edited.status.success(), "{edited:?}");
    seen.output("inventory edit", &edited);
    for what in ["hosts", "sites", "changes", "audit"] {
        for format in ["json", "table"] {
            let listed = sixfive(&["inventory", "list", what, "--format", format]);
            assert!(listed.status.success(), "{listed:?}");
            seen.output(&format!("inventory list {what} --format {format}"), &listed);
        }
    }
    for format in ["json", "table", "junit", "sarif", "github"] {
        let checked = sixfive(&["check", "--format", format]);
        assert_eq!(checked.status.code(), Some(2), "a BROKEN host: {checked:?}");
        seen.output(&format!("check --format {format}"), &checked);
    }
    for format in ["json", "table"] {
        let polled = sixfive(&["sites", "--format", format, "--pings", "1"]);
        let table = String::from_utf8_lossy(&polled.stdout);
        assert!(
            format == "json" || table.contains("AUTH FAILED"),
            "the wrong community and key were tried: {table}"
        );
        assert!(
            String::from_utf8_lossy(&polled.stderr).contains("TRACE"),
            "the most verbose log was written"
        );
        seen.output(&format!("sites --format {format}"), &polled);
        let scanned = sixfive(&["scan", "--format", format, "--pings", "1"]);
        assert_eq!(scanned.status.code(), Some(2), "a BROKEN host: {scanned:?}");
        seen.output(&format!("scan --format {format}"), &scanned);
    }
    let json_log = sixfive(&["--log-format", "json", "sites", "--pings", "1"]);
    assert!(
        String::from_utf8_lossy(&json_log.stderr).contains(r#""level":"TRACE""#),
        "{json_log:?}"
    );
    seen.output("sites --log-format json", &json_log);

    seen.output(
        "the agent",
        &agent(&netns, dir.path(), &inventory, community),
    );

    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    for format in ["html", "xlsx", "csv", "json", "md"] {
        let file = reports.join(format!("report.{format}"));
        let out = sixfive(&["report", "--format", format, "-o", file.to_str().unwrap()]);
        assert!(out.status.success(), "{out:?}");
        seen.output(&format!("report --format {format}"), &out);
    }

    for (what, screen) in tui_screens(dir.path(), &db, &inventory) {
        seen.text(&format!("the TUI's {what}"), &screen);
    }

    // A DSN's password, wherever the store it names is refused.
    let unwritten = dir.path().join("never-written.json");
    for args in [
        &["inventory", "list", "hosts"][..],
        &[
            "report",
            "--format",
            "json",
            "-o",
            unwritten.to_str().unwrap(),
        ],
    ] {
        let refused = Command::new(env!("CARGO_BIN_EXE_sixfive"))
            .args(["-vvv", "--db", DSN])
            .args(args)
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("[::1]:1"),
            "the error names the store: {refused:?}"
        );
        seen.output(&format!("--db postgres://… {}", args.join(" ")), &refused);
    }

    // Everything written: the stores and their WALs, the reports, the agent's spool.
    seen.files(dir.path());
    assert!(
        seen.0.iter().any(|(what, _)| what.ends_with("store.db")),
        "the store was searched"
    );
    let mut secrets = sites_secrets();
    secrets.push("dsn-pass-5e2b91".into());
    seen.assert_free_of(&secrets);
}

/// A process killed when dropped: an agent left behind by a failed assertion would go on
/// polling in the lab's namespace.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The agent on the lab city until it has stored a run of hosts and one of sites, its
/// endpoint read from inside the namespace; then stopped with SIGTERM. Its log, and the
/// pages it served as stdout.
fn agent(netns: &str, dir: &Path, inventory: &Path, community: &str) -> Output {
    let text = std::fs::read_to_string(inventory).unwrap();
    let scheduled = dir.join("agent.yaml");
    std::fs::write(
        &scheduled,
        text.replacen(
            "scan:\n",
            "scan:\n  schedule: { hosts: 5s, sites: 5s, jitter: 0% }\n",
            1,
        ),
    )
    .unwrap();
    let db = dir.join("agent.db");
    // Below the ephemeral ports, so no connection of another test's holds it.
    let listen = format!("[::1]:{}", 10000 + std::process::id() % 20000);
    // A file, not a pipe: a trace log fills a pipe nobody reads before the agent stops.
    let log = dir.join("agent.log");
    let mut agent = Running(
        sixfive_in(netns, &db, &scheduled)
            .env("SIXFIVE_LAB_COMMUNITY", community)
            .env_remove("SIXFIVE_LOG")
            .args(["-vvv", "agent", "--metrics-per-check", "--listen", &listen])
            .arg("--spool")
            .arg(dir.join("spool"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stored = |kind| {
        runtime.block_on(async {
            let store = Store::open(&StoreUrl::Sqlite(db.clone())).await.unwrap();
            let runs = store.runs().await.unwrap();
            store.close().await;
            runs.iter()
                .any(|r| r.kind == kind && r.status == RunStatus::Complete)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut waiting = |until: &dyn Fn() -> bool, what: &str| {
        while !until() {
            assert!(
                Instant::now() < deadline && agent.0.try_wait().unwrap().is_none(),
                "the agent {what}: {}",
                std::fs::read_to_string(&log).unwrap()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    // Its store made and migrated by the agent first: the test only reads it.
    waiting(
        &|| std::fs::read_to_string(&log).is_ok_and(|l| l.contains("agent started")),
        "did not start",
    );
    waiting(
        &|| stored(RunKind::Hosts) && stored(RunKind::Sites),
        "stored no run of each kind",
    );
    let mut pages = Vec::new();
    for path in ["/metrics", "/healthz", "/readyz"] {
        let url = format!("http://{listen}{path}");
        let got = Command::new("ip")
            .args(["netns", "exec", netns, "curl", "-sS", "-g", &url])
            .output()
            .unwrap();
        assert!(got.status.success(), "{path}: {got:?}");
        pages.extend(got.stdout);
    }
    assert!(
        String::from_utf8_lossy(&pages).contains("sixfive_site_"),
        "the sites' series were served"
    );
    assert!(
        Command::new("kill")
            .args(["-TERM", &agent.0.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = agent.0.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM stops the agent cleanly: {status:?}"
    );
    Output {
        status,
        stdout: pages,
        stderr: std::fs::read(&log).unwrap(),
    }
}

/// The TUI on the store the commands wrote: the overview, the hosts and a host, the sites
/// and a site, and the help, each screen as tmux shows it.
fn tui_screens(dir: &Path, db: &Path, inventory: &Path) -> Vec<(&'static str, String)> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let ui = tmux::Tmux::start(
        dir,
        &[
            env!("CARGO_BIN_EXE_sixfive"),
            "--db",
            db.to_str().unwrap(),
            "--inventory",
            inventory.to_str().unwrap(),
            "tui",
        ],
        &[
            ("HOME", &home),
            ("XDG_DATA_HOME", &home.join("data")),
            ("XDG_CONFIG_HOME", &home.join("config")),
        ],
    );
    let minute = Duration::from_secs(60);
    let mut screens = vec![(
        "overview",
        ui.wait(minute, "overview", |s| s.contains("[Overview]")),
    )];
    for (what, keys, shown) in [
        ("hosts", "2", "Hosts 2"),
        ("host", "Enter", "› Host"),
        ("sites", "3", "Sites"),
        ("site", "Enter", "› Site"),
        ("help", "?", "Help"),
    ] {
        ui.keys(keys);
        screens.push((what, ui.wait(minute, what, |s| s.contains(shown))));
    }
    ui.keys("q");
    ui.wait(minute, "the end", |_| ui.ended());
    screens
}
