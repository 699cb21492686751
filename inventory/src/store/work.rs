//! The agents' work items (agent.md, "Several agents"): each host or site a duty scans,
//! when it is next due, and which run holds it. Agents sharing a PostgreSQL store take
//! items with `FOR UPDATE SKIP LOCKED`, so no two take the same one; a run's heartbeat
//! renews its leases, and when a run dies its leases run out and another agent of the zone
//! takes what it held. An item's results and its next due time are written in one
//! transaction ([`Store::record_hosts`], [`Store::record_samples`]): a kill between them
//! cannot leave an item scanned and still due.
//!
//! Times are milliseconds since the epoch on the agents' clocks, which a city's servers keep
//! by NTP; a lease outlasts its renewal several times over, so a skew of seconds is harmless.

use super::*;

/// How long a lease holds without its run's heartbeat: four beats.
pub const LEASE: Duration = Duration::from_secs(20);

/// Items taken per claim: a few more than one, so a busy run does not ask per host.
const CLAIM: i64 = 8;

/// Whose work: a duty (`hosts`, `sites`…) and one zone, or every zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkScope<'a> {
    pub duty: &'a str,
    pub zone: Option<&'a str>,
}

/// A window of a duty's schedule: items due before its end are the window's run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub interval: Duration,
}

impl Window {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + self.interval
    }
}

fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn interval_ms(interval: Duration) -> i64 {
    i64::try_from(interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1)
}

/// When an item due at `due` and taken at `now` is next due: a whole number of intervals
/// after `due`, at least half an interval after `now`. Items keep their place in the
/// interval, and one taken late (its holder died) is not taken again at once.
pub fn next_due(due: i64, now: i64, interval: i64) -> i64 {
    let wanted = now.saturating_add(interval / 2);
    let behind = wanted.saturating_sub(due).max(0);
    let intervals = (behind + interval - 1) / interval;
    due.saturating_add(intervals.max(1).saturating_mul(interval))
}

/// Frees the items `$1` (a run) holds and did not finish: they are due as they were.
pub(super) const RELEASE: &str =
    "UPDATE work_items SET run_id = NULL, lease_until_ms = NULL, next_due_ms = NULL
     WHERE run_id = $1";

/// Narrows a query builder's `WHERE` to `scope`: its duty, and its zone when it has one (a
/// clause of its own, so the `(duty, zone, due_ms)` index serves it).
fn push_scope<DB: sqlx::Database>(query: &mut sqlx::QueryBuilder<DB>, scope: WorkScope<'_>)
where
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    query.push(" duty = ").push_bind(scope.duty);
    if let Some(zone) = scope.zone {
        query.push(" AND zone = ").push_bind(zone);
    }
}

impl Store {
    /// Makes the work items of `scope` the `items` (name, zone) a duty now has: new ones due
    /// evenly spread over the window, those gone removed, moved zones noted, and those due
    /// later than the interval allows (it got shorter) spread over the window again. Agents
    /// planning at once queue (PostgreSQL: an advisory lock; SQLite: its write lock), and
    /// rows are written in name order.
    pub async fn plan_work(
        &self,
        scope: WorkScope<'_>,
        items: &[(&str, &str)],
        window: Window,
    ) -> Result<(), StoreError> {
        let (start, interval) = (ms(window.start), interval_ms(window.interval));
        let now = ms(Utc::now());
        let mut items = items.to_vec();
        items.sort_unstable();
        on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            if let Some(lock) = dialect.lock_plans {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let mut select = sqlx::QueryBuilder::new(
                "SELECT item, zone, due_ms, run_id IS NOT NULL AS held FROM work_items WHERE",
            );
            push_scope(&mut select, scope);
            let existing: HashMap<String, (String, i64, bool)> = select
                .build()
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get("item")?, (row.try_get("zone")?, row.try_get("due_ms")?, row.try_get("held")?))))
                .collect::<Result<_, sqlx::Error>>()?;
            let wanted: HashSet<&str> = items.iter().map(|(item, _)| *item).collect();
            let mut gone: Vec<&str> = (existing.keys().map(String::as_str))
                .filter(|item| !wanted.contains(item))
                .collect();
            gone.sort_unstable();
            for chunk in gone.chunks(ROWS_PER_INSERT) {
                let mut delete = sqlx::QueryBuilder::new("DELETE FROM work_items WHERE duty = ");
                delete.push_bind(scope.duty).push(" AND item");
                push_in!(delete, chunk);
                delete.build().persistent(false).execute(&mut *tx).await?;
            }
            let new: Vec<(&str, &str)> = (items.iter().copied())
                .filter(|(item, _)| !existing.contains_key(*item))
                .collect();
            let mut respread: Vec<(&str, &str)> = Vec::new();
            for (item, zone) in &items {
                if let Some((was_in, due, held)) = existing.get(*item) {
                    // A scan sets the next due time less than one and a half intervals on
                    // ([`next_due`]): one further off was set under a longer interval.
                    if *due >= now + interval + interval / 2 && !held {
                        respread.push((item, zone));
                    } else if was_in != zone {
                        sqlx::query("UPDATE work_items SET zone = $1 WHERE duty = $2 AND item = $3")
                            .bind(*zone)
                            .bind(scope.duty)
                            .bind(*item)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            let spread = |i: usize, n: usize| start + (interval as f64 * i as f64 / n as f64) as i64;
            for (i, (item, zone)) in respread.iter().enumerate() {
                sqlx::query("UPDATE work_items SET zone = $1, due_ms = $2 WHERE duty = $3 AND item = $4")
                    .bind(*zone)
                    .bind(spread(i, respread.len()))
                    .bind(scope.duty)
                    .bind(*item)
                    .execute(&mut *tx)
                    .await?;
            }
            for (c, chunk) in new.chunks(ROWS_PER_INSERT).enumerate() {
                let mut insert = sqlx::QueryBuilder::new("INSERT INTO work_items (duty, item, zone, due_ms) ");
                insert.push_values(chunk.iter().enumerate(), |mut row, (i, (item, zone))| {
                    row.push_bind(scope.duty)
                        .push_bind(*item)
                        .push_bind(*zone)
                        .push_bind(spread(c * ROWS_PER_INSERT + i, new.len()));
                });
                // Planned by another zone's agent before this host moved here: the row is
                // this zone's now, unless a run holds it.
                insert.push(
                    " ON CONFLICT (duty, item) DO UPDATE SET zone = excluded.zone
                     WHERE work_items.run_id IS NULL",
                );
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Takes for run `run` up to a few items of `scope` that are due by now and before the
    /// window's end, that no live run holds and that `run` has not finished already (an
    /// item taken late may come due again before the window ends: it is the next window's);
    /// each is leased for [`LEASE`] and will be due next as [`next_due`] says once its
    /// results are stored.
    pub async fn claim_work(
        &self,
        scope: WorkScope<'_>,
        run: i64,
        window: Window,
    ) -> Result<Vec<String>, StoreError> {
        let now = ms(Utc::now());
        let interval = interval_ms(window.interval);
        let lease = now + interval_ms(LEASE);
        Ok(on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            let mut select = sqlx::QueryBuilder::new("SELECT item, due_ms FROM work_items WHERE");
            push_scope(&mut select, scope);
            select
                .push(" AND due_ms <= ").push_bind(now)
                .push(" AND due_ms < ").push_bind(ms(window.end()))
                .push(" AND (lease_until_ms IS NULL OR lease_until_ms < ").push_bind(now)
                .push(") AND (done_run IS NULL OR done_run <> ").push_bind(run)
                .push(") ORDER BY due_ms LIMIT ").push_bind(CLAIM)
                .push(dialect.skip_locked);
            let due: Vec<(String, i64)> = select.build_query_as().fetch_all(&mut *tx).await?;
            for (item, due_ms) in &due {
                sqlx::query(
                    "UPDATE work_items SET run_id = $1, lease_until_ms = $2, next_due_ms = $3
                     WHERE duty = $4 AND item = $5",
                )
                .bind(run)
                .bind(lease)
                .bind(next_due(*due_ms, now, interval))
                .bind(scope.duty)
                .bind(item)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            due.into_iter().map(|(item, _)| item).collect()
        }))
    }

    /// Lets go of `items`, which run `run` took but cannot scan (its agent's inventory does
    /// not have them): free for other agents at once, and not `run`'s to take again.
    pub async fn pass_work(&self, run: i64, items: &[&str]) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut update = sqlx::QueryBuilder::new(
                "UPDATE work_items SET run_id = NULL, lease_until_ms = NULL, next_due_ms = NULL,
                 done_run = run_id WHERE run_id = ",
            );
            update.push_bind(run).push(" AND item");
            push_in!(update, items);
            update.build().persistent(false).execute(pool).await?;
        });
        Ok(())
    }

    /// The soonest run `run` may take an item of `scope`: the first due that no run holds
    /// and `run` did not finish, or the first lease another run holds that runs out (its
    /// holder may die). None when there is neither.
    pub async fn next_work(
        &self,
        scope: WorkScope<'_>,
        run: i64,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (due, lease_end): (Option<i64>, Option<i64>) = on_pool!(self, pool => {
            let mut free = sqlx::QueryBuilder::new("SELECT due_ms FROM work_items WHERE");
            push_scope(&mut free, scope);
            free.push(" AND run_id IS NULL AND (done_run IS NULL OR done_run <> ")
                .push_bind(run)
                .push(") ORDER BY due_ms LIMIT 1");
            let due = free.build_query_scalar().fetch_optional(pool).await?;
            let mut held = sqlx::QueryBuilder::new("SELECT MIN(lease_until_ms) FROM work_items WHERE");
            push_scope(&mut held, scope);
            held.push(" AND run_id IS NOT NULL AND run_id <> ")
                .push_bind(run)
                .push(" AND (done_run IS NULL OR done_run <> ")
                .push_bind(run)
                .push(")");
            (due, held.build_query_scalar().fetch_one(pool).await?)
        });
        let soonest = match (due, lease_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(soonest.and_then(DateTime::from_timestamp_millis))
    }
}

/// Passes the items of `hosts` (or sites) that run `$1` holds on: due next as their claim
/// said, free. In the transaction that stores their results.
pub(super) async fn finish_work<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    run: i64,
    items: &[&str],
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    DB: sqlx::database::HasStatementCache,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let mut update = sqlx::QueryBuilder::<DB>::new(
            "UPDATE work_items SET due_ms = next_due_ms, next_due_ms = NULL, done_run = run_id,
                 run_id = NULL, lease_until_ms = NULL
             WHERE next_due_ms IS NOT NULL AND run_id = ",
        );
        update.push_bind(run).push(" AND item");
        push_in!(update, chunk);
        update.build().persistent(false).execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::next_due;

    #[test]
    fn an_item_keeps_its_place_in_the_interval_and_a_late_one_skips_ahead() {
        // Taken when due: due again an interval on.
        assert_eq!(next_due(1_000, 1_000, 60_000), 61_000);
        // Taken 10 s late (its holder died): still on its place, an interval on.
        assert_eq!(next_due(1_000, 11_000, 60_000), 61_000);
        // Taken 40 s late: the next place would come 20 s later, too soon; the one after.
        assert_eq!(next_due(1_000, 41_000, 60_000), 121_000);
        // Hours behind (the agent was down): the first place half an interval away.
        assert_eq!(
            next_due(0, 3 * 3_600_000 + 10_000, 60_000),
            3 * 3_600_000 + 60_000
        );
    }
}
