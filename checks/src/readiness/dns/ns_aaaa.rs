//! dns.ns_aaaa: at least two name servers of every zone on the resolution path have a
//! usable AAAA.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::resolve::Resolution;
use crate::readiness::dns::{unusable, zones_of};
use crate::readiness::{Check, Gate, HostScan};

pub struct NsAaaa;

impl Check for NsAaaa {
    fn id(&self) -> &'static str {
        "dns.ns_aaaa"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L3, 15))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let (zones, mut records) = zones_of(scan, self.id());
            for zone in zones {
                let with_aaaa: Vec<&str> = zone
                    .name_servers
                    .iter()
                    .filter(|ns| !scan.usable_v6(&ns.v6).is_empty())
                    .map(|ns| ns.name.as_str())
                    .collect();
                let unusable: Vec<String> = zone
                    .name_servers
                    .iter()
                    .flat_map(|ns| {
                        unusable(scan, ns.v6.records())
                            .into_iter()
                            .map(move |why| format!("{}: {why}", ns.name))
                    })
                    .collect();
                let total = zone.name_servers.len();
                let failed: Vec<String> = zone
                    .name_servers
                    .iter()
                    .filter_map(|ns| match &ns.v6 {
                        Resolution::Failed(why) => Some(format!("{}: {why}", ns.name)),
                        _ => None,
                    })
                    .collect();
                if with_aaaa.len() < 2 && !failed.is_empty() {
                    // "No AAAA" is only an answer when every lookup answered.
                    records.push(
                        scan.record(
                            self.id(),
                            Status::Error,
                            format!("cannot tell: AAAA lookups failed ({})", failed.join("; ")),
                        )
                        .evidence(json!({"zone": zone})),
                    );
                    continue;
                }
                let status = if with_aaaa.len() >= 2 {
                    Status::Pass
                } else {
                    Status::Fail
                };
                let mut detail = format!(
                    "{} of {total} name servers of {} have a usable AAAA",
                    with_aaaa.len(),
                    zone.apex
                );
                if !unusable.is_empty() {
                    detail = format!("{detail} ({})", unusable.join("; "));
                }
                let record = scan
                    .record(self.id(), status, detail)
                    .evidence(json!({"zone": zone, "unusable": unusable}));
                records.push(if status == Status::Fail {
                    record.hint(format!(
                        "give at least two name servers of {} a global IPv6 address (AAAA)",
                        zone.apex
                    ))
                } else {
                    record
                });
            }
            records
        }
        .boxed()
    }
}
