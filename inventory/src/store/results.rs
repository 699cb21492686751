//! Check results and host grades of a run, and each host's latest conclusive grade.

use super::*;

/// Reads a result row (key, finding, `duration_ms`, `measurements`) on either backend.
macro_rules! stored_result {
    ($row:expr) => {
        Ok::<_, sqlx::Error>(StoredResult {
            key: Key {
                host: $row.try_get("host")?,
                check: $row.try_get("check_id")?,
                family: $row.try_get("family")?,
                address: $row.try_get("address")?,
                port: $row.try_get("port")?,
            },
            finding: Finding {
                status: $row.try_get("status")?,
                detail: $row.try_get("detail")?,
                hint: $row.try_get("hint")?,
                evidence: $row.try_get::<Json<Value>, _>("evidence")?.0,
            },
            duration_ms: $row.try_get("duration_ms")?,
            measurements: $row
                .try_get::<Option<Json<BTreeMap<String, f64>>>, _>("measurements")?
                .map(|m| m.0)
                .unwrap_or_default(),
        })
    };
}

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

    /// Adds a batch of graded hosts to a running scan, all or none: their grades, and
    /// their results as versions (a row only where a finding changed since the version the
    /// run reads, engine.md) with the latest measurements beside them. Every result must
    /// belong to a host graded in the same batch: a run covers the hosts it graded.
    pub async fn record_hosts(
        &self,
        run: i64,
        levels: &[HostLevel],
        results: &[CheckRecord],
    ) -> Result<(), StoreError> {
        let graded: HashSet<&str> = levels.iter().map(|l| l.host.as_str()).collect();
        if let Some(stray) = results.iter().find(|r| !graded.contains(r.host.as_str())) {
            return Err(StoreError::Ungraded(stray.host.clone()));
        }
        let hosts: Vec<&str> = graded.into_iter().collect();
        in_running_run!(self, run, tx, dialect => {
            if let Some(lock) = dialect.lock_results {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            for rows in levels.chunks(ROWS_PER_INSERT) {
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
            }
            let mut known = Vec::new();
            let mut next_graded = HashMap::new();
            for chunk in hosts.chunks(ROWS_PER_INSERT) {
                // Current versions, then those that ended after this run: two index ranges.
                let mut select = sqlx::QueryBuilder::new("");
                for (n, ended) in ["to_run IS NULL", "to_run > "].into_iter().enumerate() {
                    if n > 0 {
                        select.push(" UNION ALL ");
                    }
                    select.push(
                        "SELECT id, host, check_id, family, address, port, status, detail, hint,
                                evidence, position, from_run, to_run
                         FROM result_versions WHERE ",
                    );
                    select.push(ended);
                    if n > 0 {
                        select.push_bind(run);
                    }
                    select.push(" AND host IN (");
                    let mut list = select.separated(", ");
                    for host in chunk {
                        list.push_bind(*host);
                    }
                    select.push(")");
                }
                for row in select.build().persistent(false).fetch_all(&mut *tx).await? {
                    known.push(Version {
                        id: row.try_get("id")?,
                        key: Key {
                            host: row.try_get("host")?,
                            check: row.try_get("check_id")?,
                            family: row.try_get("family")?,
                            address: row.try_get("address")?,
                            port: row.try_get("port")?,
                        },
                        finding: Finding {
                            status: row.try_get("status")?,
                            detail: row.try_get("detail")?,
                            hint: row.try_get("hint")?,
                            evidence: row.try_get::<Json<Value>, _>("evidence")?.0,
                        },
                        position: row.try_get("position")?,
                        from_run: row.try_get("from_run")?,
                        to_run: row.try_get("to_run")?,
                    });
                }
                // Runs may write out of order: a later run that already graded a host
                // bounds what this one found.
                let mut later = sqlx::QueryBuilder::new(
                    "SELECT host, MIN(run_id) AS run_id FROM host_levels WHERE run_id > ",
                );
                later.push_bind(run).push(" AND host IN (");
                let mut list = later.separated(", ");
                for host in chunk {
                    list.push_bind(*host);
                }
                later.push(") GROUP BY host");
                for row in later.build().persistent(false).fetch_all(&mut *tx).await? {
                    next_graded.insert(
                        row.try_get::<String, _>("host")?,
                        row.try_get::<i64, _>("run_id")?,
                    );
                }
            }
            let changes = Changes::between(run, &next_graded, known, results);
            for ids in changes.closed.chunks(ROWS_PER_INSERT) {
                let mut close = sqlx::QueryBuilder::new("UPDATE result_versions SET to_run = ");
                close.push_bind(run).push(" WHERE id IN (");
                let mut list = close.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                close.push(")");
                close.build().persistent(false).execute(&mut *tx).await?;
            }
            for rows in changes.opened.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO result_versions
                     (host, check_id, family, address, port, status, detail, hint, evidence, position, from_run, to_run) ",
                );
                insert.push_values(rows, |mut row, new| {
                    row.push_bind(&new.key.host)
                        .push_bind(&new.key.check)
                        .push_bind(&new.key.family)
                        .push_bind(&new.key.address)
                        .push_bind(new.key.port)
                        .push_bind(&new.finding.status)
                        .push_bind(&new.finding.detail)
                        .push_bind(&new.finding.hint)
                        .push_bind(Json(&new.finding.evidence))
                        .push_bind(new.position)
                        .push_bind(new.from_run)
                        .push_bind(new.to_run);
                });
                insert.build().persistent(false).execute(&mut *tx).await?;
            }
            for rows in changes.latest.chunks(ROWS_PER_INSERT) {
                let mut upsert = sqlx::QueryBuilder::new(
                    "INSERT INTO result_latest
                     (host, check_id, family, address, port, run_id, duration_ms, measurements) ",
                );
                upsert.push_values(rows, |mut row, (key, record)| {
                    row.push_bind(&key.host)
                        .push_bind(&key.check)
                        .push_bind(&key.family)
                        .push_bind(&key.address)
                        .push_bind(key.port)
                        .push_bind(run)
                        .push_bind(record.duration_ms)
                        .push_bind(Json(&record.measurements));
                });
                // A run that started earlier but writes later does not undo a newer one.
                upsert.push(
                    " ON CONFLICT (host, check_id, family, address, port) DO UPDATE SET
                     run_id = excluded.run_id, duration_ms = excluded.duration_ms,
                     measurements = excluded.measurements
                     WHERE result_latest.run_id <= excluded.run_id",
                );
                upsert.build().persistent(false).execute(&mut *tx).await?;
            }
            // Keys the run no longer found: their measurements are nobody's latest.
            for chunk in hosts.chunks(ROWS_PER_INSERT) {
                let mut delete = sqlx::QueryBuilder::new("DELETE FROM result_latest WHERE run_id < ");
                delete.push_bind(run).push(" AND host IN (");
                let mut list = delete.separated(", ");
                for host in chunk {
                    list.push_bind(*host);
                }
                delete.push(")");
                delete.build().persistent(false).execute(&mut *tx).await?;
            }
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

    /// Every result of a run, as it read then: for each host the run graded, the version
    /// of each result valid at that run, by host and in the order its checks ran. Timings
    /// and measurements come along only while no later run has overwritten them.
    pub async fn results(&self, run: i64) -> Result<Vec<CheckRecord>, StoreError> {
        // Current versions, then those that ended after the run: two index ranges per host.
        let valid_at = |ended: &str| {
            format!(
                "SELECT v.id, v.host, v.check_id, v.status, v.family, v.address, v.port, v.detail,
                        v.hint, v.evidence, v.position, l.duration_ms, l.measurements
                 FROM host_levels h
                 JOIN result_versions v ON v.host = h.host AND v.from_run <= h.run_id AND {ended}
                 LEFT JOIN result_latest l ON l.host = v.host AND l.check_id = v.check_id
                      AND l.family = v.family AND l.address = v.address AND l.port = v.port
                      AND l.run_id = h.run_id
                 WHERE h.run_id = $1"
            )
        };
        let query = format!(
            "SELECT * FROM ({} UNION ALL {}) valid ORDER BY host, position, id",
            valid_at("v.to_run IS NULL"),
            valid_at("v.to_run > h.run_id")
        );
        let rows = on_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(query.as_str()))
        .bind(run)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| stored_result!(row))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter().map(StoredResult::into_record).collect()
    }

    /// What one host's checks found over time, oldest first: each version with the runs it
    /// held for. The current versions carry the latest timings and measurements.
    pub async fn result_history(&self, host: &str) -> Result<Vec<ResultVersion>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT v.host, v.check_id, v.status, v.family, v.address, v.port, v.detail, v.hint,
                    v.evidence, v.from_run, v.to_run, l.duration_ms, l.measurements
             FROM result_versions v
             LEFT JOIN result_latest l ON v.to_run IS NULL AND l.host = v.host
                  AND l.check_id = v.check_id AND l.family = v.family
                  AND l.address = v.address AND l.port = v.port
             WHERE v.host = $1
             ORDER BY v.from_run, v.position, v.id",
        )
        .bind(host)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("from_run")?,
            row.try_get::<Option<i64>, _>("to_run")?,
            stored_result!(row)?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(from_run, to_run, stored)| {
                Ok(ResultVersion {
                    from_run,
                    to_run,
                    record: stored.into_record()?,
                })
            })
            .collect()
    }
}

/// A result as it held for the runs from `from_run` up to, not including, `to_run` (`None`
/// while it is current).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultVersion {
    pub from_run: i64,
    pub to_run: Option<i64>,
    pub record: CheckRecord,
}

/// What identifies a result across runs: '' and 0 stand for no family, address or port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    host: String,
    check: String,
    family: String,
    address: String,
    port: i64,
}

impl Key {
    fn of(record: &CheckRecord) -> Self {
        Self {
            host: record.host.clone(),
            check: record.check.clone(),
            family: record
                .family
                .map(|f| f.as_str().to_owned())
                .unwrap_or_default(),
            address: record.address.map(|a| a.to_string()).unwrap_or_default(),
            port: record.port.map(i64::from).unwrap_or_default(),
        }
    }
}

/// What a result found, measurements aside: two runs that found the same compare equal.
#[derive(Debug, PartialEq)]
struct Finding {
    status: String,
    detail: String,
    hint: Option<String>,
    evidence: Value,
}

impl Finding {
    fn of(record: &CheckRecord) -> Self {
        Self {
            status: record.status.as_str().to_owned(),
            detail: record.detail.clone(),
            hint: record.hint.clone(),
            evidence: record.evidence.clone(),
        }
    }
}

/// A stored version of a result, valid for runs from `from_run` up to `to_run`.
struct Version {
    id: i64,
    key: Key,
    finding: Finding,
    position: i64,
    from_run: i64,
    to_run: Option<i64>,
}

/// A version to write.
struct NewVersion {
    key: Key,
    finding: Finding,
    position: i64,
    from_run: i64,
    to_run: Option<i64>,
}

/// What a batch changes in the versions of its hosts.
#[derive(Default)]
struct Changes<'a> {
    /// Versions that end at this run.
    closed: Vec<i64>,
    /// Versions this run found, and the rest of those it ended that a later run still read.
    opened: Vec<NewVersion>,
    /// Every result's key with its measurements.
    latest: Vec<(Key, &'a CheckRecord)>,
}

impl<'a> Changes<'a> {
    /// From `known`, every version of the batch's hosts that is current or ended after
    /// `run`, and `next_graded`, the first later run to grade each host, if any.
    fn between(
        run: i64,
        next_graded: &HashMap<String, i64>,
        known: Vec<Version>,
        results: &'a [CheckRecord],
    ) -> Self {
        let mut valid: HashMap<Key, Version> = HashMap::new();
        let mut next_from: HashMap<Key, i64> = HashMap::new();
        for version in known {
            if version.from_run <= run {
                valid.insert(version.key.clone(), version);
            } else {
                let next = next_from.entry(version.key).or_insert(version.from_run);
                *next = (*next).min(version.from_run);
            }
        }
        // One result per key and run: a check that reports a key twice keeps its last.
        let mut unique: Vec<(Key, &CheckRecord, i64)> = Vec::with_capacity(results.len());
        let mut index: HashMap<Key, usize> = HashMap::new();
        let mut positions: HashMap<&str, i64> = HashMap::new();
        for record in results {
            let key = Key::of(record);
            let position = positions.entry(record.host.as_str()).or_default();
            *position += 1;
            match index.get(&key) {
                Some(&earlier) => {
                    tracing::warn!(
                        host = record.host,
                        check = record.check,
                        "a result was reported twice in one run; the last is kept"
                    );
                    unique[earlier].1 = record;
                }
                None => {
                    index.insert(key.clone(), unique.len());
                    unique.push((key, record, *position));
                }
            }
        }
        let mut changes = Changes::default();
        for (key, record, position) in unique {
            changes.latest.push((key.clone(), record));
            let bound = next_graded.get(&key.host).copied();
            let finding = Finding::of(record);
            let to_run = match valid.remove(&key) {
                Some(version) if version.finding == finding => continue,
                Some(version) => {
                    let to_run = earliest(bound, version.to_run);
                    changes.end(bound, version);
                    to_run
                }
                None => earliest(bound, next_from.get(&key).copied()),
            };
            changes.opened.push(NewVersion {
                key,
                finding,
                position,
                from_run: run,
                to_run,
            });
        }
        // What the hosts no longer show ends here.
        for version in valid.into_values() {
            let bound = next_graded.get(&version.key.host).copied();
            changes.end(bound, version);
        }
        changes
    }

    /// Ends `version` at the batch's run; when a later run (`bound`, the next to grade its host)
    /// read it too, that run and those after keep reading it.
    fn end(&mut self, bound: Option<i64>, version: Version) {
        self.closed.push(version.id);
        if let Some(bound) = bound.filter(|&b| version.to_run.is_none_or(|end| b < end)) {
            self.opened.push(NewVersion {
                key: version.key,
                finding: version.finding,
                position: version.position,
                from_run: bound,
                to_run: version.to_run,
            });
        }
    }
}

/// The earlier of two ends, where `None` means "still current".
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A result as read back, before its texts are parsed.
struct StoredResult {
    key: Key,
    finding: Finding,
    duration_ms: Option<f64>,
    measurements: BTreeMap<String, f64>,
}

impl StoredResult {
    fn into_record(self) -> Result<CheckRecord, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            kind: "check result",
            reason,
        };
        let Key {
            host,
            check,
            family,
            address,
            port,
        } = self.key;
        Ok(CheckRecord {
            host,
            check,
            status: stored(&self.finding.status, "check result")?,
            family: (!family.is_empty())
                .then(|| family.parse())
                .transpose()
                .map_err(corrupt)?,
            address: (!address.is_empty())
                .then(|| address.parse())
                .transpose()
                .map_err(|e: std::net::AddrParseError| corrupt(e.to_string()))?,
            port: (port != 0)
                .then(|| u16::try_from(port))
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?,
            duration_ms: self.duration_ms,
            detail: self.finding.detail,
            hint: self.finding.hint,
            evidence: self.finding.evidence,
            measurements: self.measurements,
        })
    }
}

impl Store {
    /// Forgets the evidence of results superseded before `retention` ago and the raw
    /// readings of site samples as old (each site's newest stays: the next poll starts
    /// there); statuses, details, levels and states stay. Returns the rows thinned.
    pub async fn apply_retention(&self, retention: std::time::Duration) -> Result<u64, StoreError> {
        let Some(cutoff) = chrono::Duration::from_std(retention)
            .ok()
            .and_then(|keep| Utc::now().checked_sub_signed(keep))
        else {
            return Ok(0);
        };
        let runs = on_pool!(self, pool => sqlx::query("SELECT id, started_at FROM scan_runs")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| Ok((row.try_get::<i64, _>("id")?, row.try_get::<DateTime<Utc>, _>("started_at")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?);
        // Run ids grow with their start: the newest run that started before the cutoff.
        let Some(last_old_run) = runs
            .iter()
            .filter(|(_, at)| *at < cutoff)
            .map(|(id, _)| *id)
            .max()
        else {
            return Ok(0);
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let versions = sqlx::query(
                "UPDATE result_versions SET evidence = 'null'
                 WHERE to_run IS NOT NULL AND to_run <= $1 AND evidence <> 'null'",
            )
            .bind(last_old_run)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let samples = sqlx::query(
                "UPDATE site_samples SET data = 'null'
                 WHERE run_id <= $1 AND data <> 'null'
                 AND id NOT IN (SELECT MAX(id) FROM site_samples GROUP BY site)",
            )
            .bind(last_old_run)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(versions + samples)
        })
    }
}
