//! The agent's `/metrics` at a big city's size (issue 13's budget: a scrape of 100,000
//! hosts in under 1 s): encoding the page from a made-up snapshot of 10,000 and 100,000
//! hosts, with and without per-check series; and the store's reads behind it
//! ([`Store::metrics`]: the board, check counts, run stats) on a SQLite store of 100,000
//! hosts written through the store's own calls, then the whole scrape (reads and encoding).
//!
//!     cargo bench -p sixfive-report --bench metrics
//!     SIXFIVE_BENCH_STORE_HOSTS=0 cargo bench -p sixfive-report --bench metrics   # no store
//!
//! With `SIXFIVE_BENCH_STORE_KEEP=/path/store.db` it only writes the store there (the path
//! must not exist yet) and the inventory it holds next to it (`/path/store.db.yaml`, no
//! `scan:` section), measures nothing and keeps both: `bench/metrics-scrape` serves them
//! with `sixfive agent`.
//!
//! The city's agencies and check ids are the UI benches' (`tui/benches/city`).

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use serde_json::json;
use sixfive_inventory::model::{Host, Inventory, Level, Stage};
use sixfive_inventory::results::{CheckRecord, Family, HostLevel, SiteReport, Status};
use sixfive_inventory::store::metrics::{CheckCount, HostCheck, MetricsSnapshot, RunStat};
use sixfive_inventory::store::{Board, Grade, HostLine, RunKind, RunStatus, SiteLine};
use sixfive_inventory::{Store, StoreUrl};
use sixfive_report::metrics::{MetricsOptions, open_metrics};

#[path = "../../tui/benches/city/mod.rs"]
mod city;
use city::{AGENCIES, CHECKS};

/// Sites in every made-up city: a city's routers are a few hundred to a few thousand.
const SITES: usize = 1_000;

fn fqdn(n: usize) -> String {
    format!("h{n:06}.a{:02}.danang.test", n % AGENCIES)
}

fn agency(n: usize) -> String {
    format!("a{:02}", n % AGENCIES)
}

/// Host `n`'s level (one in ten never graded), and whether its `c`th check fails: the
/// worse the level, the more checks fail.
fn level(n: usize) -> Option<Level> {
    (n % 10 != 9).then(|| Level::ALL[n % Level::ALL.len()])
}

fn fails(level: Level, c: usize) -> bool {
    c < 3usize.saturating_sub(Level::ALL.iter().position(|l| *l == level).unwrap_or(0))
}

/// What the store would hand over for a city of `hosts`, every site polled.
fn snapshot(hosts: usize) -> MetricsSnapshot {
    let lines = (0..hosts)
        .map(|n| HostLine {
            fqdn: fqdn(n),
            agency: agency(n),
            stage: Stage::InProgress,
            owner: None,
            zone: None,
            tags: Vec::new(),
            grade: level(n).map(|level| Grade {
                level,
                score: (n % 101) as u8,
                regressed: n % 97 == 0,
                run: 2,
                at: None,
            }),
            failing: Vec::new(),
        })
        .collect();
    let report: SiteReport = serde_json::from_value(json!({
        "id": "", "state": "degraded", "reasons": [], "polled_via": "v6",
        "address": "fd00:5c::20", "profile": "teltonika-rutx", "system": {},
        "radio": {"technology": "5G-NSA", "rsrp_dbm": -95.0, "rsrq_db": -12.0, "sinr_db": 8.5,
                  "nr_rsrp_dbm": -101.0, "nr_sinr_db": 4.0},
        "uplink": {"oper_status": "up"}, "uptime_s": 4200, "rebooted": false,
        "wan_ipv6": ["2001:db8:6::2"], "latency_ms": {"v6": 12.5, "v4": 11.9}, "jitter_ms": {},
        "loss": {"v6": 0.0, "v4": 0.01}, "quality": {}, "polled_at": "2026-12-03T00:00:00Z",
        "took_ms": 1.0
    }))
    .unwrap();
    let sites = (0..SITES)
        .map(|n| SiteLine {
            id: format!("site-{n:04}"),
            name: format!("Site {n}"),
            agency: agency(n),
            zone: None,
            latest: Some(report.clone()),
            rsrp_history: Vec::new(),
        })
        .collect();
    let statuses = [Status::Pass, Status::Warn, Status::Error, Status::Fail];
    let check_counts = (0..AGENCIES)
        .flat_map(|a| CHECKS.iter().map(move |check| (a, check)))
        .flat_map(|(a, check)| {
            statuses.map(|status| CheckCount {
                agency: agency(a),
                check: (*check).into(),
                status,
                hosts: (hosts / AGENCIES / statuses.len()) as u64,
            })
        })
        .collect();
    let finished = Utc::now();
    let runs = [RunKind::Hosts, RunKind::Sites, RunKind::Scan]
        .into_iter()
        .enumerate()
        .map(|(run, kind)| RunStat {
            run: run as i64 + 1,
            kind,
            started_at: finished - chrono::Duration::seconds(90),
            finished_at: finished,
        })
        .collect();
    let host_checks = (0..hosts)
        .filter_map(|n| Some((n, level(n)?)))
        .flat_map(|(n, level)| {
            CHECKS.iter().enumerate().map(move |(c, check)| HostCheck {
                host: fqdn(n),
                check: (*check).into(),
                family: Some(Family::V6),
                status: if fails(level, c) {
                    Status::Fail
                } else {
                    Status::Pass
                },
            })
        })
        .collect();
    MetricsSnapshot {
        board: Board {
            agencies: city::agencies(),
            hosts: lines,
            sites,
            ..Board::default()
        },
        check_counts,
        runs,
        host_checks: Some(host_checks),
        probes: Vec::new(),
    }
}

/// Where `SIXFIVE_BENCH_STORE_KEEP` asks for the store to be written and kept, if it does.
fn keep() -> Option<PathBuf> {
    std::env::var_os("SIXFIVE_BENCH_STORE_KEEP").map(PathBuf::from)
}

fn encoding(c: &mut Criterion) {
    if keep().is_some() {
        return;
    }
    let mut group = c.benchmark_group("encode");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for hosts in [10_000, 100_000] {
        let snapshot = Arc::new(snapshot(hosts));
        for options in [
            MetricsOptions { per_check: false },
            MetricsOptions { per_check: true },
        ] {
            let what = if options.per_check { ", per check" } else { "" };
            let page = open_metrics(Arc::clone(&snapshot), &options);
            println!(
                "metrics bench: {hosts} hosts{what}: {} bytes, {} lines",
                page.len(),
                page.lines().count()
            );
            group.bench_function(format!("/metrics, {hosts} hosts{what}"), |b| {
                b.iter(|| black_box(open_metrics(Arc::clone(&snapshot), &options).len()))
            });
        }
    }
    group.finish();
}

/// The store's inventory: the city's agencies and `hosts` hosts.
fn inventory(hosts: usize) -> Inventory {
    Inventory {
        agencies: city::agencies(),
        // As an inventory file names them, every other field at its default.
        hosts: (0..hosts)
            .map(|n| serde_json::from_value(json!({"fqdn": fqdn(n), "agency": agency(n)})))
            .collect::<Result<Vec<Host>, _>>()
            .unwrap(),
        ..Inventory::default()
    }
}

/// [`inventory`] as an inventory file writes it, for `sixfive agent` on the kept store:
/// the agent imports it again at every run, and the same one changes nothing.
fn inventory_yaml(inventory: &Inventory) -> String {
    let mut yaml = String::from("version: 1\nagencies:\n");
    for agency in &inventory.agencies {
        let target = (agency.target).map_or(String::new(), |t| format!(", target: {t}"));
        // JSON strings are YAML's double-quoted scalars.
        yaml.push_str(&format!(
            "  - {{ id: {}, name: {}{target} }}\n",
            json!(agency.id),
            json!(agency.name)
        ));
    }
    yaml.push_str("hosts:\n");
    for host in &inventory.hosts {
        yaml.push_str(&format!(
            "  - {{ fqdn: {}, agency: {} }}\n",
            host.fqdn, host.agency
        ));
    }
    yaml
}

/// A store of `hosts` graded hosts (one run, six results each), written as a run writes.
async fn store(url: &StoreUrl, hosts: usize) -> Store {
    let store = Store::open(url).await.unwrap();
    let inventory = inventory(hosts);
    store.import(&inventory, "bench", "bench").await.unwrap();
    let run = store.begin_run("bench", RunKind::Hosts).await.unwrap();
    let graded: Vec<(usize, Level)> = (0..hosts).filter_map(|n| Some((n, level(n)?))).collect();
    for batch in graded.chunks(1_000) {
        let levels: Vec<HostLevel> = batch
            .iter()
            .map(|(n, level)| HostLevel {
                host: fqdn(*n),
                level: *level,
                score: (n % 101) as u8,
                internet_nl: None,
                inconclusive: false,
                regressed: n % 97 == 0,
            })
            .collect();
        let results: Vec<CheckRecord> = batch
            .iter()
            .flat_map(|(n, level)| {
                CHECKS.iter().enumerate().map(move |(c, check)| {
                    let status = if fails(*level, c) {
                        Status::Fail
                    } else {
                        Status::Pass
                    };
                    CheckRecord::new(&fqdn(*n), check, status, "").family(Family::V6)
                })
            })
            .collect();
        store.record_hosts(run, &levels, &results).await.unwrap();
    }
    store.finish_run(run, RunStatus::Complete).await.unwrap();
    store
}

fn store_reads(c: &mut Criterion) {
    let hosts: usize = std::env::var("SIXFIVE_BENCH_STORE_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    if hosts == 0 {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kept = keep();
    let path = (kept.clone()).unwrap_or_else(|| dir.path().join("metrics.db"));
    assert!(!path.exists(), "{} exists already", path.display());
    let url = StoreUrl::Sqlite(path.clone());
    let started = Instant::now();
    let store = rt.block_on(store(&url, hosts));
    println!(
        "metrics bench: a store of {hosts} hosts written in {:.1?}",
        started.elapsed()
    );
    if kept.is_some() {
        rt.block_on(store.close());
        let file = PathBuf::from(format!("{}.yaml", path.display()));
        std::fs::write(&file, inventory_yaml(&inventory(hosts))).unwrap();
        println!(
            "metrics bench: kept {} and its inventory {}",
            path.display(),
            file.display()
        );
        return;
    }
    rt.block_on(async {
        let started = Instant::now();
        store.board().await.unwrap();
        let board = started.elapsed();
        store.check_counts().await.unwrap();
        let counts = started.elapsed();
        store.run_stats().await.unwrap();
        let stats = started.elapsed();
        println!(
            "metrics bench, once: board {board:.0?}, check_counts +{:.0?}, run_stats +{:.0?}",
            counts - board,
            stats - counts
        );
    });
    let mut group = c.benchmark_group("store");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.bench_function(format!("metrics reads, {hosts} hosts, SQLite"), |b| {
        b.iter(|| rt.block_on(store.metrics(false)).unwrap())
    });
    group.bench_function(format!("check_counts, {hosts} hosts, SQLite"), |b| {
        b.iter(|| rt.block_on(store.check_counts()).unwrap())
    });
    group.bench_function(
        format!("scrape (reads and encoding), {hosts} hosts, SQLite"),
        |b| {
            b.iter(|| {
                let snapshot = Arc::new(rt.block_on(store.metrics(false)).unwrap());
                black_box(open_metrics(snapshot, &MetricsOptions::default()).len())
            })
        },
    );
    group.finish();
}

criterion_group!(benches, encoding, store_reads);
criterion_main!(benches);
