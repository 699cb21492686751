//! A year of daily scans in the store (engine.md, "history without bloat"): 10,000 hosts
//! with 20 results each, written as the run driver writes them (batches of 100 hosts), one
//! run a day, 2 % of results finding something new each day. Prints the store's growth per
//! run, its size at the end, and the time of the reads the TUI and reports make: every
//! host's latest level, every result of the newest run, one host's history.
//!
//!     cargo bench -p sixfive-inventory --bench history
//!     SIXFIVE_BENCH_HOSTS=1000 SIXFIVE_BENCH_DAYS=30 cargo bench -p sixfive-inventory --bench history
//!
//! SQLite only (the embedded default). Runs are back-dated one day apart so that
//! `scan.retention` (90 days, the default) thins evidence as it would over a real year.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Family, HostLevel, Status};
use sixfive_inventory::store::{RunKind, RunStatus};
use sixfive_inventory::{Store, StoreUrl};
use sqlx::sqlite::SqlitePoolOptions;

/// Results per host, about what a dual-stack web host gets.
const CHECKS: usize = 20;
/// Hosts per write, as the run driver batches them.
const BATCH: usize = 100;
/// Of 10,000 results, how many find something new each day (2 %).
const CHANGED_PER_10K: u64 = 200;
const RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fixed pseudo-random number per (host, check, day): the same changes every time.
fn mix(host: usize, check: usize, day: usize) -> u64 {
    let mut x = ((host as u64) << 40) ^ ((check as u64) << 20) ^ day as u64;
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Whether a result finds something new on `day` (never on the first two: the second run
/// is the unchanged one).
fn changes(host: usize, check: usize, day: usize) -> bool {
    day >= 2 && mix(host, check, day) % 10_000 < CHANGED_PER_10K
}

fn host_name(host: usize) -> String {
    format!("h{host:05}.danang.gov.vn")
}

/// A host's results on `day`, given the day each of its results last changed.
fn results_of(host: usize, day: usize, last_changed: &[usize]) -> Vec<CheckRecord> {
    let name = host_name(host);
    (0..CHECKS)
        .map(|check| {
            let since = last_changed[check];
            let status = if since % 3 == 2 {
                Status::Fail
            } else {
                Status::Pass
            };
            let address = format!("fd00:{:x}::{:x}", host / 1000, host % 1000 + 1);
            let mut record = CheckRecord::new(
                &name,
                &format!("check.{check:02}"),
                status,
                format!("found on day {since}: 200 OK over IPv6, same page as IPv4"),
            )
            .measured(
                "rtt_ms",
                1.0 + (mix(host, check, day) % 1000) as f64 / 100.0,
            );
            if check % 2 == 0 {
                record.family = Some(Family::V6);
                record.address = Some(address.parse().unwrap());
                record.port = Some(443);
            }
            record.hint = (status != Status::Pass).then(|| "listen on [::]:443".to_owned());
            // About what an HTTP chain's evidence holds.
            record.evidence = json!({
                "address": address,
                "chain": [{"status": 301, "location": format!("https://{name}/")},
                          {"status": 200, "server": "nginx", "since_day": since}],
            });
            record.duration_ms = Some(5.0);
            record
        })
        .collect()
}

fn graded(host: usize) -> HostLevel {
    HostLevel {
        host: host_name(host),
        level: Level::L2,
        score: 80,
        internet_nl: Some(90),
        inconclusive: false,
        regressed: false,
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mb(bytes: i64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let hosts = setting("SIXFIVE_BENCH_HOSTS", 10_000);
    let days = setting("SIXFIVE_BENCH_DAYS", 365).max(2);
    let dir = tempfile::tempdir().unwrap();
    // SIXFIVE_BENCH_STORE keeps the store for a look afterwards (EXPLAIN, sizes by table).
    let path = std::env::var_os("SIXFIVE_BENCH_STORE")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("store.db"));
    // The bench back-dates runs and applies retention: never on a store that holds data.
    assert!(
        !path.exists(),
        "{} exists: the bench writes a new store",
        path.display()
    );
    let store = Store::open(&StoreUrl::Sqlite(path.clone())).await.unwrap();
    // A side connection for what the store does not expose: back-dating runs, page counts.
    let side = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let size = async || -> i64 {
        sqlx::query_scalar(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(&side)
        .await
        .unwrap()
    };
    let first_day = Utc::now() - chrono::Duration::days(days as i64);
    println!(
        "history bench: {hosts} hosts x {CHECKS} results, {days} daily runs, {:.0} % of results change a day, retention 90 days (SQLite)",
        CHANGED_PER_10K as f64 / 100.0
    );
    let mut last_changed = vec![0; hosts * CHECKS];
    let mut write_times = Vec::new();
    let mut retention_times = Vec::new();
    let mut growth = Vec::new();
    let mut last_run = 0;
    for day in 0..days {
        for (n, since) in last_changed.iter_mut().enumerate() {
            if changes(n / CHECKS, n % CHECKS, day) {
                *since = day;
            }
        }
        let before = size().await;
        // Only the store's work is timed, not making up the results.
        let mut wrote = Duration::ZERO;
        let started = Instant::now();
        let run = store.begin_run("bench", RunKind::Hosts).await.unwrap();
        wrote += started.elapsed();
        for chunk in (0..hosts).collect::<Vec<_>>().chunks(BATCH) {
            let levels: Vec<HostLevel> = chunk.iter().map(|&h| graded(h)).collect();
            let results: Vec<CheckRecord> = chunk
                .iter()
                .flat_map(|&h| results_of(h, day, &last_changed[h * CHECKS..][..CHECKS]))
                .collect();
            let started = Instant::now();
            store.record_hosts(run, &levels, &results).await.unwrap();
            wrote += started.elapsed();
        }
        let started = Instant::now();
        store.finish_run(run, RunStatus::Complete).await.unwrap();
        wrote += started.elapsed();
        sqlx::query("UPDATE scan_runs SET started_at = $1 WHERE id = $2")
            .bind(first_day + chrono::Duration::days(day as i64))
            .bind(run)
            .execute(&side)
            .await
            .unwrap();
        let thinning = Instant::now();
        store.apply_retention(RETENTION).await.unwrap();
        retention_times.push(thinning.elapsed());
        write_times.push(wrote);
        growth.push(size().await - before);
        last_run = run;
        if day == 0 || day == 1 || (day + 1) % 30 == 0 {
            println!(
                "  day {:>3}: wrote in {}, store grew {}, now {}",
                day + 1,
                ms(wrote),
                mb(growth[day]),
                mb(size().await)
            );
        }
    }
    let mut latest = Vec::new();
    let mut newest_run = Vec::new();
    let mut history = Vec::new();
    let mut graded_hosts = 0;
    let mut versions = 0;
    // Each read five times in a row, as a screen that refreshes would.
    for _ in 0..5 {
        let t = Instant::now();
        graded_hosts = store.latest_levels().await.unwrap().len();
        latest.push(t.elapsed());
    }
    for _ in 0..5 {
        let t = Instant::now();
        versions = store
            .result_history(&host_name(hosts / 2))
            .await
            .unwrap()
            .len();
        history.push(t.elapsed());
    }
    for _ in 0..5 {
        let t = Instant::now();
        store.results(last_run).await.unwrap();
        newest_run.push(t.elapsed());
    }
    assert_eq!(graded_hosts, hosts);
    println!();
    println!(
        "first run (every result new):      wrote in {}, store grew {}",
        ms(write_times[0]),
        mb(growth[0])
    );
    println!(
        "second run (nothing changed):      wrote in {}, store grew {}",
        ms(write_times[1]),
        mb(growth[1])
    );
    let later = &growth[2..];
    let mean_growth = later.iter().sum::<i64>() / later.len().max(1) as i64;
    println!(
        "runs 3..{days} (2 % changed):         wrote in {} (median), store grew {} a run (mean)",
        ms(median(write_times[2..].to_vec())),
        mb(mean_growth)
    );
    println!(
        "retention after each run:          {} (median)",
        ms(median(retention_times))
    );
    println!("store after {days} runs:              {}", mb(size().await));
    println!(
        "latest level of every host:        {} (median of 5, {graded_hosts} hosts)",
        ms(median(latest))
    );
    println!(
        "every result of the newest run:    {} (median of 5)",
        ms(median(newest_run))
    );
    println!(
        "one host's history:                {} (median of 5, {versions} versions)",
        ms(median(history))
    );
    store.close().await;
}
