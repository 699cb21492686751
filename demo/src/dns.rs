//! The demo city's DNS: one hickory-server catalog of authoritative zones (the city's,
//! its agencies' and districts', and the reverse zones), served over UDP and TCP at the
//! scan's resolver addresses and at every name server's. The scanner asks the resolver
//! and the name servers alike, so one catalog answering on all of them is the whole DNS.
//! Zones are rebuilt for each run, as the city fixes its faults between runs.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::rr::rdata::{A, AAAA, MX, NS, PTR, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::RwLock;

use crate::plan::{Fault, LEGACY, Plan, zone_of};

const TTL: u32 = 300;

/// One DNS record as the demo builds it, before it is sorted into a zone.
pub type Entry = (Name, RData);

fn name(text: &str) -> Name {
    Name::from_str(&format!("{}.", text.trim_end_matches('.'))).expect("the demo's names are valid")
}

/// Every record of the city in `run`, zone apexes (SOA, NS) included.
pub fn records(plan: &Plan, run: u32) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let zones = plan.zones();
    let reverse = plan.reverse_zones();
    for zone in zones.iter().chain(&reverse) {
        let apex = name(zone);
        let soa = SOA::new(
            name(plan.name_servers[0].0),
            name("hostmaster.danang.test"),
            run,
            3600,
            600,
            86400,
            TTL,
        );
        out.push((apex.clone(), RData::SOA(soa)));
        // The two dual-stack servers, or the one on IPv4 alone.
        let v6 = Plan::zone_ns_v6(zone, run);
        let servers = plan
            .name_servers
            .iter()
            .filter(|(_, address, _)| address.is_some() == v6);
        out.extend(servers.map(|(ns, _, _)| (apex.clone(), RData::NS(NS(name(ns))))));
    }
    for &(ns, v6, v4) in &plan.name_servers {
        out.push((name(ns), RData::A(A(v4))));
        out.extend(v6.map(|v6| (name(ns), RData::AAAA(AAAA(v6)))));
    }
    out.push((name(LEGACY), RData::A(A(plan.legacy_v4))));
    out.push((
        Name::from(IpAddr::V4(plan.legacy_v4)),
        RData::PTR(PTR(name(LEGACY))),
    ));
    for host in &plan.hosts {
        let owner = name(&host.fqdn);
        out.push((owner.clone(), RData::A(A(host.v4))));
        out.push((
            Name::from(IpAddr::V4(host.v4)),
            RData::PTR(PTR(owner.clone())),
        ));
        match host.fault_in(run) {
            Some(Fault::Ipv4Only) => {}
            Some(Fault::MappedAaaa) => {
                out.push((owner.clone(), RData::AAAA(AAAA(host.v4.to_ipv6_mapped()))))
            }
            _ => {
                out.push((owner.clone(), RData::AAAA(AAAA(host.v6))));
                out.push((
                    Name::from(IpAddr::V6(host.v6)),
                    RData::PTR(PTR(owner.clone())),
                ));
            }
        }
        if host.has(sixfive_inventory::model::Service::Smtp) {
            out.push((owner.clone(), RData::MX(MX::new(10, owner.clone()))));
        }
    }
    // Every zone name is known here, so a record outside all of them is a bug of the plan.
    debug_assert!(
        out.iter()
            .all(|(owner, _)| zone_for(owner, &zones, &reverse).is_some())
    );
    out
}

/// The zone (forward or reverse) that holds `owner`.
fn zone_for(
    owner: &Name,
    zones: &std::collections::BTreeSet<String>,
    reverse: &[String; 2],
) -> Option<String> {
    let text = owner.to_string();
    let text = text.trim_end_matches('.');
    reverse
        .iter()
        .find(|zone| text.ends_with(zone.as_str()))
        .cloned()
        .or_else(|| zone_of(text, zones).map(str::to_owned))
}

/// The catalog of every zone of the city in `run`.
pub fn catalog(plan: &Plan, run: u32) -> Catalog {
    let zones = plan.zones();
    let reverse = plan.reverse_zones();
    let mut handlers: std::collections::BTreeMap<String, InMemoryZoneHandler> = zones
        .iter()
        .chain(&reverse)
        .map(|zone| {
            let handler =
                InMemoryZoneHandler::empty(name(zone), ZoneType::Primary, AxfrPolicy::Deny);
            (zone.clone(), handler)
        })
        .collect();
    for (owner, data) in records(plan, run) {
        let zone = zone_for(&owner, &zones, &reverse).expect("records() keeps to the plan's zones");
        let handler = handlers.get_mut(&zone).expect("every zone has a handler");
        handler.upsert_mut(Record::from_rdata(owner, TTL, data), run);
    }
    let mut catalog = Catalog::new();
    for (zone, handler) in handlers {
        catalog.upsert(LowerName::new(&name(&zone)), vec![Arc::new(handler)]);
    }
    catalog
}

/// The catalog of the current run, swapped whole when the city changes.
#[derive(Clone)]
pub struct Zones(Arc<RwLock<Catalog>>);

impl Zones {
    pub async fn set(&self, catalog: Catalog) {
        *self.0.write().await = catalog;
    }
}

// hickory-server declares the trait with async-trait, so an implementation must use it too.
#[async_trait::async_trait]
impl RequestHandler for Zones {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        let catalog = self.0.read().await;
        catalog
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}

/// The running name servers; dropping it stops them.
pub struct Dns {
    pub zones: Zones,
    _server: Server<Zones>,
}

/// A TCP connection that sends nothing for this long is closed.
const TCP_IDLE: Duration = Duration::from_secs(5);

/// Serves `catalog` on port `port` of each of `addresses`, over UDP and TCP.
pub async fn serve(
    addresses: impl IntoIterator<Item = IpAddr>,
    port: u16,
    catalog: Catalog,
) -> std::io::Result<Dns> {
    // Every socket is bound before any is served: one that cannot be leaves nothing running.
    let mut sockets = Vec::new();
    for address in addresses {
        let at = SocketAddr::new(address, port);
        sockets.push((UdpSocket::bind(at).await?, TcpListener::bind(at).await?));
    }
    let zones = Zones(Arc::new(RwLock::new(catalog)));
    let mut server = Server::new(zones.clone());
    for (udp, tcp) in sockets {
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE, 4096);
    }
    Ok(Dns {
        zones,
        _server: server,
    })
}

/// The address records of `owner` in `records`, for tests.
#[cfg(test)]
fn addresses_of(records: &[Entry], owner: &str) -> Vec<IpAddr> {
    records
        .iter()
        .filter(|(n, _)| *n == name(owner))
        .filter_map(|(_, data)| match data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use hickory_server::proto::op::{Message, Query};
    use hickory_server::proto::rr::RecordType;

    use super::*;
    use crate::plan::RUNS;

    fn plan() -> Plan {
        Plan::of(
            &crate::example::inventory(),
            crate::plan::Addressing::Namespace,
        )
    }

    #[test]
    fn each_host_gets_the_records_its_fault_allows() {
        let plan = plan();
        let records = records(&plan, 1);
        for host in &plan.hosts {
            let found = addresses_of(&records, &host.fqdn);
            assert!(found.contains(&IpAddr::V4(host.v4)), "{}", host.fqdn);
            let v6: Vec<Ipv6Addr> = found
                .iter()
                .filter_map(|a| match a {
                    IpAddr::V6(v6) => Some(*v6),
                    IpAddr::V4(_) => None,
                })
                .collect();
            match host.fault_in(1) {
                Some(Fault::Ipv4Only) => assert!(v6.is_empty(), "{}", host.fqdn),
                Some(Fault::MappedAaaa) => {
                    assert_eq!(v6, [host.v4.to_ipv6_mapped()], "{}", host.fqdn)
                }
                _ => assert_eq!(v6, [host.v6], "{}", host.fqdn),
            }
        }
        let zone = name("hoavang.danang.test");
        let ns: Vec<_> = records
            .iter()
            .filter(|(n, d)| *n == zone && matches!(d, RData::NS(_)))
            .collect();
        assert_eq!(
            ns.len(),
            1,
            "the district's zone has its IPv4-only name server"
        );
        assert!(
            addresses_of(&records, "ns-v4.danang.test")
                .iter()
                .all(IpAddr::is_ipv4)
        );
        assert!(
            records
                .iter()
                .any(|(n, d)| *n == name("mail.danang.test") && matches!(d, RData::MX(_)))
        );
    }

    #[test]
    fn a_fixed_host_gains_its_aaaa_in_a_later_run() {
        let plan = plan();
        let fixed = plan
            .hosts
            .iter()
            .find(|h| h.fault == Some(Fault::Ipv4Only) && h.fixed_in <= RUNS)
            .expect("some planned host gets IPv6");
        assert!(!addresses_of(&records(&plan, 1), &fixed.fqdn).contains(&IpAddr::V6(fixed.v6)));
        assert!(addresses_of(&records(&plan, RUNS), &fixed.fqdn).contains(&IpAddr::V6(fixed.v6)));
    }

    /// The served catalog answers as a name server does: authoritative, with the AAAA, and
    /// the reverse name of the address.
    #[tokio::test]
    async fn the_server_answers_forward_and_reverse_queries() {
        let plan = plan();
        // A free port for both UDP and TCP: serve() binds the two on the same one.
        let socket = std::net::UdpSocket::bind("[::1]:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        drop(socket);
        let _dns = serve(["::1".parse().unwrap()], port, catalog(&plan, 1))
            .await
            .unwrap();
        let host = plan.hosts.iter().find(|h| h.fault_in(1).is_none()).unwrap();
        let ask = |qname: Name, qtype| async move {
            let client = tokio::net::UdpSocket::bind("[::1]:0").await.unwrap();
            let mut query = Message::query();
            query.add_query(Query::query(qname, qtype));
            client
                .send_to(&query.to_vec().unwrap(), ("::1", port))
                .await
                .unwrap();
            let mut buf = vec![0; 4096];
            let n = tokio::time::timeout(Duration::from_secs(2), client.recv(&mut buf))
                .await
                .unwrap()
                .unwrap();
            Message::from_vec(&buf[..n]).unwrap()
        };
        let answer = ask(name(&host.fqdn), RecordType::AAAA).await;
        assert!(answer.metadata.authoritative);
        assert!(
            answer
                .answers
                .iter()
                .any(|r| r.data == RData::AAAA(AAAA(host.v6)))
        );
        let reverse = ask(Name::from(IpAddr::V6(host.v6)), RecordType::PTR).await;
        assert!(
            reverse
                .answers
                .iter()
                .any(|r| r.data == RData::PTR(PTR(name(&host.fqdn))))
        );
    }
}
