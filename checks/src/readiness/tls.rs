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
                let not_after = certificate.not_after;
                let days_left = not_after.map(|end| (end - Utc::now()).num_days());
                let day = |end: chrono::DateTime<Utc>| end.format("%Y-%m-%d");
                let evidence = json!({"v6": certificate, "v4_leaf_sha256": v4_leaf});
                let record = if let Some(problem) = &certificate.problem {
                    base(Status::Fail, format!("certificate over IPv6 is not valid for {}: {problem}", scan.fqdn()))
                        .hint("install the same valid certificate on the IPv6 listener (nginx: both `listen` lines in one server block)")
                } else if let Some(end) = not_after.filter(|_| days_left.is_some_and(|days| days < EXPIRY_MARGIN_DAYS)) {
                    base(Status::Fail, format!("certificate expires on {}, within {EXPIRY_MARGIN_DAYS} days", day(end)))
                        .hint("renew the certificate")
                } else if v4_leaf.as_ref().is_some_and(|leaf| *leaf != certificate.leaf_sha256) {
                    base(Status::Fail, "IPv6 serves a different certificate than IPv4".into())
                        .hint("serve one certificate on both families; a second server block or proxy answers IPv6")
                } else {
                    let until = not_after.map(|end| format!(" until {}", day(end))).unwrap_or_default();
                    base(Status::Pass, format!("valid certificate{until}"))
                };
                let mut record = record.evidence(evidence);
                if let Some(days) = days_left {
                    record = record.measured("days_left", days as f64);
                }
                records.push(record);
            }
            if records.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            records
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::probe::http::Certificate;
    use crate::readiness::fake::{FakeNet, V4, V6, host, network, response, run};

    fn certificate(leaf: &str, days_left: i64, problem: Option<&str>) -> Certificate {
        Certificate {
            leaf_sha256: leaf.into(),
            subject: "CN=h.test".into(),
            names: vec!["h.test".into()],
            not_after: Some(Utc::now() + Duration::days(days_left) + Duration::hours(1)),
            problem: problem.map(str::to_owned),
            protocol: "TLSv1_3".into(),
        }
    }

    fn served(certificate: Certificate) -> Fetch {
        let mut answer = response(200, "<html></html>");
        answer.certificate = Some(certificate);
        Fetch::Response(answer)
    }

    /// tls.v6's one record when IPv4 serves a valid certificate `aa` and IPv6 gives `v6`.
    async fn judged(v6: Fetch) -> CheckRecord {
        let net = FakeNet::default()
            .fetch(V4, 443, served(certificate("aa", 90, None)))
            .fetch(V6, 443, v6);
        let mut records = run(&TlsV6, &host(&[Service::Https]), &network(true), &net, true).await;
        assert_eq!(records.len(), 1, "{records:?}");
        records.remove(0)
    }

    #[tokio::test]
    async fn a_valid_certificate_passes_with_its_expiry_date_and_days_left_measured() {
        let valid = certificate("aa", 90, None);
        let until = valid
            .not_after
            .map(|end| end.format("%Y-%m-%d").to_string());
        let record = judged(served(valid)).await;
        assert_eq!(record.status, Status::Pass, "{}", record.detail);
        assert_eq!(
            record.detail,
            format!("valid certificate until {}", until.unwrap())
        );
        assert_eq!(record.measurements.get("days_left"), Some(&90.0));
        assert!(
            record.evidence.get("days_left").is_none(),
            "{}",
            record.evidence
        );
    }

    #[tokio::test]
    async fn an_expired_expiring_or_different_certificate_fails() {
        // Within the 21-day margin is a failure too (readiness.md), the date in the detail.
        for (certificate, says) in [
            (
                certificate("aa", -2, Some("certificate expired")),
                "certificate expired",
            ),
            (certificate("aa", 10, None), "certificate expires on "),
            (certificate("bb", 90, None), "different certificate"),
        ] {
            let record = judged(served(certificate)).await;
            assert_eq!(record.status, Status::Fail, "{}", record.detail);
            assert!(record.detail.contains(says), "{}", record.detail);
            if says.starts_with("certificate expires") {
                assert_eq!(record.measurements.get("days_left"), Some(&10.0));
            }
        }
    }

    #[tokio::test]
    async fn a_failed_handshake_fails_a_stalled_one_is_left_to_http_v6() {
        let refused = judged(Fetch::Tls("TLS handshake failed: unexpected EOF".into())).await;
        assert_eq!(refused.status, Status::Fail);
        assert!(refused.hint.is_some());
        let stalled = judged(Fetch::Timeout).await;
        assert_eq!(stalled.status, Status::Skip, "{}", stalled.detail);
    }

    #[tokio::test]
    async fn what_the_scan_cannot_see_is_an_error() {
        let nothing = judged(Fetch::Response(response(200, ""))).await;
        assert_eq!(nothing.status, Status::Error, "no certificate recorded");
    }
}
