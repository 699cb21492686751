//! The `internet_nl` score: a host's IPv6 score computed the way Internet.nl's IPv6
//! category computes it (checks/tasks/ipv6.py, categories.py and scoring.py in
//! internetstandards/Internet.nl), so a city can compare its figures with that site's.
//! sixfive's level stays the KPI; this score copies Internet.nl's rules, lenient ones
//! included (docs/internet-nl.md lists where sixfive differs).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use sixfive_inventory::model::Service;
use sixfive_inventory::results::{CheckRecord, Status};

use crate::network::Connect;
use crate::probe::resolve::{Mail, Resolution};
use crate::readiness::HostScan;

/// Points for a server whose every IPv6 address answers, some of them, none
/// (scoring.py: FULL_WEIGHT_POINTS, LESS_WEIGHT_POINTS, NO_POINTS).
const GOOD: u32 = 10;
const PARTIAL: u32 = 2;
/// Points for the same web site over both families (WEB_IPV6_WS_SIMHASH_OK).
const SIMILAR: u32 = 2;
/// Mail exchangers Internet.nl tests at most, by name (MAX_MAILSERVERS).
const MAX_MAIL_SERVERS: usize = 10;
/// Bodies whose distance is at most this are the same site (settings.SIMHASH_MAX).
const MAX_DISTANCE: f64 = 10.0;

/// How one server (a name server, the web host, a mail exchanger) answered over IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Server {
    /// An AAAA other than an IPv4-mapped one (the only kind Internet.nl drops).
    pub has_aaaa: bool,
    /// IPv6 addresses that answered on some port, and those that did not.
    pub v6_good: usize,
    pub v6_bad: usize,
    /// A port open over IPv4 is shut over IPv6.
    pub ports_lost: bool,
}

impl Server {
    /// 10 when every IPv6 address answers, 2 when some do or a port is lost over IPv6, 0
    /// when none does (ipv6.py, get_domain_results).
    fn points(&self) -> u32 {
        if self.v6_good == 0 {
            0
        } else if self.v6_bad > 0 || self.ports_lost {
            PARTIAL
        } else {
            GOOD
        }
    }
}

/// The name servers' points: the mean over those with AAAA when at least two have one,
/// else over all, truncated; a lone name server earns at most 5 (ipv6.py, do_ns).
pub fn ns_points(servers: &[Server]) -> u32 {
    let sum: u32 = servers.iter().map(Server::points).sum();
    let with_aaaa = servers.iter().filter(|s| s.has_aaaa).count();
    let counted = if with_aaaa > 1 {
        with_aaaa
    } else {
        servers.len()
    };
    match counted {
        0 => 0,
        1 => sum.min(GOOD / 2),
        n => sum / n as u32,
    }
}

/// Whether the web site is the same over both families, as Internet.nl's content test says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Similarity {
    /// Close enough, or (as Internet.nl scores it) the status codes differ.
    Same,
    Differs,
    /// Not compared (no address of a family answers, or a port is lost): no points.
    NotRun,
    /// The host has no IPv4 address: the test leaves the maximum.
    NoV4,
}

/// Internet.nl's web test, IPv6 category: name servers 10, web server 10, same site 2.
pub fn web_score(ns: u32, web: Server, similarity: Similarity) -> u8 {
    let (similar, max) = match similarity {
        Similarity::Same => (SIMILAR, 2 * GOOD + SIMILAR),
        Similarity::Differs | Similarity::NotRun => (0, 2 * GOOD + SIMILAR),
        Similarity::NoV4 => (0, 2 * GOOD),
    };
    percent(ns + web.points() + similar, max)
}

/// Internet.nl's mail test, IPv6 category: name servers 10, mail exchangers 10 (their
/// mean, truncated); without exchangers (no MX, null MX) only the name servers count.
pub fn mail_score(ns: u32, exchangers: Option<&[Server]>) -> u8 {
    match exchangers {
        None | Some([]) => percent(ns, GOOD),
        Some(servers) => {
            let sum: u32 = servers.iter().map(Server::points).sum();
            percent(ns + sum / servers.len() as u32, 2 * GOOD)
        }
    }
}

/// `int(100.0 / max_score * total)`, as probes.py computes it (the same float steps, so
/// the truncation lands where Internet.nl's does).
fn percent(total: u32, max: u32) -> u8 {
    (100.0 / f64::from(max) * f64::from(total)) as u8
}

/// Python's `SequenceMatcher.quick_ratio`, which Internet.nl's content test uses: the
/// share of bytes two texts have in common, in any order.
pub fn quick_ratio(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let count = |text: &[u8]| {
        let mut counts = [0usize; 256];
        for byte in text {
            counts[usize::from(*byte)] += 1;
        }
        counts
    };
    let (ca, cb) = (count(a), count(b));
    let matches: usize = ca.iter().zip(&cb).map(|(x, y)| x.min(y)).sum();
    2.0 * matches as f64 / (a.len() + b.len()) as f64
}

/// The host's `internet_nl` score from what its checks found, or None when the scan could
/// not decide something the score needs, the name does not exist, or the host has neither
/// web nor mail. Reads the probes the checks made (memoised); sends nothing new.
pub async fn score(scan: &HostScan<'_>, records: &[CheckRecord]) -> Option<u8> {
    if !scoreable(&scan.facts.v4) || !scoreable(&scan.facts.v6) {
        return None;
    }
    let ns = ns_points(&name_servers(scan, records)?);
    if !scan.web_schemes().is_empty() {
        let (web, similarity) = web(scan).await?;
        return Some(web_score(ns, web, similarity));
    }
    if scan.has(Service::Smtp) {
        return match scan.facts.mail.as_ref()? {
            Mail::Exchangers { hosts, .. } => {
                let mut hosts: Vec<_> = hosts.iter().collect();
                hosts.sort_by(|a, b| a.name.cmp(&b.name));
                let exchangers: Option<Vec<Server>> = hosts
                    .into_iter()
                    .take(MAX_MAIL_SERVERS)
                    .map(|mx| {
                        // An exchanger without addresses earns 0; one not looked up, nothing.
                        let looked_up = !matches!(mx.v6, Resolution::Failed(_));
                        looked_up
                            .then(|| from_records(scan, records, Probe::Smtp, mx.v6.records()))?
                    })
                    .collect();
                Some(mail_score(ns, Some(&exchangers?)))
            }
            Mail::NullMx | Mail::Implicit => Some(mail_score(ns, None)),
            Mail::Failed { .. } => None,
        };
    }
    None
}

/// Internet.nl scores a name that exists; a lookup that failed leaves the score undecided.
fn scoreable<T>(resolution: &Resolution<T>) -> bool {
    !matches!(resolution, Resolution::Failed(_) | Resolution::NxDomain)
}

/// The name servers of the name's own zone (Internet.nl asks only that one).
fn name_servers(scan: &HostScan<'_>, records: &[CheckRecord]) -> Option<Vec<Server>> {
    let zone = scan.facts.zones.first()?.as_ref().ok()?;
    zone.name_servers
        .iter()
        .map(|ns| from_records(scan, records, Probe::NameServer, ns.v6.records()))
        .collect()
}

/// The probe whose records tell whether a server's address answered.
#[derive(Clone, Copy)]
enum Probe {
    /// dns.ns_v6 over UDP (Internet.nl falls back to TCP only on truncation): any reply.
    NameServer,
    /// smtp.v6: a TCP connection to port 25.
    Smtp,
}

impl Probe {
    fn answered(self, record: &CheckRecord) -> bool {
        match self {
            Probe::NameServer => {
                record.check == "dns.ns_v6"
                    && record.evidence["transport"] == "UDP"
                    && record.evidence["answered"] == true
            }
            Probe::Smtp => record.check == "smtp.v6" && record.evidence["connected"] == true,
        }
    }

    fn check(self) -> &'static str {
        match self {
            Probe::NameServer => "dns.ns_v6",
            Probe::Smtp => "smtp.v6",
        }
    }
}

/// A server from the records of the probe of its IPv6 addresses; an address no record
/// covers was never probed (not usable) and, from the Internet, does not answer.
fn from_records(
    scan: &HostScan<'_>,
    records: &[CheckRecord],
    probe: Probe,
    aaaa: &[Ipv6Addr],
) -> Option<Server> {
    let mut server = Server::default();
    for address in aaaa.iter().filter(|a| a.to_ipv4_mapped().is_none()) {
        server.has_aaaa = true;
        let about: Vec<&CheckRecord> = records
            .iter()
            .filter(|r| r.check == probe.check() && r.address == Some(IpAddr::V6(*address)))
            .collect();
        if about.iter().any(|r| probe.answered(r)) {
            server.v6_good += 1;
        } else if about.iter().any(|r| r.status == Status::Error)
            && scan.usable(IpAddr::V6(*address))
        {
            return None;
        } else {
            server.v6_bad += 1;
        }
    }
    Some(server)
}

/// The web host as Internet.nl's reachability and content tests see it: ports 80 and 443
/// on every address, and the content of the port that works on both families.
async fn web(scan: &HostScan<'_>) -> Option<(Server, Similarity)> {
    const PORTS: [u16; 2] = [80, 443];
    let open_ports = async |address: IpAddr| -> Option<BTreeSet<u16>> {
        let mut open = BTreeSet::new();
        for port in PORTS {
            match scan.connect(SocketAddr::new(address, port)).await {
                Ok(Connect::Open(_)) => {
                    open.insert(port);
                }
                Ok(Connect::ScannerFault(_)) | Err(_) => return None,
                Ok(_) => {}
            }
        }
        Some(open)
    };
    let (mut v4_ports, mut v6_ports) = (BTreeSet::new(), BTreeSet::new());
    let (mut v4_good, mut v6_good) = (None, None);
    let mut web = Server::default();
    for address in scan
        .facts
        .v6
        .records()
        .iter()
        .filter(|a| a.to_ipv4_mapped().is_none())
    {
        web.has_aaaa = true;
        let address = IpAddr::V6(*address);
        // An address sixfive does not probe (not usable) does not answer from the Internet.
        let open = if scan.usable(address) {
            open_ports(address).await?
        } else {
            BTreeSet::new()
        };
        if open.is_empty() {
            web.v6_bad += 1;
        } else {
            web.v6_good += 1;
            v6_good.get_or_insert(address);
        }
        v6_ports.extend(open);
    }
    if v6_good.is_none() {
        // No points whatever IPv4 does: nothing more to ask of the host.
        return Some((web, Similarity::NotRun));
    }
    // tcp.v6 has asked these of every IPv4 address already, so they come from its memo.
    for address in scan.addresses(false) {
        let open = open_ports(address).await?;
        if !open.is_empty() && v4_good.is_none() {
            v4_good = Some(address);
        }
        v4_ports.extend(open);
    }
    web.ports_lost = !v4_ports.is_subset(&v6_ports);
    let similarity = match (v4_good, v6_good) {
        _ if scan.facts.v4.records().is_empty() => Similarity::NoV4,
        (Some(v4), Some(v6)) if !web.ports_lost => similar(scan, v4, v6, &v4_ports).await,
        _ => Similarity::NotRun,
    };
    Some((web, similarity))
}

/// Internet.nl compares the last port that works on both families (443 before 80); sixfive
/// compares the scheme its inventory lists, preferring https the same way, so no request
/// is sent that the checks did not send.
async fn similar(scan: &HostScan<'_>, v4: IpAddr, v6: IpAddr, open: &BTreeSet<u16>) -> Similarity {
    let schemes = scan.web_schemes();
    let Some(tls) = schemes
        .iter()
        .copied()
        .find(|tls| open.contains(&if *tls { 443 } else { 80 }))
    else {
        return Similarity::NotRun;
    };
    let (c4, c6) = (
        scan.chain(&scan.home(v4, tls)).await,
        scan.chain(&scan.home(v6, tls)).await,
    );
    let (Some(r4), Some(r6)) = (c4.answered(), c6.unpinned_end(&c4)) else {
        return Similarity::NotRun;
    };
    if r4.status != r6.status {
        // Internet.nl shows this as a failure but scores it as the same site (#2069).
        return Similarity::Same;
    }
    let (t4, t6) = (
        crate::probe::http::normalised_as_internet_nl(&r4.body),
        crate::probe::http::normalised_as_internet_nl(&r6.body),
    );
    let distance = 100.0 - quick_ratio(t4.as_bytes(), t6.as_bytes()) * 100.0;
    if distance <= MAX_DISTANCE {
        Similarity::Same
    } else {
        Similarity::Differs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWERS: Server = Server {
        has_aaaa: true,
        v6_good: 1,
        v6_bad: 0,
        ports_lost: false,
    };
    const IPV4_ONLY: Server = Server {
        has_aaaa: false,
        v6_good: 0,
        v6_bad: 0,
        ports_lost: false,
    };

    // Each expected figure is worked out by hand from Internet.nl's rules: web max 10 + 10
    // + 2 = 22, mail 10 + 10, int(100.0 / max * points).

    #[test]
    fn an_ipv4_only_host_with_dual_stack_name_servers_scores_45() {
        let ns = ns_points(&[ANSWERS, ANSWERS]);
        assert_eq!(ns, 10);
        // 10 / 22 = 45.45...
        assert_eq!(web_score(ns, IPV4_ONLY, Similarity::NotRun), 45);
    }

    #[test]
    fn web_cases_score_as_internet_nl_does() {
        let ns = ns_points(&[ANSWERS, ANSWERS]);
        assert_eq!(web_score(ns, ANSWERS, Similarity::Same), 100);
        // Another page over IPv6: 20 / 22 = 90.9...
        assert_eq!(web_score(ns, ANSWERS, Similarity::Differs), 90);
        // AAAA but no IPv6 address answers: 10 / 22.
        let dead = Server {
            v6_good: 0,
            v6_bad: 1,
            ..ANSWERS
        };
        assert_eq!(web_score(ns, dead, Similarity::NotRun), 45);
        // Port 80 open over IPv4 only: (10 + 2) / 22 = 54.5...
        let lost = Server {
            ports_lost: true,
            ..ANSWERS
        };
        assert_eq!(web_score(ns, lost, Similarity::NotRun), 54);
        // One of two IPv6 addresses answers, same content: (10 + 2 + 2) / 22 = 63.6...
        let half = Server {
            v6_good: 1,
            v6_bad: 1,
            ..ANSWERS
        };
        assert_eq!(web_score(ns, half, Similarity::Same), 63);
        // IPv6-only: the content test leaves the maximum, 20 / 20.
        assert_eq!(web_score(ns, ANSWERS, Similarity::NoV4), 100);
    }

    #[test]
    fn name_servers_are_averaged_as_internet_nl_does() {
        // Two with AAAA and one IPv4-only: the IPv4-only one leaves the mean.
        assert_eq!(ns_points(&[ANSWERS, ANSWERS, IPV4_ONLY]), 10);
        // Only one with AAAA: the mean is over all, (10 + 0) / 2.
        assert_eq!(ns_points(&[ANSWERS, IPV4_ONLY]), 5);
        // A lone name server earns at most 5.
        assert_eq!(ns_points(&[ANSWERS]), 5);
        // Two with AAAA, one of them partly answering: (10 + 2) / 2 = 6.
        let partial = Server {
            v6_good: 1,
            v6_bad: 1,
            ..ANSWERS
        };
        assert_eq!(ns_points(&[ANSWERS, partial]), 6);
        // Three with AAAA, one silent: 20 / 3 = 6.67, truncated.
        let silent = Server {
            v6_good: 0,
            v6_bad: 1,
            ..ANSWERS
        };
        assert_eq!(ns_points(&[ANSWERS, ANSWERS, silent]), 6);
        assert_eq!(ns_points(&[IPV4_ONLY, IPV4_ONLY]), 0);
        // IPv4-only web host and IPv4-only name servers: 0 / 22.
        assert_eq!(web_score(0, IPV4_ONLY, Similarity::NotRun), 0);
    }

    #[test]
    fn mail_cases_score_as_internet_nl_does() {
        let ns = ns_points(&[ANSWERS, ANSWERS]);
        // An IPv4-only exchanger: 10 / 20.
        assert_eq!(mail_score(ns, Some(&[IPV4_ONLY])), 50);
        // Two exchangers, one without AAAA: mx = int(10 / 2) = 5, 15 / 20.
        assert_eq!(mail_score(ns, Some(&[ANSWERS, IPV4_ONLY])), 75);
        assert_eq!(mail_score(ns, Some(&[ANSWERS])), 100);
        // No MX or a null MX: only the name servers count, 10 / 10.
        assert_eq!(mail_score(ns, None), 100);
        assert_eq!(mail_score(5, None), 50);
    }

    #[test]
    fn quick_ratio_is_pythons() {
        // difflib.SequenceMatcher(None, a, b).quick_ratio() gives these.
        assert_eq!(quick_ratio(b"abc", b"cba"), 1.0);
        assert_eq!(quick_ratio(b"abcd", b"bcde"), 0.75);
        assert_eq!(quick_ratio(b"", b""), 1.0);
        assert_eq!(quick_ratio(b"aaaa", b""), 0.0);
    }
}
