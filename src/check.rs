//! `sixfive check`: scans the selected hosts, stores the run, prints the chosen format and
//! exits with the CI contract's code (readiness.md).

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use sixfive_checks::{HostReport, Scanner};
use sixfive_inventory::Place;
use sixfive_inventory::model::{Host, Level};
use sixfive_inventory::results::Status;
use sixfive_inventory::store::RunKind;

use crate::Failure;
use crate::cli::{CheckArgs, CheckFormat, Global};
use crate::inventory::{
    block_on, close_run, inventory_path, load, load_options, open_store, profiles, who,
};
use crate::table::Table;

/// Results are written to the store in batches of this many hosts.
const BATCH: usize = 100;

pub fn run(args: CheckArgs, global: &Global, color: bool) -> Result<u8, Failure> {
    let path = inventory_path(None, global)?;
    let options = load_options(false, &profiles(global)?);
    let loaded = load(&path, &options)?;
    let places = loaded.host_places;
    let inventory = loaded.inventory;
    let require = args.require.unwrap_or(inventory.scan.require);
    let hosts: Vec<Host> = inventory
        .hosts
        .iter()
        .filter(|h| args.agency.is_empty() || args.agency.contains(&h.agency))
        .filter(|h| args.tag.is_empty() || h.tags.iter().any(|t| args.tag.contains(t)))
        .filter(|h| {
            args.host.is_empty() || args.host.iter().any(|f| f.eq_ignore_ascii_case(&h.fqdn))
        })
        .cloned()
        .collect();
    let scanner = Arc::new(Scanner::new(&inventory.scan).map_err(Failure::Scanner)?);
    let format = args.format.unwrap_or_else(default_format);
    block_on(async {
        let store = Arc::new(open_store(global).await?);
        let hosts = match &args.changed_since {
            Some(since) => changed_since(&store, &path, since, hosts, &options).await?,
            None => hosts,
        };
        if hosts.is_empty() {
            return Err(Failure::Usage("no host matches the selection".into()));
        }
        let previous: HashMap<String, Level> =
            match store.latest_complete_run(RunKind::Hosts).await? {
                Some(run) => store
                    .levels(run.id)
                    .await?
                    .into_iter()
                    .map(|l| (l.host, l.level))
                    .collect(),
                None => HashMap::new(),
            };
        let run = store
            .begin_run(&format!("check@{}", who()), RunKind::Hosts)
            .await?;
        let started = Utc::now();
        let progress = progress_bar(hosts.len(), "hosts");

        // The store writes in its own task, so scanning never waits for it.
        let (batches, mut inbox) = tokio::sync::mpsc::channel::<Batch>(4);
        let writer = tokio::spawn({
            let store = Arc::clone(&store);
            async move {
                while let Some(batch) = inbox.recv().await {
                    store.record_results(run, &batch.records).await?;
                    store.record_levels(run, &batch.levels).await?;
                }
                Ok::<(), sixfive_inventory::StoreError>(())
            }
        });
        let mut kept = Kept::default();
        let mut batch = Batch::default();
        let mut stream = std::pin::pin!(scanner.scan_all(hosts, Arc::new(previous)));
        let interrupted = loop {
            tokio::select! {
                next = stream.next() => match next {
                    Some(report) => {
                        progress.inc(1);
                        kept.keep(report, format, &mut batch);
                        if batch.levels.len() >= BATCH && batches.send(std::mem::take(&mut batch)).await.is_err() {
                            break false;
                        }
                    }
                    None => break false,
                },
                _ = tokio::signal::ctrl_c() => break true,
            }
        };
        let _ = batches.send(batch).await;
        drop(batches);
        writer.await.expect("the store writer never panics")?;
        progress.finish_and_clear();
        close_run(&store, run, interrupted).await?;
        let finished = Utc::now();
        let summary = Summary::of(&kept.levels, require, &scanner);
        let mut reports = kept.reports;
        reports.sort_by(|a, b| a.host.fqdn.cmp(&b.host.fqdn));
        let mut out = std::io::stdout().lock();
        match format {
            CheckFormat::Json => {
                let mut hosts = kept.json_hosts;
                hosts.sort();
                write_json(&mut out, &hosts, &summary, &scanner, started, finished)?;
            }
            CheckFormat::Junit => write!(out, "{}", junit(&reports, require))?,
            CheckFormat::Sarif => {
                let document = sarif(&reports, &places);
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&document).expect("JSON values serialise")
                )?;
            }
            CheckFormat::Github => {
                for finding in findings(&reports, &places) {
                    let kind = if finding.record.status == Status::Fail {
                        "error"
                    } else {
                        "warning"
                    };
                    let place = finding.place.map_or_else(String::new, |p| {
                        format!(
                            " file={},line={},col={}",
                            p.file.display(),
                            p.line,
                            p.column
                        )
                    });
                    writeln!(
                        out,
                        "::{kind}{place},title={} {}::{}",
                        finding.record.host,
                        finding.record.check,
                        annotation_text(&finding.message())
                    )?;
                }
            }
            CheckFormat::Table => table(&reports, require)
                .write(&mut out, color && std::io::stdout().is_terminal())?,
        }
        Ok(summary.exit_code())
    })
}

/// The hosts among `hosts` added or changed since `since`: a date, judged by the store's
/// import history, or a git revision, judged by the inventory file as it was then.
async fn changed_since(
    store: &sixfive_inventory::Store,
    path: &std::path::Path,
    since: &str,
    hosts: Vec<Host>,
    options: &sixfive_inventory::LoadOptions,
) -> Result<Vec<Host>, Failure> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d") {
        let start = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        let changed: std::collections::HashSet<String> = store
            .history(None)
            .await?
            .into_iter()
            .filter(|c| {
                c.kind == sixfive_inventory::store::Kind::Host
                    && c.at >= start
                    && c.change != "removed"
            })
            .map(|c| c.key)
            .collect();
        return Ok(hosts
            .into_iter()
            .filter(|h| changed.contains(&h.fqdn))
            .collect());
    }
    let before = sixfive_inventory::load_at_revision(path, since, options)
        .map_err(|why| Failure::Usage(format!("--changed-since {since}: {why}")))?
        .inventory;
    let old: HashMap<&str, &Host> = before.hosts.iter().map(|h| (h.fqdn.as_str(), h)).collect();
    Ok(hosts
        .into_iter()
        .filter(|h| old.get(h.fqdn.as_str()).is_none_or(|was| *was != h))
        .collect())
}

fn default_format() -> CheckFormat {
    if std::io::stdout().is_terminal() {
        CheckFormat::Table
    } else {
        CheckFormat::Json
    }
}

/// Results on their way to the store.
#[derive(Default)]
struct Batch {
    records: Vec<sixfive_inventory::results::CheckRecord>,
    levels: Vec<sixfive_inventory::results::HostLevel>,
}

/// What the chosen output needs of each report, kept small: for JSON the host's finished
/// JSON text, for the other formats the report without its evidence.
#[derive(Default)]
struct Kept {
    levels: Vec<sixfive_inventory::results::HostLevel>,
    json_hosts: Vec<(String, String)>,
    reports: Vec<HostReport>,
}

impl Kept {
    fn keep(&mut self, mut report: HostReport, format: CheckFormat, batch: &mut Batch) {
        self.levels.push(report.level.clone());
        batch.levels.push(report.level.clone());
        if format == CheckFormat::Json {
            let text = serde_json::to_string(&host_json(&report)).expect("JSON values serialise");
            self.json_hosts.push((report.host.fqdn.clone(), text));
            batch.records.append(&mut report.records);
        } else {
            batch.records.extend(report.records.iter().cloned());
            for record in &mut report.records {
                record.evidence = Value::Null;
            }
            self.reports.push(report);
        }
    }
}

/// A progress bar on stderr when it is a terminal, counting `noun`.
pub fn progress_bar(total: usize, noun: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {{pos}}/{{len}} {noun} {{wide_bar}} {{eta}}"
        ))
        .expect("the template is valid"),
    );
    bar
}

struct Summary {
    require: Level,
    hosts: usize,
    by_level: BTreeMap<Level, usize>,
    ready: usize,
    broken: usize,
    inconclusive: bool,
}

impl Summary {
    fn of(
        levels: &[sixfive_inventory::results::HostLevel],
        require: Level,
        scanner: &Scanner,
    ) -> Self {
        let mut by_level = BTreeMap::new();
        for level in levels {
            *by_level.entry(level.level).or_insert(0) += 1;
        }
        Self {
            require,
            hosts: levels.len(),
            ready: levels.iter().filter(|l| l.level >= require).count(),
            broken: by_level.get(&Level::Broken).copied().unwrap_or(0),
            inconclusive: !matches!(scanner.own_v6(), sixfive_checks::network::OwnV6::Ready)
                || levels.iter().any(|l| l.inconclusive && l.level < require),
            by_level,
        }
    }

    /// 2 broken or regressed, 3 inconclusive, 1 below the required level, 0 all ready.
    fn exit_code(&self) -> u8 {
        if self.broken > 0 {
            2
        } else if self.inconclusive {
            3
        } else if self.ready < self.hosts {
            1
        } else {
            0
        }
    }
}

fn host_json(r: &HostReport) -> Value {
    let checks: Vec<Value> = r
        .records
        .iter()
        .map(|c| {
            json!({"id": c.check, "status": c.status, "family": c.family, "address": c.address,
                   "port": c.port, "duration_ms": c.duration_ms, "detail": c.detail,
                   "hint": c.hint, "evidence": c.evidence})
        })
        .collect();
    json!({"fqdn": r.host.fqdn, "agency": r.host.agency, "level": r.level.level,
           "score": r.level.score, "internet_nl": r.level.internet_nl, "regressed": r.level.regressed,
           "inconclusive": r.level.inconclusive, "checks": checks})
}

/// The `sixfive.check/v1` document, one host per line so that a large city streams out
/// without building the whole document in memory.
fn write_json(
    out: &mut impl Write,
    hosts: &[(String, String)],
    summary: &Summary,
    scanner: &Scanner,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> std::io::Result<()> {
    let by_level: BTreeMap<&str, usize> = summary
        .by_level
        .iter()
        .map(|(l, n)| (l.as_str(), *n))
        .collect();
    let head = json!({
        "schema": "sixfive.check/v1",
        "started": started.to_rfc3339(),
        "finished": finished.to_rfc3339(),
        "require": summary.require,
        "scanner": {"ipv6": scanner.own_v6()},
        "summary": {"hosts": summary.hosts, "ready": summary.ready, "broken": summary.broken, "by_level": by_level},
    });
    let head = serde_json::to_string(&head).expect("JSON values serialise");
    let open = head.strip_suffix('}').expect("a JSON object ends with }");
    writeln!(out, "{open},")?;
    writeln!(out, "\"hosts\": [")?;
    for (i, (_, host)) in hosts.iter().enumerate() {
        let comma = if i + 1 < hosts.len() { "," } else { "" };
        writeln!(out, "{host}{comma}")?;
    }
    writeln!(out, "]}}")
}

/// One test case per host and check; a check whose worst entry fails is a failure.
fn junit(reports: &[HostReport], require: Level) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("sixfive check");
    for r in reports {
        let mut suite = TestSuite::new(format!("{} ({})", r.host.fqdn, r.level.level));
        suite.add_property(quick_junit::Property::new("agency", r.host.agency.as_str()));
        suite.add_property(quick_junit::Property::new("require", require.as_str()));
        let mut by_check: BTreeMap<&str, Vec<&sixfive_inventory::results::CheckRecord>> =
            BTreeMap::new();
        for record in &r.records {
            by_check
                .entry(record.check.as_str())
                .or_default()
                .push(record);
        }
        for (id, records) in by_check {
            let worst = records
                .iter()
                .map(|c| c.status)
                .max()
                .unwrap_or(Status::Pass);
            let details: Vec<String> = records
                .iter()
                .map(|c| match (&c.address, &c.hint) {
                    (Some(a), Some(h)) => format!("{} {a}: {} (hint: {h})", c.status, c.detail),
                    (Some(a), None) => format!("{} {a}: {}", c.status, c.detail),
                    (None, Some(h)) => format!("{}: {} (hint: {h})", c.status, c.detail),
                    (None, None) => format!("{}: {}", c.status, c.detail),
                })
                .collect();
            let status = match worst {
                Status::Pass | Status::Warn => TestCaseStatus::success(),
                Status::Skip => TestCaseStatus::skipped(),
                Status::Fail => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(details.join("; "));
                    status
                }
                Status::Error => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status.set_message(details.join("; "));
                    status
                }
            };
            let mut case = TestCase::new(format!("{} {id}", r.host.fqdn), status);
            case.set_classname(r.host.agency.as_str());
            case.set_system_out(details.join("\n"));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("a JUnit report serialises")
}

fn table(reports: &[HostReport], require: Level) -> Table {
    let mut table = Table::new(["FQDN", "AGENCY", "LEVEL", "SCORE", "READY", "FAILING"]);
    for r in reports {
        let mut failing: Vec<&str> = r
            .records
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Error))
            .map(|c| c.check.as_str())
            .collect();
        failing.dedup();
        table.row([
            r.host.fqdn.clone(),
            r.host.agency.clone(),
            r.level.level.to_string()
                + if r.level.regressed {
                    " (regressed)"
                } else {
                    ""
                },
            r.level.score.to_string(),
            if r.level.level >= require {
                "yes"
            } else {
                "no"
            }
            .into(),
            failing.join(","),
        ]);
    }
    table
}

/// A non-passing result and where its host is written in the inventory.
struct Finding<'a> {
    record: &'a sixfive_inventory::results::CheckRecord,
    place: Option<&'a Place>,
}

impl Finding<'_> {
    fn message(&self) -> String {
        let r = self.record;
        let at = r.address.map_or_else(String::new, |a| match r.port {
            Some(port) => format!(" [{a}]:{port}"),
            None => format!(" {a}"),
        });
        let hint = r
            .hint
            .as_deref()
            .map_or_else(String::new, |h| format!(" Hint: {h}"));
        format!("{} {}{at}: {}.{hint}", r.host, r.check, r.detail)
    }
}

/// Failures and warnings, the results CI should surface.
fn findings<'a>(
    reports: &'a [HostReport],
    places: &'a BTreeMap<String, Place>,
) -> Vec<Finding<'a>> {
    reports
        .iter()
        .flat_map(|r| r.records.iter())
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
        .map(|record| Finding {
            record,
            place: places.get(&record.host),
        })
        .collect()
}

/// GitHub's workflow commands end at a line break and treat `%` specially.
fn annotation_text(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// SARIF 2.1.0, written directly: the handful of fields code-scanning tools read.
fn sarif(reports: &[HostReport], places: &BTreeMap<String, Place>) -> Value {
    let findings = findings(reports, places);
    let mut rules: Vec<&str> = findings.iter().map(|f| f.record.check.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let locations: Vec<Value> = f
                .place
                .map(|p| {
                    json!({"physicalLocation": {
                        "artifactLocation": {"uri": p.file.display().to_string()},
                        "region": {"startLine": p.line, "startColumn": p.column}}})
                })
                .into_iter()
                .collect();
            json!({
                "ruleId": f.record.check,
                "level": if f.record.status == Status::Fail { "error" } else { "warning" },
                "message": {"text": f.message()},
                "locations": locations,
                "properties": {"host": f.record.host, "address": f.record.address, "port": f.record.port},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sixfive",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|id| json!({"id": id, "shortDescription": {"text": id}})).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
