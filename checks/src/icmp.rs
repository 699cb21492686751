//! icmp.v6: an ICMPv6 echo to every IPv6 address. Informational only: many networks
//! filter echo, so a silent address holds no level back.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::results::{CheckRecord, Status, millis, thousandths};
use surge_ping::{Client, Config, ICMP, IcmpPacket, PingIdentifier, PingSequence, SurgeError};

use crate::check::{Check, Gate, HostScan};
use crate::probe::snmp::Pace;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(IcmpV6)]
}

/// Echo identifiers, distinct per ping so concurrent pings never take each other's replies.
static NEXT_IDENT: AtomicU16 = AtomicU16::new(1);
static NEXT_SEQUENCE: AtomicU16 = AtomicU16::new(0);

/// An ICMP or ICMPv6 socket: unprivileged (ping socket) when the system allows it, else raw.
pub fn client(kind: ICMP) -> Result<Client, String> {
    Client::new(&Config::builder().kind(kind).build()).map_err(|e| {
        format!(
            "cannot open an ICMP socket ({e}): run with CAP_NET_RAW, or allow ping sockets with \
             sysctl net.ipv4.ping_group_range (it governs IPv6 too)"
        )
    })
}

/// Whether a packet surge-ping matched to our echo is its reply, not an error about it
/// (a router's or our own kernel's destination unreachable quotes the echo too).
fn is_echo_reply(packet: &IcmpPacket) -> bool {
    const ECHO_REPLY_V4: u8 = 0;
    const ECHO_REPLY_V6: u8 = 129;
    match packet {
        IcmpPacket::V4(p) => p.get_icmp_type().0 == ECHO_REPLY_V4,
        IcmpPacket::V6(p) => p.get_icmpv6_type().0 == ECHO_REPLY_V6,
    }
}

/// Echo round trips to one address.
#[derive(Debug, Clone, PartialEq)]
pub struct Pings {
    pub sent: u32,
    pub rtts: Vec<Duration>,
}

impl Pings {
    pub fn loss(&self) -> Option<f64> {
        (self.sent > 0).then(|| thousandths(1.0 - self.rtts.len() as f64 / f64::from(self.sent)))
    }

    pub fn latency_ms(&self) -> Option<f64> {
        let total: Duration = self.rtts.iter().sum();
        (!self.rtts.is_empty()).then(|| thousandths(millis(total) / self.rtts.len() as f64))
    }

    /// Mean difference between consecutive round trips.
    pub fn jitter_ms(&self) -> Option<f64> {
        let steps: Vec<f64> = self
            .rtts
            .windows(2)
            .map(|w| (millis(w[1]) - millis(w[0])).abs())
            .collect();
        (!steps.is_empty()).then(|| thousandths(steps.iter().sum::<f64>() / steps.len() as f64))
    }
}

/// Sends `count` echoes to `address`, `interval` apart without waiting for replies (as
/// ping and fping do), each after the rate limit `pace` allows it and waiting at most
/// `timeout` for its reply.
pub async fn series(
    client: &Client,
    address: IpAddr,
    count: u32,
    (interval, timeout): (Duration, Duration),
    pace: Option<&Pace>,
) -> Result<Pings, String> {
    let ident = PingIdentifier(NEXT_IDENT.fetch_add(1, Ordering::Relaxed));
    let echoes = (0..count).map(|i| async move {
        tokio::time::sleep(interval * i).await;
        if let Some(pace) = pace {
            pace.until_ready().await;
        }
        let mut pinger = client.pinger(address, ident).await;
        pinger.timeout(timeout);
        // Unique sequence numbers: a kernel ping socket replaces the identifier, so
        // concurrent series to one address are told apart by sequence alone.
        let sequence = PingSequence(NEXT_SEQUENCE.fetch_add(1, Ordering::Relaxed));
        pinger.ping(sequence, b"sixfive").await
    });
    let mut rtts = Vec::new();
    for echo in futures::future::join_all(echoes).await {
        match echo {
            Ok((reply, rtt)) if is_echo_reply(&reply) => rtts.push(rtt),
            // Destination unreachable and friends: the address did not answer.
            Ok(_) | Err(SurgeError::Timeout { .. }) => {}
            Err(e) => return Err(format!("ping failed: {e}")),
        }
    }
    Ok(Pings { sent: count, rtts })
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
            let client = match scan.network.icmp(true) {
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
        let timeout = scan.network.timeouts.connect.0;
        match series(client, address, 1, (Duration::ZERO, timeout), None).await {
            Ok(Pings { rtts, .. }) if !rtts.is_empty() => {
                let rtt_ms = millis(rtts[0]);
                base(Status::Pass, format!("echo reply in {rtt_ms:.1} ms"))
                    .took(rtts[0])
                    .evidence(json!({ "rtt_ms": rtt_ms }))
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
