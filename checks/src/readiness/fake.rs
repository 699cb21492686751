//! A network for the checks' unit tests: every probe is answered from a table, nothing is
//! sent. The host, its DNS facts and the guard are real; only [`Probe`] is faked.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use futures::future::{BoxFuture, FutureExt};
use sixfive_inventory::model::{Host, Resolver, Scan, Service, Stage};
use sixfive_inventory::results::CheckRecord;

use crate::network::{Connect, Network, OwnV6, Probe};
use crate::probe::http::{Fetch, Response, Target};
use crate::probe::icmp::{IcmpError, Pings};
use crate::probe::resolve::{Facts, Resolution};
use crate::readiness::{Check, HostScan};

/// The host's IPv4 and IPv6 addresses in every test.
pub const V4: &str = "198.18.1.10";
pub const V6: &str = "fd00:1::10";

/// Answers by address (and port); what a table does not list is refused, fetched as
/// refused, or gets no echo reply.
#[derive(Default)]
pub struct FakeNet {
    pub connects: HashMap<SocketAddr, Connect>,
    pub fetches: HashMap<(IpAddr, u16), Fetch>,
    /// Why no ICMPv6 socket opens, if it does not.
    pub no_socket: Option<IcmpError>,
    pub echoes: HashMap<IpAddr, Result<Pings, IcmpError>>,
}

impl FakeNet {
    pub fn connect(mut self, address: &str, port: u16, outcome: Connect) -> Self {
        let target = SocketAddr::new(address.parse().expect("an address"), port);
        self.connects.insert(target, outcome);
        self
    }

    pub fn fetch(mut self, address: &str, port: u16, outcome: Fetch) -> Self {
        let address = address.parse().expect("an address");
        self.fetches.insert((address, port), outcome);
        self
    }

    pub fn echo(mut self, address: &str, outcome: Result<Pings, IcmpError>) -> Self {
        self.echoes
            .insert(address.parse().expect("an address"), outcome);
        self
    }
}

impl Probe for FakeNet {
    fn connect(&self, target: SocketAddr) -> BoxFuture<'_, Connect> {
        let outcome = self.connects.get(&target).cloned();
        async move { outcome.unwrap_or(Connect::Refused) }.boxed()
    }

    fn fetch<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Fetch> {
        let outcome = self.fetches.get(&(target.address, target.port)).cloned();
        async move { outcome.unwrap_or_else(|| Fetch::Connect("connection refused".into())) }
            .boxed()
    }

    fn echo_ready(&self, _v6: bool) -> Result<(), IcmpError> {
        self.no_socket.clone().map_or(Ok(()), Err)
    }

    fn echo(&self, address: IpAddr) -> BoxFuture<'_, Result<Pings, IcmpError>> {
        let outcome = self.echoes.get(&address).cloned();
        async move {
            outcome.unwrap_or(Ok(Pings {
                sent: 1,
                rtts: Vec::new(),
            }))
        }
        .boxed()
    }
}

/// An answer with `status` and `body`, as the HTTP probe gives it.
pub fn response(status: u16, body: &str) -> Box<Response> {
    Box::new(Response {
        status,
        location: None,
        encoding: None,
        body: body.as_bytes().to_vec(),
        body_bytes: body.len(),
        wire_bytes: body.len(),
        truncated: false,
        took_ms: 1.0,
        certificate: None,
    })
}

/// The network the guard admits probes through, with the scanner's own IPv6 as given.
pub fn network(own_v6: bool) -> Network {
    let scan = Scan {
        // Never asked: the checks under test read DNS facts, not resolvers.
        resolvers: vec![Resolver("[::1]:53".parse().expect("an address"))],
        ..Scan::default()
    };
    let mut network = Network::new(&scan).expect("a network from defaults");
    network.own_v6 = if own_v6 {
        OwnV6::Ready
    } else {
        OwnV6::Missing("no IPv6 route (test)".into())
    };
    network
}

/// An internal host (its ULA address is usable) at [`V4`] and [`V6`], offering `services`.
pub fn host(services: &[Service]) -> Host {
    Host {
        fqdn: "h.test".into(),
        agency: "dict".into(),
        services: services.to_vec(),
        stage: Stage::default(),
        exempt_reason: String::new(),
        internal: true,
        target: None,
        tags: Vec::new(),
        owner: None,
        zone: None,
    }
}

/// Runs `check` on `host` with `net` answering, and the host at [`V4`] (when `v4`) and
/// [`V6`].
pub async fn run(
    check: &dyn Check,
    host: &Host,
    network: &Network,
    net: &FakeNet,
    v4: bool,
) -> Vec<CheckRecord> {
    let facts = Facts {
        chain: vec![host.fqdn.clone()],
        v4: if v4 {
            Resolution::Records(vec![V4.parse().expect("an address")])
        } else {
            Resolution::NoData
        },
        v6: Resolution::Records(vec![V6.parse().expect("an address")]),
        mail: None,
        zones: Vec::new(),
    };
    let scan = HostScan::new(host, facts, network).probing(net);
    check.run(&scan).await
}

mod tests {
    use sixfive_inventory::results::Status;

    use super::*;
    use crate::readiness::{icmp::IcmpV6, pmtu::Pmtu, tcp::TcpV6, tls::TlsV6};

    /// The rule lives in the network's guard, shared by every probe: without the scanner's
    /// own IPv6, what a check would have learnt over IPv6 is an error, not the host's fault.
    #[tokio::test]
    async fn without_the_scanners_own_ipv6_every_ipv6_probe_is_an_error() {
        let mut page = response(200, "<html></html>");
        page.wire_bytes = 40_000;
        let net = FakeNet::default()
            .connect(V4, 443, Connect::Open(std::time::Duration::from_millis(1)))
            .connect(V6, 443, Connect::Open(std::time::Duration::from_millis(1)))
            .fetch(V4, 443, Fetch::Response(page.clone()))
            .fetch(V6, 443, Fetch::Response(page));
        let checks: [&dyn Check; 4] = [&TcpV6, &TlsV6, &Pmtu, &IcmpV6];
        for check in checks {
            let records = run(check, &host(&[Service::Https]), &network(false), &net, true).await;
            assert!(!records.is_empty(), "{}", check.id());
            assert!(
                records.iter().all(|r| r.status == Status::Error),
                "{}: {records:?}",
                check.id()
            );
        }
    }
}
