//! What a managers' report reads: the inventory, every host's grade with the checks it
//! failed (and what each found, so fixes can be grouped), every site's latest poll, and
//! the trend of level counts, as the store stood at a moment (`sixfive report --at`) or now.
//! Reports are computed from this alone, never by scanning.

use serde_json::value::RawValue;

use super::board::{edited, id_list};
use super::*;
use crate::model::{Agency, Host, Site};
use crate::results::SiteReport;

/// The store as a report reads it at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSnapshot {
    /// The moment it stands at: the time asked for, or when it was read.
    pub at: DateTime<Utc>,
    /// Agencies in the inventory at `at`, in id order.
    pub agencies: Vec<Agency>,
    /// Hosts in the inventory at `at`, in fqdn order.
    pub hosts: Vec<ReportHost>,
    /// Sites in the inventory at `at`, in id order.
    pub sites: Vec<ReportSite>,
    /// The level counts ([`RunLevels`]) of the last complete run that graded hosts on each
    /// UTC day up to `at`, oldest first, over the store's whole history.
    pub trend: Vec<RunLevels>,
}

/// A host as it stood: its inventory entry (with the hand edits made by then over it), its
/// grade in the newest complete run finished by then that graded it conclusively, and the
/// checks that failed in that run.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportHost {
    pub host: Host,
    pub grade: Option<Grade>,
    /// In check id order; several for one check when it failed (or warned, or could not
    /// decide) on several addresses.
    pub failing: Vec<Failure>,
}

/// One failed, warned or undecided (`error`) result, which may hold a level back: what a
/// report groups blockers and fixes by.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub check: String,
    /// `fail`, `warn` or `error`.
    pub status: crate::results::Status,
    pub detail: String,
    pub evidence: serde_json::Value,
}

/// A site as it stood, with its newest poll by then.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSite {
    pub site: Site,
    pub latest: Option<SiteReport>,
}

/// Agencies, hosts (hand edits over them) and sites.
type Entries = (Vec<Agency>, Vec<Host>, Vec<Site>);

/// A host's grade and its failed results, by host.
type Grades = HashMap<String, (Grade, Vec<Failure>)>;

impl Store {
    /// The store as it stood at `at` (None: now):
    /// - the inventory as the imports made by then left it, each host with the hand edits
    ///   (stage, owner) made by then over it, unless an import since changed that field in
    ///   the file;
    /// - each host's grade in the newest complete run finished by then that graded it
    ///   conclusively, and the results that failed in that run, in check id order (a
    ///   check's several results as a run reads them back);
    /// - each site's newest poll taken by then;
    /// - the level counts of the last complete run that graded hosts on each UTC day up to
    ///   then, over the whole history.
    ///
    /// Now reads what the board does: the current entries and grades, which also hold the
    /// grades an agent's cut-short run made current for the hosts it finished; the store
    /// does not keep which those were, so a moment in the past counts complete runs only.
    /// A moment in the past reads the whole history once, never host by host.
    pub async fn report_snapshot(
        &self,
        at: Option<DateTime<Utc>>,
    ) -> Result<ReportSnapshot, StoreError> {
        let moment = at.unwrap_or_else(Utc::now);
        // At once, each on a connection of its own, as the board reads.
        let ((mut agencies, mut hosts, mut sites), mut grades, mut latest, trend) = tokio::try_join!(
            self.entries_at(at),
            self.grades_at(at),
            self.polls_at(at),
            async {
                let runs = self.trend_runs(true, i64::MAX, at).await?;
                self.run_levels(&runs).await
            },
        )?;
        // In Rust's order: PostgreSQL's collation may order keys otherwise.
        agencies.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        hosts.sort_unstable_by(|a, b| a.fqdn.cmp(&b.fqdn));
        sites.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Ok(ReportSnapshot {
            at: moment,
            agencies,
            hosts: hosts
                .into_iter()
                .map(|host| {
                    let (grade, failing) = grades
                        .remove(&host.fqdn)
                        .map_or((None, Vec::new()), |(grade, failing)| {
                            (Some(grade), failing)
                        });
                    ReportHost {
                        host,
                        grade,
                        failing,
                    }
                })
                .collect(),
            sites: sites
                .into_iter()
                .map(|site| ReportSite {
                    latest: latest.remove(&site.id),
                    site,
                })
                .collect(),
            trend,
        })
    }

    /// How many hosts each agency had in the inventory at `at`, by the imports made by
    /// then: what a share ready then is of, as today's is of today's hosts.
    pub async fn hosts_per_agency_at(
        &self,
        at: DateTime<Utc>,
    ) -> Result<BTreeMap<String, usize>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Owner {
            agency: String,
        }
        let docs = on_pool!(self, pool => sqlx::query_scalar::<_, Json<Owner>>(
            "SELECT after FROM entity_history
             WHERE id IN (SELECT MAX(h.id) FROM entity_history h
                          JOIN imports i ON i.id = h.import_id
                          WHERE i.at <= $1 AND h.kind = 'host' GROUP BY h.key)
             AND change <> 'removed'",
        )
        .bind(at)
        .fetch_all(pool)
        .await?);
        let mut hosts: BTreeMap<String, usize> = BTreeMap::new();
        for doc in docs {
            *hosts.entry(doc.0.agency).or_default() += 1;
        }
        Ok(hosts)
    }

    /// The inventory at `at`: each entry's newest change by then, unless it removed it;
    /// now, the entries not removed.
    async fn entries_at(&self, at: Option<DateTime<Utc>>) -> Result<Entries, StoreError> {
        let Some(at) = at else {
            let (agencies, hosts, sites) =
                tokio::try_join!(self.agencies(false), self.hosts(false), self.sites(false))?;
            let hosts = hosts
                .into_iter()
                .map(|stored| with_edits(stored.entry, &stored.annotations))
                .collect();
            return Ok((
                agencies.into_iter().map(|a| a.entry).collect(),
                hosts,
                sites.into_iter().map(|s| s.entry).collect(),
            ));
        };
        let (rows, mut edits) = tokio::try_join!(
            async {
                Ok::<_, StoreError>(on_pool!(self, pool => sqlx::query(
                    "SELECT kind, key, after FROM entity_history
                     WHERE id IN (SELECT MAX(h.id) FROM entity_history h
                                  JOIN imports i ON i.id = h.import_id
                                  WHERE i.at <= $1 GROUP BY h.kind, h.key)
                     AND change <> 'removed'",
                )
                .bind(at)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| Ok((
                    row.try_get::<String, _>("kind")?,
                    row.try_get::<String, _>("key")?,
                    row.try_get::<Json<Box<RawValue>>, _>("after")?.0,
                )))
                .collect::<Result<Vec<_>, sqlx::Error>>()?))
            },
            self.host_edits_at(at),
        )?;
        let (mut agencies, mut hosts, mut sites) = (Vec::new(), Vec::new(), Vec::new());
        for (kind, key, doc) in rows {
            let kind: Kind = stored(&kind, "entity kind")?;
            let corrupt = |e: serde_json::Error| StoreError::Corrupt {
                kind: kind.as_str(),
                reason: format!("{key}: {e}"),
            };
            // Straight from the text, not through a Value, as the current entries are read.
            match kind {
                Kind::Agency => agencies.push(serde_json::from_str(doc.get()).map_err(corrupt)?),
                Kind::Host => {
                    let host: Host = serde_json::from_str(doc.get()).map_err(corrupt)?;
                    let edits = edits.remove(&host.fqdn).unwrap_or_default();
                    hosts.push(with_edits(host, &edits));
                }
                Kind::Site => sites.push(serde_json::from_str(doc.get()).map_err(corrupt)?),
            }
        }
        Ok((agencies, hosts, sites))
    }

    /// The hosts' hand edits of stage and owner as they stood at `at`: each field's newest
    /// entry in the audit log by then, unless it cleared the field or an import wrote it
    /// (dropping the edit for the file's changed value, at the import's own time).
    async fn host_edits_at(
        &self,
        at: DateTime<Utc>,
    ) -> Result<HashMap<String, BTreeMap<String, String>>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT a.key, a.field, a.new_value FROM audit_log a
             WHERE a.id IN (SELECT MAX(id) FROM audit_log
                            WHERE kind = 'host' AND field IN ('stage', 'owner') AND at <= $1
                            GROUP BY key, field)
             AND a.new_value IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM entity_history h JOIN imports i ON i.id = h.import_id
                             WHERE h.kind = a.kind AND h.key = a.key AND i.at = a.at)",
        )
        .bind(at)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("key")?,
            row.try_get::<String, _>("field")?,
            row.try_get::<String, _>("new_value")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut edits: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        for (key, field, value) in rows {
            edits.entry(key).or_default().insert(field, value);
        }
        Ok(edits)
    }

    /// Each graded host's grade at `at` and the results that failed in its run; now, the
    /// current grades. One statement hands over both as JSON arrays (a big city's rows cost
    /// sqlx's SQLite driver far more one by one); a result's versions valid at the run are
    /// read as two index ranges, current and ended after it.
    async fn grades_at(&self, at: Option<DateTime<Utc>>) -> Result<Grades, StoreError> {
        /// host, level, score, regressed (0 or 1), run.
        type GradeRow = (String, String, i64, i64, i64);
        /// host, check, family, address, port, occurrence, detail, evidence.
        type FailureRow = (
            String,
            String,
            String,
            String,
            i64,
            i64,
            String,
            String,
            Value,
        );
        let graded = match at {
            None => "SELECT host, run_id FROM host_current",
            // `+` keeps SQLite off the grades' (run, host) key: through it each row is
            // looked up at random, several times slower than reading the table in order.
            Some(_) => {
                "SELECT l.host, MAX(l.run_id) AS run_id FROM host_levels l
                 JOIN scan_runs r ON r.id = +l.run_id
                 WHERE r.status = 'complete' AND r.finished_at <= $1 AND NOT l.inconclusive
                 GROUP BY l.host"
            }
        };
        let (grades, mut failures) = on_pool!(self, pool, dialect => {
            let failed = |ended: &str| format!(
                "SELECT v.host, v.check_id, v.family, v.address, v.port, v.occurrence, v.status,
                        v.detail, v.evidence
                 FROM g JOIN result_versions v ON v.host = g.host AND {ended}
                     AND v.from_run <= g.run_id AND v.status IN ('fail', 'warn', 'error')"
            );
            let query = format!(
                "WITH g AS ({graded})
                 SELECT
                     (SELECT {agg}({array}(g.host, l.level, l.score,
                                           CASE WHEN l.regressed THEN 1 ELSE 0 END, g.run_id))
                      FROM g JOIN host_levels l ON l.run_id = g.run_id AND l.host = g.host)
                         AS grades,
                     (SELECT {agg}({array}(v.host, v.check_id, v.family, v.address, v.port,
                                           v.occurrence, v.status, v.detail, {evidence}))
                      FROM ({current} UNION ALL {ended}) v) AS failures",
                agg = dialect.json_agg,
                array = dialect.json_array,
                evidence = (dialect.json_value)("v.evidence"),
                current = failed("v.to_run IS NULL"),
                ended = failed("v.to_run > g.run_id"),
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(query));
            let row = match at {
                Some(at) => row.bind(at),
                None => row,
            };
            let row = row.fetch_one(pool).await?;
            // No rows aggregate to NULL on PostgreSQL.
            (
                row.try_get::<Option<Json<Vec<GradeRow>>>, _>("grades")?.map_or_else(Vec::new, |j| j.0),
                row.try_get::<Option<Json<Vec<FailureRow>>>, _>("failures")?.map_or_else(Vec::new, |j| j.0),
            )
        });
        let runs: HashSet<i64> = grades.iter().map(|row| row.4).collect();
        let finished = self.finished(&runs).await?;
        let mut out: Grades = grades
            .into_iter()
            .map(|(host, level, score, regressed, run)| {
                let grade = Grade {
                    level: stored(&level, "host level")?,
                    score: percent(score)?,
                    regressed: regressed != 0,
                    run,
                    at: finished.get(&run).copied().flatten(),
                };
                Ok((host, (grade, Vec::new())))
            })
            .collect::<Result<_, StoreError>>()?;
        failures.sort_unstable_by(|a, b| {
            (&a.0, &a.1, &a.2, &a.3, a.4, a.5).cmp(&(&b.0, &b.1, &b.2, &b.3, b.4, b.5))
        });
        for (host, check, _, _, _, _, status, detail, evidence) in failures {
            if let Some((_, failing)) = out.get_mut(&host) {
                failing.push(Failure {
                    check,
                    status: stored(&status, "result status")?,
                    detail,
                    evidence,
                });
            }
        }
        Ok(out)
    }

    /// When each of `runs` finished.
    async fn finished(
        &self,
        runs: &HashSet<i64>,
    ) -> Result<HashMap<i64, Option<DateTime<Utc>>>, StoreError> {
        let query = format!(
            "SELECT id, finished_at FROM scan_runs WHERE id IN ({})",
            id_list(runs)
        );
        Ok(
            on_pool!(self, pool => sqlx::query(sqlx::AssertSqlSafe(query))
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| Ok((
                row.try_get::<i64, _>("id")?,
                row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
            )))
            .collect::<Result<HashMap<_, _>, sqlx::Error>>()?),
        )
    }

    /// Each site's newest poll taken by `at` (None: any time), by site.
    async fn polls_at(
        &self,
        at: Option<DateTime<Utc>>,
    ) -> Result<HashMap<String, SiteReport>, StoreError> {
        let mut latest = HashMap::new();
        for sample in self.latest_samples_at(None, at).await? {
            if let Some(report) = SiteReport::from_sample(&sample) {
                latest.insert(sample.site, report);
            }
        }
        Ok(latest)
    }
}

/// `host` with its hand edits of stage and owner over what its document says.
fn with_edits(mut host: Host, edits: &BTreeMap<String, String>) -> Host {
    (host.stage, host.owner) = edited(edits, Some(host.stage), host.owner.take());
    host
}
