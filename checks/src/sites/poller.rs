//! Polls 5G sites (sites.md): over SNMP the system group, the uplink's IF-MIB columns, its
//! IPv6 addresses from IP-MIB and the profile's radio columns; ICMP echo over both
//! families; then grades the poll against the site's previous one. Sites run side by side
//! up to the scan's concurrency and every site has a deadline, so a dead or trickling
//! router costs only its own time.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_snmp::Oid;
use chrono::Utc;
use futures::stream::{Stream, StreamExt};
use hickory_proto::rr::Name;
use sixfive_inventory::load::{SecretError, read_secret};
use sixfive_inventory::model::{self, Endpoint, Scan, Site, SnmpVersion};
use sixfive_inventory::results::{
    Family, ModemReport, PerFamily, RadioQuality, RadioReport, SiteReport, SiteState, SystemInfo,
    UplinkReport,
};

use crate::network::Network;
use crate::probe::count::{Outcome, ProbeKind, count};
use crate::probe::icmp::{Pings, series};
use crate::probe::snmp::{Agent, Bindings, Credentials, Snmp, SnmpError, SnmpValue, Sockets};
use crate::sites::grading::{self, Bands, CounterWidth, Observation};
use crate::sites::profiles::{Metric, MetricSpec, Profile, Row, ValueType};

/// A report with nothing read yet: every value unknown, the site unreachable.
fn unread(site: &Site, polled_at: chrono::DateTime<Utc>) -> SiteReport {
    SiteReport {
        id: site.id.clone(),
        state: SiteState::Unreachable,
        reasons: Vec::new(),
        polled_via: None,
        address: None,
        profile: site.profile.clone(),
        system: SystemInfo::default(),
        radio: RadioReport::default(),
        modem: ModemReport::default(),
        uplink: UplinkReport::default(),
        uptime_s: None,
        rebooted: false,
        wan_ipv6: None,
        latency_ms: PerFamily::default(),
        jitter_ms: PerFamily::default(),
        loss: PerFamily::default(),
        quality: RadioQuality::default(),
        polled_at,
        took_ms: 0.0,
    }
}

/// The report of a site whose poll failed inside sixfive: nothing is known of it.
fn failed(site: &Site, why: &str) -> SiteReport {
    SiteReport {
        reasons: vec![format!(
            "sixfive failed while polling this site (a bug, please report it): {why}"
        )],
        ..unread(site, Utc::now())
    }
}

/// Retries per SNMP request after its timeout: one, as LibreNMS and snmp_exporter do.
const RETRIES: u32 = 1;
/// Echo requests per family, this far apart.
pub const PINGS: u32 = 5;
const PING_INTERVAL: Duration = Duration::from_millis(100);
/// No uplink moves more than this; a larger rate is a counter reset.
const MAX_BPS: f64 = 100e9;

// Arcs, not Oids: an Oid cannot be a constant.
const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
const SYS_OBJECT_ID: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 2, 0];
const SYS_UPTIME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 3, 0];
const SYS_NAME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 5, 0];
const IF_NAME: [u32; 11] = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1];
const IF_OPER_STATUS: [u32; 10] = [1, 3, 6, 1, 2, 1, 2, 2, 1, 8];
const IF_IN_ERRORS: [u32; 10] = [1, 3, 6, 1, 2, 1, 2, 2, 1, 14];
const IF_OUT_ERRORS: [u32; 10] = [1, 3, 6, 1, 2, 1, 2, 2, 1, 20];
const IF_HC_IN_OCTETS: [u32; 11] = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6];
const IF_HC_OUT_OCTETS: [u32; 11] = [1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10];
/// ipAddressIfIndex for IPv6 rows (addrType 2); index `16.<address bytes>`.
const IP_ADDRESS_IF_INDEX_V6: [u32; 11] = [1, 3, 6, 1, 2, 1, 4, 34, 1, 3, 2];

pub struct SitePoller {
    network: Arc<Network>,
    sockets: Sockets,
    profiles: HashMap<String, Profile>,
    bands: Bands,
    pings: u32,
    deadline: Duration,
    sites_in_flight: usize,
}

impl SitePoller {
    /// A poller probing through `network`, which it may share with a host scanner.
    pub fn new(scan: &Scan, profiles: Vec<Profile>, pings: u32, network: Arc<Network>) -> Self {
        let snmp = scan.timeouts.snmp.0;
        Self {
            network,
            sockets: Sockets::default(),
            profiles: profiles.into_iter().map(|p| (p.name.clone(), p)).collect(),
            bands: Bands::default().with(&scan.grading),
            pings,
            // Room for five requests one after another, each with its retry: the system
            // group, then walks of a few rounds (they run side by side).
            deadline: snmp * (RETRIES + 1) * 5,
            // SNMP sessions are held to the concurrency by the network guard; more sites
            // than that are under way so that their pings overlap other sites' SNMP.
            sites_in_flight: scan.concurrency.max(1) as usize * 4,
        }
    }

    /// Polls the sites `sites` yields, as they come, yielding each report as it completes
    /// (not in input order); each starts from its previous report for counter deltas,
    /// reboots and hysteresis.
    pub fn poll_all<S>(self: &Arc<Self>, sites: S) -> impl Stream<Item = SiteReport> + use<S>
    where
        S: Stream<Item = (Site, Option<SiteReport>)> + Send + 'static,
    {
        let poller = Arc::clone(self);
        sites
            .map(move |(site, previous)| {
                let poller = Arc::clone(&poller);
                // Dropped with the stream when a run is cancelled: the site's probes stop.
                let task = tokio_util::task::AbortOnDropHandle::new(tokio::spawn({
                    let site = site.clone();
                    async move { poller.poll(&site, previous.as_ref()).await }
                }));
                async move {
                    match task.await {
                        Ok(report) => report,
                        Err(failure) => failed(&site, &crate::run::why(failure)),
                    }
                }
            })
            .buffer_unordered(self.sites_in_flight)
    }

    pub async fn poll(&self, site: &Site, previous: Option<&SiteReport>) -> SiteReport {
        let started = Instant::now();
        let polled_at = Utc::now();
        let (addresses, mut notes) = self.addresses(site).await;
        let snmp = self.read_snmp(site, &addresses);
        let (snmp, (pings_v6, pings_v4)) = futures::join!(snmp, self.ping(&addresses, &mut notes));
        let mut report = SiteReport {
            latency_ms: per_family(&pings_v6, &pings_v4, Pings::latency_ms),
            jitter_ms: per_family(&pings_v6, &pings_v4, Pings::jitter_ms),
            loss: per_family(&pings_v6, &pings_v4, Pings::loss),
            ..unread(site, polled_at)
        };
        let answered = |p: &Option<Pings>| p.as_ref().is_some_and(|p| !p.rtts.is_empty());
        let mut seen = Observation {
            icmp_answered: answered(&pings_v6) || answered(&pings_v4),
            latency_ms: worst(report.latency_ms),
            loss: worst(report.loss),
            previous_latency_ms: previous.and_then(|p| worst(p.latency_ms)),
            previous_loss: previous.and_then(|p| worst(p.loss)),
            previous_modem: previous.map(|p| p.modem.clone()),
            ..Observation::default()
        };
        match snmp {
            SnmpOutcome::Refused(why) => {
                seen.auth_failed = true;
                notes.push(why);
            }
            SnmpOutcome::Silent(why) => notes.extend(why),
            SnmpOutcome::Read(address, readings) => {
                seen.snmp_answered = true;
                report.polled_via = Some(Family::of(address));
                report.address = Some(address);
                self.account(&mut report, &mut seen, *readings, previous);
            }
        }
        let bands = self.bands.with(&site.grading);
        let graded = grading::grade(&seen, previous.map(|p| &p.quality), &bands);
        report.state = graded.state;
        report.reasons = graded.reasons;
        report.reasons.extend(notes);
        report.quality = graded.quality;
        report.took_ms = sixfive_inventory::results::millis(started.elapsed());
        report
    }

    /// Puts what SNMP read into the report, with rates, errors and reboots measured
    /// against the previous poll.
    fn account(
        &self,
        report: &mut SiteReport,
        seen: &mut Observation,
        readings: Readings,
        previous: Option<&SiteReport>,
    ) {
        // Rates and the reboot check measure time between readings, not between starts.
        report.polled_at = readings.read_at;
        report.system = readings.system;
        report.uptime_s = readings.uptime_ticks.map(|t| u64::from(t / 100));
        let elapsed = previous
            .and_then(|p| (report.polled_at - p.polled_at).to_std().ok())
            .unwrap_or_default();
        report.rebooted = match (previous.and_then(|p| p.uptime_s), readings.uptime_ticks) {
            (Some(before), Some(now)) => {
                let before = u32::try_from(before.saturating_mul(100)).unwrap_or(u32::MAX);
                grading::rebooted(before, now, elapsed)
            }
            _ => false,
        };
        let mut uplink = readings.uplink;
        let before = previous.map(|p| &p.uplink);
        let rate = |old: Option<u64>, new: Option<u64>| {
            grading::bits_per_second(
                old?,
                new?,
                CounterWidth::Bits64,
                elapsed,
                report.rebooted,
                MAX_BPS,
            )
        };
        uplink.in_bps = rate(before.and_then(|b| b.in_octets), uplink.in_octets);
        uplink.out_bps = rate(before.and_then(|b| b.out_octets), uplink.out_octets);
        seen.new_errors = match (before.and_then(uplink_errors), uplink_errors(&uplink)) {
            (Some(old), Some(new)) if !report.rebooted => new.checked_sub(old),
            _ => None,
        };
        seen.uplink_up = uplink.is_up();
        report.uplink = uplink;
        seen.radio = readings.radio.clone();
        report.radio = readings.radio;
        seen.modem = readings.modem.clone();
        report.modem = readings.modem;
        report.wan_ipv6.clone_from(&readings.wan_ipv6);
        seen.wan_ipv6 = readings.wan_ipv6;
        seen.rebooted = report.rebooted;
        seen.faults = readings.faults;
    }

    /// The site's management addresses, IPv6 first; names are resolved.
    async fn addresses(&self, site: &Site) -> (Vec<IpAddr>, Vec<String>) {
        let mut v6 = Vec::new();
        let mut v4 = Vec::new();
        let mut notes = Vec::new();
        for endpoint in site.address.iter() {
            match endpoint {
                Endpoint::Ip(ip @ IpAddr::V6(_)) => v6.push(*ip),
                Endpoint::Ip(ip @ IpAddr::V4(_)) => v4.push(*ip),
                Endpoint::Name(name) => match Name::from_ascii(name) {
                    Ok(name) => {
                        let resolvers = &self.network.resolvers;
                        let ((_, six), (_, four)) = futures::join!(
                            resolvers.addresses_v6(&name),
                            resolvers.addresses_v4(&name)
                        );
                        v6.extend(six.records().iter().map(|a| IpAddr::V6(*a)));
                        v4.extend(four.records().iter().map(|a| IpAddr::V4(*a)));
                    }
                    Err(e) => notes.push(format!("`{name}` is not a DNS name: {e}")),
                },
            }
        }
        if v6.is_empty() && v4.is_empty() {
            notes.push("no management address (the name does not resolve)".into());
        }
        v6.extend(v4);
        (v6, notes)
    }

    /// Tries the addresses in order until an agent answers or refuses.
    async fn read_snmp(&self, site: &Site, addresses: &[IpAddr]) -> SnmpOutcome {
        let credentials = match credentials(&site.snmp) {
            Ok(credentials) => credentials,
            Err(why) => return SnmpOutcome::Refused(why.to_string()),
        };
        let Some(profile) = self.profiles.get(&site.profile) else {
            return SnmpOutcome::Silent(vec![format!("unknown profile `{}`", site.profile)]);
        };
        let mut silent = Vec::new();
        // The deadline runs from when the site first holds a probe slot: waiting for
        // one behind other sites is not the agent's slowness.
        let mut deadline = None;
        for &address in addresses {
            let _guard = match self.network.guard(address, ProbeKind::Snmp).await {
                Ok(guard) => guard,
                Err(refused) => {
                    silent.push(refused.detail(address));
                    continue;
                }
            };
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + self.deadline);
            let target = SocketAddr::new(address, site.snmp.port);
            let timeout = self.network.timeouts.snmp.0;
            let attempt = async {
                let agent = Agent::connect(&self.sockets, target, &credentials, timeout, RETRIES);
                read(&agent.await?.paced(self.network.pace()), profile).await
            };
            let Ok(outcome) = tokio::time::timeout_at(deadline.into(), attempt).await else {
                count(ProbeKind::Snmp, address, Outcome::Timeout);
                silent.push(format!(
                    "the SNMP poll did not finish within its deadline of {} s (a slow or overloaded agent)",
                    self.deadline.as_secs()
                ));
                break;
            };
            count(
                ProbeKind::Snmp,
                address,
                outcome
                    .as_ref()
                    .map_or_else(SnmpError::outcome, |_| Outcome::Ok),
            );
            match outcome {
                Ok(mut readings) => {
                    // An agent that answers only on a later address (IPv4 after IPv6) is
                    // a site not ready for IPv6: say which addresses stayed silent.
                    silent.append(&mut readings.faults);
                    readings.faults = silent;
                    return SnmpOutcome::Read(address, Box::new(readings));
                }
                Err(SnmpError::AuthFailed(why)) => {
                    return SnmpOutcome::Refused(format!("SNMP over {address}: {why}"));
                }
                Err(e) => silent.push(format!("no SNMP answer from {address}: {e}")),
            }
        }
        SnmpOutcome::Silent(silent)
    }

    /// Echo series to the first IPv6 and the first IPv4 address, side by side.
    async fn ping(
        &self,
        addresses: &[IpAddr],
        notes: &mut Vec<String>,
    ) -> (Option<Pings>, Option<Pings>) {
        if self.pings == 0 {
            return (None, None);
        }
        let first = |v6: bool| addresses.iter().copied().find(|a| a.is_ipv6() == v6);
        let one = |address: Option<IpAddr>| async move {
            let address = address?;
            // Echoes are single packets: the rate limit paces them, but they take no
            // probe slot, so an SNMP session never waits for another site's pings.
            let result = async {
                let client = self
                    .network
                    .icmp(address.is_ipv6())
                    .map_err(|e| e.to_string())?;
                self.network.admit(address).map_err(|r| r.detail(address))?;
                let timing = (PING_INTERVAL, self.network.timeouts.connect.0);
                let pace = self.network.pace();
                let pings = series(client, address, self.pings, timing, Some(&pace)).await;
                count(ProbeKind::Icmp, address, Pings::outcome(&pings));
                pings.map_err(|e| e.to_string())
            };
            Some(result.await)
        };
        let (v6, v4) = futures::join!(one(first(true)), one(first(false)));
        let mut keep = |pings: Option<Result<Pings, String>>| match pings? {
            Ok(pings) => Some(pings),
            Err(why) => {
                notes.push(why);
                None
            }
        };
        (keep(v6), keep(v4))
    }
}

enum SnmpOutcome {
    Read(IpAddr, Box<Readings>),
    /// The agent answered but refused the credentials.
    Refused(String),
    /// No agent answered, with why per address.
    Silent(Vec<String>),
}

/// What one SNMP poll read.
#[derive(Debug)]
pub(crate) struct Readings {
    /// When the system group (sysUpTime) was read.
    read_at: chrono::DateTime<Utc>,
    system: SystemInfo,
    uptime_ticks: Option<u32>,
    uplink: UplinkReport,
    wan_ipv6: Option<Vec<Ipv6Addr>>,
    radio: RadioReport,
    modem: ModemReport,
    faults: Vec<String>,
}

/// Reads a router: the system group first (it tells whether the agent talks to us), then
/// interfaces, addresses and radio side by side. A table that fails is a fault; the rest
/// of the poll stands.
pub(crate) async fn read(agent: &dyn Snmp, profile: &Profile) -> Result<Readings, SnmpError> {
    let system = agent
        .get(&[SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME].map(Oid::from))
        .await?;
    let mut readings = Readings {
        read_at: Utc::now(),
        system: SystemInfo::default(),
        uptime_ticks: None,
        uplink: UplinkReport::default(),
        wan_ipv6: None,
        radio: RadioReport::default(),
        modem: ModemReport::default(),
        faults: Vec::new(),
    };
    for (oid, value) in &system {
        match (oid.arcs().get(7), value) {
            (Some(1), _) => readings.system.descr = text(value),
            (Some(2), SnmpValue::Oid(id)) => readings.system.object_id = Some(id.to_string()),
            (Some(3), SnmpValue::TimeTicks(ticks)) => readings.uptime_ticks = Some(*ticks),
            (Some(5), _) => readings.system.name = text(value),
            _ => {}
        }
    }
    let interface_roots: [Oid; 6] = [
        IF_NAME.into(),
        IF_OPER_STATUS.into(),
        IF_IN_ERRORS.into(),
        IF_OUT_ERRORS.into(),
        IF_HC_IN_OCTETS.into(),
        IF_HC_OUT_OCTETS.into(),
    ];
    let address_roots = [Oid::from(IP_ADDRESS_IF_INDEX_V6)];
    let (radio_metrics, radio_roots): (Vec<(Metric, &MetricSpec)>, Vec<Oid>) = profile
        .metrics
        .iter()
        .filter_map(|(metric, spec)| Some(((*metric, spec), profile.column(*metric)?)))
        .unzip();
    let (interfaces, addresses, radio) = futures::join!(
        agent.walk(&interface_roots),
        agent.walk(&address_roots),
        async {
            if radio_roots.is_empty() {
                Ok(Vec::new())
            } else {
                agent.walk(&radio_roots).await
            }
        }
    );
    let unread = |table: &str, error: SnmpError| format!("could not read the {table}: {error}");
    let interfaces_read = interfaces.is_ok();
    let uplink_index = match interfaces {
        Ok(columns) => {
            let (uplink, index) = uplink(&columns, profile);
            readings.uplink = uplink;
            index
        }
        Err(e) => {
            readings.faults.push(unread("interface table (IF-MIB)", e));
            None
        }
    };
    if interfaces_read && uplink_index.is_none() {
        readings.faults.push(format!(
            "no interface is named like the uplink ({}*): set `uplink:` in the profile",
            profile.uplink.join("*, ")
        ));
    }
    match (addresses, uplink_index) {
        (Ok(columns), Some(uplink)) => {
            readings.wan_ipv6 = Some(wan_ipv6(&columns[0], uplink));
        }
        // Without the uplink, a LAN address would pass for the WAN's: unknown.
        (Ok(_), None) => {}
        (Err(e), _) => readings.faults.push(unread("address table (IP-MIB)", e)),
    }
    match radio {
        Ok(columns) => {
            // One modem's row for every metric without a row of its own: the profile's (a
            // number, or the uplink's ifIndex), else the first row with a signal number
            // that is not "not available" (a Peplink's idle modem answers -9999 everywhere
            // in row 0; its temperature or a text column says nothing), else the first row
            // seen.
            let row_of = |oid: &Oid| oid.arcs().last().copied();
            let live = || {
                radio_metrics
                    .iter()
                    .zip(&columns)
                    .filter(|((metric, spec), _)| metric.is_signal() && spec.row.is_none())
                    .flat_map(|((_, spec), rows)| {
                        rows.iter()
                            .filter(|(_, value)| number(spec, value).is_some())
                            .filter_map(|(oid, _)| row_of(oid))
                    })
                    .min()
            };
            let first = || {
                radio_metrics
                    .iter()
                    .zip(&columns)
                    .filter(|((_, spec), _)| spec.row.is_none())
                    .find_map(|(_, rows)| row_of(&rows.first()?.0))
            };
            let chosen = match profile.row {
                Some(Row::Index(index)) => Some(index),
                Some(Row::Uplink) => uplink_index,
                None => None,
            };
            let row = chosen.or_else(live).or_else(first);
            for ((metric, spec), rows) in radio_metrics.iter().zip(&columns) {
                let row = spec.row.or(row);
                let value = rows
                    .iter()
                    .find(|(oid, _)| oid.arcs().last().copied() == row)
                    .map(|(_, v)| v);
                set_metric(&mut readings, *metric, spec, value);
            }
        }
        Err(e) => readings.faults.push(unread("radio table", e)),
    }
    Ok(readings)
}

/// The uplink's columns: the first interface the profile names as uplink, preferring
/// one that is up.
fn uplink<'a>(columns: &'a [Bindings], profile: &Profile) -> (UplinkReport, Option<u32>) {
    let by_index = |column: &'a Bindings| -> BTreeMap<u32, &'a SnmpValue> {
        column
            .iter()
            .filter_map(|(oid, value)| Some((*oid.arcs().last()?, value)))
            .collect()
    };
    let [names, status, in_errors, out_errors, in_octets, out_octets] =
        [0, 1, 2, 3, 4, 5].map(|i| by_index(&columns[i]));
    let candidates: Vec<(u32, String)> = names
        .iter()
        .filter_map(|(index, value)| Some((*index, text(value)?)))
        .filter(|(_, name)| profile.is_uplink(name))
        .collect();
    let is_up = |index: &u32| matches!(status.get(index), Some(SnmpValue::Integer(1)));
    let Some((index, name)) = candidates
        .iter()
        .find(|(index, _)| is_up(index))
        .or_else(|| candidates.first())
        .cloned()
    else {
        return (UplinkReport::default(), None);
    };
    let number = |column: &BTreeMap<u32, &SnmpValue>| match column.get(&index) {
        Some(SnmpValue::Unsigned(n)) => Some(*n),
        Some(SnmpValue::Integer(n)) => u64::try_from(*n).ok(),
        _ => None,
    };
    let report = UplinkReport {
        name: Some(name),
        if_index: Some(index),
        oper_status: match status.get(&index) {
            Some(SnmpValue::Integer(code)) => Some(oper_status(*code)),
            _ => None,
        },
        in_errors: number(&in_errors),
        out_errors: number(&out_errors),
        in_octets: number(&in_octets),
        out_octets: number(&out_octets),
        in_bps: None,
        out_bps: None,
    };
    (report, Some(index))
}

/// IF-MIB ifOperStatus by name.
fn oper_status(code: i64) -> String {
    match code {
        1 => "up",
        2 => "down",
        3 => "testing",
        5 => "dormant",
        6 => "notPresent",
        7 => "lowerLayerDown",
        _ => "unknown",
    }
    .into()
}

/// IPv6 addresses other than link-local, loopback and multicast on the uplink.
fn wan_ipv6(rows: &Bindings, uplink: u32) -> Vec<Ipv6Addr> {
    let mut addresses: Vec<Ipv6Addr> = rows
        .iter()
        .filter_map(|(oid, value)| {
            let index = oid.arcs().get(IP_ADDRESS_IF_INDEX_V6.len()..)?;
            let (16, bytes) = index.split_first()? else {
                return None;
            };
            let octets: [u8; 16] = bytes
                .iter()
                .map(|b| u8::try_from(*b).ok())
                .collect::<Option<Vec<u8>>>()?
                .try_into()
                .ok()?;
            let on = match value {
                SnmpValue::Integer(i) => u32::try_from(*i).ok(),
                SnmpValue::Unsigned(u) => u32::try_from(*u).ok(),
                _ => None,
            };
            Some((Ipv6Addr::from(octets), on))
        })
        .filter(|(address, on)| *on == Some(uplink) && routable(address))
        .map(|(address, _)| address)
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses
}

fn routable(address: &Ipv6Addr) -> bool {
    !(address.is_unicast_link_local()
        || address.is_loopback()
        || address.is_unspecified()
        || address.is_multicast())
}

/// Decodes a radio or modem value as the profile says; "not available" and unparsable
/// values stay unknown, never 0.
fn set_metric(
    readings: &mut Readings,
    metric: Metric,
    spec: &MetricSpec,
    value: Option<&SnmpValue>,
) {
    let number = || number(spec, value?);
    let words = || match value? {
        SnmpValue::Integer(i) => Some(i.to_string()),
        SnmpValue::Unsigned(u) => Some(u.to_string()),
        other => text(other),
    };
    let (radio, modem) = (&mut readings.radio, &mut readings.modem);
    match metric {
        Metric::RssiDbm => radio.rssi_dbm = number(),
        Metric::RsrpDbm => radio.rsrp_dbm = number(),
        Metric::RsrqDb => radio.rsrq_db = number(),
        Metric::SinrDb => radio.sinr_db = number(),
        Metric::SnrDb => radio.snr_db = number(),
        Metric::NrRsrpDbm => radio.nr_rsrp_dbm = number(),
        Metric::NrRsrqDb => radio.nr_rsrq_db = number(),
        Metric::NrSinrDb => radio.nr_sinr_db = number(),
        Metric::Operator => radio.operator = words(),
        Metric::Technology => radio.technology = words(),
        Metric::CellId => radio.cell_id = words(),
        Metric::Band => radio.band = words(),
        Metric::ConnectionState => modem.connection_state = words(),
        Metric::SimState => modem.sim_state = words(),
        Metric::NetworkState => modem.network_state = words(),
        Metric::TemperatureC => modem.temperature_c = number(),
        // Whole seconds; a negative count is a broken agent, not a time.
        Metric::ConnectionUptimeS => {
            modem.connection_uptime_s = number().filter(|s| *s >= 0.0).map(|s| s as u64);
        }
    }
}

/// A radio number as `spec` says it is sent; a "not available" sentinel or an unparsable
/// value is None.
fn number(spec: &MetricSpec, value: &SnmpValue) -> Option<f64> {
    let raw = match (spec.value_type, value) {
        (_, SnmpValue::Integer(i)) => *i as f64,
        (_, SnmpValue::Unsigned(u)) => *u as f64,
        (ValueType::NumberString, SnmpValue::Text(_)) => text(value)?.parse().ok()?,
        _ => return None,
    };
    let sentinel = raw.fract() == 0.0 && spec.not_available.contains(&(raw as i64));
    (!sentinel && raw.is_finite())
        .then(|| sixfive_inventory::results::thousandths(raw / spec.divisor))
}

/// A printable string value, trimmed; empty is unknown.
fn text(value: &SnmpValue) -> Option<String> {
    match value {
        SnmpValue::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes).trim().to_owned();
            (!text.is_empty()).then_some(text)
        }
        _ => None,
    }
}

fn per_family(
    v6: &Option<Pings>,
    v4: &Option<Pings>,
    measure: fn(&Pings) -> Option<f64>,
) -> PerFamily {
    PerFamily {
        v6: v6.as_ref().and_then(measure),
        v4: v4.as_ref().and_then(measure),
    }
}

fn worst(values: PerFamily) -> Option<f64> {
    match (values.v6, values.v4) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Why a site's credentials cannot be used: where a secret should come from, never its
/// value.
#[derive(Debug, thiserror::Error)]
enum CredentialsError {
    #[error("no SNMP {0} given")]
    Missing(&'static str),
    #[error("cannot read the SNMP secret: {0}")]
    Unreadable(SecretError),
    #[error("SNMPv3 without a `user`")]
    NoUser,
}

/// The site's credentials with their secrets read.
fn credentials(snmp: &model::Snmp) -> Result<Credentials, CredentialsError> {
    let secret = |name: &'static str| {
        let reference = snmp
            .secrets()
            .into_iter()
            .find(|s| s.name == name)
            .ok_or(CredentialsError::Missing(name))?;
        read_secret(&reference).map_err(CredentialsError::Unreadable)
    };
    Ok(match snmp.version {
        SnmpVersion::V2c => Credentials::V2c {
            community: secret("community")?,
        },
        SnmpVersion::V3 => Credentials::V3 {
            user: snmp.user.clone().ok_or(CredentialsError::NoUser)?,
            auth: match snmp.auth {
                Some(protocol) => Some((auth_protocol(protocol), secret("auth_pass")?)),
                None => None,
            },
            privacy: match snmp.privacy {
                Some(protocol) => Some((priv_protocol(protocol), secret("priv_pass")?)),
                None => None,
            },
        },
    })
}

fn auth_protocol(protocol: model::AuthProtocol) -> async_snmp::AuthProtocol {
    use async_snmp::AuthProtocol as A;
    match protocol {
        model::AuthProtocol::Sha => A::Sha1,
        model::AuthProtocol::Sha224 => A::Sha224,
        model::AuthProtocol::Sha256 => A::Sha256,
        model::AuthProtocol::Sha384 => A::Sha384,
        model::AuthProtocol::Sha512 => A::Sha512,
    }
}

fn priv_protocol(protocol: model::PrivProtocol) -> async_snmp::PrivProtocol {
    use async_snmp::PrivProtocol as P;
    match protocol {
        model::PrivProtocol::Aes128 => P::Aes128,
        model::PrivProtocol::Aes192 => P::Aes192Blumenthal,
        model::PrivProtocol::Aes256 => P::Aes256Blumenthal,
        model::PrivProtocol::Aes192c => P::Aes192Reeder,
        model::PrivProtocol::Aes256c => P::Aes256Reeder,
    }
}

/// An uplink's errors in and out, as one count; None when the agent gives neither.
fn uplink_errors(uplink: &UplinkReport) -> Option<u64> {
    match (uplink.in_errors, uplink.out_errors) {
        (None, None) => None,
        // An agent's Counter64 can be anything, u64::MAX too.
        (i, o) => Some(i.unwrap_or(0).saturating_add(o.unwrap_or(0))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::snmp::BrokenWalk;
    use crate::sites::profiles::shipped;
    use async_snmp::oid;
    use futures::future::{BoxFuture, FutureExt};

    /// An agent answering from a table of OIDs, walking it in order; `broken` makes walks
    /// under that root fail as a non-increasing agent's would.
    struct Table {
        values: BTreeMap<Oid, SnmpValue>,
        broken: Option<Oid>,
    }

    impl Snmp for Table {
        fn get<'a>(&'a self, oids: &'a [Oid]) -> BoxFuture<'a, Result<Bindings, SnmpError>> {
            let rows = crate::fuzzing::recorded_get(&self.values, oids);
            async move { Ok(rows) }.boxed()
        }

        fn walk<'a>(&'a self, roots: &'a [Oid]) -> BoxFuture<'a, Result<Vec<Bindings>, SnmpError>> {
            let result = roots
                .iter()
                .map(|root| {
                    if self.broken.as_ref().is_some_and(|b| root.starts_with(b)) {
                        return Err(BrokenWalk::NotIncreasing {
                            oid: oid(&IF_OPER_STATUS, &[1]),
                            previous: oid(&IF_OPER_STATUS, &[2]),
                        }
                        .into());
                    }
                    Ok(self
                        .values
                        .iter()
                        .filter(|(oid, _)| oid.starts_with(root))
                        .map(|(oid, value)| (oid.clone(), value.clone()))
                        .collect())
                })
                .collect();
            async move { result }.boxed()
        }
    }

    fn oid(base: &[u32], index: &[u32]) -> Oid {
        Oid::new(base.iter().chain(index).copied())
    }

    fn text(value: &str) -> SnmpValue {
        SnmpValue::Text(value.as_bytes().to_vec())
    }

    fn address_row(address: &str) -> Oid {
        let bytes = address.parse::<Ipv6Addr>().unwrap().octets();
        let mut index = vec![16];
        index.extend(bytes.iter().map(|b| u32::from(*b)));
        oid(&IP_ADDRESS_IF_INDEX_V6, &index)
    }

    /// A Teltonika RUTX with a down second modem interface before its live one.
    fn rutx() -> Table {
        let modem = |column: u32| oid!(1, 3, 6, 1, 4, 1, 48690, 2, 2, 1, column, 1);
        let values = BTreeMap::from([
            (SYS_NAME.into(), text("hai-chau-01")),
            (SYS_UPTIME.into(), SnmpValue::TimeTicks(4_320_000)),
            (
                SYS_OBJECT_ID.into(),
                SnmpValue::Oid(oid!(1, 3, 6, 1, 4, 1, 48690)),
            ),
            (oid(&IF_NAME, &[1]), text("lo")),
            (oid(&IF_NAME, &[2]), text("mob1s1a1")),
            (oid(&IF_NAME, &[3]), text("wwan0")),
            (oid(&IF_OPER_STATUS, &[1]), SnmpValue::Integer(1)),
            (oid(&IF_OPER_STATUS, &[2]), SnmpValue::Integer(2)),
            (oid(&IF_OPER_STATUS, &[3]), SnmpValue::Integer(1)),
            (oid(&IF_IN_ERRORS, &[3]), SnmpValue::Unsigned(12)),
            (oid(&IF_OUT_ERRORS, &[3]), SnmpValue::Unsigned(0)),
            (oid(&IF_HC_IN_OCTETS, &[3]), SnmpValue::Unsigned(5_000_000)),
            (oid(&IF_HC_OUT_OCTETS, &[3]), SnmpValue::Unsigned(1_000)),
            (address_row("fd00:5d::1"), SnmpValue::Integer(3)),
            (address_row("fe80::1"), SnmpValue::Integer(3)),
            (address_row("fd00:99::1"), SnmpValue::Integer(2)),
            (modem(13), text("Viettel")),
            (modem(16), text("5G-SA")),
            (modem(19), text("24.5")),
            (modem(20), text("-78")),
            (modem(21), text(" N/A ")),
        ]);
        Table {
            values,
            broken: None,
        }
    }

    fn profile(name: &str) -> Profile {
        shipped().into_iter().find(|p| p.name == name).unwrap()
    }

    #[test]
    fn an_uplinks_errors_add_up_without_overflow() {
        let uplink = |in_errors, out_errors| UplinkReport {
            in_errors,
            out_errors,
            ..UplinkReport::default()
        };
        assert_eq!(uplink_errors(&uplink(None, None)), None);
        assert_eq!(uplink_errors(&uplink(Some(3), None)), Some(3));
        assert_eq!(uplink_errors(&uplink(Some(3), Some(4))), Some(7));
        assert_eq!(
            uplink_errors(&uplink(Some(u64::MAX), Some(1))),
            Some(u64::MAX)
        );
    }

    #[test]
    fn credentials_that_cannot_be_used_say_where_never_what() {
        let snmp = |yaml: &str| serde_saphyr::from_str::<model::Snmp>(yaml).unwrap();
        let no_user = snmp("version: \"3\"\nauth: sha256\nauth_pass: s3cret-key\n");
        assert_eq!(
            credentials(&no_user).unwrap_err().to_string(),
            "SNMPv3 without a `user`"
        );
        let unset = snmp("version: 2c\ncommunity_env: SIXFIVE_TEST_NEVER_SET\n");
        let error = credentials(&unset).unwrap_err().to_string();
        assert!(
            error.starts_with("cannot read the SNMP secret: ")
                && error.contains("SIXFIVE_TEST_NEVER_SET"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn teltonika_numbers_read_as_strings_or_integers() {
        let modem = |column: u32| oid!(1, 3, 6, 1, 4, 1, 48690, 2, 2, 1, column, 1);
        for name in ["teltonika-rutx", "teltonika-rutm"] {
            // A RUTM55 sends RSSI as a string; a TRB500 sends RSRP as an integer.
            let mut router = rutx();
            router.values.insert(modem(12), text("-69"));
            router.values.insert(modem(20), SnmpValue::Integer(-101));
            let radio = read(&router, &profile(name)).await.unwrap().radio;
            assert_eq!(radio.rssi_dbm, Some(-69.0), "{name}");
            assert_eq!(radio.rsrp_dbm, Some(-101.0), "{name}");
            assert_eq!(radio.sinr_db, Some(24.5), "{name}");
            router.values.insert(modem(12), SnmpValue::Integer(-70));
            let radio = read(&router, &profile(name)).await.unwrap().radio;
            assert_eq!(radio.rssi_dbm, Some(-70.0), "{name}");
        }
    }

    #[tokio::test]
    async fn a_router_is_read_as_its_profile_says() {
        let readings = read(&rutx(), &profile("teltonika-rutx")).await.unwrap();
        assert_eq!(readings.system.name.as_deref(), Some("hai-chau-01"));
        assert_eq!(
            readings.system.object_id.as_deref(),
            Some("1.3.6.1.4.1.48690")
        );
        assert_eq!(readings.uptime_ticks, Some(4_320_000));
        let uplink = &readings.uplink;
        assert_eq!(
            uplink.name.as_deref(),
            Some("wwan0"),
            "the modem interface that is up"
        );
        assert_eq!(uplink.oper_status.as_deref(), Some("up"));
        assert_eq!(
            (uplink.in_errors, uplink.in_octets),
            (Some(12), Some(5_000_000))
        );
        assert_eq!(
            readings.wan_ipv6,
            Some(vec!["fd00:5d::1".parse().unwrap()]),
            "neither link-local nor another interface's address"
        );
        let radio = &readings.radio;
        assert_eq!(radio.technology.as_deref(), Some("5G-SA"));
        assert_eq!(radio.operator.as_deref(), Some("Viettel"));
        assert_eq!((radio.rsrp_dbm, radio.sinr_db), (Some(-78.0), Some(24.5)));
        assert_eq!(
            radio.rsrq_db, None,
            "a string that is no number is unknown, not 0"
        );
        assert_eq!(radio.rssi_dbm, None, "a column the agent lacks");
        assert!(readings.faults.is_empty(), "{:?}", readings.faults);
    }

    #[tokio::test]
    async fn a_profile_row_picks_the_modem_among_several() {
        let mut router = rutx();
        let second = |column: u32| oid!(1, 3, 6, 1, 4, 1, 48690, 2, 2, 1, column, 2);
        router.values.insert(second(20), text("-101"));
        router.values.insert(second(16), text("LTE"));
        let mut profile = profile("teltonika-rutx");
        let readings = read(&router, &profile).await.unwrap();
        assert_eq!(
            readings.radio.rsrp_dbm,
            Some(-78.0),
            "the first row by default"
        );
        profile.row = Some(Row::Index(2));
        let readings = read(&router, &profile).await.unwrap();
        assert_eq!(readings.radio.rsrp_dbm, Some(-101.0));
        assert_eq!(readings.radio.technology.as_deref(), Some("LTE"));
        assert_eq!(readings.radio.sinr_db, None, "the second modem has no SINR");
    }

    #[tokio::test]
    async fn an_idle_modem_in_row_0_gives_way_to_the_active_one() {
        let peplink =
            |column: u32, row: u32| oid!(1, 3, 6, 1, 4, 1, 23695, 200, 1, 12, 1, 1, 1, column, row);
        let mut router = rutx();
        for column in [3, 4, 5, 7, 8] {
            router
                .values
                .insert(peplink(column, 0), SnmpValue::Integer(-9999));
        }
        router.values.insert(peplink(7, 1), SnmpValue::Integer(-97));
        router.values.insert(peplink(9, 0), text("LTE"));
        router.values.insert(peplink(9, 1), text("5G"));
        router.values.insert(peplink(10, 1), text("n78"));
        let readings = read(&router, &profile("peplink")).await.unwrap();
        assert_eq!(readings.radio.rsrp_dbm, Some(-97.0));
        assert_eq!(readings.radio.technology.as_deref(), Some("5G"));
        assert_eq!(readings.radio.band.as_deref(), Some("n78"));
    }

    #[tokio::test]
    async fn only_a_signal_number_tells_the_live_modem_row() {
        let modem = |column: u32, row: u32| oid!(1, 3, 6, 1, 4, 1, 48690, 2, 2, 1, column, row);
        let mut router = rutx();
        router
            .values
            .retain(|oid, _| !oid.starts_with(&oid!(1, 3, 6, 1, 4, 1, 48690)));
        // Row 1 an empty slot that still reports a temperature and a SIM state; row 2 the
        // modem in service.
        router.values.insert(modem(17, 1), SnmpValue::Integer(300));
        router.values.insert(modem(9, 1), text("not inserted"));
        router.values.insert(modem(9, 2), text("inserted"));
        router.values.insert(modem(17, 2), SnmpValue::Integer(450));
        router.values.insert(modem(20, 2), text("-88"));
        let readings = read(&router, &profile("teltonika-rutx")).await.unwrap();
        assert_eq!(readings.radio.rsrp_dbm, Some(-88.0));
        assert_eq!(readings.modem.sim_state.as_deref(), Some("inserted"));
        assert_eq!(readings.modem.temperature_c, Some(45.0));
    }

    #[tokio::test]
    async fn a_teltonika_before_rutos_7_is_read_from_its_scalars() {
        let scalar = |n: u32| oid!(1, 3, 6, 1, 4, 1, 48690, 2, n, 0);
        let mut router = rutx();
        router.values.insert(scalar(4), text("-65"));
        router.values.insert(scalar(5), text("Viettel"));
        router.values.insert(scalar(8), text("LTE"));
        router.values.insert(scalar(21), text("3F2A"));
        router.values.insert(scalar(22), text("12.4"));
        router.values.insert(scalar(23), text("-93"));
        router.values.insert(scalar(24), text("-11"));
        let radio = read(&router, &profile("teltonika-legacy"))
            .await
            .unwrap()
            .radio;
        assert_eq!(
            (radio.rssi_dbm, radio.sinr_db, radio.rsrp_dbm, radio.rsrq_db),
            (Some(-65.0), Some(12.4), Some(-93.0), Some(-11.0))
        );
        assert_eq!(radio.operator.as_deref(), Some("Viettel"));
        assert_eq!(radio.technology.as_deref(), Some("LTE"));
        assert_eq!(radio.cell_id.as_deref(), Some("3F2A"));
        router.values.insert(scalar(1), text("inserted"));
        router.values.insert(scalar(3), text("registered (home)"));
        router.values.insert(scalar(7), text("connected"));
        router.values.insert(scalar(9), text("412"));
        let modem = read(&router, &profile("teltonika-legacy"))
            .await
            .unwrap()
            .modem;
        assert_eq!(
            modem,
            ModemReport {
                connection_state: Some("connected".into()),
                sim_state: Some("inserted".into()),
                network_state: Some("registered (home)".into()),
                temperature_c: Some(41.2),
                connection_uptime_s: None,
            }
        );
    }

    #[tokio::test]
    async fn the_modem_state_temperature_and_connection_uptime_are_read() {
        let modem = |column: u32| oid!(1, 3, 6, 1, 4, 1, 48690, 2, 2, 1, column, 1);
        let mut router = rutx();
        router.values.insert(modem(9), text("inserted"));
        router.values.insert(modem(11), text("Registered, home"));
        router.values.insert(modem(15), text("Connected"));
        router.values.insert(modem(17), SnmpValue::Integer(430));
        // A single value beside the modem table, as a RUTM55 answers it.
        router.values.insert(
            oid!(1, 3, 6, 1, 4, 1, 48690, 2, 3, 0),
            SnmpValue::Unsigned(366_303),
        );
        for name in ["teltonika-rutx", "teltonika-rutm"] {
            let readings = read(&router, &profile(name)).await.unwrap();
            assert_eq!(
                readings.modem,
                ModemReport {
                    connection_state: Some("Connected".into()),
                    sim_state: Some("inserted".into()),
                    network_state: Some("Registered, home".into()),
                    temperature_c: Some(43.0),
                    connection_uptime_s: Some(366_303),
                },
                "{name}"
            );
            assert_eq!(
                readings.radio.rsrp_dbm,
                Some(-78.0),
                "{name}: the uptime's row 0 is not the modem's row"
            );
        }
        router.values.insert(modem(17), text("not a temperature"));
        let readings = read(&router, &profile("teltonika-rutx")).await.unwrap();
        assert_eq!(readings.modem.temperature_c, None);
    }

    #[tokio::test]
    async fn a_mikrotik_modem_row_is_the_uplink_interface() {
        let lte =
            |column: u32, row: u32| oid!(1, 3, 6, 1, 4, 1, 14988, 1, 1, 16, 1, 1, column, row);
        let mut router = rutx();
        router.values.insert(oid(&IF_NAME, &[7]), text("lte1"));
        router
            .values
            .insert(oid(&IF_OPER_STATUS, &[7]), SnmpValue::Integer(1));
        // Row 3 is another LTE interface's, which is down; row 7 is the uplink's.
        router.values.insert(oid(&IF_NAME, &[3]), text("lte2"));
        router
            .values
            .insert(oid(&IF_OPER_STATUS, &[3]), SnmpValue::Integer(2));
        router.values.insert(lte(4, 3), SnmpValue::Integer(-120));
        router.values.insert(lte(4, 7), SnmpValue::Integer(-88));
        router
            .values
            .insert(lte(5, 7), SnmpValue::Integer(2_345_678));
        router.values.insert(lte(14, 7), text("5G NSA"));
        let readings = read(&router, &profile("mikrotik")).await.unwrap();
        assert_eq!(readings.uplink.name.as_deref(), Some("lte1"));
        assert_eq!(readings.radio.rsrp_dbm, Some(-88.0));
        assert_eq!(readings.radio.cell_id.as_deref(), Some("2345678"));
        assert_eq!(readings.radio.technology.as_deref(), Some("5G NSA"));
    }

    #[tokio::test]
    async fn sentinels_and_divisors_and_a_broken_table_leave_the_rest_standing() {
        let cisco = |column: u32| oid!(1, 3, 6, 1, 4, 1, 9, 9, 817, 1, 1, 1, 1, 1, column, 1001);
        let mut router = rutx();
        router.values.insert(cisco(1), SnmpValue::Integer(-82));
        router.values.insert(cisco(2), SnmpValue::Integer(-105));
        router.values.insert(cisco(4), SnmpValue::Integer(145));
        router
            .values
            .insert(oid(&IF_NAME, &[4]), text("Cellular0/1/0"));
        // CISCO-WAN-3G-MIB: RSSI (c3gCurrentGsmRssi) and cell id, at the modem's row.
        let rssi = oid!(1, 3, 6, 1, 4, 1, 9, 9, 661, 1, 3, 4, 1, 1, 1, 1001);
        let cell = oid!(1, 3, 6, 1, 4, 1, 9, 9, 661, 1, 3, 2, 1, 13, 1001);
        router.values.insert(rssi, SnmpValue::Integer(-71));
        router.values.insert(cell, SnmpValue::Integer(43981));
        let readings = read(&router, &profile("cisco-cellular")).await.unwrap();
        assert_eq!(
            readings.radio.rssi_dbm,
            Some(-71.0),
            "a second table, same row"
        );
        assert_eq!(readings.radio.cell_id.as_deref(), Some("43981"));
        assert_eq!(readings.radio.rsrp_dbm, Some(-82.0));
        assert_eq!(readings.radio.rsrq_db, Some(-10.5), "tenths of a dB");
        assert_eq!(readings.radio.sinr_db, Some(14.5));
        assert_eq!(readings.uplink.name.as_deref(), Some("Cellular0/1/0"));
        assert_eq!(
            readings.wan_ipv6,
            Some(vec![]),
            "nothing on the cellular interface"
        );

        let peplink = |column: u32| oid!(1, 3, 6, 1, 4, 1, 23695, 200, 1, 12, 1, 1, 1, column, 1);
        router.values.insert(peplink(7), SnmpValue::Integer(-9999));
        router.values.insert(peplink(8), SnmpValue::Integer(-11));
        router.broken = Some(IF_OPER_STATUS.into());
        let readings = read(&router, &profile("peplink")).await.unwrap();
        assert_eq!(readings.radio.rsrp_dbm, None, "-9999 means not available");
        assert_eq!(readings.radio.rsrq_db, Some(-11.0));
        assert_eq!(readings.uplink, UplinkReport::default());
        assert_eq!(
            readings.wan_ipv6, None,
            "without a known uplink, no address can be called the WAN's"
        );
        assert_eq!(readings.faults.len(), 1, "{:?}", readings.faults);
        assert!(
            readings.faults[0].contains("does not follow"),
            "{:?}",
            readings.faults
        );
    }
}
