//! HTTP checks, one file each: the site answers over IPv6 on every address (http.v6), an
//! IPv6 user ends up with the same site as an IPv4 user (http.parity), and every redirect
//! leads somewhere IPv6 users can go (http.redirect_v6). This module holds what they share:
//! each family's redirect chain, followed to its end over that family alone, so the checks
//! judge what a user ends up with, not the first response.

pub mod parity;
pub mod redirect_v6;
pub mod v6;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use crate::network::Refused;
use crate::probe::http::{Fetch, Response, Target};
use crate::probe::resolve::Resolution;
use crate::readiness::HostScan;

/// Redirect hops followed before giving up (readiness.md).
const MAX_REDIRECTS: usize = 10;

fn scheme(tls: bool) -> &'static str {
    if tls { "https" } else { "http" }
}

pub fn fetch_text(fetch: &Fetch) -> String {
    match fetch {
        Fetch::Response(r) => format!("HTTP {}", r.status),
        Fetch::Connect(why) => why.clone(),
        Fetch::Tls(why) => why.clone(),
        Fetch::Http(why) => why.clone(),
        Fetch::Timeout => "connected, but the answer stalled (timeout)".into(),
        Fetch::ScannerFault(why) => format!("scanner cannot connect: {why}"),
    }
}

/// One request of a redirect chain.
#[derive(Debug, Clone)]
pub struct Hop {
    pub url: String,
    pub address: IpAddr,
    /// None when the hop gave no HTTP answer.
    pub status: Option<u16>,
    pub location: Option<String>,
}

impl Hop {
    /// Where the hop redirects, joined to its URL and keyed as [`location_key`] does.
    fn target_key(&self) -> Option<String> {
        let location = self.location.as_deref()?;
        let target = url::Url::parse(&self.url)
            .and_then(|base| base.join(location))
            .map_or_else(|_| location.to_owned(), String::from);
        Some(location_key(&target))
    }
}

/// In evidence a hop names its URL and redirect target as the families are compared on
/// them ([`location_key`], a relative target joined to the hop's URL first): with their
/// per-request values (session ids, `state`, nonces), every run's finding would be new.
impl Serialize for Hop {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut hop = serializer.serialize_struct("Hop", 4)?;
        hop.serialize_field("url", &location_key(&self.url))?;
        hop.serialize_field("address", &self.address)?;
        hop.serialize_field("status", &self.status)?;
        hop.serialize_field("location", &self.target_key())?;
        hop.end()
    }
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
        self.hops.iter().filter_map(Hop::target_key).collect()
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
                json!({"status": response.status, "encoding": response.encoding})
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
pub(crate) fn next_target(from: &Target, location: &str) -> Option<Target> {
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
    fn a_hop_in_evidence_names_its_urls_without_per_request_values() {
        let hop = fixtures::hop(
            "https://a.danang.test/",
            Some(302),
            Some("https://sso.danang.test/login?state=f00d&next=/"),
        );
        let evidence = serde_json::to_value(&hop).unwrap();
        assert_eq!(evidence["url"], "https://a.danang.test/");
        assert_eq!(
            evidence["location"],
            "https://sso.danang.test/login?next&state"
        );
        let relative = fixtures::hop("https://a.danang.test/app/", Some(302), Some("login?sid=1"));
        assert_eq!(
            serde_json::to_value(&relative).unwrap()["location"],
            "https://a.danang.test/app/login?sid"
        );
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
}

/// Chains and answers the checks' tests judge.
#[cfg(test)]
mod fixtures {
    use super::*;
    use sixfive_inventory::results::{CheckRecord, Status};

    pub(super) use crate::readiness::fake::response;

    pub(super) fn hop(url: &str, status: Option<u16>, location: Option<&str>) -> Hop {
        Hop {
            url: url.into(),
            address: "fd00:1::1".parse().unwrap(),
            status,
            location: location.map(str::to_owned),
        }
    }

    /// `/` redirecting to `to`, then `end`.
    pub(super) fn chain(to: &str, end: End) -> Chain {
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

    pub(super) const PAGE: &str = "<html><body><h1>Cổng dịch vụ công</h1><p>Nộp hồ sơ trực tuyến, theo dõi tiến độ và nhận kết quả.</p></body></html>";

    /// A chain whose first request got no HTTP answer.
    pub(super) fn silent(end: End) -> Chain {
        Chain {
            hops: vec![hop("https://h.test/", None, None)],
            end,
        }
    }

    pub(super) fn record(id: &str) -> CheckRecord {
        CheckRecord::new("h.test", id, Status::Pass, "")
    }
}
