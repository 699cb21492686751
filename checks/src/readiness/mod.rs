//! IPv6 readiness of application hosts: the shape every check takes and their registry, the
//! per-host context checks share (the host, its DNS facts, the network guard, and probes
//! memoised so two checks never send the same probe), the scanner that runs them, and the
//! grading of their results into a level and scores. Each check is a file of its own (a
//! family of several, such as dns/ and http/, is a folder); a new check is a file here
//! plus a line in [`registry`].

pub mod dns;
#[cfg(test)]
mod fake;
pub mod happy_eyeballs;
pub mod http;
pub mod icmp;
pub mod internet_nl;
pub mod level;
pub mod pmtu;
pub mod scanner;
pub mod smtp;
pub mod tcp;
pub mod tls;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use std::sync::Arc;

use futures::future::BoxFuture;
use sixfive_inventory::model::{Host, Level, Service};
use sixfive_inventory::results::{CheckRecord, Status};

use crate::memo::Memo;
use crate::network::{Connect, Network, Probe, Refused};
use crate::probe::count::{ProbeKind, count};
use crate::probe::http::{Fetch, Target};
use crate::probe::resolve::{Facts, MAX_ADDRESSES, Resolution};
use crate::readiness::http::Chain;

/// The level a check gates, and how much it weighs in the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// A host reaches this level only when the check passes (warnings allowed below L4,
    /// unless `warn_holds`).
    pub level: Level,
    /// A failure here breaks IPv6 users: the host is BROKEN.
    pub breaking: bool,
    /// Weight in the 0–100 score.
    pub weight: u8,
    /// A warning holds the level back too: the level promises what the warning doubts.
    pub warn_holds: bool,
}

impl Gate {
    /// Gates `level`, and a failure breaks IPv6 users (the host is BROKEN).
    pub const fn breaking(level: Level, weight: u8) -> Self {
        Self {
            level,
            breaking: true,
            weight,
            warn_holds: false,
        }
    }

    /// Gates `level`.
    pub const fn at(level: Level, weight: u8) -> Self {
        Self {
            level,
            breaking: false,
            weight,
            warn_holds: false,
        }
    }

    /// Gates `level`, which a warning holds back as a failure does.
    pub const fn strict(level: Level, weight: u8) -> Self {
        Self {
            warn_holds: true,
            ..Self::at(level, weight)
        }
    }
}

/// One check: a stable id, what it gates, and how it runs on a host.
pub trait Check: Send + Sync {
    fn id(&self) -> &'static str;
    /// None for informational checks, which never hold a level back.
    fn gate(&self) -> Option<Gate>;
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>>;
}

/// Every check this build runs, in report order. A new check registers here.
pub fn registry() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(dns::a::ARecords),
        Box::new(dns::aaaa::AaaaRecords),
        Box::new(dns::aaaa_global::AaaaGlobal),
        Box::new(dns::ns_aaaa::NsAaaa),
        Box::new(dns::ns_v6::NsV6),
        Box::new(dns::mx_aaaa::MxAaaa),
        Box::new(dns::ptr::Ptr),
        Box::new(dns::dnssec::Dnssec),
        Box::new(dns::v6_only::V6Only),
        Box::new(tcp::TcpV6),
        Box::new(happy_eyeballs::HappyEyeballs),
        Box::new(icmp::IcmpV6),
        Box::new(http::v6::HttpV6),
        Box::new(http::parity::HttpParity),
        Box::new(http::redirect_v6::RedirectV6),
        Box::new(tls::TlsV6),
        Box::new(pmtu::Pmtu),
        Box::new(smtp::SmtpV6),
    ]
}

/// One host being scanned.
pub struct HostScan<'a> {
    pub host: &'a Host,
    pub facts: Facts,
    pub network: &'a Network,
    /// Sends what `network` admits: `network` itself, or a test's fake.
    probe: &'a dyn Probe,
    connects: Memo<SocketAddr, Result<Connect, Refused>>,
    fetches: Memo<Target, Result<Fetch, Refused>>,
    chains: Memo<Target, Arc<Chain>>,
}

impl<'a> HostScan<'a> {
    pub fn new(host: &'a Host, facts: Facts, network: &'a Network) -> Self {
        Self {
            host,
            facts,
            network,
            probe: network,
            connects: Memo::new(),
            fetches: Memo::new(),
            chains: Memo::new(),
        }
    }

    /// The same scan with its probes answered by `probe` instead of sent.
    #[cfg(test)]
    pub(crate) fn probing(self, probe: &'a dyn Probe) -> Self {
        Self { probe, ..self }
    }

    pub fn fqdn(&self) -> &str {
        &self.host.fqdn
    }

    pub fn record(&self, check: &str, status: Status, detail: impl Into<String>) -> CheckRecord {
        CheckRecord::new(&self.host.fqdn, check, status, detail)
    }

    /// A check that does not apply to this host.
    pub fn skip(&self, check: &str, why: impl Into<String>) -> Vec<CheckRecord> {
        vec![self.record(check, Status::Skip, why)]
    }

    pub fn has(&self, service: Service) -> bool {
        self.host.services.contains(&service)
    }

    /// TCP ports of the host's services (smtp excepted: mail goes to its MX hosts).
    pub fn web_ports(&self) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .host
            .services
            .iter()
            .filter(|s| **s != Service::Smtp)
            .map(|s| s.port())
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }

    /// Whether an address may be probed for this host: global unicast, or ULA when the
    /// inventory marks the host internal. The others are reported by dns.aaaa_global.
    pub fn usable(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(_) => self.network.never_probed(address).is_none(),
            IpAddr::V6(v6) => matches!(
                self.network.classify(v6, self.host.internal).0,
                Status::Pass | Status::Warn
            ),
        }
    }

    /// The usable addresses among `resolution`'s AAAA records, as many as are probed.
    pub fn usable_v6(&self, resolution: &Resolution<Ipv6Addr>) -> Vec<Ipv6Addr> {
        resolution
            .records()
            .iter()
            .copied()
            .filter(|a| self.usable(IpAddr::V6(*a)))
            .take(MAX_ADDRESSES)
            .collect()
    }

    /// The AAAA records a check reports on one by one: the usable ones it probes, then as
    /// many unusable ones, which it reports as not probed (dns.aaaa_global judges them all).
    pub fn examined_v6(&self, resolution: &Resolution<Ipv6Addr>) -> Vec<IpAddr> {
        let all = resolution.records().iter().map(|a| IpAddr::V6(*a));
        let (usable, unusable): (Vec<IpAddr>, Vec<IpAddr>) = all.partition(|a| self.usable(*a));
        let kept = |list: Vec<IpAddr>| list.into_iter().take(MAX_ADDRESSES);
        kept(usable).chain(kept(unusable)).collect()
    }

    /// A TCP connect to `target`, sent at most once per host scan whichever checks ask.
    pub async fn connect(&self, target: SocketAddr) -> Result<Connect, Refused> {
        self.connects
            .get(&target, || async {
                let _guard = self.network.guard(target.ip(), ProbeKind::Tcp).await?;
                let connect = self.probe.connect(target).await;
                count(ProbeKind::Tcp, target.ip(), connect.outcome());
                Ok(connect)
            })
            .await
    }

    /// An HTTP(S) GET, sent at most once per host scan whichever checks ask.
    pub async fn fetch(&self, target: &Target) -> Result<Fetch, Refused> {
        self.fetches
            .get(target, || async {
                let _guard = self.network.guard(target.address, ProbeKind::Http).await?;
                let fetch = self.probe.fetch(target).await;
                count(ProbeKind::Http, target.address, fetch.outcome());
                Ok(fetch)
            })
            .await
    }

    /// The redirect chain from `start`, followed over `start`'s family, at most once per
    /// host scan whichever checks ask.
    pub async fn chain(&self, start: &Target) -> Arc<Chain> {
        self.chains
            .get(start, || async {
                Arc::new(crate::readiness::http::follow(self, start).await)
            })
            .await
    }

    /// `/` of the host's web service over `address`.
    pub fn home(&self, address: IpAddr, tls: bool) -> Target {
        Target {
            address,
            port: if tls { 443 } else { 80 },
            tls,
            host: self.host.fqdn.clone(),
            path: "/".into(),
        }
    }

    /// The host's usable addresses of one family, as many as are probed.
    pub fn addresses(&self, v6: bool) -> Vec<IpAddr> {
        let all: Vec<IpAddr> = if v6 {
            self.facts
                .v6
                .records()
                .iter()
                .map(|a| IpAddr::V6(*a))
                .collect()
        } else {
            self.facts
                .v4
                .records()
                .iter()
                .map(|a| IpAddr::V4(*a))
                .collect()
        };
        all.into_iter()
            .filter(|a| self.usable(*a))
            .take(MAX_ADDRESSES)
            .collect()
    }

    /// The host's web schemes: `true` for https, `false` for http.
    pub fn web_schemes(&self) -> Vec<bool> {
        [(Service::Https, true), (Service::Http, false)]
            .into_iter()
            .filter(|(service, _)| self.has(*service))
            .map(|(_, tls)| tls)
            .collect()
    }
}
