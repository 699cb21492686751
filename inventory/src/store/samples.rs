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

/// Site-hours thinned per transaction (a group of this many sites an hour at a time, or
/// fewer sites for more hours): at a poll every 5 minutes, 3,600 samples read and most
/// deleted, so a first pass over a big store never holds the write lock long.
const SITE_HOURS_PER_TRANSACTION: usize = 300;

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
        let mut due = Vec::new();
        for (site, thinned) in sites {
            // Each pass goes on after the newest hour thinned.
            let after = thinned.map_or(DateTime::UNIX_EPOCH, |h| h + TimeDelta::hours(1));
            if let Some(first) = self.first_sample(&site, after, bound).await? {
                due.push(Due {
                    next: hour_of(first),
                    site,
                    previous: None,
                    newest: None,
                });
            }
        }
        let mut thinned = Thinned::default();
        // A group of sites at a time, hour by hour: samples are stored in the order they
        // were taken, so each page of them is rewritten once, not once for each site on it.
        for group in due.chunks_mut(SITE_HOURS_PER_TRANSACTION) {
            for due in group.iter_mut() {
                let (previous, newest) = on_pool!(self, pool => {
                    let previous: Option<String> = sqlx::query_scalar(
                        "SELECT state FROM site_samples WHERE site = $1 AND at < $2
                         ORDER BY at DESC, id DESC LIMIT 1",
                    )
                    .bind(&due.site)
                    .bind(due.next)
                    .fetch_optional(pool)
                    .await?;
                    // What the next poll's counter deltas start from (`latest_samples`).
                    let newest: Option<i64> =
                        sqlx::query_scalar("SELECT MAX(id) FROM site_samples WHERE site = $1")
                            .bind(&due.site)
                            .fetch_one(pool)
                            .await?;
                    (previous, newest)
                });
                due.previous = previous.map(|s| stored(&s, "site sample")).transpose()?;
                due.newest = newest;
            }
            let hours = (SITE_HOURS_PER_TRANSACTION / group.len()).max(1) as i64;
            let mut from = group.iter().map(|d| d.next).min().unwrap_or(bound);
            while from < bound {
                let to = bound.min(from + TimeDelta::hours(hours));
                let (done, read) = self.thin_window(group, from, to).await?;
                thinned.samples += done.samples;
                thinned.hours += done.hours;
                from = to;
                if read == 0 {
                    // Weeks without a poll of any site in the group are not walked through.
                    let mut firsts = Vec::new();
                    for due in group.iter() {
                        firsts.extend(self.first_sample(&due.site, to, bound).await?);
                    }
                    let Some(next) = firsts.into_iter().min() else {
                        break;
                    };
                    from = hour_of(next);
                }
            }
        }
        Ok(thinned)
    }

    /// When `site`'s first sample at or after `from` and before `until` was taken.
    async fn first_sample(
        &self,
        site: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT MIN(at) FROM site_samples WHERE site = $1 AND at >= $2 AND at < $3",
        )
        .bind(site)
        .bind(from)
        .bind(until)
        .fetch_one(pool)
        .await?))
    }

    /// [`Store::thin_samples`] for the hours from `from` up to `to` of a group of sites, in
    /// one transaction; also says how many samples it read.
    async fn thin_window(
        &self,
        group: &mut [Due],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Thinned, usize), StoreError> {
        let mut sites: HashMap<String, &mut Due> = (group.iter_mut())
            .filter(|d| d.next < to)
            .map(|d| (d.site.clone(), d))
            .collect();
        let names: Vec<String> = sites.keys().cloned().collect();
        let mut thinned = Thinned::default();
        if names.is_empty() {
            return Ok((thinned, 0));
        }
        on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            if let Some(lock) = dialect.lock_site_hours {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            // Another agent's pass may have thinned some since this one looked.
            let mut select = sqlx::QueryBuilder::new("SELECT site, hour FROM site_hours WHERE hour >= ");
            select.push_bind(from).push(" AND hour < ").push_bind(to).push(" AND site");
            push_in!(select, &names.iter().map(String::as_str).collect::<Vec<_>>());
            let done: HashSet<(String, DateTime<Utc>)> = select
                .build()
                .persistent(false)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get("site")?, row.try_get("hour")?)))
                .collect::<Result<_, sqlx::Error>>()?;
            let mut select = sqlx::QueryBuilder::new(
                "SELECT id, site, at, state, data FROM site_samples WHERE at >= ",
            );
            select.push_bind(from).push(" AND at < ").push_bind(to).push(" AND site");
            push_in!(select, &names.iter().map(String::as_str).collect::<Vec<_>>());
            select.push(" ORDER BY site, at, id");
            let rows = select
                .build()
                .persistent(false)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|row| Ok((
                    row.try_get::<String, _>("site")?,
                    row.try_get::<i64, _>("id")?,
                    row.try_get::<DateTime<Utc>, _>("at")?,
                    row.try_get::<String, _>("state")?,
                    row.try_get::<Json<Value>, _>("data")?.0,
                )))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let read = rows.len();
            let mut polls: Vec<(String, Polled)> = Vec::with_capacity(rows.len());
            for (site, id, at, state, data) in rows {
                let state = stored(&state, "site sample")?;
                polls.push((site, Polled { id, at, state, data }));
            }
            let mut hours = Vec::new();
            let mut gone = Vec::new();
            for polled in polls.chunk_by(|(a, x), (b, y)| a == b && hour_of(x.at) == hour_of(y.at)) {
                let Some(((site, first), (_, last))) = polled.first().zip(polled.last()) else {
                    continue;
                };
                let Some(due) = sites.get_mut(site) else {
                    continue;
                };
                let hour = hour_of(first.at);
                // Hours before `next` were thinned before: `previous` comes after them.
                if hour < due.next {
                    continue;
                }
                let mut state = due.previous;
                due.previous = Some(last.state);
                if done.contains(&(site.clone(), hour)) {
                    continue;
                }
                let polled: Vec<&Polled> = polled.iter().map(|(_, p)| p).collect();
                hours.push(SiteHour::of(site, hour, &polled, last.state));
                // The hour's last stays, and so do changes of state and the site's newest.
                for poll in &polled[..polled.len() - 1] {
                    if state == Some(poll.state) && Some(poll.id) != due.newest {
                        gone.push(poll.id);
                    }
                    state = Some(poll.state);
                }
            }
            for due in sites.values_mut() {
                due.next = to;
            }
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
            Ok((thinned, read))
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

/// A site with hours to thin, as the pass goes through them.
struct Due {
    site: String,
    /// The start of its first hour not thinned yet.
    next: DateTime<Utc>,
    /// The state of its sample before that hour.
    previous: Option<SiteState>,
    /// Its newest sample's id.
    newest: Option<i64>,
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
    fn of(site: &str, hour: DateTime<Utc>, polls: &[&Polled], last: SiteState) -> SiteHour {
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
