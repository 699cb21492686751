//! net.pmtu: a response larger than one packet arrives whole over IPv6. When a router on
//! the path cannot forward full-size packets and its ICMPv6 Packet Too Big never reaches
//! the server (filtered), small packets pass and large ones vanish: the connection opens,
//! then the answer stalls. The home page's fetch, shared with http.v6, is the probe.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::http::Fetch;
use crate::readiness::http::fetch_text;
use crate::readiness::{Check, Gate, HostScan};

/// A body this large cannot have fitted in one IPv6 packet on a 1500-byte path.
const MORE_THAN_ONE_PACKET: usize = 1500;

pub struct Pmtu;

impl Check for Pmtu {
    fn id(&self) -> &'static str {
        "net.pmtu"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L4, 3))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let Some(tls) = scan.web_schemes().first().copied() else {
                return scan.skip(self.id(), "no web service to fetch a large answer from");
            };
            let v6 = scan.addresses(true);
            if v6.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            let mut v4_large = None;
            for address in scan.addresses(false) {
                if let Ok(Fetch::Response(r)) = scan.fetch(&scan.home(address, tls)).await {
                    v4_large = Some(r.wire_bytes);
                    break;
                }
            }
            let mut records = Vec::new();
            for address in v6 {
                let target = scan.home(address, tls);
                let base = |status, detail: String| scan.record(self.id(), status, detail).at(address, Some(target.port));
                let record = match scan.fetch(&target).await {
                    Err(refused) => base(Status::Error, refused.detail(address)),
                    Ok(Fetch::Response(r)) if r.wire_bytes > MORE_THAN_ONE_PACKET => {
                        base(Status::Pass, "an answer larger than one packet arrived whole over IPv6".into())
                            .measured("wire_bytes", r.wire_bytes as f64)
                    }
                    Ok(Fetch::Response(r)) => base(
                        Status::Skip,
                        "the home page fits in one packet: nothing to learn".into(),
                    )
                    .measured("wire_bytes", r.wire_bytes as f64),
                    Ok(Fetch::Timeout) if v4_large.is_some_and(|bytes| bytes > MORE_THAN_ONE_PACKET) => base(
                        Status::Fail,
                        "the connection opens over IPv6 but the answer stalls, while IPv4 delivers it: large packets are lost (a path MTU black hole)".into(),
                    )
                    .hint("let ICMPv6 Packet Too Big through every firewall on the path (RFC 4890), or lower the server's MTU/MSS")
                    .evidence(json!({"v4": "a multi-packet answer arrived", "v6": "the answer stalled (timeout)"}))
                    .measured("v4_wire_bytes", v4_large.unwrap_or_default() as f64),
                    Ok(other) => base(Status::Skip, format!("cannot tell: {} (see http.v6)", fetch_text(&other))),
                };
                records.push(record);
            }
            records
        }
        .boxed()
    }
}
