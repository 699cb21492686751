//! Check results and host grades of a run, and each host's latest conclusive grade.

use super::*;

impl Store {
    /// Each host's level in the newest complete run that graded it conclusively: what a
    /// regression is measured against, whichever hosts that run covered.
    pub async fn latest_levels(&self) -> Result<HashMap<String, Level>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT l.host, l.level FROM host_levels l
             JOIN (SELECT h.host, MAX(h.run_id) AS run_id FROM host_levels h
                   JOIN scan_runs r ON r.id = h.run_id
                   WHERE r.status = 'complete' AND NOT h.inconclusive
                   GROUP BY h.host) newest
             ON newest.host = l.host AND newest.run_id = l.run_id",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get::<String, _>("host")?, row.try_get::<String, _>("level")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(host, level)| Ok((host, stored(&level, "host level")?)))
            .collect()
    }

    /// Adds a batch of results to a running scan, all or none.
    pub async fn record_results(
        &self,
        run: i64,
        results: &[CheckRecord],
    ) -> Result<(), StoreError> {
        in_running_run!(self, run, tx => for rows in results.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO check_results
                 (run_id, host, check_id, status, family, address, port, duration_ms, detail, hint, evidence) ",
            );
            insert.push_values(rows, |mut row, r| {
                row.push_bind(run)
                    .push_bind(&r.host)
                    .push_bind(&r.check)
                    .push_bind(r.status.as_str())
                    .push_bind(r.family.map(|f| f.as_str()))
                    .push_bind(r.address.map(|a| a.to_string()))
                    .push_bind(r.port.map(i64::from))
                    .push_bind(r.duration_ms)
                    .push_bind(&r.detail)
                    .push_bind(&r.hint)
                    .push_bind(Json(&r.evidence));
            });
            // A statement of this many rows is rarely seen twice: not worth a cache slot.
            insert.build().persistent(false).execute(&mut *tx).await?;
        })
    }

    /// Adds hosts' grades to a running scan, all or none.
    pub async fn record_levels(&self, run: i64, levels: &[HostLevel]) -> Result<(), StoreError> {
        in_running_run!(self, run, tx => for rows in levels.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO host_levels (run_id, host, level, score, internet_nl, inconclusive, regressed) ",
            );
            insert.push_values(rows, |mut row, l| {
                row.push_bind(run)
                    .push_bind(&l.host)
                    .push_bind(l.level.as_str())
                    .push_bind(i64::from(l.score))
                    .push_bind(l.internet_nl.map(i64::from))
                    .push_bind(l.inconclusive)
                    .push_bind(l.regressed);
            });
            // A statement of this many rows is rarely seen twice: not worth a cache slot.
            insert.build().persistent(false).execute(&mut *tx).await?;
        })
    }

    /// Hosts' grades in a run, by host.
    pub async fn levels(&self, run: i64) -> Result<Vec<HostLevel>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT host, level, score, internet_nl, inconclusive, regressed FROM host_levels
             WHERE run_id = $1 ORDER BY host",
        )
        .bind(run)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("host")?,
            row.try_get::<String, _>("level")?,
            (row.try_get::<i64, _>("score")?, row.try_get::<Option<i64>, _>("internet_nl")?),
            row.try_get::<bool, _>("inconclusive")?,
            row.try_get::<bool, _>("regressed")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(
                |(host, level, (score, internet_nl), inconclusive, regressed)| {
                    let corrupt = |reason: String| StoreError::Corrupt {
                        kind: "host level",
                        reason,
                    };
                    let percent =
                        |value: i64| u8::try_from(value).map_err(|e| corrupt(e.to_string()));
                    Ok(HostLevel {
                        host,
                        level: stored(&level, "host level")?,
                        score: percent(score)?,
                        internet_nl: internet_nl.map(percent).transpose()?,
                        inconclusive,
                        regressed,
                    })
                },
            )
            .collect()
    }

    /// A run's check results, in the order they were recorded.
    pub async fn results(&self, run: i64) -> Result<Vec<CheckRecord>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT host, check_id, status, family, address, port, duration_ms, detail, hint, evidence
             FROM check_results WHERE run_id = $1 ORDER BY id",
        )
        .bind(run)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("host")?,
            row.try_get::<String, _>("check_id")?,
            row.try_get::<String, _>("status")?,
            row.try_get::<Option<String>, _>("family")?,
            row.try_get::<Option<String>, _>("address")?,
            row.try_get::<Option<i64>, _>("port")?,
            row.try_get::<Option<f64>, _>("duration_ms")?,
            row.try_get::<String, _>("detail")?,
            row.try_get::<Option<String>, _>("hint")?,
            row.try_get::<Json<Value>, _>("evidence")?.0,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let corrupt = |reason: String| StoreError::Corrupt {
            kind: "check result",
            reason,
        };
        rows.into_iter()
            .map(
                |(
                    host,
                    check,
                    status,
                    family,
                    address,
                    port,
                    duration_ms,
                    detail,
                    hint,
                    evidence,
                )| {
                    Ok(CheckRecord {
                        host,
                        check,
                        status: status.parse().map_err(corrupt)?,
                        family: family.map(|f| f.parse()).transpose().map_err(corrupt)?,
                        address: address
                            .map(|a| a.parse())
                            .transpose()
                            .map_err(|e: std::net::AddrParseError| corrupt(e.to_string()))?,
                        port: port
                            .map(u16::try_from)
                            .transpose()
                            .map_err(|e| corrupt(e.to_string()))?,
                        duration_ms,
                        detail,
                        hint,
                        evidence,
                    })
                },
            )
            .collect()
    }
}
