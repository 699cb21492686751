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

#[cfg(test)]
mod tests {
    use sixfive_inventory::model::Service;

    use super::*;
    use crate::readiness::fake::{FakeNet, V4, V6, host, network, response, run};

    /// A 200 answer of `bytes` on the wire.
    fn page(bytes: usize) -> Fetch {
        let mut answer = response(200, "<html></html>");
        answer.wire_bytes = bytes;
        Fetch::Response(answer)
    }

    /// net.pmtu's one record when IPv4 answers `v4` and IPv6 `v6`.
    async fn judged(v4: Fetch, v6: Fetch) -> CheckRecord {
        let net = FakeNet::default().fetch(V4, 443, v4).fetch(V6, 443, v6);
        let mut records = run(&Pmtu, &host(&[Service::Https]), &network(true), &net, true).await;
        assert_eq!(records.len(), 1, "{records:?}");
        records.remove(0)
    }

    #[tokio::test]
    async fn a_large_answer_that_arrives_whole_passes() {
        let record = judged(page(40_000), page(40_000)).await;
        assert_eq!(record.status, Status::Pass, "{}", record.detail);
        assert_eq!(record.measurements.get("wire_bytes"), Some(&40_000.0));
    }

    #[tokio::test]
    async fn a_stall_over_ipv6_only_is_a_black_hole_and_fails() {
        let record = judged(page(40_000), Fetch::Timeout).await;
        assert_eq!(record.status, Status::Fail, "{}", record.detail);
        assert!(record.hint.unwrap().contains("Packet Too Big"));
        assert_eq!(record.measurements.get("v4_wire_bytes"), Some(&40_000.0));
    }

    #[tokio::test]
    async fn nothing_to_learn_is_a_skip_and_a_refused_probe_an_error() {
        // One packet over IPv4 too: a stall proves nothing about large packets.
        assert_eq!(judged(page(900), Fetch::Timeout).await.status, Status::Skip);
        assert_eq!(judged(page(900), page(900)).await.status, Status::Skip);
        let refused = Fetch::Connect("connection refused".into());
        assert_eq!(judged(page(40_000), refused).await.status, Status::Skip);
    }
}
