//! icmp.v6: an ICMPv6 echo to every IPv6 address. Informational only: many networks
//! filter echo, so a silent address holds no level back.

use std::net::IpAddr;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::results::{CheckRecord, Status, millis};

use crate::probe::count::{ProbeKind, count};
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
                return vec![scan.record(self.id(), Status::Error, why.to_string())];
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
        let _guard = match scan.network.guard(address, ProbeKind::Icmp).await {
            Ok(guard) => guard,
            Err(refused) => return base(Status::Error, refused.detail(address)),
        };
        let timeout = scan.network.timeouts.connect.0;
        let echo = scan.probe.echo(address).await;
        count(ProbeKind::Icmp, address, Pings::outcome(&echo));
        match echo {
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
            Err(why) => base(Status::Error, why.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;
    use std::sync::Arc;
    use std::time::Duration;

    use surge_ping::SurgeError;

    use super::*;
    use crate::probe::icmp::IcmpError;
    use crate::readiness::fake::{FakeNet, V6, host, network, run};

    async fn judged(net: &FakeNet, own_v6: bool) -> Vec<CheckRecord> {
        run(&IcmpV6, &host(&[]), &network(own_v6), net, false).await
    }

    #[tokio::test]
    async fn a_reply_passes_with_its_round_trip_measured() {
        let reply = Pings {
            sent: 1,
            rtts: vec![Duration::from_micros(2500)],
        };
        let records = judged(&FakeNet::default().echo(V6, Ok(reply)), true).await;
        assert_eq!(records[0].status, Status::Pass, "{}", records[0].detail);
        assert_eq!(records[0].measurements.get("rtt_ms"), Some(&2.5));
    }

    #[tokio::test]
    async fn a_lost_echo_only_warns_and_says_what_was_sent() {
        let records = judged(&FakeNet::default(), true).await;
        assert_eq!(records[0].status, Status::Warn, "{}", records[0].detail);
        assert_eq!(records[0].evidence["sent"], 1);
        assert_eq!(records[0].evidence["replies"], 0);
    }

    #[tokio::test]
    async fn a_scanner_that_cannot_ping_is_an_error() {
        let no_buffer =
            IcmpError::Ping(Arc::new(SurgeError::IOError(ErrorKind::OutOfMemory.into())));
        let failed = FakeNet::default().echo(V6, Err(no_buffer));
        assert_eq!(judged(&failed, true).await[0].status, Status::Error);
        let no_socket = FakeNet {
            no_socket: Some(IcmpError::Socket(Arc::new(
                ErrorKind::PermissionDenied.into(),
            ))),
            ..FakeNet::default()
        };
        let records = judged(&no_socket, true).await;
        assert_eq!(
            records.len(),
            1,
            "one record for the host, not one per address"
        );
        assert_eq!(records[0].address, None);
        assert_eq!(records[0].status, Status::Error);
    }
}
