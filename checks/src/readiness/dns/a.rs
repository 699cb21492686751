//! dns.a: the host's A records. Informational: they drive the IPv4 side of every
//! comparison, and an IPv6-only host has none.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::resolve::{Resolution, counted};
use crate::readiness::dns::unresolved;
use crate::readiness::{Check, Gate, HostScan};

pub struct ARecords;

impl Check for ARecords {
    fn id(&self) -> &'static str {
        "dns.a"
    }
    fn gate(&self) -> Option<Gate> {
        None
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let evidence = json!({"chain": scan.facts.chain, "a": scan.facts.v4});
            let record = match &scan.facts.v4 {
                Resolution::Records(a) => {
                    scan.record(self.id(), Status::Pass, counted(a.len(), "A"))
                }
                Resolution::NoData => {
                    scan.record(self.id(), Status::Skip, "no A record: an IPv6-only host")
                }
                Resolution::NxDomain | Resolution::Failed(_) => {
                    unresolved(scan, self.id(), &scan.facts.v4)
                }
            };
            vec![record.evidence(evidence)]
        }
        .boxed()
    }
}
