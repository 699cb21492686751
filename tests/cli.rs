//! The `sixfive` command as users and CI run it: exit codes, what reaches stdout and
//! stderr, and the store it leaves behind.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

#[path = "common/skip.rs"]
mod skip;

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

/// The smallest city: one agency, one host.
const ONE_HOST: &str = "version: 1\nagencies: [{id: dict, name: D}]\nhosts:\n  - {fqdn: a.danang.test, agency: dict}\n";

const BAD: &str = "version: 1\nagencies:\n  - id: dict\n    name: D\n    nmae_vi: x\nhosts:\n  - fqdn: a.test\n    agency: nope\n";

/// A copy of the example city in `sandbox` whose secret files have permission bits `mode`
/// (a checkout's are what the umask leaves, commonly 0644).
fn example_with_secrets(sandbox: &Sandbox, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let copy = sandbox.dir.path().join(format!("danang-{mode:o}"));
    copy_folder(&example(), &copy);
    for secret in ["snmp-community", "snmp-v3-auth", "snmp-v3-priv"] {
        let path = copy.join("secrets").join(secret);
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    copy
}

#[test]
fn the_example_city_is_valid() {
    let sandbox = Sandbox::new();
    let valid = || {
        predicate::str::is_match(r"valid: \d+ agencies, \d+ hosts, \d+ sites from \d+ files\n$")
            .unwrap()
    };
    sandbox
        .cmd()
        .args(["inventory", "validate"])
        .arg(example_with_secrets(&sandbox, 0o600))
        .assert()
        .success()
        .stdout(valid())
        .stderr("");
    // Secret files others may read are valid, with a warning each, as ssh gives.
    let open = sandbox
        .cmd()
        .args(["inventory", "validate"])
        .arg(example_with_secrets(&sandbox, 0o644))
        .assert()
        .success()
        .stdout(valid());
    let stderr = String::from_utf8_lossy(&open.get_output().stderr).into_owned();
    assert_eq!(
        stderr
            .matches("is open to group or others (mode 0644)")
            .count(),
        3,
        "{stderr}"
    );
    assert!(stderr.contains("chmod 600"), "{stderr}");
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
    // The terminal UI without a terminal says what to use instead, and writes nothing.
    sandbox
        .cmd()
        .arg("tui")
        .assert()
        .code(64)
        .stdout("")
        .stderr(predicate::str::contains("needs a terminal"));
}

/// A city whose only resolver is a closed port on loopback: a selection bug could not
/// send a packet anywhere else.
const SELECTABLE: &str = "version: 1\nscan: {resolvers: ['[::1]:9'], scope: ['fd00::/8'], timeouts: {dns: 100ms}}\nagencies: [{id: health, name: H}]\nhosts:\n  - {fqdn: portal.city.test, agency: health, tags: [citizen]}\nsites:\n  - {id: ward-1, name: W, agency: health, address: 'fd00:5a::1', snmp: {version: 2c, community_env: SIXFIVE_TEST_COMMUNITY}}\n";

#[test]
fn a_selection_naming_what_the_inventory_lacks_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let city = sandbox.write("city.yaml", SELECTABLE);
    let db = sandbox.db();
    for (args, message) in [
        (
            &["check", "--agency", "helth"][..],
            "--agency helth: the inventory has no such agency (did you mean `health`?)",
        ),
        (
            &["check", "--tag", "citizens"],
            "--tag citizens: the inventory has no such tag (did you mean `citizen`?)",
        ),
        (
            &["check", "--host", "portal.cty.test"],
            "--host portal.cty.test: the inventory has no such host (did you mean `portal.city.test`?)",
        ),
        (
            &["scan", "--site", "ward-2"],
            "--site ward-2: the inventory has no such site (did you mean `ward-1`?)",
        ),
        (
            &["sites", "--site", "nosuch"],
            "--site nosuch: the inventory has no such site",
        ),
    ] {
        let out = sandbox
            .cmd()
            .env("SIXFIVE_TEST_COMMUNITY", "not-a-secret")
            .args(["--db", &db, "--inventory"])
            .arg(&city)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        // Errors wrap at the terminal's width: compare words, not lines or wrap marks.
        let said = String::from_utf8_lossy(&out.stderr);
        let said: Vec<&str> = said
            .split_whitespace()
            .filter(|word| !["|", "│"].contains(word))
            .collect();
        let said = said.join(" ");
        assert!(said.contains(message), "{args:?}: {said}");
    }
    sandbox
        .cmd()
        .env("SIXFIVE_TEST_COMMUNITY", "not-a-secret")
        .args(["--db", &db, "inventory", "import"])
        .arg(&city)
        .assert()
        .success();
    sandbox
        .cmd()
        .args([
            "--db",
            &db,
            "inventory",
            "list",
            "hosts",
            "--agency",
            "nosuch",
        ])
        .assert()
        .code(64)
        .stdout("")
        .stderr(predicate::str::contains(
            "--agency nosuch: the inventory has no such agency",
        ));
}

#[test]
fn rate_and_concurrency_override_the_inventory_for_one_run() {
    let sandbox = Sandbox::new();
    let city = sandbox.write("city.yaml", SELECTABLE);
    let db = sandbox.db();
    let pace = |extra: &[&str]| {
        let out = sandbox
            .cmd()
            .args(["--db", &db, "--inventory"])
            .arg(&city)
            .args(["check", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        // The only resolver is a closed port: every DNS check is an error (exit 3).
        assert_eq!(out.status.code(), Some(3), "{extra:?}");
        let document: Value = serde_json::from_slice(&out.stdout).unwrap();
        (
            document["scanner"]["rate_per_second"].clone(),
            document["scanner"]["concurrency"].clone(),
        )
    };
    assert_eq!(pace(&[]), (500.into(), 256.into()), "the defaults");
    assert_eq!(
        pace(&["--rate", "2000/s", "--concurrency", "64"]),
        (2000.into(), 64.into())
    );
    assert_eq!(pace(&["--rate", "50"]).0, 50);
    for bad in [
        &["--rate", "0"][..],
        &["--rate", "fast"],
        &["--concurrency", "0"],
    ] {
        sandbox
            .cmd()
            .args(["--db", &db, "--inventory"])
            .arg(&city)
            .arg("check")
            .args(bad)
            .assert()
            .code(64)
            .stdout("");
    }
}

#[test]
fn hand_edits_are_audited_and_stand_until_the_file_changes_the_field() {
    let sandbox = Sandbox::new();
    let city = |stage: &str| {
        sandbox.write(
            "city.yaml",
            &format!(
                "version: 1\nagencies: [{{id: health, name: H}}]\nhosts:\n  - {{fqdn: portal.city.test, agency: health, stage: {stage}, owner: an}}\n  - {{fqdn: mail.city.test, agency: health}}\n"
            ),
        )
    };
    let db = sandbox.db();
    sandbox.import(&db, &city("planned"));
    let edit = |args: &[&str]| {
        sandbox
            .cmd()
            .args(["--db", &db, "inventory", "edit"])
            .args(args)
            .assert()
    };
    edit(&[
        "portal.city.test",
        "--stage",
        "dual-stack",
        "--owner",
        "binh",
        "--note",
        "waits for the new firewall",
    ])
    .success()
    .stdout(
        "host portal.city.test: stage set to dual-stack\n\
             host portal.city.test: owner set to binh\n\
             host portal.city.test: note set to waits for the new firewall\n",
    );
    edit(&["PORTAL.city.test.", "--owner", ""])
        .success()
        .stdout("host portal.city.test: owner cleared\n");
    edit(&["portal.cty.test", "--note", "x"])
        .code(64)
        .stderr(predicate::str::contains("`portal.city.test`?"));
    edit(&["portal.city.test", "--stage", "done"]).code(64);
    edit(&["portal.city.test"]).code(64);

    let stage_of = |fqdn: &str| {
        let hosts = sandbox.list_json(&db, "hosts");
        let host = hosts["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["fqdn"] == fqdn)
            .unwrap()
            .clone();
        (
            host["annotations"]["stage"].as_str().map(str::to_owned),
            host["stage"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        stage_of("portal.city.test"),
        (Some("dual-stack".into()), "planned".into())
    );
    let audit = sandbox.list_json(&db, "audit");
    let edits: Vec<(String, String, Value, Value)> = audit["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["who"].as_str().unwrap().to_owned(),
                e["field"].as_str().unwrap().to_owned(),
                e["old_value"].clone(),
                e["new_value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        edits,
        [
            (
                "tester".into(),
                "stage".into(),
                Value::Null,
                "dual-stack".into()
            ),
            ("tester".into(), "owner".into(), Value::Null, "binh".into()),
            (
                "tester".into(),
                "note".into(),
                Value::Null,
                "waits for the new firewall".into()
            ),
            ("tester".into(), "owner".into(), "binh".into(), Value::Null),
        ]
    );

    // The file changes the stage: its value wins, the edit goes, the log says why; the
    // note, which the file does not set, stays.
    sandbox.import(&db, &city("in-progress"));
    assert_eq!(stage_of("portal.city.test"), (None, "in-progress".into()));
    let audit = sandbox.list_json(&db, "audit");
    let last = audit["audit"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["who"], "tester (import #2)");
    assert_eq!(last["field"], "stage");
    assert_eq!(last["old_value"], "dual-stack");
    assert_eq!(last["new_value"], "in-progress");
    let hosts = sandbox.list_json(&db, "hosts");
    assert_eq!(
        hosts["hosts"][1]["annotations"]["note"], "waits for the new firewall",
        "{hosts}"
    );
    sandbox
        .cmd()
        .args(["--db", &db, "inventory", "list", "audit"])
        .assert()
        .success()
        .stdout(predicate::str::contains("tester (import #2)"));
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

/// Copies the folder at `from` into `to`, files and subfolders.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_moved_inventory_is_the_same_inventory() {
    let sandbox = Sandbox::new();
    let first = sandbox.dir.path().join("checkout-1/danang");
    let second = sandbox.dir.path().join("ci-workspace/danang");
    copy_folder(&example(), &first);
    copy_folder(&example(), &second);
    let db = sandbox.db();
    sandbox.import(&db, &first);
    sandbox
        .cmd()
        .args(["--db", &db, "inventory", "import"])
        .arg(&second)
        .assert()
        .success()
        .stdout("import: the store already matches the inventory\n");
    let sites = sandbox.list_json(&db, "sites");
    let named: Vec<&str> = sites["sites"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|site| site["snmp"]["community_file"].as_str())
        .collect();
    assert!(!named.is_empty(), "the example names community files");
    assert!(
        named.iter().all(|path| path.starts_with("secrets/")),
        "stored relative to the inventory's root: {named:?}"
    );
}

#[test]
fn a_secret_named_from_a_nested_file_is_stored_the_same_however_the_folder_is_named() {
    let sandbox = Sandbox::new();
    let root = sandbox.dir.path().join("city");
    std::fs::create_dir_all(root.join("sites")).unwrap();
    std::fs::create_dir_all(root.join("secrets")).unwrap();
    std::fs::write(root.join("secrets/community"), "not-a-secret\n").unwrap();
    std::fs::write(
        root.join("agencies.yaml"),
        "version: 1\nagencies: [{id: health, name: H}]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("sites/north.yaml"),
        "version: 1\nsites:\n  - {id: ward-1, name: W, agency: health, address: 'fd00:5a::1', snmp: {version: 2c, community_file: ../secrets/community}}\n",
    )
    .unwrap();
    let db = sandbox.db();
    sandbox.import(&db, &root);
    let same = |cwd: &Path, inventory: &str| {
        sandbox
            .cmd()
            .current_dir(cwd)
            .args(["--db", &db, "inventory", "import", inventory])
            .assert()
            .success()
            .stdout("import: the store already matches the inventory\n");
    };
    same(sandbox.dir.path(), "city");
    same(sandbox.dir.path(), "./city/");
    same(&root.join("sites"), "..");
    let sites = sandbox.list_json(&db, "sites");
    assert_eq!(
        sites["sites"][0]["snmp"]["community_file"], "secrets/community",
        "{sites}"
    );
}

#[test]
fn a_bad_inventory_never_touches_the_store() {
    let sandbox = Sandbox::new();
    let db = sandbox.db();
    let good = sandbox.write("good.yaml", ONE_HOST);
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

/// The lab's PostgreSQL server, or None (the test skips) when there is none.
fn postgres_url() -> Option<String> {
    match std::env::var("SIXFIVE_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) => {
            skip::skip(&format!(
                "no PostgreSQL: {}",
                skip::cause(
                    "SIXFIVE_TEST_POSTGRES_SKIP_REASON",
                    "SIXFIVE_TEST_POSTGRES is unset (tests/run starts a server)"
                )
            ));
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

/// How a command ended: its exit code and what it said on stderr.
fn ended(out: &std::process::Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A reader that has gone (`| head -1`) ends every command quietly with 0; a full disk is
/// exit 74 and one line, never a panic.
#[test]
fn a_closed_stdout_ends_quietly_and_a_full_disk_is_74_with_one_line() {
    let sandbox = Sandbox::new();
    let db = sandbox.db();
    let city = sandbox.write("city.yaml", ONE_HOST);
    sandbox.import(&db, &city);
    // `check` asks a resolver on loopback that never answers, so it probes nothing else.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let checked = sandbox.write(
        "checked.yaml",
        &format!(
            "version: 1\nscan: {{resolvers: [\"{}\"], timeouts: {{dns: 1s}}, scope: [198.18.0.0/15]}}\n\
             agencies: [{{id: dict, name: D}}]\nhosts:\n  - {{fqdn: a.danang.test, agency: dict}}\n",
            silent.local_addr().unwrap()
        ),
    );
    let (city, checked) = (city.display().to_string(), checked.display().to_string());
    let mut commands: Vec<Vec<&str>> = vec![
        vec![
            "--db",
            &db,
            "--inventory",
            &checked,
            "check",
            "--format",
            "json",
        ],
        vec!["inventory", "validate", &city],
        vec!["--db", &db, "inventory", "import", &city],
        vec!["inventory", "schema"],
        vec!["schema", "check"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["--help"],
    ];
    for what in ["hosts", "changes"] {
        for format in ["table", "json"] {
            commands.push(vec![
                "--db",
                &db,
                "inventory",
                "list",
                what,
                "--format",
                format,
            ]);
        }
    }
    for args in &commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = sandbox.cmd().args(args).stdout(writer).output().unwrap();
        assert_eq!(ended(&out), (Some(0), String::new()), "{args:?} | head");

        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = sandbox.cmd().args(args).stdout(full).output().unwrap();
        let (code, stderr) = ended(&out);
        assert_eq!(code, Some(74), "{args:?} > /dev/full: {stderr}");
        assert_eq!(
            stderr.trim().lines().collect::<Vec<_>>(),
            ["x cannot write the output: no space left on device"],
            "{args:?} > /dev/full"
        );
    }
}

/// `--db` names a file: its folder must exist (only the default one is made), and a
/// folder is not a store. Each is said once, in words.
#[test]
fn a_store_path_in_a_missing_folder_or_a_folder_is_refused_plainly() {
    let sandbox = Sandbox::new();
    let missing = sandbox.dir.path().join("nope");
    let db = missing.join("store.db").display().to_string();
    for command in [
        vec!["inventory", "list"],
        vec!["inventory", "list", "changes"],
    ] {
        let out = sandbox
            .cmd()
            .args(["--db", &db])
            .args(command)
            .output()
            .unwrap();
        let (code, stderr) = ended(&out);
        assert_eq!(code, Some(69), "{stderr}");
        assert_eq!(
            stderr.trim(),
            format!(
                "x the store's folder {} does not exist: create it first",
                missing.display()
            )
        );
        assert!(!missing.exists(), "the folder was created");
    }
    let folder = sandbox.dir.path().display().to_string();
    let out = sandbox
        .cmd()
        .args(["--db", &folder, "inventory", "list"])
        .output()
        .unwrap();
    let (code, stderr) = ended(&out);
    assert_eq!(code, Some(69), "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!("x the store {folder} is a directory: name a file in it")
    );
}

/// A PostgreSQL store that cannot be reached says why within its connect timeout, a URL
/// without a user is refused, and no password is ever shown.
#[test]
fn postgres_failures_say_why_soon_and_without_the_password() {
    let sandbox = Sandbox::new();
    let closed = std::net::TcpListener::bind("[::1]:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    // Accepts connections (the kernel does) and never answers.
    let silent = std::net::TcpListener::bind("[::1]:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let cases = [
        (
            format!("postgres://ops:hunter2pw@[::1]:{closed_port}/city"),
            69,
            format!(
                "cannot open the store postgres://ops@[::1]:{closed_port}/city: connection refused"
            ),
        ),
        (
            format!("postgres://ops:hunter2pw@[::1]:{silent_port}/city?connect_timeout=1"),
            69,
            format!(
                "cannot open the store postgres://ops@[::1]:{silent_port}/city: no answer within 1 s"
            ),
        ),
        (
            format!("postgres://:hunter2pw@[::1]:{closed_port}/city"),
            64,
            "bad PostgreSQL URL: no user in".into(),
        ),
    ];
    for (url, expected_code, says) in cases {
        let started = std::time::Instant::now();
        let out = sandbox
            .cmd()
            .env_remove("PGUSER")
            .args(["--db", &url, "inventory", "list"])
            .output()
            .unwrap();
        let (code, stderr) = ended(&out);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{url}"
        );
        assert_eq!(code, Some(expected_code), "{url}: {stderr}");
        assert!(stderr.contains(&says), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2pw"), "{url}: {stderr}");
        assert!(!stderr.contains("anonymous"), "{url}: {stderr}");
    }
    drop(silent);

    // The server's own words, without sqlx's prefix or the line of its source.
    let Some(admin) = postgres_url() else { return };
    let url = format!("{}/sixfive_no_such_db", admin.rsplit_once('/').unwrap().0);
    let out = sandbox
        .cmd()
        .args(["--db", &url, "inventory", "list"])
        .output()
        .unwrap();
    let (code, stderr) = ended(&out);
    assert_eq!(code, Some(69), "{stderr}");
    assert!(
        stderr.contains(": database \"sixfive_no_such_db\" does not exist"),
        "{stderr}"
    );
    assert!(!stderr.contains("at line"), "{stderr}");
    assert!(!stderr.contains("returned from database"), "{stderr}");
}

/// One header per problem, its cause said once, and no internal codes or empty `Error:`
/// lines; an inventory's problems keep their snippets.
#[test]
fn each_problem_has_one_header_and_says_its_cause_once() {
    let sandbox = Sandbox::new();
    let bad = sandbox.write("bad.yaml", BAD);
    let out = sandbox
        .cmd()
        .args(["--color", "never", "inventory", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    let (code, stderr) = ended(&out);
    assert_eq!(code, Some(65));
    let headers: Vec<&str> = stderr
        .lines()
        .filter(|line| line.trim_start().starts_with("x "))
        .collect();
    assert_eq!(
        headers,
        [
            "  x unknown field `nmae_vi` in agencies[0]",
            "  x unknown agency `nope`",
            "  x the inventory has 2 errors"
        ],
        "{stderr}"
    );
    assert!(stderr.contains("5 |     nmae_vi: x"), "{stderr}");
    assert!(!stderr.contains("sixfive::"), "{stderr}");
    assert!(!stderr.contains("Error:"), "{stderr}");

    let out = sandbox
        .cmd()
        .args(["inventory", "validate", "/nonexistent/city.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        ended(&out),
        (
            Some(66),
            "  x cannot read inventory /nonexistent/city.yaml: no such file or directory\n".into()
        )
    );
}

/// `--color always` colours a table even through a pipe; `auto` never writes escape codes
/// to one.
#[test]
fn color_always_colours_a_piped_table_and_auto_does_not() {
    let sandbox = Sandbox::new();
    let db = sandbox.db();
    let city = sandbox.write("city.yaml", ONE_HOST);
    sandbox.import(&db, &city);
    let table = |color: &str| {
        let out = sandbox
            .cmd()
            .env_remove("NO_COLOR")
            .args(["--color", color, "--db", &db, "inventory", "list"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(table("always").starts_with("\x1b[1mFQDN"));
    assert!(!table("auto").contains('\x1b'));
    assert!(!table("never").contains('\x1b'));
}

/// The man page names no other page, since `sixfive man` writes only this one; it
/// describes every command itself.
#[test]
fn the_man_page_refers_to_no_page_it_does_not_write() {
    let out = Sandbox::new().cmd().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(!refers_to_a_page(&page), "{page}");
    for command in [
        "sixfive inventory list",
        "sixfive check",
        "sixfive completions",
    ] {
        assert!(page.contains(command), "{command} is missing: {page}");
    }
}

/// Whether roff text names another sixfive page, as `sixfive-inventory(1)` (`\-` is
/// roff's hyphen).
fn refers_to_a_page(page: &str) -> bool {
    let text = page.replace("\\-", "-");
    text.match_indices("sixfive-").any(|(at, prefix)| {
        let rest = &text[at + prefix.len()..];
        let name = rest.trim_start_matches(|c: char| c.is_ascii_lowercase() || c == '-');
        name.starts_with("(1)")
    })
}

/// With no login name in the environment (cron, systemd), history names the account.
#[test]
fn who_falls_back_to_the_account_name() {
    let sandbox = Sandbox::new();
    let db = sandbox.db();
    let city = sandbox.write("city.yaml", "version: 1\nagencies: [{id: dict, name: D}]\n");
    sandbox
        .cmd()
        .env_remove("SIXFIVE_USER")
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .args(["--db", &db, "inventory", "import"])
        .arg(&city)
        .assert()
        .success();
    let account = Command::new("id").arg("-un").output().unwrap();
    let account = String::from_utf8(account.stdout).unwrap();
    let changes = sandbox.list_json(&db, "changes");
    assert_eq!(changes["changes"][0]["who"], account.trim());
}

/// A file without `version` is refused, even an empty one, with a hint.
#[test]
fn an_inventory_file_without_version_is_refused() {
    let sandbox = Sandbox::new();
    for text in ["", "# hosts come later\n"] {
        let file = sandbox.write("empty.yaml", text);
        sandbox
            .cmd()
            .args(["--color", "never", "inventory", "validate"])
            .arg(&file)
            .assert()
            .code(65)
            .stderr(predicate::str::contains("missing `version`"))
            .stderr(predicate::str::contains(
                "help: start the file with `version: 1`",
            ));
    }
}

/// Help shows no empty `[env: VAR=]`, and commands that print something fixed do not list
/// the global options, which mean nothing to them.
#[test]
fn help_is_not_cluttered() {
    let help = |args: &[&str]| {
        let out = Sandbox::new().cmd().args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let main = help(&["--help"]);
    assert!(main.contains("[env: SIXFIVE_INVENTORY]"), "{main}");
    assert!(!main.contains("=]"), "{main}");
    for command in [
        &["completions", "--help"][..],
        &["man", "--help"],
        &["schema", "--help"],
        &["inventory", "schema", "--help"],
    ] {
        let text = help(command);
        for global in ["--inventory", "--db", "--color", "--quiet", "[OPTIONS]"] {
            assert!(
                !text.contains(global),
                "{command:?} lists {global}:\n{text}"
            );
        }
    }
    // They still take them, as before.
    Sandbox::new()
        .cmd()
        .args(["completions", "bash", "--color", "never", "-q"])
        .assert()
        .success();
}

#[test]
fn log_format_json_writes_a_json_object_a_line() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["-v", "--log-format", "json", "inventory", "import"])
        .arg(example_with_secrets(&sandbox, 0o644))
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines.iter().any(|line| line["level"] == "INFO"
            && line["fields"]["message"] == "opening the store"),
        "{stderr}"
    );
    // The inventory's warnings too, with their place.
    let warning = lines
        .iter()
        .find(|line| line["level"] == "WARN")
        .unwrap_or_else(|| panic!("a warning of the open secret files: {stderr}"));
    assert!(
        warning["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("is open to group or others"),
        "{warning}"
    );
    assert!(
        warning["fields"]["file"]
            .as_str()
            .unwrap()
            .ends_with("sites.yaml"),
        "{warning}"
    );
    assert!(warning["fields"]["line"].as_u64().unwrap() > 0, "{warning}");
}
