//! `sixfive check`: scans the selected hosts, stores the run, prints the chosen format and
//! exits with the CI contract's code (readiness.md).

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sixfive_checks::network::OwnV6;
use sixfive_checks::sites::poller::PINGS;
use sixfive_checks::{Engine, RunRequest};
use sixfive_inventory::model::{Host, Level};
use sixfive_inventory::run::{Finished, HostReport};
use sixfive_report::document::Ipv6State;
use sixfive_report::{CheckHead, CheckSummary, HostEntry, ScannerInfo};

use crate::Failure;
use crate::cli::{CheckArgs, CheckFormat, Global};
use crate::inventory::{block_on, inventory_path, load, load_options, open_store, profiles, who};

/// `color` colours the table on stdout.
pub fn run(args: CheckArgs, global: &Global, color: bool) -> Result<u8, Failure> {
    let path = inventory_path(None, global)?;
    let profiles = profiles(global)?;
    let options = load_options(false, &profiles);
    let loaded = load(&path, &options)?;
    let places = loaded.host_places;
    let mut inventory = loaded.inventory;
    args.pace.apply(&mut inventory.scan);
    let require = args.require.unwrap_or(inventory.scan.require);
    let hosts = crate::select::hosts(&inventory, &args.select)?;
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
        let engine = Engine::new(&inventory.scan, profiles, PINGS, Arc::clone(&store))?;
        let started = Utc::now();
        let request = RunRequest {
            hosts,
            sites: Vec::new(),
            owner: format!("check@{}", who()),
            source: path.display().to_string(),
        };
        let mut kept = Kept::new(format);
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
                let head = head(&summary, &engine, &inventory.scan, started, finished);
                let hosts = kept.json_hosts.in_name_order();
                sixfive_report::json::write_check(&mut out, &head, hosts)?;
            }
            CheckFormat::Junit => {
                write!(out, "{}", sixfive_report::junit::check(&reports, require))?
            }
            CheckFormat::Sarif => sixfive_report::sarif::write_check(&mut out, &reports, &places)?,
            CheckFormat::Github => {
                sixfive_report::github::write_check(&mut out, &reports, &places)?
            }
            CheckFormat::Table => {
                sixfive_report::table::check(&reports, require).write(&mut out, color)?
            }
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

/// What the chosen output needs of each report, kept small: for JSON the host's finished
/// JSON text, for the other formats the report without its evidence.
struct Kept {
    levels: Vec<sixfive_inventory::results::HostLevel>,
    json_hosts: HeldHosts,
    reports: Vec<HostReport>,
}

impl Kept {
    fn new(format: CheckFormat) -> Self {
        Self {
            levels: Vec::new(),
            json_hosts: if format == CheckFormat::Json {
                HeldHosts::spilled()
            } else {
                HeldHosts::in_memory()
            },
            reports: Vec::new(),
        }
    }

    fn keep(&mut self, mut report: HostReport, format: CheckFormat) {
        self.levels.push(report.level.clone());
        if format == CheckFormat::Json {
            let text =
                serde_json::to_string(&HostEntry::from(&report)).expect("the document serialises");
            self.json_hosts.push(report.host.fqdn.clone(), text);
        } else {
            for record in &mut report.records {
                record.evidence = Value::Null;
            }
            self.reports.push(report);
        }
    }
}

/// Each host's finished JSON, held until the run ends and the document can go out in name
/// order: in an unnamed temporary file, as the document grows with the inventory (about 7 KB
/// a host, 65 MB at 10,000) and the process's memory should not; in memory, with a warning,
/// where no temporary file can be made or written (a read-only or full `TMPDIR`). On a tmpfs
/// `TMPDIR` the file is memory too, only not the process's.
struct HeldHosts {
    file: Option<std::fs::File>,
    /// False once a write failed: the hosts after it stay in memory.
    writable: bool,
    written: u64,
    index: Vec<(String, Held)>,
}

enum Held {
    InFile { at: u64, len: usize },
    InMemory(String),
}

impl HeldHosts {
    fn spilled() -> Self {
        let file = tempfile::tempfile()
            .inspect_err(|error| {
                tracing::warn!(
                    %error,
                    dir = %std::env::temp_dir().display(),
                    "no temporary file for the hosts' JSON: holding it in memory"
                )
            })
            .ok();
        Self {
            writable: file.is_some(),
            file,
            written: 0,
            index: Vec::new(),
        }
    }

    fn in_memory() -> Self {
        Self {
            file: None,
            writable: false,
            written: 0,
            index: Vec::new(),
        }
    }

    fn push(&mut self, fqdn: String, text: String) {
        use std::os::unix::fs::FileExt;
        if let (Some(file), true) = (&self.file, self.writable) {
            // At an explicit offset: a write that failed half-way leaves nothing to skip.
            match file.write_all_at(text.as_bytes(), self.written) {
                Ok(()) => {
                    let len = text.len();
                    self.index.push((
                        fqdn,
                        Held::InFile {
                            at: self.written,
                            len,
                        },
                    ));
                    self.written += len as u64;
                    return;
                }
                Err(error) => {
                    tracing::warn!(
                        %error,
                        dir = %std::env::temp_dir().display(),
                        "the temporary file for the hosts' JSON took no more: holding the rest in memory"
                    );
                    self.writable = false;
                }
            }
        }
        self.index.push((fqdn, Held::InMemory(text)));
    }

    /// The hosts' texts by name, those in the file read back one at a time.
    fn in_name_order(mut self) -> impl ExactSizeIterator<Item = std::io::Result<Vec<u8>>> {
        use std::os::unix::fs::FileExt;
        self.index.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let file = self.file;
        self.index.into_iter().map(move |(_, held)| match held {
            Held::InMemory(text) => Ok(text.into_bytes()),
            Held::InFile { at, len } => {
                let file = file.as_ref().expect("a host held in the file has one");
                let mut text = vec![0; len];
                // Our own file's pages, just written: a failure here is the disk's, and
                // ends the document where it happens (exit 74).
                file.read_exact_at(&mut text, at).map_err(|error| {
                    std::io::Error::other(format!(
                        "reading back the hosts' JSON from a temporary file (in {}): {error}",
                        std::env::temp_dir().display()
                    ))
                })?;
                Ok(text)
            }
        })
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

    /// The summary in one line, as `scan` and `demo` print it.
    pub fn line(&self) -> String {
        format!(
            "{} scanned, {} at {} or above, {} BROKEN  ({})",
            self.hosts,
            self.ready,
            self.require,
            self.broken,
            counts(&self.by_level)
        )
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

/// Counts by key, `L0 3 · L2 5`, for one-line summaries.
pub fn counts<K: std::fmt::Display>(counts: &BTreeMap<K, usize>) -> String {
    counts
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The `sixfive.check/v1` head of this run.
fn head(
    summary: &Summary,
    engine: &Engine,
    scan: &sixfive_inventory::model::Scan,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> CheckHead {
    CheckHead {
        schema: "sixfive.check/v1".into(),
        started,
        finished,
        require: summary.require,
        scanner: ScannerInfo {
            ipv6: match engine.own_v6() {
                OwnV6::Ready => Ipv6State::Ready,
                OwnV6::Missing(why) => Ipv6State::Missing(why.clone()),
            },
            rate_per_second: Some(scan.rate.0),
            concurrency: Some(scan.concurrency),
        },
        summary: summary.document(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts of many sizes, some past any write buffer, pushed out of name order.
    fn texts() -> Vec<(String, String)> {
        (0..300)
            .map(|i| {
                let name = format!("h{:03}.test", (i * 7) % 300);
                (
                    name.clone(),
                    format!("{{\"fqdn\":\"{name}\",\"pad\":\"{}\"}}", "x".repeat(i * 70)),
                )
            })
            .collect()
    }

    fn read_back(held: HeldHosts) -> Vec<String> {
        let hosts = held.in_name_order();
        let count = hosts.len();
        let read: Vec<String> = hosts
            .map(|text| String::from_utf8(text.unwrap()).unwrap())
            .collect();
        assert_eq!(read.len(), count, "the iterator's length is exact");
        read
    }

    fn expected() -> Vec<String> {
        let mut texts = texts();
        texts.sort();
        texts.into_iter().map(|(_, text)| text).collect()
    }

    #[test]
    fn held_hosts_come_back_whole_and_in_name_order_from_the_file() {
        let mut held = HeldHosts::spilled();
        assert!(held.file.is_some() && held.writable);
        for (name, text) in texts() {
            held.push(name, text);
        }
        assert!(
            held.index
                .iter()
                .all(|(_, h)| matches!(h, Held::InFile { .. }))
        );
        assert_eq!(read_back(held), expected());
        assert!(read_back(HeldHosts::spilled()).is_empty());
    }

    #[test]
    fn a_file_that_takes_no_writes_leaves_the_hosts_in_memory() {
        // Opened read-only: every write fails as a full or read-only TMPDIR would.
        let mut held = HeldHosts {
            file: Some(std::fs::File::open("/dev/null").unwrap()),
            writable: true,
            written: 0,
            index: Vec::new(),
        };
        for (name, text) in texts() {
            held.push(name, text);
        }
        assert!(!held.writable);
        assert!(
            held.index
                .iter()
                .all(|(_, h)| matches!(h, Held::InMemory(_)))
        );
        assert_eq!(read_back(held), expected());
    }
}
