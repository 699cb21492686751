//! The store against both backends: SQLite in a temporary file, and a real PostgreSQL
//! server named by SIXFIVE_TEST_POSTGRES (`tests/lab/postgres-up` starts one). Under
//! SIXFIVE_LAB=required a missing server fails the run instead of skipping; otherwise a test
//! that ran on SQLite alone counts as skipped.

use chrono::{DateTime, Utc};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::model::{Agency, Endpoint, Endpoints, Host, Inventory, Site, Snmp, Stage};
use sixfive_inventory::results::{CheckRecord, Family, HostLevel, SiteSample, SiteState, Status};
use sixfive_inventory::store::{EditField, Kind, RunKind, RunStatus};
use sixfive_inventory::{Store, StoreError, StoreUrl};
use sqlx::Connection;

#[path = "common/backends.rs"]
mod backends;
use backends::{Backend, backends};

fn agency(id: &str) -> Agency {
    Agency {
        id: id.into(),
        name: format!("Agency {id}"),
        name_vi: Some(format!("Sở {id}")),
        target: None,
    }
}

fn host(fqdn: &str, agency: &str) -> Host {
    Host {
        fqdn: fqdn.into(),
        agency: agency.into(),
        services: vec![sixfive_inventory::model::Service::Https],
        stage: Stage::Planned,
        exempt_reason: String::new(),
        internal: false,
        target: None,
        tags: vec!["public".into()],
        owner: None,
        zone: None,
    }
}

fn site(id: &str) -> Site {
    Site {
        id: id.into(),
        name: format!("Site {id}"),
        agency: "dict".into(),
        ward: Some("Hải Châu".into()),
        zone: None,
        location: None,
        address: Endpoints::One(Endpoint::Ip("fd00:5a::1".parse().unwrap())),
        profile: "generic".into(),
        grading: Default::default(),
        snmp: Snmp {
            version: sixfive_inventory::model::SnmpVersion::V2c,
            port: 161,
            community_env: Some("SIXFIVE_COMMUNITY".into()),
            community_file: None,
            community: None,
            user: None,
            auth: None,
            auth_pass_env: None,
            auth_pass_file: None,
            auth_pass: None,
            privacy: None,
            priv_pass_env: None,
            priv_pass_file: None,
            priv_pass: None,
        },
    }
}

fn city() -> Inventory {
    Inventory {
        agencies: vec![agency("dict"), agency("doh")],
        hosts: vec![
            host("a.danang.test", "dict"),
            host("b.danang.test", "dict"),
            host("c.danang.test", "doh"),
        ],
        sites: vec![site("hai-chau-01")],
        ..Inventory::default()
    }
}

fn fqdns(hosts: &[sixfive_inventory::store::Stored<Host>]) -> Vec<&str> {
    hosts.iter().map(|h| h.entry.fqdn.as_str()).collect()
}

#[tokio::test]
async fn importing_the_same_inventory_twice_changes_nothing() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let first = store.import(&city(), "city.yaml", "tester").await.unwrap();
        assert_eq!(
            (first.added, first.changed, first.removed),
            (6, 0, 0),
            "{}",
            backend.name
        );
        assert!(first.import_id.is_some());

        let history = store.history(None).await.unwrap();
        let again = store.import(&city(), "city.yaml", "tester").await.unwrap();
        assert_eq!(again.import_id, None, "{}", backend.name);
        assert_eq!((again.added, again.changed, again.removed), (0, 0, 0));
        assert_eq!(
            store.history(None).await.unwrap(),
            history,
            "{}",
            backend.name
        );

        let hosts = store.hosts(false).await.unwrap();
        assert_eq!(
            fqdns(&hosts),
            ["a.danang.test", "b.danang.test", "c.danang.test"]
        );
        assert_eq!(hosts[0].entry, city().hosts[0], "{}", backend.name);
        assert_eq!(store.sites(false).await.unwrap()[0].entry, city().sites[0]);
        assert_eq!(store.agencies(false).await.unwrap().len(), 2);
        store.close().await;
    }
}

#[tokio::test]
async fn an_inventory_naming_a_host_twice_imports_its_last_entry() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let mut city = city();
        let mut again = city.hosts[0].clone();
        again.owner = Some("the last entry".into());
        city.hosts.push(again);
        let summary = store.import(&city, "city.yaml", "tester").await.unwrap();
        assert_eq!((summary.added, summary.changed), (6, 0), "{}", backend.name);
        let hosts = store.hosts(false).await.unwrap();
        assert_eq!(
            fqdns(&hosts),
            ["a.danang.test", "b.danang.test", "c.danang.test"]
        );
        assert_eq!(hosts[0].entry.owner.as_deref(), Some("the last entry"));
        store.close().await;
    }
}

#[tokio::test]
async fn a_removed_host_keeps_its_history_and_can_come_back() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "tester").await.unwrap();

        let mut next = city();
        next.hosts.retain(|h| h.fqdn != "b.danang.test");
        next.hosts[0].stage = Stage::DualStack;
        next.hosts.push(host("d.danang.test", "doh"));
        let summary = store.import(&next, "v2", "tester").await.unwrap();
        assert_eq!(
            (summary.added, summary.changed, summary.removed),
            (1, 1, 1),
            "{}",
            backend.name
        );

        let present = store.hosts(false).await.unwrap();
        assert_eq!(
            fqdns(&present),
            ["a.danang.test", "c.danang.test", "d.danang.test"]
        );
        assert_eq!(present[0].entry.stage, Stage::DualStack);
        let all = store.hosts(true).await.unwrap();
        let removed = all
            .iter()
            .find(|h| h.entry.fqdn == "b.danang.test")
            .unwrap();
        assert!(removed.removed_at.is_some(), "{}", backend.name);

        let changes = store
            .history(Some((Kind::Host, "a.danang.test")))
            .await
            .unwrap();
        let kinds: Vec<_> = changes.iter().map(|c| c.change.as_str()).collect();
        assert_eq!(kinds, ["added", "changed"]);
        assert_eq!(changes[1].before.as_ref().unwrap()["stage"], "planned");
        assert_eq!(changes[1].after.as_ref().unwrap()["stage"], "dual-stack");
        assert_eq!(changes[1].who, "tester");

        store.import(&city(), "v3", "tester").await.unwrap();
        let back = store.hosts(false).await.unwrap();
        assert!(fqdns(&back).contains(&"b.danang.test"), "{}", backend.name);
        let changes = store
            .history(Some((Kind::Host, "b.danang.test")))
            .await
            .unwrap();
        let kinds: Vec<_> = changes.iter().map(|c| c.change.as_str()).collect();
        assert_eq!(kinds, ["added", "removed", "added"], "{}", backend.name);
        store.close().await;
    }
}

#[tokio::test]
async fn an_edit_stands_until_the_file_changes_that_field() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "importer").await.unwrap();
        for (field, value) in [
            (EditField::Stage, "dual-stack"),
            (EditField::Owner, "Lan"),
            (EditField::Note, "waits for the firewall"),
        ] {
            store
                .edit(Kind::Host, "a.danang.test", field, Some(value), "lan")
                .await
                .unwrap();
        }
        let notes = |hosts: Vec<sixfive_inventory::store::Stored<Host>>| {
            hosts
                .into_iter()
                .find(|h| h.entry.fqdn == "a.danang.test")
                .unwrap()
                .annotations
        };

        // The file changes the tags only: every edit stands.
        let mut retagged = city();
        retagged.hosts[0].tags = vec!["citizen".into()];
        store.import(&retagged, "v2", "importer").await.unwrap();
        assert_eq!(
            notes(store.hosts(false).await.unwrap()).len(),
            3,
            "{}",
            backend.name
        );

        // The file changes the owner: its value wins, the stage and note edits stand.
        let mut owned = retagged.clone();
        owned.hosts[0].owner = Some("Minh".into());
        store.import(&owned, "v3", "importer").await.unwrap();
        let left = notes(store.hosts(false).await.unwrap());
        assert_eq!(
            left.keys().map(String::as_str).collect::<Vec<_>>(),
            ["note", "stage"],
            "{}",
            backend.name
        );
        let log = store
            .audit_log(Some((Kind::Host, "a.danang.test")))
            .await
            .unwrap();
        let last = log.last().unwrap();
        assert_eq!(
            (
                last.who.as_str(),
                last.field.as_str(),
                last.old_value.as_deref(),
                last.new_value.as_deref()
            ),
            ("importer (import #3)", "owner", Some("Lan"), Some("Minh")),
            "{}",
            backend.name
        );
        assert_eq!(log.len(), 4, "{}", backend.name);
        store.close().await;
    }
}

#[tokio::test]
async fn edits_are_stored_with_who_and_what() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "importer").await.unwrap();
        store
            .edit(
                Kind::Host,
                "a.danang.test",
                EditField::Stage,
                Some("in-progress"),
                "lan",
            )
            .await
            .unwrap();
        store
            .edit(
                Kind::Host,
                "a.danang.test",
                EditField::Owner,
                Some("Trần Thị B"),
                "lan",
            )
            .await
            .unwrap();
        store
            .edit(
                Kind::Host,
                "a.danang.test",
                EditField::Stage,
                Some("dual-stack"),
                "minh",
            )
            .await
            .unwrap();
        store
            .edit(Kind::Host, "a.danang.test", EditField::Owner, None, "minh")
            .await
            .unwrap();
        let missing = store
            .edit(Kind::Host, "nope.test", EditField::Note, Some("x"), "minh")
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { .. })),
            "{}",
            backend.name
        );

        let log = store
            .audit_log(Some((Kind::Host, "a.danang.test")))
            .await
            .unwrap();
        let seen: Vec<_> = log
            .iter()
            .map(|e| {
                (
                    e.who.as_str(),
                    e.field.as_str(),
                    e.old_value.as_deref(),
                    e.new_value.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("lan", "stage", None, Some("in-progress")),
                ("lan", "owner", None, Some("Trần Thị B")),
                ("minh", "stage", Some("in-progress"), Some("dual-stack")),
                ("minh", "owner", Some("Trần Thị B"), None),
            ],
            "{}",
            backend.name
        );
        assert_eq!(
            store.audit_log(None).await.unwrap().len(),
            4,
            "the failed edit logged nothing"
        );
        let hosts = store.hosts(false).await.unwrap();
        let edited = &hosts[0];
        assert_eq!(
            edited.annotations.get("stage").map(String::as_str),
            Some("dual-stack")
        );
        assert_eq!(edited.annotations.get("owner"), None);
        store.close().await;
    }
}

fn result(host: &str, check: &str, status: Status) -> CheckRecord {
    CheckRecord {
        host: host.into(),
        check: check.into(),
        status,
        family: Some(Family::V6),
        address: Some("fd00:1::80".parse().unwrap()),
        port: Some(443),
        duration_ms: Some(3.5),
        detail: "connected".into(),
        hint: (status != Status::Pass).then(|| "nginx: add `listen [::]:443 ssl;`".into()),
        evidence: json!({"chain": ["a", "b"]}),
        measurements: [("rtt_ms".to_owned(), 3.5)].into(),
    }
}

/// One complete hosts run that graded `host` and found `results`.
async fn complete_run(store: &Store, host: &str, results: &[CheckRecord]) -> i64 {
    let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
    store
        .record_hosts(run, &[graded(host)], results)
        .await
        .unwrap();
    store.finish_run(run, RunStatus::Complete).await.unwrap();
    run
}

fn graded(host: &str) -> HostLevel {
    HostLevel {
        host: host.into(),
        level: Level::L1,
        score: 50,
        internet_nl: None,
        inconclusive: false,
        regressed: false,
    }
}

#[tokio::test]
async fn a_hosts_grades_come_from_the_newest_runs_that_graded_it_oldest_first() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "importer").await.unwrap();
        let mut runs = Vec::new();
        for (host, level) in [
            ("a.danang.test", Level::L0),
            ("b.danang.test", Level::L3),
            ("a.danang.test", Level::L2),
        ] {
            let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
            let grade = HostLevel {
                level,
                ..graded(host)
            };
            store.record_hosts(run, &[grade], &[]).await.unwrap();
            store.finish_run(run, RunStatus::Complete).await.unwrap();
            runs.push(run);
        }
        // A sites run in between takes no place among the host's runs.
        let sites = store.begin_run("sites", RunKind::Sites).await.unwrap();
        store.finish_run(sites, RunStatus::Complete).await.unwrap();
        let grades = store.host_grades("a.danang.test", 12).await.unwrap();
        assert_eq!(
            grades.iter().map(|g| (g.run, g.level)).collect::<Vec<_>>(),
            [(runs[0], Level::L0), (runs[2], Level::L2)],
            "{}",
            backend.name
        );
        assert!(grades.iter().all(|g| g.at.is_some()));
        // The newest one alone.
        let newest = store.host_grades("a.danang.test", 1).await.unwrap();
        assert_eq!(
            newest.iter().map(|g| g.run).collect::<Vec<_>>(),
            [runs[2]],
            "{}",
            backend.name
        );
        // Many re-checks of another host, an inconclusive grade and a run still writing
        // leave the history as it was.
        for _ in 0..14 {
            complete_run(&store, "b.danang.test", &[]).await;
        }
        let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        let unsure = HostLevel {
            inconclusive: true,
            ..graded("a.danang.test")
        };
        store.record_hosts(run, &[unsure], &[]).await.unwrap();
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        let writing = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(writing, &[graded("a.danang.test")], &[])
            .await
            .unwrap();
        assert_eq!(
            store.host_grades("a.danang.test", 12).await.unwrap(),
            grades,
            "{}",
            backend.name
        );
        assert!(
            store
                .host_grades("nobody.test", 12)
                .await
                .unwrap()
                .is_empty()
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_scan_run_is_complete_or_visibly_incomplete() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let first = store.begin_run("agent-1", RunKind::Hosts).await.unwrap();
        let results = vec![
            result("a.danang.test", "tcp.v6", Status::Pass),
            result("a.danang.test", "http.v6", Status::Fail),
        ];
        let sample = SiteSample {
            site: "hai-chau-01".into(),
            at: Utc::now(),
            state: SiteState::Degraded,
            reasons: vec!["RSRP -95 dBm is fair".into()],
            data: json!({"radio": {"rsrp_dbm": -95.0}, "wan_ipv6": []}),
        };
        store
            .record_samples(first, std::slice::from_ref(&sample))
            .await
            .unwrap();
        let grade = |host: &str, level, internet_nl| HostLevel {
            host: host.into(),
            level,
            score: 55,
            internet_nl,
            inconclusive: false,
            regressed: false,
        };
        let levels = vec![
            grade("a.danang.test", Level::Broken, Some(45)),
            grade("b.danang.test", Level::L0, None),
        ];
        store.record_hosts(first, &levels, &results).await.unwrap();
        store.finish_run(first, RunStatus::Complete).await.unwrap();
        assert_eq!(
            store.levels(first).await.unwrap(),
            levels,
            "{}",
            backend.name
        );
        assert_eq!(
            store.results(first).await.unwrap(),
            results,
            "{}",
            backend.name
        );
        let samples = store.samples("hai-chau-01", 10).await.unwrap();
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].state, SiteState::Degraded);
        assert_eq!(samples[0].data, sample.data);

        // A second run dies half-way: its agent restarts and marks it.
        let second = store.begin_run("agent-1", RunKind::Hosts).await.unwrap();
        let other_agent = store.begin_run("agent-2", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(
                second,
                &[grade("b.danang.test", Level::L0, None)],
                &[result("b.danang.test", "tcp.v6", Status::Pass)],
            )
            .await
            .unwrap();
        store.close().await;

        let store = Store::open(&backend.url).await.unwrap();
        assert_eq!(
            store.interrupt_runs("agent-1").await.unwrap(),
            1,
            "{}",
            backend.name
        );
        let runs = store.runs().await.unwrap();
        let status = |id| runs.iter().find(|r| r.id == id).unwrap().status;
        assert_eq!(status(second), RunStatus::Incomplete);
        assert_eq!(
            status(other_agent),
            RunStatus::Running,
            "another agent's run is left alone"
        );
        assert_eq!(
            store
                .latest_complete_run(RunKind::Hosts)
                .await
                .unwrap()
                .unwrap()
                .id,
            first
        );
        let late = store
            .record_hosts(
                second,
                &[grade("c.danang.test", Level::L0, None)],
                &[result("c.danang.test", "tcp.v6", Status::Pass)],
            )
            .await;
        assert!(
            matches!(late, Err(StoreError::RunClosed(id)) if id == second),
            "{}",
            backend.name
        );
        assert!(matches!(
            store.finish_run(second, RunStatus::Complete).await,
            Err(StoreError::RunClosed(_))
        ));
        store.close().await;
    }
}

#[tokio::test]
async fn site_polls_keep_history_and_leave_host_runs_current() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let hosts = store.begin_run("check", RunKind::Hosts).await.unwrap();
        store.finish_run(hosts, RunStatus::Complete).await.unwrap();
        let sample = |site: &str, state, rsrp: f64| SiteSample {
            site: site.into(),
            at: Utc::now(),
            state,
            reasons: vec![],
            data: json!({ "radio": { "rsrp_dbm": rsrp } }),
        };
        for (state, rsrp) in [(SiteState::Ok, -75.0), (SiteState::Degraded, -95.0)] {
            let run = store.begin_run("sites", RunKind::Sites).await.unwrap();
            store
                .record_samples(
                    run,
                    &[sample("a", state, rsrp), sample("b", SiteState::Ok, -70.0)],
                )
                .await
                .unwrap();
            store.finish_run(run, RunStatus::Complete).await.unwrap();
        }
        let latest = store.latest_samples(None).await.unwrap();
        let states: Vec<_> = latest.iter().map(|s| (s.site.as_str(), s.state)).collect();
        assert_eq!(
            states,
            [("a", SiteState::Degraded), ("b", SiteState::Ok)],
            "{}",
            backend.name
        );
        assert_eq!(store.latest_samples(Some("b")).await.unwrap().len(), 1);
        assert_eq!(
            store.samples("a", 10).await.unwrap().len(),
            2,
            "history is kept"
        );
        let current = |kind| store.latest_complete_run(kind);
        assert_eq!(current(RunKind::Hosts).await.unwrap().unwrap().id, hosts);
        assert_eq!(
            current(RunKind::Sites).await.unwrap().unwrap().kind,
            RunKind::Sites
        );
        store.close().await;
    }
}

/// Makes the database refuse one host, so an import fails part-way through its writes.
async fn poison(backend: &Backend, fqdn: &str) {
    match &backend.url {
        StoreUrl::Sqlite(path) => {
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE TRIGGER poison BEFORE INSERT ON entities WHEN NEW.key = '{fqdn}'
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
        StoreUrl::Postgres { options, .. } => {
            let mut conn = sqlx::PgConnection::connect_with(options).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN
                   IF NEW.key = '{fqdn}' THEN RAISE EXCEPTION 'injected failure'; END IF;
                   RETURN NEW; END $$ LANGUAGE plpgsql"
            )))
            .execute(&mut conn)
            .await
            .unwrap();
            sqlx::query("CREATE TRIGGER poison BEFORE INSERT ON entities FOR EACH ROW EXECUTE FUNCTION poison()")
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn an_import_that_fails_half_way_leaves_the_store_as_it_was() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "tester").await.unwrap();
        let hosts_before = store.hosts(true).await.unwrap();
        let history_before = store.history(None).await.unwrap();
        poison(&backend, "zz.danang.test").await;

        let mut next = city();
        next.hosts.remove(0);
        next.hosts[0].stage = Stage::Ipv6Only;
        next.hosts.push(host("y.danang.test", "doh"));
        next.hosts.push(host("zz.danang.test", "doh"));
        let failed = store.import(&next, "v2", "tester").await;
        assert!(
            failed.is_err(),
            "{}: the poisoned insert should fail",
            backend.name
        );

        assert_eq!(
            store.hosts(true).await.unwrap(),
            hosts_before,
            "{}",
            backend.name
        );
        assert_eq!(
            store.history(None).await.unwrap(),
            history_before,
            "{}",
            backend.name
        );
        store.close().await;
    }
}

/// Runs `$body` with `$pool` connected to `$backend`'s database and `$migrations` its
/// backend's migrations: the same statements on either pool type.
macro_rules! on_backend {
    ($backend:expr, $pool:ident, $migrations:ident => $body:expr) => {
        match &$backend.url {
            StoreUrl::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .foreign_keys(true);
                let $pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                let $migrations = sqlx::migrate!("./migrations/sqlite");
                $body;
                $pool.close().await;
            }
            StoreUrl::Postgres { options, .. } => {
                let $pool = sqlx::PgPool::connect_with((**options).clone())
                    .await
                    .unwrap();
                let $migrations = sqlx::migrate!("./migrations/postgres");
                $body;
                $pool.close().await;
            }
        }
    };
}

/// The store as an earlier release left it (migrations up to 0003), with two runs, their
/// results a row per run, grades and a site sample written in that schema.
async fn previous_release(backend: &Backend) -> i64 {
    let insert = [
        "INSERT INTO scan_runs (agent, kind, started_at, finished_at, status)
         VALUES ('check@ops', 'hosts', '2026-11-30T08:00:00Z', '2026-11-30T08:01:00Z', 'complete')",
        "INSERT INTO check_results (run_id, host, check_id, status, family, address, port, duration_ms, detail, hint, evidence)
         VALUES (1, 'a.danang.test', 'tcp.v6', 'fail', 'v6', 'fd00:1::10', 443, 4.5, 'refused', 'listen on [::]:443', '{\"v6\": \"refused\"}')",
        "INSERT INTO check_results (run_id, host, check_id, status, family, address, port, duration_ms, detail, hint, evidence)
         VALUES (1, 'a.danang.test', 'dns.aaaa', 'pass', NULL, NULL, NULL, NULL, 'AAAA fd00:1::10', NULL, 'null')",
        "INSERT INTO host_levels (run_id, host, level, score, inconclusive, regressed)
         VALUES (1, 'a.danang.test', 'BROKEN', 61, false, false)",
        // The next run found the same refusal, and no longer ran dns.aaaa.
        "INSERT INTO scan_runs (agent, kind, started_at, finished_at, status)
         VALUES ('check@ops', 'hosts', '2026-11-30T08:30:00Z', '2026-11-30T08:31:00Z', 'complete')",
        "INSERT INTO check_results (run_id, host, check_id, status, family, address, port, duration_ms, detail, hint, evidence)
         VALUES (2, 'a.danang.test', 'tcp.v6', 'fail', 'v6', 'fd00:1::10', 443, 2.5, 'refused', 'listen on [::]:443', '{\"v6\": \"refused\"}')",
        // That release could report one key twice in a run (http.parity's two skips).
        "INSERT INTO check_results (run_id, host, check_id, status, family, address, port, duration_ms, detail, hint, evidence)
         VALUES (2, 'a.danang.test', 'http.parity', 'skip', NULL, NULL, NULL, NULL, 'no IPv4 (http)', NULL, 'null')",
        "INSERT INTO check_results (run_id, host, check_id, status, family, address, port, duration_ms, detail, hint, evidence)
         VALUES (2, 'a.danang.test', 'http.parity', 'skip', NULL, NULL, NULL, NULL, 'no IPv4 (https)', NULL, 'null')",
        "INSERT INTO host_levels (run_id, host, level, score, inconclusive, regressed)
         VALUES (2, 'a.danang.test', 'BROKEN', 61, false, false)",
        "INSERT INTO site_samples (run_id, site, at, state, reasons, data)
         VALUES (1, 'hai-chau-01', '2026-11-30T08:00:30Z', 'degraded', '[\"RSRP -95 dBm is fair\"]', '{\"radio\": {\"rsrp_dbm\": -95.0}}')",
        // A third run, since deleted: its id is not handed out again.
        "INSERT INTO scan_runs (agent, kind, started_at, status)
         VALUES ('check@ops', 'hosts', '2026-11-30T09:00:00Z', 'incomplete')",
        "DELETE FROM scan_runs WHERE id = 3",
    ];
    on_backend!(backend, pool, migrator => {
        let mut migrator = migrator;
        migrator.migrations = migrator.migrations[..3].to_vec().into();
        migrator.run(&pool).await.unwrap();
        for statement in insert {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&pool)
                .await
                .unwrap();
        }
    });
    1
}

#[tokio::test]
async fn a_store_made_by_the_previous_release_opens_and_reads_the_same() {
    for backend in backends().await {
        let run = previous_release(&backend).await;
        let store = Store::open(&backend.url).await.unwrap();
        let runs = store.runs().await.unwrap();
        assert_eq!(runs.len(), 2, "{}", backend.name);
        let first = runs.iter().find(|r| r.id == run).unwrap();
        assert_eq!(
            (first.kind, first.status),
            (RunKind::Hosts, RunStatus::Complete)
        );
        let results = store.results(run).await.unwrap();
        let checks: Vec<&str> = results.iter().map(|r| r.check.as_str()).collect();
        assert_eq!(
            checks,
            ["tcp.v6", "dns.aaaa"],
            "{}: the first run reads back whole, in the order it ran",
            backend.name
        );
        assert_eq!(
            (results[0].status, results[0].port, results[0].family),
            (Status::Fail, Some(443), Some(Family::V6))
        );
        assert_eq!(results[0].evidence, json!({"v6": "refused"}));
        assert_eq!(
            (results[1].family, results[1].address, results[1].port),
            (None, None, None)
        );
        assert_eq!(
            results[0].duration_ms, None,
            "only the latest timings are kept"
        );
        let second = store.results(run + 1).await.unwrap();
        let checks: Vec<(&str, &str)> = second
            .iter()
            .map(|r| (r.check.as_str(), r.detail.as_str()))
            .collect();
        assert_eq!(
            checks,
            [
                ("tcp.v6", "refused"),
                ("http.parity", "no IPv4 (http)"),
                ("http.parity", "no IPv4 (https)")
            ],
            "{}: dns.aaaa ended with run 1; a key reported twice keeps both, in order",
            backend.name
        );
        assert_eq!(
            (second[0].status, second[0].duration_ms),
            (Status::Fail, Some(2.5))
        );
        let levels = store.levels(run).await.unwrap();
        assert_eq!(
            (levels[0].level, levels[0].score, levels[0].internet_nl),
            (Level::Broken, 61, None)
        );
        let samples = store.samples("hai-chau-01", 10).await.unwrap();
        assert_eq!(samples[0].state, SiteState::Degraded);
        // The new schema takes what the previous one could not, and ids go on from the
        // last one ever given.
        assert_eq!(runs[0].import, None, "runs before imports were noted");
        let both = store.begin_run("scan@ops", RunKind::Scan).await.unwrap();
        assert_eq!(both, 4, "{}", backend.name);
        // Foreign keys hold on the rebuilt table: a run names only an import that exists.
        assert!(
            store
                .begin_run_against("scan@ops", RunKind::Scan, Some(999))
                .await
                .is_err(),
            "{}",
            backend.name
        );
        store.finish_run(both, RunStatus::Complete).await.unwrap();
        assert_eq!(store.runs().await.unwrap()[0].kind, RunKind::Scan);
        // The rebuilt table takes the UI's re-checks too.
        let recheck = store.begin_run("tui@ops", RunKind::Recheck).await.unwrap();
        assert!(recheck > both, "{}", backend.name);
        store
            .finish_run(recheck, RunStatus::Complete)
            .await
            .unwrap();
        assert_eq!(store.runs().await.unwrap()[0].kind, RunKind::Recheck);
        assert_eq!(
            store.results(run).await.unwrap().len(),
            2,
            "{}",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_run_whose_owner_died_is_closed_on_the_next_open_and_a_live_one_is_not() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let dead = store
            .begin_run("check@killed", RunKind::Hosts)
            .await
            .unwrap();
        let alive = store.begin_run("agent@alive", RunKind::Scan).await.unwrap();
        // Both last beat two minutes ago; then the live one's owner beats again.
        let old = Utc::now() - chrono::Duration::minutes(2);
        on_backend!(backend, pool, _migrations => {
            sqlx::query("UPDATE scan_runs SET heartbeat_at = $1 WHERE id IN ($2, $3)")
                .bind(old)
                .bind(dead)
                .bind(alive)
                .execute(&pool)
                .await
                .unwrap();
        });
        store.beat(alive).await.unwrap();
        let reopened = Store::open(&backend.url).await.unwrap();
        let runs = reopened.runs().await.unwrap();
        let status = |id| runs.iter().find(|r| r.id == id).unwrap().status;
        assert_eq!(status(dead), RunStatus::Incomplete, "{}", backend.name);
        assert_eq!(status(alive), RunStatus::Running, "{}", backend.name);
        // The live run goes on writing.
        store.record_hosts(alive, &[], &[]).await.unwrap();
        store.finish_run(alive, RunStatus::Complete).await.unwrap();
        reopened.close().await;
        store.close().await;
    }
}

#[tokio::test]
async fn the_latest_level_of_each_host_comes_from_the_newest_complete_run_that_graded_it() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let grade = |host: &str, level| HostLevel {
            host: host.into(),
            level,
            score: 50,
            internet_nl: None,
            inconclusive: false,
            regressed: false,
        };
        for (levels, status) in [
            (
                vec![grade("a.test", Level::L3), grade("b.test", Level::L2)],
                RunStatus::Complete,
            ),
            // b's grade here could not be decided: it is no baseline.
            (
                vec![
                    grade("a.test", Level::L1),
                    HostLevel {
                        inconclusive: true,
                        ..grade("b.test", Level::L0)
                    },
                ],
                RunStatus::Complete,
            ),
            (vec![grade("b.test", Level::Broken)], RunStatus::Incomplete),
        ] {
            let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
            store.record_hosts(run, &levels, &[]).await.unwrap();
            store.finish_run(run, status).await.unwrap();
        }
        let latest = store.latest_levels().await.unwrap();
        assert_eq!(latest.get("a.test"), Some(&Level::L1), "{}", backend.name);
        assert_eq!(latest.get("b.test"), Some(&Level::L2), "{}", backend.name);
        assert_eq!(latest.len(), 2);
        store.close().await;
    }
}

#[tokio::test]
async fn a_batch_larger_than_one_insert_is_stored_whole_and_in_order() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        // 2,500 hosts: three multi-row INSERTs a table in one transaction, listed in host order.
        let mut results: Vec<CheckRecord> = (0..2_500)
            .map(|i| result(&format!("h{i:04}.danang.test"), "tcp.v6", Status::Pass))
            .collect();
        results.swap(0, 2_499);
        let levels: Vec<HostLevel> = results.iter().map(|r| graded(&r.host)).collect();
        store.record_hosts(run, &levels, &results).await.unwrap();
        results.swap(0, 2_499);
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        assert_eq!(
            store.results(run).await.unwrap(),
            results,
            "{}",
            backend.name
        );
        store.close().await;
    }
}

/// Rows in `table`, counted over a connection of its own.
async fn rows(backend: &Backend, table: &str) -> i64 {
    let query = format!("SELECT COUNT(*) FROM {table}");
    let count;
    on_backend!(backend, pool, _migrator => {
        count = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
            .fetch_one(&pool)
            .await
            .unwrap()
    });
    count
}

#[tokio::test]
async fn a_result_is_stored_again_only_when_what_it_found_changed() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let hosts = ["a.danang.test", "b.danang.test"];
        let found = |status| -> Vec<CheckRecord> {
            hosts
                .iter()
                .flat_map(|h| {
                    [
                        result(h, "tcp.v6", status),
                        CheckRecord::new(h, "dns.aaaa", Status::Pass, "AAAA fd00:1::80"),
                    ]
                })
                .collect()
        };
        let levels: Vec<HostLevel> = hosts.iter().map(|h| graded(h)).collect();
        let scan = |results: Vec<CheckRecord>, levels: Vec<HostLevel>| {
            let store = &store;
            async move {
                let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
                store.record_hosts(run, &levels, &results).await.unwrap();
                store.finish_run(run, RunStatus::Complete).await.unwrap();
                run
            }
        };
        let first = scan(found(Status::Pass), levels.clone()).await;
        assert_eq!(
            rows(&backend, "result_versions").await,
            4,
            "{}",
            backend.name
        );

        // The same findings, other timings: no new version, the timings overwritten.
        let mut again = found(Status::Pass);
        for record in &mut again {
            record.duration_ms = Some(9.0);
            record.measurements.insert("rtt_ms".into(), 9.0);
        }
        let second = scan(again.clone(), levels.clone()).await;
        assert_eq!(
            rows(&backend, "result_versions").await,
            4,
            "{}: an unchanged run stores no result",
            backend.name
        );
        assert_eq!(
            store.results(second).await.unwrap(),
            again,
            "{}",
            backend.name
        );
        let mut then = found(Status::Pass);
        for record in &mut then {
            record.duration_ms = None;
            record.measurements.clear();
        }
        assert_eq!(
            store.results(first).await.unwrap(),
            then,
            "{}: run 1 reads back whole, its timings overwritten",
            backend.name
        );

        // b's tcp.v6 fails and a loses dns.aaaa; a run of b alone leaves a's results be.
        let mut third_found = found(Status::Pass);
        third_found.retain(|r| !(r.host == hosts[0] && r.check == "dns.aaaa"));
        third_found[1] = result(hosts[1], "tcp.v6", Status::Fail);
        let third = scan(third_found.clone(), levels.clone()).await;
        assert_eq!(
            rows(&backend, "result_versions").await,
            5,
            "{}",
            backend.name
        );
        let only_b = scan(
            third_found
                .iter()
                .filter(|r| r.host == hosts[1])
                .cloned()
                .collect(),
            vec![graded(hosts[1])],
        )
        .await;
        assert_eq!(
            rows(&backend, "result_versions").await,
            5,
            "{}",
            backend.name
        );
        let statuses = |results: Vec<CheckRecord>| -> Vec<(String, String, Status)> {
            results
                .into_iter()
                .map(|r| (r.host, r.check, r.status))
                .collect()
        };
        let expect = |list: &[(&str, &str, Status)]| -> Vec<(String, String, Status)> {
            list.iter()
                .map(|(h, c, s)| (h.to_string(), c.to_string(), *s))
                .collect()
        };
        assert_eq!(
            statuses(store.results(third).await.unwrap()),
            expect(&[
                (hosts[0], "tcp.v6", Status::Pass),
                (hosts[1], "tcp.v6", Status::Fail),
                (hosts[1], "dns.aaaa", Status::Pass),
            ]),
            "{}",
            backend.name
        );
        assert_eq!(
            statuses(store.results(only_b).await.unwrap()),
            expect(&[
                (hosts[1], "tcp.v6", Status::Fail),
                (hosts[1], "dns.aaaa", Status::Pass),
            ]),
            "{}: a run reads back the hosts it covered",
            backend.name
        );
        assert_eq!(
            statuses(store.results(second).await.unwrap()),
            expect(&[
                (hosts[0], "tcp.v6", Status::Pass),
                (hosts[0], "dns.aaaa", Status::Pass),
                (hosts[1], "tcp.v6", Status::Pass),
                (hosts[1], "dns.aaaa", Status::Pass),
            ]),
            "{}: later changes leave earlier runs as they were",
            backend.name
        );
        assert_eq!(
            rows(&backend, "host_latest").await,
            2,
            "{}: one row of latest timings per host, not per result or run",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_run_that_writes_after_a_newer_one_fits_its_results_between() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let host = "a.danang.test";
        let older = store.begin_run("agent-1", RunKind::Hosts).await.unwrap();
        let newer = store.begin_run("agent-2", RunKind::Hosts).await.unwrap();
        // The newer run writes first (another agent, a faster batch).
        store
            .record_hosts(
                newer,
                &[graded(host)],
                &[result(host, "tcp.v6", Status::Pass)],
            )
            .await
            .unwrap();
        let slower = CheckRecord {
            duration_ms: Some(99.0),
            ..result(host, "tcp.v6", Status::Fail)
        };
        store
            .record_hosts(older, &[graded(host)], &[slower])
            .await
            .unwrap();
        let status =
            |results: Vec<CheckRecord>| results.iter().map(|r| r.status).collect::<Vec<_>>();
        assert_eq!(
            status(store.results(older).await.unwrap()),
            [Status::Fail],
            "{}",
            backend.name
        );
        assert_eq!(
            status(store.results(newer).await.unwrap()),
            [Status::Pass],
            "{}",
            backend.name
        );
        let latest = store.results(newer).await.unwrap();
        assert_eq!(
            latest[0].duration_ms,
            Some(3.5),
            "the newer run's timings stay, not the late writer's"
        );
        // A result without its host's grade is refused: a run covers the hosts it graded.
        assert!(matches!(
            store
                .record_hosts(newer, &[], &[result(host, "tcp.v6", Status::Pass)])
                .await,
            Err(StoreError::Ungraded(h)) if h == host
        ));
        store.close().await;
    }
}

#[tokio::test]
async fn a_late_writer_does_not_rewrite_what_a_newer_run_read() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let host = "a.danang.test";
        let found = [
            result(host, "tcp.v6", Status::Pass),
            result(host, "dns.aaaa", Status::Pass),
        ];
        let first = complete_run(&store, host, &found).await;
        let older = store.begin_run("agent-1", RunKind::Hosts).await.unwrap();
        let newer = store.begin_run("agent-2", RunKind::Hosts).await.unwrap();
        // The newer run finds what the first did, and writes before the older one, which
        // finds tcp.v6 failing and no longer runs dns.aaaa.
        store
            .record_hosts(newer, &[graded(host)], &found)
            .await
            .unwrap();
        store
            .record_hosts(
                older,
                &[graded(host)],
                &[result(host, "tcp.v6", Status::Fail)],
            )
            .await
            .unwrap();
        let read = async |run| {
            store
                .results(run)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.check, r.status))
                .collect::<Vec<_>>()
        };
        let both = vec![
            ("tcp.v6".to_owned(), Status::Pass),
            ("dns.aaaa".to_owned(), Status::Pass),
        ];
        assert_eq!(read(first).await, both, "{}", backend.name);
        assert_eq!(
            read(older).await,
            [("tcp.v6".to_owned(), Status::Fail)],
            "{}",
            backend.name
        );
        assert_eq!(
            read(newer).await,
            both,
            "{}: the newer run reads what it found",
            backend.name
        );
        // And a run after both goes on from the newer one: nothing changed, nothing written.
        let before = rows(&backend, "result_versions").await;
        let after = store.begin_run("agent-1", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(after, &[graded(host)], &found)
            .await
            .unwrap();
        assert_eq!(
            rows(&backend, "result_versions").await,
            before,
            "{}",
            backend.name
        );
        assert_eq!(read(after).await, both, "{}", backend.name);
        // The host's history: each finding with the runs it held for, oldest first.
        let history: Vec<(String, Status, i64, Option<i64>)> = store
            .result_history(host)
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.record.check, v.record.status, v.from_run, v.to_run))
            .collect();
        let held = |check: &str, status, from, to| (check.to_owned(), status, from, to);
        assert_eq!(
            history,
            [
                held("tcp.v6", Status::Pass, first, Some(older)),
                held("dns.aaaa", Status::Pass, first, Some(older)),
                held("tcp.v6", Status::Fail, older, Some(newer)),
                held("tcp.v6", Status::Pass, newer, None),
                held("dns.aaaa", Status::Pass, newer, None),
            ],
            "{}",
            backend.name
        );
        // What the host's checks find now: the open versions alone, in the order they ran.
        let current: Vec<(String, Status)> = store
            .current_results(host)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.check, r.status))
            .collect();
        assert_eq!(
            current,
            [
                ("tcp.v6".to_owned(), Status::Pass),
                ("dns.aaaa".to_owned(), Status::Pass)
            ],
            "{}",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn two_agents_grading_the_same_hosts_at_once_both_store_their_runs() {
    for backend in backends().await {
        let agents = [
            Store::open(&backend.url).await.unwrap(),
            Store::open(&backend.url).await.unwrap(),
        ];
        // Batches this large keep both transactions open at once.
        let hosts: Vec<String> = (0..2000).map(|n| format!("h{n}.danang.test")).collect();
        let levels: Vec<HostLevel> = hosts.iter().map(|h| graded(h)).collect();
        for round in 0..5 {
            let mut runs = Vec::new();
            for store in &agents {
                runs.push(store.begin_run("agent", RunKind::Hosts).await.unwrap());
            }
            // Each agent finds otherwise than the other, so both close what is current.
            let found = |n: usize| -> Vec<CheckRecord> {
                let status = if (n + round).is_multiple_of(2) {
                    Status::Pass
                } else {
                    Status::Fail
                };
                hosts.iter().map(|h| result(h, "tcp.v6", status)).collect()
            };
            let (first, second) = (found(0), found(1));
            let written = tokio::join!(
                agents[0].record_hosts(runs[0], &levels, &first),
                agents[1].record_hosts(runs[1], &levels, &second),
            );
            for outcome in [written.0, written.1] {
                outcome.unwrap_or_else(|e| panic!("{}: {e}", backend.name));
            }
            for (n, (store, &run)) in agents.iter().zip(&runs).enumerate() {
                let status = if (n + round).is_multiple_of(2) {
                    Status::Pass
                } else {
                    Status::Fail
                };
                let results = store.results(run).await.unwrap();
                assert_eq!(results.len(), hosts.len(), "{}", backend.name);
                assert!(
                    results.iter().all(|r| r.status == status),
                    "{}",
                    backend.name
                );
            }
        }
        for store in agents {
            store.close().await;
        }
    }
}

#[tokio::test]
async fn results_a_check_reports_under_one_key_are_each_kept() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let host = "a.danang.test";
        // dns.ns_aaaa reports a zone each, with no address: one key, several results.
        let zones = |statuses: [Status; 2]| -> Vec<CheckRecord> {
            ["danang.test", "cdn.test"]
                .iter()
                .zip(statuses)
                .zip([1.5, 2.5])
                .map(|((zone, status), took)| CheckRecord {
                    duration_ms: Some(took),
                    ..CheckRecord::new(host, "dns.ns_aaaa", status, *zone)
                })
                .collect()
        };
        let mut runs = Vec::new();
        for statuses in [
            [Status::Fail, Status::Pass],
            [Status::Fail, Status::Pass],
            [Status::Fail, Status::Fail],
        ] {
            let run = complete_run(&store, host, &zones(statuses)).await;
            runs.push((run, rows(&backend, "result_versions").await));
        }
        let read = async |run| {
            store
                .results(run)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.detail, r.status))
                .collect::<Vec<_>>()
        };
        let zone = |name: &str, status| (name.to_owned(), status);
        assert_eq!(
            read(runs[0].0).await,
            [
                zone("danang.test", Status::Fail),
                zone("cdn.test", Status::Pass)
            ],
            "{}",
            backend.name
        );
        assert_eq!(
            runs[1].1, runs[0].1,
            "{}: nothing changed, nothing written",
            backend.name
        );
        assert_eq!(
            runs[2].1,
            runs[1].1 + 1,
            "{}: only the second zone's result",
            backend.name
        );
        assert_eq!(
            read(runs[2].0).await,
            [
                zone("danang.test", Status::Fail),
                zone("cdn.test", Status::Fail)
            ],
            "{}",
            backend.name
        );
        let timings: Vec<Option<f64>> = store
            .results(runs[2].0)
            .await
            .unwrap()
            .iter()
            .map(|r| r.duration_ms)
            .collect();
        assert_eq!(
            timings,
            [Some(1.5), Some(2.5)],
            "{}: each keeps its own timings",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn one_more_address_adds_its_result_and_moves_no_other() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let host = "a.danang.test";
        let tcp = |address: &str| CheckRecord {
            address: Some(address.parse().unwrap()),
            ..result(host, "tcp.v6", Status::Pass)
        };
        let aaaa = CheckRecord::new(host, "dns.aaaa", Status::Pass, "AAAA");
        complete_run(&store, host, &[tcp("fd00:1::80"), aaaa.clone()]).await;
        let before = rows(&backend, "result_versions").await;
        let run = complete_run(
            &store,
            host,
            &[tcp("fd00:1::80"), tcp("fd00:1::81"), aaaa.clone()],
        )
        .await;
        assert_eq!(
            rows(&backend, "result_versions").await,
            before + 1,
            "{}: only the new address's result is written",
            backend.name
        );
        let read: Vec<(String, Option<std::net::IpAddr>)> = store
            .results(run)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.check, r.address))
            .collect();
        let at = |check: &str, address: Option<&str>| {
            (check.to_owned(), address.map(|a| a.parse().unwrap()))
        };
        assert_eq!(
            read,
            [
                at("tcp.v6", Some("fd00:1::80")),
                at("tcp.v6", Some("fd00:1::81")),
                at("dns.aaaa", None)
            ],
            "{}: in check order",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn retention_thins_more_than_one_statement_holds() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        // More superseded versions than one thinning statement takes (10,000).
        let hosts: Vec<String> = (0..10_050).map(|n| format!("h{n}.danang.test")).collect();
        let levels: Vec<HostLevel> = hosts.iter().map(|h| graded(h)).collect();
        for status in [Status::Fail, Status::Pass] {
            let results: Vec<CheckRecord> =
                hosts.iter().map(|h| result(h, "tcp.v6", status)).collect();
            let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
            store.record_hosts(run, &levels, &results).await.unwrap();
            store.finish_run(run, RunStatus::Complete).await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let second = std::time::Duration::from_secs(1);
        assert_eq!(
            store.apply_retention(second).await.unwrap().versions,
            10_050,
            "{}",
            backend.name
        );
        assert_eq!(
            store.apply_retention(second).await.unwrap().versions,
            0,
            "{}",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn retention_forgets_old_evidence_and_keeps_what_was_found() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let host = "a.danang.test";
        let mut evidence_of = Vec::new();
        for status in [Status::Fail, Status::Pass] {
            evidence_of.push(complete_run(&store, host, &[result(host, "tcp.v6", status)]).await);
        }
        let day = std::time::Duration::from_secs(24 * 3600);
        assert_eq!(
            store.apply_retention(day).await.unwrap().versions,
            0,
            "{}: nothing is a day old",
            backend.name
        );
        // Once every run started before the cutoff, the superseded failure loses its evidence.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(
            store
                .apply_retention(std::time::Duration::from_secs(1))
                .await
                .unwrap()
                .versions,
            1,
            "{}",
            backend.name
        );
        let old = store.results(evidence_of[0]).await.unwrap();
        assert_eq!(
            (old[0].status, old[0].evidence.clone()),
            (Status::Fail, serde_json::Value::Null)
        );
        assert_eq!(old[0].detail, "connected", "the finding's words stay");
        let current = store.results(evidence_of[1]).await.unwrap();
        assert_eq!(
            current[0].evidence,
            json!({"chain": ["a", "b"]}),
            "{}: current evidence stays",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn retention_sums_old_site_samples_up_by_the_hour_and_keeps_what_readers_need() {
    use sixfive_inventory::store::{SiteHour, Spread, Thinned};
    // Whole seconds: PostgreSQL keeps microseconds.
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    // `m` minutes into hour `n` of three days ago (UTC), long before a day's retention.
    let at = |n: i64, m: i64| {
        DateTime::from_timestamp((now.timestamp() / 3600 - 72 + n) * 3600 + m * 60, 0).unwrap()
    };
    let polled = |site: &str, at: DateTime<Utc>, state, data| SiteSample {
        site: site.into(),
        at,
        state,
        reasons: vec![],
        data,
    };
    let (ok, degraded, critical) = (SiteState::Ok, SiteState::Degraded, SiteState::Critical);
    let samples = vec![
        // a's first hour: every value, some missing or null.
        polled(
            "a",
            at(0, 0),
            ok,
            json!({"radio": {"rsrp_dbm": -80.0, "sinr_db": 10.0},
                   "latency_ms": {"v6": 20.0, "v4": null}, "loss": {"v6": 0.0}}),
        ),
        polled(
            "a",
            at(0, 20),
            ok,
            json!({"radio": {"rsrp_dbm": -90.0, "sinr_db": 20.0},
                   "latency_ms": {"v6": 30.0}, "loss": {"v6": 0.25}}),
        ),
        polled(
            "a",
            at(0, 40),
            ok,
            json!({"radio": {"rsrp_dbm": -100.0, "sinr_db": null},
                   "latency_ms": {"v6": 40.0}, "loss": {"v6": 0.5}}),
        ),
        // An outage starts at 1:20 and ends at 2:20; a decline starts with hour 3.
        polled_at("a", at(1, 0), ok, -100.0),
        polled_at("a", at(1, 20), critical, -120.0),
        polled_at("a", at(1, 40), critical, -110.0),
        polled_at("a", at(2, 0), critical, -110.0),
        polled_at("a", at(2, 20), ok, -95.0),
        polled_at("a", at(2, 40), ok, -95.0),
        polled_at("a", at(3, 0), degraded, -100.0),
        polled_at("a", at(3, 30), degraded, -100.0),
        // Inside the retention window.
        polled_at("a", now - chrono::Duration::hours(1), ok, -80.0),
        polled_at("a", now - chrono::Duration::minutes(30), ok, -80.0),
        // b was last polled three days ago (a site since removed, say).
        polled_at("b", at(0, 10), ok, -70.0),
        polled_at("b", at(0, 30), ok, -70.0),
        polled_at("b", at(0, 50), ok, -70.0),
        polled_at("c", at(1, 10), ok, -75.0),
        polled_at("c", at(1, 50), ok, -75.0),
    ];
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let run = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        store.record_samples(run, &samples).await.unwrap();
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        // A batch written late: c's newest sample is not the last of its hour.
        let late = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        let written_late = polled_at("c", at(1, 30), ok, -75.0);
        store
            .record_samples(late, std::slice::from_ref(&written_late))
            .await
            .unwrap();
        store.finish_run(late, RunStatus::Complete).await.unwrap();
        assert_eq!(rows(&backend, "site_samples").await, 19);

        let day = std::time::Duration::from_secs(24 * 3600);
        assert_eq!(
            store.apply_retention(day).await.unwrap(),
            Thinned {
                versions: 0,
                samples: 4,
                hours: 6
            },
            "{}",
            backend.name
        );
        let kept = |site: &'static str| {
            let store = &store;
            async move {
                let samples = store.samples(site, 100).await.unwrap();
                samples
                    .into_iter()
                    .map(|s| (s.at, s.state))
                    .rev()
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            kept("a").await,
            [
                // The first, then the last of each hour and each change of state.
                (at(0, 0), ok),
                (at(0, 40), ok),
                (at(1, 20), critical),
                (at(1, 40), critical),
                (at(2, 20), ok),
                (at(2, 40), ok),
                (at(3, 0), degraded),
                (at(3, 30), degraded),
                // The window is untouched.
                (now - chrono::Duration::hours(1), ok),
                (now - chrono::Duration::minutes(30), ok),
            ],
            "{}",
            backend.name
        );
        assert_eq!(kept("b").await, [(at(0, 10), ok), (at(0, 50), ok)]);
        assert_eq!(
            kept("c").await,
            [(at(1, 10), ok), (at(1, 30), ok), (at(1, 50), ok)],
            "{}: the newest written stays",
            backend.name
        );
        let newest = store.latest_samples(None).await.unwrap();
        let newest: Vec<_> = newest.iter().map(|s| (s.site.as_str(), s.at)).collect();
        assert_eq!(
            newest,
            [
                ("a", now - chrono::Duration::minutes(30)),
                ("b", at(0, 50)),
                ("c", at(1, 30))
            ],
            "{}",
            backend.name
        );

        let spread = |min, avg, max, n| Spread { min, avg, max, n };
        let row = |n, polls, stats: &[(&str, Spread)], last_state, worst_state| SiteHour {
            site: "a".into(),
            hour: at(n, 0),
            polls,
            stats: stats.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            last_state,
            worst_state,
        };
        assert_eq!(
            store.site_hours("a", None).await.unwrap(),
            [
                row(
                    0,
                    3,
                    &[
                        ("latency_ms_v6", spread(20.0, 30.0, 40.0, 3)),
                        ("loss_v6", spread(0.0, 0.25, 0.5, 3)),
                        ("rsrp_dbm", spread(-100.0, -90.0, -80.0, 3)),
                        ("sinr_db", spread(10.0, 15.0, 20.0, 2)),
                    ],
                    ok,
                    ok
                ),
                row(
                    1,
                    3,
                    &[("rsrp_dbm", spread(-120.0, -110.0, -100.0, 3))],
                    critical,
                    critical
                ),
                row(
                    2,
                    3,
                    &[("rsrp_dbm", spread(-110.0, -100.0, -95.0, 3))],
                    ok,
                    critical
                ),
                row(
                    3,
                    2,
                    &[("rsrp_dbm", spread(-100.0, -100.0, -100.0, 2))],
                    degraded,
                    degraded
                ),
            ],
            "{}",
            backend.name
        );
        let hours = |site: &'static str, since| {
            let store = &store;
            async move {
                let hours = store.site_hours(site, since).await.unwrap();
                hours.iter().map(|h| (h.hour, h.polls)).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            hours("a", Some(at(2, 30))).await,
            [(at(2, 0), 3), (at(3, 0), 2)],
            "{}: from the hour `since` is in",
            backend.name
        );
        assert_eq!(hours("b", None).await, [(at(0, 0), 3)]);
        assert_eq!(hours("c", None).await, [(at(1, 0), 3)]);

        // The newest sample by a moment in a thinned hour is a real one, at most an hour
        // older, in the state the site was in then.
        for (moment, newest) in [
            (at(0, 30), (at(0, 0), ok)),
            (at(1, 10), (at(0, 40), ok)),
            (at(1, 30), (at(1, 20), critical)),
            (at(1, 59), (at(1, 40), critical)),
            (at(2, 10), (at(1, 40), critical)),
            (at(2, 50), (at(2, 40), ok)),
        ] {
            let found = store
                .latest_samples_at(Some("a"), Some(moment))
                .await
                .unwrap();
            assert_eq!(
                found.iter().map(|s| (s.at, s.state)).collect::<Vec<_>>(),
                [newest],
                "{}: by {moment}",
                backend.name
            );
        }

        assert_eq!(
            store.apply_retention(day).await.unwrap(),
            Thinned::default(),
            "{}: a second pass changes nothing",
            backend.name
        );
        assert_eq!(
            (
                rows(&backend, "site_samples").await,
                rows(&backend, "site_hours").await
            ),
            (15, 6),
            "{}",
            backend.name
        );
        store.close().await;
    }
}

/// A poll of `site` at `at`, told apart by its RSRP.
fn polled_at(site: &str, at: DateTime<Utc>, state: SiteState, rsrp: f64) -> SiteSample {
    SiteSample {
        site: site.into(),
        at,
        state,
        reasons: vec![],
        data: json!({ "radio": { "rsrp_dbm": rsrp } }),
    }
}

#[tokio::test]
async fn retention_thins_a_site_over_more_hours_than_one_transaction_holds() {
    let now = Utc::now().timestamp();
    // `m` minutes into hour `n` from 50 days ago.
    let at = |n: i64, m: i64| {
        DateTime::from_timestamp((now / 3600 - 50 * 24 + n) * 3600 + m * 60, 0).unwrap()
    };
    // A poll at :00 and :30 of hours 0 to 399 and, after weeks without one, of hours 1000 to
    // 1099 (a lone site's transaction takes 300 hours). It degrades at 150:00 and is fine
    // again at 1000:00.
    let state = |n| match n {
        150..400 => SiteState::Degraded,
        _ => SiteState::Ok,
    };
    let samples: Vec<SiteSample> = (0..400)
        .chain(1000..1100)
        .flat_map(|n| [0, 30].map(|m| polled_at("a", at(n, m), state(n), -80.0 - m as f64)))
        .collect();
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let run = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        store.record_samples(run, &samples).await.unwrap();
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        let thinned = store
            .apply_retention(std::time::Duration::from_secs(24 * 3600))
            .await
            .unwrap();
        // Each hour's :00 goes but the first and the changes: across a transaction's bound
        // (300:00) and the empty hours skipped (1000:00) too.
        assert_eq!(
            (thinned.hours, thinned.samples),
            (500, 497),
            "{}",
            backend.name
        );
        let kept: Vec<_> = (store.samples("a", 1000).await.unwrap().iter())
            .filter(|s| s.at.timestamp() % 3600 == 0)
            .map(|s| (s.at, s.state))
            .collect();
        assert_eq!(
            kept,
            [
                (at(1000, 0), SiteState::Ok),
                (at(150, 0), SiteState::Degraded),
                (at(0, 0), SiteState::Ok)
            ],
            "{}",
            backend.name
        );
        let hours = store.site_hours("a", None).await.unwrap();
        assert_eq!(hours.len(), 500);
        assert_eq!(
            (
                hours[149].last_state,
                hours[150].worst_state,
                hours[150].polls
            ),
            (SiteState::Ok, SiteState::Degraded, 2)
        );
        assert_eq!(
            (hours[400].hour, hours[400].worst_state),
            (at(1000, 0), SiteState::Ok)
        );
        assert_eq!(hours[0].stats["rsrp_dbm"].avg, -95.0, "{}", backend.name);
        store.close().await;
    }
}

#[tokio::test]
async fn retention_thins_more_sites_than_one_transaction_holds() {
    let now = Utc::now().timestamp();
    let at = |n: i64, m: i64| {
        DateTime::from_timestamp((now / 3600 - 72 + n) * 3600 + m * 60, 0).unwrap()
    };
    // 310 sites (a transaction takes 300 an hour at a time), polled at :00 and :30 of two
    // hours: of each, 1:00 goes.
    let samples: Vec<SiteSample> = (0..310)
        .flat_map(|site| {
            [(0, 0), (0, 30), (1, 0), (1, 30)]
                .map(|(n, m)| polled_at(&format!("s{site:03}"), at(n, m), SiteState::Ok, -80.0))
        })
        .collect();
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        let run = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        store.record_samples(run, &samples).await.unwrap();
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        let day = std::time::Duration::from_secs(24 * 3600);
        let thinned = store.apply_retention(day).await.unwrap();
        assert_eq!(
            (thinned.hours, thinned.samples),
            (620, 310),
            "{}",
            backend.name
        );
        for site in ["s000", "s299", "s300", "s309"] {
            let kept: Vec<_> = (store.samples(site, 10).await.unwrap().iter())
                .map(|s| s.at)
                .collect();
            assert_eq!(
                kept,
                [at(1, 30), at(0, 30), at(0, 0)],
                "{}: {site}",
                backend.name
            );
        }
        assert_eq!(
            store.apply_retention(day).await.unwrap().hours,
            0,
            "{}",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn the_board_shows_grades_failures_samples_and_the_trend_and_its_version_moves() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "importer").await.unwrap();
        let empty = store.board_version().await.unwrap();
        let board = store.board().await.unwrap();
        assert_eq!(board.hosts.len(), 3, "{}", backend.name);
        assert!(board.hosts.iter().all(|h| h.grade.is_none()));
        assert!(board.trend.is_empty() && board.last_run.is_none());

        let first = complete_run(
            &store,
            "a.danang.test",
            &[
                result("a.danang.test", "tcp.v6", Status::Fail),
                result("a.danang.test", "dns.aaaa", Status::Pass),
            ],
        )
        .await;
        let after_run = store.board_version().await.unwrap();
        assert_ne!(
            after_run, empty,
            "{}: a run moves the version",
            backend.name
        );
        let second = complete_run(
            &store,
            "a.danang.test",
            &[result("a.danang.test", "tcp.v6", Status::Pass)],
        )
        .await;
        let run = store.begin_run("sites", RunKind::Sites).await.unwrap();
        for rsrp in [-80.0, -90.0] {
            store
                .record_samples(
                    run,
                    &[SiteSample {
                        site: "hai-chau-01".into(),
                        at: Utc::now(),
                        state: SiteState::Ok,
                        reasons: vec![],
                        data: json!({ "radio": { "rsrp_dbm": rsrp } }),
                    }],
                )
                .await
                .unwrap();
        }
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        store
            .edit(
                Kind::Host,
                "b.danang.test",
                EditField::Owner,
                Some("Minh"),
                "lan",
            )
            .await
            .unwrap();
        let edited = store.board_version().await.unwrap();
        assert_ne!(edited, after_run, "{}", backend.name);
        assert_eq!(
            store.board_version().await.unwrap(),
            edited,
            "steady when idle"
        );

        let board = store.board().await.unwrap();
        // The board's few fields of each host are the stored host's, edits over them.
        let stored = store.hosts(false).await.unwrap();
        for (line, stored) in board.hosts.iter().zip(&stored) {
            let host = &stored.entry;
            let owner = stored.annotations.get("owner").or(host.owner.as_ref());
            assert_eq!(
                (
                    &line.fqdn,
                    &line.agency,
                    line.stage,
                    &line.tags,
                    line.owner.as_ref()
                ),
                (&host.fqdn, &host.agency, host.stage, &host.tags, owner),
                "{}",
                backend.name
            );
        }
        assert!(stored.iter().any(|h| !h.entry.tags.is_empty()));
        let a = &board.hosts[0];
        let grade = a.grade.as_ref().unwrap();
        assert_eq!(
            (grade.level, grade.score, grade.run),
            (Level::L1, 50, second),
            "{}",
            backend.name
        );
        assert!(a.failing.is_empty(), "tcp.v6 passes now: {:?}", a.failing);
        assert_eq!(
            board.hosts[1].owner.as_deref(),
            Some("Minh"),
            "the edit shows"
        );
        assert_eq!(
            board.trend.iter().map(|t| t.run).collect::<Vec<_>>(),
            [first, second]
        );
        assert_eq!(board.trend[1].levels[&Level::L1], 1);
        assert_eq!(board.trend[1].by_agency["dict"][&Level::L1], 1);
        let site = &board.sites[0];
        assert_eq!(
            site.rsrp_history,
            [Some(-80.0), Some(-90.0)],
            "{}",
            backend.name
        );
        assert_eq!(board.last_run.as_ref().unwrap().id, run);

        // A hosts run still writing behind a newer sites run moves the version too.
        let hosts_run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        let sites_run = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        let before = store.board_version().await.unwrap();
        store
            .record_hosts(hosts_run, &[graded("c.danang.test")], &[])
            .await
            .unwrap();
        assert_ne!(
            store.board_version().await.unwrap(),
            before,
            "{}",
            backend.name
        );
        store
            .finish_run(hosts_run, RunStatus::Complete)
            .await
            .unwrap();
        store
            .finish_run(sites_run, RunStatus::Complete)
            .await
            .unwrap();

        // A failing check shows against its host until it passes.
        complete_run(
            &store,
            "a.danang.test",
            &[result("a.danang.test", "tcp.v6", Status::Fail)],
        )
        .await;
        let board = store.board().await.unwrap();
        assert_eq!(board.hosts[0].failing, ["tcp.v6"], "{}", backend.name);
        store.close().await;
    }
}

#[tokio::test]
async fn a_run_of_one_host_moves_only_that_host_in_the_trend_and_failing_checks_follow_the_grade() {
    let at = |host: &str, level: Level| HostLevel {
        level,
        ..graded(host)
    };
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "importer").await.unwrap();
        let full = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(
                full,
                &[
                    at("a.danang.test", Level::L1),
                    at("b.danang.test", Level::L2),
                    at("c.danang.test", Level::L3),
                ],
                &[result("a.danang.test", "tcp.v6", Status::Fail)],
            )
            .await
            .unwrap();
        store.finish_run(full, RunStatus::Complete).await.unwrap();
        // A sites run is on no trend.
        let sites = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        store.finish_run(sites, RunStatus::Complete).await.unwrap();
        let one = store.begin_run("tui@ops", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(one, &[at("b.danang.test", Level::L3)], &[])
            .await
            .unwrap();
        store.finish_run(one, RunStatus::Complete).await.unwrap();

        let board = store.board().await.unwrap();
        let counts = |pairs: &[(Level, usize)]| pairs.iter().copied().collect();
        assert_eq!(
            board.trend.iter().map(|t| t.run).collect::<Vec<_>>(),
            [full, one],
            "{}",
            backend.name
        );
        assert_eq!(
            board.trend[0].levels,
            counts(&[(Level::L1, 1), (Level::L2, 1), (Level::L3, 1)])
        );
        assert_eq!(
            board.trend[1].levels,
            counts(&[(Level::L1, 1), (Level::L3, 2)]),
            "{}: every host counts, only b moved",
            backend.name
        );
        assert_eq!(
            board.trend[1].by_agency["dict"],
            counts(&[(Level::L1, 1), (Level::L3, 1)])
        );
        assert_eq!(board.trend[1].by_agency["doh"], counts(&[(Level::L3, 1)]));
        // The newest counts are what the host lines say.
        let mut shown = std::collections::BTreeMap::new();
        for host in &board.hosts {
            *shown.entry(host.grade.as_ref().unwrap().level).or_default() += 1;
        }
        assert_eq!(board.trend[1].levels, shown, "{}", backend.name);

        // A run still writing has neither a's new grade nor its new findings shown yet.
        let running = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(
                running,
                &[at("a.danang.test", Level::L3)],
                &[result("a.danang.test", "tcp.v6", Status::Pass)],
            )
            .await
            .unwrap();
        let a = &store.board().await.unwrap().hosts[0];
        assert_eq!(
            (a.grade.as_ref().unwrap().run, a.failing.as_slice()),
            (full, ["tcp.v6".to_owned()].as_slice()),
            "{}: grade and failing checks from one run",
            backend.name
        );
        store
            .finish_run(running, RunStatus::Complete)
            .await
            .unwrap();
        let board = store.board().await.unwrap();
        let a = &board.hosts[0];
        assert_eq!(
            (a.grade.as_ref().unwrap().run, a.failing.len()),
            (running, 0),
            "{}",
            backend.name
        );
        assert_eq!(
            board.trend.last().unwrap().levels,
            counts(&[(Level::L3, 3)])
        );

        // An inconclusive grade since keeps the conclusive one, and its run's failures.
        let unsure = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(
                unsure,
                &[HostLevel {
                    inconclusive: true,
                    ..at("a.danang.test", Level::L0)
                }],
                &[result("a.danang.test", "http.v6", Status::Fail)],
            )
            .await
            .unwrap();
        store.finish_run(unsure, RunStatus::Complete).await.unwrap();
        let a = &store.board().await.unwrap().hosts[0];
        assert_eq!(
            (a.grade.as_ref().unwrap().level, a.failing.len()),
            (Level::L3, 0),
            "{}",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn the_trend_of_runs_stored_before_their_counts_were_carries_grades_forward() {
    for backend in backends().await {
        // Migrations up to 0007: grades per run, no counts yet.
        on_backend!(backend, pool, migrator => {
            let mut migrator = migrator;
            migrator.migrations = migrator.migrations[..7].to_vec().into();
            migrator.run(&pool).await.unwrap();
            for (fqdn, agency) in [("a.danang.test", "dict"), ("b.danang.test", "doh")] {
                sqlx::query(
                    "INSERT INTO entities (kind, key, agency, doc, added_at, updated_at)
                     VALUES ('host', $1, $2, $3, '2026-11-30T07:00:00Z', '2026-11-30T07:00:00Z')",
                )
                .bind(fqdn)
                .bind(agency)
                .bind(sqlx::types::Json(host(fqdn, agency)))
                .execute(&pool)
                .await
                .unwrap();
            }
            // Run 1 grades both; 2 only b, up; 3 polls sites; 4 grades a inconclusively.
            for kind in ["hosts", "hosts", "sites", "hosts"] {
                sqlx::query(
                    "INSERT INTO scan_runs (agent, kind, started_at, finished_at, status)
                     VALUES ('check@ops', $1, '2026-11-30T08:00:00Z', '2026-11-30T08:01:00Z', 'complete')",
                )
                .bind(kind)
                .execute(&pool)
                .await
                .unwrap();
            }
            for (run, fqdn, level, inconclusive) in [
                (1, "a.danang.test", "L1", false),
                (1, "b.danang.test", "L2", false),
                (2, "b.danang.test", "L3", false),
                (4, "a.danang.test", "L0", true),
            ] {
                sqlx::query(
                    "INSERT INTO host_levels (run_id, host, level, score, inconclusive, regressed)
                     VALUES ($1, $2, $3, 50, $4, false)",
                )
                .bind(run)
                .bind(fqdn)
                .bind(level)
                .bind(inconclusive)
                .execute(&pool)
                .await
                .unwrap();
            }
        });
        let store = Store::open(&backend.url).await.unwrap();
        let trend = store.board().await.unwrap().trend;
        let counts = |pairs: &[(Level, usize)]| pairs.iter().copied().collect();
        assert_eq!(
            trend
                .iter()
                .map(|t| (t.run, t.levels.clone()))
                .collect::<Vec<_>>(),
            [
                (1, counts(&[(Level::L1, 1), (Level::L2, 1)])),
                (2, counts(&[(Level::L1, 1), (Level::L3, 1)])),
                (4, counts(&[(Level::L1, 1), (Level::L3, 1)])),
            ],
            "{}",
            backend.name
        );
        assert_eq!(trend[1].by_agency["doh"], counts(&[(Level::L3, 1)]));
        store.close().await;
    }
}

#[tokio::test]
async fn once_runs_span_days_the_trend_has_a_point_a_day() {
    async fn finished(backend: &Backend, times: &[(i64, &str)]) {
        on_backend!(backend, pool, _migrator => {
            for (run, at) in times {
                let at: DateTime<Utc> = at.parse().unwrap();
                sqlx::query("UPDATE scan_runs SET finished_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(run)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        });
    }
    async fn trend(backend: &Backend) -> Vec<i64> {
        let store = Store::open(&backend.url).await.unwrap();
        let board = store.board().await.unwrap();
        store.close().await;
        board.trend.iter().map(|t| t.run).collect()
    }
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "importer").await.unwrap();
        let runs = [
            complete_run(&store, "a.danang.test", &[]).await,
            complete_run(&store, "a.danang.test", &[]).await,
            complete_run(&store, "a.danang.test", &[]).await,
        ];
        store.close().await;
        let same_day = [
            (runs[0], "2026-12-02T00:05:00Z"),
            (runs[1], "2026-12-02T00:10:00Z"),
            (runs[2], "2026-12-02T23:50:00Z"),
        ];
        finished(&backend, &same_day).await;
        assert_eq!(
            trend(&backend).await,
            runs,
            "{}: one day, a point a run",
            backend.name
        );
        // The first run finished the day before: the second day shows its last run only.
        finished(&backend, &[(runs[0], "2026-12-01T23:50:00Z")]).await;
        assert_eq!(
            trend(&backend).await,
            [runs[0], runs[2]],
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn a_run_takes_an_item_once_and_an_agent_after_it_when_it_comes_due_again() {
    use sixfive_inventory::store::{Window, WorkScope};
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "tester").await.unwrap();
        let scope = WorkScope {
            duty: "hosts",
            zone: None,
        };
        let interval = std::time::Duration::from_secs(6);
        let ago = |secs: i64| Utc::now() - chrono::Duration::seconds(secs);
        // Planned in an earlier window: due 2 s ago.
        let earlier = Window {
            start: ago(2),
            interval,
        };
        store
            .plan_work(scope, &[("a.danang.test", "")], earlier)
            .await
            .unwrap();
        // A window that began a second ago takes it late: it is due again 4 s from now,
        // inside this window, yet not this run's to take twice.
        let window = Window {
            start: ago(1),
            interval,
        };
        let run = store.begin_run("agent@one", RunKind::Hosts).await.unwrap();
        let other = store.begin_run("agent@two", RunKind::Hosts).await.unwrap();
        let taken = store.claim_work(scope, run, window).await.unwrap();
        assert_eq!(taken, ["a.danang.test"], "{}", backend.name);
        // Held: no other agent takes it.
        assert!(
            store
                .claim_work(scope, other, window)
                .await
                .unwrap()
                .is_empty()
        );
        store
            .record_hosts(run, &[graded("a.danang.test")], &[])
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
        assert!(
            store
                .claim_work(scope, run, window)
                .await
                .unwrap()
                .is_empty(),
            "{}: taken twice by one run",
            backend.name
        );
        let next = store.next_work(scope, run).await.unwrap();
        assert_eq!(next, None, "{}: nothing left for the run", backend.name);
        assert_eq!(
            store.claim_work(scope, other, window).await.unwrap(),
            ["a.danang.test"],
            "{}: due again, for the next run",
            backend.name
        );
        // Cut short, the run still made the grade of the host it finished current.
        store.finish_run(run, RunStatus::Incomplete).await.unwrap();
        assert_eq!(
            store.latest_levels().await.unwrap().get("a.danang.test"),
            Some(&Level::L1),
            "{}",
            backend.name
        );
        // A batch it could not write while the store was away goes into it late, once
        // however often it is written.
        for _ in 0..2 {
            store
                .record_late(run, &[graded("b.danang.test")], &[], &[])
                .await
                .unwrap();
        }
        let levels = store.levels(run).await.unwrap();
        assert_eq!(levels.len(), 2, "{}: {levels:?}", backend.name);
        store.close().await;
    }
}

/// Sets a time the store stamped as it wrote (`$1` in `update`, bound with `at`): the
/// store writes the time of writing, and a report looks back over days.
async fn backdate(backend: &Backend, update: &str, at: DateTime<Utc>) {
    on_backend!(backend, pool, _migrator => {
        sqlx::query(sqlx::AssertSqlSafe(update.to_owned()))
            .bind(at)
            .execute(&pool)
            .await
            .unwrap()
    });
}

/// A site's poll as `sixfive sites` reports it, told apart by its uptime.
fn poll(site: &str, at: DateTime<Utc>, uptime_s: u64) -> SiteSample {
    SiteSample {
        site: site.into(),
        at,
        state: SiteState::Ok,
        reasons: vec![],
        data: json!({
            "id": site, "state": "ok", "reasons": [], "polled_via": "v6",
            "address": "fd00:5c::20", "profile": "teltonika-rutx", "system": {},
            "radio": { "rsrp_dbm": -80.0 }, "uplink": {}, "uptime_s": uptime_s,
            "rebooted": false, "wan_ipv6": null, "latency_ms": {}, "jitter_ms": {}, "loss": {},
            "quality": {}, "polled_at": at, "took_ms": 1.0
        }),
    }
}

#[tokio::test]
async fn a_report_snapshot_reads_the_store_as_it_stood_at_a_moment_or_now() {
    use sixfive_inventory::results::SiteReport;
    let day = |d: u32, h: u32| -> DateTime<Utc> {
        format!("2026-12-{d:02}T{h:02}:00:00Z").parse().unwrap()
    };
    let at = |host: &str, level: Level| HostLevel {
        level,
        ..graded(host)
    };
    let refused = |host: &str, check: &str, address: &str| CheckRecord {
        address: Some(address.parse().unwrap()),
        detail: format!("refused on {address}"),
        evidence: json!({ "refused": address }),
        ..result(host, check, Status::Fail)
    };
    async fn run(store: &Store, levels: &[HostLevel], results: &[CheckRecord]) -> i64 {
        let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        store.record_hosts(run, levels, results).await.unwrap();
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        run
    }
    let finished = |run: i64| format!("UPDATE scan_runs SET finished_at = $1 WHERE id = {run}");
    let imported = |id: i64| format!("UPDATE imports SET at = $1 WHERE id = {id}");
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        // Day 1: the city, one full run, a site's poll and an owner set by hand.
        let v1 = store.import(&city(), "v1", "importer").await.unwrap();
        backdate(&backend, &imported(v1.import_id.unwrap()), day(1, 8)).await;
        let first_failures = [
            // Reported out of order: a report reads them by check, then address.
            refused("a.danang.test", "tcp.v6", "fd00:1::81"),
            refused("a.danang.test", "tcp.v6", "fd00:1::80"),
            result("a.danang.test", "dns.aaaa", Status::Pass),
            refused("b.danang.test", "http.v6", "fd00:1::90"),
        ];
        let r1 = run(
            &store,
            &[
                at("a.danang.test", Level::L1),
                at("b.danang.test", Level::L2),
                at("c.danang.test", Level::L3),
            ],
            &first_failures,
        )
        .await;
        backdate(&backend, &finished(r1), day(1, 10)).await;
        let sites = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        let first_poll = poll("hai-chau-01", day(1, 10), 100);
        store
            .record_samples(sites, std::slice::from_ref(&first_poll))
            .await
            .unwrap();
        store.finish_run(sites, RunStatus::Complete).await.unwrap();
        store
            .edit(
                Kind::Host,
                "a.danang.test",
                EditField::Owner,
                Some("Lan"),
                "lan",
            )
            .await
            .unwrap();
        // The only hand edit yet.
        backdate(&backend, "UPDATE audit_log SET at = $1", day(1, 11)).await;
        // Later that day c is graded inconclusively, and an incomplete run grades b.
        let unsure = run(
            &store,
            &[HostLevel {
                inconclusive: true,
                ..at("c.danang.test", Level::L0)
            }],
            &[refused("c.danang.test", "http.v6", "fd00:1::99")],
        )
        .await;
        backdate(&backend, &finished(unsure), day(1, 12)).await;
        let cut = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        store
            .record_hosts(cut, &[at("b.danang.test", Level::L0)], &[])
            .await
            .unwrap();
        store.finish_run(cut, RunStatus::Incomplete).await.unwrap();
        backdate(&backend, &finished(cut), day(1, 13)).await;

        // Day 2: b leaves, d comes, dict gets a target; a now passes, d fails.
        let mut next = city();
        next.hosts.retain(|h| h.fqdn != "b.danang.test");
        next.hosts.push(host("d.danang.test", "doh"));
        next.agencies[0].target = Some("2027-06-30".parse().unwrap());
        let v2 = store.import(&next, "v2", "importer").await.unwrap();
        backdate(&backend, &imported(v2.import_id.unwrap()), day(2, 8)).await;
        let r2 = run(
            &store,
            &[
                at("a.danang.test", Level::L3),
                at("d.danang.test", Level::L2),
            ],
            &[
                result("a.danang.test", "tcp.v6", Status::Pass),
                refused("d.danang.test", "http.v6", "fd00:1::70"),
            ],
        )
        .await;
        backdate(&backend, &finished(r2), day(2, 10)).await;
        let sites = store.begin_run("sites@ops", RunKind::Sites).await.unwrap();
        let second_poll = poll("hai-chau-01", day(2, 10), 200);
        store
            .record_samples(sites, std::slice::from_ref(&second_poll))
            .await
            .unwrap();
        store.finish_run(sites, RunStatus::Complete).await.unwrap();
        // Day 3: c again; and a's stage set by hand today.
        let r3 = run(&store, &[at("c.danang.test", Level::L1)], &[]).await;
        backdate(&backend, &finished(r3), day(3, 10)).await;
        store
            .edit(
                Kind::Host,
                "a.danang.test",
                EditField::Stage,
                Some("dual-stack"),
                "lan",
            )
            .await
            .unwrap();

        // The end of day 1: the inventory, grades, failures, poll and trend of then.
        let then = store.report_snapshot(Some(day(1, 23))).await.unwrap();
        assert_eq!(then.at, day(1, 23));
        assert_eq!(then.agencies, city().agencies, "{}", backend.name);
        let hosts: Vec<&str> = then.hosts.iter().map(|h| h.host.fqdn.as_str()).collect();
        assert_eq!(
            hosts,
            ["a.danang.test", "b.danang.test", "c.danang.test"],
            "{}: d came later, b left later",
            backend.name
        );
        let a = &then.hosts[0];
        assert_eq!(
            (a.host.stage, a.host.owner.as_deref()),
            (Stage::Planned, Some("Lan")),
            "{}: the edit made by then, not the one since",
            backend.name
        );
        let grades: Vec<_> = (then.hosts.iter())
            .map(|h| h.grade.as_ref().map(|g| (g.level, g.run, g.at)))
            .collect();
        assert_eq!(
            grades,
            [
                Some((Level::L1, r1, Some(day(1, 10)))),
                Some((Level::L2, r1, Some(day(1, 10)))),
                Some((Level::L3, r1, Some(day(1, 10)))),
            ],
            "{}: neither the inconclusive grade nor the incomplete run's",
            backend.name
        );
        let failing = |host: &sixfive_inventory::store::ReportHost| -> Vec<(String, String)> {
            (host.failing.iter())
                .map(|f| (f.check.clone(), f.detail.clone()))
                .collect()
        };
        assert_eq!(
            failing(a),
            [
                ("tcp.v6".into(), "refused on fd00:1::80".into()),
                ("tcp.v6".into(), "refused on fd00:1::81".into()),
            ],
            "{}",
            backend.name
        );
        assert_eq!(a.failing[0].evidence, json!({ "refused": "fd00:1::80" }));
        assert_eq!(
            failing(&then.hosts[1]),
            [("http.v6".into(), "refused on fd00:1::90".into())]
        );
        assert!(then.hosts[2].failing.is_empty(), "{}", backend.name);
        assert_eq!(
            then.sites[0].latest,
            SiteReport::from_sample(&first_poll),
            "{}",
            backend.name
        );
        assert!(then.sites[0].latest.is_some());
        assert_eq!(
            then.trend.iter().map(|t| t.run).collect::<Vec<_>>(),
            [unsure],
            "{}: the day's last complete run",
            backend.name
        );
        let counts = |pairs: &[(Level, usize)]| pairs.iter().copied().collect();
        assert_eq!(
            then.trend[0].levels,
            counts(&[(Level::L1, 1), (Level::L2, 1), (Level::L3, 1)])
        );
        let day_two = store.report_snapshot(Some(day(2, 23))).await.unwrap();
        assert_eq!(
            day_two.trend.iter().map(|t| t.run).collect::<Vec<_>>(),
            [unsure, r2],
            "{}",
            backend.name
        );
        assert_eq!(
            day_two.sites[0].latest,
            SiteReport::from_sample(&second_poll)
        );

        // Now: what the board shows, with each failure whole.
        let now = store.report_snapshot(None).await.unwrap();
        let board = store.board().await.unwrap();
        let hosts: Vec<&str> = now.hosts.iter().map(|h| h.host.fqdn.as_str()).collect();
        assert_eq!(hosts, ["a.danang.test", "c.danang.test", "d.danang.test"]);
        assert_eq!(now.agencies, next.agencies, "{}", backend.name);
        for (host, line) in now.hosts.iter().zip(&board.hosts) {
            let mut checks: Vec<String> = host.failing.iter().map(|f| f.check.clone()).collect();
            checks.dedup();
            assert_eq!(
                (&host.host.fqdn, &host.grade, &checks, host.host.stage),
                (&line.fqdn, &line.grade, &line.failing, line.stage),
                "{}",
                backend.name
            );
        }
        assert_eq!(
            (
                now.hosts[0].host.stage,
                now.hosts[0].grade.as_ref().unwrap().run
            ),
            (Stage::DualStack, r2)
        );
        assert_eq!(failing(&now.hosts[2]).len(), 1, "{}", backend.name);
        assert_eq!(
            now.trend.iter().map(|t| t.run).collect::<Vec<_>>(),
            [unsure, r2, r3],
            "{}: a point a day, the whole history",
            backend.name
        );
        assert_eq!(now.sites[0].latest, SiteReport::from_sample(&second_poll));
        // Read through the history, this moment is the same as now.
        let moment = Utc::now();
        let through = store.report_snapshot(Some(moment)).await.unwrap();
        assert_eq!(
            through,
            sixfive_inventory::store::ReportSnapshot { at: moment, ..now },
            "{}",
            backend.name
        );
        store.close().await;
    }
}

#[tokio::test]
async fn a_hand_edit_an_import_overrode_stays_gone_in_a_snapshot() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(), "v1", "importer").await.unwrap();
        store
            .edit(
                Kind::Host,
                "c.danang.test",
                EditField::Owner,
                Some("Lan"),
                "lan",
            )
            .await
            .unwrap();
        // The file sets an owner (the edit goes, the audit log says so), then another.
        for owner in ["Minh", "Tuan"] {
            let mut next = city();
            next.hosts[2].owner = Some(owner.into());
            store.import(&next, owner, "importer").await.unwrap();
        }
        for at in [None, Some(Utc::now())] {
            let snapshot = store.report_snapshot(at).await.unwrap();
            let c = &snapshot.hosts[2].host;
            assert_eq!(
                (c.fqdn.as_str(), c.owner.as_deref()),
                ("c.danang.test", Some("Tuan")),
                "{}: at {at:?}",
                backend.name
            );
        }
        store.close().await;
    }
}
