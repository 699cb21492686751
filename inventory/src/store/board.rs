//! What a dashboard shows at a glance, in a few queries whatever the store's size: every
//! host's current grade with the checks it failed in that grade's run, every site's latest
//! poll with its recent RSRP, and the trend: level counts of the last days' last runs
//! (of the last runs, while they all fall on one day). The terminal UI reads it as one
//! snapshot.
//!
//! A run may grade only some hosts (the UI's re-check of one, `check --agency`), so a run's
//! level counts are not its own grades: they are every host's newest grade as the run
//! finished, written then ([`RECORD_TREND`]) into a small table, so that opening the UI on
//! a year of runs reads a few hundred counts rather than a million grades.

use super::*;
use crate::model::Stage;
use crate::results::SiteReport;

/// Points on a trend: days, or runs while they all fall on one day.
const TREND_RUNS: i64 = 12;
/// Samples per site behind a sparkline: as many as the Sites list has columns for.
pub const SPARK_SAMPLES: i64 = 6;

/// A host as a dashboard lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct HostLine {
    pub fqdn: String,
    pub agency: String,
    /// The inventory's stage, or the hand-edited one over it.
    pub stage: Stage,
    pub owner: Option<String>,
    /// The network zone whose agents scan it.
    pub zone: Option<String>,
    pub tags: Vec<String>,
    /// The grade of the newest complete run that graded the host conclusively; None before
    /// one did.
    pub grade: Option<Grade>,
    /// Checks that failed in the grade's run, in id order; none without a grade.
    pub failing: Vec<String>,
}

/// A host's grade in the newest complete run that graded it conclusively.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    pub level: Level,
    pub score: u8,
    pub regressed: bool,
    pub run: i64,
    pub at: Option<DateTime<Utc>>,
}

/// A site's latest poll and the RSRP of its last polls, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteLine {
    pub id: String,
    pub name: String,
    pub agency: String,
    pub zone: Option<String>,
    pub latest: Option<SiteReport>,
    pub rsrp_history: Vec<Option<f64>>,
}

/// How many of the inventory's hosts stood at each level as a complete run that graded
/// hosts finished: the hosts it graded at their new grade, every other host at its newest
/// grade from an earlier complete run, hosts never graded yet not at all.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLevels {
    pub run: i64,
    pub finished_at: Option<DateTime<Utc>>,
    pub levels: BTreeMap<Level, usize>,
    /// Per agency, hosts at each level.
    pub by_agency: BTreeMap<String, BTreeMap<Level, usize>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    pub agencies: Vec<Agency>,
    pub hosts: Vec<HostLine>,
    pub sites: Vec<SiteLine>,
    /// The last complete host runs' level counts, oldest first.
    pub trend: Vec<RunLevels>,
    /// The newest run of any kind and state.
    pub last_run: Option<Run>,
}

impl Store {
    /// A cheap fingerprint of what the board shows: it changes when a run starts or ends,
    /// a host is graded (by any run still writing, not only the newest), a site polled, an
    /// entry edited or an inventory imported.
    pub async fn board_version(&self) -> Result<String, StoreError> {
        let row = on_pool!(self, pool => sqlx::query(
            "SELECT
                 (SELECT COALESCE(MAX(id), 0) FROM scan_runs) AS runs,
                 (SELECT COUNT(*) FROM scan_runs WHERE status = 'running') AS running,
                 (SELECT COUNT(*) FROM host_levels
                  WHERE run_id IN (SELECT id FROM scan_runs WHERE status = 'running')
                     OR run_id = (SELECT COALESCE(MAX(id), 0) FROM scan_runs)) AS graded,
                 (SELECT COALESCE(MAX(id), 0) FROM site_samples) AS samples,
                 (SELECT COALESCE(MAX(id), 0) FROM audit_log) AS edits,
                 (SELECT COALESCE(MAX(id), 0) FROM imports) AS imports",
        )
        .fetch_one(pool)
        .await
        .and_then(|row| {
            ["runs", "running", "graded", "samples", "edits", "imports"]
                .iter()
                .map(|column| row.try_get::<i64, _>(*column))
                .collect::<Result<Vec<i64>, sqlx::Error>>()
        })?);
        Ok(row
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("."))
    }

    /// Reads the board. Hosts and sites come in key order.
    pub async fn board(&self) -> Result<Board, StoreError> {
        // At once, each on a connection of its own: the hosts' documents are parsed while
        // the grades are read.
        let (agencies, hosts, sites, mut grades, samples, mut history, trend, runs) = tokio::try_join!(
            self.agencies(false),
            self.host_lines(),
            self.sites(false),
            self.current_grades(),
            self.latest_samples(None),
            self.rsrp_history(),
            self.trend(),
            self.select_runs(None, false, 1),
        )?;
        let latest: HashMap<String, SiteReport> = samples
            .iter()
            .filter_map(|sample| Some((sample.site.clone(), SiteReport::from_sample(sample)?)))
            .collect();
        let last_run = runs.into_iter().next();
        let host_lines = hosts
            .into_iter()
            .map(|mut line| {
                if let Some((grade, failing)) = grades.remove(&line.fqdn) {
                    (line.grade, line.failing) = (Some(grade), failing);
                }
                line
            })
            .collect();
        let site_lines = sites
            .into_iter()
            .map(|stored| {
                let site = stored.entry;
                SiteLine {
                    latest: latest.get(&site.id).cloned(),
                    rsrp_history: history.remove(&site.id).unwrap_or_default(),
                    id: site.id,
                    name: site.name,
                    agency: site.agency,
                    zone: site.zone,
                }
            })
            .collect();
        Ok(Board {
            agencies: agencies.into_iter().map(|a| a.entry).collect(),
            hosts: host_lines,
            sites: site_lines,
            trend,
            last_run,
        })
    }

    /// Every host as the board lists it, ungraded, in key order: the few fields of its
    /// document it shows, as one JSON array (a big city has 100,000 documents, which
    /// cost far more read whole, row by row), with the hand edits over them.
    async fn host_lines(&self) -> Result<Vec<HostLine>, StoreError> {
        /// fqdn, agency, and from the document stage, owner, zone and tags.
        type Row = (
            String,
            String,
            (
                Option<Stage>,
                Option<String>,
                Option<String>,
                Option<Vec<String>>,
            ),
        );
        let rows = on_pool!(self, pool, dialect => {
            let query = format!(
                "SELECT {agg}({array}(key, agency, {fields})) FROM entities
                 WHERE kind = 'host' AND removed_at IS NULL",
                agg = dialect.json_agg,
                array = dialect.json_array,
                fields = (dialect.doc_fields)(&["stage", "owner", "zone", "tags"]),
            );
            // No rows aggregate to NULL on PostgreSQL.
            let rows: Option<Json<Vec<Row>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
                .fetch_one(pool)
                .await?;
            rows.map(|rows| rows.0).unwrap_or_default()
        });
        let mut annotations = self.annotations(Kind::Host, None).await?;
        let mut lines: Vec<HostLine> = rows
            .into_iter()
            .map(|(fqdn, agency, (stage, owner, zone, tags))| {
                let edits = annotations.remove(&fqdn).unwrap_or_default();
                let (stage, owner) = edited(&edits, stage, owner);
                HostLine {
                    stage,
                    owner,
                    zone,
                    tags: tags.unwrap_or_default(),
                    grade: None,
                    failing: Vec::new(),
                    fqdn,
                    agency,
                }
            })
            .collect();
        lines.sort_unstable_by(|a, b| a.fqdn.cmp(&b.fqdn));
        Ok(lines)
    }

    /// Each graded host's grade and the checks it failed in the grade's run, once each, in
    /// id order. Where the grade's run is the newest to have written the host's results
    /// (the usual case), its failures are its current versions, a partial index's few
    /// rows; otherwise (a run still writing, an incomplete one, an inconclusive grade
    /// since) the versions valid at that run. The database hands them over as one JSON
    /// array: a big city's 100,000 rows of six values cost sqlx's SQLite driver far more
    /// than parsing one text.
    async fn current_grades(&self) -> Result<HashMap<String, (Grade, Vec<String>)>, StoreError> {
        /// host, level, score, regressed (0 or 1), run, failed checks joined by spaces.
        type Row = (String, String, i64, i64, i64, Option<String>);
        let (rows, finished) = on_pool!(self, pool, dialect => {
            let query = format!(
                "SELECT {agg}({array}(c.host, c.level, l.score,
                                      CASE WHEN l.regressed THEN 1 ELSE 0 END, c.run_id, f.checks))
                     AS grades
                 FROM host_current c
                 JOIN host_levels l ON l.run_id = c.run_id AND l.host = c.host
                 LEFT JOIN (
                     SELECT host, {join}(check_id, ' ') AS checks FROM (
                         SELECT v.host, v.check_id FROM host_current c
                         JOIN host_latest h ON h.host = c.host AND h.run_id = c.run_id
                         JOIN result_versions v
                             ON v.host = c.host AND v.to_run IS NULL AND v.status = 'fail'
                         UNION
                         SELECT v.host, v.check_id FROM host_current c
                         LEFT JOIN host_latest h ON h.host = c.host
                         JOIN result_versions v ON v.host = c.host AND v.status = 'fail'
                             AND v.from_run <= c.run_id
                             AND (v.to_run IS NULL OR v.to_run > c.run_id)
                         WHERE h.run_id IS NULL OR h.run_id <> c.run_id
                     ) failed
                     GROUP BY host
                 ) f ON f.host = c.host",
                agg = dialect.json_agg,
                array = dialect.json_array,
                join = dialect.join_texts,
            );
            let mut tx = pool.begin().await?;
            // No rows aggregate to NULL on PostgreSQL.
            let rows: Option<Json<Vec<Row>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
                .fetch_one(&mut *tx)
                .await?;
            // When each run finished, once per run rather than once per host.
            let finished = sqlx::query(
                "SELECT id, finished_at FROM scan_runs
                 WHERE id IN (SELECT DISTINCT run_id FROM host_current)",
            )
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|row| Ok((
                row.try_get::<i64, _>("id")?,
                row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
            )))
            .collect::<Result<HashMap<_, _>, sqlx::Error>>()?;
            tx.commit().await?;
            (rows.map(|rows| rows.0).unwrap_or_default(), finished)
        });
        rows.into_iter()
            .map(|(host, level, score, regressed, run, checks)| {
                let grade = Grade {
                    level: stored(&level, "host level")?,
                    score: percent(score)?,
                    regressed: regressed != 0,
                    run,
                    at: finished.get(&run).copied().flatten(),
                };
                let mut failing: Vec<String> = checks
                    .iter()
                    .flat_map(|checks| checks.split(' '))
                    .map(str::to_owned)
                    .collect();
                failing.sort();
                Ok((host, (grade, failing)))
            })
            .collect()
    }

    /// Each site's RSRP over its last [`SPARK_SAMPLES`] polls, oldest first.
    async fn rsrp_history(&self) -> Result<HashMap<String, Vec<Option<f64>>>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT site, data FROM (
                 SELECT site, id, data,
                        ROW_NUMBER() OVER (PARTITION BY site ORDER BY id DESC) AS age
                 FROM site_samples) recent
             WHERE age <= $1 ORDER BY site, id",
        )
        .bind(SPARK_SAMPLES)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get::<String, _>("site")?, row.try_get::<Json<Value>, _>("data")?.0)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut history: HashMap<String, Vec<Option<f64>>> = HashMap::new();
        for (site, data) in rows {
            let rsrp = data.pointer("/radio/rsrp_dbm").and_then(Value::as_f64);
            history.entry(site).or_default().push(rsrp);
        }
        Ok(history)
    }

    /// The board's trend: the level counts of the last complete run that graded hosts on
    /// each of the last [`TREND_RUNS`] days (UTC) with one, so an agent's hourly runs make a
    /// trend of days, not of half a day; while every such run finished on one day (a new store,
    /// the demo), the last [`TREND_RUNS`] runs themselves.
    async fn trend(&self) -> Result<Vec<RunLevels>, StoreError> {
        let mut shown = self.trend_runs(true, TREND_RUNS, None).await?;
        if shown.len() < 2 {
            shown = self.trend_runs(false, TREND_RUNS, None).await?;
        }
        self.run_levels(&shown).await
    }

    /// The newest `limit` complete runs that graded hosts and finished by `until` (None: any
    /// time), newest first; with `daily`, only the last of each UTC day.
    pub(super) async fn trend_runs(
        &self,
        daily: bool,
        limit: i64,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(self, pool, dialect => {
            let graded = "status = 'complete' AND kind NOT IN ('sites', 'recheck')
                 AND ($1 IS NULL OR finished_at <= $1)";
            let query = if daily {
                format!(
                    "SELECT MAX(id) FROM scan_runs WHERE {graded}
                     GROUP BY {day} ORDER BY 1 DESC LIMIT $2",
                    day = dialect.finished_day,
                )
            } else {
                format!("SELECT id FROM scan_runs WHERE {graded} ORDER BY id DESC LIMIT $2")
            };
            sqlx::query_scalar(sqlx::AssertSqlSafe(query))
                .bind(until)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The level counts of `runs` per agency, as [`RECORD_TREND`] wrote them when each
    /// finished, oldest first.
    pub(super) async fn run_levels(&self, runs: &[i64]) -> Result<Vec<RunLevels>, StoreError> {
        let counts = format!(
            "SELECT t.run_id, r.finished_at, t.agency, t.level, t.hosts
             FROM run_levels t
             JOIN scan_runs r ON r.id = t.run_id
             WHERE t.run_id IN ({ids})
             ORDER BY t.run_id",
            ids = id_list(runs),
        );
        let rows = on_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(counts))
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| Ok((
                row.try_get::<i64, _>("run_id")?,
                row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
                row.try_get::<String, _>("agency")?,
                row.try_get::<String, _>("level")?,
                row.try_get::<i64, _>("hosts")?,
            )))
            .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        let mut trend: Vec<RunLevels> = Vec::new();
        for (run, finished_at, agency, level, hosts) in rows {
            let level: Level = stored(&level, "host level")?;
            let hosts = usize::try_from(hosts).unwrap_or(0);
            if trend.last().is_none_or(|last| last.run != run) {
                trend.push(RunLevels {
                    run,
                    finished_at,
                    levels: BTreeMap::new(),
                    by_agency: BTreeMap::new(),
                });
            }
            let current = trend.last_mut().expect("pushed above");
            *current.levels.entry(level).or_default() += hosts;
            *current
                .by_agency
                .entry(agency)
                .or_default()
                .entry(level)
                .or_default() += hosts;
        }
        Ok(trend)
    }
}

/// Run ids for an SQL `IN (…)`, `NULL` for none: ids the store handed out, written as
/// numbers, so no text of anyone's is in the SQL.
pub(super) fn id_list<'a>(ids: impl IntoIterator<Item = &'a i64>) -> String {
    let ids: Vec<String> = ids.into_iter().map(i64::to_string).collect();
    if ids.is_empty() {
        "NULL".into()
    } else {
        ids.join(", ")
    }
}

/// A host's stage and owner (its document's) with its hand edits over them.
pub(super) fn edited(
    edits: &BTreeMap<String, String>,
    stage: Option<Stage>,
    owner: Option<String>,
) -> (Stage, Option<String>) {
    let stage = edits.get("stage").and_then(|s| s.parse().ok()).or(stage);
    (
        stage.unwrap_or_default(),
        edits.get("owner").cloned().or(owner),
    )
}

/// Writes a complete run's level counts for the trend (its id bound as `$1`), in the
/// transaction that finishes it and after its grades became current: per agency and level,
/// the inventory's hosts by their current grade, which carries forward the grades of the
/// hosts the run did not cover. Runs that only polled sites count nothing, nor do re-checks,
/// whose grades the next scan's counts carry.
pub(super) const RECORD_TREND: &str = "INSERT INTO run_levels (run_id, agency, level, hosts)
     SELECT $1, COALESCE(e.agency, ''), c.level, COUNT(*)
     FROM host_current c
     JOIN entities e ON e.kind = 'host' AND e.key = c.host AND e.removed_at IS NULL
     WHERE EXISTS (SELECT 1 FROM scan_runs WHERE id = $1 AND kind NOT IN ('sites', 'recheck'))
     GROUP BY e.agency, c.level";
