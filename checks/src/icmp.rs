//! icmp.v6: an ICMPv6 echo to every IPv6 address. Informational only: many networks
//! filter echo, so a silent address holds no level back.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::results::{CheckRecord, Status};
use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};

use crate::check::{Check, Gate, HostScan};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(IcmpV6)]
}

/// Echo identifiers, distinct per ping so concurrent pings never take each other's replies.
static NEXT_IDENT: AtomicU16 = AtomicU16::new(1);

/// An ICMPv6 socket: unprivileged (ping socket) when the system allows it, else raw.
pub fn client() -> Result<Client, String> {
    Client::new(&Config::builder().kind(ICMP::V6).build()).map_err(|e| {
        format!(
            "cannot open an ICMPv6 socket ({e}): run with CAP_NET_RAW, or allow ping sockets with \
             sysctl net.ipv4.ping_group_range (it governs IPv6 too)"
        )
    })
}

struct IcmpV6;

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
            let client = match scan.network.icmp() {
                Ok(client) => client,
                Err(why) => return vec![scan.record(self.id(), Status::Error, why)],
            };
            let pings = addresses
                .into_iter()
                .map(|address| self.ping(scan, client, address));
            futures::future::join_all(pings).await
        }
        .boxed()
    }
}

impl IcmpV6 {
    async fn ping(&self, scan: &HostScan<'_>, client: &Client, address: IpAddr) -> CheckRecord {
        let base =
            |status, detail: String| scan.record(self.id(), status, detail).at(address, None);
        let _guard = match scan.network.guard(address).await {
            Ok(guard) => guard,
            Err(refused) => return base(Status::Error, refused.detail(address)),
        };
        let ident = PingIdentifier(NEXT_IDENT.fetch_add(1, Ordering::Relaxed));
        let mut pinger = client.pinger(address, ident).await;
        pinger.timeout(scan.network.timeouts.connect.0);
        match pinger.ping(PingSequence(0), b"sixfive").await {
            Ok((_, rtt)) => base(Status::Pass, format!("echo reply in {:.1} ms", rtt.as_secs_f64() * 1000.0))
                .took(rtt)
                .evidence(json!({"rtt_ms": rtt.as_secs_f64() * 1000.0})),
            Err(SurgeError::Timeout { .. }) => base(Status::Warn, "no echo reply (ICMPv6 echo is often filtered)".into())
                .hint("allowing ICMPv6 echo helps operators diagnose; Packet Too Big must never be filtered"),
            Err(e) => base(Status::Error, format!("ping failed: {e}")),
        }
    }
}
