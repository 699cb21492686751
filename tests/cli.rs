//! The `sixfive` command as users and CI run it: exit codes, what reaches stdout and
//! stderr, and the store it leaves behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("inventory/examples/danang")
}

/// `sixfive` with a private store and home, so no test touches the user's data.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> String {
        self.dir.path().join("store.db").display().to_string()
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("sixfive").unwrap();
        cmd.env_remove("SIXFIVE_INVENTORY")
            .env_remove("SIXFIVE_DB")
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("SIXFIVE_USER", "tester");
        cmd
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Imports `inventory` into `db`, which must succeed.
    fn import(&self, db: &str, inventory: &std::path::Path) {
        self.cmd()
            .args(["--db", db, "inventory", "import"])
            .arg(inventory)
            .assert()
            .success();
    }

    fn list_json(&self, db: &str, what: &str) -> Value {
        let out = self
            .cmd()
            .args(["--db", db, "inventory", "list", what, "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

const BAD: &str = "version: 1\nagencies:\n  - id: dict\n    name: D\n    nmae_vi: x\nhosts:\n  - fqdn: a.test\n    agency: nope\n";

#[test]
fn the_example_city_is_valid() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["inventory", "validate"])
        .arg(example())
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r"valid: \d+ agencies, \d+ hosts, \d+ sites from \d+ files\n$",
            )
            .unwrap(),
        )
        .stderr("");
}

#[test]
fn an_invalid_inventory_exits_65_with_every_place_on_stderr() {
    let sandbox = Sandbox::new();
    let bad = sandbox.write("bad.yaml", BAD);
    sandbox
        .cmd()
        .args(["--color", "never", "inventory", "validate"])
        .arg(&bad)
        .assert()
        .code(65)
        .stdout("")
        .stderr(predicate::str::contains("the inventory has 2 errors"))
        .stderr(predicate::str::contains("bad.yaml:5:5"))
        .stderr(predicate::str::contains("did you mean `name_vi`?"))
        .stderr(predicate::str::contains("bad.yaml:8:13"))
        .stderr(predicate::str::contains("unknown agency `nope`"));
}

#[test]
fn usage_errors_exit_64_and_a_missing_inventory_66() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["inventory", "frobnicate"])
        .assert()
        .code(64)
        .stdout("");
    sandbox
        .cmd()
        .args(["inventory", "validate"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("no inventory given"));
    sandbox
        .cmd()
        .args(["inventory", "validate", "/nonexistent/city.yaml"])
        .assert()
        .code(66);
    sandbox
        .cmd()
        .args(["--db", "mysql://x/y", "inventory", "list"])
        .assert()
        .code(64);
    sandbox.cmd().arg("--help").assert().success();
}

#[test]
fn importing_twice_changes_nothing_and_the_default_store_is_under_xdg() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["inventory", "import"])
        .arg(example())
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"^import #1: \d+ added, 0 changed, 0 removed\n$").unwrap(),
        );
    let store = sandbox.dir.path().join("data/sixfive/sixfive.db");
    assert!(
        store.exists(),
        "the default store is $XDG_DATA_HOME/sixfive/sixfive.db"
    );
    sandbox
        .cmd()
        .env("SIXFIVE_INVENTORY", example())
        .args(["inventory", "import"])
        .assert()
        .success()
        .stdout("import: the store already matches the inventory\n");

    // The same folder spelt another way is the same inventory.
    let parent = example().parent().unwrap().to_path_buf();
    sandbox
        .cmd()
        .current_dir(&parent)
        .args(["inventory", "import", "danang/"])
        .assert()
        .success()
        .stdout("import: the store already matches the inventory\n");

    let db = store.display().to_string();
    let hosts = sandbox.list_json(&db, "hosts");
    assert!(hosts["hosts"].as_array().unwrap().len() >= 60);
    let sites = sandbox.list_json(&db, "sites");
    assert!(sites["sites"].as_array().unwrap().len() >= 12);
    let changes = sandbox.list_json(&db, "changes");
    let first_import = changes["changes"].as_array().unwrap();
    assert!(
        first_import
            .iter()
            .all(|c| c["import_id"] == 1 && c["who"] == "tester")
    );
}

#[test]
fn a_bad_inventory_never_touches_the_store() {
    let sandbox = Sandbox::new();
    let db = sandbox.db();
    let good = sandbox.write(
        "good.yaml",
        "version: 1\nagencies: [{id: dict, name: D}]\nhosts:\n  - {fqdn: a.danang.test, agency: dict}\n",
    );
    sandbox.import(&db, &good);
    let before = sandbox.list_json(&db, "hosts");
    let bad = sandbox.write("bad.yaml", BAD);
    sandbox
        .cmd()
        .args(["--db", &db, "inventory", "import"])
        .arg(&bad)
        .assert()
        .code(65);
    assert_eq!(sandbox.list_json(&db, "hosts"), before);
    assert_eq!(
        sandbox.list_json(&db, "changes")["changes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn list_prints_an_aligned_table_and_filters_by_agency() {
    let sandbox = Sandbox::new();
    let db = sandbox.db();
    let city = sandbox.write(
        "city.yaml",
        "version: 1\nagencies: [{id: dict, name: D}, {id: doh, name: H}]\nhosts:\n  - {fqdn: a.danang.test, agency: dict, stage: dual-stack}\n  - {fqdn: b.danang.test, agency: doh}\n",
    );
    sandbox.import(&db, &city);
    sandbox
        .cmd()
        .args(["--db", &db, "inventory", "list", "--agency", "dict"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "FQDN           AGENCY  STAGE       SERVICES  TARGET  SINCE\n",
        ))
        .stdout(predicate::str::contains(
            "a.danang.test  dict    dual-stack  https",
        ))
        .stdout(predicate::str::contains("b.danang.test").not());
}

/// `inventory schema` prints the inventory's JSON Schema; the inventory crate's
/// tests/schema.rs holds it against the loader, bad file by bad file, and the example city.
#[test]
fn the_inventory_schema_is_printed() {
    let out = Sandbox::new()
        .cmd()
        .args(["inventory", "schema"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(&schema, sixfive_inventory::schema::json_schema());
    jsonschema::validator_for(&schema).expect("the schema compiles");
}

#[test]
fn secrets_never_reach_any_output() {
    let sandbox = Sandbox::new();
    let db = sandbox.db();
    let secret_file = sandbox.write("v3-auth", "file-secret-8d1f\n");
    let city = sandbox.write(
        "city.yaml",
        &format!(
            "version: 1\nagencies: [{{id: dict, name: D}}]\nsites:\n  - id: s1\n    name: S1\n    agency: dict\n    address: fd00:5a::1\n    snmp: {{version: 2c, community_env: SIXFIVE_TEST_COMMUNITY}}\n  - id: s2\n    name: S2\n    agency: dict\n    address: fd00:5a::2\n    snmp: {{version: 2c, community: literal-secret-77a2}}\n  - id: s3\n    name: S3\n    agency: dict\n    address: fd00:5a::3\n    snmp: {{version: 3, user: ops, auth: sha256, auth_pass_file: {}}}\n",
            secret_file.display()
        ),
    );
    let mut outputs = Vec::new();
    for args in [
        vec!["-vvv", "inventory", "validate"],
        vec!["-vvv", "--db", &db, "inventory", "import"],
    ] {
        let out = sandbox
            .cmd()
            .env("SIXFIVE_TEST_COMMUNITY", "env-secret-41c9")
            .args(args)
            .arg(&city)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(out);
    }
    for what in ["sites", "changes"] {
        for format in ["json", "table"] {
            let out = sandbox
                .cmd()
                .args([
                    "-vvv",
                    "--db",
                    &db,
                    "inventory",
                    "list",
                    what,
                    "--format",
                    format,
                ])
                .output()
                .unwrap();
            assert!(out.status.success());
            outputs.push(out);
        }
    }
    let db_bytes =
        std::fs::read(sandbox.dir.path().join("store.db")).expect("the import wrote a store");
    for out in &outputs {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for secret in ["env-secret-41c9", "literal-secret-77a2", "file-secret-8d1f"] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
            assert!(
                !String::from_utf8_lossy(&db_bytes).contains(secret),
                "{secret} is in the store"
            );
        }
    }
    let stderr = String::from_utf8_lossy(&outputs[0].stderr);
    assert!(
        stderr.contains("the community is written in the inventory"),
        "{stderr}"
    );
}

#[test]
fn completions_and_man_page() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_sixfive()"));
    sandbox
        .cmd()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH sixfive"));
}

/// A PostgreSQL store named by a URL with an IPv6 literal, as `--db` takes it.
#[test]
fn postgres_store_over_an_ipv6_literal() {
    let Some(url) = postgres_url() else { return };
    assert!(
        url.contains("[::1]"),
        "the lab's server URL is an IPv6 literal: {url}"
    );
    let sandbox = Sandbox::new();
    let city = sandbox.write(
        "city.yaml",
        "version: 1\nagencies: [{id: dict, name: D}]\nhosts:\n  - {fqdn: pg-cli.danang.test, agency: dict}\n",
    );
    let db = fresh_postgres_db(&url, "cli_ipv6");
    sandbox.import(&db, &city);
    let hosts = sandbox.list_json(&db, "hosts");
    assert_eq!(hosts["hosts"][0]["fqdn"], "pg-cli.danang.test");
}

/// Kills `sixfive inventory import` at different moments of a large import: the store is
/// always at the old inventory or the new one, never between.
#[test]
fn an_import_killed_part_way_leaves_the_store_consistent() {
    let sandbox = Sandbox::new();
    let mut stores = vec![sandbox.db()];
    if let Some(url) = postgres_url() {
        stores.push(fresh_postgres_db(&url, "killed"));
    }
    let city = |stage: &str| {
        let mut text = String::from("version: 1\nagencies: [{id: dict, name: D}]\nhosts:\n");
        for i in 0..5_000 {
            text.push_str(&format!(
                "  - {{fqdn: h{i}.danang.test, agency: dict, stage: {stage}}}\n"
            ));
        }
        text
    };
    let old = sandbox.write("old.yaml", &city("planned"));
    let new = sandbox.write("new.yaml", &city("dual-stack"));
    for db in &stores {
        sandbox.import(db, &old);
        let history = || {
            sandbox.list_json(db, "changes")["changes"]
                .as_array()
                .unwrap()
                .len()
        };
        let mut outcomes = Vec::new();
        for delay_ms in [100, 400, 900, 1500] {
            let before = history();
            let mut child = sandbox
                .cmd()
                .args(["--db", db, "inventory", "import"])
                .arg(&new)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let _ = child.kill();
            child.wait().unwrap();
            let hosts = sandbox.list_json(db, "hosts");
            let stages: std::collections::BTreeSet<_> = hosts["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["stage"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                stages.len(),
                1,
                "{db}: a killed import left a mix: {stages:?}"
            );
            let stage = stages.into_iter().next().unwrap();
            let expected_history = if stage == "planned" {
                before
            } else {
                before + 5_000
            };
            assert_eq!(
                history(),
                expected_history,
                "{db}: history disagrees with the hosts"
            );
            if stage != "planned" {
                sandbox.import(db, &old);
            }
            outcomes.push(stage);
        }
        eprintln!("{db}: outcomes by kill delay: {outcomes:?}");
    }
}

fn postgres_url() -> Option<String> {
    match std::env::var("SIXFIVE_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("SIXFIVE_LAB").as_deref() == Ok("required") => {
            panic!("SIXFIVE_LAB=required but SIXFIVE_TEST_POSTGRES is not set")
        }
        Err(_) => {
            eprintln!("SKIPPED: SIXFIVE_TEST_POSTGRES is not set");
            None
        }
    }
}

/// A new empty database on the lab's server, through psql so this test needs no client crate.
fn fresh_postgres_db(admin: &str, name: &str) -> String {
    let db = format!("sixfive_cli_{name}_{}", std::process::id());
    let psql_url = admin.replacen("postgres://", "postgresql://", 1);
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        let status = Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", &psql_url, "-c", &sql])
            .status()
            .expect("psql runs");
        assert!(status.success(), "{sql}");
    }
    format!("{}/{db}", admin.rsplit_once('/').unwrap().0)
}

/// Waits until the store at `db` holds a run in `status`, and returns it.
fn wait_for_run(
    db: &str,
    status: sixfive_inventory::store::RunStatus,
) -> sixfive_inventory::store::Run {
    let url: sixfive_inventory::StoreUrl = db.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Let the command create and migrate the store before this process opens it too.
    std::thread::sleep(std::time::Duration::from_millis(500));
    for _ in 0..100 {
        let runs = runtime.block_on(async {
            let store = sixfive_inventory::Store::open(&url).await.unwrap();
            let runs = store.runs().await.unwrap();
            store.close().await;
            runs
        });
        if let Some(run) = runs.into_iter().find(|r| r.status == status) {
            return run;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{db}: no run became {status:?}");
}

#[test]
fn an_interrupted_check_is_stored_incomplete_and_a_killed_one_is_closed_later() {
    use sixfive_inventory::store::RunStatus;
    let sandbox = Sandbox::new();
    let mut stores = vec![sandbox.db()];
    if let Some(url) = postgres_url() {
        stores.push(fresh_postgres_db(&url, "interrupted"));
    }
    // A resolver on loopback that never answers: every host waits out its DNS deadline,
    // and nothing but that socket is ever sent a packet.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let city = sandbox.write(
        "city.yaml",
        &format!(
            "version: 1\nscan: {{resolvers: [\"{}\"], timeouts: {{dns: 5s}}, scope: [198.18.0.0/15]}}\n\
             agencies: [{{id: dict, name: D}}]\nhosts:\n  - {{fqdn: a.danang.test, agency: dict}}\n  - {{fqdn: b.danang.test, agency: dict}}\n",
            silent.local_addr().unwrap()
        ),
    );
    let check = |db: &str| {
        sandbox
            .cmd()
            .args(["--db", db, "--inventory"])
            .arg(&city)
            .args(["check", "--format", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    for db in &stores {
        // Ctrl-C: the run is stored incomplete, the command exits 130 with nothing on stdout.
        let child = check(db);
        let run = wait_for_run(db, RunStatus::Running);
        let signalled = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(signalled.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{db}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("stored as incomplete"));
        assert_eq!(wait_for_run(db, RunStatus::Incomplete).id, run.id);

        // kill -9: the run stays `running` while its heartbeat is fresh (its owner might be
        // alive), and is closed as incomplete once the heartbeat has expired.
        let mut child = check(db);
        let killed = wait_for_run(db, RunStatus::Running);
        child.kill().unwrap();
        child.wait().unwrap();
        let url: sixfive_inventory::StoreUrl = db.parse().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = sixfive_inventory::Store::open(&url).await.unwrap();
            let status = |runs: Vec<sixfive_inventory::store::Run>| {
                runs.into_iter().find(|r| r.id == killed.id).unwrap().status
            };
            assert_eq!(
                status(store.runs().await.unwrap()),
                RunStatus::Running,
                "{db}"
            );
            assert_eq!(
                store.expire_runs(std::time::Duration::ZERO).await.unwrap(),
                1,
                "{db}"
            );
            assert_eq!(
                status(store.runs().await.unwrap()),
                RunStatus::Incomplete,
                "{db}"
            );
            store.close().await;
        });
    }
}

#[test]
fn the_output_schemas_are_printed_and_refuse_what_is_not_a_document() {
    for (name, title) in [
        ("check", "sixfive.check/v1"),
        ("sites", "sixfive.sites/v1"),
        ("scan", "sixfive.scan/v1"),
    ] {
        let out = Sandbox::new()
            .cmd()
            .args(["schema", name])
            .output()
            .unwrap();
        assert!(out.status.success());
        let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(schema["title"], title);
        let validator = jsonschema::validator_for(&schema).unwrap();
        assert!(
            !validator.is_valid(&serde_json::json!({"schema": title})),
            "{name}"
        );
    }
    let schema: Value = serde_json::from_slice(
        &Sandbox::new()
            .cmd()
            .args(["schema", "sites"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(&serde_json::json!({"schema": "sixfive.sites/v1", "sites": []})));
    assert!(
        !validator
            .is_valid(&serde_json::json!({"schema": "sixfive.sites/v1", "sites": [{"id": 7}]}))
    );
}
