//! Scan runs: their kind, owner, status and heartbeat, the import they ran against, and
//! the recovery of runs whose owner died.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Complete,
    Incomplete,
}

text_enum!(RunStatus {
    Running = "running",
    Complete = "complete",
    Incomplete = "incomplete",
});

/// What a run polls: hosts, sites, or both (`sixfive scan`); or a few of them again,
/// re-checked from the UI, which counts as any run but adds no point to the trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Hosts,
    Sites,
    Scan,
    Recheck,
}

text_enum!(RunKind {
    Hosts = "hosts",
    Sites = "sites",
    Scan = "scan",
    Recheck = "recheck",
});

/// Makes run `$1`'s conclusive grades its hosts' current ones, unless a newer run's are: all
/// of them when `$2` (the run is complete), else those of the hosts whose work items it
/// finished (an agent's window cut short: each of those hosts was scanned whole).
const PROMOTE: &str = "INSERT INTO host_current (host, run_id, level)
     SELECT l.host, l.run_id, l.level FROM host_levels l
     WHERE l.run_id = $1 AND NOT l.inconclusive
     AND ($2 OR l.host IN (SELECT w.item FROM work_items w WHERE w.done_run = $1))
     -- Rows locked in one order: two agents finishing at once do not deadlock.
     ORDER BY l.host
     ON CONFLICT (host) DO UPDATE SET run_id = excluded.run_id, level = excluded.level
     WHERE host_current.run_id < excluded.run_id";

/// A running run whose owner has not beaten its heart for this long is taken as dead.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub agent: String,
    pub kind: RunKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    /// The inventory import the run ran against; None for runs from before imports were
    /// noted, or when nothing was ever imported.
    pub import: Option<i64>,
}

impl Store {
    /// Starts a scan run; it stays `running` until [`Store::finish_run`], its owner calling
    /// [`Store::beat`] well within [`STALE_AFTER`] meanwhile.
    pub async fn begin_run(&self, agent: &str, kind: RunKind) -> Result<i64, StoreError> {
        self.begin_run_against(agent, kind, None).await
    }

    /// [`Store::begin_run`], noting the inventory import the run runs against.
    pub async fn begin_run_against(
        &self,
        agent: &str,
        kind: RunKind,
        import: Option<i64>,
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "INSERT INTO scan_runs (agent, kind, started_at, heartbeat_at, status, import_id)
             VALUES ($1, $2, $3, $3, 'running', $4) RETURNING id",
        )
        .bind(agent)
        .bind(kind.as_str())
        .bind(now)
        .bind(import)
        .fetch_one(pool)
        .await?))
    }

    /// Renews the leases on the work items the run holds, then says its owner is alive.
    /// The leases first and on their own: the run's own write holds its `scan_runs` row
    /// while it waits on other agents, and the leases must not run out meanwhile.
    pub async fn beat(&self, run: i64) -> Result<(), StoreError> {
        let now = Utc::now();
        let lease_until = (now + work::LEASE).timestamp_millis();
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE work_items SET lease_until_ms = $1 WHERE run_id = $2
                 AND EXISTS (SELECT 1 FROM scan_runs WHERE id = $2 AND status = 'running')",
            )
            .bind(lease_until)
            .bind(run)
            .execute(pool)
            .await?;
            sqlx::query(
                "UPDATE scan_runs SET heartbeat_at = $1 WHERE id = $2 AND status = 'running'",
            )
            .bind(now)
            .bind(run)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Marks runs still `running` whose heartbeat is older than `stale_after` as
    /// incomplete: their owner was killed. A run whose owner beats is never touched, even if
    /// it beats while this looks.
    pub async fn expire_runs(&self, stale_after: std::time::Duration) -> Result<u64, StoreError> {
        let Some(cutoff) = chrono::Duration::from_std(stale_after)
            .ok()
            .and_then(|after| Utc::now().checked_sub_signed(after))
        else {
            return Ok(0);
        };
        let running = on_pool!(self, pool => sqlx::query(
            "SELECT id, started_at, heartbeat_at FROM scan_runs WHERE status = 'running'",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("id")?,
            row.try_get::<DateTime<Utc>, _>("started_at")?,
            row.try_get::<Option<DateTime<Utc>>, _>("heartbeat_at")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut expired = 0;
        for (id, started_at, heartbeat_at) in running {
            if heartbeat_at.unwrap_or(started_at) >= cutoff {
                continue;
            }
            expired += on_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                let closed = sqlx::query(
                    "UPDATE scan_runs SET status = 'incomplete', finished_at = $1
                     WHERE id = $2 AND status = 'running'
                     AND (heartbeat_at IS NULL AND $3 IS NULL OR heartbeat_at = $3)",
                )
                .bind(Utc::now())
                .bind(id)
                .bind(heartbeat_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // Only a run this closed: one that beat meanwhile keeps what it holds.
                if closed > 0 {
                    sqlx::query(work::RELEASE).bind(id).execute(&mut *tx).await?;
                    sqlx::query(PROMOTE).bind(id).bind(false).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                closed
            });
        }
        Ok(expired)
    }

    /// Closes a running scan as complete, or as incomplete when it was cut short. A
    /// complete run's conclusive grades become its hosts' current ones, unless a newer
    /// complete run graded them already, and the hosts' levels then are its trend counts.
    /// An incomplete agent's run makes current the grades of the work items it finished.
    pub async fn finish_run(&self, run: i64, status: RunStatus) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(
                "UPDATE scan_runs SET status = $1, finished_at = $2 WHERE id = $3 AND status = 'running'",
            )
            .bind(status.as_str())
            .bind(Utc::now())
            .bind(run)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::RunClosed(run));
            }
            sqlx::query(work::RELEASE).bind(run).execute(&mut *tx).await?;
            let complete = status == RunStatus::Complete;
            sqlx::query(PROMOTE).bind(run).bind(complete).execute(&mut *tx).await?;
            if complete {
                sqlx::query(board::RECORD_TREND)
                    .bind(run)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Marks `agent`'s runs that are still `running` as incomplete: an agent calls this as
    /// it starts, since a run it left running was cut short by its end.
    pub async fn interrupt_runs(&self, agent: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query(
            "UPDATE scan_runs SET status = 'incomplete', finished_at = $1
             WHERE agent = $2 AND status = 'running'",
        )
        .bind(Utc::now())
        .bind(agent)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Scan runs, newest first.
    pub async fn runs(&self) -> Result<Vec<Run>, StoreError> {
        self.select_runs(None, false, i64::MAX).await
    }

    /// Runs newest first, of one kind or all, only complete ones when `complete`, at most
    /// `limit`.
    pub(super) async fn select_runs(
        &self,
        kind: Option<RunKind>,
        complete: bool,
        limit: i64,
    ) -> Result<Vec<Run>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT id, agent, kind, started_at, finished_at, status, import_id FROM scan_runs
             WHERE ($1 IS NULL OR kind = $1 OR kind = 'scan') AND (NOT $2 OR status = 'complete')
             ORDER BY id DESC LIMIT $3",
        )
        .bind(kind.map(RunKind::as_str))
        .bind(complete)
        .bind(limit)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("id")?,
            row.try_get::<String, _>("agent")?,
            row.try_get::<String, _>("kind")?,
            row.try_get::<DateTime<Utc>, _>("started_at")?,
            row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
            (row.try_get::<String, _>("status")?, row.try_get::<Option<i64>, _>("import_id")?),
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(
                |(id, agent, kind, started_at, finished_at, (status, import))| {
                    Ok(Run {
                        id,
                        agent,
                        kind: stored(&kind, "run kind")?,
                        started_at,
                        finished_at,
                        status: stored(&status, "run status")?,
                        import,
                    })
                },
            )
            .collect()
    }

    /// The newest complete run that covered `kind` (a `scan` run covers hosts and sites).
    pub async fn latest_complete_run(&self, kind: RunKind) -> Result<Option<Run>, StoreError> {
        Ok(self.select_runs(Some(kind), true, 1).await?.pop())
    }
}

/// Fails unless `run` is still running; the no-op update locks the run's row, so a
/// concurrent finish waits for this transaction instead of slipping in between.
pub(super) async fn ensure_running<DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    run: i64,
) -> Result<(), StoreError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let touched: Option<(i64,)> = sqlx::query_as::<DB, (i64,)>(
        "UPDATE scan_runs SET status = status WHERE id = $1 AND status = 'running' RETURNING id",
    )
    .bind(run)
    .fetch_optional(&mut **tx)
    .await?;
    touched.map(|_| ()).ok_or(StoreError::RunClosed(run))
}
