//! `sixfive check`: scans the selected hosts, stores the run, prints the chosen format and
//! exits with the CI contract's code (readiness.md).

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sixfive_checks::network::OwnV6;
use sixfive_checks::poller::PINGS;
use sixfive_checks::{Engine, RunRequest};
use sixfive_inventory::Place;
use sixfive_inventory::model::{Host, Level};
use sixfive_inventory::results::Status;
use sixfive_inventory::run::{Finished, HostReport};
use sixfive_report::document::Ipv6State;
use sixfive_report::{CheckHead, CheckSummary, HostEntry, ScannerInfo};

use crate::Failure;
use crate::cli::{CheckArgs, CheckFormat, Global, HostSelection};
use crate::inventory::{block_on, inventory_path, load, load_options, open_store, profiles, who};
use crate::table::Table;

pub fn run(args: CheckArgs, global: &Global, color: bool) -> Result<u8, Failure> {
    let path = inventory_path(None, global)?;
    let profiles = profiles(global)?;
    let options = load_options(false, &profiles);
    let loaded = load(&path, &options)?;
    let places = loaded.host_places;
    let inventory = loaded.inventory;
    let require = args.require.unwrap_or(inventory.scan.require);
    let hosts = select_hosts(&inventory, &args.select);
    let format = args.format.unwrap_or_else(default_format);
    let inventory = Arc::new(inventory);
    block_on(async {
        let store = Arc::new(open_store(global).await?);
        let hosts = match &args.changed_since {
            Some(since) => {
                // The import history must hold this inventory before it can say what changed.
                store
                    .import(&inventory, &path.display().to_string(), &who())
                    .await?;
                changed_since(&store, &path, since, hosts, &options).await?
            }
            None => hosts,
        };
        if hosts.is_empty() {
            return Err(Failure::Usage("no host matches the selection".into()));
        }
        let engine = Engine::new(&inventory.scan, profiles, PINGS, Arc::clone(&store))
            .map_err(Failure::Scanner)?;
        let started = Utc::now();
        let request = RunRequest {
            hosts,
            sites: Vec::new(),
            owner: format!("check@{}", who()),
            source: path.display().to_string(),
        };
        let mut kept = Kept::default();
        crate::run::drive(&engine, Arc::clone(&inventory), request, |finished| {
            if let Finished::Host(report) = finished {
                kept.keep(*report, format);
            }
        })
        .await?;
        store.close().await;
        let finished = Utc::now();
        let summary = Summary::of(&kept.levels, require, engine.own_v6());
        let mut reports = kept.reports;
        reports.sort_by(|a, b| a.host.fqdn.cmp(&b.host.fqdn));
        let mut out = std::io::stdout().lock();
        match format {
            CheckFormat::Json => {
                let mut hosts = kept.json_hosts;
                hosts.sort();
                write_json(&mut out, &hosts, &summary, &engine, started, finished)?;
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

/// The inventory's hosts that `select` names.
pub fn select_hosts(inventory: &sixfive_inventory::Inventory, select: &HostSelection) -> Vec<Host> {
    let HostSelection { agency, tag, host } = select;
    inventory
        .hosts
        .iter()
        .filter(|h| agency.is_empty() || agency.contains(&h.agency))
        .filter(|h| tag.is_empty() || h.tags.iter().any(|t| tag.contains(t)))
        .filter(|h| host.is_empty() || host.iter().any(|f| f.eq_ignore_ascii_case(&h.fqdn)))
        .cloned()
        .collect()
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

/// What the chosen output needs of each report, kept small: for JSON the host's finished
/// JSON text, for the other formats the report without its evidence.
#[derive(Default)]
struct Kept {
    levels: Vec<sixfive_inventory::results::HostLevel>,
    json_hosts: Vec<(String, String)>,
    reports: Vec<HostReport>,
}

impl Kept {
    fn keep(&mut self, mut report: HostReport, format: CheckFormat) {
        self.levels.push(report.level.clone());
        if format == CheckFormat::Json {
            let text =
                serde_json::to_string(&HostEntry::from(&report)).expect("the document serialises");
            self.json_hosts.push((report.host.fqdn.clone(), text));
        } else {
            for record in &mut report.records {
                record.evidence = Value::Null;
            }
            self.reports.push(report);
        }
    }
}

pub struct Summary {
    pub require: Level,
    pub hosts: usize,
    pub by_level: BTreeMap<Level, usize>,
    pub ready: usize,
    pub broken: usize,
    inconclusive: bool,
}

impl Summary {
    pub fn of(
        levels: &[sixfive_inventory::results::HostLevel],
        require: Level,
        own_v6: &OwnV6,
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
            // Without hosts, the scanner's own IPv6 decides nothing.
            inconclusive: (!levels.is_empty() && !matches!(own_v6, OwnV6::Ready))
                || levels.iter().any(|l| l.inconclusive && l.level < require),
            by_level,
        }
    }

    /// The summary as `sixfive.check/v1` and `sixfive.scan/v1` write it.
    pub fn document(&self) -> CheckSummary {
        CheckSummary {
            hosts: self.hosts,
            ready: self.ready,
            broken: self.broken,
            by_level: self.by_level.clone(),
        }
    }

    /// 2 broken or regressed, 3 inconclusive, 1 below the required level, 0 all ready.
    pub fn exit_code(&self) -> u8 {
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

/// The `sixfive.check/v1` document, one host per line so that a large city streams out
/// without building the whole document in memory.
fn write_json(
    out: &mut impl Write,
    hosts: &[(String, String)],
    summary: &Summary,
    engine: &Engine,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> std::io::Result<()> {
    let head = CheckHead {
        schema: "sixfive.check/v1".into(),
        started,
        finished,
        require: summary.require,
        scanner: ScannerInfo {
            ipv6: match engine.own_v6() {
                OwnV6::Ready => Ipv6State::Ready,
                OwnV6::Missing(why) => Ipv6State::Missing(why.clone()),
            },
        },
        summary: summary.document(),
    };
    let head = serde_json::to_string(&head).expect("the document serialises");
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
