//! Opening the terminal UI on a big city's store (issue 12's budget: under 1 s): 100,000
//! hosts in 40 agencies and a year of daily runs, 2 % of hosts changing level a day. One
//! iteration is what `sixfive tui` does before its first frame: [`Store::open`] (schema
//! check, stale runs), [`Store::board_version`], [`Store::board`], and the Overview frame
//! on ratatui's TestBackend at 160×50.
//!
//!     cargo bench -p sixfive-tui --bench open
//!     SIXFIVE_BENCH_HOSTS=10000 SIXFIVE_BENCH_DAYS=30 cargo bench -p sixfive-tui --bench open
//!
//! SQLite only. The store is written by bulk SQL straight into the store's tables after its
//! migrations (the run driver would take hours for 36.5 million grades), and kept under the
//! target folder for the next bench run: it is built again when its size settings or the
//! store's migrations change.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sixfive_inventory::model::{Host, Level, Service, Stage};
use sixfive_inventory::store::Board;
use sixfive_inventory::{Store, StoreUrl};
use sixfive_tui::{App, Theme, draw};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};

mod city;
use city::{AGENCIES, CHECKS};

/// Days between a host's level changes: 2 % of hosts change on any day.
const EPOCH_DAYS: usize = 50;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The cached store for these settings, made (again) when missing or out of date.
fn store_path(rt: &tokio::runtime::Runtime, hosts: usize, days: usize) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("bench-stores");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("open-{hosts}h-{days}d.db"));
    rt.block_on(async {
        let wanted = migrations(&dir.join("schema.db"), true).await;
        if path.exists() && migrations(&path, false).await == wanted {
            return;
        }
        println!(
            "open bench: writing a store of {hosts} hosts and {days} daily runs to {}",
            path.display()
        );
        let started = Instant::now();
        let partial = path.with_extension("partial");
        let _ = std::fs::remove_file(&partial);
        build(&partial, hosts, days).await;
        // An old store's write-ahead log must not be read as the new one's.
        for stale in ["db-wal", "db-shm"] {
            let _ = std::fs::remove_file(path.with_extension(stale));
        }
        std::fs::rename(&partial, &path).unwrap();
        println!("open bench: written in {:.0?}", started.elapsed());
    });
    path
}

/// The migrations a store has had (version and checksum); `fresh` makes a new, empty
/// store first, for what the store's code has now.
async fn migrations(path: &Path, fresh: bool) -> Vec<(i64, Vec<u8>)> {
    if fresh {
        let _ = std::fs::remove_file(path);
        migrate(path).await;
    }
    let pool = raw(path).await;
    let applied = sqlx::query("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&pool)
        .await
        .map(|rows| {
            rows.iter()
                .map(|row| (row.get("version"), row.get("checksum")))
                .collect()
        })
        .unwrap_or_default();
    pool.close().await;
    applied
}

/// Brings the store at `path` (made when missing) to the store's schema.
async fn migrate(path: &Path) {
    Store::open(&StoreUrl::Sqlite(path.to_owned()))
        .await
        .unwrap()
        .close()
        .await;
}

async fn raw(path: &Path) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .unwrap()
}

/// A host's entity document with placeholders for its name and agency, as an import
/// writes it.
fn host_doc() -> String {
    serde_json::to_string(&Host {
        fqdn: "@FQDN@".into(),
        agency: "@AGENCY@".into(),
        services: vec![Service::Https],
        stage: Stage::InProgress,
        exempt_reason: String::new(),
        internal: false,
        target: None,
        tags: vec!["public".into()],
        owner: Some("Minh".into()),
    })
    .unwrap()
}

/// Writes the store: the schema by [`Store::open`], the rest by bulk SQL, in the shape
/// the store's own writes leave.
///
/// Host `h` in run `d + 1` (day `d`) is at level `(h % 4 + (d + h % 50) / 50) % 7`, so
/// every day the 2 % whose phase comes round move up one level (L5 wraps to BROKEN). Its
/// first check's result is a version per level it had; its other checks' results are
/// current versions only. Checks fail by level: three on BROKEN, two on L0, one on L1.
async fn build(path: &Path, hosts: usize, days: usize) {
    migrate(path).await;
    let pool = raw(path).await;
    // A throwaway file until it is complete: no journal, no syncing.
    for pragma in [
        "PRAGMA journal_mode = OFF",
        "PRAGMA synchronous = OFF",
        "PRAGMA cache_size = -262144",
        "PRAGMA temp_store = MEMORY",
    ] {
        sqlx::query(pragma).execute(&pool).await.unwrap();
    }
    let now = Utc::now();
    let first_day = now - chrono::Duration::days(days as i64);
    let agency_rows: Vec<(String, String)> = city::agencies()
        .iter()
        .map(|agency| (agency.id.clone(), serde_json::to_string(agency).unwrap()))
        .collect();
    let level_names: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
    let mut tx = pool.begin().await.unwrap();
    for (id, doc) in &agency_rows {
        sqlx::query(
            "INSERT INTO entities (kind, key, agency, doc, added_at, updated_at)
             VALUES ('agency', $1, NULL, $2, $3, $3)",
        )
        .bind(id)
        .bind(doc)
        .bind(first_day)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let setup = format!(
        "CREATE TEMP TABLE n (i INTEGER PRIMARY KEY, fqdn TEXT NOT NULL, agency TEXT NOT NULL);
         WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {hosts})
         INSERT INTO n SELECT i, printf('h%06d.a%02d.danang.test', i, i % {AGENCIES}),
                              printf('a%02d', i % {AGENCIES}) FROM c;
         CREATE TEMP TABLE level_names (idx INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO level_names SELECT key, value FROM json_each('{levels}');
         CREATE TEMP TABLE checks (c INTEGER PRIMARY KEY, id TEXT NOT NULL);
         INSERT INTO checks SELECT key, value FROM json_each('{checks}');",
        levels = serde_json::to_string(&level_names).unwrap(),
        checks = serde_json::to_string(&CHECKS).unwrap(),
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO entities (kind, key, agency, doc, added_at, updated_at)
         SELECT 'host', fqdn, agency, replace(replace($1, '@FQDN@', fqdn), '@AGENCY@', agency),
                $2, $2
         FROM n ORDER BY fqdn",
    )
    .bind(host_doc())
    .bind(first_day)
    .execute(&mut *tx)
    .await
    .unwrap();
    for day in 0..days {
        let started = first_day + chrono::Duration::days(day as i64);
        let run: i64 = sqlx::query_scalar(
            "INSERT INTO scan_runs (agent, started_at, finished_at, heartbeat_at, status, kind)
             VALUES ('agent@bench', $1, $2, $2, 'complete', 'hosts') RETURNING id",
        )
        .bind(started)
        .bind(started + chrono::Duration::minutes(5))
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!(run, day as i64 + 1, "runs are numbered from 1");
        // Every host graded, and the counts its finish writes for the trend.
        let level_of = format!("(n.i % 4 + ($2 + n.i % {EPOCH_DAYS}) / {EPOCH_DAYS}) % 7");
        for statement in [
            format!(
                "INSERT INTO host_levels (run_id, host, level, score, internet_nl, inconclusive, regressed)
                 SELECT $1, n.fqdn, l.name, l.idx * 15 + n.i % 10, NULL, FALSE, FALSE
                 FROM n JOIN level_names l ON l.idx = {level_of} ORDER BY n.fqdn"
            ),
            format!(
                "INSERT INTO run_levels (run_id, agency, level, hosts)
                 SELECT $1, n.agency, l.name, COUNT(*)
                 FROM n JOIN level_names l ON l.idx = {level_of} GROUP BY n.agency, l.name"
            ),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .bind(run)
                .bind(day as i64)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        if day % 50 == 0 {
            println!("open bench: day {day} of {days}");
        }
    }
    let last = days as i64;
    // What the newest run left: each host's current grade and latest findings.
    sqlx::query(
        "INSERT INTO host_current (host, run_id, level)
         SELECT host, run_id, level FROM host_levels WHERE run_id = $1",
    )
    .bind(last)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO host_latest (host, run_id, digest, timings)
         SELECT fqdn, $1, printf('%016x', i), '{}' FROM n",
    )
    .bind(last)
    .execute(&mut *tx)
    .await
    .unwrap();
    // Per host, its level epochs: epoch e spans the days from e * 50 - phase.
    let versions = format!(
        "WITH RECURSIVE e(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM e WHERE k < {max_epoch}),
         spans AS (
             SELECT n.fqdn, (n.i % 4 + e.k) % 7 AS idx,
                    MAX(0, e.k * {EPOCH_DAYS} - n.i % {EPOCH_DAYS}) + 1 AS from_run,
                    (e.k + 1) * {EPOCH_DAYS} - n.i % {EPOCH_DAYS} + 1 AS to_run
             FROM n, e
             WHERE e.k * {EPOCH_DAYS} - n.i % {EPOCH_DAYS} < {days})
         INSERT INTO result_versions
             (host, check_id, family, address, port, occurrence, status, detail, hint, evidence,
              position, from_run, to_run)
         SELECT s.fqdn, c.id, '', '', 0, 0,
                CASE WHEN c.c < 3 - s.idx THEN 'fail' ELSE 'pass' END,
                CASE WHEN c.c < 3 - s.idx THEN 'refused over IPv6' ELSE 'ok' END,
                CASE WHEN c.c < 3 - s.idx THEN 'listen on [::]:443' END,
                'null', c.c + 1, s.from_run,
                CASE WHEN s.to_run <= {days} THEN s.to_run END
         FROM spans s JOIN checks c ON c.c = 0 OR s.to_run > {days}
         ORDER BY s.fqdn, s.from_run, c.c",
        max_epoch = days / EPOCH_DAYS + 1,
    );
    sqlx::query(sqlx::AssertSqlSafe(versions))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
    // As the store runs it, for the bench's reads.
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Opens the store and draws the first frame, as `sixfive tui` does; returns the board for
/// a look at what was read.
async fn open(url: &StoreUrl, terminal: &mut Terminal<TestBackend>) -> Arc<Board> {
    let store = Store::open(url).await.unwrap();
    store.board_version().await.unwrap();
    let board = Arc::new(store.board().await.unwrap());
    let mut app = App::new("bench.db".into(), Level::L2);
    app.set_board(Arc::clone(&board), Utc::now());
    terminal
        .draw(|frame| draw(frame, &mut app, Theme::plain(true)))
        .unwrap();
    store.close().await;
    board
}

fn opening(c: &mut Criterion) {
    let hosts = setting("SIXFIVE_BENCH_HOSTS", 100_000);
    let days = setting("SIXFIVE_BENCH_DAYS", 365);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = StoreUrl::Sqlite(store_path(&rt, hosts, days));
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();
    // Once, step by step, for where the time goes.
    rt.block_on(async {
        let started = Instant::now();
        let store = Store::open(&url).await.unwrap();
        let opened = started.elapsed();
        store.board_version().await.unwrap();
        let versioned = started.elapsed();
        let board = store.board().await.unwrap();
        let read = started.elapsed();
        let mut app = App::new("bench.db".into(), Level::L2);
        app.set_board(Arc::new(board), Utc::now());
        let taken = started.elapsed();
        terminal
            .draw(|frame| draw(frame, &mut app, Theme::plain(true)))
            .unwrap();
        let drawn = started.elapsed();
        println!(
            "open bench, once: open {opened:.0?}, board_version +{:.0?}, board +{:.0?}, \
             the app takes the board +{:.0?}, first frame +{:.0?}",
            versioned - opened,
            read - versioned,
            taken - read,
            drawn - taken
        );
        store.close().await;
    });
    let board = rt.block_on(open(&url, &mut terminal));
    let newest = board.trend.last().expect("a trend");
    assert_eq!(board.hosts.len(), hosts);
    assert_eq!(newest.levels.values().sum::<usize>(), hosts);
    let mut group = c.benchmark_group("open");
    // Seconds an iteration: the same number of them in every sample.
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(
        format!("open the UI: {hosts} hosts, {days} daily runs, 160x50"),
        |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    rt.block_on(open(&url, &mut terminal));
                    spent += started.elapsed();
                }
                spent
            })
        },
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    targets = opening
}
criterion_main!(benches);
