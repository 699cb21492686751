//! HTTP checks: the site answers over IPv6 on every address (http.v6), it is the same
//! site as over IPv4 (http.parity), and every redirect leads somewhere IPv6 users can go
//! (http.redirect_v6).

use std::net::IpAddr;

use futures::future::{BoxFuture, FutureExt};
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::check::{Check, Gate, HostScan};
use crate::probe::http::{Fetch, Response, Target, body_distance};
use crate::probe::resolve::Resolution;

/// Bodies further apart than this are a different site (Internet.nl's threshold).
const PARITY_LIMIT: f64 = 0.10;
/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 10;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(HttpV6), Box::new(HttpParity), Box::new(RedirectV6)]
}

fn scheme(tls: bool) -> &'static str {
    if tls { "https" } else { "http" }
}

/// The first IPv4 response for a scheme: what IPv6 is compared with.
async fn reference(scan: &HostScan<'_>, tls: bool) -> Option<(IpAddr, Response)> {
    for address in scan.addresses(false) {
        if let Ok(Fetch::Response(response)) = scan.fetch(&scan.home(address, tls)).await {
            return Some((address, response));
        }
    }
    None
}

pub fn fetch_text(fetch: &Fetch) -> String {
    match fetch {
        Fetch::Response(r) => format!("HTTP {} in {:.0} ms", r.status, r.took_ms),
        Fetch::Connect(why) => why.clone(),
        Fetch::Tls(why) => why.clone(),
        Fetch::Http(why) => why.clone(),
        Fetch::Timeout => "connected, but the answer stalled (timeout)".into(),
        Fetch::ScannerFault(why) => format!("scanner cannot connect: {why}"),
    }
}

struct HttpV6;

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
                let v4_answers = reference(scan, tls).await.is_some();
                for address in &v6 {
                    let target = scan.home(*address, tls);
                    let base = |status, detail: String| {
                        scan.record(self.id(), status, detail).at(*address, Some(target.port))
                    };
                    let record = match scan.fetch(&target).await {
                        Err(refused) => base(Status::Error, refused.detail(*address)),
                        Ok(Fetch::ScannerFault(why)) => base(Status::Error, format!("scanner cannot connect: {why}")),
                        Ok(Fetch::Response(response)) => base(
                            Status::Pass,
                            format!("{} answers over IPv6: HTTP {}", scheme(tls), response.status),
                        )
                        .evidence(json!({"response": response})),
                        Ok(other) => {
                            let status = if v4_answers { Status::Fail } else { Status::Warn };
                            let detail = format!("{} over IPv6: {}", scheme(tls), fetch_text(&other));
                            let hint = if v4_answers {
                                "the site answers over IPv4 but not IPv6: make the web server and its firewall accept IPv6"
                            } else {
                                "the site answers over neither family"
                            };
                            base(status, detail).hint(hint).evidence(json!({"fetch": other}))
                        }
                    };
                    records.push(record);
                }
            }
            records
        }
        .boxed()
    }
}

struct HttpParity;

impl Check for HttpParity {
    fn id(&self) -> &'static str {
        "http.parity"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L2, 15))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let schemes = scan.web_schemes();
            if schemes.is_empty() {
                return scan.skip(self.id(), "the host has no web service");
            }
            let mut records = Vec::new();
            for tls in schemes {
                let Some((v4_address, v4)) = reference(scan, tls).await else {
                    records.extend(scan.skip(
                        self.id(),
                        format!("no {} answer over IPv4 to compare with", scheme(tls)),
                    ));
                    continue;
                };
                for address in scan.addresses(true) {
                    let target = scan.home(address, tls);
                    let Ok(Fetch::Response(v6)) = scan.fetch(&target).await else {
                        records.extend(scan.skip(
                            self.id(),
                            format!("{address} gives no {} answer (see http.v6)", scheme(tls)),
                        ));
                        continue;
                    };
                    records.push(compare(
                        scan,
                        self.id(),
                        address,
                        target.port,
                        v4_address,
                        &v4,
                        &v6,
                    ));
                }
            }
            records
        }
        .boxed()
    }
}

fn compare(
    scan: &HostScan<'_>,
    id: &str,
    address: IpAddr,
    port: u16,
    v4_address: IpAddr,
    v4: &Response,
    v6: &Response,
) -> CheckRecord {
    let distance = body_distance(&v4.body, &v6.body);
    let evidence = json!({
        "v4": {"address": v4_address, "status": v4.status, "location": v4.location, "body_bytes": v4.body_bytes},
        "v6": {"address": address, "status": v6.status, "location": v6.location, "body_bytes": v6.body_bytes},
        "body_distance": (distance * 1000.0).round() / 1000.0,
    });
    let base = |status, detail: String| {
        scan.record(id, status, detail)
            .at(address, Some(port))
            .evidence(evidence.clone())
    };
    if v4.status != v6.status {
        return base(
            Status::Fail,
            format!("HTTP {} over IPv6 but {} over IPv4", v6.status, v4.status),
        )
        .hint("serve the same site on both families: compare the server blocks listening on [::] and 0.0.0.0");
    }
    if v4.location != v6.location {
        return base(
            Status::Fail,
            format!(
                "redirects differ: IPv6 to {}, IPv4 to {}",
                v6.location.as_deref().unwrap_or("nowhere"),
                v4.location.as_deref().unwrap_or("nowhere")
            ),
        )
        .hint("make both families redirect to the same place");
    }
    let percent = distance * 100.0;
    if distance > PARITY_LIMIT {
        return base(
            Status::Warn,
            format!("the IPv6 page differs from the IPv4 page by {percent:.0}%"),
        )
        .hint("IPv6 users see another page: check that both families reach the same backend");
    }
    base(
        Status::Pass,
        format!("same status and content over both families ({percent:.1}% apart)"),
    )
}

struct RedirectV6;

impl Check for RedirectV6 {
    fn id(&self) -> &'static str {
        "http.redirect_v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L2, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let schemes = scan.web_schemes();
            let (Some(tls), Some(address)) = (
                schemes.first().copied(),
                scan.addresses(true).first().copied(),
            ) else {
                return scan.skip(self.id(), "needs a web service and a usable AAAA");
            };
            let Ok(Fetch::Response(first)) = scan.fetch(&scan.home(address, tls)).await else {
                return scan.skip(self.id(), "no answer over IPv6 (see http.v6)");
            };
            vec![self.follow(scan, scan.home(address, tls), first).await]
        }
        .boxed()
    }
}

impl RedirectV6 {
    /// Walks the redirect chain over IPv6 from `response`, hop by hop.
    async fn follow(
        &self,
        scan: &HostScan<'_>,
        mut at: Target,
        mut response: Response,
    ) -> CheckRecord {
        let mut chain = vec![url_of(&at)];
        let record = |status, detail: String, chain: &[String]| {
            scan.record(self.id(), status, detail)
                .family(sixfive_inventory::results::Family::V6)
                .evidence(json!({"chain": chain}))
        };
        for _ in 0..MAX_REDIRECTS {
            let Some(location) = response
                .location
                .clone()
                .filter(|_| (300..400).contains(&response.status))
            else {
                let detail = if chain.len() == 1 {
                    "no redirect".to_owned()
                } else {
                    format!("all {} redirect hops work over IPv6", chain.len() - 1)
                };
                return record(Status::Pass, detail, &chain);
            };
            let Some(next) = next_target(&at, &location) else {
                return record(
                    Status::Fail,
                    format!("unusable redirect to `{location}`"),
                    &chain,
                );
            };
            chain.push(url_of(&next));
            let address = if next.host == at.host {
                Some(at.address)
            } else {
                let name = format!("{}.", next.host);
                match hickory_proto::rr::Name::from_utf8(&name) {
                    Ok(name) => match scan.network.resolvers.addresses_v6(&name).await.1 {
                        Resolution::Records(v6) => {
                            v6.iter().map(|a| IpAddr::V6(*a)).find(|a| scan.usable(*a))
                        }
                        Resolution::Failed(why) => {
                            return record(
                                Status::Error,
                                format!("cannot resolve redirect target {}: {why}", next.host),
                                &chain,
                            );
                        }
                        _ => None,
                    },
                    Err(_) => None,
                }
            };
            let Some(address) = address else {
                return record(
                    Status::Fail,
                    format!(
                        "redirects to {}, which has no usable IPv6 address",
                        next.host
                    ),
                    &chain,
                )
                .hint(format!(
                    "redirect to a host with IPv6, or give {} an AAAA",
                    next.host
                ));
            };
            at = Target { address, ..next };
            response = match scan.fetch(&at).await {
                Ok(Fetch::Response(response)) => response,
                Err(refused) => return record(Status::Error, refused.detail(address), &chain),
                Ok(other) => {
                    return record(
                        Status::Fail,
                        format!(
                            "redirect hop {} does not answer over IPv6: {}",
                            url_of(&at),
                            fetch_text(&other)
                        ),
                        &chain,
                    )
                    .hint("every host in the redirect chain must serve IPv6");
                }
            };
        }
        record(
            Status::Fail,
            format!("more than {MAX_REDIRECTS} redirects"),
            &chain,
        )
        .hint("break the redirect loop")
    }
}

fn url_of(target: &Target) -> String {
    let default = if target.tls { 443 } else { 80 };
    let port = if target.port == default {
        String::new()
    } else {
        format!(":{}", target.port)
    };
    format!(
        "{}://{}{port}{}",
        scheme(target.tls),
        target.host,
        target.path
    )
}

/// Where a Location header leads from `from`: absolute or relative.
fn next_target(from: &Target, location: &str) -> Option<Target> {
    let base = url::Url::parse(&url_of(from)).ok()?;
    let next = base.join(location).ok()?;
    let tls = match next.scheme() {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let host = next
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let mut path = next.path().to_owned();
    if let Some(query) = next.query() {
        path = format!("{path}?{query}");
    }
    Some(Target {
        address: from.address,
        port: next.port_or_known_default()?,
        tls,
        host,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Target {
        Target {
            address: "fd00:1::17".parse().unwrap(),
            port: 443,
            tls: true,
            host: "redirect4.lab.test".into(),
            path: "/".into(),
        }
    }

    #[test]
    fn locations_resolve_like_a_browser() {
        let absolute = next_target(&from(), "http://v4only.lab.test/").unwrap();
        assert_eq!(
            (absolute.host.as_str(), absolute.port, absolute.tls),
            ("v4only.lab.test", 80, false)
        );
        let relative = next_target(&from(), "/login?next=%2F").unwrap();
        assert_eq!(
            (relative.host.as_str(), relative.path.as_str()),
            ("redirect4.lab.test", "/login?next=%2F")
        );
        assert!(next_target(&from(), "ftp://x.test/").is_none());
    }
}
