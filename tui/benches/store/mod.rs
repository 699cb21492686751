//! The made-up city's store after a year of daily runs, for the benches that read a big
//! store (`open`, `report`): N hosts in 40 agencies, D daily runs grading every host, 2 % of
//! hosts changing level a day, a few hundred 5G sites polled by every run.
//!
//! SQLite only. The store is written by bulk SQL straight into the store's tables after its
//! migrations (the run driver would take hours for 36.5 million grades), and kept under the
//! target folder for the next bench run: it is built again when its size settings, its
//! [`SHAPE`] or the store's migrations change.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use serde_json::json;
use sixfive_inventory::model::{Host, Level, Service, Site, Stage};
use sixfive_inventory::results::SiteReport;
use sixfive_inventory::{Store, StoreUrl};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};

use crate::city::{self, AGENCIES, CHECKS};

/// Days between a host's level changes: 2 % of hosts change on any day.
const EPOCH_DAYS: usize = 50;

/// 5G sites in the city, polled once by every daily run: far fewer samples than an agent
/// polling every 5 minutes (its default) would leave, 31.5 million a year.
pub const SITES: usize = 300;

/// What the builder writes, in the cached store's name: raised when that changes, so an
/// older store is not taken for this one.
const SHAPE: u32 = 2;

/// The setting `name` from the environment, else `default`.
pub fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The cached store for these settings, made (again) when missing or out of date.
pub fn store_path(rt: &tokio::runtime::Runtime, hosts: usize, days: usize) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("bench-stores");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("city-v{SHAPE}-{hosts}h-{days}d.db"));
    rt.block_on(async {
        let wanted = migrations(&dir.join("schema.db"), true).await;
        if path.exists() && migrations(&path, false).await == wanted {
            return;
        }
        println!(
            "bench store: writing {hosts} hosts and {days} daily runs to {}",
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
        println!("bench store: written in {:.0?}", started.elapsed());
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
        zone: None,
    })
    .unwrap()
}

/// A site's entity document with placeholders for its id, name and agency.
fn site_doc() -> String {
    let site: Site = serde_json::from_value(json!({
        "id": "@ID@", "name": "@NAME@", "agency": "@AGENCY@", "ward": "Hải Châu",
        "address": "2001:db8:5c::1", "profile": "teltonika-rutx",
        "snmp": {"version": "2c", "community_env": "SIXFIVE_SNMP_COMMUNITY"},
    }))
    .unwrap();
    serde_json::to_string(&site).unwrap()
}

/// A poll's report as `sixfive sites` stores it; the builder sets each sample's state,
/// signal, cell and addresses.
fn site_report() -> String {
    let report: SiteReport = serde_json::from_value(json!({
        "id": "", "state": "ok", "reasons": [], "polled_via": "v6",
        "address": "2001:db8:5c::1", "profile": "teltonika-rutx",
        "system": {"name": "rutx50", "descr": "Teltonika RUTX50", "object_id": null},
        "radio": {"technology": "5G-NSA", "rsrp_dbm": -95.0, "rsrq_db": -12.0, "sinr_db": 8.5,
                  "nr_rsrp_dbm": -101.0, "nr_sinr_db": 4.0, "operator": "Viettel",
                  "cell_id": "", "band": "n78"},
        "modem": {"connection_state": "Connected", "sim_state": "inserted",
                  "network_state": "Registered, home", "temperature_c": 41.0},
        "uplink": {"oper_status": "up"}, "uptime_s": 4200, "rebooted": false,
        "wan_ipv6": ["2001:db8:6::2"], "latency_ms": {"v6": 12.5, "v4": 11.9}, "jitter_ms": {},
        "loss": {"v6": 0.0, "v4": 0.01}, "quality": {}, "polled_at": "2026-12-03T00:00:00Z",
        "took_ms": 1.0
    }))
    .unwrap();
    serde_json::to_string(&report).unwrap()
}

/// A host's results, in check order: the city's, then dns.ns_aaaa, whose evidence names
/// the host's zone (what a report's fixes are grouped by).
fn checks() -> impl Iterator<Item = &'static str> {
    CHECKS.into_iter().chain(["dns.ns_aaaa"])
}

/// How a check fails: on hosts at `level` (it is what holds them there), saying `detail`
/// and `hint`, with `evidence` as the check writes it; `@FQDN@` and `@ZONE@` stand for the
/// host's name and zone.
struct Failure {
    level: Level,
    detail: &'static str,
    hint: &'static str,
    evidence: serde_json::Value,
}

/// How `check` fails, if it does. Passing results carry no evidence: a report reads
/// failures only.
fn failure(check: &str) -> Option<Failure> {
    let chain = |end| json!({"hops": [], "end": end});
    let (level, detail, hint, evidence) = match check {
        "tcp.v6" => (
            Level::Broken,
            "[2001:db8::443]:443 refused the connection over IPv6",
            "listen on [::]:443",
            json!({"address": "2001:db8::443", "port": 443, "error": "connection refused"}),
        ),
        "http.v6" => (
            Level::Broken,
            "no answer over IPv6 from https://@FQDN@/",
            "listen on [::]:443",
            json!({"chain": chain(json!({"no_answer": "connection refused"})), "v4_status": 200}),
        ),
        "dns.aaaa" => (
            Level::L0,
            "@FQDN@ has no AAAA",
            "publish an AAAA record for @FQDN@",
            json!({"chain": ["@FQDN@"], "v6": {"outcome": "no_data"}}),
        ),
        "tls.v6" => (
            Level::L1,
            "the certificate over IPv6 is not valid for @FQDN@",
            "serve the IPv4 certificate over IPv6 too",
            json!({"address": "2001:db8::443", "subject": "CN=old.@ZONE@",
                   "error": "certificate not valid for name"}),
        ),
        "http.parity" => (
            Level::L1,
            "https://@FQDN@/ answers 503 over IPv6 and 200 over IPv4",
            "point the IPv6 address at the same server as the IPv4 one",
            json!({"v4": {"address": "192.0.2.1",
                          "chain": chain(json!({"status": 200, "encoding": "gzip"}))},
                   "v6": {"address": "2001:db8::443",
                          "chain": chain(json!({"status": 503, "encoding": null}))}}),
        ),
        "dns.ns_aaaa" => {
            let name_server = |name: &str| {
                json!({"name": format!("{name}.@ZONE@"),
                       "v4": {"outcome": "records", "records": ["192.0.2.53"]},
                       "v6": {"outcome": "no_data"}})
            };
            (
                Level::L2,
                "0 of 2 name servers of @ZONE@ have a usable AAAA",
                "give at least two name servers of @ZONE@ a global IPv6 address (AAAA)",
                json!({"zone": {"apex": "@ZONE@",
                                "name_servers": [name_server("ns1"), name_server("ns2")]},
                       "unusable": []}),
            )
        }
        "dns.ptr" => (
            Level::L3,
            "2001:db8::443 has no PTR",
            "publish a PTR record for 2001:db8::443",
            json!({"address": "2001:db8::443", "ptr": {"outcome": "nx_domain"}}),
        ),
        _ => return None,
    };
    Some(Failure {
        level,
        detail,
        hint,
        evidence,
    })
}

/// Writes the store: the schema by [`Store::open`], the rest by bulk SQL, in the shape
/// the store's own writes leave.
///
/// Host `h` in run `d + 1` (day `d`) is at level `(h % 4 + (d + h % 50) / 50) % 7`, so
/// every day the 2 % whose phase comes round move up one level (L5 wraps to BROKEN). A
/// host fails the checks that hold it at its level ([`failure`]); each of its results is
/// a version per stretch of runs it stood unchanged. One import added the inventory the
/// day before the first run, so the store can be read as it stood at any moment. Every
/// run polls every site too.
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
    let imported = first_day - chrono::Duration::days(1);
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
        .bind(imported)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let setup = format!(
        "CREATE TEMP TABLE n (i INTEGER PRIMARY KEY, fqdn TEXT NOT NULL, agency TEXT NOT NULL);
         WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {hosts})
         INSERT INTO n SELECT i, printf('h%06d.a%02d.danang.test', i, i % {AGENCIES}),
                              printf('a%02d', i % {AGENCIES}) FROM c;
         CREATE TEMP TABLE s (i INTEGER PRIMARY KEY, id TEXT NOT NULL, agency TEXT NOT NULL);
         WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {SITES})
         INSERT INTO s SELECT i, printf('site-%03d', i), printf('a%02d', i % {AGENCIES}) FROM c;
         CREATE TEMP TABLE level_names (idx INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO level_names SELECT key, value FROM json_each('{levels}');
         CREATE TEMP TABLE checks (c INTEGER PRIMARY KEY, id TEXT NOT NULL, fails_at INTEGER,
                                   detail TEXT, hint TEXT, evidence TEXT);",
        levels = serde_json::to_string(&level_names).unwrap(),
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
        .execute(&mut *tx)
        .await
        .unwrap();
    for (c, check) in checks().enumerate() {
        let failure = failure(check);
        let fails_at = failure
            .as_ref()
            .map(|f| Level::ALL.iter().position(|l| *l == f.level).unwrap() as i64);
        sqlx::query("INSERT INTO checks VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(c as i64)
            .bind(check)
            .bind(fails_at)
            .bind(failure.as_ref().map(|f| f.detail))
            .bind(failure.as_ref().map(|f| f.hint))
            .bind(failure.map(|f| f.evidence.to_string()))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO entities (kind, key, agency, doc, added_at, updated_at)
         SELECT 'host', fqdn, agency, replace(replace($1, '@FQDN@', fqdn), '@AGENCY@', agency),
                $2, $2
         FROM n ORDER BY fqdn",
    )
    .bind(host_doc())
    .bind(imported)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO entities (kind, key, agency, doc, added_at, updated_at)
         SELECT 'site', id, agency,
                replace(replace(replace($1, '@ID@', id), '@NAME@', 'Trạm ' || i),
                        '@AGENCY@', agency),
                $2, $2
         FROM s ORDER BY id",
    )
    .bind(site_doc())
    .bind(imported)
    .execute(&mut *tx)
    .await
    .unwrap();
    // The import that added them, for reading the inventory as it stood.
    sqlx::query(
        "INSERT INTO imports (id, at, source, who, added, changed, removed)
         VALUES (1, $1, 'city.yaml', 'bench', (SELECT COUNT(*) FROM entities), 0, 0)",
    )
    .bind(imported)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO entity_history (import_id, kind, key, change, before, after)
         SELECT 1, kind, key, 'added', NULL, doc FROM entities ORDER BY kind, key",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    let report = site_report();
    for day in 0..days {
        let started = first_day + chrono::Duration::days(day as i64);
        let run: i64 = sqlx::query_scalar(
            "INSERT INTO scan_runs (agent, started_at, finished_at, heartbeat_at, status, kind,
                                    import_id)
             VALUES ('agent@bench', $1, $2, $2, 'complete', 'scan', 1) RETURNING id",
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
        // Each site's poll: one in ten without IPv6 on its WAN, a few in a bad state that
        // moves from site to site by the day, signal from -70 to -114 dBm.
        let polled = started + chrono::Duration::minutes(1);
        sqlx::query(
            "INSERT INTO site_samples (run_id, site, at, state, reasons, data)
             SELECT $1, id, $2, state,
                    CASE state WHEN 'ok' THEN '[]' ELSE '[\"RSRP below -110 dBm\"]' END,
                    json_set($3, '$.id', id, '$.state', state, '$.radio.rsrp_dbm', rsrp,
                             '$.radio.operator', operator, '$.radio.cell_id', cell,
                             '$.polled_at', $4,
                             '$.wan_ipv6', json(CASE WHEN i % 10 = 0 THEN '[]'
                                                     ELSE '[\"2001:db8:6::2\"]' END))
             FROM (SELECT i, id,
                          CASE (i * 7 + $5) % 20 WHEN 0 THEN 'critical' WHEN 1 THEN 'unreachable'
                              WHEN 2 THEN 'degraded' WHEN 3 THEN 'degraded' ELSE 'ok' END AS state,
                          -70.0 - (i * 13 + $5 * 3) % 45 AS rsrp,
                          CASE i % 3 WHEN 0 THEN 'Viettel' WHEN 1 THEN 'VNPT'
                              ELSE 'MobiFone' END AS operator,
                          printf('cell-%02d', i % 60) AS cell
                   FROM s)
             ORDER BY id",
        )
        .bind(run)
        .bind(polled)
        .bind(&report)
        .bind(polled.to_rfc3339())
        .bind(day as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
        if day % 50 == 0 {
            println!("bench store: day {day} of {days}");
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
    let filled =
        |text: &str| format!("replace(replace({text}, '@FQDN@', v.fqdn), '@ZONE@', v.zone)");
    // Per host, its level epochs: epoch e spans the days from e * 50 - phase. A result's
    // version lasts while its status does: over the epochs in which it fails, or not.
    let versions = format!(
        "WITH RECURSIVE e(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM e WHERE k < {max_epoch}),
         spans AS (
             SELECT n.fqdn, n.agency, e.k, (n.i % 4 + e.k) % 7 AS idx,
                    MAX(0, e.k * {EPOCH_DAYS} - n.i % {EPOCH_DAYS}) + 1 AS from_run,
                    (e.k + 1) * {EPOCH_DAYS} - n.i % {EPOCH_DAYS} + 1 AS to_run
             FROM n, e
             WHERE e.k * {EPOCH_DAYS} - n.i % {EPOCH_DAYS} < {days}),
         statuses AS (
             SELECT s.fqdn, s.agency, c.c, c.fails_at IS s.idx AS failed, s.from_run, s.to_run,
                    s.k - ROW_NUMBER() OVER (PARTITION BY s.fqdn, c.c, c.fails_at IS s.idx
                                             ORDER BY s.k) AS stretch
             FROM spans s, checks c),
         versions AS (
             SELECT fqdn, agency || '.danang.test' AS zone, c, failed, MIN(from_run) AS from_run,
                    MAX(to_run) AS to_run
             FROM statuses GROUP BY fqdn, c, failed, stretch)
         INSERT INTO result_versions
             (host, check_id, family, address, port, occurrence, status, detail, hint, evidence,
              position, from_run, to_run)
         SELECT v.fqdn, c.id, '', '', 0, 0,
                CASE WHEN v.failed THEN 'fail' ELSE 'pass' END,
                CASE WHEN v.failed THEN {detail} ELSE 'ok' END,
                CASE WHEN v.failed THEN {hint} END,
                CASE WHEN v.failed THEN {evidence} ELSE 'null' END,
                c.c + 1, v.from_run, CASE WHEN v.to_run <= {days} THEN v.to_run END
         FROM versions v JOIN checks c ON c.c = v.c
         ORDER BY v.fqdn, v.from_run, c.c",
        max_epoch = days / EPOCH_DAYS + 1,
        detail = filled("c.detail"),
        hint = filled("c.hint"),
        evidence = filled("c.evidence"),
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
