//! The made-up city both UI benches show: its agencies and the checks its hosts' results
//! name.

use sixfive_inventory::model::Agency;

pub const AGENCIES: usize = 40;
/// A host's results, in check order.
pub const CHECKS: [&str; 6] = [
    "dns.aaaa",
    "tcp.v6",
    "http.v6",
    "tls.v6",
    "http.parity",
    "dns.ptr",
];

pub fn agencies() -> Vec<Agency> {
    (0..AGENCIES)
        .map(|a| Agency {
            id: format!("a{a:02}"),
            name: format!("Sở số {a}"),
            name_vi: None,
            target: Some("2027-06-30".parse().unwrap()),
        })
        .collect()
}
