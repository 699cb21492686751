//! dns.aaaa_global: every AAAA of the host is an address IPv6 users can reach (global
//! unicast, or ULA for a host the inventory marks internal).

use std::net::IpAddr;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::resolve::MAX_ADDRESSES;
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
            // One result per address, up to MAX_ADDRESSES of each verdict, then one that
            // counts the rest: a zone's thousand AAAA records make a dozen results, and
            // every one of them is still judged.
            let mut listed: Vec<(Status, usize)> = Vec::new();
            let mut unlisted: Vec<(Status, usize)> = Vec::new();
            let mut records: Vec<CheckRecord> = addresses
                .iter()
                .filter_map(|address| {
                    let (status, kind) = scan.network.classify(*address, scan.host.internal);
                    match listed.iter_mut().find(|(s, _)| *s == status) {
                        Some((_, n)) if *n >= MAX_ADDRESSES => {
                            match unlisted.iter_mut().find(|(s, _)| *s == status) {
                                Some((_, more)) => *more += 1,
                                None => unlisted.push((status, 1)),
                            }
                            return None;
                        }
                        Some((_, n)) => *n += 1,
                        None => listed.push((status, 1)),
                    }
                    let record = scan
                        .record(self.id(), status, format!("{address} is {kind}"))
                        .at(IpAddr::V6(*address), None)
                        .evidence(json!({"address": address, "class": kind, "internal": scan.host.internal,
                            "chain": scan.facts.chain}));
                    Some(match status {
                        Status::Fail if kind.contains("NAT64") => record.hint(
                            "remove this AAAA: a translator's address in authoritative data is IPv4, not IPv6; publish the service's native IPv6 address",
                        ),
                        Status::Fail => record.hint(
                            "remove this AAAA: IPv6 users try it and fail (publish only global unicast addresses)",
                        ),
                        Status::Warn => record.hint("publish the service's native IPv6 address instead"),
                        _ => record,
                    })
                })
                .collect();
            for (status, more) in unlisted {
                records.push(
                    scan.record(
                        self.id(),
                        status,
                        format!("{more} more AAAA records judged {status}, not listed one by one"),
                    )
                    .evidence(json!({"unlisted": more, "chain": scan.facts.chain})),
                );
            }
            records
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use crate::probe::resolve::{Facts, Resolution};
    use crate::readiness::fake::{host, network};

    /// Forty global addresses, then one that no user can reach, last in order: it is
    /// judged, though only sixteen of the forty are listed.
    #[tokio::test]
    async fn every_record_is_judged_and_sixteen_of_a_verdict_are_listed() {
        let mut v6: Vec<Ipv6Addr> = (1..=40u16)
            .map(|i| Ipv6Addr::new(0x2001, 0xdb9, 0, 0, 0, 0, 0, i))
            .collect();
        v6.push("fe80::1".parse().unwrap());
        let mut public = host(&[]);
        public.internal = false;
        let facts = Facts {
            chain: vec![public.fqdn.clone()],
            v4: Resolution::NoData,
            v6: Resolution::Records(v6),
            mail: None,
            zones: Vec::new(),
        };
        let network = network(true);
        let scan = HostScan::new(&public, facts, &network);
        let records = AaaaGlobal.run(&scan).await;
        let of = |status: Status| records.iter().filter(|r| r.status == status).count();
        assert_eq!(of(Status::Pass), MAX_ADDRESSES + 1, "{records:#?}");
        assert_eq!(of(Status::Fail), 1, "{records:#?}");
        let summary = records.last().unwrap();
        assert_eq!(summary.status, Status::Pass);
        assert_eq!(
            summary.detail,
            "24 more AAAA records judged pass, not listed one by one"
        );
        assert!(records.iter().any(|r| r.detail.starts_with("fe80::1 is")));
    }
}
