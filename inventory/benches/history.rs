//! A year of daily scans in the store (engine.md, "history without bloat"): 10,000 hosts
//! with 20 results each, written as the run driver writes them (batches of 100 hosts), one
//! run a day, 2 % of results finding something new each day. Prints the store's growth per
//! run, its size at the end, and the time of the reads the TUI and reports make: every
//! host's latest level, every result of the newest run, one host's history.
//!
//! Then, in a store of their own, site samples: 300 sites polled every 5 minutes (the
//! agents' default) over 30 days, thinned with a week's retention. Prints the store's size
//! and the time of the newest poll of every site, now and two weeks ago, before and after
//! the first pass, and the time of each pass.
//!
//!     cargo bench -p sixfive-inventory --bench history
//!     SIXFIVE_BENCH_HOSTS=1000 SIXFIVE_BENCH_DAYS=30 cargo bench -p sixfive-inventory --bench history
//!     SIXFIVE_BENCH_HOSTS=0 SIXFIVE_BENCH_SITES=300 SIXFIVE_BENCH_SAMPLE_DAYS=30 cargo bench -p sixfive-inventory --bench history
//!
//! SQLite only (the embedded default); 0 hosts or sites leaves that part out. Runs are
//! back-dated one day apart so that `scan.retention` (90 days, the default) thins evidence
//! as it would over a real year; samples are written with their times in the past.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{
    CheckRecord, Family, HostLevel, ModemReport, PerFamily, Quality, RadioQuality, RadioReport,
    SiteReport, SiteState, Status, SystemInfo, UplinkReport,
};
use sixfive_inventory::store::{RunKind, RunStatus, Thinned};
use sixfive_inventory::{Store, StoreUrl};
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;

/// Results per host, about what a dual-stack web host gets.
const CHECKS: usize = 20;
/// Hosts per write, as the run driver batches them.
const BATCH: usize = 100;
/// Of 10,000 results, how many find something new each day (2 %).
const CHANGED_PER_10K: u64 = 200;
const RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
/// Polls of a site a day, at the agents' default of one every 5 minutes.
const POLLS_PER_DAY: i64 = 288;
/// Shorter than the default (90 days), so that a month of samples is mostly thinned.
const SAMPLE_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

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
    let sites = setting("SIXFIVE_BENCH_SITES", 300);
    let sample_days = setting("SIXFIVE_BENCH_SAMPLE_DAYS", 30);
    let dir = tempfile::tempdir().unwrap();
    // SIXFIVE_BENCH_STORE keeps the store for a look afterwards (EXPLAIN, sizes by table);
    // the samples' store is beside it, named with `sites-` before.
    let path = std::env::var_os("SIXFIVE_BENCH_STORE")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("store.db"));
    if hosts > 0 {
        hosts_year(hosts, days, &path).await;
    }
    if sites > 0 && sample_days > 0 {
        let name = path.file_name().unwrap().to_string_lossy();
        site_samples(
            sites,
            sample_days,
            &path.with_file_name(format!("sites-{name}")),
        )
        .await;
    }
}

/// A new store at `path`, and a side connection to it for what the store does not expose:
/// back-dating, writing in bulk, page counts.
async fn new_store(path: &Path) -> (Store, SqlitePool) {
    // The bench back-dates and applies retention: never on a store that holds data.
    assert!(
        !path.exists(),
        "{} exists: the bench writes a new store",
        path.display()
    );
    let store = Store::open(&StoreUrl::Sqlite(path.to_path_buf()))
        .await
        .unwrap();
    let side = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    (store, side)
}

/// The store's file size, or with `in_use` its pages that hold data (deleted rows free
/// pages for reuse; the file shrinks only with `VACUUM`).
async fn bytes(side: &SqlitePool, in_use: bool) -> i64 {
    let free = if in_use { "freelist_count" } else { "0" };
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT (page_count - {free}) * page_size
         FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()"
    )))
    .fetch_one(side)
    .await
    .unwrap()
}

/// `days` daily runs of `hosts` hosts, as the module's doc says.
async fn hosts_year(hosts: usize, days: usize, path: &Path) {
    let (store, side) = new_store(path).await;
    let size = async || bytes(&side, false).await;
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

/// A site's poll as the poller reports it, with every value read: what each sample's data
/// holds, about 1.2 kB of JSON.
fn poll_report() -> SiteReport {
    SiteReport {
        id: String::new(),
        state: SiteState::Ok,
        reasons: vec![],
        polled_via: Some(Family::V6),
        address: Some("2001:db8:5c::20".parse().unwrap()),
        profile: "teltonika-rutx".into(),
        system: SystemInfo {
            name: Some("RUTX50".into()),
            descr: Some("Teltonika RUTX50 5G router".into()),
            object_id: Some("1.3.6.1.4.1.48690".into()),
        },
        radio: RadioReport {
            technology: Some("5G-NSA".into()),
            rsrp_dbm: Some(-85.0),
            rsrq_db: Some(-10.0),
            sinr_db: Some(12.0),
            snr_db: None,
            rssi_dbm: Some(-60.0),
            nr_rsrp_dbm: Some(-88.0),
            nr_rsrq_db: Some(-11.0),
            nr_sinr_db: Some(10.0),
            operator: Some("Viettel".into()),
            cell_id: Some("45204-1234567".into()),
            band: Some("B3".into()),
        },
        modem: ModemReport {
            connection_state: Some("Connected".into()),
            sim_state: Some("inserted".into()),
            network_state: Some("Registered, home".into()),
            temperature_c: Some(41.0),
            connection_uptime_s: Some(86_400),
        },
        uplink: UplinkReport {
            name: Some("wwan0".into()),
            if_index: Some(5),
            oper_status: Some("up".into()),
            in_errors: Some(0),
            out_errors: Some(0),
            in_octets: Some(1_234_567_890),
            out_octets: Some(987_654_321),
            in_bps: Some(250_000.0),
            out_bps: Some(80_000.0),
        },
        uptime_s: Some(864_000),
        rebooted: false,
        wan_ipv6: Some(vec!["2001:db8:5c:1::1".parse().unwrap()]),
        latency_ms: PerFamily {
            v6: Some(20.0),
            v4: Some(22.0),
        },
        jitter_ms: PerFamily {
            v6: Some(1.5),
            v4: Some(1.8),
        },
        loss: PerFamily {
            v6: Some(0.0),
            v4: Some(0.0),
        },
        quality: RadioQuality {
            rsrp: Some(Quality::Good),
            rsrq: Some(Quality::Good),
            sinr: Some(Quality::Good),
        },
        polled_at: Utc::now(),
        took_ms: 180.0,
    }
}

/// A day of polls of every site in one statement: ticks `$1` up to `$2` (5 minutes each
/// from `$4`, seconds since the epoch) of sites 0 up to `$3`, in run `$5`, each a copy of
/// `$6` (a poll's report) with its own values. Every site is degraded for an hour a day.
const POLLS: &str = "
    WITH RECURSIVE
        tick (n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM tick WHERE n + 1 < $2),
        site (s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM site WHERE s + 1 < $3),
        poll (n, s, id, at, state) AS (
            SELECT n, s, printf('site-%03d', s),
                   strftime('%Y-%m-%dT%H:%M:%S+00:00', $4 + n * 300, 'unixepoch'),
                   CASE WHEN (n + s * 7) % 288 < 12 THEN 'degraded' ELSE 'ok' END
            FROM tick, site)
    INSERT INTO site_samples (run_id, site, at, state, reasons, data)
    SELECT $5, id, at, state,
           CASE state WHEN 'ok' THEN '[]' ELSE '[\"SINR 2 dB is poor\"]' END,
           json_set($6, '$.id', id, '$.state', state, '$.polled_at', at,
                    '$.radio.rsrp_dbm', -80.0 - (n * 7 + s * 13) % 30,
                    '$.radio.sinr_db', 2.0 + (n + s) % 20,
                    '$.latency_ms.v6', 20.0 + (n * 3 + s) % 15,
                    '$.latency_ms.v4', 22.0 + (n * 3 + s) % 15,
                    '$.loss.v6', CASE WHEN (n + s) % 100 = 0 THEN 0.2 ELSE 0.0 END,
                    '$.loss.v4', 0.0)
    FROM poll ORDER BY n, s";

/// The newest poll of every site, now and at `past` (read as a report's, each as a
/// [`SiteReport`]), each the median of 5: what the board and a report read, and a report
/// `--at` then.
async fn newest_polls(store: &Store, sites: usize, past: chrono::DateTime<Utc>) -> [Duration; 2] {
    let mut now = Vec::new();
    let mut then = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(store.latest_samples(None).await.unwrap().len(), sites);
        now.push(t.elapsed());
        let t = Instant::now();
        let report = store.latest_samples_at(None, Some(past)).await.unwrap();
        assert_eq!(
            report.iter().filter_map(SiteReport::from_sample).count(),
            sites
        );
        then.push(t.elapsed());
    }
    [median(now), median(then)]
}

/// `sites` sites polled every 5 minutes for `days` days, thinned with a week's retention.
async fn site_samples(sites: usize, days: usize, path: &Path) {
    let (store, side) = new_store(path).await;
    let rows = async |table: &str| -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&side)
            .await
            .unwrap()
    };
    let run = store.begin_run("bench", RunKind::Sites).await.unwrap();
    store.finish_run(run, RunStatus::Complete).await.unwrap();
    let report = serde_json::to_string(&poll_report()).unwrap();
    // On whole 5 minutes, `days` days back.
    let first = (Utc::now().timestamp() / 300 - days as i64 * POLLS_PER_DAY) * 300;
    println!();
    println!(
        "site samples: {sites} sites polled every 5 minutes for {days} days, retention 7 days (SQLite)"
    );
    let started = Instant::now();
    for day in 0..days as i64 {
        sqlx::query(POLLS)
            .bind(day * POLLS_PER_DAY)
            .bind((day + 1) * POLLS_PER_DAY)
            .bind(sites as i64)
            .bind(first)
            .bind(run)
            .bind(&report)
            .execute(&side)
            .await
            .unwrap();
    }
    let samples = rows("site_samples").await;
    let file_before = bytes(&side, false).await;
    println!(
        "  wrote {samples} samples in bulk in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Halfway between the first samples and the retention's cutoff.
    let past_days = (days as f64 + 7.0) / 2.0;
    let past = Utc::now() - chrono::Duration::minutes((past_days * 24.0 * 60.0) as i64);
    let [now_before, then_before] = newest_polls(&store, sites, past).await;

    // Each pass with the retention that puts its cutoff where the first pass's was: a pass
    // that ends in the next hour would otherwise find that hour due.
    let cutoff = Utc::now() - chrono::Duration::from_std(SAMPLE_RETENTION).unwrap();
    let until = |cutoff: chrono::DateTime<Utc>| (Utc::now() - cutoff).to_std().unwrap();
    let started = Instant::now();
    let first_pass = store.apply_retention(until(cutoff)).await.unwrap();
    let first_took = started.elapsed();
    let started = Instant::now();
    let second_pass = store.apply_retention(until(cutoff)).await.unwrap();
    let second_took = started.elapsed();
    assert_eq!(
        second_pass,
        Thinned::default(),
        "a second pass changes nothing"
    );
    let [now_after, then_after] = newest_polls(&store, sites, past).await;
    // As an hour later: each site's next hour.
    let started = Instant::now();
    let hour_later = store
        .apply_retention(until(cutoff + chrono::Duration::hours(1)))
        .await
        .unwrap();
    let hour_later_took = started.elapsed();
    let (file, in_use) = (bytes(&side, false).await, bytes(&side, true).await);
    let started = Instant::now();
    sqlx::query("VACUUM").execute(&side).await.unwrap();
    let vacuum_took = started.elapsed();

    println!();
    println!(
        "first pass:                        {:.1} s: {} hours written, {} of {samples} samples deleted, {} left",
        first_took.as_secs_f64(),
        first_pass.hours,
        first_pass.samples,
        samples - first_pass.samples as i64
    );
    println!("second pass (nothing to do):       {}", ms(second_took));
    println!(
        "a pass an hour later:              {}: {} hours written, {} samples deleted",
        ms(hour_later_took),
        hour_later.hours,
        hour_later.samples
    );
    println!("store before:                      {}", mb(file_before));
    println!(
        "store after (file, pages in use):  {}, {}; after VACUUM ({:.1} s) {}",
        mb(file),
        mb(in_use),
        vacuum_took.as_secs_f64(),
        mb(bytes(&side, false).await)
    );
    println!(
        "newest poll of every site, now:    {} before, {} after (median of 5)",
        ms(now_before),
        ms(now_after)
    );
    println!(
        "... {past_days:.1} days ago (report --at): {} before, {} after (median of 5)",
        ms(then_before),
        ms(then_after)
    );
    store.close().await;
}
