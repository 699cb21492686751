//! Site samples: one per poll, with each site's newest as the next poll's starting point.

use super::*;

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
