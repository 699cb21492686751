//! What a dashboard shows at a glance, in a few queries whatever the store's size: every
//! host's current grade with the checks it fails, every site's latest poll with its recent
//! RSRP, and the level counts of the last runs. The terminal UI reads it as one snapshot.

use super::*;
use crate::model::Stage;
use crate::results::SiteReport;

/// Runs whose level counts make a trend.
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
    pub tags: Vec<String>,
    /// The newest run's grade; None before any run graded the host.
    pub grade: Option<Grade>,
    /// Checks whose current finding is `fail`, in id order.
    pub failing: Vec<String>,
}

/// A host's grade in the newest run that graded it.
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
    pub latest: Option<SiteReport>,
    pub rsrp_history: Vec<Option<f64>>,
}

/// How many hosts a complete run graded at each level.
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
    /// The last complete runs' level counts, oldest first.
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
        let agencies = self.agencies(false).await?;
        let hosts = self.hosts(false).await?;
        let sites = self.sites(false).await?;
        let grades = self.current_grades().await?;
        let mut failing = self.failing_checks().await?;
        let latest: HashMap<String, SiteReport> = self
            .latest_samples(None)
            .await?
            .iter()
            .filter_map(|sample| Some((sample.site.clone(), SiteReport::from_sample(sample)?)))
            .collect();
        let mut history = self.rsrp_history().await?;
        let trend = self.trend().await?;
        let last_run = self.select_runs(None, false, 1).await?.into_iter().next();
        let host_lines = hosts
            .iter()
            .map(|stored| {
                let host = &stored.entry;
                let stage = stored
                    .annotations
                    .get("stage")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(host.stage);
                let owner = stored
                    .annotations
                    .get("owner")
                    .cloned()
                    .or_else(|| host.owner.clone());
                HostLine {
                    fqdn: host.fqdn.clone(),
                    agency: host.agency.clone(),
                    stage,
                    owner,
                    tags: host.tags.clone(),
                    grade: grades.get(&host.fqdn).cloned(),
                    failing: failing.remove(&host.fqdn).unwrap_or_default(),
                }
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

    async fn current_grades(&self) -> Result<HashMap<String, Grade>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT c.host, c.level, l.score, l.regressed, c.run_id, r.finished_at
             FROM host_current c
             JOIN host_levels l ON l.run_id = c.run_id AND l.host = c.host
             JOIN scan_runs r ON r.id = c.run_id",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("host")?,
            row.try_get::<String, _>("level")?,
            row.try_get::<i64, _>("score")?,
            row.try_get::<bool, _>("regressed")?,
            row.try_get::<i64, _>("run_id")?,
            row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(host, level, score, regressed, run, at)| {
                let grade = Grade {
                    level: stored(&level, "host level")?,
                    score: percent(score)?,
                    regressed,
                    run,
                    at,
                };
                Ok((host, grade))
            })
            .collect()
    }

    /// Each host's checks whose current version says `fail`, once each, in id order.
    async fn failing_checks(&self) -> Result<HashMap<String, Vec<String>>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT DISTINCT host, check_id FROM result_versions
             WHERE to_run IS NULL AND status = 'fail' ORDER BY host, check_id",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get::<String, _>("host")?, row.try_get::<String, _>("check_id")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut failing: HashMap<String, Vec<String>> = HashMap::new();
        for (host, check) in rows {
            failing.entry(host).or_default().push(check);
        }
        Ok(failing)
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

    /// The level counts of the last [`TREND_RUNS`] complete runs that graded hosts, per
    /// agency, counted by the database.
    async fn trend(&self) -> Result<Vec<RunLevels>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT l.run_id, r.finished_at, COALESCE(e.agency, '') AS agency, l.level,
                    COUNT(*) AS hosts
             FROM host_levels l
             JOIN scan_runs r ON r.id = l.run_id
             LEFT JOIN entities e ON e.kind = 'host' AND e.key = l.host
             WHERE l.run_id IN (
                 SELECT id FROM scan_runs WHERE status = 'complete' AND kind <> 'sites'
                 ORDER BY id DESC LIMIT $1)
             GROUP BY l.run_id, r.finished_at, e.agency, l.level
             ORDER BY l.run_id",
        )
        .bind(TREND_RUNS)
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
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
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
