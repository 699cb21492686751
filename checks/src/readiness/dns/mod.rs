//! DNS checks, one file each: the host's A and AAAA records, whether its AAAA are usable,
//! its zones' name servers over IPv6, its mail exchangers' AAAA, reverse DNS, DNSSEC, and
//! whether it resolves with no IPv4 at all. This module holds what several of them share.

pub mod a;
pub mod aaaa;
pub mod aaaa_global;
pub mod dnssec;
pub mod mx_aaaa;
pub mod ns_aaaa;
pub mod ns_v6;
pub mod ptr;
pub mod v6_only;

use std::net::{IpAddr, Ipv6Addr};

use sixfive_inventory::results::{CheckRecord, Status, millis};

use crate::probe::dns::Answer;
use crate::probe::resolve::{Resolution, Zone};
use crate::readiness::HostScan;

/// The record for a name that does not resolve: missing (the host's fault) or a lookup
/// that failed (the scan's).
fn unresolved<T>(scan: &HostScan<'_>, id: &str, resolution: &Resolution<T>) -> CheckRecord {
    match resolution {
        Resolution::Failed(why) => scan.record(id, Status::Error, format!("lookup failed: {why}")),
        _ => scan
            .record(id, Status::Fail, "the name does not exist (NXDOMAIN)")
            .hint("publish the name in DNS, or remove the host from the inventory"),
    }
}

/// The zones on the host's resolution path that were found; each one that was not is an
/// `error` record (the scan could not decide).
fn zones_of<'a>(scan: &'a HostScan<'_>, id: &str) -> (Vec<&'a Zone>, Vec<CheckRecord>) {
    let mut zones = Vec::new();
    let mut errors = Vec::new();
    for zone in &scan.facts.zones {
        match zone {
            Ok(zone) => zones.push(zone),
            Err(why) => {
                errors.push(scan.record(id, Status::Error, format!("zone not found: {why}")))
            }
        }
    }
    (zones, errors)
}

/// `record` with the time `answer` took (`query_ms`), when an answer came.
fn timed(record: CheckRecord, answer: &Answer) -> CheckRecord {
    match answer.elapsed() {
        Some(elapsed) => record.measured("query_ms", millis(elapsed)),
        None => record,
    }
}

/// Why each IPv6 address of a name server or mail exchanger is not usable, for evidence.
fn unusable(scan: &HostScan<'_>, addresses: &[Ipv6Addr]) -> Vec<String> {
    addresses
        .iter()
        .filter(|a| !scan.usable(IpAddr::V6(**a)))
        .map(|a| format!("{a} is {}", scan.network.classify(*a, scan.host.internal).1))
        .collect()
}
