//! dns.dnssec: the host's name validates through the scan's validating resolver.

use std::str::FromStr;

use futures::future::{BoxFuture, FutureExt};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::dns::Flags;
use crate::readiness::dns::timed;
use crate::readiness::{Check, Gate, HostScan};

pub struct Dnssec;

impl Check for Dnssec {
    fn id(&self) -> &'static str {
        "dns.dnssec"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L4, 5))
    }
    /// Trusts the scan's resolver to validate, as a city's clients do: AD set is secure,
    /// SERVFAIL that clears with CD is bogus, an answer without AD is insecure.
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let Some(canonical) = scan.facts.chain.last() else {
                return scan.skip(self.id(), "no name");
            };
            let Ok(name) = Name::from_str(&format!("{canonical}.")) else {
                return vec![scan.record(self.id(), Status::Error, "not a DNS name")];
            };
            let resolvers = &scan.network.resolvers;
            let record_type = if scan.facts.v6.records().is_empty() { RecordType::A } else { RecordType::AAAA };
            // The same question the address lookups asked: answered from the run's cache.
            let answer = resolvers.lookup_with(&name, record_type, Flags::VALIDATED).await;
            let signed = |m: &hickory_proto::op::Message| {
                m.answers.iter().any(|r| r.record_type() == RecordType::RRSIG)
            };
            let evidence = |extra: serde_json::Value| {
                json!({"name": canonical, "type": record_type.to_string(), "answer": answer.describe(), "more": extra})
            };
            let record = match answer.message() {
                Some(m) if m.metadata.response_code == ResponseCode::ServFail => {
                    let retry = resolvers.lookup_with(&name, record_type, Flags::UNCHECKED).await;
                    match retry.rcode() {
                        Some(ResponseCode::NoError | ResponseCode::NXDomain) => scan
                            .record(self.id(), Status::Fail, format!("{canonical} is bogus: it fails DNSSEC validation"))
                            .hint("fix the zone's signatures or the DS at its parent: validating resolvers cannot reach this host")
                            .evidence(evidence(json!({"with_cd": retry.describe()}))),
                        _ => scan.record(self.id(), Status::Error, format!("the resolver fails for {canonical}: {}", retry.describe())),
                    }
                }
                // REFUSED, NOTIMP, FORMERR from the scanner's resolver: no verdict on the zone.
                Some(_) if answer.conclusive().is_err() => scan.record(
                    self.id(),
                    Status::Error,
                    format!("the resolver gave no answer for {canonical}: {}", answer.describe()),
                ),
                Some(m) if m.metadata.authentic_data => scan
                    .record(self.id(), Status::Pass, format!("{canonical} validates (secure)"))
                    .evidence(evidence(json!({"signed": signed(m)}))),
                Some(m) => scan
                    .record(self.id(), Status::Warn, format!("{canonical} is not validated (insecure)"))
                    .hint("sign the zone and publish its DS at the parent (Circular 32/2017 asks for DNSSEC)")
                    .evidence(evidence(json!({"signed": signed(m)}))),
                None => scan.record(self.id(), Status::Error, format!("lookup failed: {}", answer.describe())),
            };
            vec![timed(record, &answer)]
        }
        .boxed()
    }
}
