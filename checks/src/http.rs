//! HTTP checks: the site answers over IPv6 on every address (http.v6), an IPv6 user ends
//! up with the same site as an IPv4 user (http.parity), and every redirect leads somewhere
//! IPv6 users can go (http.redirect_v6). Each family's redirect chain is followed to its
//! end over that family alone, so the checks judge what a user ends up with, not the first
//! response.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use serde::Serialize;
use serde_json::json;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::check::{Check, Gate, HostScan};
use crate::probe::http::{Fetch, Response, Target, body_distance};
use crate::probe::resolve::Resolution;

/// Bodies further apart than this are a different site (Internet.nl's threshold).
const PARITY_LIMIT: f64 = 0.10;
/// Redirect hops followed before giving up (readiness.md).
const MAX_REDIRECTS: usize = 10;

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![Box::new(HttpV6), Box::new(HttpParity), Box::new(RedirectV6)]
}

fn scheme(tls: bool) -> &'static str {
    if tls { "https" } else { "http" }
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

/// One request of a redirect chain.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub url: String,
    pub address: IpAddr,
    /// None when the hop gave no HTTP answer.
    pub status: Option<u16>,
    pub location: Option<String>,
}

/// How a chain of redirects, followed over one family, ended.
#[derive(Debug, Clone)]
pub enum End {
    /// The last hop answered without redirecting.
    Answered(Box<Response>),
    /// The last hop gave no HTTP answer (refused, timeout, TLS or HTTP failure).
    NoAnswer(Fetch),
    /// The next hop's host has no usable address of this family.
    LeavesFamily {
        host: String,
    },
    /// A Location a browser cannot follow.
    BadLocation(String),
    TooLong,
    /// The scanner did not or could not send (scope, own IPv6, a failed lookup): the scan
    /// cannot decide.
    Undecided(String),
}

/// A redirect chain followed over one family: every hop, and how it ended.
#[derive(Debug, Clone)]
pub struct Chain {
    pub hops: Vec<Hop>,
    pub end: End,
}

impl Chain {
    pub fn answered(&self) -> Option<&Response> {
        match &self.end {
            End::Answered(response) => Some(response),
            _ => None,
        }
    }

    /// Where a client free to change family at a redirect (as Internet.nl's is) ends up:
    /// this chain's answer or, where this chain leaves its family on the way `other` took,
    /// `other`'s answer.
    pub fn unpinned_end<'a>(&'a self, other: &'a Chain) -> Option<&'a Response> {
        match &self.end {
            End::LeavesFamily { .. } if other.targets().starts_with(&self.targets()) => {
                other.answered()
            }
            _ => self.answered(),
        }
    }

    fn redirects(&self) -> usize {
        self.hops
            .iter()
            .filter(|hop| hop.location.is_some())
            .count()
    }

    /// Where the chain's redirects lead, each target compared as [`location_key`] does.
    fn targets(&self) -> Vec<String> {
        self.hops
            .iter()
            .filter_map(|hop| {
                let location = hop.location.as_deref()?;
                let target = url::Url::parse(&hop.url)
                    .and_then(|base| base.join(location))
                    .map_or_else(|_| location.to_owned(), String::from);
                Some(location_key(&target))
            })
            .collect()
    }

    /// How the chain ended, in words.
    pub fn describe(&self) -> String {
        let after = match self.redirects() {
            0 => String::new(),
            1 => " after 1 redirect".into(),
            n => format!(" after {n} redirects"),
        };
        match &self.end {
            End::Answered(response) => format!("HTTP {}{after}", response.status),
            End::NoAnswer(fetch) => match self.hops.last() {
                Some(hop) if self.hops.len() > 1 => {
                    format!("no answer from {}{after}: {}", hop.url, fetch_text(fetch))
                }
                _ => fetch_text(fetch),
            },
            End::LeavesFamily { host } => {
                format!("a redirect to {host}, which has no address of this family{after}")
            }
            End::BadLocation(location) => format!("an unusable redirect to `{location}`{after}"),
            End::TooLong => format!("more than {MAX_REDIRECTS} redirects"),
            End::Undecided(why) => why.clone(),
        }
    }

    pub fn evidence(&self) -> serde_json::Value {
        let end = match &self.end {
            End::Answered(response) => {
                json!({"status": response.status, "encoding": response.encoding,
                "body_bytes": response.body_bytes, "wire_bytes": response.wire_bytes})
            }
            End::NoAnswer(fetch) => json!({"no_answer": fetch}),
            End::LeavesFamily { host } => json!({"leaves_family_at": host}),
            End::BadLocation(location) => json!({"bad_location": location}),
            End::TooLong => json!({"too_many_redirects": MAX_REDIRECTS}),
            End::Undecided(why) => json!({"undecided": why}),
        };
        json!({"hops": self.hops, "end": end})
    }
}

/// Follows redirects from `start` over `start`'s family alone, as a user of that family
/// would: a hop to another host goes to that host's first usable address of the family.
pub async fn follow(scan: &HostScan<'_>, start: &Target) -> Chain {
    let v6 = start.address.is_ipv6();
    let mut at = start.clone();
    let mut hops = Vec::new();
    loop {
        let mut hop = Hop {
            url: url_of(&at),
            address: at.address,
            status: None,
            location: None,
        };
        let response = match scan.fetch(&at).await {
            Err(refused) => {
                hops.push(hop);
                let end = End::Undecided(refused.detail(at.address));
                return Chain { hops, end };
            }
            Ok(Fetch::ScannerFault(why)) => {
                hops.push(hop);
                let end = End::Undecided(format!("scanner cannot connect: {why}"));
                return Chain { hops, end };
            }
            Ok(Fetch::Response(response)) => response,
            Ok(other) => {
                hops.push(hop);
                return Chain {
                    hops,
                    end: End::NoAnswer(other),
                };
            }
        };
        hop.status = Some(response.status);
        let location = response
            .location
            .clone()
            .filter(|_| matches!(response.status, 301 | 302 | 303 | 307 | 308));
        hop.location.clone_from(&location);
        hops.push(hop);
        let Some(location) = location else {
            return Chain {
                hops,
                end: End::Answered(response),
            };
        };
        if hops.len() > MAX_REDIRECTS {
            return Chain {
                hops,
                end: End::TooLong,
            };
        }
        let Some(next) = next_target(&at, &location) else {
            return Chain {
                hops,
                end: End::BadLocation(location),
            };
        };
        let address = if next.host == at.host {
            Ok(Some(at.address))
        } else {
            address_of(scan, &next.host, v6).await
        };
        at = match address {
            Ok(Some(address)) => Target { address, ..next },
            Ok(None) => {
                return Chain {
                    hops,
                    end: End::LeavesFamily { host: next.host },
                };
            }
            Err(why) => {
                return Chain {
                    hops,
                    end: End::Undecided(why),
                };
            }
        };
    }
}

/// The first usable address of one family for a redirect's host, None when it has none,
/// or why the lookup failed.
async fn address_of(scan: &HostScan<'_>, host: &str, v6: bool) -> Result<Option<IpAddr>, String> {
    if let Ok(literal) = host.parse::<IpAddr>() {
        return Ok(Some(literal).filter(|a| a.is_ipv6() == v6 && scan.usable(*a)));
    }
    let Ok(name) = hickory_proto::rr::Name::from_utf8(format!("{host}.")) else {
        return Ok(None);
    };
    let resolvers = &scan.network.resolvers;
    let addresses: Resolution<IpAddr> = if v6 {
        match resolvers.addresses_v6(&name).await.1 {
            Resolution::Records(a) => Resolution::Records(a.into_iter().map(IpAddr::V6).collect()),
            Resolution::Failed(why) => Resolution::Failed(why),
            _ => Resolution::NoData,
        }
    } else {
        match resolvers.addresses_v4(&name).await.1 {
            Resolution::Records(a) => Resolution::Records(a.into_iter().map(IpAddr::V4).collect()),
            Resolution::Failed(why) => Resolution::Failed(why),
            _ => Resolution::NoData,
        }
    };
    match addresses {
        Resolution::Failed(why) => Err(format!("cannot resolve redirect target {host}: {why}")),
        other => Ok(other.records().iter().copied().find(|a| scan.usable(*a))),
    }
}

/// The IPv4 chain an IPv6 chain is compared with: the first IPv4 address whose chain ends
/// in an answer.
async fn reference(scan: &HostScan<'_>, tls: bool) -> Option<(IpAddr, Arc<Chain>)> {
    for address in scan.addresses(false) {
        let chain = scan.chain(&scan.home(address, tls)).await;
        if chain.answered().is_some() {
            return Some((address, chain));
        }
    }
    None
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
                    let chain = scan.chain(&target).await;
                    let record = scan
                        .record(self.id(), Status::Pass, String::new())
                        .at(*address, Some(target.port))
                        .evidence(json!({"chain": chain.evidence()}));
                    let answers = format!("{} answers over IPv6: {}", scheme(tls), chain.describe());
                    records.push(match &chain.end {
                        End::Answered(_) | End::BadLocation(_) | End::TooLong => CheckRecord { detail: answers, ..record },
                        End::LeavesFamily { .. } => CheckRecord {
                            detail: format!("{answers} (see http.redirect_v6)"),
                            ..record
                        },
                        End::Undecided(why) => CheckRecord { status: Status::Error, detail: why.clone(), ..record },
                        End::NoAnswer(_) => {
                            let detail = format!("{} over IPv6: {}", scheme(tls), chain.describe());
                            if v4_answers {
                                CheckRecord { status: Status::Fail, detail, ..record }
                                    .hint("the site answers over IPv4 but not IPv6: make every web server on the way, and its firewall, accept IPv6")
                            } else {
                                CheckRecord { status: Status::Warn, detail, ..record }
                                    .hint("the site answers over neither family")
                            }
                        }
                    });
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
                    let v6 = scan.chain(&target).await;
                    let evidence = json!({
                        "v4": {"address": v4_address, "chain": v4.evidence()},
                        "v6": {"address": address, "chain": v6.evidence()},
                    });
                    let record = scan
                        .record(self.id(), Status::Pass, String::new())
                        .at(address, Some(target.port))
                        .evidence(evidence);
                    records.push(compare(record, &v4, &v6));
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
    let same_targets = {
        let (t4, t6) = (v4.targets(), v6.targets());
        let shared = t4.len().min(t6.len());
        t4[..shared] == t6[..shared]
    };
    let ends = format!("IPv6 ends in {}, IPv4 in {}", v6.describe(), v4.describe());
    let Some(v4_end) = v4.answered() else {
        return verdict(Status::Skip, "no IPv4 answer to compare with".into());
    };
    let v6_end = match &v6.end {
        End::Answered(response) => response,
        End::Undecided(why) => return verdict(Status::Error, why.clone()),
        End::NoAnswer(_) if v6.hops.len() == 1 => {
            return verdict(
                Status::Skip,
                format!(
                    "no answer over IPv6 to compare (see http.v6): {}",
                    v6.describe()
                ),
            );
        }
        End::LeavesFamily { host } if same_targets => {
            return verdict(
                Status::Skip,
                format!(
                    "the IPv6 chain leaves IPv6 at {host}: nothing further to compare (see http.redirect_v6)"
                ),
            );
        }
        _ => {
            return verdict(Status::Fail, format!("an IPv6 user ends elsewhere: {ends}"))
                .hint("every hop of the site must answer over IPv6 as it does over IPv4");
        }
    };
    if !same_targets || v4.targets().len() != v6.targets().len() {
        return verdict(
            Status::Fail,
            format!(
                "redirects differ: IPv6 via {}, IPv4 via {}",
                shown(&v6.targets()),
                shown(&v4.targets())
            ),
        )
        .hint("make both families redirect to the same place");
    }
    if v4_end.status != v6_end.status {
        return verdict(
            Status::Fail,
            format!("HTTP {} over IPv6 but {} over IPv4 ({ends})", v6_end.status, v4_end.status),
        )
        .hint("serve the same site on both families: compare the server blocks listening on [::] and 0.0.0.0");
    }
    let distance = body_distance(&v4_end.body, &v6_end.body);
    let record = CheckRecord {
        evidence: with(
            &record.evidence,
            "body_distance",
            json!((distance * 1000.0).round() / 1000.0),
        ),
        ..record
    };
    let verdict = |status, detail: String| CheckRecord {
        status,
        detail,
        ..record.clone()
    };
    if v4_end.status >= 500 {
        return verdict(
            Status::Warn,
            format!("HTTP {} over both families: the service fails for every user, so nothing shows it works over IPv6", v6_end.status),
        )
        .hint("fix the server error; sixfive can then compare the two families");
    }
    let percent = distance * 100.0;
    if distance > PARITY_LIMIT {
        return verdict(
            Status::Warn,
            format!("the IPv6 page differs from the IPv4 page by {percent:.0}%"),
        )
        .hint("IPv6 users see another page: check that both families reach the same backend");
    }
    verdict(
        Status::Pass,
        format!("same redirects, status and content over both families ({percent:.1}% apart)"),
    )
}

fn shown(targets: &[String]) -> String {
    if targets.is_empty() {
        "no redirect".into()
    } else {
        targets.join(" → ")
    }
}

/// `value` with one more field.
fn with(value: &serde_json::Value, key: &str, field: serde_json::Value) -> serde_json::Value {
    let mut value = value.clone();
    if let Some(object) = value.as_object_mut() {
        object.insert(key.to_owned(), field);
    }
    value
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
            let (schemes, v6) = (scan.web_schemes(), scan.addresses(true));
            if schemes.is_empty() || v6.is_empty() {
                return scan.skip(self.id(), "needs a web service and a usable AAAA");
            }
            let mut records = Vec::new();
            for tls in schemes {
                // The chain of the first address that answers: http.v6 reports the others.
                let mut chain = None;
                for address in &v6 {
                    let followed = scan.chain(&scan.home(*address, tls)).await;
                    if followed
                        .hops
                        .first()
                        .is_some_and(|hop| hop.status.is_some())
                    {
                        chain = Some(followed);
                        break;
                    }
                }
                let Some(chain) = chain else {
                    records.extend(scan.skip(
                        self.id(),
                        format!("no {} answer over IPv6 (see http.v6)", scheme(tls)),
                    ));
                    continue;
                };
                records.push(self.judge(scan, &chain));
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
                .family(sixfive_inventory::results::Family::V6)
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
            End::Undecided(why) => record(Status::Error, why.clone()),
        }
    }
}

fn url_of(target: &Target) -> String {
    let default = if target.tls { 443 } else { 80 };
    let port = if target.port == default {
        String::new()
    } else {
        format!(":{}", target.port)
    };
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    format!("{}://{host}{port}{}", scheme(target.tls), target.path)
}

/// A redirect target as two families are compared on it: scheme, host, port, path and the
/// query's keys, not their values (session ids, tokens and nonces differ per request).
pub fn location_key(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let keys: BTreeSet<String> = parsed
        .query_pairs()
        .map(|(key, _)| key.into_owned())
        .collect();
    let mut key = format!(
        "{}://{}{}",
        parsed.scheme(),
        parsed.host_str().unwrap_or_default().to_ascii_lowercase(),
        parsed.port().map(|p| format!(":{p}")).unwrap_or_default(),
    );
    key.push_str(parsed.path());
    if !keys.is_empty() {
        key.push('?');
        key.push_str(&keys.into_iter().collect::<Vec<_>>().join("&"));
    }
    key
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
        let literal = next_target(&from(), "http://[fd00:1::99]:8080/x").unwrap();
        assert_eq!((literal.host.as_str(), literal.port), ("fd00:1::99", 8080));
        assert_eq!(url_of(&literal), "http://[fd00:1::99]:8080/x");
    }

    #[test]
    fn redirect_targets_compare_on_query_keys_not_values() {
        let a = location_key("https://portal.test/start?sid=8f3a9c&lang=vi");
        let b = location_key("https://PORTAL.test/start?lang=en&sid=0a1b2c");
        assert_eq!(a, b);
        assert_eq!(a, "https://portal.test/start?lang&sid");
        // Another path, scheme, host, port or set of keys is another place.
        for other in [
            "https://portal.test/login?sid=1&lang=vi",
            "http://portal.test/start?sid=1&lang=vi",
            "https://www.portal.test/start?sid=1&lang=vi",
            "https://portal.test:8443/start?sid=1&lang=vi",
            "https://portal.test/start?sid=1",
        ] {
            assert_ne!(location_key(other), a, "{other}");
        }
        assert_eq!(
            location_key("https://portal.test/a#top"),
            location_key("https://portal.test/a"),
            "a fragment never reaches the server"
        );
    }

    fn response(status: u16, body: &str) -> Box<Response> {
        Box::new(Response {
            status,
            location: None,
            encoding: None,
            body: body.as_bytes().to_vec(),
            body_bytes: body.len(),
            wire_bytes: body.len(),
            truncated: false,
            took_ms: 1.0,
            certificate: None,
        })
    }

    fn hop(url: &str, status: Option<u16>, location: Option<&str>) -> Hop {
        Hop {
            url: url.into(),
            address: "fd00:1::1".parse().unwrap(),
            status,
            location: location.map(str::to_owned),
        }
    }

    /// `/` redirecting to `to`, then `end`.
    fn chain(to: &str, end: End) -> Chain {
        let last = match &end {
            End::Answered(r) => Some(r.status),
            _ => None,
        };
        Chain {
            hops: vec![
                hop("https://h.test/", Some(302), Some(to)),
                hop(to, last, None),
            ],
            end,
        }
    }

    fn judged(v4: &Chain, v6: &Chain) -> CheckRecord {
        compare(
            CheckRecord::new("h.test", "http.parity", Status::Pass, "").evidence(json!({})),
            v4,
            v6,
        )
    }

    const PAGE: &str = "<html><body><h1>Cổng dịch vụ công</h1><p>Nộp hồ sơ trực tuyến, theo dõi tiến độ và nhận kết quả.</p></body></html>";

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
    }
}
