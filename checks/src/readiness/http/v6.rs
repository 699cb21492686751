//! http.v6: the site answers over IPv6 on every address, and so does every hop of the
//! redirect chain an IPv6 user follows.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::readiness::http::{Chain, End, scheme, v4_chains};
use crate::readiness::{Check, Gate, HostScan};

pub struct HttpV6;

impl Check for HttpV6 {
    fn id(&self) -> &'static str {
        "http.v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::breaking(Level::L1, 15))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let schemes = scan.web_schemes();
            if schemes.is_empty() {
                return scan.skip(self.id(), "the host has no web service");
            }
            let v6 = scan.addresses(true);
            if v6.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            let mut records = Vec::new();
            for tls in schemes {
                let v4 = v4_chains(scan, tls).await;
                let v4_first = v4.iter().any(|(_, chain)| chain.first_answered());
                let v4_end = v4
                    .iter()
                    .find_map(|(_, chain)| chain.answered().map(|r| r.status));
                for address in &v6 {
                    let target = scan.home(*address, tls);
                    let chain = scan.chain(&target).await;
                    let record = scan
                        .record(self.id(), Status::Pass, String::new())
                        .at(*address, Some(target.port))
                        .evidence(json!({"chain": chain.evidence(), "v4_status": v4_end}));
                    records.push(judge_v6(record, tls, &chain, v4_first, v4_end));
                }
            }
            records
        }
        .boxed()
    }
}

/// http.v6 for one IPv6 address: it answers, and so does every hop an IPv6 user is sent
/// to, as well as over IPv4. `v4_first`: some IPv4 address answered the first request;
/// `v4_end`: the final status an IPv4 user gets.
pub(super) fn judge_v6(
    record: CheckRecord,
    tls: bool,
    chain: &Chain,
    v4_first: bool,
    v4_end: Option<u16>,
) -> CheckRecord {
    let verdict = |status, detail: String| CheckRecord {
        status,
        detail,
        ..record.clone()
    };
    let over = format!("{} over IPv6: {}", scheme(tls), chain.describe());
    let broken = |detail: String| {
        verdict(Status::Fail, detail).hint(
            "the site answers over IPv4 but not IPv6: make every web server on the way, and its backend and firewall, serve IPv6",
        )
    };
    match &chain.end {
        End::Undecided(why) if !chain.first_answered() => verdict(Status::Error, why.clone()),
        _ if !chain.first_answered() && v4_first => broken(over),
        _ if !chain.first_answered() => {
            verdict(Status::Warn, over).hint("the site answers over neither family")
        }
        End::Answered(response) if response.status >= 500 && v4_end.is_some_and(|s| s < 400) => {
            broken(format!(
                "{over}, while IPv4 ends in HTTP {}",
                v4_end.unwrap_or_default()
            ))
        }
        End::NoAnswer(_) if v4_end.is_some() => broken(over),
        End::NoAnswer(_) => {
            verdict(Status::Warn, over).hint("the redirect leads nowhere over either family")
        }
        End::LeavesFamily { .. } => verdict(
            Status::Pass,
            format!(
                "{} answers over IPv6 (see http.redirect_v6): {}",
                scheme(tls),
                chain.describe()
            ),
        ),
        _ => verdict(
            Status::Pass,
            format!("{} answers over IPv6: {}", scheme(tls), chain.describe()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::http::Fetch;
    use crate::readiness::http::fixtures::{PAGE, chain, record, response, silent};

    #[test]
    fn http_v6_follows_the_chain_as_far_as_an_ipv6_user_goes() {
        let judge = |chain: &Chain, v4_first, v4_end| {
            judge_v6(record("http.v6"), true, chain, v4_first, v4_end).status
        };
        // A 502 at the end over IPv6 while IPv4 ends in 200: IPv6 users break.
        let bad_gateway = chain("https://h.test/app/", End::Answered(response(502, "")));
        assert_eq!(judge(&bad_gateway, true, Some(200)), Status::Fail);
        assert_eq!(
            judge(&bad_gateway, true, Some(502)),
            Status::Pass,
            "the same for everyone"
        );
        // A redirect hop that stalls over IPv6 only.
        let stalled = chain("https://h.test/app/", End::NoAnswer(Fetch::Timeout));
        assert_eq!(judge(&stalled, true, Some(200)), Status::Fail);
        assert_eq!(judge(&stalled, true, None), Status::Warn);
        // No answer at all over IPv6, while IPv4 answers the first request.
        assert_eq!(
            judge(&silent(End::NoAnswer(Fetch::Timeout)), true, None),
            Status::Fail
        );
        assert_eq!(
            judge(&silent(End::NoAnswer(Fetch::Timeout)), false, None),
            Status::Warn
        );
        let undecided = silent(End::Undecided("the scanner has no IPv6".into()));
        assert_eq!(judge(&undecided, true, Some(200)), Status::Error);
        let fine = chain("https://h.test/app/", End::Answered(response(200, PAGE)));
        assert_eq!(judge(&fine, true, Some(200)), Status::Pass);
    }
}
