//! What probing produces and the store keeps: check results with their evidence, and site
//! samples. The checks crate fills these in; the TUI, reports and metrics read them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The outcome of one check (readiness.md). `Error` means the scan could not decide and
/// never counts against the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Error,
    Fail,
}

/// The address family a result is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    V4,
    V6,
}

/// A site's health (sites.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteState {
    Ok,
    Degraded,
    Critical,
    Unreachable,
    AuthFailed,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    _ => Err(format!(concat!("unknown ", stringify!($ty), " `{}`"), s)),
                }
            }
        }
    };
}

text_enum!(Status { Pass = "pass", Skip = "skip", Warn = "warn", Error = "error", Fail = "fail" });
text_enum!(Family { V4 = "v4", V6 = "v6" });
text_enum!(SiteState {
    Ok = "ok",
    Degraded = "degraded",
    Critical = "critical",
    Unreachable = "unreachable",
    AuthFailed = "auth_failed",
});

/// One check's result for one host, and where relevant one address, port and family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub host: String,
    /// A stable check id such as `tcp.v6`.
    pub check: String,
    pub status: Status,
    pub family: Option<Family>,
    pub address: Option<IpAddr>,
    pub port: Option<u16>,
    pub duration_ms: Option<f64>,
    pub detail: String,
    /// A one-line remedy for a non-pass.
    pub hint: Option<String>,
    pub evidence: serde_json::Value,
}

impl CheckRecord {
    /// A result about the host as a whole; narrow it with [`CheckRecord::at`] and friends.
    pub fn new(host: &str, check: &str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            host: host.to_owned(),
            check: check.to_owned(),
            status,
            family: None,
            address: None,
            port: None,
            duration_ms: None,
            detail: detail.into(),
            hint: None,
            evidence: serde_json::Value::Null,
        }
    }

    /// About one address (and its family), and a port where given.
    pub fn at(mut self, address: IpAddr, port: Option<u16>) -> Self {
        self.family = Some(Family::of(address));
        self.address = Some(address);
        self.port = port;
        self
    }

    pub fn family(mut self, family: Family) -> Self {
        self.family = Some(family);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn evidence(mut self, evidence: serde_json::Value) -> Self {
        self.evidence = evidence;
        self
    }

    pub fn took(mut self, elapsed: std::time::Duration) -> Self {
        self.duration_ms = Some(elapsed.as_secs_f64() * 1000.0);
        self
    }
}

impl Family {
    pub fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// A host's grade in one scan run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostLevel {
    pub host: String,
    pub level: crate::model::Level,
    /// 0 to 100, weighted like Internet.nl's IPv6 score.
    pub score: u8,
    /// Some checks could not decide (scanner or resolver trouble), so the level may be low.
    pub inconclusive: bool,
    /// Worse than in the previous complete run.
    pub regressed: bool,
}

/// One poll of one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSample {
    pub site: String,
    pub at: DateTime<Utc>,
    pub state: SiteState,
    pub reasons: Vec<String>,
    /// Radio, uplink, uptime, latency and addresses as measured (`sixfive.sites/v1`).
    pub data: serde_json::Value,
}
