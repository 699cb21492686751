//! dns.v6_only: every zone the host depends on answers over IPv6, so a client with no
//! IPv4 at all can resolve it (L5).

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use futures::future::{BoxFuture, FutureExt};
use hickory_proto::rr::Name;
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::dns::Transport;
use crate::probe::resolve::{Mail, Resolution};
use crate::readiness::{Check, Gate, HostScan};

pub struct V6Only;

impl Check for V6Only {
    fn id(&self) -> &'static str {
        "dns.v6_only"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L5, 2))
    }
    /// Every zone the host depends on (its own, its aliases', its mail exchangers' and its
    /// name servers') answers over IPv6, so a client with no IPv4 at all can resolve it.
    /// The root and top-level zones are left out: they are IPv6-ready, and out of scope.
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            if scan.facts.v6.records().is_empty() {
                return scan.skip(self.id(), "no AAAA record");
            }
            let mut names: Vec<String> = scan.facts.chain.clone();
            if let Some(Mail::Exchangers { hosts, .. }) = &scan.facts.mail {
                names.extend(hosts.iter().map(|mx| mx.name.clone()));
            }
            for zone in scan.facts.zones.iter().flatten() {
                names.extend(zone.name_servers.iter().map(|ns| ns.name.clone()));
            }
            let resolvers = &scan.network.resolvers;
            let mut zones = std::collections::BTreeMap::new();
            for name in names {
                let Ok(name) = Name::from_str(&format!("{name}.")) else {
                    continue;
                };
                match resolvers.zone(&name).await {
                    Ok(zone) => {
                        zones.entry(zone.apex.clone()).or_insert(zone);
                    }
                    Err(why) => {
                        return vec![scan.record(
                            self.id(),
                            Status::Error,
                            format!("zone of {name} not found: {why}"),
                        )];
                    }
                }
            }
            let mut records = Vec::new();
            for (apex, zone) in zones {
                let Ok(apex_name) = Name::from_str(&format!("{apex}.")) else {
                    continue;
                };
                let mut answered = None;
                let mut refused = None;
                'servers: for ns in &zone.name_servers {
                    for address in scan.usable_v6(&ns.v6) {
                        let ip = IpAddr::V6(address);
                        match scan
                            .network
                            .ask_authoritative(SocketAddr::new(ip, 53), &apex_name, Transport::Udp)
                            .await
                        {
                            Ok(a) if a.message().is_some_and(|m| m.metadata.authoritative) => {
                                answered = Some(ns.name.clone());
                                break 'servers;
                            }
                            Ok(_) => {}
                            Err(why) => refused = Some(why.detail(ip)),
                        }
                    }
                    if let Resolution::Failed(why) = &ns.v6 {
                        refused = Some(format!("AAAA lookup of {} failed: {why}", ns.name));
                    }
                }
                if let (None, Some(why)) = (&answered, refused) {
                    records.push(
                        scan.record(self.id(), Status::Error, format!("zone {apex}: {why}"))
                            .evidence(json!({"zone": zone})),
                    );
                    continue;
                }
                let evidence = json!({"zone": zone});
                records.push(match answered {
                    Some(ns) => scan
                        .record(
                            self.id(),
                            Status::Pass,
                            format!("zone {apex} answers over IPv6 ({ns})"),
                        )
                        .evidence(evidence),
                    None => scan
                        .record(
                            self.id(),
                            Status::Fail,
                            format!("zone {apex} cannot be resolved without IPv4"),
                        )
                        .hint(format!(
                            "give a name server of {apex} an IPv6 address that answers for the zone"
                        ))
                        .evidence(evidence),
                });
            }
            records
        }
        .boxed()
    }
}
