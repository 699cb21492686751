//! Site samples: one per poll, with each site's newest as the next poll's starting point.
//! Past `scan.retention` each hour of them becomes one `site_hours` row (engine.md), and of
//! the hour's samples only those a reader of "the newest sample by then" needs stay.

use chrono::TimeDelta;
use serde::Deserialize;

use super::*;
use crate::results::SiteState;

/// The values an hour's row sums up: the name [`SiteHour::stats`] gives each, and where a
/// sample's data holds it.
const HOURLY_VALUES: [(&str, &str); 6] = [
    ("rsrp_dbm", "/radio/rsrp_dbm"),
    ("sinr_db", "/radio/sinr_db"),
    ("latency_ms_v6", "/latency_ms/v6"),
    ("latency_ms_v4", "/latency_ms/v4"),
    ("loss_v6", "/loss/v6"),
    ("loss_v4", "/loss/v4"),
];

/// Hours of one site thinned per transaction: at a poll every 5 minutes, 1,200 samples
/// read and most deleted, so a first pass over a big store never holds the write lock long.
const HOURS_PER_TRANSACTION: i64 = 100;

impl Store {
    /// Adds a batch of site samples to a running scan, all or none.
    pub async fn record_samples(&self, run: i64, samples: &[SiteSample]) -> Result<(), StoreError> {
        self.write_samples(run, samples, false).await
    }

    /// [`Store::record_samples`]; `late` for a batch written after its run ended.
    pub(super) async fn write_samples(
        &self,
        run: i64,
        samples: &[SiteSample],
        late: bool,
    ) -> Result<(), StoreError> {
        if samples.is_empty() {
            // Nothing to write, and no reason to queue behind other writers for it.
            return Ok(());
        }
        let sites: Vec<&str> = samples.iter().map(|s| s.site.as_str()).collect();
        in_running_run!(self, run, late: late, tx => {
            for rows in samples.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO site_samples (run_id, site, at, state, reasons, data) ",
                );
                insert.push_values(rows, |mut row, s| {
                    row.push_bind(run)
                        .push_bind(&s.site)
                        .push_bind(s.at)
                        .push_bind(s.state.as_str())
                        .push_bind(Json(&s.reasons))
                        .push_bind(Json(&s.data));
                });
                // A statement of this many rows is rarely seen twice: not worth a cache slot.
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            work::finish_work(&mut tx, run, &sites).await?;
        })
    }

    /// Each site's newest sample (or only `site`'s), whatever run it came from: where the
    /// next poll's counter deltas, reboot check and hysteresis start.
    pub async fn latest_samples(&self, site: Option<&str>) -> Result<Vec<SiteSample>, StoreError> {
        self.latest_samples_at(site, None).await
    }

    /// Each site's newest sample taken by `at` (None: any time); a report `--at` reads them.
    pub async fn latest_samples_at(
        &self,
        site: Option<&str>,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<SiteSample>, StoreError> {
        self.select_samples(
            "SELECT site, at, state, reasons, data FROM site_samples
             WHERE id IN (SELECT MAX(id) FROM site_samples
                          WHERE $3 IS NULL OR at <= $3 GROUP BY site)
             AND ($1 = '' OR site = $1) ORDER BY site LIMIT $2",
            site.unwrap_or(""),
            i64::MAX,
            at,
        )
        .await
    }

    /// A site's samples, newest first, at most `limit`.
    pub async fn samples(&self, site: &str, limit: i64) -> Result<Vec<SiteSample>, StoreError> {
        self.select_samples(
            "SELECT site, at, state, reasons, data FROM site_samples
             WHERE site = $1 AND ($3 IS NULL OR at <= $3) ORDER BY at DESC, id DESC LIMIT $2",
            site,
            limit,
            None,
        )
        .await
    }

    /// `site`'s thinned hours from the one `since` is in (None: all), oldest first.
    pub async fn site_hours(
        &self,
        site: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<SiteHour>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT site, hour, polls, stats, last_state, worst_state FROM site_hours
             WHERE site = $1 AND ($2 IS NULL OR hour >= $2) ORDER BY hour",
        )
        .bind(site)
        .bind(since.map(hour_of))
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            (row.try_get::<String, _>("site")?, row.try_get::<DateTime<Utc>, _>("hour")?),
            row.try_get::<i64, _>("polls")?,
            row.try_get::<Json<BTreeMap<String, Spread>>, _>("stats")?.0,
            row.try_get::<String, _>("last_state")?,
            row.try_get::<String, _>("worst_state")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|((site, hour), polls, stats, last, worst)| {
                Ok(SiteHour {
                    site,
                    hour,
                    polls: u32::try_from(polls).map_err(|e| StoreError::Corrupt {
                        kind: "site hour",
                        reason: e.to_string(),
                    })?,
                    stats,
                    last_state: stored(&last, "site hour")?,
                    worst_state: stored(&worst, "site hour")?,
                })
            })
            .collect()
    }

    /// Sums up each whole hour of site samples that ended by `cutoff` in a `site_hours` row,
    /// and deletes the hour's samples but its last, those whose state differs from the
    /// sample before and the site's newest: "the newest sample by then" still finds a real
    /// sample at most an hour older, with its state, and every change of state stays.
    /// Hours with a row are left as they are, so a second pass changes nothing.
    pub(super) async fn thin_samples(&self, cutoff: DateTime<Utc>) -> Result<Thinned, StoreError> {
        let hour = TimeDelta::hours(1);
        // Samples before the cutoff's hour are in hours that ended by the cutoff.
        let bound = hour_of(cutoff);
        let sites = on_pool!(self, pool => sqlx::query(
            // An index seek a site: DISTINCT would read every sample's index entry.
            "WITH RECURSIVE sites (site) AS (
                 SELECT MIN(site) FROM site_samples
                 UNION ALL
                 SELECT (SELECT MIN(s.site) FROM site_samples s WHERE s.site > sites.site)
                 FROM sites WHERE sites.site IS NOT NULL)
             SELECT site, (SELECT MAX(hour) FROM site_hours h WHERE h.site = sites.site) AS thinned
             FROM sites WHERE site IS NOT NULL",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("site")?,
            row.try_get::<Option<DateTime<Utc>>, _>("thinned")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut thinned = Thinned::default();
        for (site, last_thinned) in sites {
            // Each pass goes on after the newest hour thinned.
            let mut from = last_thinned.map_or(DateTime::UNIX_EPOCH, |h| h + hour);
            loop {
                let first: Option<DateTime<Utc>> = on_pool!(self, pool => sqlx::query_scalar(
                    "SELECT MIN(at) FROM site_samples WHERE site = $1 AND at >= $2 AND at < $3",
                )
                .bind(&site)
                .bind(from)
                .bind(bound)
                .fetch_one(pool)
                .await?);
                let Some(first) = first else {
                    break;
                };
                // From the next sample's hour: weeks without a poll are not walked through.
                from = hour_of(first);
                let to = bound.min(from + TimeDelta::hours(HOURS_PER_TRANSACTION));
                let done = self.thin_hours(&site, from, to).await?;
                thinned.samples += done.samples;
                thinned.hours += done.hours;
                from = to;
            }
        }
        Ok(thinned)
    }

    /// [`Store::thin_samples`] for `site`'s hours from `from` up to `to`, in one transaction.
    async fn thin_hours(
        &self,
        site: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Thinned, StoreError> {
        on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            if let Some(lock) = dialect.lock_site_hours {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            // Another agent's pass may have thinned some since this one looked.
            let done: HashSet<DateTime<Utc>> = sqlx::query_scalar::<_, DateTime<Utc>>(
                "SELECT hour FROM site_hours WHERE site = $1 AND hour >= $2 AND hour < $3",
            )
            .bind(site)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
            let before: Option<String> = sqlx::query_scalar(
                "SELECT state FROM site_samples WHERE site = $1 AND at < $2
                 ORDER BY at DESC, id DESC LIMIT 1",
            )
            .bind(site)
            .bind(from)
            .fetch_optional(&mut *tx)
            .await?;
            // What the next poll's counter deltas start from (`latest_samples`).
            let newest: Option<i64> =
                sqlx::query_scalar("SELECT MAX(id) FROM site_samples WHERE site = $1")
                    .bind(site)
                    .fetch_one(&mut *tx)
                    .await?;
            let rows = sqlx::query(
                "SELECT id, at, state, data FROM site_samples WHERE site = $1 AND at >= $2 AND at < $3
                 ORDER BY at, id",
            )
            .bind(site)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|row| Ok((
                row.try_get::<i64, _>("id")?,
                row.try_get::<DateTime<Utc>, _>("at")?,
                row.try_get::<String, _>("state")?,
                row.try_get::<Json<Value>, _>("data")?.0,
            )))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let mut polls = Vec::with_capacity(rows.len());
            for (id, at, state, data) in rows {
                let state = stored(&state, "site sample")?;
                polls.push(Polled { id, at, state, data });
            }
            let mut previous = before.map(|s| stored::<SiteState>(&s, "site sample")).transpose()?;
            let mut hours = Vec::new();
            let mut gone = Vec::new();
            for polled in polls.chunk_by(|a, b| hour_of(a.at) == hour_of(b.at)) {
                let Some(last) = polled.last() else {
                    continue;
                };
                let hour = hour_of(last.at);
                let mut state = previous;
                previous = Some(last.state);
                if done.contains(&hour) {
                    continue;
                }
                hours.push(SiteHour::of(site, hour, polled, last.state));
                // The hour's last stays, and so do changes of state and the site's newest.
                for poll in &polled[..polled.len() - 1] {
                    if state == Some(poll.state) && Some(poll.id) != newest {
                        gone.push(poll.id);
                    }
                    state = Some(poll.state);
                }
            }
            let mut thinned = Thinned::default();
            for rows in hours.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO site_hours (site, hour, polls, stats, last_state, worst_state) ",
                );
                insert.push_values(rows, |mut row, h| {
                    row.push_bind(&h.site)
                        .push_bind(h.hour)
                        .push_bind(i64::from(h.polls))
                        .push_bind(Json(&h.stats))
                        .push_bind(h.last_state.as_str())
                        .push_bind(h.worst_state.as_str());
                });
                thinned.hours += insert.build().persistent(false).execute(&mut *tx).await?.rows_affected();
            }
            for ids in gone.chunks(ROWS_PER_INSERT) {
                let mut delete = sqlx::QueryBuilder::new("DELETE FROM site_samples WHERE id");
                push_in!(delete, ids);
                thinned.samples += delete.build().persistent(false).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(thinned)
        })
    }

    async fn select_samples(
        &self,
        sql: &'static str,
        site: &str,
        limit: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<SiteSample>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(sql)
        .bind(site)
        .bind(limit)
        .bind(at)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("site")?,
            row.try_get::<DateTime<Utc>, _>("at")?,
            row.try_get::<String, _>("state")?,
            row.try_get::<Json<Vec<String>>, _>("reasons")?.0,
            row.try_get::<Json<Value>, _>("data")?.0,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(site, at, state, reasons, data)| {
                Ok(SiteSample {
                    site,
                    at,
                    state: stored(&state, "site sample")?,
                    reasons,
                    data,
                })
            })
            .collect()
    }
}

/// An hour of a site's polls after thinning: how many there were, the spread of each value
/// they measured, and their states.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteHour {
    pub site: String,
    /// The hour's start, UTC.
    pub hour: DateTime<Utc>,
    pub polls: u32,
    /// By value (`rsrp_dbm`, `sinr_db`, `latency_ms_v6`, `latency_ms_v4`, `loss_v6`,
    /// `loss_v4`), only those at least one poll measured.
    pub stats: BTreeMap<String, Spread>,
    /// The state of the hour's last poll.
    pub last_state: SiteState,
    /// The worst state of its polls, in [`SiteState`]'s order.
    pub worst_state: SiteState,
}

/// A value over an hour's polls: `n` of them measured it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub min: f64,
    pub avg: f64,
    pub max: f64,
    pub n: u32,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Spread> {
        let (first, rest) = values.split_first()?;
        let (min, max) =
            (rest.iter()).fold((*first, *first), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        Some(Spread {
            min,
            avg: values.iter().sum::<f64>() / values.len() as f64,
            max,
            n: values.len() as u32,
        })
    }
}

/// A sample as thinning reads it.
struct Polled {
    id: i64,
    at: DateTime<Utc>,
    state: SiteState,
    data: Value,
}

impl SiteHour {
    /// The row of `site`'s polls in one hour, in the order they were taken.
    fn of(site: &str, hour: DateTime<Utc>, polls: &[Polled], last: SiteState) -> SiteHour {
        let stats = HOURLY_VALUES
            .iter()
            .filter_map(|(name, pointer)| {
                let values: Vec<f64> = (polls.iter())
                    .filter_map(|p| p.data.pointer(pointer)?.as_f64())
                    .collect();
                Some(((*name).to_owned(), Spread::of(&values)?))
            })
            .collect();
        SiteHour {
            site: site.to_owned(),
            hour,
            polls: polls.len() as u32,
            stats,
            last_state: last,
            worst_state: polls.iter().map(|p| p.state).max().unwrap_or(last),
        }
    }
}

/// The start of the UTC hour `at` is in.
fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let into = TimeDelta::seconds(at.timestamp().rem_euclid(3600));
    at - into - TimeDelta::nanoseconds(at.timestamp_subsec_nanos().into())
}
