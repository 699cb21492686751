//! What a detail screen shows of one host beyond the board: its grade in each of the
//! latest runs that graded it.

use super::*;

/// How many of the newest runs a host's history looks through.
const RUNS_LOOKED_THROUGH: i64 = 1000;

impl Store {
    /// `host`'s newest `count` conclusive grades of complete runs, oldest first. Read run
    /// by run through the grades' key over the newest [`RUNS_LOOKED_THROUGH`] runs, as a
    /// year of runs has no index by host; runs of other hosts alone (re-checks) are
    /// looked through, not counted.
    pub async fn host_grades(&self, host: &str, count: i64) -> Result<Vec<Grade>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT l.level, l.score, l.regressed, l.run_id, r.finished_at
             FROM (SELECT id, finished_at FROM scan_runs
                   WHERE kind <> 'sites' AND status = 'complete'
                   ORDER BY id DESC LIMIT $3) r
             JOIN host_levels l ON l.run_id = r.id AND l.host = $1 AND NOT l.inconclusive
             ORDER BY l.run_id DESC LIMIT $2",
        )
        .bind(host)
        .bind(count)
        .bind(RUNS_LOOKED_THROUGH)
        .fetch_all(pool)
        .await?
        .into_iter()
        .rev()
        .map(|row| Ok((
            row.try_get::<String, _>("level")?,
            row.try_get::<i64, _>("score")?,
            row.try_get::<bool, _>("regressed")?,
            row.try_get::<i64, _>("run_id")?,
            row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(level, score, regressed, run, at)| {
                Ok(Grade {
                    level: stored(&level, "host level")?,
                    score: percent(score)?,
                    regressed,
                    run,
                    at,
                })
            })
            .collect()
    }
}
