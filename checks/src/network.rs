//! The scanner's side of the network: which addresses it may probe (scope, usable address
//! kinds, its own IPv6), and how fast (a global rate, a global and a per-address limit on
//! probes in flight). Every probe of a host goes through [`Network::guard`], and the
//! readiness checks send theirs through [`Probe`], which [`Network`] implements and their
//! unit tests fake. [`Loopback`] is `sixfive demo`'s fallback, set by code and never by
//! an inventory: it confines every probe to loopback and moves well-known ports to the
//! demo's listeners, here and nowhere else in the checks.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};
use hickory_proto::rr::{Name, RecordType};
use ipnet::IpNet;
use sixfive_inventory::model::{Scan, Timeouts};
use sixfive_inventory::results::Status;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use crate::memo::Memo;
use crate::probe::address::classify;
use crate::probe::count::{Outcome, ProbeKind, count};
use crate::probe::dns::{Answer, DnsClient, DnsError, Transport};
use crate::probe::http::{Fetch, Target, Trust, TrustError, fetch};
use crate::probe::icmp::{IcmpError, Pings, series};
use crate::probe::pace::Pace;
use crate::probe::resolve::Resolvers;
use crate::probe::smtp::{Session, session};

/// DNS queries in flight at once, so a large scan paces its resolvers instead of
/// overrunning their receive buffers.
const DNS_WINDOW: usize = 64;

pub struct Network {
    pub resolvers: Resolvers,
    pub trust: Trust,
    pub timeouts: Timeouts,
    scope: Vec<IpNet>,
    /// Whether this machine can reach IPv6 at all; without it v6 results are inconclusive.
    pub own_v6: OwnV6,
    in_flight: Arc<Semaphore>,
    per_address: usize,
    address_slots: Mutex<HashMap<IpAddr, Arc<Semaphore>>>,
    rate: Pace,
    /// The ICMPv6 and ICMP sockets, opened on first use.
    icmp_v6: std::sync::OnceLock<Result<surge_ping::Client, IcmpError>>,
    icmp_v4: std::sync::OnceLock<Result<surge_ping::Client, IcmpError>>,
    /// Answers of name servers asked directly, shared by every host of their zone.
    authoritative: Memo<(SocketAddr, Name, Transport), Result<Answer, Refused>>,
    loopback: Option<Loopback>,
}

/// `sixfive demo`'s fallback where the kernel gives it no namespace of its own: the demo
/// city's servers on 127.0.0.0/8 and ::1, at ports an unprivileged user may bind. With it,
/// loopback addresses are probed (and ::1 counts as a host's IPv6), every other address is
/// refused, and a probe of a well-known port goes to the demo's listener for it, while
/// results keep naming the well-known port. Only a constructor sets it: no inventory can.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loopback {
    /// The port the demo listens on for each well-known port (443 → 20443).
    pub ports: HashMap<u16, u16>,
}

impl Loopback {
    /// Where a probe of `target` goes: the demo's port for a well-known one.
    pub fn dial(&self, target: SocketAddr) -> SocketAddr {
        let port = self.ports.get(&target.port()).copied();
        SocketAddr::new(target.ip(), port.unwrap_or(target.port()))
    }
}

/// Why the scanner cannot start: no resolver to ask, or trust anchors it cannot use.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Resolvers(#[from] DnsError),
    #[error(transparent)]
    Trust(#[from] TrustError),
    #[error(
        "resolver {0} is not on loopback, and the demo's loopback fallback asks loopback alone"
    )]
    NotLoopback(SocketAddr),
}

/// The scanner's own IPv6, checked before anything else.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum OwnV6 {
    Ready,
    Missing(String),
}

/// Why a probe was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    OutOfScope,
    NoOwnV6(String),
    /// An address no probe can mean anything for, whatever the scope says.
    Unusable(&'static str),
}

/// Addresses never probed: an IPv4-mapped address sent from an IPv6 socket leaves over
/// IPv4 (proving nothing about IPv6), loopback is the scanner itself, and the others reach
/// no host of the inventory (link-local IPv4 holds cloud metadata services).
pub fn never_probed(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Some("an IPv4-mapped address"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(v6) if v6.is_loopback() => Some("the loopback address"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("a multicast address"),
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("a link-local address"),
        IpAddr::V4(v4) if v4.is_loopback() => Some("a loopback address"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local address"),
        IpAddr::V4(v4) if v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast() => {
            Some("not a unicast address")
        }
        _ => None,
    }
}

impl Refused {
    pub fn detail(&self, address: IpAddr) -> String {
        match self {
            Refused::Unusable(kind) => format!("{address} is {kind}: never probed"),
            Refused::OutOfScope => format!("{address} is outside scan.scope: not probed"),
            Refused::NoOwnV6(why) => format!("inconclusive: the scanner has no IPv6 ({why})"),
        }
    }
}

/// Slots held while a probe runs; dropping them frees the address and the global slot.
pub struct Guard {
    _global: OwnedSemaphorePermit,
    _address: OwnedSemaphorePermit,
}

impl Network {
    pub fn new(scan: &Scan) -> Result<Self, SetupError> {
        Self::build(scan, None)
    }

    /// The network of the demo's loopback fallback (see [`Loopback`]).
    pub fn on_loopback(scan: &Scan, loopback: Loopback) -> Result<Self, SetupError> {
        Self::build(scan, Some(loopback))
    }

    fn build(scan: &Scan, loopback: Option<Loopback>) -> Result<Self, SetupError> {
        let client = DnsClient::new(scan.timeouts.dns.0, DNS_WINDOW);
        let servers = scan.resolvers.iter().map(|r| match &loopback {
            Some(loopback) => loopback.dial(r.0),
            None => r.0,
        });
        let resolvers = Resolvers::new(servers.collect(), client, scan.concurrency)?;
        let own_v6 = match &loopback {
            Some(_) => {
                // Resolvers are asked without the guard: on loopback they too must be.
                if let Some(far) = resolvers.servers().iter().find(|r| !r.ip().is_loopback()) {
                    return Err(SetupError::NotLoopback(*far));
                }
                route_to(Ipv6Addr::LOCALHOST)
            }
            None => own_v6(&scan.scope, resolvers.servers()),
        };
        let per_second = NonZeroU32::new(scan.rate.0).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            resolvers,
            trust: Trust::new(scan.ca_file.as_deref())?,
            timeouts: scan.timeouts,
            scope: scan.scope.clone(),
            own_v6,
            in_flight: Arc::new(Semaphore::new(scan.concurrency.max(1) as usize)),
            per_address: scan.per_host.max(1) as usize,
            address_slots: Mutex::new(HashMap::new()),
            rate: Pace::per_second(per_second),
            authoritative: Memo::new(),
            icmp_v6: std::sync::OnceLock::new(),
            icmp_v4: std::sync::OnceLock::new(),
            loopback,
        })
    }

    /// Why `address` is never probed, whatever the scope says: [`never_probed`], or on
    /// [`Loopback`] any address but a loopback one.
    pub fn never_probed(&self, address: IpAddr) -> Option<&'static str> {
        match (&self.loopback, address.is_loopback()) {
            (None, _) => never_probed(address),
            (Some(_), true) => None,
            (Some(_), false) => {
                Some("beyond loopback, where the demo's loopback fallback never sends")
            }
        }
    }

    /// How usable an IPv6 address is ([`classify`]); on [`Loopback`], ::1 is where the
    /// demo serves every host's IPv6.
    pub fn classify(&self, address: Ipv6Addr, internal: bool) -> (Status, &'static str) {
        if self.loopback.is_some() && address.is_loopback() {
            return (
                Status::Pass,
                "the loopback address ::1, where the demo's loopback fallback serves IPv6",
            );
        }
        classify(address, internal)
    }

    /// Where a probe of `target` connects: `target`, or on [`Loopback`] the demo's
    /// listener for its port.
    pub fn dial(&self, target: SocketAddr) -> SocketAddr {
        self.loopback
            .as_ref()
            .map_or(target, |loopback| loopback.dial(target))
    }

    /// An SMTP session to `target` within the SMTP timeout, once its probe is admitted.
    pub async fn smtp(&self, target: SocketAddr, helo: &str) -> Session {
        session(self.dial(target), self.timeouts.smtp.0, helo).await
    }

    /// Drops the answers cached across hosts (see [`crate::Scanner::forget`]).
    pub async fn forget(&self) {
        self.authoritative.clear().await;
        self.resolvers.forget().await;
    }

    /// Whether `address` may be probed at all: in scope, and IPv6 only with our own IPv6.
    pub fn admit(&self, address: IpAddr) -> Result<(), Refused> {
        if let Some(why) = self.never_probed(address) {
            return Err(Refused::Unusable(why));
        }
        if !self.in_scope(address) {
            return Err(Refused::OutOfScope);
        }
        if let (IpAddr::V6(_), OwnV6::Missing(why)) = (address, &self.own_v6) {
            return Err(Refused::NoOwnV6(why.clone()));
        }
        Ok(())
    }

    pub fn in_scope(&self, address: IpAddr) -> bool {
        self.scope.is_empty() || self.scope.iter().any(|net| net.contains(&address))
    }

    /// Waits for a free slot and the rate limit before a probe of `kind` to `address`, or
    /// says why the probe must not be sent at all (and counts it as not sent).
    pub async fn guard(&self, address: IpAddr, kind: ProbeKind) -> Result<Guard, Refused> {
        self.admit(address)
            .inspect_err(|_| count(kind, address, Outcome::NotSent))?;
        let slot = {
            let mut slots = self.address_slots.lock().await;
            Arc::clone(
                slots
                    .entry(address)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_address))),
            )
        };
        let address_permit = slot
            .acquire_owned()
            .await
            .expect("address slots are never closed");
        let global = Arc::clone(&self.in_flight)
            .acquire_owned()
            .await
            .expect("the global slots are never closed");
        self.rate.until_ready().await;
        Ok(Guard {
            _global: global,
            _address: address_permit,
        })
    }
}

impl Network {
    /// The shared ICMPv6 or ICMP client, or why there is none (no privilege for ICMP
    /// sockets).
    pub fn icmp(&self, v6: bool) -> Result<&surge_ping::Client, IcmpError> {
        let (cell, kind) = if v6 {
            (&self.icmp_v6, surge_ping::ICMP::V6)
        } else {
            (&self.icmp_v4, surge_ping::ICMP::V4)
        };
        cell.get_or_init(|| crate::probe::icmp::client(kind))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The scan's rate limit, for probes that send several packets under one guard.
    pub fn pace(&self) -> Pace {
        self.rate.clone()
    }

    /// Asks a name server directly for the zone's SOA, once per scan whichever hosts ask.
    pub async fn ask_authoritative(
        &self,
        server: SocketAddr,
        apex: &Name,
        transport: Transport,
    ) -> Result<Answer, Refused> {
        let key = (server, apex.clone(), transport);
        self.authoritative
            .get(&key, || async {
                let _guard = self.guard(server.ip(), ProbeKind::Dns).await?;
                let client = self.resolvers.client();
                let to = self.dial(server);
                Ok(client.query(to, apex, RecordType::SOA, transport).await)
            })
            .await
    }
}

/// The probes the readiness checks send, once admitted by [`Network::guard`]: the real
/// network sends them, a test answers them from a table.
pub trait Probe: Send + Sync {
    /// A TCP connect within the connect timeout.
    fn connect(&self, target: SocketAddr) -> BoxFuture<'_, Connect>;
    /// An HTTP(S) GET, with the TLS handshake's facts; also the path MTU probe (a large
    /// answer that arrives whole or stalls).
    fn fetch<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Fetch>;
    /// Whether echoes of one family can be sent at all (an ICMP socket), or why not.
    fn echo_ready(&self, v6: bool) -> Result<(), IcmpError>;
    /// One echo to `address`, its reply awaited for the connect timeout.
    fn echo(&self, address: IpAddr) -> BoxFuture<'_, Result<Pings, IcmpError>>;
}

impl Probe for Network {
    fn connect(&self, target: SocketAddr) -> BoxFuture<'_, Connect> {
        async move { connect(self.dial(target), self.timeouts.connect.0).await.0 }.boxed()
    }

    fn fetch<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Fetch> {
        let timeouts = &self.timeouts;
        let to = self.dial(SocketAddr::new(target.address, target.port));
        fetch(target, to, &self.trust, timeouts.connect.0, timeouts.http.0).boxed()
    }

    fn echo_ready(&self, v6: bool) -> Result<(), IcmpError> {
        self.icmp(v6).map(|_| ())
    }

    fn echo(&self, address: IpAddr) -> BoxFuture<'_, Result<Pings, IcmpError>> {
        async move {
            let client = self.icmp(address.is_ipv6())?;
            let timing = (Duration::ZERO, self.timeouts.connect.0);
            series(client, address, 1, timing, None).await
        }
        .boxed()
    }
}

/// Whether the kernel has a route for IPv6 toward what the scan will reach: a UDP connect
/// sends no packet, it only asks the routing table.
fn own_v6(scope: &[IpNet], resolvers: &[SocketAddr]) -> OwnV6 {
    let targets: Vec<Ipv6Addr> = scope
        .iter()
        .filter_map(|net| match net {
            IpNet::V6(v6) => Some(v6.network()),
            IpNet::V4(_) => None,
        })
        .chain(resolvers.iter().filter_map(|r| match r.ip() {
            IpAddr::V6(v6) => Some(v6),
            IpAddr::V4(_) => None,
        }))
        .collect();
    if targets.is_empty() {
        // Any global unicast address will do to ask for a default route; nothing is sent.
        return route_to(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 1));
    }
    let mut last = OwnV6::Missing("no IPv6 target to route to".into());
    for target in targets {
        match route_to(target) {
            OwnV6::Ready => return OwnV6::Ready,
            missing => last = missing,
        }
    }
    last
}

fn route_to(target: Ipv6Addr) -> OwnV6 {
    let socket = match std::net::UdpSocket::bind("[::]:0") {
        Ok(socket) => socket,
        Err(e) => return OwnV6::Missing(format!("cannot open an IPv6 socket: {e}")),
    };
    match socket.connect((target, 53)) {
        Ok(()) => OwnV6::Ready,
        Err(e) => OwnV6::Missing(format!("no IPv6 route to {target}: {e}")),
    }
}

/// How a TCP connect ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connect {
    Open(Duration),
    Refused,
    Timeout,
    /// The scanner itself could not send (no route, no address): not the host's fault.
    ScannerFault(String),
    Failed(String),
}

impl Connect {
    /// The outcome as the probe counters count it.
    pub fn outcome(&self) -> Outcome {
        match self {
            Connect::Open(_) => Outcome::Ok,
            Connect::Refused | Connect::Failed(_) => Outcome::Failed,
            Connect::Timeout => Outcome::Timeout,
            Connect::ScannerFault(_) => Outcome::NotSent,
        }
    }

    /// The outcome in words, for details and evidence: the connect time is a measurement,
    /// never part of the finding.
    pub fn describe(&self) -> String {
        match self {
            Connect::Open(_) => "open".into(),
            Connect::Refused => "connection refused".into(),
            Connect::Timeout => "no answer (timeout)".into(),
            Connect::ScannerFault(why) => format!("scanner cannot connect: {why}"),
            Connect::Failed(why) => why.clone(),
        }
    }
}

/// Connects to `target` within `timeout`, keeping the stream for protocols that follow.
pub async fn connect(target: SocketAddr, timeout: Duration) -> (Connect, Option<TcpStream>) {
    let started = Instant::now();
    match tokio::time::timeout(timeout, TcpStream::connect(target)).await {
        Err(_) => (Connect::Timeout, None),
        Ok(Ok(stream)) => (Connect::Open(started.elapsed()), Some(stream)),
        Ok(Err(e)) => {
            let outcome = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => Connect::Refused,
                std::io::ErrorKind::NetworkUnreachable | std::io::ErrorKind::AddrNotAvailable => {
                    Connect::ScannerFault(e.to_string())
                }
                std::io::ErrorKind::TimedOut => Connect::Timeout,
                _ => Connect::Failed(e.to_string()),
            };
            (outcome, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_that_prove_nothing_are_never_probed() {
        for address in [
            "::ffff:198.18.1.20",
            "::",
            "::1",
            "127.0.0.1",
            "169.254.169.254",
            "ff02::1",
            "fe80::1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
        ] {
            assert!(
                never_probed(address.parse().unwrap()).is_some(),
                "{address}"
            );
        }
        for address in [
            "fd00:1::10",
            "2a01:4f8::1",
            "198.18.1.10",
            "64:ff9b::c612:114",
        ] {
            assert_eq!(never_probed(address.parse().unwrap()), None, "{address}");
        }
    }

    fn scan(resolvers: &[&str]) -> Scan {
        Scan {
            resolvers: resolvers
                .iter()
                .map(|r| sixfive_inventory::model::Resolver(r.parse().unwrap()))
                .collect(),
            ..Scan::default()
        }
    }

    fn loopback() -> Loopback {
        Loopback {
            ports: HashMap::from([(443, 40443), (53, 40053), (25, 40025)]),
        }
    }

    #[test]
    fn the_loopback_fallback_moves_well_known_ports_alone() {
        let network = Network::on_loopback(&scan(&["[::1]:53"]), loopback()).unwrap();
        let at = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert_eq!(network.resolvers.servers(), [at("[::1]:40053")]);
        assert_eq!(network.dial(at("[::1]:443")), at("[::1]:40443"));
        assert_eq!(network.dial(at("127.64.0.9:25")), at("127.64.0.9:40025"));
        assert_eq!(network.dial(at("127.64.0.9:8443")), at("127.64.0.9:8443"));
    }

    #[test]
    fn the_loopback_fallback_probes_loopback_and_nothing_else() {
        let network = Network::on_loopback(&scan(&["127.64.0.53:40053"]), loopback()).unwrap();
        for address in ["::1", "127.0.0.1", "127.64.1.2"] {
            assert_eq!(network.admit(address.parse().unwrap()), Ok(()), "{address}");
        }
        for address in ["198.18.0.1", "fd00:64::1", "2a01:4f8::1", "169.254.169.254"] {
            assert!(
                matches!(
                    network.admit(address.parse().unwrap()),
                    Err(Refused::Unusable(_))
                ),
                "{address}"
            );
        }
        assert_eq!(network.classify(Ipv6Addr::LOCALHOST, false).0, Status::Pass);
        let far = Network::on_loopback(&scan(&["[::1]:40053", "198.18.0.53:53"]), loopback());
        assert!(matches!(far, Err(SetupError::NotLoopback(_))));
    }

    /// The engine every inventory builds has no loopback fallback: loopback is refused and
    /// ports are not moved.
    #[test]
    fn a_network_from_an_inventory_refuses_loopback() {
        let network = Network::new(&scan(&["[::1]:53"])).unwrap();
        assert!(network.never_probed("127.0.0.1".parse().unwrap()).is_some());
        assert!(matches!(
            network.admit("::1".parse().unwrap()),
            Err(Refused::Unusable(_))
        ));
        assert_eq!(network.classify(Ipv6Addr::LOCALHOST, false).0, Status::Fail);
        let at: SocketAddr = "[::1]:443".parse().unwrap();
        assert_eq!(network.dial(at), at);
    }
}
