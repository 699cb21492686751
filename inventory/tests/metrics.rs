//! What the agent's `/metrics` reads from the store, on both backends: hosts per agency,
//! check and verdict over each host's current results, each host's verdict per check and
//! family, and the last complete run of each kind.

use std::net::IpAddr;

use sixfive_inventory::Store;
use sixfive_inventory::model::{Agency, Host, Inventory, Level, Service, Stage};
use sixfive_inventory::results::{CheckRecord, Family, HostLevel, Status};
use sixfive_inventory::store::metrics::{CheckCount, HostCheck};
use sixfive_inventory::store::{RunKind, RunStatus};

#[path = "common/backends.rs"]
mod backends;
use backends::backends;

fn city(hosts: &[(&str, &str)]) -> Inventory {
    let agency = |id: &str| Agency {
        id: id.into(),
        name: id.into(),
        name_vi: None,
        target: None,
    };
    Inventory {
        agencies: vec![agency("dict"), agency("doh")],
        hosts: hosts
            .iter()
            .map(|(fqdn, agency)| Host {
                fqdn: (*fqdn).into(),
                agency: (*agency).into(),
                services: vec![Service::Https],
                stage: Stage::InProgress,
                exempt_reason: String::new(),
                internal: false,
                target: None,
                tags: Vec::new(),
                owner: None,
                zone: None,
            })
            .collect(),
        ..Inventory::default()
    }
}

const HOSTS: [(&str, &str); 3] = [
    ("a.danang.test", "dict"),
    ("b.danang.test", "dict"),
    ("c.danang.test", "doh"),
];

/// A result of `check` about one address.
fn at(host: &str, check: &str, status: Status, address: &str) -> CheckRecord {
    let address: IpAddr = address.parse().unwrap();
    CheckRecord::new(host, check, status, "").at(address, Some(443))
}

/// A run of `kind` that grades the hosts of `results` and ends as `status`.
async fn run(store: &Store, kind: RunKind, status: RunStatus, results: &[CheckRecord]) -> i64 {
    let run = store.begin_run("agent@test", kind).await.unwrap();
    let mut hosts: Vec<&str> = results.iter().map(|r| r.host.as_str()).collect();
    hosts.dedup();
    let levels: Vec<HostLevel> = hosts
        .iter()
        .map(|host| HostLevel {
            host: (*host).into(),
            level: Level::L2,
            score: 60,
            internet_nl: None,
            inconclusive: false,
            regressed: false,
        })
        .collect();
    store.record_hosts(run, &levels, results).await.unwrap();
    store.finish_run(run, status).await.unwrap();
    run
}

fn count(agency: &str, check: &str, status: Status, hosts: u64) -> CheckCount {
    CheckCount {
        agency: agency.into(),
        check: check.into(),
        status,
        hosts,
    }
}

#[tokio::test]
async fn a_host_counts_once_per_check_at_the_worst_of_its_current_results() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(&HOSTS), "v1", "test").await.unwrap();
        assert!(store.check_counts().await.unwrap().is_empty());
        run(
            &store,
            RunKind::Hosts,
            RunStatus::Complete,
            &[
                at("a.danang.test", "tcp.v6", Status::Pass, "fd00::1"),
                at("a.danang.test", "tcp.v6", Status::Fail, "fd00::2"),
                CheckRecord::new("a.danang.test", "http.parity", Status::Warn, ""),
                at("b.danang.test", "tcp.v6", Status::Pass, "fd00::3"),
                at("b.danang.test", "tcp.v4", Status::Skip, "192.0.2.3"),
                at("c.danang.test", "tcp.v6", Status::Error, "fd00::4"),
            ],
        )
        .await;
        assert_eq!(
            store.check_counts().await.unwrap(),
            [
                count("dict", "http.parity", Status::Warn, 1),
                count("dict", "tcp.v4", Status::Skip, 1),
                count("dict", "tcp.v6", Status::Pass, 1),
                count("dict", "tcp.v6", Status::Fail, 1),
                count("doh", "tcp.v6", Status::Error, 1),
            ],
            "{}",
            backend.name
        );
        let mut verdicts = store.host_checks().await.unwrap();
        verdicts.sort_by(|x, y| (&x.host, &x.check).cmp(&(&y.host, &y.check)));
        let verdict = |host: &str, check: &str, family, status| HostCheck {
            host: host.into(),
            check: check.into(),
            family,
            status,
        };
        assert_eq!(
            verdicts[..2],
            [
                verdict("a.danang.test", "http.parity", None, Status::Warn),
                verdict("a.danang.test", "tcp.v6", Some(Family::V6), Status::Fail),
            ],
            "{}",
            backend.name
        );
        assert_eq!(verdicts.len(), 5, "{}", backend.name);

        // A's re-check finds both addresses answer and no longer runs http.parity; c
        // leaves the inventory.
        run(
            &store,
            RunKind::Recheck,
            RunStatus::Complete,
            &[
                at("a.danang.test", "tcp.v6", Status::Pass, "fd00::1"),
                at("a.danang.test", "tcp.v6", Status::Pass, "fd00::2"),
            ],
        )
        .await;
        store
            .import(&city(&HOSTS[..2]), "v2", "test")
            .await
            .unwrap();
        assert_eq!(
            store.check_counts().await.unwrap(),
            [
                count("dict", "tcp.v4", Status::Skip, 1),
                count("dict", "tcp.v6", Status::Pass, 2),
            ],
            "{}: superseded and removed hosts' results do not count",
            backend.name
        );
        assert_eq!(
            store.host_checks().await.unwrap().len(),
            3,
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn the_last_complete_run_of_each_kind_is_read_with_its_duration() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(&HOSTS), "v1", "test").await.unwrap();
        assert!(store.run_stats().await.unwrap().is_empty());
        let result = |status| [at("a.danang.test", "tcp.v6", status, "fd00::1")];
        run(
            &store,
            RunKind::Hosts,
            RunStatus::Complete,
            &result(Status::Fail),
        )
        .await;
        let hosts = run(
            &store,
            RunKind::Hosts,
            RunStatus::Complete,
            &result(Status::Pass),
        )
        .await;
        let sites = run(&store, RunKind::Sites, RunStatus::Complete, &[]).await;
        // Neither a run cut short, nor a re-check, nor one still running is a kind's last.
        run(
            &store,
            RunKind::Scan,
            RunStatus::Incomplete,
            &result(Status::Fail),
        )
        .await;
        run(
            &store,
            RunKind::Recheck,
            RunStatus::Complete,
            &result(Status::Fail),
        )
        .await;
        store.begin_run("agent@test", RunKind::Hosts).await.unwrap();

        let stats = store.run_stats().await.unwrap();
        let runs = store.runs().await.unwrap();
        let stored = |id| runs.iter().find(|r| r.id == id).unwrap();
        assert_eq!(
            stats
                .iter()
                .map(|s| (s.run, s.kind, s.started_at, Some(s.finished_at)))
                .collect::<Vec<_>>(),
            [hosts, sites].map(|id| {
                let run = stored(id);
                (id, run.kind, run.started_at, run.finished_at)
            }),
            "{}",
            backend.name
        );
        assert!(
            stats
                .iter()
                .all(|s| s.duration() >= chrono::TimeDelta::zero())
        );
    }
}

#[tokio::test]
async fn the_snapshot_holds_per_check_verdicts_only_when_asked_for() {
    for backend in backends().await {
        let store = Store::open(&backend.url).await.unwrap();
        store.import(&city(&HOSTS), "v1", "test").await.unwrap();
        let results = [at("a.danang.test", "tcp.v6", Status::Pass, "fd00::1")];
        run(&store, RunKind::Scan, RunStatus::Complete, &results).await;
        let plain = store.metrics(false).await.unwrap();
        assert_eq!(
            plain.board,
            store.board().await.unwrap(),
            "{}",
            backend.name
        );
        assert_eq!(
            plain.check_counts,
            [count("dict", "tcp.v6", Status::Pass, 1)]
        );
        assert_eq!(plain.runs.len(), 1);
        assert_eq!(plain.host_checks, None);
        let per_check = store.metrics(true).await.unwrap();
        assert_eq!(
            per_check.host_checks.map(|v| v.len()),
            Some(1),
            "{}",
            backend.name
        );
    }
}
