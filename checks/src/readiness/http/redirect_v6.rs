//! http.redirect_v6: every redirect an IPv6 user is sent through leads to a host that has
//! IPv6 and answers over it.

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::readiness::http::{Chain, End, MAX_REDIRECTS};
use crate::readiness::{Check, Gate, HostScan};

pub struct RedirectV6;

impl Check for RedirectV6 {
    fn id(&self) -> &'static str {
        "http.redirect_v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L2, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let (schemes, v6) = (scan.web_schemes(), scan.addresses(true));
            if schemes.is_empty() || v6.is_empty() {
                return scan.skip(self.id(), "needs a web service and a usable AAAA");
            }
            let mut records = Vec::new();
            for tls in schemes {
                for address in &v6 {
                    let target = scan.home(*address, tls);
                    let chain = scan.chain(&target).await;
                    if chain.first_answered() {
                        records.push(self.judge(scan, &chain).at(*address, Some(target.port)));
                    }
                }
            }
            if records.is_empty() {
                return scan.skip(self.id(), "no answer over IPv6 (see http.v6)");
            }
            records
        }
        .boxed()
    }
}

impl RedirectV6 {
    fn judge(&self, scan: &HostScan<'_>, chain: &Chain) -> CheckRecord {
        let record = |status, detail: String| {
            scan.record(self.id(), status, detail)
                .evidence(json!({"chain": chain.evidence()}))
        };
        let redirects = chain.redirects();
        match &chain.end {
            End::Answered(_) if redirects == 0 => record(Status::Pass, "no redirect".into()),
            End::Answered(_) => record(
                Status::Pass,
                format!("all {redirects} redirect hops work over IPv6"),
            ),
            End::LeavesFamily { host } => record(
                Status::Fail,
                format!("redirects to {host}, which has no usable IPv6 address"),
            )
            .hint(format!(
                "redirect to a host with IPv6, or give {host} an AAAA"
            )),
            End::NoAnswer(_) => record(
                Status::Fail,
                format!(
                    "a redirect hop does not answer over IPv6: {}",
                    chain.describe()
                ),
            )
            .hint("every host in the redirect chain must serve IPv6"),
            End::BadLocation(location) => {
                record(Status::Fail, format!("unusable redirect to `{location}`"))
            }
            End::TooLong => record(Status::Fail, format!("more than {MAX_REDIRECTS} redirects"))
                .hint("break the redirect loop"),
            End::OutOfScope { url } => record(
                Status::Pass,
                format!(
                    "the redirect hops within scan.scope work over IPv6; {url} has a usable AAAA but lies outside scan.scope (not probed)"
                ),
            ),
            End::Undecided(why) => record(Status::Error, why.clone()),
        }
    }
}
