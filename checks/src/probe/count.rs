//! Counts of the probes this process sent, by kind, family and outcome: the agent's
//! `sixfive_probes_total`. Process-wide, so that they run on across the engines a reload
//! builds (a counter that drops reads to Prometheus as a restart).

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use sixfive_inventory::store::metrics::ProbeCount;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Dns,
    Tcp,
    Http,
    Smtp,
    Icmp,
    Snmp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An answer the probe could use (an open port, a response, an echo reply).
    Ok,
    /// An answer that is a failure (refused, a TLS or protocol error, SERVFAIL).
    Failed,
    /// No answer in time.
    Timeout,
    /// Not sent: out of scope, an unusable address, or the scanner could not send.
    NotSent,
}

/// Label values, in the order of the enums' variants, which index them.
const KINDS: [&str; 6] = ["dns", "tcp", "http", "smtp", "icmp", "snmp"];
const FAMILIES: [&str; 2] = ["v6", "v4"];
const OUTCOMES: [&str; 4] = ["ok", "failed", "timeout", "not_sent"];

static COUNTS: [AtomicU64; KINDS.len() * FAMILIES.len() * OUTCOMES.len()] =
    [const { AtomicU64::new(0) }; KINDS.len() * FAMILIES.len() * OUTCOMES.len()];

fn slot(kind: usize, family: usize, outcome: usize) -> usize {
    (kind * FAMILIES.len() + family) * OUTCOMES.len() + outcome
}

/// Counts one probe of `kind` to `address`.
pub fn count(kind: ProbeKind, address: IpAddr, outcome: Outcome) {
    // An IPv4-mapped address is an IPv4 probe.
    let family = usize::from(!address.to_canonical().is_ipv6());
    COUNTS[slot(kind as usize, family, outcome as usize)].fetch_add(1, Ordering::Relaxed);
}

/// Every count so far, zeros included: a series that appears only once it is non-zero
/// makes `increase()` miss its first probes.
pub fn counts() -> Vec<ProbeCount> {
    let mut all = Vec::with_capacity(COUNTS.len());
    for (k, kind) in KINDS.into_iter().enumerate() {
        for (f, family) in FAMILIES.into_iter().enumerate() {
            for (o, outcome) in OUTCOMES.into_iter().enumerate() {
                all.push(ProbeCount {
                    kind,
                    family,
                    outcome,
                    probes: COUNTS[slot(k, f, o)].load(Ordering::Relaxed),
                });
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_probe_counts_once_under_its_kind_family_and_outcome() {
        let find = |kind, family, outcome| {
            counts()
                .into_iter()
                .find(|c| c.kind == kind && c.family == family && c.outcome == outcome)
                .unwrap()
                .probes
        };
        let before = (find("snmp", "v6", "timeout"), find("snmp", "v4", "timeout"));
        count(
            ProbeKind::Snmp,
            "fd00::1".parse().unwrap(),
            Outcome::Timeout,
        );
        count(
            ProbeKind::Snmp,
            "::ffff:198.18.0.1".parse().unwrap(),
            Outcome::Timeout,
        );
        count(
            ProbeKind::Snmp,
            "198.18.0.2".parse().unwrap(),
            Outcome::Timeout,
        );
        // Other tests count at once: at least ours, in the right series.
        assert!(find("snmp", "v6", "timeout") > before.0);
        assert!(find("snmp", "v4", "timeout") >= before.1 + 2);
        assert_eq!(counts().len(), 6 * 2 * 4);
    }
}
