//! http.parity: an IPv6 user ends up with the same site as an IPv4 user: same redirects,
//! same final status, and bodies no further apart than Internet.nl allows.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status, thousandths};

use crate::probe::http::body_distance;
use crate::readiness::http::{Chain, End, reference, v4_chains};
use crate::readiness::{Check, Gate, HostScan};

/// Bodies further apart than this are a different site (Internet.nl's threshold).
const PARITY_LIMIT: f64 = 0.10;

pub struct HttpParity;

impl Check for HttpParity {
    fn id(&self) -> &'static str {
        "http.parity"
    }
    /// L2 promises an IPv6 user the same service: another page, or a server error on both
    /// families, does not show that, so its warning holds the host below L2.
    fn gate(&self) -> Option<Gate> {
        Some(Gate::strict(Level::L2, 15))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let schemes = scan.web_schemes();
            if schemes.is_empty() {
                return scan.skip(self.id(), "the host has no web service");
            }
            let v6_addresses = scan.addresses(true);
            if v6_addresses.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            if scan.addresses(false).is_empty() {
                return scan.skip(self.id(), "no IPv4 address to compare with");
            }
            let mut records = Vec::new();
            for tls in schemes {
                let v4 = v4_chains(scan, tls).await;
                let (v4_address, v4) =
                    reference(&v4).expect("one chain per IPv4 address, and there is one (above)");
                for address in &v6_addresses {
                    let target = scan.home(*address, tls);
                    let v6 = scan.chain(&target).await;
                    let evidence = json!({
                        "v4": {"address": v4_address, "chain": v4.evidence()},
                        "v6": {"address": address, "chain": v6.evidence()},
                    });
                    let record = scan
                        .record(self.id(), Status::Pass, String::new())
                        .at(*address, Some(target.port))
                        .evidence(evidence);
                    records.push(compare(record, v4, &v6));
                }
            }
            records
        }
        .boxed()
    }
}

/// Judges what an IPv6 user ends up with against what an IPv4 user does.
fn compare(record: CheckRecord, v4: &Chain, v6: &Chain) -> CheckRecord {
    let verdict = |status, detail: String| CheckRecord {
        status,
        detail,
        ..record.clone()
    };
    let ends = format!("IPv6 ends in {}, IPv4 in {}", v6.describe(), v4.describe());
    let undecided = |chain: &Chain, or: CheckRecord| match chain.undecided() {
        Some(why) => verdict(Status::Error, why.to_owned()),
        None => or,
    };
    match (v4.first_answered(), v6.first_answered()) {
        (false, false) => {
            let neither = verdict(Status::Warn, format!("neither family answers: {ends}")).hint(
                "the web service is down, or the inventory lists one the host does not offer",
            );
            return undecided(v4, undecided(v6, neither));
        }
        (_, false) => {
            let skip = verdict(
                Status::Skip,
                format!(
                    "no answer over IPv6 to compare (see http.v6): {}",
                    v6.describe()
                ),
            );
            return undecided(v6, skip);
        }
        (false, _) => {
            let skip = verdict(
                Status::Skip,
                format!("no answer over IPv4 to compare with: {}", v4.describe()),
            );
            return undecided(v4, skip);
        }
        (true, true) => {}
    }
    let (t4, t6) = (v4.targets(), v6.targets());
    let (a4, a6) = match (&v4.end, &v6.end) {
        (_, End::LeavesFamily { host }) if t4.starts_with(&t6) => {
            return verdict(
                Status::Skip,
                format!(
                    "the IPv6 chain leaves IPv6 at {host}: nothing further to compare (see http.redirect_v6)"
                ),
            );
        }
        _ if t4 != t6 => {
            return verdict(
                Status::Fail,
                format!(
                    "redirects differ: IPv6 via {}, IPv4 via {}",
                    shown(&t6),
                    shown(&t4)
                ),
            )
            .hint("make both families redirect to the same place");
        }
        (End::OutOfScope { url }, _) | (_, End::OutOfScope { url }) => {
            return verdict(
                Status::Skip,
                format!(
                    "same redirects over both families up to {url}, outside scan.scope: not followed"
                ),
            );
        }
        (End::Undecided(why), _) | (_, End::Undecided(why)) => {
            return verdict(Status::Error, why.clone());
        }
        (End::Answered(a4), End::Answered(a6)) => (a4, a6),
        (End::Answered(_), _) => {
            return verdict(Status::Fail, format!("an IPv6 user ends elsewhere: {ends}"))
                .hint("every hop of the site must answer over IPv6 as it does over IPv4");
        }
        (_, End::Answered(_)) => {
            return verdict(
                Status::Skip,
                format!("no IPv4 answer at the end to compare with: {ends}"),
            );
        }
        _ => {
            return verdict(
                Status::Warn,
                format!("both families end without an answer: {ends}"),
            )
            .hint("the redirect chain leads nowhere for anyone; fix it, then sixfive can compare");
        }
    };
    if a4.status != a6.status {
        return verdict(
            Status::Fail,
            format!("HTTP {} over IPv6 but {} over IPv4 ({ends})", a6.status, a4.status),
        )
        .hint("serve the same site on both families: compare the server blocks listening on [::] and 0.0.0.0");
    }
    // How far apart the bodies are changes with every load of a dynamic page: a
    // measurement; the finding is which side of the limit it falls.
    let distance = body_distance(&a4.body, &a6.body);
    let record = record.measured("body_distance", thousandths(distance));
    let verdict = |status, detail: String| CheckRecord {
        status,
        detail,
        ..record.clone()
    };
    if a4.status >= 500 {
        return verdict(
            Status::Warn,
            format!("HTTP {} over both families: the service fails for every user, so nothing shows it works over IPv6", a6.status),
        )
        .hint("fix the server error; sixfive can then compare the two families");
    }
    let limit = PARITY_LIMIT * 100.0;
    if distance > PARITY_LIMIT {
        return verdict(
            Status::Warn,
            format!("the IPv6 page differs from the IPv4 page by more than {limit:.0}%"),
        )
        .hint("IPv6 users see another page: check that both families reach the same backend");
    }
    verdict(
        Status::Pass,
        format!(
            "same redirects, status and content over both families (at most {limit:.0}% apart)"
        ),
    )
}

fn shown(targets: &[String]) -> String {
    if targets.is_empty() {
        "no redirect".into()
    } else {
        targets.join(" → ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::http::Fetch;
    use crate::readiness::http::fixtures::{PAGE, chain, hop, record, response, silent};
    use crate::readiness::http::v6::judge_v6;

    fn judged(v4: &Chain, v6: &Chain) -> CheckRecord {
        compare(
            CheckRecord::new("h.test", "http.parity", Status::Pass, "").evidence(json!({})),
            v4,
            v6,
        )
    }

    #[test]
    fn the_end_of_the_chain_is_compared_not_the_first_answer() {
        let v4 = chain("https://h.test/app/", End::Answered(response(200, PAGE)));
        let v6 = chain(
            "https://h.test/app/",
            End::Answered(response(502, "Bad Gateway")),
        );
        let record = judged(&v4, &v6);
        assert_eq!(record.status, Status::Fail, "{}", record.detail);
        assert!(
            record
                .detail
                .contains("HTTP 502 over IPv6 but 200 over IPv4"),
            "{}",
            record.detail
        );

        let stalled = chain("https://h.test/app/", End::NoAnswer(Fetch::Timeout));
        assert_eq!(judged(&v4, &stalled).status, Status::Fail);
        let same = chain("https://h.test/app/", End::Answered(response(200, PAGE)));
        assert_eq!(judged(&v4, &same).status, Status::Pass);
    }

    #[test]
    fn per_request_query_values_are_not_differences() {
        let v4 = chain(
            "https://h.test/start?sid=aaaa&lang=vi",
            End::Answered(response(200, PAGE)),
        );
        let v6 = chain(
            "https://h.test/start?lang=vi&sid=bbbb",
            End::Answered(response(200, PAGE)),
        );
        assert_eq!(judged(&v4, &v6).status, Status::Pass);
        let elsewhere = chain(
            "https://h.test/maintenance",
            End::Answered(response(200, PAGE)),
        );
        let record = judged(&v4, &elsewhere);
        assert_eq!(record.status, Status::Fail);
        assert!(
            record.detail.starts_with("redirects differ"),
            "{}",
            record.detail
        );
    }

    #[test]
    fn a_server_error_on_both_families_is_not_ready() {
        let v4 = chain("https://h.test/app/", End::Answered(response(503, "down")));
        let v6 = chain("https://h.test/app/", End::Answered(response(503, "down")));
        let record = judged(&v4, &v6);
        assert_eq!(record.status, Status::Warn);
        assert!(
            record.detail.contains("HTTP 503 over both families"),
            "{}",
            record.detail
        );
    }

    #[test]
    fn a_chain_that_leaves_ipv6_is_left_to_http_redirect_v6() {
        let v4 = chain("http://v4only.test/", End::Answered(response(200, PAGE)));
        let v6 = Chain {
            hops: vec![hop(
                "https://h.test/",
                Some(301),
                Some("http://v4only.test/"),
            )],
            end: End::LeavesFamily {
                host: "v4only.test".into(),
            },
        };
        assert_eq!(judged(&v4, &v6).status, Status::Skip);
        // Leaving IPv6 before the IPv4 chain's targets differ is a different place.
        let v6_elsewhere = Chain {
            hops: vec![hop(
                "https://h.test/",
                Some(301),
                Some("http://other.test/"),
            )],
            end: End::LeavesFamily {
                host: "other.test".into(),
            },
        };
        assert_eq!(judged(&v4, &v6_elsewhere).status, Status::Fail);
        // IPv4 answers at once while IPv6 redirects off IPv6: not the same place either.
        let v4_direct = Chain {
            hops: vec![hop("https://h.test/", Some(200), None)],
            end: End::Answered(response(200, PAGE)),
        };
        assert_eq!(judged(&v4_direct, &v6).status, Status::Fail);
    }

    #[test]
    fn neither_family_answering_is_not_ready() {
        let record = judged(
            &silent(End::NoAnswer(Fetch::Timeout)),
            &silent(End::NoAnswer(Fetch::Timeout)),
        );
        assert_eq!(record.status, Status::Warn, "{}", record.detail);
        let undecided = silent(End::Undecided("outside scan.scope".into()));
        assert_eq!(
            judged(&undecided, &silent(End::NoAnswer(Fetch::Timeout))).status,
            Status::Error
        );
        // Both chains end without an answer after the same redirect.
        let v4 = chain("https://h.test/app/", End::NoAnswer(Fetch::Timeout));
        let v6 = chain("https://h.test/app/", End::NoAnswer(Fetch::Timeout));
        assert_eq!(judged(&v4, &v6).status, Status::Warn);
    }

    #[tokio::test]
    async fn a_host_without_ipv4_gets_one_skip_however_many_schemes_it_has() {
        use crate::readiness::fake::{FakeNet, host, network, run};
        use sixfive_inventory::model::Service;
        let web = host(&[Service::Http, Service::Https]);
        let records = run(
            &HttpParity,
            &web,
            &network(true),
            &FakeNet::default(),
            false,
        )
        .await;
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0].status, Status::Skip);
    }

    #[test]
    fn a_hop_outside_the_scope_is_not_followed_and_not_held_against_the_host() {
        let out = |url: &str| Chain {
            hops: vec![hop("https://h.test/", Some(302), Some(url))],
            end: End::OutOfScope { url: url.into() },
        };
        let sso = out("https://sso.gov.test/login");
        assert_eq!(judged(&sso, &sso).status, Status::Skip);
        assert_eq!(
            judged(&sso, &out("https://elsewhere.test/")).status,
            Status::Fail
        );
        let v6 = judge_v6(record("http.v6"), true, &sso, true, None);
        assert_eq!(v6.status, Status::Pass, "{}", v6.detail);
    }
}
