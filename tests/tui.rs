//! The terminal UI end to end, as an engineer uses it: the real binary in tmux at 80×24 on
//! the demo city (`sixfive demo`, which needs no root), keys sent with send-keys and the
//! screen read with capture-pane; then the store the session wrote is read back.

use std::process::Command;
use std::time::{Duration, Instant};

use sixfive_inventory::store::Kind;
use sixfive_inventory::{Store, StoreUrl};

#[path = "common/skip.rs"]
mod skip;
#[path = "common/tmux.rs"]
mod tmux;
use tmux::Tmux;

#[test]
fn the_demo_opens_filters_opens_a_host_edits_it_rechecks_it_and_quits() {
    if Command::new("tmux").arg("-V").output().is_err() {
        skip::skip("no tmux: apt-get install tmux (tests/lab/install does)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let tmux = Tmux::start(
        dir.path(),
        &[
            env!("CARGO_BIN_EXE_sixfive"),
            "--db",
            db.to_str().unwrap(),
            "demo",
        ],
        &[
            ("HOME", &home),
            ("XDG_DATA_HOME", &home.join("data")),
            ("XDG_CONFIG_HOME", &home.join("config")),
        ],
    );
    let minute = Duration::from_secs(60);
    // The demo scans its city, then the UI opens on the overview; where the kernel gives
    // no private namespace it stops at once and says so (tests/demo.rs covers that).
    let first = tmux.wait(Duration::from_secs(180), "overview", |s| {
        (s.contains("[Overview]") && s.contains("City")) || tmux.ended()
    });
    if tmux.ended() && first.contains("namespace") {
        skip::skip(&format!(
            "the demo cannot enter a private namespace here: {}",
            first.trim()
        ));
        return;
    }
    assert!(first.contains("[Overview]"), "the demo ended:\n{first}");

    tmux.keys("2");
    tmux.wait(minute, "hosts list", |s| s.contains("Hosts 69"));
    tmux.text("/level=BROKEN");
    tmux.keys("Enter");
    let list = tmux.wait(minute, "filtered list", |s| s.contains("level=BROKEN ·"));
    let rows: Vec<&str> = list
        .lines()
        .skip_while(|l| !l.starts_with("FQDN"))
        .skip(1)
        .filter(|l| l.contains(".danang.test"))
        .collect();
    assert!(!rows.is_empty(), "the demo city has BROKEN hosts:\n{list}");
    assert!(
        rows.iter().all(|row| row.contains("BROKEN")),
        "only BROKEN hosts are shown:\n{list}"
    );
    let fqdn = rows[0].split_whitespace().next().unwrap().to_owned();

    tmux.keys("Enter");
    let detail = tmux.wait(minute, "host detail", |s| {
        s.contains("› Host") && s.contains("CHECK") && s.contains("LEVEL ")
    });
    assert!(detail.contains(&fqdn), "{detail}");

    tmux.keys("e");
    tmux.text("stage=dual-stack");
    tmux.keys("Enter");
    tmux.wait(minute, "the edit stored", |s| {
        s.contains(&format!("stage of {fqdn} is now dual-stack"))
    });

    let runs_before = block_on(async {
        let store = Store::open(&StoreUrl::Sqlite(db.clone())).await.unwrap();
        store.host_grades(&fqdn, 100).await.unwrap().len()
    });
    tmux.keys("r");
    tmux.wait(minute, "the re-check's end", |s| {
        s.contains(&format!("{fqdn} re-checked (run"))
    });

    tmux.keys("q");
    let started = Instant::now();
    while !tmux.ended() {
        assert!(
            started.elapsed() < minute,
            "q did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // What the session stored: the edit with who made it, and the re-check's grade.
    block_on(async {
        let store = Store::open(&StoreUrl::Sqlite(db.clone())).await.unwrap();
        let audit = store.audit_log(Some((Kind::Host, &fqdn))).await.unwrap();
        let last = audit.last().expect("the edit is in the audit log");
        assert_eq!(
            (last.field.as_str(), last.new_value.as_deref()),
            ("stage", Some("dual-stack"))
        );
        assert!(!last.who.is_empty());
        let grades = store.host_grades(&fqdn, 100).await.unwrap();
        assert_eq!(
            grades.len(),
            runs_before + 1,
            "the re-check graded the host"
        );
        store.close().await;
    });
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}
