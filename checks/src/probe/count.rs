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

const KINDS: [(ProbeKind, &str); 6] = [
    (ProbeKind::Dns, "dns"),
    (ProbeKind::Tcp, "tcp"),
    (ProbeKind::Http, "http"),
    (ProbeKind::Smtp, "smtp"),
    (ProbeKind::Icmp, "icmp"),
    (ProbeKind::Snmp, "snmp"),
];
const FAMILIES: [&str; 2] = ["v6", "v4"];
const OUTCOMES: [(Outcome, &str); 4] = [
    (Outcome::Ok, "ok"),
    (Outcome::Failed, "failed"),
    (Outcome::Timeout, "timeout"),
    (Outcome::NotSent, "not_sent"),
];

static COUNTS: [AtomicU64; KINDS.len() * FAMILIES.len() * OUTCOMES.len()] =
    [const { AtomicU64::new(0) }; KINDS.len() * FAMILIES.len() * OUTCOMES.len()];

fn slot(kind: ProbeKind, v6: bool, outcome: Outcome) -> usize {
    let k = KINDS.iter().position(|(k, _)| *k == kind).unwrap_or(0);
    let o = OUTCOMES
        .iter()
        .position(|(o, _)| *o == outcome)
        .unwrap_or(0);
    (k * FAMILIES.len() + usize::from(!v6)) * OUTCOMES.len() + o
}

/// Counts one probe of `kind` to `address`.
pub fn count(kind: ProbeKind, address: IpAddr, outcome: Outcome) {
    // An IPv4-mapped address is an IPv4 probe.
    let v6 = matches!(address, IpAddr::V6(a) if a.to_ipv4_mapped().is_none());
    COUNTS[slot(kind, v6, outcome)].fetch_add(1, Ordering::Relaxed);
}

/// Every count so far, zeros included: a series that appears only once it is non-zero
/// makes `increase()` miss its first probes.
pub fn counts() -> Vec<ProbeCount> {
    let mut all = Vec::with_capacity(COUNTS.len());
    for (kind, kind_name) in KINDS {
        for (f, family) in FAMILIES.iter().enumerate() {
            for (outcome, outcome_name) in OUTCOMES {
                all.push(ProbeCount {
                    kind: kind_name,
                    family,
                    outcome: outcome_name,
                    probes: COUNTS[slot(kind, f == 0, outcome)].load(Ordering::Relaxed),
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
