//! Check results and host grades of a run, each host's latest conclusive grade, what a
//! host's checks found over time, and retention, which thins that history and site samples.

use std::hash::Hasher;

use super::*;

/// Reads a result row (key and finding) on either backend.
macro_rules! stored_result {
    ($row:expr) => {
        Ok::<_, sqlx::Error>(StoredResult {
            key: Key {
                host: $row.try_get("host")?,
                check: $row.try_get("check_id")?,
                family: $row.try_get("family")?,
                address: $row.try_get("address")?,
                port: $row.try_get("port")?,
                occurrence: $row.try_get("occurrence")?,
            },
            finding: Finding {
                status: $row.try_get("status")?,
                detail: $row.try_get("detail")?,
                hint: $row.try_get("hint")?,
                evidence: $row.try_get::<Json<Value>, _>("evidence")?.0,
            },
        })
    };
}

/// What every read of versions selects, from `result_versions v`.
const VERSION_COLUMNS: &str = "v.id, v.host, v.check_id, v.family, v.address, v.port, v.occurrence,
     v.status, v.detail, v.hint, v.evidence, v.position, v.from_run, v.to_run";

impl Store {
    /// Each host's level in the newest complete run that graded it conclusively: what a
    /// regression is measured against, whichever hosts that run covered.
    pub async fn latest_levels(&self) -> Result<HashMap<String, Level>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query("SELECT host, level FROM host_current")
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
    /// run reads, engine.md) with the latest timings and measurements per host beside
    /// them. Every result must belong to a host graded in the same batch: a run covers the
    /// hosts it graded.
    pub async fn record_hosts(
        &self,
        run: i64,
        levels: &[HostLevel],
        results: &[CheckRecord],
    ) -> Result<(), StoreError> {
        self.write_hosts(run, levels, results, false).await
    }

    /// Writes a batch of run `run` that could not be written while it ran (the store was
    /// away), hosts and sites, leaving out what the run holds already: written twice, it
    /// is stored once. Its results fit between the runs' as any late run's do.
    pub async fn record_late(
        &self,
        run: i64,
        levels: &[HostLevel],
        results: &[CheckRecord],
        samples: &[SiteSample],
    ) -> Result<(), StoreError> {
        let hosts: Vec<&str> = levels.iter().map(|l| l.host.as_str()).collect();
        let mut stored: HashSet<String> = HashSet::new();
        for chunk in hosts.chunks(ROWS_PER_INSERT) {
            on_pool!(self, pool => {
                let mut select = sqlx::QueryBuilder::new("SELECT host FROM host_levels WHERE run_id = ");
                select.push_bind(run).push(" AND host");
                push_in!(select, chunk);
                stored.extend(select.build_query_scalar::<String>().fetch_all(pool).await?);
            });
        }
        let levels: Vec<HostLevel> = (levels.iter())
            .filter(|l| !stored.contains(&l.host))
            .cloned()
            .collect();
        let results: Vec<CheckRecord> = (results.iter())
            .filter(|r| !stored.contains(&r.host))
            .cloned()
            .collect();
        self.write_hosts(run, &levels, &results, true).await?;
        let mut new_samples = Vec::new();
        for sample in samples {
            let there: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(
                "SELECT id FROM site_samples WHERE run_id = $1 AND site = $2 AND at = $3",
            )
            .bind(run)
            .bind(&sample.site)
            .bind(sample.at)
            .fetch_optional(pool)
            .await?);
            if there.is_none() {
                new_samples.push(sample.clone());
            }
        }
        self.write_samples(run, &new_samples, true).await
    }

    async fn write_hosts(
        &self,
        run: i64,
        levels: &[HostLevel],
        results: &[CheckRecord],
        late: bool,
    ) -> Result<(), StoreError> {
        let graded: HashSet<&str> = levels.iter().map(|l| l.host.as_str()).collect();
        if let Some(stray) = results.iter().find(|r| !graded.contains(r.host.as_str())) {
            return Err(StoreError::Ungraded(stray.host.clone()));
        }
        if levels.is_empty() {
            // Nothing to write, and no reason to queue behind other writers for it.
            return Ok(());
        }
        let found = Found::of(results);
        let hosts: Vec<&str> = graded.into_iter().collect();
        in_running_run!(self, run, late: late, tx, dialect => {
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
            // A host whose newest run found just what this one did needs no comparing:
            // its current versions are this run's findings.
            let mut to_compare = Vec::new();
            for chunk in hosts.chunks(ROWS_PER_INSERT) {
                let mut select =
                    sqlx::QueryBuilder::new("SELECT host, run_id, digest FROM host_latest WHERE host");
                push_in!(select, chunk);
                let newest: HashMap<String, (i64, String)> = select
                        .build()
                        .persistent(false)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .map(|row| Ok((row.try_get("host")?, (row.try_get("run_id")?, row.try_get("digest")?))))
                        .collect::<Result<_, sqlx::Error>>()?;
                to_compare.extend(chunk.iter().copied().filter(|host| {
                    !matches!(newest.get(*host), Some((newest_run, digest))
                        if *newest_run < run && *digest == found.digest(host))
                }));
            }
            let mut known = Vec::new();
            let mut next_graded = HashMap::new();
            for chunk in to_compare.chunks(ROWS_PER_INSERT) {
                // Current versions, then those that ended after this run: two index ranges.
                for current in [true, false] {
                    let mut select = sqlx::QueryBuilder::new(format!(
                        "SELECT {VERSION_COLUMNS} FROM result_versions v WHERE "
                    ));
                    if current {
                        select.push("to_run IS NULL");
                    } else {
                        select.push("to_run > ").push_bind(run);
                    }
                    select.push(" AND host");
                    push_in!(select, chunk);
                    for row in select.build().persistent(false).fetch_all(&mut *tx).await? {
                        let stored = stored_result!(row)?;
                        known.push(Version {
                            id: row.try_get("id")?,
                            span: Span {
                                key: stored.key,
                                finding: stored.finding,
                                position: row.try_get("position")?,
                                from_run: row.try_get("from_run")?,
                                to_run: row.try_get("to_run")?,
                            },
                        });
                    }
                }
                // Runs may write out of order: a later run that already graded a host
                // bounds what this one found.
                let mut later = sqlx::QueryBuilder::new(
                    "SELECT host, MIN(run_id) AS run_id FROM host_levels WHERE run_id > ",
                );
                later.push_bind(run).push(" AND host");
                push_in!(later, chunk);
                later.push(" GROUP BY host");
                for row in later.build().persistent(false).fetch_all(&mut *tx).await? {
                    next_graded.insert(
                        row.try_get::<String, _>("host")?,
                        row.try_get::<i64, _>("run_id")?,
                    );
                }
            }
            let changes = Changes::between(run, &next_graded, known, &found, &to_compare);
            for ids in changes.closed.chunks(ROWS_PER_INSERT) {
                let mut close = sqlx::QueryBuilder::new("UPDATE result_versions SET to_run = ");
                close.push_bind(run).push(" WHERE id");
                push_in!(close, ids);
                close.build().persistent(false).execute(&mut *tx).await?;
            }
            for rows in changes.opened.chunks(ROWS_PER_INSERT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO result_versions
                     (host, check_id, family, address, port, occurrence, status, detail, hint, evidence, position, from_run, to_run) ",
                );
                insert.push_values(rows, |mut row, new| {
                    row.push_bind(&new.key.host)
                        .push_bind(&new.key.check)
                        .push_bind(&new.key.family)
                        .push_bind(&new.key.address)
                        .push_bind(new.key.port)
                        .push_bind(new.key.occurrence)
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
            for rows in hosts.chunks(ROWS_PER_INSERT) {
                let mut upsert = sqlx::QueryBuilder::new(
                    "INSERT INTO host_latest (host, run_id, digest, timings) ",
                );
                upsert.push_values(rows, |mut row, host| {
                    row.push_bind(*host)
                        .push_bind(run)
                        .push_bind(found.digest(host))
                        .push_bind(Json(found.timings(host)));
                });
                // A run that started earlier but writes later does not undo a newer one.
                upsert.push(
                    " ON CONFLICT (host) DO UPDATE SET run_id = excluded.run_id,
                     digest = excluded.digest, timings = excluded.timings
                     WHERE host_latest.run_id <= excluded.run_id",
                );
                upsert.build().persistent(false).execute(&mut *tx).await?;
            }
            work::finish_work(&mut tx, run, &hosts).await?;
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
                "SELECT {VERSION_COLUMNS}
                 FROM host_levels h
                 JOIN result_versions v ON v.host = h.host AND v.from_run <= h.run_id AND {ended}
                 WHERE h.run_id = $1"
            )
        };
        let query = format!(
            "SELECT * FROM ({} UNION ALL {}) valid
             ORDER BY host, position, family, address, port, occurrence, id",
            valid_at("v.to_run IS NULL"),
            valid_at("v.to_run > h.run_id")
        );
        // One snapshot: a run writing meanwhile does not pair its timings with older rows.
        let (rows, timings) = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(query.as_str()))
                .bind(run)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|row| stored_result!(row))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let timings = sqlx::query("SELECT host, timings FROM host_latest WHERE run_id = $1")
                .bind(run)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get::<String, _>("host")?, row.try_get::<Json<Timings>, _>("timings")?.0)))
                .collect::<Result<HashMap<_, _>, sqlx::Error>>()?;
            tx.commit().await?;
            (rows, timings)
        });
        rows.into_iter()
            .map(|stored| {
                let latest = timings.get(&stored.key.host);
                stored.into_record(latest)
            })
            .collect()
    }

    /// What one host's checks found over time, oldest first: each version with the runs it
    /// held for. The current versions carry the latest timings and measurements.
    pub async fn result_history(&self, host: &str) -> Result<Vec<ResultVersion>, StoreError> {
        self.versions(host, true).await
    }

    /// What one host's checks find now, in the order they ran, with the latest timings:
    /// the current versions alone, however long the host's history.
    pub async fn current_results(&self, host: &str) -> Result<Vec<CheckRecord>, StoreError> {
        Ok(self
            .versions(host, false)
            .await?
            .into_iter()
            .map(|version| version.record)
            .collect())
    }

    /// A host's current versions, and its ended ones when `ended`.
    async fn versions(&self, host: &str, ended: bool) -> Result<Vec<ResultVersion>, StoreError> {
        // Current versions and ended ones: the two partial indexes on host; one snapshot.
        let ended = if ended {
            format!(
                "UNION ALL
                 SELECT {VERSION_COLUMNS} FROM result_versions v
                 WHERE v.host = $1 AND v.to_run IS NOT NULL"
            )
        } else {
            String::new()
        };
        let (rows, timings) = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let query = format!(
                "SELECT * FROM (
                     SELECT {VERSION_COLUMNS} FROM result_versions v
                     WHERE v.host = $1 AND v.to_run IS NULL
                     {ended}
                 ) history
                 ORDER BY from_run, position, family, address, port, occurrence, id"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(query.as_str()))
            .bind(host)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|row| Ok((
                row.try_get::<i64, _>("from_run")?,
                row.try_get::<Option<i64>, _>("to_run")?,
                stored_result!(row)?,
            )))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let timings = sqlx::query("SELECT timings FROM host_latest WHERE host = $1")
                .bind(host)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get::<Json<Timings>, _>("timings").map(|t| t.0))
                .transpose()?;
            tx.commit().await?;
            (rows, timings)
        });
        rows.into_iter()
            .map(|(from_run, to_run, stored)| {
                let current = to_run.is_none().then_some(timings.as_ref()).flatten();
                Ok(ResultVersion {
                    from_run,
                    to_run,
                    record: stored.into_record(current)?,
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

/// A host's latest timings: per result key ([`Key::label`]), its duration and measurements.
type Timings = BTreeMap<String, (Option<f64>, BTreeMap<String, f64>)>;

/// [`Timings`] as a batch writes them, borrowing the records' measurements.
type TimingsOf<'a> = BTreeMap<String, (Option<f64>, &'a BTreeMap<String, f64>)>;

/// A batch's results by host, in the order they ran, each with its key, and each host's
/// digest.
struct Found<'a> {
    by_host: HashMap<&'a str, Vec<(Key, &'a CheckRecord)>>,
    digests: HashMap<&'a str, String>,
    /// The digest of a host graded without results.
    nothing: String,
}

impl<'a> Found<'a> {
    fn of(results: &'a [CheckRecord]) -> Self {
        let mut by_host: HashMap<&str, Vec<(Key, &CheckRecord)>> = HashMap::new();
        let mut seen: HashMap<Key, i64> = HashMap::new();
        for record in results {
            // A check may report several results under one key (a zone each, UDP and TCP
            // to one server): the order it reported them in tells them apart.
            let first = Key::of(record);
            let occurrence = seen.entry(first.clone()).or_default();
            let key = Key {
                occurrence: *occurrence,
                ..first
            };
            *occurrence += 1;
            by_host
                .entry(record.host.as_str())
                .or_default()
                .push((key, record));
        }
        let digests = by_host
            .iter()
            .map(|(host, found)| (*host, digest(found)))
            .collect();
        Self {
            by_host,
            digests,
            nothing: digest(&[]),
        }
    }

    fn results(&self, host: &str) -> &[(Key, &'a CheckRecord)] {
        self.by_host.get(host).map_or(&[], Vec::as_slice)
    }

    fn digest(&self, host: &str) -> &str {
        self.digests.get(host).unwrap_or(&self.nothing)
    }

    fn timings(&self, host: &str) -> TimingsOf<'a> {
        self.results(host)
            .iter()
            .map(|(key, record)| (key.label(), (record.duration_ms, &record.measurements)))
            .collect()
    }
}

/// What a host's results found, keys and findings in order, as one number: FNV-1a over
/// the fields' bytes, so that every agent and release computes the same.
fn digest(found: &[(Key, &CheckRecord)]) -> String {
    use std::io::Write;
    /// Feeds what is written straight into the hash: no string per field.
    struct Feed(fnv::FnvHasher);
    impl std::io::Write for Feed {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.write(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Feed {
        fn end_field(&mut self) {
            // A byte no UTF-8 text holds: fields never run into each other.
            self.0.write_u8(0xff);
        }
    }
    let mut feed = Feed(fnv::FnvHasher::default());
    for (key, record) in found {
        // Writing to the hash cannot fail.
        let _ = write!(feed, "{}", Label(key));
        feed.end_field();
        for text in [record.status.as_str(), &record.detail] {
            feed.0.write(text.as_bytes());
            feed.end_field();
        }
        feed.0
            .write(record.hint.as_deref().unwrap_or("\u{0}").as_bytes());
        feed.end_field();
        // Writing to the hash cannot fail, and a Value always serialises.
        let _ = serde_json::to_writer(&mut feed, &record.evidence);
        feed.end_field();
    }
    format!("{:016x}", feed.0.finish())
}

/// What identifies a result across runs: '' and 0 stand for no family, address or port;
/// `occurrence` numbers the results a check reports under one key in a run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    host: String,
    check: String,
    family: String,
    address: String,
    port: i64,
    occurrence: i64,
}

impl Key {
    /// The key of a check's first result under it; [`Found::of`] numbers the rest.
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
            occurrence: 0,
        }
    }

    /// The key within its host, as the host's timings name it.
    fn label(&self) -> String {
        Label(self).to_string()
    }
}

/// A key within its host, `check|family|address|port`, and `|occurrence` past the first:
/// it is written for every result and host each run, so it stays short.
struct Label<'a>(&'a Key);

impl std::fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Key {
            check,
            family,
            address,
            port,
            occurrence,
            ..
        } = self.0;
        write!(f, "{check}|{family}|{address}|{port}")?;
        match occurrence {
            0 => Ok(()),
            _ => write!(f, "|{occurrence}"),
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
    /// Whether `record` found just this, without copying what it found.
    fn is_of(&self, record: &CheckRecord) -> bool {
        self.status == record.status.as_str()
            && self.detail == record.detail
            && self.hint == record.hint
            && self.evidence == record.evidence
    }

    fn of(record: &CheckRecord) -> Self {
        Self {
            status: record.status.as_str().to_owned(),
            detail: record.detail.clone(),
            hint: record.hint.clone(),
            evidence: record.evidence.clone(),
        }
    }
}

/// A result as it holds for the runs from `from_run` up to `to_run`.
struct Span {
    key: Key,
    finding: Finding,
    position: i64,
    from_run: i64,
    to_run: Option<i64>,
}

/// A stored span.
struct Version {
    id: i64,
    span: Span,
}

/// What a batch changes in the versions of its hosts.
#[derive(Default)]
struct Changes {
    /// Versions that end at this run.
    closed: Vec<i64>,
    /// Versions this run found, and the rest of those it ended that a later run still read.
    opened: Vec<Span>,
}

impl Changes {
    /// For the hosts in `compared`: from `known`, every version of theirs that is current
    /// or ended after `run`, and `next_graded`, the first later run to grade each host.
    fn between(
        run: i64,
        next_graded: &HashMap<String, i64>,
        known: Vec<Version>,
        found: &Found,
        compared: &[&str],
    ) -> Self {
        let mut valid: HashMap<Key, Version> = HashMap::new();
        let mut next_from: HashMap<Key, i64> = HashMap::new();
        for version in known {
            let span = &version.span;
            if span.from_run <= run {
                valid.insert(span.key.clone(), version);
            } else {
                let next = next_from.entry(span.key.clone()).or_insert(span.from_run);
                *next = (*next).min(span.from_run);
            }
        }
        let mut changes = Changes::default();
        for host in compared {
            let bound = next_graded.get(*host).copied();
            // A result's place is its check's among the host's checks: one more address
            // or zone moves no other check's results.
            let mut checks: HashMap<&str, i64> = HashMap::new();
            for (key, record) in found.results(host) {
                let next = checks.len() as i64 + 1;
                let position = *checks.entry(key.check.as_str()).or_insert(next);
                let to_run = match valid.remove(key) {
                    // Unchanged, and read back in the same place among its host's results.
                    Some(version)
                        if version.span.finding.is_of(record)
                            && version.span.position == position =>
                    {
                        continue;
                    }
                    Some(version) => {
                        let to_run = earliest(bound, version.span.to_run);
                        changes.end(bound, version);
                        to_run
                    }
                    None => earliest(bound, next_from.get(key).copied()),
                };
                changes.opened.push(Span {
                    key: key.clone(),
                    finding: Finding::of(record),
                    position,
                    from_run: run,
                    to_run,
                });
            }
        }
        // What the hosts no longer show ends here.
        for version in valid.into_values() {
            let bound = next_graded.get(&version.span.key.host).copied();
            changes.end(bound, version);
        }
        changes
    }

    /// Ends `version` at the batch's run; when a later run (`bound`, the next to grade its
    /// host) read it too, that run and those after keep reading it.
    fn end(&mut self, bound: Option<i64>, version: Version) {
        self.closed.push(version.id);
        let end = version.span.to_run;
        if let Some(bound) = bound.filter(|&b| end.is_none_or(|end| b < end)) {
            self.opened.push(Span {
                from_run: bound,
                ..version.span
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
}

impl StoredResult {
    /// The record, with its timings and measurements when `timings` (its host's latest)
    /// holds them.
    fn into_record(self, timings: Option<&Timings>) -> Result<CheckRecord, StoreError> {
        let (duration_ms, measurements) = timings
            .and_then(|t| t.get(&self.key.label()))
            .cloned()
            .unwrap_or_default();
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
            ..
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
            duration_ms,
            detail: self.finding.detail,
            hint: self.finding.hint,
            evidence: self.finding.evidence,
            measurements,
        })
    }
}

/// Versions thinned per statement by [`Store::apply_retention`].
const THIN_PER_STATEMENT: i64 = 10_000;

/// What [`Store::apply_retention`] thinned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Thinned {
    /// Superseded result versions whose evidence was forgotten.
    pub versions: u64,
    /// Site samples deleted, their hours summed up in `site_hours`.
    pub samples: u64,
    /// `site_hours` rows written: one per site and hour.
    pub hours: u64,
}

impl Store {
    /// Forgets the evidence of results superseded before `retention` ago, and sums up site
    /// samples older than that by the hour; statuses, details, levels and states stay.
    pub async fn apply_retention(
        &self,
        retention: std::time::Duration,
    ) -> Result<Thinned, StoreError> {
        let Some(cutoff) = chrono::Duration::from_std(retention)
            .ok()
            .and_then(|keep| Utc::now().checked_sub_signed(keep))
        else {
            return Ok(Thinned::default());
        };
        Ok(Thinned {
            versions: self.thin_versions(cutoff).await?,
            ..self.thin_samples(cutoff).await?
        })
    }

    /// Forgets the evidence of versions superseded by runs that started before `cutoff`.
    async fn thin_versions(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        on_pool!(self, pool => {
            // Run ids grow with their start: the newest run that started before the cutoff.
            let last_old_run: Option<i64> =
                sqlx::query_scalar("SELECT MAX(id) FROM scan_runs WHERE started_at < $1")
                    .bind(cutoff)
                    .fetch_one(pool)
                    .await?;
            let Some(last_old_run) = last_old_run else {
                return Ok(0);
            };
            // In bounded statements: the first pass over a large store (after an upgrade, or
            // a retention made shorter) must not hold the write lock past other writers'
            // busy timeout.
            let mut thinned = 0;
            loop {
                let batch = sqlx::query(
                    "UPDATE result_versions SET evidence = 'null'
                     WHERE id IN (SELECT id FROM result_versions
                                  WHERE to_run IS NOT NULL AND to_run <= $1 AND evidence <> 'null'
                                  LIMIT $2)",
                )
                .bind(last_old_run)
                .bind(THIN_PER_STATEMENT)
                .execute(pool)
                .await?
                .rows_affected();
                thinned += batch;
                if batch < THIN_PER_STATEMENT as u64 {
                    return Ok(thinned);
                }
            }
        })
    }
}
