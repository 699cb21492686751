//! dns.aaaa: the host has AAAA records (CNAME chain followed); a mail-only domain counts
//! its mail exchangers' AAAA instead.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::resolve::{Mail, Resolution, counted};
use crate::readiness::dns::unresolved;
use crate::readiness::{Check, Gate, HostScan};

pub struct AaaaRecords;

impl Check for AaaaRecords {
    fn id(&self) -> &'static str {
        "dns.aaaa"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L1, 25))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            // A mail-only domain is reached through its exchangers: theirs are the AAAA that count.
            if scan.web_schemes().is_empty()
                && let Some(Mail::Exchangers { hosts, .. }) = &scan.facts.mail
            {
                let with_aaaa: Vec<&str> = hosts
                    .iter()
                    .filter(|mx| !scan.usable_v6(&mx.v6).is_empty())
                    .map(|mx| mx.name.as_str())
                    .collect();
                let evidence = json!({"mx": hosts});
                let failed = hosts
                    .iter()
                    .any(|mx| matches!(mx.v6, Resolution::Failed(_)));
                return vec![if with_aaaa.is_empty() && failed {
                    scan.record(
                        self.id(),
                        Status::Error,
                        "cannot tell: AAAA lookups of the mail exchangers failed",
                    )
                    .evidence(evidence)
                } else if with_aaaa.is_empty() {
                    scan.record(
                        self.id(),
                        Status::Fail,
                        "no mail exchanger has a usable AAAA: mail is IPv4-only",
                    )
                    .hint("give a mail exchanger an IPv6 address and publish its AAAA")
                    .evidence(evidence)
                } else {
                    scan.record(
                        self.id(),
                        Status::Pass,
                        format!("mail exchangers with AAAA: {}", with_aaaa.join(", ")),
                    )
                    .evidence(evidence)
                }];
            }
            let evidence = json!({"chain": scan.facts.chain, "aaaa": scan.facts.v6});
            let hops = scan.facts.chain.len() - 1;
            let via = if hops > 0 {
                format!(" via {hops} CNAME hop{}", if hops == 1 { "" } else { "s" })
            } else {
                String::new()
            };
            let record = match &scan.facts.v6 {
                Resolution::Records(aaaa) => scan.record(
                    self.id(),
                    Status::Pass,
                    format!("{}{via}", counted(aaaa.len(), "AAAA")),
                ),
                Resolution::NoData => scan
                    .record(
                        self.id(),
                        Status::Fail,
                        format!("no AAAA record{via}: IPv4-only"),
                    )
                    .hint("publish an AAAA record once the service answers over IPv6"),
                Resolution::NxDomain | Resolution::Failed(_) => {
                    unresolved(scan, self.id(), &scan.facts.v6)
                }
            };
            vec![record.evidence(evidence)]
        }
        .boxed()
    }
}
