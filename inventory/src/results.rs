//! What probing produces and the store keeps: check results with their evidence, and site
//! samples. The checks crate fills these in; the TUI, reports and metrics read them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outcome of one check (readiness.md). `Error` means the scan could not decide and
/// never counts against the host.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Error,
    Fail,
}

/// The address family a result is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    V4,
    V6,
}

/// A site's health (sites.md), best first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
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
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $ty {
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

pub(crate) use text_enum;

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
    /// What was found, as plain facts: no durations, round trips or byte counts, so that
    /// two runs that found the same compare equal and the store keeps one copy.
    pub evidence: serde_json::Value,
    /// What was measured on the way (round trips, connect times, bytes), by name with
    /// its unit (`rtt_ms`, `wire_bytes`): kept beside the finding, latest only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measurements: BTreeMap<String, f64>,
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
            measurements: BTreeMap::new(),
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
        self.duration_ms = Some(millis(elapsed));
        self
    }

    /// Notes a measurement, named with its unit (`rtt_ms`). A value that is not finite
    /// (NaN, infinity) measured nothing and is left out: JSON cannot carry it.
    pub fn measured(mut self, name: &str, value: f64) -> Self {
        if value.is_finite() {
            self.measurements.insert(name.to_owned(), value);
        }
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

/// A duration in milliseconds as JSON and the store show it: to the microsecond, what the
/// clocks measure, so `0.028` and never `0.02757099999999999`.
pub fn millis(elapsed: std::time::Duration) -> f64 {
    thousandths(elapsed.as_secs_f64() * 1000.0)
}

/// `value` to three decimals: a measurement computed from others (a mean, a ratio, a
/// reading divided by a profile's divisor) shown to the precision it has.
pub fn thousandths(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// A host's grade in one scan run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostLevel {
    pub host: String,
    pub level: crate::model::Level,
    /// 0 to 100, sixfive's weights over every check that decided.
    pub score: u8,
    /// 0 to 100 as Internet.nl's IPv6 category scores the host (its web test, or its mail
    /// test for a mail-only host); None when the scan could not decide what it needs.
    #[serde(default)]
    pub internet_nl: Option<u8>,
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

/// Radio quality, worst first (sites.md's bands).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    Poor,
    Fair,
    Good,
    Excellent,
}

/// One poll of a site, as `sixfive sites` prints it (`sixfive.sites/v1`) and the store
/// keeps it in a sample. Unknown values are null, never 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteReport {
    pub id: String,
    pub state: SiteState,
    pub reasons: Vec<String>,
    /// The family SNMP answered over.
    pub polled_via: Option<Family>,
    pub address: Option<IpAddr>,
    pub profile: String,
    pub system: SystemInfo,
    pub radio: RadioReport,
    /// The modem's own state; absent from samples stored before it was read.
    #[serde(default)]
    pub modem: ModemReport,
    pub uplink: UplinkReport,
    pub uptime_s: Option<u64>,
    pub rebooted: bool,
    /// IPv6 addresses other than link-local on the WAN interface; null when not read.
    pub wan_ipv6: Option<Vec<std::net::Ipv6Addr>>,
    pub latency_ms: PerFamily,
    pub jitter_ms: PerFamily,
    pub loss: PerFamily,
    /// Per-metric radio quality, which the next poll's hysteresis starts from.
    pub quality: RadioQuality,
    pub polled_at: DateTime<Utc>,
    pub took_ms: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SystemInfo {
    pub name: Option<String>,
    pub descr: Option<String>,
    pub object_id: Option<String>,
}

/// Radio values as the profile reads them; NR values sit next to the LTE anchor's in NSA.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RadioReport {
    pub technology: Option<String>,
    pub rsrp_dbm: Option<f64>,
    pub rsrq_db: Option<f64>,
    pub sinr_db: Option<f64>,
    pub snr_db: Option<f64>,
    pub rssi_dbm: Option<f64>,
    pub nr_rsrp_dbm: Option<f64>,
    pub nr_rsrq_db: Option<f64>,
    pub nr_sinr_db: Option<f64>,
    pub operator: Option<String>,
    pub cell_id: Option<String>,
    pub band: Option<String>,
}

/// The modem as its vendor table describes it: states in the vendor's words
/// (`Connected`, `inserted`, `Registered, home`), as the profile reads them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModemReport {
    /// The data connection's state.
    pub connection_state: Option<String>,
    pub sim_state: Option<String>,
    /// Registration with the mobile network.
    pub network_state: Option<String>,
    pub temperature_c: Option<f64>,
    /// Seconds since the data connection came up.
    pub connection_uptime_s: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UplinkReport {
    pub name: Option<String>,
    pub if_index: Option<u32>,
    /// IF-MIB ifOperStatus by name: up, down, lowerLayerDown, …
    pub oper_status: Option<String>,
    pub in_errors: Option<u64>,
    pub out_errors: Option<u64>,
    pub in_octets: Option<u64>,
    pub out_octets: Option<u64>,
    pub in_bps: Option<f64>,
    pub out_bps: Option<f64>,
}

impl UplinkReport {
    /// Whether the uplink carries traffic: an idle cellular modem is `dormant`, which is up;
    /// None for a status that says neither (`testing`, `unknown`) or none read.
    pub fn is_up(&self) -> Option<bool> {
        match self.oper_status.as_deref()? {
            "up" | "dormant" => Some(true),
            "down" | "notPresent" | "lowerLayerDown" => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PerFamily {
    pub v6: Option<f64>,
    pub v4: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RadioQuality {
    pub rsrp: Option<Quality>,
    pub rsrq: Option<Quality>,
    pub sinr: Option<Quality>,
}

impl SiteReport {
    pub fn sample(&self) -> SiteSample {
        SiteSample {
            site: self.id.clone(),
            at: self.polled_at,
            state: self.state,
            reasons: self.reasons.clone(),
            data: serde_json::to_value(self).expect("a site report serialises"),
        }
    }

    /// The report a sample was made from; None for a sample of another shape.
    pub fn from_sample(sample: &SiteSample) -> Option<SiteReport> {
        serde_json::from_value(sample.data.clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_modem_is_up_and_a_status_saying_neither_is_unknown() {
        let uplink = |status: &str| UplinkReport {
            oper_status: Some(status.into()),
            ..UplinkReport::default()
        };
        assert_eq!(uplink("dormant").is_up(), Some(true));
        assert_eq!(uplink("lowerLayerDown").is_up(), Some(false));
        assert_eq!(uplink("testing").is_up(), None);
        assert_eq!(UplinkReport::default().is_up(), None);
    }

    #[test]
    fn measurements_are_written_to_the_microsecond() {
        let took = std::time::Duration::from_nanos(27_571);
        assert_eq!(millis(took), 0.028);
        let record = CheckRecord::new("h.test", "tcp.v6", Status::Pass, "").took(took);
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains("\"duration_ms\":0.028"), "{json}");
        assert_eq!(thousandths(0.1 + 0.2), 0.3);
        assert_eq!(thousandths(-95.0 / 10.0), -9.5);
    }

    #[test]
    fn a_sample_stored_before_the_modem_was_read_still_reads() {
        let mut report = serde_json::json!({
            "id": "s", "state": "ok", "reasons": [], "polled_via": "v6",
            "address": "fd00:5c::20", "profile": "teltonika-rutx", "system": {},
            "radio": {}, "uplink": {}, "uptime_s": 4200, "rebooted": false,
            "wan_ipv6": null, "latency_ms": {}, "jitter_ms": {}, "loss": {},
            "quality": {}, "polled_at": "2026-11-30T00:00:00Z", "took_ms": 1.0
        });
        let old = SiteSample {
            site: "s".into(),
            at: "2026-11-30T00:00:00Z".parse().unwrap(),
            state: SiteState::Ok,
            reasons: Vec::new(),
            data: report.clone(),
        };
        let read = SiteReport::from_sample(&old).expect("an older sample reads");
        assert_eq!(read.modem, ModemReport::default());
        assert_eq!(
            read.uptime_s,
            Some(4200),
            "the previous poll's uptime survives"
        );
        report["modem"] = serde_json::json!({ "temperature_c": 43.0 });
        let new = SiteSample {
            data: report,
            ..old
        };
        let read = SiteReport::from_sample(&new).unwrap();
        assert_eq!(read.modem.temperature_c, Some(43.0));
    }

    #[test]
    fn a_measurement_that_is_not_a_number_is_left_out() {
        let record = CheckRecord::new("h.test", "net.pmtu", Status::Pass, "")
            .measured("nan", f64::NAN)
            .measured("inf", f64::INFINITY)
            .measured("wire_bytes", 1500.0);
        assert_eq!(
            record.measurements.keys().collect::<Vec<_>>(),
            ["wire_bytes"]
        );
        serde_json::to_string(&record).expect("finite measurements serialise");
    }
}
