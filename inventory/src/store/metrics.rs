//! What the agent's `/metrics` endpoint shows, read from the store in a few aggregate
//! queries whatever the city's size: the board, hosts per agency, check and verdict, the
//! last complete run of each kind, and on request every host's verdict per check and
//! family. Encoding it is the report crate's work; this module only reads.
//!
//! A host's verdict on a check is the worst status among its current results for that
//! check (the versions still open, engine.md), so that every host counts once per check
//! however many addresses, ports or zones the check looked at.

use super::*;
use crate::results::{Family, Status};

/// Statuses from best to worst, as [`Status`] orders them: a verdict is the highest rank.
const RANKED: [Status; 5] = [
    Status::Pass,
    Status::Skip,
    Status::Warn,
    Status::Error,
    Status::Fail,
];

/// How many of an agency's hosts stand at a verdict on a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckCount {
    pub agency: String,
    pub check: String,
    pub status: Status,
    pub hosts: u64,
}

/// The last complete run of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStat {
    pub run: i64,
    pub kind: RunKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl RunStat {
    pub fn duration(&self) -> chrono::TimeDelta {
        self.finished_at - self.started_at
    }
}

/// One host's verdict on one check for one family (None for results about neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCheck {
    pub host: String,
    pub check: String,
    pub family: Option<Family>,
    pub status: Status,
}

/// Everything `/metrics` shows, read at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub board: Board,
    pub check_counts: Vec<CheckCount>,
    /// At most one per kind (hosts, sites, scan); re-checks are not runs a schedule keeps.
    pub runs: Vec<RunStat>,
    /// Every host's verdicts; None unless asked for, as they are a series per host and check.
    pub host_checks: Option<Vec<HostCheck>>,
    /// The probes the process showing the page sent (an agent's counters); none from the
    /// store.
    pub probes: Vec<ProbeCount>,
}

/// How many probes of a kind, to a family, with an outcome, a process sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeCount {
    pub kind: &'static str,
    pub family: &'static str,
    pub outcome: &'static str,
    pub probes: u64,
}

/// The SQL that ranks a version's status as [`RANKED`] does, as a BIGINT on both backends.
fn status_rank() -> String {
    let cases: String = RANKED
        .iter()
        .enumerate()
        .map(|(rank, status)| format!(" WHEN '{status}' THEN {rank}"))
        .collect();
    // A status this code does not know counts as an error, not as a page that fails.
    let error = RANKED
        .iter()
        .position(|s| *s == Status::Error)
        .unwrap_or_default();
    format!("CAST(MAX(CASE v.status{cases} ELSE {error} END) AS BIGINT)")
}

/// The status of a rank [`status_rank`] gave.
fn ranked(rank: i64) -> Result<Status, StoreError> {
    usize::try_from(rank)
        .ok()
        .and_then(|rank| RANKED.get(rank).copied())
        .ok_or_else(|| StoreError::Corrupt {
            kind: "check result",
            reason: format!("unknown status rank {rank}"),
        })
}

impl Store {
    /// Reads what `/metrics` shows; each host's verdict per check too when `per_check`.
    pub async fn metrics(&self, per_check: bool) -> Result<MetricsSnapshot, StoreError> {
        let host_checks = async {
            match per_check {
                true => self.host_checks().await.map(Some),
                false => Ok(None),
            }
        };
        let (board, check_counts, runs, host_checks) = tokio::try_join!(
            self.board(),
            self.check_counts(),
            self.run_stats(),
            host_checks
        )?;
        Ok(MetricsSnapshot {
            board,
            check_counts,
            runs,
            host_checks,
            probes: Vec::new(),
        })
    }

    /// Per agency, check and verdict, how many of the inventory's hosts stand there now, in
    /// that order. One aggregate over the current versions: a few thousand rows out for a
    /// city of 100,000 hosts. It starts from the hosts, so each host's agency is read once
    /// and its current versions come from their partial index, rather than the agency once
    /// per host and check (a quarter slower at 100,000 hosts on SQLite).
    pub async fn check_counts(&self) -> Result<Vec<CheckCount>, StoreError> {
        let query = format!(
            "SELECT w.agency, w.check_id, w.worst, COUNT(*) AS hosts
             FROM (SELECT e.agency, v.check_id, {worst} AS worst
                   FROM entities e
                   JOIN result_versions v ON v.host = e.key AND v.to_run IS NULL
                   WHERE e.kind = 'host' AND e.removed_at IS NULL
                   GROUP BY e.key, v.check_id, e.agency) w
             GROUP BY w.agency, w.check_id, w.worst
             ORDER BY w.agency, w.check_id, w.worst",
            worst = status_rank(),
        );
        let rows = on_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(query))
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| Ok((
                row.try_get::<Option<String>, _>("agency")?,
                row.try_get::<String, _>("check_id")?,
                row.try_get::<i64, _>("worst")?,
                row.try_get::<i64, _>("hosts")?,
            )))
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(agency, check, worst, hosts)| {
                Ok(CheckCount {
                    agency: agency.unwrap_or_default(),
                    check,
                    status: ranked(worst)?,
                    hosts: u64::try_from(hosts).unwrap_or(0),
                })
            })
            .collect()
    }

    /// The last complete run of each kind a schedule runs (hosts, sites, scan), oldest
    /// first: the newest by id, as [`Store::latest_complete_run`] takes it.
    pub async fn run_stats(&self) -> Result<Vec<RunStat>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT id, kind, started_at, finished_at FROM scan_runs
             WHERE id IN (SELECT MAX(id) FROM scan_runs
                          WHERE status = 'complete' AND kind IN ('hosts', 'sites', 'scan')
                          GROUP BY kind)
             ORDER BY id",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("id")?,
            row.try_get::<String, _>("kind")?,
            row.try_get::<DateTime<Utc>, _>("started_at")?,
            row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            // A complete run always has its finish; a row without one has nothing to show.
            .filter_map(|(run, kind, started_at, finished_at)| {
                Some((run, kind, started_at, finished_at?))
            })
            .map(|(run, kind, started_at, finished_at)| {
                Ok(RunStat {
                    run,
                    kind: stored(&kind, "run kind")?,
                    started_at,
                    finished_at,
                })
            })
            .collect()
    }

    /// Every inventory host's verdict per check and family, from its current versions. The
    /// database hands them over as one JSON array, as the board's grades: a million rows
    /// one by one cost sqlx's SQLite driver seconds.
    pub async fn host_checks(&self) -> Result<Vec<HostCheck>, StoreError> {
        /// host, check, family ('' for none), status rank.
        type Row = (String, String, String, i64);
        let rows = on_pool!(self, pool, dialect => {
            let query = format!(
                "SELECT {agg}({array}(w.host, w.check_id, w.family, w.worst)) FROM (
                     SELECT v.host, v.check_id, v.family, {worst} AS worst
                     FROM result_versions v
                     JOIN entities e ON e.kind = 'host' AND e.key = v.host AND e.removed_at IS NULL
                     WHERE v.to_run IS NULL
                     GROUP BY v.host, v.check_id, v.family) w",
                agg = dialect.json_agg,
                array = dialect.json_array,
                worst = status_rank(),
            );
            // No rows aggregate to NULL on PostgreSQL.
            let rows: Option<Json<Vec<Row>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(query))
                .fetch_one(pool)
                .await?;
            rows.map(|rows| rows.0).unwrap_or_default()
        });
        rows.into_iter()
            .map(|(host, check, family, worst)| {
                Ok(HostCheck {
                    host,
                    check,
                    family: match family.as_str() {
                        "" => None,
                        family => Some(stored(family, "check result")?),
                    },
                    status: ranked(worst)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_the_order_of_statuses() {
        let mut sorted = RANKED;
        sorted.sort();
        assert_eq!(sorted, RANKED, "the worst status ranks highest");
        assert_eq!(ranked(4).unwrap(), Status::Fail);
        assert!(ranked(5).is_err() && ranked(-1).is_err());
    }
}
