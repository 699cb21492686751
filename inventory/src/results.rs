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
