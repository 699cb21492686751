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
        .map(|row| grade_row(&row))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter().map(GradeRow::into_grade).collect()
    }
}

/// A grade as read, before its level and score are checked.
pub(super) struct GradeRow {
    level: String,
    score: i64,
    regressed: bool,
    run: i64,
    at: Option<DateTime<Utc>>,
}

/// Reads the columns `level, score, regressed, run_id, finished_at` on either backend.
pub(super) fn grade_row<R: Row>(row: &R) -> Result<GradeRow, sqlx::Error>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<DateTime<Utc>>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(GradeRow {
        level: row.try_get("level")?,
        score: row.try_get("score")?,
        regressed: row.try_get("regressed")?,
        run: row.try_get("run_id")?,
        at: row.try_get("finished_at")?,
    })
}

impl GradeRow {
    pub(super) fn into_grade(self) -> Result<Grade, StoreError> {
        Ok(Grade {
            level: stored(&self.level, "host level")?,
            score: percent(self.score)?,
            regressed: self.regressed,
            run: self.run,
            at: self.at,
        })
    }
}
