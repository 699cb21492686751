//! tls.v6: over IPv6 the handshake works, the certificate is valid for the name and not
//! about to expire, and it is the same certificate IPv4 users get.

use chrono::Utc;
use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::{Level, Service};
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::http::Fetch;
use crate::readiness::{Check, Gate, HostScan};

/// A certificate expiring sooner than this is a failure waiting to happen.
const EXPIRY_MARGIN_DAYS: i64 = 21;

pub struct TlsV6;

impl Check for TlsV6 {
    fn id(&self) -> &'static str {
        "tls.v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L2, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            if !scan.has(Service::Https) {
                return scan.skip(self.id(), "the host has no https service");
            }
            let mut v4_leaf = None;
            for address in scan.addresses(false) {
                if let Ok(Fetch::Response(r)) = scan.fetch(&scan.home(address, true)).await {
                    v4_leaf = r.certificate.map(|c| c.leaf_sha256);
                    break;
                }
            }
            let mut records = Vec::new();
            for address in scan.addresses(true) {
                let base = |status, detail: String| scan.record(self.id(), status, detail).at(address, Some(443));
                let fetch = match scan.fetch(&scan.home(address, true)).await {
                    Ok(fetch) => fetch,
                    Err(refused) => {
                        records.push(base(Status::Error, refused.detail(address)));
                        continue;
                    }
                };
                let certificate = match fetch {
                    Fetch::Response(response) => response.certificate,
                    Fetch::Tls(why) => {
                        records.push(base(Status::Fail, format!("over IPv6: {why}")).hint("configure TLS on the IPv6 listener like on the IPv4 one"));
                        continue;
                    }
                    _ => {
                        records.push(base(Status::Skip, format!("{address} gives no https answer (see http.v6)")));
                        continue;
                    }
                };
                let Some(certificate) = certificate else {
                    records.push(base(Status::Error, "no certificate was recorded".into()));
                    continue;
                };
                // The expiry date is the finding; the days left change daily, so they are a
                // measurement.
                let expiry = certificate.not_after.map(|end| (end.format("%Y-%m-%d"), (end - Utc::now()).num_days()));
                let evidence = json!({"v6": certificate, "v4_leaf_sha256": v4_leaf});
                let record = if let Some(problem) = &certificate.problem {
                    base(Status::Fail, format!("certificate over IPv6 is not valid for {}: {problem}", scan.fqdn()))
                        .hint("install the same valid certificate on the IPv6 listener (nginx: both `listen` lines in one server block)")
                } else if let Some((on, _)) = expiry.as_ref().filter(|(_, days)| *days < EXPIRY_MARGIN_DAYS) {
                    base(Status::Fail, format!("certificate expires on {on}, within {EXPIRY_MARGIN_DAYS} days"))
                        .hint("renew the certificate")
                } else if v4_leaf.as_ref().is_some_and(|leaf| *leaf != certificate.leaf_sha256) {
                    base(Status::Fail, "IPv6 serves a different certificate than IPv4".into())
                        .hint("serve one certificate on both families; a second server block or proxy answers IPv6")
                } else {
                    let until = expiry.as_ref().map(|(on, _)| format!(" until {on}")).unwrap_or_default();
                    base(Status::Pass, format!("valid certificate{until}"))
                };
                let record = record.evidence(evidence);
                records.push(match expiry {
                    Some((_, days)) => record.measured("days_left", days as f64),
                    None => record,
                });
            }
            if records.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            records
        }
        .boxed()
    }
}
