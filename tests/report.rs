//! `sixfive report` over a store filled with known runs through the store's own calls:
//! the hand-worked figures, every format carrying the same ones, `--at` reading the store
//! as it stood, and the errors a user meets.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, HostLevel, Status};
use sixfive_inventory::store::{RunKind, RunStatus};
use sixfive_inventory::{Store, StoreUrl};

const CITY: &str = r#"
version: 1
scan: { require: L2 }
agencies:
  - { id: dict, name: Department of Information and Communications, name_vi: "Sở Thông tin và Truyền thông", target: 2027-06-30 }
  - { id: doh, name: Department of Health, name_vi: "Sở Y tế", target: 2026-12-01 }
hosts:
  - { fqdn: a.danang.test, agency: dict }
  - { fqdn: b.danang.test, agency: dict }
  - { fqdn: c.danang.test, agency: doh }
  - { fqdn: d.danang.test, agency: doh }
"#;

struct City {
    dir: tempfile::TempDir,
}

impl City {
    fn db(&self) -> PathBuf {
        self.dir.path().join("store.db")
    }

    fn report(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("sixfive").unwrap();
        cmd.env_remove("SIXFIVE_INVENTORY")
            .env_remove("SIXFIVE_DB")
            .env("HOME", self.dir.path())
            .arg("--db")
            .arg(self.db())
            .arg("report")
            .args(args);
        cmd
    }

    fn stdout(&self, args: &[&str]) -> String {
        let out = self.report(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json", "-o", "-"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.stdout(&all)).unwrap()
    }
}

fn grade(host: &str, level: Level) -> HostLevel {
    HostLevel {
        host: host.into(),
        level,
        score: 50,
        internet_nl: None,
        inconclusive: false,
        regressed: false,
    }
}

/// Two runs: on 2026-11-01 every host at L0 but a (L1); on 2026-11-20 a and c at L2, b at
/// L1 held by its zone's name servers (http.parity fails too), d at L0 without AAAA.
fn city() -> City {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("city.yaml");
    std::fs::write(&path, CITY).unwrap();
    let city = City { dir };
    let options = sixfive_inventory::LoadOptions {
        profiles: Vec::new(),
        secrets: false,
    };
    let inventory = sixfive_inventory::load(&path, &options).unwrap().inventory;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::open(&StoreUrl::Sqlite(city.db())).await.unwrap();
        store.import(&inventory, "city.yaml", "test").await.unwrap();
        let fail = |host: &str, check: &str, evidence: Value| {
            let mut record = CheckRecord::new(host, check, Status::Fail, format!("{check} failed"));
            record.evidence = evidence;
            record
        };
        let runs = [
            (
                "2026-11-01 06:00:00",
                vec![
                    grade("a.danang.test", Level::L1),
                    grade("b.danang.test", Level::L0),
                    grade("c.danang.test", Level::L0),
                    grade("d.danang.test", Level::L0),
                ],
                vec![
                    fail("b.danang.test", "dns.aaaa", Value::Null),
                    fail("c.danang.test", "dns.aaaa", Value::Null),
                    fail("d.danang.test", "dns.aaaa", Value::Null),
                ],
            ),
            (
                "2026-11-20 06:00:00",
                vec![
                    grade("a.danang.test", Level::L2),
                    grade("b.danang.test", Level::L1),
                    grade("c.danang.test", Level::L2),
                    grade("d.danang.test", Level::L0),
                ],
                vec![
                    fail("b.danang.test", "http.parity", Value::Null),
                    fail("d.danang.test", "dns.aaaa", Value::Null),
                ],
            ),
        ];
        let sqlx_pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", city.db().display()))
            .await
            .unwrap();
        // Imported before the runs, as a city would have.
        sqlx::query("UPDATE imports SET at = '2026-10-01T00:00:00+00:00'")
            .execute(&sqlx_pool)
            .await
            .unwrap();
        for (finished, levels, records) in runs {
            let run = store.begin_run("test", RunKind::Hosts).await.unwrap();
            store.record_hosts(run, &levels, &records).await.unwrap();
            store.finish_run(run, RunStatus::Complete).await.unwrap();
            // The store writes the clock's time; the test needs known days.
            sqlx::query("UPDATE scan_runs SET started_at = $1, finished_at = $1 WHERE id = $2")
                .bind(format!("{finished}+00:00").replace(' ', "T"))
                .bind(run)
                .execute(&sqlx_pool)
                .await
                .unwrap();
        }
    });
    city
}

#[test]
fn the_figures_are_the_hand_worked_ones_and_every_format_carries_them() {
    let city = city();
    let report = city.json(&["--since", "2026-11-10"]);
    assert_eq!(report["schema"], "sixfive.report/v1");
    assert_eq!(report["city"]["hosts"], 4);
    assert_eq!(report["city"]["ready"], 2);
    assert_eq!(report["city"]["share"], 0.5);
    // On 2026-11-10 the last run was 2026-11-01's: nobody at L2.
    assert_eq!(report["city"]["then"]["date"], "2026-11-01");
    assert_eq!(report["city"]["then"]["ready"], 0);
    // The inventory imported on 2026-10-01: its 4 hosts are what the share then is of.
    assert_eq!(report["city"]["then"]["hosts"], 4);
    assert_eq!(report["agencies"][0]["progress"]["then"]["hosts"], 2);
    let blockers: Vec<(&str, usize)> = (report["blockers"].as_array().unwrap().iter())
        .map(|b| {
            (
                b["cause"].as_str().unwrap(),
                b["hosts"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(blockers, [("aaaa_missing", 1), ("content_differs", 1)]);
    let doh = &report["agencies"][1];
    assert_eq!(
        (doh["id"].as_str(), doh["outlook"].as_str()),
        (Some("doh"), Some("late"))
    );
    let schema = serde_json::to_value(sixfive_report::schema("report").unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(
        validator.is_valid(&report),
        "{:?}",
        validator.iter_errors(&report).next()
    );

    // CSV: the same figures, one a row.
    let csv = city.stdout(&["--format", "csv", "-o", "-", "--since", "2026-11-10"]);
    let figure = |section: &str, agency: &str, item: &str, measure: &str| -> String {
        let wanted = format!("{section},{agency},{item},");
        let line = (csv.lines())
            .find(|line| line.starts_with(&wanted) && line.contains(&format!(",{measure},")))
            .unwrap_or_else(|| panic!("no {wanted}…{measure} in\n{csv}"));
        line.rsplit(',').next().unwrap().to_owned()
    };
    assert_eq!(
        figure("city", "", "", "ready"),
        report["city"]["ready"].to_string()
    );
    assert_eq!(
        figure("city", "", "", "share"),
        report["city"]["share"].to_string()
    );
    assert_eq!(figure("city", "", "", "then_ready"), "0");
    assert_eq!(
        figure("agency", "doh", "", "ready"),
        doh["progress"]["ready"].to_string()
    );
    assert_eq!(figure("blockers", "", "aaaa_missing", "hosts"), "1");

    // Markdown: the same share, in each language's way.
    let md = city.stdout(&["--format", "md", "-o", "-", "--since", "2026-11-10"]);
    assert!(
        md.contains("| 4 | 50.0% (2/4) | +50.0 pp (0.0% 2026-11-01) |"),
        "{md}"
    );
    let vi = city.stdout(&[
        "--format",
        "md",
        "-o",
        "-",
        "--lang",
        "vi",
        "--since",
        "2026-11-10",
    ]);
    assert!(vi.contains("50,0% (2/4)"), "{vi}");
    assert!(
        vi.contains("Sở Y tế") && vi.contains("Tỷ lệ sẵn sàng") && vi.contains("Trễ hạn"),
        "{vi}"
    );
}

#[test]
fn at_a_date_the_report_is_the_store_as_it_stood_then() {
    let city = city();
    let then = city.json(&["--at", "2026-11-10"]);
    assert_eq!(then["at"], "2026-11-10T23:59:59.999999Z");
    assert_eq!(then["since"], "2026-10-11", "30 days before --at");
    assert_eq!(then["city"]["ready"], 0);
    let levels: Vec<(&str, u64)> = (then["levels"].as_array().unwrap().iter())
        .map(|l| (l["level"].as_str().unwrap(), l["hosts"].as_u64().unwrap()))
        .filter(|(_, hosts)| *hosts > 0)
        .collect();
    assert_eq!(levels, [("L0", 3), ("L1", 1)]);
    let a = &then["hosts"][0];
    assert_eq!(
        (a["fqdn"].as_str(), a["level"].as_str()),
        (Some("a.danang.test"), Some("L1"))
    );
    assert_eq!(then["trend"]["points"].as_array().unwrap().len(), 1);
    // Before any run, nothing is graded.
    let before = city.json(&["--at", "2026-10-01"]);
    assert_eq!(before["not_graded"], 4);
}

#[test]
fn a_report_is_written_whole_to_its_file_and_bad_requests_say_what_is_wrong() {
    let city = city();
    let out = city.dir.path().join("report.md");
    city.report(&["--format", "md", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("# IPv6 migration progress")
    );
    let page = city.dir.path().join("report.html");
    city.report(&["--lang", "vi", "-o"])
        .arg(&page)
        .assert()
        .success();
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(
        page.contains("<html lang=\"vi\"") && page.contains("Sở Y tế"),
        "{page}"
    );
    let workbook = city.dir.path().join("report.xlsx");
    city.report(&["--format", "xlsx", "-o"])
        .arg(&workbook)
        .assert()
        .success();
    assert!(
        std::fs::read(&workbook).unwrap().starts_with(b"PK"),
        "a zip"
    );
    city.report(&["--agency", "nope", "--format", "json", "-o", "-"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("no agency `nope`").and(predicate::str::contains("dict, doh")),
        );
    city.report(&["--format", "xlsx", "-o", "-"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("binary file"));
    let out = Command::cargo_bin("sixfive")
        .unwrap()
        .env("HOME", city.dir.path())
        .arg("--db")
        .arg(city.dir.path().join("typo.db"))
        .args(["report", "-o", "-"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("typo.db: run a scan first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!city.dir.path().join("typo.db").exists(), "no store made");
    city.report(&["--since", "2026-11-20", "--at", "2026-11-01", "-o", "-"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--since 2026-11-20 is after --at 2026-11-01",
        ));
    let nowhere = Path::new("/nonexistent-dir/report.html");
    city.report(&["-o"])
        .arg(nowhere)
        .assert()
        .failure()
        .stderr(predicate::str::contains("/nonexistent-dir/report.html"));
}

#[test]
fn a_zone_s_name_servers_are_one_fix_as_dns_ns_aaaa_writes_its_evidence() {
    use sixfive_checks::probe::resolve::Zone;
    use sixfive_inventory::store::Failure;
    use sixfive_report::progress::causes::{Subject, fix_for};
    let zone = Zone {
        apex: "danang.test".into(),
        name_servers: Vec::new(),
    };
    // What the check stores (checks/src/readiness/dns/ns_aaaa.rs).
    let failure = Failure {
        check: "dns.ns_aaaa".into(),
        status: Status::Fail,
        detail: String::new(),
        evidence: serde_json::json!({"zone": zone, "unusable": []}),
    };
    let a = fix_for("a.danang.test", &failure);
    assert_eq!(a.subject, Subject::Zone("danang.test".into()));
    assert_eq!(
        a,
        fix_for("b.danang.test", &failure),
        "one fix for the zone's hosts"
    );
}
