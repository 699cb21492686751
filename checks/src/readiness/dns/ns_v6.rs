//! dns.ns_v6: each IPv6 address of every name server on the resolution path answers
//! authoritatively for its zone, over UDP and over TCP.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use futures::future::{BoxFuture, FutureExt};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::dns::Transport;
use crate::probe::resolve::display_name;
use crate::readiness::dns::{timed, zones_of};
use crate::readiness::{Check, Gate, HostScan};

pub struct NsV6;

impl Check for NsV6 {
    fn id(&self) -> &'static str {
        "dns.ns_v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L3, 10))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let (zones, mut records) = zones_of(scan, self.id());
            let mut probes = Vec::new();
            for zone in zones {
                let Ok(apex) = Name::from_str(&format!("{}.", zone.apex)) else {
                    records.push(scan.record(
                        self.id(),
                        Status::Error,
                        format!("zone apex {} is not a DNS name", zone.apex),
                    ));
                    continue;
                };
                let targets: Vec<(String, Ipv6Addr)> = zone
                    .name_servers
                    .iter()
                    .flat_map(|ns| {
                        scan.usable_v6(&ns.v6)
                            .into_iter()
                            .map(move |a| (ns.name.clone(), a))
                    })
                    .collect();
                if targets.is_empty() {
                    records.extend(scan.skip(
                        self.id(),
                        format!(
                            "no name server of {} has a usable IPv6 address (see dns.ns_aaaa)",
                            zone.apex
                        ),
                    ));
                    continue;
                }
                for (ns, address) in targets {
                    for transport in [Transport::Udp, Transport::Tcp] {
                        let (ns, apex) = (ns.clone(), apex.clone());
                        probes.push(
                            async move { self.ask(scan, &ns, address, &apex, transport).await },
                        );
                    }
                }
            }
            records.extend(futures::future::join_all(probes).await);
            records
        }
        .boxed()
    }
}

impl NsV6 {
    async fn ask(
        &self,
        scan: &HostScan<'_>,
        ns: &str,
        address: Ipv6Addr,
        apex: &Name,
        transport: Transport,
    ) -> CheckRecord {
        let over = match transport {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        };
        let ip = IpAddr::V6(address);
        let zone = display_name(apex);
        let base = |status, detail: String| scan.record(self.id(), status, detail).at(ip, Some(53));
        let answer = match scan
            .network
            .ask_authoritative(SocketAddr::new(ip, 53), apex, transport)
            .await
        {
            Ok(answer) => answer,
            Err(refused) => return base(Status::Error, refused.detail(ip)),
        };
        // Any reply at all is what Internet.nl's score counts as reachable.
        let evidence = json!({"zone": zone, "name_server": ns, "transport": over,
            "answer": answer.describe(), "answered": answer.message().is_some()});
        let record = match answer.message() {
            Some(m) if m.metadata.authoritative && m.metadata.response_code == ResponseCode::NoError => {
                base(Status::Pass, format!("{ns} answers authoritatively for {zone} over IPv6 {over}")).evidence(evidence)
            }
            Some(_) => base(Status::Fail, format!("{ns} answers for {zone} over IPv6 {over} but not authoritatively"))
                .hint("the name server at this IPv6 address must serve the zone")
                .evidence(evidence),
            None => base(Status::Fail, format!("{ns} does not answer for {zone} over IPv6 {over}: {}", answer.describe()))
                .hint(format!("let the name server listen on [{address}]:53 for UDP and TCP, and open port 53 in the firewall"))
                .evidence(evidence),
        };
        timed(record, &answer)
    }
}
