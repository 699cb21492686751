//! What a managers' report reads: the inventory, every host's grade with the checks it
//! failed (and what each found, so fixes can be grouped), every site's latest poll, and
//! the trend of level counts, as the store stood at a moment (`sixfive report --at`) or now.
//! Reports are computed from this alone, never by scanning.

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
    /// In check id order; several for one check when it failed on several addresses.
    pub failing: Vec<Failure>,
}

/// One failed result: what a report groups blockers and fixes by.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub check: String,
    pub detail: String,
    pub evidence: serde_json::Value,
}

/// A site as it stood, with its newest poll by then.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSite {
    pub site: Site,
    pub latest: Option<SiteReport>,
}
