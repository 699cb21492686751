//! ICMP and ICMPv6 echo: the socket, a paced series of echoes to one address, and what came
//! back. icmp.v6 and the site poller's latency and loss are measured with it.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use sixfive_inventory::results::{millis, thousandths};
use surge_ping::{Client, Config, ICMP, IcmpPacket, PingIdentifier, PingSequence, SurgeError};

use crate::probe::count::Outcome;
use crate::probe::pace::Pace;

/// Echo identifiers, distinct per ping so concurrent pings never take each other's replies.
static NEXT_IDENT: AtomicU16 = AtomicU16::new(1);
static NEXT_SEQUENCE: AtomicU16 = AtomicU16::new(0);

/// Why echoes could not be sent: the scanner's trouble, never an answer from the target.
/// Shared (`Arc`) because a scan keeps one socket, or the reason it has none, for all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IcmpError {
    #[error("cannot open an ICMP socket {}", socket_trouble(.0))]
    Socket(Arc<std::io::Error>),
    #[error("ping failed: {0}")]
    Ping(Arc<SurgeError>),
}

/// Why the socket could not be opened, on one line, with what to change when it is a
/// matter of privilege. surge-ping's own text for a refused ping socket spans lines and
/// names a sysctl (net.ipv6.ping_group_range) that does not exist; its last line is the
/// system's error, as it is the whole text of any other error.
fn socket_trouble(error: &std::io::Error) -> String {
    if error.kind() == std::io::ErrorKind::PermissionDenied {
        return "(permission denied): run with CAP_NET_RAW, or allow ping sockets with sysctl \
                net.ipv4.ping_group_range (it governs IPv6 too)"
            .into();
    }
    let text = error.to_string();
    let last = text.lines().last().unwrap_or_default();
    format!(
        "({})",
        last.strip_prefix("Original error: ").unwrap_or(last)
    )
}

/// An ICMP or ICMPv6 socket: unprivileged (ping socket) when the system allows it, else raw.
pub fn client(kind: ICMP) -> Result<Client, IcmpError> {
    Client::new(&Config::builder().kind(kind).build()).map_err(|e| IcmpError::Socket(Arc::new(e)))
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
    /// How a series ended, as the probe counters count it: an echo reply, or none; a
    /// series that could not be sent at all was not sent.
    pub fn outcome<E>(series: &Result<Pings, E>) -> Outcome {
        match series {
            Ok(pings) if !pings.rtts.is_empty() => Outcome::Ok,
            Ok(_) => Outcome::Timeout,
            Err(_) => Outcome::NotSent,
        }
    }

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
) -> Result<Pings, IcmpError> {
    let ident = PingIdentifier(NEXT_IDENT.fetch_add(1, Ordering::Relaxed));
    // Unique sequence numbers: a kernel ping socket replaces the identifier, so concurrent
    // series to one address are told apart by sequence alone. A series takes a block, so
    // its echoes are numbered one after another, as ping's are.
    let first =
        NEXT_SEQUENCE.fetch_add(u16::try_from(count).unwrap_or(u16::MAX), Ordering::Relaxed);
    let echoes = (0..count).map(|i| async move {
        tokio::time::sleep(interval * i).await;
        if let Some(pace) = pace {
            pace.until_ready().await;
        }
        let mut pinger = client.pinger(address, ident).await;
        pinger.timeout(timeout);
        let sequence = PingSequence(first.wrapping_add(i as u16));
        pinger.ping(sequence, b"sixfive").await
    });
    let mut rtts = Vec::new();
    for echo in futures::future::join_all(echoes).await {
        match echo {
            Ok((reply, rtt)) if is_echo_reply(&reply) => rtts.push(rtt),
            // Destination unreachable and friends: the address did not answer.
            Ok(_) | Err(SurgeError::Timeout { .. }) => {}
            Err(e) => return Err(IcmpError::Ping(Arc::new(e))),
        }
    }
    Ok(Pings { sent: count, rtts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(error: std::io::Error) -> String {
        IcmpError::Socket(Arc::new(error)).to_string()
    }

    #[test]
    fn a_refused_socket_says_on_one_line_what_to_change() {
        // What surge-ping returns when the ping socket is refused.
        let refused = std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "Permission denied creating ICMP socket. On Linux, you may need to:\n\
             1. Enable non-privileged ICMP: `sudo sysctl -w net.ipv6.ping_group_range=..`\n\
             Original error: Permission denied (os error 13)",
        );
        assert_eq!(
            shown(refused),
            "cannot open an ICMP socket (permission denied): run with CAP_NET_RAW, or allow \
             ping sockets with sysctl net.ipv4.ping_group_range (it governs IPv6 too)"
        );
    }

    #[test]
    fn another_error_is_shown_as_the_system_gives_it_without_privilege_advice() {
        let no_v6 = std::io::Error::from_raw_os_error(97);
        let text = shown(no_v6);
        assert_eq!(
            text,
            "cannot open an ICMP socket (Address family not supported by protocol (os error 97))"
        );
    }
}
