//! The run driver end to end on loopback: hosts are resolved through an in-process name
//! server (nothing else is probed: every name is NXDOMAIN, or never answered), results go
//! to a SQLite store, and the run is watched and cancelled as the CLI, TUI and agent do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, ResponseCode};
use sixfive_checks::run::{CancellationToken, Lease};
use sixfive_checks::{Engine, RecheckRequest, RunRequest};
use sixfive_inventory::model::Level;
use sixfive_inventory::run::Finished;
use sixfive_inventory::store::{RunKind, RunStatus, Window};
use sixfive_inventory::{LoadOptions, Store, StoreUrl};
use tokio::net::UdpSocket;

/// A name server on 127.0.0.1 answering NXDOMAIN to every name, or nothing when `silent`.
async fn name_server(silent: bool) -> SocketAddr {
    name_server_for(move |_| !silent).await
}

/// A name server on 127.0.0.1 answering NXDOMAIN to the names `answers` picks, and nothing
/// to the others.
async fn name_server_for(answers: impl Fn(&str) -> bool + Send + 'static) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            if !query.queries.iter().all(|q| answers(&q.name().to_string())) {
                continue;
            }
            let mut answer = Message::response(query.metadata.id, OpCode::Query);
            answer.metadata.response_code = ResponseCode::NXDomain;
            answer.add_queries(query.queries.clone());
            let _ = socket.send_to(&answer.to_vec().unwrap(), from).await;
        }
    });
    address
}

/// A city of `hosts` hosts resolved through `resolver`, and a store for it.
async fn city(
    hosts: usize,
    resolver: SocketAddr,
) -> (
    Arc<sixfive_inventory::Inventory>,
    Arc<Store>,
    tempfile::TempDir,
) {
    let mut text = format!(
        "version: 1\nscan:\n  resolvers: [\"{resolver}\"]\n  timeouts: {{ dns: 2s }}\n  scope: [198.18.0.0/15]\n\
         agencies: [{{ id: dict, name: DICT }}]\nhosts:\n"
    );
    for i in 0..hosts {
        text.push_str(&format!(
            "  - {{ fqdn: h{i}.run.test, agency: dict, services: [https] }}\n"
        ));
    }
    let options = LoadOptions {
        profiles: vec!["generic".into()],
        secrets: false,
    };
    let inventory = sixfive_inventory::load_str("city.yaml", &text, &options)
        .unwrap()
        .inventory;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreUrl::Sqlite(dir.path().join("store.db")))
        .await
        .unwrap();
    (Arc::new(inventory), Arc::new(store), dir)
}

fn engine(inventory: &sixfive_inventory::Inventory, store: &Arc<Store>) -> Engine {
    Engine::new(
        &inventory.scan,
        sixfive_checks::sites::profiles::shipped(),
        0,
        Arc::clone(store),
    )
    .unwrap()
}

fn request(inventory: &sixfive_inventory::Inventory) -> RunRequest {
    RunRequest {
        hosts: inventory.hosts.clone(),
        sites: Vec::new(),
        owner: "test@run".into(),
        source: "city.yaml".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_imports_stores_and_reports_its_progress() {
    let (inventory, store, _dir) = city(12, name_server(false).await).await;
    let engine = engine(&inventory, &store);
    let mut run = engine.start(Arc::clone(&inventory), request(&inventory));
    assert_eq!(run.progress.borrow().hosts_total, 12);
    let mut finished = 0;
    while let Some(item) = run.finished.recv().await {
        assert!(matches!(item, Finished::Host(ref r) if r.level.level == Level::L0));
        finished += 1;
    }
    let last = run.progress.borrow().clone();
    let outcome = run.finish().await.unwrap();
    assert_eq!(outcome.status, RunStatus::Complete);
    assert_eq!(finished, 12);
    assert_eq!((last.hosts_done, last.run), (12, Some(outcome.run)));
    assert_eq!(last.by_level.get(&Level::L0), Some(&12));
    assert_eq!(last.last.len(), sixfive_inventory::run::LAST_FINISHED);
    // The inventory was imported first, and every host's grade and results are stored.
    assert_eq!(store.hosts(false).await.unwrap().len(), 12);
    assert_eq!(store.levels(outcome.run).await.unwrap().len(), 12);
    assert!(!store.results(outcome.run).await.unwrap().is_empty());
    let runs = store.runs().await.unwrap();
    assert_eq!(
        (runs[0].kind, runs[0].status),
        (RunKind::Hosts, RunStatus::Complete)
    );
    assert_eq!(runs[0].import, Some(1));
    // A second run of the unchanged inventory imports nothing and runs against the same.
    let again = engine.start(Arc::clone(&inventory), request(&inventory));
    let second = again.finish().await.unwrap();
    let runs = store.runs().await.unwrap();
    let stored = runs.iter().find(|r| r.id == second.run).unwrap();
    assert_eq!(
        (stored.import, stored.status),
        (Some(1), RunStatus::Complete)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_is_stored_incomplete() {
    // Nothing answers: every host waits for its DNS deadline.
    let (inventory, store, _dir) = city(4, name_server(true).await).await;
    let engine = engine(&inventory, &store);
    let run = engine.start(Arc::clone(&inventory), request(&inventory));
    let mut progress = run.progress.clone();
    // Cancel once the run is stored, well before any host could finish.
    while progress.borrow().run.is_none() {
        progress.changed().await.unwrap();
    }
    run.cancel.cancel();
    let started = std::time::Instant::now();
    let outcome = run.finish().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "cancelling does not wait for hosts"
    );
    assert_eq!(outcome.status, RunStatus::Incomplete);
    assert_eq!(store.runs().await.unwrap()[0].status, RunStatus::Incomplete);
    assert!(
        store
            .latest_complete_run(RunKind::Hosts)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_keeps_every_result_finished_before_it() {
    // h0..h5 resolve at once (NXDOMAIN); h6..h8 never do.
    let resolver = name_server_for(|name| {
        name.trim_start_matches('h')
            .split('.')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n < 6)
    })
    .await;
    let (inventory, store, _dir) = city(9, resolver).await;
    let engine = engine(&inventory, &store);
    let mut run = engine.start(Arc::clone(&inventory), request(&inventory));
    let mut finished = 0;
    while finished < 6 {
        assert!(run.finished.recv().await.is_some());
        finished += 1;
    }
    run.cancel.cancel();
    let outcome = run.finish().await.unwrap();
    assert_eq!(outcome.status, RunStatus::Incomplete);
    assert_eq!(
        store.levels(outcome.run).await.unwrap().len(),
        6,
        "no finished host is lost"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_is_judged_against_its_last_level_in_any_complete_run() {
    let (inventory, store, _dir) = city(2, name_server(false).await).await;
    // h0 was L3 in an older complete run, then graded again by a run that did not cover h1.
    let old = store.begin_run("earlier", RunKind::Hosts).await.unwrap();
    let level = |host: &str, level| sixfive_inventory::results::HostLevel {
        host: host.into(),
        level,
        score: 90,
        internet_nl: None,
        inconclusive: false,
        regressed: false,
    };
    store
        .record_hosts(
            old,
            &[
                level("h0.run.test", Level::L3),
                level("h1.run.test", Level::L3),
            ],
            &[],
        )
        .await
        .unwrap();
    store.finish_run(old, RunStatus::Complete).await.unwrap();
    let newer = store.begin_run("earlier", RunKind::Hosts).await.unwrap();
    store
        .record_hosts(newer, &[level("h0.run.test", Level::L0)], &[])
        .await
        .unwrap();
    store.finish_run(newer, RunStatus::Complete).await.unwrap();
    let cut = store.begin_run("earlier", RunKind::Hosts).await.unwrap();
    store
        .record_hosts(cut, &[level("h1.run.test", Level::L0)], &[])
        .await
        .unwrap();
    store.finish_run(cut, RunStatus::Incomplete).await.unwrap();

    let engine = engine(&inventory, &store);
    let mut run = engine.start(Arc::clone(&inventory), request(&inventory));
    let mut regressed = std::collections::BTreeMap::new();
    while let Some(Finished::Host(report)) = run.finished.recv().await {
        regressed.insert(report.host.fqdn.clone(), report.level.regressed);
    }
    run.finish().await.unwrap();
    // h0's last level is L0 (the newer run); h1's is L3 (the incomplete run does not count).
    assert!(!regressed["h0.run.test"]);
    assert!(regressed["h1.run.test"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recheck_runs_the_stored_inventory_imports_nothing_and_adds_no_trend_point() {
    let resolver = name_server(false).await;
    let (older, store, _dir) = city(3, resolver).await;
    // Another process imported a newer file since the UI loaded its copy: h3 is new.
    let (newer, _, _newer_dir) = city(4, resolver).await;
    let engine = engine(&older, &store);
    engine
        .start(Arc::clone(&older), request(&older))
        .finish()
        .await
        .unwrap();
    engine
        .start(Arc::clone(&newer), request(&newer))
        .finish()
        .await
        .unwrap();
    let recheck = |hosts: &[&str]| RecheckRequest {
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        sites: Vec::new(),
        owner: "tui@test".into(),
    };
    let mut run = engine.recheck(Arc::clone(&older), recheck(&["h3.run.test"]));
    assert_eq!(run.progress.borrow().hosts_total, 1);
    let Some(Finished::Host(report)) = run.finished.recv().await else {
        panic!("the re-checked host finishes");
    };
    assert_eq!(
        report.host.fqdn, "h3.run.test",
        "the store's host, unknown to the UI's copy"
    );
    let outcome = run.finish().await.unwrap();
    assert_eq!(outcome.status, RunStatus::Complete);
    // Nothing was rolled back to the UI's older copy.
    assert_eq!(store.hosts(false).await.unwrap().len(), 4);
    let runs = store.runs().await.unwrap();
    assert_eq!(
        (runs[0].kind, runs[0].import),
        (RunKind::Recheck, runs[1].import)
    );
    assert_eq!(store.levels(outcome.run).await.unwrap().len(), 1);
    // The trend has the two scans, and the re-check's grade counts in the next one.
    let board = store.board().await.unwrap();
    assert_eq!(
        board.trend.iter().map(|t| t.run).collect::<Vec<_>>(),
        vec![runs[2].id, runs[1].id]
    );
    assert_eq!(
        store
            .latest_complete_run(RunKind::Hosts)
            .await
            .unwrap()
            .unwrap()
            .id,
        runs[1].id,
        "a re-check is not the latest hosts run"
    );
    // A host the store does not hold is an error, not an import.
    let missing = engine.recheck(Arc::clone(&older), recheck(&["gone.run.test"]));
    let error = missing.finish().await.unwrap_err();
    assert!(error.to_string().contains("gone.run.test"), "{error}");
    assert_eq!(store.runs().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leased_run_takes_its_hosts_as_they_come_due_and_a_second_agent_none_of_them() {
    let (inventory, store, _dir) = city(3, name_server(false).await).await;
    let engine = engine(&inventory, &store);
    let window = Window {
        start: chrono::Utc::now(),
        interval: Duration::from_secs(6),
    };
    let lease = || Lease {
        duty: "hosts",
        zone: None,
        window,
        close: CancellationToken::new(),
    };
    let started = std::time::Instant::now();
    let mut run = engine.start_leased(Arc::clone(&inventory), request(&inventory), lease());
    assert!(run.finished.recv().await.is_some());
    let id = run.progress.borrow().run.unwrap();
    // The first host is stored long before the run ends, not with the last.
    while store.levels(id).await.unwrap().is_empty() {
        assert!(
            run.progress.borrow().hosts_done < 3,
            "stored before the others finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while run.finished.recv().await.is_some() {}
    let outcome = run.finish().await.unwrap();
    assert_eq!(outcome.status, RunStatus::Complete);
    // Spread over the interval, the third host comes due two thirds into it; the run
    // ends with it, as every host is next due in the next window.
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(4), "{took:?}");
    assert!(took < window.interval, "{took:?}");
    assert_eq!(store.levels(id).await.unwrap().len(), 3);
    // Another agent's run of the same window finds nothing due: nothing is scanned twice.
    let second = engine.start_leased(Arc::clone(&inventory), request(&inventory), lease());
    let outcome = second.finish().await.unwrap();
    assert_eq!(outcome.status, RunStatus::Complete);
    assert!(store.levels(outcome.run).await.unwrap().is_empty());
}
