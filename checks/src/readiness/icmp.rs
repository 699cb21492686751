//! icmp.v6: an ICMPv6 echo to every IPv6 address. Informational only: many networks
//! filter echo, so a silent address holds no level back.

use std::net::IpAddr;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::results::{CheckRecord, Status, millis};

use crate::probe::icmp::Pings;
use crate::readiness::{Check, Gate, HostScan};

pub struct IcmpV6;

impl Check for IcmpV6 {
    fn id(&self) -> &'static str {
        "icmp.v6"
    }
    fn gate(&self) -> Option<Gate> {
        None
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let addresses = scan.addresses(true);
            if addresses.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            if let Err(why) = scan.probe.echo_ready(true) {
                return vec![scan.record(self.id(), Status::Error, why)];
            }
            let pings = addresses
                .into_iter()
                .map(|address| self.ping(scan, address));
            futures::future::join_all(pings).await
        }
        .boxed()
    }
}

impl IcmpV6 {
    async fn ping(&self, scan: &HostScan<'_>, address: IpAddr) -> CheckRecord {
        let base =
            |status, detail: String| scan.record(self.id(), status, detail).at(address, None);
        let _guard = match scan.network.guard(address).await {
            Ok(guard) => guard,
            Err(refused) => return base(Status::Error, refused.detail(address)),
        };
        let timeout = scan.network.timeouts.connect.0;
        match scan.probe.echo(address).await {
            Ok(Pings { rtts, .. }) if !rtts.is_empty() => {
                let rtt_ms = millis(rtts[0]);
                base(Status::Pass, "echo reply received".into())
                    .took(rtts[0])
                    .measured("rtt_ms", rtt_ms)
            }
            Ok(Pings { sent, .. }) => base(
                Status::Warn,
                "no echo reply (ICMPv6 echo is often filtered)".into(),
            )
            .evidence(json!({ "sent": sent, "replies": 0, "timeout_ms": millis(timeout) }))
            .hint(
                "allowing ICMPv6 echo helps operators diagnose; Packet Too Big must never be filtered",
            ),
            Err(why) => base(Status::Error, why),
        }
    }
}
