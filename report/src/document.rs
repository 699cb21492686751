//! The documents and their schemas. Field names and check ids are a public contract:
//! change them only with a new schema version.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, SiteReport};
use sixfive_inventory::run::HostReport;

/// The scanner's own IPv6, checked before any host: without it IPv6 results are `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScannerInfo {
    pub ipv6: Ipv6State,
    /// The pace of the run (the inventory's `scan` settings or `--rate`/`--concurrency`):
    /// probes per second and probes in flight, in total. Optional: documents written
    /// before they were added are still `sixfive.check/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum Ipv6State {
    Ready,
    /// Why the scanner has no IPv6 route.
    Missing(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckSummary {
    pub hosts: usize,
    /// Hosts at the required level or above.
    pub ready: usize,
    pub broken: usize,
    pub by_level: BTreeMap<Level, usize>,
}

/// Everything of `sixfive.check/v1` but the hosts, which a large city streams one by one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckHead {
    /// `sixfive.check/v1`.
    pub schema: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub require: Level,
    pub scanner: ScannerInfo,
    pub summary: CheckSummary,
}

/// One host in `sixfive.check/v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostEntry {
    pub fqdn: String,
    pub agency: String,
    pub level: Level,
    /// 0 to 100, sixfive's weights.
    pub score: u8,
    /// 0 to 100 as Internet.nl's IPv6 category scores it; null when undecided.
    pub internet_nl: Option<u8>,
    pub regressed: bool,
    pub inconclusive: bool,
    pub checks: Vec<CheckEntry>,
}

/// One check result: a check id may appear once per address, port or family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckEntry {
    pub id: String,
    pub status: sixfive_inventory::results::Status,
    pub family: Option<sixfive_inventory::results::Family>,
    pub address: Option<std::net::IpAddr>,
    pub port: Option<u16>,
    pub duration_ms: Option<f64>,
    pub detail: String,
    pub hint: Option<String>,
    /// What the check saw; present on every warning and failure.
    pub evidence: serde_json::Value,
    /// What was measured on the way, by name with its unit (`rtt_ms`, `wire_bytes`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub measurements: std::collections::BTreeMap<String, f64>,
}

impl From<&CheckRecord> for CheckEntry {
    fn from(r: &CheckRecord) -> Self {
        Self {
            id: r.check.clone(),
            status: r.status,
            family: r.family,
            address: r.address,
            port: r.port,
            duration_ms: r.duration_ms,
            detail: r.detail.clone(),
            hint: r.hint.clone(),
            evidence: r.evidence.clone(),
            measurements: r.measurements.clone(),
        }
    }
}

impl From<&HostReport> for HostEntry {
    fn from(r: &HostReport) -> Self {
        Self {
            fqdn: r.host.fqdn.clone(),
            agency: r.host.agency.clone(),
            level: r.level.level,
            score: r.level.score,
            internet_nl: r.level.internet_nl,
            regressed: r.level.regressed,
            inconclusive: r.level.inconclusive,
            checks: r.records.iter().map(CheckEntry::from).collect(),
        }
    }
}

/// `sixfive.check/v1`: the head's fields and the hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckDocument {
    #[serde(flatten)]
    pub head: CheckHead,
    pub hosts: Vec<HostEntry>,
}

/// `sixfive.sites/v1`: every polled site; unknown values are null, never 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SitesDocument {
    /// `sixfive.sites/v1`.
    pub schema: String,
    pub sites: Vec<SiteReport>,
}

impl SitesDocument {
    pub fn new(sites: Vec<SiteReport>) -> Self {
        Self {
            schema: "sixfive.sites/v1".into(),
            sites,
        }
    }
}

/// `sixfive.scan/v1`: the summary of one run over hosts and sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanDocument {
    /// `sixfive.scan/v1`.
    pub schema: String,
    /// The stored run.
    pub run: i64,
    pub require: Level,
    /// The hosts, as `sixfive.check/v1` sums them up.
    pub summary: CheckSummary,
    pub sites: SitesSummary,
    /// What the command exits with (README: exit codes).
    pub exit_code: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SitesSummary {
    pub total: usize,
    pub by_state: BTreeMap<sixfive_inventory::results::SiteState, usize>,
}

/// The JSON Schema (draft 2020-12) of a document: `check`, `sites` or `scan`.
pub fn schema(document: &str) -> Option<serde_json::Value> {
    let (schema, title) = match document {
        "check" => (schemars::schema_for!(CheckDocument), "sixfive.check/v1"),
        "sites" => (schemars::schema_for!(SitesDocument), "sixfive.sites/v1"),
        "scan" => (schemars::schema_for!(ScanDocument), "sixfive.scan/v1"),
        "report" => (
            schemars::schema_for!(crate::progress::ProgressReport),
            crate::progress::SCHEMA,
        ),
        _ => return None,
    };
    let mut schema = serde_json::to_value(schema).expect("a schema serialises to JSON");
    schema["$id"] = format!("https://sixfive.invalid/schema/{document}-v1.json").into();
    schema["title"] = title.into();
    Some(schema)
}
