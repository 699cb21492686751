//! dns.ptr: each usable IPv6 address has reverse DNS that resolves back to it
//! (forward-confirmed).

use std::net::{IpAddr, Ipv6Addr};

use futures::future::{BoxFuture, FutureExt};
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::resolve::{MAX_ADDRESSES, display_name};
use crate::readiness::dns::timed;
use crate::readiness::{Check, Gate, HostScan};

pub struct Ptr;

impl Check for Ptr {
    fn id(&self) -> &'static str {
        "dns.ptr"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L4, 2))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let addresses: Vec<Ipv6Addr> = scan
                .facts
                .v6
                .records()
                .iter()
                .copied()
                .filter(|a| scan.usable(IpAddr::V6(*a)))
                .take(MAX_ADDRESSES)
                .collect();
            if addresses.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            futures::future::join_all(addresses.into_iter().map(|a| self.reverse(scan, a))).await
        }
        .boxed()
    }
}

impl Ptr {
    async fn reverse(&self, scan: &HostScan<'_>, address: Ipv6Addr) -> CheckRecord {
        let resolvers = &scan.network.resolvers;
        let reverse = Name::from(IpAddr::V6(address));
        let answer = resolvers.lookup(&reverse, RecordType::PTR).await;
        let base = |status, detail: String| {
            let record = scan.record(self.id(), status, detail);
            timed(record.at(IpAddr::V6(address), None), &answer)
        };
        let Ok(message) = answer.conclusive() else {
            return base(
                Status::Error,
                format!("PTR lookup failed: {}", answer.describe()),
            );
        };
        let names: Vec<Name> = message
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::PTR(ptr) => Some(ptr.0.clone()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            return base(Status::Warn, format!("no PTR for {address}"))
                .hint(format!("publish a PTR for {address} in its ip6.arpa zone"))
                .evidence(json!({"reverse": display_name(&reverse), "answer": answer.describe()}));
        }
        for name in &names {
            let (_, forward) = resolvers.addresses_v6(name).await;
            if forward.records().contains(&address) {
                return base(
                    Status::Pass,
                    format!("PTR {} resolves back to {address}", display_name(name)),
                );
            }
        }
        let shown: Vec<String> = names.iter().map(display_name).collect();
        base(
            Status::Warn,
            format!(
                "PTR {} does not resolve back to {address}",
                shown.join(", ")
            ),
        )
        .hint("make the PTR name's AAAA include this address (forward-confirmed reverse DNS)")
    }
}
