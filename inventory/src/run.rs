//! What a run reports while it goes and as each host or site finishes, shared by the engine
//! that runs it (sixfive-checks) and those that watch it (the CLI's progress bar, the TUI,
//! the agent), so none of them depends on the engine itself.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::model::{Host, Level};
use crate::results::{CheckRecord, HostLevel, SiteReport, SiteState};

/// A stored run's id.
pub type RunId = i64;

/// How many finished hosts and sites [`Progress::last`] keeps.
pub const LAST_FINISHED: usize = 8;

/// A snapshot of a run under way: cheap to clone, published after every finished item.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Progress {
    /// None until the run is stored.
    pub run: Option<RunId>,
    pub hosts_done: usize,
    pub hosts_total: usize,
    pub sites_done: usize,
    pub sites_total: usize,
    pub by_level: BTreeMap<Level, usize>,
    pub by_state: BTreeMap<SiteState, usize>,
    /// The last finished hosts (fqdn) and sites (id), newest first.
    pub last: VecDeque<String>,
}

impl Progress {
    pub fn done(&self) -> usize {
        self.hosts_done + self.sites_done
    }

    pub fn total(&self) -> usize {
        self.hosts_total + self.sites_total
    }

    /// Counts one finished host or site.
    pub fn count(&mut self, finished: &Finished) {
        let name = match finished {
            Finished::Host(report) => {
                self.hosts_done += 1;
                *self.by_level.entry(report.level.level).or_default() += 1;
                report.host.fqdn.clone()
            }
            Finished::Site(report) => {
                self.sites_done += 1;
                *self.by_state.entry(report.state).or_default() += 1;
                report.id.clone()
            }
        };
        self.last.push_front(name);
        self.last.truncate(LAST_FINISHED);
    }
}

/// One host's results and grade in a run.
#[derive(Debug, Clone)]
pub struct HostReport {
    pub host: Host,
    pub records: Vec<CheckRecord>,
    pub level: HostLevel,
}

/// A host or a site the run has finished with.
#[derive(Debug, Clone)]
pub enum Finished {
    Host(Box<HostReport>),
    Site(Box<SiteReport>),
}
