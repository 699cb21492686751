//! dns.mx_aaaa: every mail exchanger of a host with mail has a usable AAAA.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::{Level, Service};
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::resolve::{Mail, MailHost, Resolution};
use crate::readiness::dns::unusable;
use crate::readiness::{Check, Gate, HostScan};

pub struct MxAaaa;

impl Check for MxAaaa {
    fn id(&self) -> &'static str {
        "dns.mx_aaaa"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L3, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            if !scan.has(Service::Smtp) {
                return scan.skip(self.id(), "the host has no mail service");
            }
            match &scan.facts.mail {
                None | Some(Mail::Implicit) => scan.skip(
                    self.id(),
                    "no MX: mail goes to the host's own addresses (see dns.aaaa)",
                ),
                Some(Mail::NullMx) => scan.skip(self.id(), "null MX: the domain takes no mail"),
                Some(Mail::Failed { reason }) => {
                    vec![scan.record(
                        self.id(),
                        Status::Error,
                        format!("MX lookup failed: {reason}"),
                    )]
                }
                Some(Mail::Exchangers { hosts, null_mx_beside }) => {
                    let mut records: Vec<CheckRecord> = hosts
                        .iter()
                        .map(|mx| self.exchanger(scan, mx))
                        .collect();
                    if *null_mx_beside {
                        records.push(
                            scan.record(
                                self.id(),
                                Status::Warn,
                                "a null MX (MX 0 .) stands beside other MX records",
                            )
                            .hint("RFC 7505: a null MX must be the only MX; remove it, or the others if the domain takes no mail")
                            .evidence(json!({"mx": hosts, "null_mx": true})),
                        );
                    }
                    records
                }
            }
        }
        .boxed()
    }
}

impl MxAaaa {
    fn exchanger(&self, scan: &HostScan<'_>, mx: &MailHost) -> CheckRecord {
        let unusable = unusable(scan, mx.v6.records());
        let evidence = json!({"mx": mx, "unusable": unusable});
        let record = if !scan.usable_v6(&mx.v6).is_empty() {
            scan.record(
                self.id(),
                Status::Pass,
                format!("MX {} has a usable AAAA", mx.name),
            )
        } else if let Resolution::Failed(why) = &mx.v6 {
            scan.record(
                self.id(),
                Status::Error,
                format!("MX {}: lookup failed: {why}", mx.name),
            )
        } else {
            let detail = if unusable.is_empty() {
                format!("MX {} has no AAAA", mx.name)
            } else {
                format!(
                    "MX {} has no usable AAAA ({})",
                    mx.name,
                    unusable.join("; ")
                )
            };
            scan.record(self.id(), Status::Fail, detail)
                .hint("give the mail exchanger a global IPv6 address and publish its AAAA")
        };
        record.evidence(evidence)
    }
}
