//! dns.aaaa_global: every AAAA of the host is an address IPv6 users can reach (global
//! unicast, or ULA for a host the inventory marks internal).

use std::net::IpAddr;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::readiness::{Check, Gate, HostScan};

pub struct AaaaGlobal;

impl Check for AaaaGlobal {
    fn id(&self) -> &'static str {
        "dns.aaaa_global"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::breaking(Level::L1, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let addresses = scan.facts.v6.records();
            if addresses.is_empty() {
                return scan.skip(self.id(), "no AAAA record");
            }
            addresses
                .iter()
                .map(|address| {
                    let (status, kind) = scan.network.classify(*address, scan.host.internal);
                    let record = scan
                        .record(self.id(), status, format!("{address} is {kind}"))
                        .at(IpAddr::V6(*address), None)
                        .evidence(json!({"address": address, "class": kind, "internal": scan.host.internal,
                            "chain": scan.facts.chain}));
                    match status {
                        Status::Fail if kind.contains("NAT64") => record.hint(
                            "remove this AAAA: a translator's address in authoritative data is IPv4, not IPv6; publish the service's native IPv6 address",
                        ),
                        Status::Fail => record.hint(
                            "remove this AAAA: IPv6 users try it and fail (publish only global unicast addresses)",
                        ),
                        Status::Warn => record.hint("publish the service's native IPv6 address instead"),
                        _ => record,
                    }
                })
                .collect()
        }
        .boxed()
    }
}
