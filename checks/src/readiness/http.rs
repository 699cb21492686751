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
use sixfive_inventory::results::{CheckRecord, Status, thousandths};

use crate::network::Refused;
use crate::probe::http::{Fetch, Response, Target, body_distance};
use crate::probe::resolve::Resolution;
use crate::readiness::{Check, Gate, HostScan};

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
    /// A later hop lies outside `scan.scope`: never probed, and not the inventory's host.
    OutOfScope {
        url: String,
    },
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

    /// Whether the first request got an HTTP answer (a redirect counts).
    pub fn first_answered(&self) -> bool {
        self.hops.first().is_some_and(|hop| hop.status.is_some())
    }

    fn undecided(&self) -> Option<&str> {
        match &self.end {
            End::Undecided(why) => Some(why),
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
            End::OutOfScope { url } => {
                format!("a redirect to {url}, outside scan.scope (not probed){after}")
            }
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
            End::OutOfScope { url } => json!({"out_of_scope": url}),
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
            Err(Refused::OutOfScope) if !hops.is_empty() => {
                let end = End::OutOfScope { url: hop.url };
                return Chain { hops, end };
            }
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
        widen(resolvers.addresses_v6(&name).await.1)
    } else {
        widen(resolvers.addresses_v4(&name).await.1)
    };
    match addresses {
        Resolution::Failed(why) => Err(format!("cannot resolve redirect target {host}: {why}")),
        other => Ok(other.records().iter().copied().find(|a| scan.usable(*a))),
    }
}

fn widen<A: Into<IpAddr>>(resolution: Resolution<A>) -> Resolution<IpAddr> {
    match resolution {
        Resolution::Records(a) => Resolution::Records(a.into_iter().map(Into::into).collect()),
        Resolution::NoData => Resolution::NoData,
        Resolution::NxDomain => Resolution::NxDomain,
        Resolution::Failed(why) => Resolution::Failed(why),
    }
}

/// Each IPv4 address's chain for one scheme.
async fn v4_chains(scan: &HostScan<'_>, tls: bool) -> Vec<(IpAddr, Arc<Chain>)> {
    let mut chains = Vec::new();
    for address in scan.addresses(false) {
        chains.push((address, scan.chain(&scan.home(address, tls)).await));
    }
    chains
}

/// The IPv4 chain an IPv6 chain is compared with: the first that ends in an answer, else
/// the first whose first request was answered, else the first.
fn reference(chains: &[(IpAddr, Arc<Chain>)]) -> Option<&(IpAddr, Arc<Chain>)> {
    chains
        .iter()
        .find(|(_, chain)| chain.answered().is_some())
        .or_else(|| chains.iter().find(|(_, chain)| chain.first_answered()))
        .or_else(|| chains.first())
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
fn judge_v6(
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
            let v6_addresses = scan.addresses(true);
            if v6_addresses.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            let mut records = Vec::new();
            for tls in schemes {
                let v4 = v4_chains(scan, tls).await;
                let Some((v4_address, v4)) = reference(&v4) else {
                    records.extend(scan.skip(self.id(), "no IPv4 address to compare with"));
                    continue;
                };
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
    let distance = body_distance(&a4.body, &a6.body);
    let mut record = record;
    if let Some(evidence) = record.evidence.as_object_mut() {
        evidence.insert("body_distance".into(), json!(thousandths(distance)));
    }
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
    // Java servlets put the session in the path (`/app;jsessionid=…`): a value too.
    let path = parsed.path();
    let session = path.to_ascii_lowercase().find(";jsessionid=");
    key.push_str(session.map_or(path, |at| &path[..at]));
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
            location_key("https://portal.test/app;jsessionid=A1B2?lang=vi"),
            location_key("https://portal.test/app;JSESSIONID=C3D4?lang=en"),
        );
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
        // IPv4 answers at once while IPv6 redirects off IPv6: not the same place either.
        let v4_direct = Chain {
            hops: vec![hop("https://h.test/", Some(200), None)],
            end: End::Answered(response(200, PAGE)),
        };
        assert_eq!(judged(&v4_direct, &v6).status, Status::Fail);
    }

    /// A chain whose first request got no HTTP answer.
    fn silent(end: End) -> Chain {
        Chain {
            hops: vec![hop("https://h.test/", None, None)],
            end,
        }
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

    fn record(id: &str) -> CheckRecord {
        CheckRecord::new("h.test", id, Status::Pass, "")
    }

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
