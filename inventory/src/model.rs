//! The inventory as a city keeps it in git: agencies, application hosts, 5G sites and scan
//! settings. These types are what the rest of sixfive reads; they carry no source positions
//! (the loader keeps those) and no secret values (only where to find them).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDate;
use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::pattern;

/// The only inventory format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// A whole inventory, merged from one file or a folder of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Inventory {
    /// Format version; must be 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    #[serde(default)]
    pub scan: Scan,
    #[serde(default)]
    pub agencies: Vec<Agency>,
    #[serde(default)]
    pub hosts: Vec<Host>,
    #[serde(default)]
    pub sites: Vec<Site>,
}

impl Default for Inventory {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            scan: Scan::default(),
            agencies: Vec::new(),
            hosts: Vec::new(),
            sites: Vec::new(),
        }
    }
}

/// How and where sixfive may probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct Scan {
    /// DNS resolvers to use, `[addr]:port` or `addr:port`; empty means the system's.
    pub resolvers: Vec<Resolver>,
    pub timeouts: Timeouts,
    /// Probes in flight in total.
    #[schemars(range(min = 1, max = u32::MAX))]
    pub concurrency: u32,
    /// Probes in flight per target address.
    #[schemars(range(min = 1, max = u32::MAX))]
    pub per_host: u32,
    /// Probes per second in total to the hosts and their name servers (not to `resolvers`),
    /// written `500/s`.
    pub rate: Rate,
    /// Prefixes sixfive may probe; empty means any address the inventory names.
    #[serde(deserialize_with = "prefixes")]
    #[schemars(with = "Vec<String>", extend("items" = {"type": "string", "description": "an IPv6 or IPv4 prefix, like fd00::/8", "pattern": pattern::prefix()}))]
    pub scope: Vec<IpNet>,
    /// The level that CI and reports call "ready".
    #[schemars(extend("not" = {"const": "BROKEN"}))]
    pub require: Level,
    /// Extra trust anchors (PEM) for internal TLS, relative to the inventory file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// How sites are graded, for every site; unset fields keep sites.md's defaults.
    #[serde(skip_serializing_if = "Grading::is_unset")]
    pub grading: Grading,
    /// How long the evidence of superseded results is kept, written like `90d`; statuses,
    /// details and levels are kept forever.
    pub retention: Period,
    /// How often `sixfive agent` checks hosts and polls sites.
    pub schedule: Schedule,
}

impl Default for Scan {
    fn default() -> Self {
        Self {
            resolvers: Vec::new(),
            timeouts: Timeouts::default(),
            concurrency: 256,
            per_host: 2,
            rate: Rate(500),
            scope: Vec::new(),
            require: Level::L2,
            ca_file: None,
            grading: Grading::default(),
            retention: Period(Duration::from_secs(90 * 24 * 3600)),
            schedule: Schedule::default(),
        }
    }
}

impl Scan {
    /// Whether `addr` may be probed under `scope`.
    pub fn in_scope(&self, addr: IpAddr) -> bool {
        self.scope.is_empty() || self.scope.iter().any(|net| net.contains(&addr))
    }
}

/// How often `sixfive agent` runs each kind of work. Each run spreads its hosts or sites
/// evenly over its interval (no burst at the top of the hour), and a run that overruns
/// its interval delays the next of its kind rather than overlapping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct Schedule {
    /// Every host once per interval, written like `1h`.
    pub hosts: Interval,
    /// Hosts whose stage is `in-progress`, on an interval of their own (usually shorter):
    /// the ones engineers are changing now. Unset, they go with the other hosts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hosts_in_progress: Option<Interval>,
    /// Every site once per interval.
    pub sites: Interval,
    /// How far each run's start may move from its slot, at random, as a share of its
    /// interval (`10%`), so that agents started together do not scan in step.
    pub jitter: Percent,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            hosts: Interval(Duration::from_secs(3600)),
            hosts_in_progress: None,
            sites: Interval(Duration::from_secs(300)),
            jitter: Percent(10),
        }
    }
}

/// How often something recurs, written like `1h`, `15m` or `30s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval(pub Duration);

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_duration(self.0).fmt(f)
    }
}

impl FromStr for Interval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // A year at most: longer means never, and overflows the clock's arithmetic.
        let year = Duration::from_secs(366 * 24 * 3600);
        duration_where(
            s,
            |d| !d.is_zero() && d <= year,
            "an interval longer than zero and at most a year: write 1h, 15m or 30s",
        )
        .map(Interval)
    }
}

/// A share from 0 to 100, written like `10%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Percent(pub u8);

impl Percent {
    pub fn of(self, duration: Duration) -> Duration {
        duration.mul_f64(f64::from(self.0) / 100.0)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // As the schema's pattern: digits without a leading zero, then `%`.
        s.strip_suffix('%')
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .filter(|n| n.len() == 1 || !n.starts_with('0'))
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| *n <= 100)
            .map(Percent)
            .ok_or_else(|| {
                format!("`{s}` is not a share: write a whole percentage from 0% to 100%, like 10%")
            })
    }
}

/// Per-protocol time limits, written like `5s` or `1500ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(deny_unknown_fields)]
pub struct Timeouts {
    pub dns: Timeout,
    pub connect: Timeout,
    pub http: Timeout,
    pub smtp: Timeout,
    pub snmp: Timeout,
}

impl Default for Timeouts {
    fn default() -> Self {
        let secs = |s| Timeout(Duration::from_secs(s));
        Self {
            dns: secs(5),
            connect: secs(4),
            http: secs(10),
            smtp: secs(30),
            snmp: secs(2),
        }
    }
}

/// A government agency that owns hosts and sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Agency {
    #[schemars(pattern(pattern::NOT_BLANK))]
    pub id: String,
    #[schemars(pattern(pattern::NOT_BLANK))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_vi: Option<String>,
    /// Date by which this agency's hosts must be ready.
    #[serde(
        default,
        deserialize_with = "date",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(pattern(pattern::date()))]
    pub target: Option<NaiveDate>,
}

/// An application host, named by its fully qualified domain name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(extend(
    "if" = {"required": ["stage"], "properties": {"stage": {"const": "exempt"}}},
    "then" = {"required": ["exempt_reason"], "properties": {"exempt_reason": {"pattern": pattern::NOT_BLANK}}}
))]
pub struct Host {
    #[schemars(pattern(pattern::fqdn()))]
    pub fqdn: String,
    pub agency: String,
    /// Which services the checks look at.
    #[serde(default = "Host::default_services")]
    pub services: Vec<Service>,
    #[serde(default)]
    pub stage: Stage,
    /// Why the host is exempt; required when `stage` is `exempt`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub exempt_reason: String,
    /// Internal hosts may use ULA (fc00::/7) addresses.
    #[serde(default)]
    pub internal: bool,
    /// Overrides the agency's target date.
    #[serde(
        default,
        deserialize_with = "date",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(pattern(pattern::date()))]
    pub target: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Who answers for the host's migration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The network zone whose agents scan it (`sixfive agent --zone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(pattern::NOT_BLANK))]
    pub zone: Option<String>,
}

impl Host {
    fn default_services() -> Vec<Service> {
        vec![Service::Https]
    }
}

/// A service a host offers, which decides the checks that apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Http,
    Https,
    Smtp,
    /// Any other TCP port, written `tcp/8443`.
    Tcp(u16),
}

impl Service {
    pub fn port(self) -> u16 {
        match self {
            Service::Http => 80,
            Service::Https => 443,
            Service::Smtp => 25,
            Service::Tcp(port) => port,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Service::Http => f.write_str("http"),
            Service::Https => f.write_str("https"),
            Service::Smtp => f.write_str("smtp"),
            Service::Tcp(port) => write!(f, "tcp/{port}"),
        }
    }
}

impl FromStr for Service {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "http" => Ok(Service::Http),
            "https" => Ok(Service::Https),
            "smtp" => Ok(Service::Smtp),
            _ => s
                .strip_prefix("tcp/")
                .filter(|port| port.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|port| port.parse::<u16>().ok())
                .filter(|port| *port != 0)
                .map(Service::Tcp)
                .ok_or_else(|| {
                    format!("unknown service `{s}`: use http, https, smtp or tcp/PORT (1-65535)")
                }),
        }
    }
}

/// Where a host stands in its migration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    #[default]
    Planned,
    InProgress,
    DualStack,
    Ipv6Only,
    Exempt,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Planned,
        Stage::InProgress,
        Stage::DualStack,
        Stage::Ipv6Only,
        Stage::Exempt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Planned => "planned",
            Stage::InProgress => "in-progress",
            Stage::DualStack => "dual-stack",
            Stage::Ipv6Only => "ipv6-only",
            Stage::Exempt => "exempt",
        }
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown stage `{s}`: use planned, in-progress, dual-stack, ipv6-only or exempt"
                )
            })
    }
}

/// What each level asks for (readiness.md): the checks that grade a host and the reports
/// that say what holds it back share this table. A level is claimed only when each of these
/// checks ran, so a build that lacks a check never grades a host above it.
pub const LEVEL_CHECKS: [(Level, &[&str]); 5] = [
    (
        Level::L1,
        &[
            "dns.aaaa",
            "dns.aaaa_global",
            "tcp.v6",
            "http.v6",
            "smtp.v6",
        ],
    ),
    (Level::L2, &["http.parity", "tls.v6", "http.redirect_v6"]),
    (Level::L3, &["dns.ns_aaaa", "dns.ns_v6", "dns.mx_aaaa"]),
    (
        Level::L4,
        &["dns.ptr", "dns.dnssec", "net.pmtu", "net.happy_eyeballs"],
    ),
    // "Every dependency works with no IPv4 at all": sixfive's own check id for it.
    (Level::L5, &["dns.v6_only"]),
];

/// Checks whose warning holds their level back as a failure does (the level promises what
/// the warning doubts). At L4 and above every warning holds.
pub const WARN_HOLDS: [&str; 1] = ["http.parity"];

/// Whether a result of `check` with `status` keeps a host from `level` (readiness.md's
/// grading, as the checks' `level::grade` applies it): a failure, an undecided check, or a
/// warning where warnings hold.
pub fn holds_back(check: &str, status: crate::results::Status, level: Level) -> bool {
    use crate::results::Status;
    match status {
        Status::Fail | Status::Error => true,
        Status::Warn => level >= Level::L4 || WARN_HOLDS.contains(&check),
        Status::Pass | Status::Skip => false,
    }
}

/// IPv6 readiness levels, worst first (readiness.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Level {
    #[serde(rename = "BROKEN")]
    Broken,
    L0,
    L1,
    L2,
    L3,
    L4,
    L5,
}

impl Level {
    /// Every level, worst first.
    pub const ALL: [Level; 7] = [
        Level::Broken,
        Level::L0,
        Level::L1,
        Level::L2,
        Level::L3,
        Level::L4,
        Level::L5,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Broken => "BROKEN",
            Level::L0 => "L0",
            Level::L1 => "L1",
            Level::L2 => "L2",
            Level::L3 => "L3",
            Level::L4 => "L4",
            Level::L5 => "L5",
        }
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown level `{s}`: use BROKEN or L0 to L5"))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 5G (or LTE) site: a ward office, school or cabinet behind a cellular router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Site {
    #[schemars(pattern(pattern::NOT_BLANK))]
    pub id: String,
    #[schemars(pattern(pattern::NOT_BLANK))]
    pub name: String,
    pub agency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    /// The network zone whose agents poll it (`sixfive agent --zone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(pattern::NOT_BLANK))]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    /// The router's management address or name; a list when it has both families.
    pub address: Endpoints,
    /// A shipped or user-provided device profile.
    #[serde(default = "Site::default_profile")]
    pub profile: String,
    pub snmp: Snmp,
    /// This site's grading, field by field over `scan.grading`.
    #[serde(default, skip_serializing_if = "Grading::is_unset")]
    pub grading: Grading,
}

/// Thresholds for grading a site (sites.md). Each field left out keeps what the level
/// above says: a site's over `scan.grading`, that over the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Grading {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsrp_dbm: Option<Band>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsrq_db: Option<Band>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sinr_db: Option<Band>,
    /// dB a radio metric must clear a boundary by before its quality rises again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hysteresis_db: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_warn_ms: Option<f64>,
    /// Packet loss (0 to 1) above which a site is degraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss_warn: Option<f64>,
    /// Packet loss (0 to 1) above which a site is critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub loss_critical: Option<f64>,
    /// °C above which the modem runs beyond its rating and the site is degraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 150.0))]
    pub temperature_max_c: Option<f64>,
}

impl Grading {
    pub fn is_unset(&self) -> bool {
        *self == Grading::default()
    }
}

/// Lower bounds of excellent, good and fair for one radio metric; below fair is poor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Band {
    pub excellent: f64,
    pub good: f64,
    pub fair: f64,
}

impl Site {
    fn default_profile() -> String {
        "generic".to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct GeoPoint {
    #[schemars(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[schemars(range(min = -180.0, max = 180.0))]
    pub lon: f64,
}

/// One management endpoint or several (one per family).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Endpoints {
    One(Endpoint),
    Many(#[schemars(length(min = 1))] Vec<Endpoint>),
}

/// By hand rather than untagged, so a bad address is named with its own message and, in a
/// list, its index, instead of "did not match any variant".
impl<'de> Deserialize<'de> for Endpoints {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EndpointsVisitor;
        impl<'de> serde::de::Visitor<'de> for EndpointsVisitor {
            type Value = Endpoints;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an address or name, or a list of them")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Endpoints, E> {
                v.parse().map(Endpoints::One).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Endpoints, A::Error> {
                let mut many = Vec::new();
                while let Some(endpoint) = seq.next_element()? {
                    many.push(endpoint);
                }
                Ok(Endpoints::Many(many))
            }
        }
        deserializer.deserialize_any(EndpointsVisitor)
    }
}

impl Endpoints {
    pub fn iter(&self) -> impl Iterator<Item = &Endpoint> {
        match self {
            Endpoints::One(one) => std::slice::from_ref(one).iter(),
            Endpoints::Many(many) => many.iter(),
        }
    }
}

/// An IP address or a DNS name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Ip(IpAddr),
    Name(String),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Ip(ip) => ip.fmt(f),
            Endpoint::Name(name) => f.write_str(name),
        }
    }
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Endpoint::Ip(ip));
        }
        if s.contains(':') || s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(format!("`{s}` is not a valid IPv6 or IPv4 address"));
        }
        check_dns_name(s).map(|()| Endpoint::Name(s.to_owned()))
    }
}

/// Checks `name` is a DNS host name: letters, digits and hyphens in labels of 1 to 63.
pub fn check_dns_name(name: &str) -> Result<(), String> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() || bare.len() > 253 {
        return Err(format!(
            "`{name}` is not a host name: it must have 1 to 253 characters"
        ));
    }
    for label in bare.split('.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(format!(
                "`{name}` is not a host name: label `{label}` must be 1 to 63 letters, digits or hyphens"
            ));
        }
    }
    Ok(())
}

/// How to talk SNMP to a site's router. Secrets are named (`*_env`, `*_file`), or given
/// literally with a warning; a literal never prints or serialises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields, extend("allOf" = snmp_rules()))]
pub struct Snmp {
    pub version: SnmpVersion,
    #[serde(default = "Snmp::default_port")]
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(pattern::ENV_NAME))]
    pub community_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_file: Option<SecretFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<Redacted>,
    /// v3 user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(pattern::ENV_NAME))]
    pub auth_pass_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_pass_file: Option<SecretFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_pass: Option<Redacted>,
    #[serde(rename = "priv", default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<PrivProtocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(pattern::ENV_NAME))]
    pub priv_pass_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priv_pass_file: Option<SecretFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priv_pass: Option<Redacted>,
}

/// What the loader asks of a site's SNMP settings, for the schema: v3 needs a user, privacy
/// needs authentication, and each secret in use is given in exactly one way.
fn snmp_rules() -> serde_json::Value {
    use serde_json::json;
    let given = |field: &str| json!({"required": [field], "properties": {field: {"not": {"type": "null"}}}});
    let one_way = |name: &str| {
        let ways = [
            format!("{name}_env"),
            format!("{name}_file"),
            name.to_owned(),
        ];
        json!({"oneOf": ways.iter().map(|way| given(way)).collect::<Vec<_>>()})
    };
    let version = |versions: serde_json::Value| json!({"required": ["version"], "properties": {"version": {"enum": versions}}});
    let v3 = version(json!(["3", 3]));
    json!([
        {"if": version(json!(["2c"])), "then": one_way("community")},
        {"if": v3, "then": given("user")},
        {"if": {"allOf": [v3, given("auth")]}, "then": one_way("auth_pass")},
        {"if": {"allOf": [v3, given("priv")]}, "then": {"allOf": [given("auth"), one_way("priv_pass")]}},
    ])
}

impl Snmp {
    fn default_port() -> u16 {
        161
    }

    /// The files named for secrets, whichever version uses them.
    pub fn secret_files_mut(&mut self) -> impl Iterator<Item = &mut SecretFile> {
        [
            &mut self.community_file,
            &mut self.auth_pass_file,
            &mut self.priv_pass_file,
        ]
        .into_iter()
        .flatten()
    }

    /// The secrets this version needs: the community for v2c; for v3 the keys of the
    /// protocols chosen.
    pub fn secrets(&self) -> Vec<SecretRef<'_>> {
        let community = SecretRef {
            name: "community",
            env: self.community_env.as_deref(),
            file: self.community_file.as_ref().map(SecretFile::path),
            literal: self.community.as_ref(),
        };
        let auth = SecretRef {
            name: "auth_pass",
            env: self.auth_pass_env.as_deref(),
            file: self.auth_pass_file.as_ref().map(SecretFile::path),
            literal: self.auth_pass.as_ref(),
        };
        let privacy = SecretRef {
            name: "priv_pass",
            env: self.priv_pass_env.as_deref(),
            file: self.priv_pass_file.as_ref().map(SecretFile::path),
            literal: self.priv_pass.as_ref(),
        };
        match self.version {
            SnmpVersion::V2c => vec![community],
            SnmpVersion::V3 => [
                (self.auth.is_some(), auth),
                (self.privacy.is_some(), privacy),
            ]
            .into_iter()
            .filter_map(|(used, secret)| used.then_some(secret))
            .collect(),
        }
    }
}

/// Where one secret comes from: `<name>_env`, `<name>_file` or the literal `<name>`.
#[derive(Debug, Clone, Copy)]
pub struct SecretRef<'a> {
    pub name: &'static str,
    pub env: Option<&'a str>,
    pub file: Option<&'a std::path::Path>,
    pub literal: Option<&'a Redacted>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnmpVersion {
    V2c,
    V3,
}

impl FromStr for SnmpVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2c" => Ok(SnmpVersion::V2c),
            "3" => Ok(SnmpVersion::V3),
            _ => Err(format!("unknown SNMP version `{s}`: use 2c or 3")),
        }
    }
}

impl fmt::Display for SnmpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SnmpVersion::V2c => "2c",
            SnmpVersion::V3 => "3",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthProtocol {
    Sha,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrivProtocol {
    Aes128,
    /// AES-192 with the Blumenthal key extension (net-snmp's `AES-192`).
    Aes192,
    /// AES-256 with the Blumenthal key extension (net-snmp's `AES-256`).
    Aes256,
    /// AES-192 with the Reeder key extension that Cisco uses (net-snmp's `AES-192-C`).
    Aes192c,
    /// AES-256 with the Reeder key extension that Cisco uses (net-snmp's `AES-256-C`).
    Aes256c,
}

/// A file that holds a secret. It is known by its path relative to the inventory's root
/// (as written, stored and compared), so a moved or second checkout of the same inventory
/// is the same inventory, and read at its place on this machine.
#[derive(Debug, Clone, Eq)]
pub struct SecretFile {
    named: PathBuf,
    path: PathBuf,
}

impl SecretFile {
    pub fn new(named: impl Into<PathBuf>) -> Self {
        let named = named.into();
        Self {
            path: named.clone(),
            named,
        }
    }

    /// How the inventory names the file: relative to its root when the file is inside it.
    pub fn named(&self) -> &std::path::Path {
        &self.named
    }

    /// Where the file is read.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Names the file `named` and reads it at `path` (the loader's business: `named` is
    /// relative to the inventory's root, `path` where it is on this machine).
    pub(crate) fn place(&mut self, named: PathBuf, path: PathBuf) {
        self.named = named;
        self.path = path;
    }
}

impl PartialEq for SecretFile {
    fn eq(&self, other: &Self) -> bool {
        self.named == other.named
    }
}

impl Serialize for SecretFile {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.named.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SecretFile {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        PathBuf::deserialize(deserializer).map(SecretFile::new)
    }
}

impl JsonSchema for SecretFile {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        PathBuf::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        PathBuf::json_schema(generator)
    }
}

/// A secret given literally in the inventory. Its value leaves only through `expose`:
/// Debug and Serialize write `<redacted>`, and a bad value's error never quotes it.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted(String);

/// A string, or a number as YAML reads `community: 918273645`.
impl JsonSchema for Redacted {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Redacted".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["string", "integer"]})
    }
}

impl<'de> Deserialize<'de> for Redacted {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl serde::de::Visitor<'_> for SecretVisitor {
            type Value = Redacted;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret written as a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<Redacted, E> {
                Ok(Redacted(v.to_owned()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Redacted, E> {
                Ok(Redacted(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Redacted, E> {
                Ok(Redacted(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Redacted, E> {
                Err(E::custom("write the secret as a quoted string"))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Redacted, E> {
                Err(E::custom("write the secret as a quoted string"))
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

impl Redacted {
    pub const MARK: &'static str = "<redacted>";

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MARK)
    }
}

impl Serialize for Redacted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::MARK)
    }
}

/// Scalars written as strings in YAML, checked when loaded.
macro_rules! string_serde {
    ($ty:ty, $schema:expr) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = ScalarText::deserialize(deserializer)?;
                text.0.parse().map_err(serde::de::Error::custom)
            }
        }
        impl JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                $schema.try_into().expect("a JSON object is a schema")
            }
        }
    };
}

/// Prefixes that name the value they refuse, where ipnet says "invalid IP address syntax".
fn prefixes<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    struct Prefix(IpNet);
    impl<'de> Deserialize<'de> for Prefix {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let ScalarText(text) = ScalarText::deserialize(deserializer)?;
            parse_prefix(&text).map(Prefix).ok_or_else(|| {
                serde::de::Error::custom(format!("`{text}` is not an IPv6 or IPv4 prefix"))
            })
        }
    }
    let prefixes = Vec::<Prefix>::deserialize(deserializer)?;
    Ok(prefixes.into_iter().map(|p| p.0).collect())
}

/// An address as `IpAddr` reads it (as for every other address in the inventory; ipnet's
/// own parser also takes `010.0.0.0` and a `::` that stands for no group), `/` and a length
/// written plainly.
fn parse_prefix(text: &str) -> Option<IpNet> {
    let (addr, len) = text.split_once('/')?;
    let len: u8 = len.parse().ok().filter(|l: &u8| l.to_string() == len)?;
    IpNet::new(addr.parse().ok()?, len).ok()
}

/// A date written `2026-12-31`; a bad one says so, where chrono would say "input is out of
/// range".
fn date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    let Some(ScalarText(text)) = Option::<ScalarText>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse_date(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Parses a date written `YYYY-MM-DD` and nothing else (chrono alone also takes `+2026-1-5`).
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD, like 2026-12-31)"))
}

/// Accepts a string or a bare number (`version: 3`, `port: 8443`) as text.
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl serde::de::Visitor<'_> for TextVisitor {
            type Value = ScalarText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, v: &str) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_owned()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<ScalarText, E> {
                Ok(ScalarText(v.to_string()))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

string_serde!(
    Service,
    serde_json::json!({"type": "string", "pattern": pattern::service()})
);
string_serde!(
    SnmpVersion,
    serde_json::json!({"type": ["string", "integer"], "enum": ["2c", "3", 3]})
);
string_serde!(
    Endpoint,
    serde_json::json!({"type": "string", "description": "an IPv6 or IPv4 address, or a DNS name", "pattern": pattern::endpoint()})
);
string_serde!(
    Resolver,
    serde_json::json!({"type": "string", "description": "`[v6addr]:port`, `v4addr:port`, or an address (port 53)", "pattern": pattern::resolver()})
);
string_serde!(
    Rate,
    serde_json::json!({"type": "string", "pattern": pattern::rate()})
);
string_serde!(
    Period,
    serde_json::json!({"type": "string", "description": "a period of a day or more, such as 90d or 4w", "pattern": pattern::period()})
);
string_serde!(
    Interval,
    serde_json::json!({"type": "string", "description": "an interval longer than zero and at most a year, such as 1h or 15m", "pattern": pattern::timeout()})
);
string_serde!(
    Percent,
    serde_json::json!({"type": "string", "description": "a whole percentage, such as 10%", "pattern": pattern::percent()})
);
string_serde!(
    Timeout,
    serde_json::json!({"type": "string", "description": "a duration such as 5s or 1500ms", "pattern": pattern::timeout()})
);

/// A DNS resolver address; the port defaults to 53.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Resolver(pub SocketAddr);

impl fmt::Display for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Resolver {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<SocketAddr>()
            .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
            .map(Resolver)
            .map_err(|_| {
                format!("`{s}` is not a resolver address: write [fd00::53]:53 or 198.18.0.53:53")
            })
    }
}

/// A rate in events per second, written `500/s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate(pub u32);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_suffix("/s")
            .map(str::trim)
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n > 0)
            .map(Rate)
            .ok_or_else(|| {
                format!("`{s}` is not a rate: write a positive number per second, like 500/s")
            })
    }
}

/// A span of days, written like `90d`, `4w` or `1y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period(pub Duration);

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole days as days: humantime would write 90d as "2months 29days 2h 52m 48s".
        const DAY: u64 = 24 * 3600;
        match self.0.as_secs() {
            secs if secs % DAY == 0 && self.0.subsec_nanos() == 0 => write!(f, "{}d", secs / DAY),
            _ => humantime::format_duration(self.0).fmt(f),
        }
    }
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let day = Duration::from_secs(24 * 3600);
        duration_where(
            s,
            |d| d >= day,
            "a period of a day or more: write 90d, 4w or 1y",
        )
        .map(Period)
    }
}

/// `s` as a duration (`90d`, `1h 30m`, `1500ms`) that `fits`, or why not: "`s` is not
/// {what}".
fn duration_where(
    s: &str,
    fits: impl Fn(Duration) -> bool,
    what: &str,
) -> Result<Duration, String> {
    humantime::parse_duration(s)
        .ok()
        .filter(|d| fits(*d))
        .ok_or_else(|| format!("`{s}` is not {what}"))
}

/// A time limit, written like `5s`, `1500ms` or `1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeout(pub Duration);

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        humantime::format_duration(self.0).fmt(f)
    }
}

impl FromStr for Timeout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        duration_where(
            s,
            |d| !d.is_zero(),
            "a duration longer than zero: write 5s, 1500ms or 1m",
        )
        .map(Timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_of_whole_days_is_written_in_days() {
        let days = |n: u64| Period(Duration::from_secs(n * 24 * 3600));
        assert_eq!(days(90).to_string(), "90d");
        assert_eq!("90d".parse::<Period>().unwrap(), days(90));
        let longer = Period(Duration::from_secs(36 * 3600));
        assert_eq!(longer.to_string(), "1day 12h");
        assert_eq!(longer.to_string().parse::<Period>().unwrap(), longer);
    }
}
