//! Stub lookups through the inventory's resolvers (or the system's), following CNAME
//! chains, and the DNS facts of a host that several checks share.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;

use super::dns::{Answer, DnsClient, DnsError, Flags, Transport};
use crate::memo::Memo;

/// Hops followed before a chain of aliases is called a loop.
pub const MAX_CNAME_HOPS: usize = 10;

/// Usable addresses of one family probed per name, and results listed per address per
/// verdict. Each probed address costs connections, a PTR lookup and results, and a hostile
/// zone can serve well over a thousand (a 64 KB answer over TCP); a real host has a few.
/// Every record is still classified (dns.aaaa_global) and counted.
pub const MAX_ADDRESSES: usize = 16;

/// Mail exchangers and name servers whose addresses are looked up per name (the first by
/// preference, or by name): each costs two lookups.
pub const MAX_NAMES: usize = 16;

/// How a check counts a name's addresses: "N A records", and that only some are probed.
pub fn counted(found: usize, kind: &str) -> String {
    if found > MAX_ADDRESSES {
        format!("{found} {kind} records (sixfive probes {MAX_ADDRESSES} of them)")
    } else {
        format!("{found} {kind} records")
    }
}

/// The result of looking up one record type for a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "records", rename_all = "snake_case")]
pub enum Resolution<T> {
    Records(Vec<T>),
    /// The name exists but has no record of this type.
    NoData,
    NxDomain,
    /// The resolvers gave no usable answer: the scan cannot decide.
    Failed(DnsError),
}

impl<T> Resolution<T> {
    pub fn records(&self) -> &[T] {
        match self {
            Resolution::Records(records) => records,
            _ => &[],
        }
    }
}

/// The resolvers a scan asks, tried in order.
pub struct Resolvers {
    servers: Vec<SocketAddr>,
    client: Arc<DnsClient>,
    /// Name servers per zone apex, looked up once for all the zone's hosts.
    zones: Memo<Name, Result<Zone, DnsError>>,
    /// Answers of this run, so checks of one host (and hosts of one zone) that ask the
    /// same question send it once. Bounded: hosts in flight reuse answers within seconds.
    answers: moka::future::Cache<(Name, RecordType, Flags), Answer>,
}

/// Answers kept per run for each probe the scan may have in flight: about five questions a
/// host, three times over, so a host's later checks find what its first ones asked; at
/// most ANSWERS_KEPT (reached at the default concurrency of 256), a few MB.
const ANSWERS_PER_PROBE: u64 = 16;
const ANSWERS_KEPT: u64 = 4_096;

impl Resolvers {
    /// `servers`, or when empty the system's (resolv.conf); `in_flight` is the scan's
    /// concurrency, which sizes the run's answer cache.
    pub fn new(
        servers: Vec<SocketAddr>,
        client: Arc<DnsClient>,
        in_flight: u32,
    ) -> Result<Self, DnsError> {
        let servers = if servers.is_empty() {
            let (config, _) = hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| DnsError::SystemConfig(e.to_string()))?;
            config
                .name_servers
                .iter()
                .map(|ns| SocketAddr::new(ns.ip, 53))
                .collect()
        } else {
            servers
        };
        if servers.is_empty() {
            return Err(DnsError::NoResolver);
        }
        Ok(Self {
            servers,
            client,
            zones: Memo::new(),
            // LRU, not moka's default TinyLFU: an answer is reused within seconds or never,
            // so a new one must always get in.
            answers: moka::future::Cache::builder()
                .max_capacity((ANSWERS_PER_PROBE * u64::from(in_flight.max(1))).min(ANSWERS_KEPT))
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .build(),
        })
    }

    /// Drops the zones and answers looked up so far: nothing outlives a run.
    pub async fn forget(&self) {
        self.zones.clear().await;
        self.answers.invalidate_all();
    }

    pub fn client(&self) -> &Arc<DnsClient> {
        &self.client
    }

    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// Asks each resolver in turn until one answers; a truncated answer is asked again over
    /// TCP. A validation failure (SERVFAIL) is asked again with CD, so the other checks see
    /// the records while dns.dnssec reports the zone bogus.
    pub async fn lookup(&self, name: &Name, record_type: RecordType) -> Answer {
        let answer = self.lookup_with(name, record_type, Flags::VALIDATED).await;
        if answer.rcode() != Some(ResponseCode::ServFail) {
            return answer;
        }
        let retry = self.lookup_with(name, record_type, Flags::UNCHECKED).await;
        match retry.rcode() {
            Some(ResponseCode::NoError | ResponseCode::NXDomain) => retry,
            _ => answer,
        }
    }

    /// [`Resolvers::lookup`] with DNSSEC flags, asked once per run whoever asks. Only a yes
    /// or a no is kept: a lost packet or a SERVFAIL is asked again by the next check rather
    /// than failing every host that shares the question.
    pub async fn lookup_with(&self, name: &Name, record_type: RecordType, flags: Flags) -> Answer {
        let key = (name.clone(), record_type, flags);
        let asked = self
            .answers
            .try_get_with(key, async {
                let answer = self.ask(name, record_type, flags).await;
                match answer.conclusive() {
                    Ok(_) => Ok(answer),
                    Err(_) => Err(answer),
                }
            })
            .await;
        asked.unwrap_or_else(|failed| (*failed).clone())
    }

    async fn ask(&self, name: &Name, record_type: RecordType, flags: Flags) -> Answer {
        let mut last = Answer::Failed(DnsError::NoResolver);
        for server in &self.servers {
            let ask = |transport| {
                self.client
                    .query_with(*server, name, record_type, transport, flags)
            };
            let mut answer = ask(Transport::Udp).await;
            if answer.message().is_some_and(|m| m.metadata.truncation) {
                answer = ask(Transport::Tcp).await;
            }
            match answer.rcode() {
                Some(ResponseCode::NoError | ResponseCode::NXDomain) => return answer,
                _ => last = answer,
            }
        }
        last
    }

    /// Records of one type for `name`, following CNAMEs; returns the chain of names walked
    /// (the name itself first).
    pub async fn chase<T>(
        &self,
        name: &Name,
        record_type: RecordType,
        pick: impl Fn(&RData) -> Option<T>,
    ) -> (Vec<Name>, Resolution<T>)
    where
        T: Ord,
    {
        let mut chain = vec![name.clone()];
        loop {
            let current = chain
                .last()
                .expect("the chain starts with the name")
                .clone();
            let message = match self.lookup(&current, record_type).await {
                Answer::Message { message, .. } => message,
                Answer::Failed(error) => return (chain, Resolution::Failed(error)),
            };
            let (mut hops, records) = walk(&message, &current, &pick);
            let ended_on_alias = !hops.is_empty() && records.is_empty();
            chain.append(&mut hops);
            if chain.len() > MAX_CNAME_HOPS + 1 {
                return (
                    chain,
                    Resolution::Failed(DnsError::TooManyHops(MAX_CNAME_HOPS)),
                );
            }
            if !records.is_empty() {
                // Servers rotate their answers: in order, two runs' findings compare
                // equal, and the same ones are probed.
                let mut records = records;
                records.sort();
                records.dedup();
                return (chain, Resolution::Records(records));
            }
            if ended_on_alias {
                continue;
            }
            return match message.metadata.response_code {
                ResponseCode::NXDomain => (chain, Resolution::NxDomain),
                ResponseCode::NoError => (chain, Resolution::NoData),
                rcode => (chain, Resolution::Failed(DnsError::answered(rcode))),
            };
        }
    }

    pub async fn addresses_v4(&self, name: &Name) -> (Vec<Name>, Resolution<Ipv4Addr>) {
        self.chase(name, RecordType::A, |data| match data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    pub async fn addresses_v6(&self, name: &Name) -> (Vec<Name>, Resolution<Ipv6Addr>) {
        self.chase(name, RecordType::AAAA, |data| match data {
            RData::AAAA(aaaa) => Some(aaaa.0),
            _ => None,
        })
        .await
    }
}

/// Follows the aliases inside one answer from `start`; returns the hops and the records
/// of the wanted type owned by the last name.
fn walk<T>(
    message: &Message,
    start: &Name,
    pick: &impl Fn(&RData) -> Option<T>,
) -> (Vec<Name>, Vec<T>) {
    let mut hops = Vec::new();
    let mut current = start.clone();
    while hops.len() <= MAX_CNAME_HOPS {
        let next = message
            .answers
            .iter()
            .find_map(|record| match &record.data {
                RData::CNAME(target) if record.name == current => Some(target.0.clone()),
                _ => None,
            });
        match next {
            Some(target) => {
                hops.push(target.clone());
                current = target;
            }
            None => break,
        }
    }
    let records = message
        .answers
        .iter()
        .filter(|record| record.name == current)
        .filter_map(|record| pick(&record.data))
        .collect();
    (hops, records)
}

/// A mail exchanger and its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailHost {
    pub name: String,
    pub preference: u16,
    pub v4: Resolution<Ipv4Addr>,
    pub v6: Resolution<Ipv6Addr>,
}

/// Where a host's mail goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mail {
    Exchangers {
        hosts: Vec<MailHost>,
        /// A null MX (`MX 0 .`) stands beside them, which RFC 7505 forbids.
        null_mx_beside: bool,
    },
    /// `MX 0 .` alone: the domain takes no mail (RFC 7505).
    NullMx,
    /// No MX: mail goes to the name's own addresses.
    Implicit,
    Failed {
        reason: DnsError,
    },
}

/// A name server of the host's zone and its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameServer {
    pub name: String,
    pub v4: Resolution<Ipv4Addr>,
    pub v6: Resolution<Ipv6Addr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Zone {
    pub apex: String,
    pub name_servers: Vec<NameServer>,
}

/// What DNS says about a host, looked up once and shared by the checks.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    /// The name, then each CNAME target in turn.
    pub chain: Vec<String>,
    pub v4: Resolution<Ipv4Addr>,
    pub v6: Resolution<Ipv6Addr>,
    /// Looked up only for hosts with the smtp service.
    pub mail: Option<Mail>,
    /// Every zone the answer passes through: the name's own, then each CNAME target's
    /// (Internet.nl counts only the first), or why one could not be found.
    pub zones: Vec<Result<Zone, DnsError>>,
}

impl Facts {
    pub async fn resolve(resolvers: &Resolvers, fqdn: &str, wants_mail: bool) -> Facts {
        let name = match Name::from_str(&format!("{}.", fqdn.trim_end_matches('.'))) {
            Ok(name) => name,
            Err(e) => {
                let why = DnsError::NotAName {
                    name: fqdn.to_owned(),
                    why: e.to_string(),
                };
                return Facts {
                    chain: vec![fqdn.to_owned()],
                    v4: Resolution::Failed(why.clone()),
                    v6: Resolution::Failed(why.clone()),
                    mail: None,
                    zones: vec![Err(why)],
                };
            }
        };
        let ((chain, v6), (_, v4)) =
            tokio::join!(resolvers.addresses_v6(&name), resolvers.addresses_v4(&name));
        let (mail, zones) = tokio::join!(
            async {
                if wants_mail {
                    Some(mail(resolvers, &name).await)
                } else {
                    None
                }
            },
            resolvers.zones_on(&chain)
        );
        Facts {
            chain: chain.iter().map(display_name).collect(),
            v4,
            v6,
            mail,
            zones,
        }
    }

    /// The host's own addresses, both families, in the order checks report them.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let v6 = self.v6.records().iter().map(|a| IpAddr::V6(*a));
        let v4 = self.v4.records().iter().map(|a| IpAddr::V4(*a));
        v6.chain(v4).collect()
    }
}

/// A name as users write it: no trailing dot.
pub fn display_name(name: &Name) -> String {
    name.to_string().trim_end_matches('.').to_owned()
}

async fn mail(resolvers: &Resolvers, name: &Name) -> Mail {
    let answer = resolvers.lookup(name, RecordType::MX).await;
    let message = match answer.conclusive() {
        Ok(message) => message,
        Err(reason) => return Mail::Failed { reason },
    };
    let exchangers: Vec<(u16, Name)> = message
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::MX(mx) => Some((mx.preference, mx.exchange.clone())),
            _ => None,
        })
        .collect();
    if exchangers.is_empty() {
        return Mail::Implicit;
    }
    let null_mx_beside = exchangers.iter().any(|(_, exchange)| exchange.is_root());
    if exchangers.iter().all(|(_, exchange)| exchange.is_root()) {
        return Mail::NullMx;
    }
    let mut exchangers: Vec<(u16, Name)> = exchangers
        .into_iter()
        .filter(|(_, exchange)| !exchange.is_root())
        .collect();
    exchangers.sort();
    exchangers.dedup();
    exchangers.truncate(MAX_NAMES);
    let lookups = exchangers
        .into_iter()
        .map(|(preference, exchange)| async move {
            let ((_, v6), (_, v4)) = tokio::join!(
                resolvers.addresses_v6(&exchange),
                resolvers.addresses_v4(&exchange)
            );
            MailHost {
                name: display_name(&exchange),
                preference,
                v4,
                v6,
            }
        });
    let mut hosts = futures::future::join_all(lookups).await;
    hosts.sort_by(|a, b| (a.preference, &a.name).cmp(&(b.preference, &b.name)));
    Mail::Exchangers {
        hosts,
        null_mx_beside,
    }
}

impl Resolvers {
    /// The zone that holds `name` (the owner of the SOA in the answer or the authority
    /// section), with its name servers, looked up once per zone.
    pub async fn zone(&self, name: &Name) -> Result<Zone, DnsError> {
        let answer = self.lookup(name, RecordType::SOA).await;
        let message = answer.conclusive()?;
        // A resolver follows an alias, answering for its target's zone; an alias is never
        // a zone's apex, so its own zone is its parent's.
        let alias = message
            .answers
            .iter()
            .any(|r| r.name == *name && matches!(r.data, RData::CNAME(_)));
        if alias && !name.is_root() {
            return Box::pin(self.zone(&name.base_name())).await;
        }
        let apex = message
            .answers
            .iter()
            .chain(&message.authorities)
            .find(|record| matches!(record.data, RData::SOA(_)))
            .map(|record| record.name.clone())
            .ok_or_else(|| DnsError::NoSoa {
                name: display_name(name),
                answer: answer.describe(),
            })?;
        self.zones
            .get(&apex.clone(), || name_servers(self, apex))
            .await
    }
}

impl Resolvers {
    /// The zones holding each name of a CNAME chain, in order, each once.
    pub async fn zones_on(&self, chain: &[Name]) -> Vec<Result<Zone, DnsError>> {
        let found = futures::future::join_all(chain.iter().map(|name| self.zone(name))).await;
        let mut zones: Vec<Result<Zone, DnsError>> = Vec::new();
        for zone in found {
            let seen = zones.iter().any(|z| match (z, &zone) {
                (Ok(a), Ok(b)) => a.apex == b.apex,
                (Err(a), Err(b)) => a == b,
                _ => false,
            });
            if !seen {
                zones.push(zone);
            }
        }
        zones
    }
}

async fn name_servers(resolvers: &Resolvers, apex: Name) -> Result<Zone, DnsError> {
    let answer = resolvers.lookup(&apex, RecordType::NS).await;
    let message = answer.conclusive().map_err(|reason| DnsError::NsLookup {
        apex: display_name(&apex),
        reason: Box::new(reason),
    })?;
    let mut ns_names: Vec<Name> = message
        .answers
        .iter()
        .filter(|record| record.name == apex)
        .filter_map(|record| match &record.data {
            RData::NS(ns) => Some(ns.0.clone()),
            _ => None,
        })
        .collect();
    ns_names.sort();
    ns_names.dedup();
    ns_names.truncate(MAX_NAMES);
    let lookups = ns_names.into_iter().map(|ns| async move {
        let ((_, v6), (_, v4)) =
            tokio::join!(resolvers.addresses_v6(&ns), resolvers.addresses_v4(&ns));
        NameServer {
            name: display_name(&ns),
            v4,
            v6,
        }
    });
    Ok(Zone {
        apex: display_name(&apex),
        name_servers: futures::future::join_all(lookups).await,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hickory_proto::op::OpCode;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{AAAA, CNAME};
    use tokio::net::UdpSocket;

    use super::*;

    /// An in-process name server on [::1] that answers each query with `answer`.
    async fn name_server(
        answer: fn(&Name, RecordType) -> (ResponseCode, Vec<Record>),
    ) -> SocketAddr {
        let socket = UdpSocket::bind("[::1]:0").await.unwrap();
        let address = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let question = query.queries[0].clone();
                let (rcode, records) = answer(question.name(), question.query_type());
                let mut response = Message::response(query.metadata.id, OpCode::Query);
                response.metadata.response_code = rcode;
                response.metadata.authoritative = true;
                response.add_query(question);
                response.add_answers(records);
                let _ = socket.send_to(&response.to_vec().unwrap(), from).await;
            }
        });
        address
    }

    fn name(text: &str) -> Name {
        Name::from_str(text).unwrap()
    }

    fn resolvers(server: SocketAddr) -> Resolvers {
        Resolvers::new(
            vec![server],
            DnsClient::new(Duration::from_millis(400), 8),
            8,
        )
        .unwrap()
    }

    /// www → alias (answered alone) → target, whose AAAA comes in a second answer.
    fn chain(qname: &Name, rtype: RecordType) -> (ResponseCode, Vec<Record>) {
        let cname = |from: &str, to: &str| {
            Record::from_rdata(name(from), 60, RData::CNAME(CNAME(name(to))))
        };
        match (qname.to_string().as_str(), rtype) {
            ("www.lab.test.", _) => (
                ResponseCode::NoError,
                vec![cname("www.lab.test.", "alias.lab.test.")],
            ),
            ("alias.lab.test.", _) => (
                ResponseCode::NoError,
                vec![cname("alias.lab.test.", "target.lab.test.")],
            ),
            ("target.lab.test.", RecordType::AAAA) => (
                ResponseCode::NoError,
                vec![Record::from_rdata(
                    name("target.lab.test."),
                    60,
                    RData::AAAA(AAAA("fd00:1::10".parse().unwrap())),
                )],
            ),
            ("target.lab.test.", _) => (ResponseCode::NoError, vec![]),
            ("loop.lab.test.", _) => (
                ResponseCode::NoError,
                vec![cname("loop.lab.test.", "loop.lab.test.")],
            ),
            _ => (ResponseCode::NXDomain, vec![]),
        }
    }

    #[tokio::test]
    async fn cname_chains_are_followed_across_answers() {
        let resolvers = resolvers(name_server(chain).await);
        let (hops, v6) = resolvers.addresses_v6(&name("www.lab.test.")).await;
        let hops: Vec<String> = hops.iter().map(display_name).collect();
        assert_eq!(hops, ["www.lab.test", "alias.lab.test", "target.lab.test"]);
        assert_eq!(v6, Resolution::Records(vec!["fd00:1::10".parse().unwrap()]));
        let (_, v4) = resolvers.addresses_v4(&name("www.lab.test.")).await;
        assert_eq!(v4, Resolution::NoData);
    }

    #[tokio::test]
    async fn a_names_addresses_are_kept_once_each_in_order() {
        fn pool(i: u16) -> Ipv6Addr {
            Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, i)
        }
        fn many(qname: &Name, rtype: RecordType) -> (ResponseCode, Vec<Record>) {
            if rtype != RecordType::AAAA {
                return (ResponseCode::NoError, vec![]);
            }
            // Thirty addresses, the highest first, one repeated.
            let records = (0..30u16).rev().chain([7]);
            let records =
                records.map(|i| Record::from_rdata(qname.clone(), 60, RData::AAAA(AAAA(pool(i)))));
            (ResponseCode::NoError, records.collect())
        }
        let resolvers = resolvers(name_server(many).await);
        let (_, v6) = resolvers.addresses_v6(&name("pool.lab.test.")).await;
        let every: Vec<Ipv6Addr> = (0..30).map(pool).collect();
        assert_eq!(v6, Resolution::Records(every));
        assert_eq!(
            counted(30, "AAAA"),
            "30 AAAA records (sixfive probes 16 of them)"
        );
        assert_eq!(counted(MAX_ADDRESSES, "A"), "16 A records");
    }

    #[tokio::test]
    async fn a_question_is_sent_once_per_run_however_many_ask() {
        static ASKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        fn counting(qname: &Name, rtype: RecordType) -> (ResponseCode, Vec<Record>) {
            ASKED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            chain(qname, rtype)
        }
        let asked = || ASKED.load(std::sync::atomic::Ordering::SeqCst);
        let resolvers = resolvers(name_server(counting).await);
        let www = name("www.lab.test.");
        let (first, second) =
            tokio::join!(resolvers.addresses_v6(&www), resolvers.addresses_v6(&www));
        assert_eq!(first, second);
        let (_, again) = resolvers.addresses_v6(&www).await;
        assert_eq!(again, first.1);
        assert_eq!(asked(), 3, "www, alias and target, each once");
        resolvers.addresses_v4(&www).await;
        assert_eq!(asked(), 6, "another record type is another question");
        resolvers.forget().await;
        resolvers.addresses_v6(&www).await;
        assert_eq!(asked(), 9, "a new run asks again");
    }

    #[tokio::test]
    async fn a_failed_question_is_asked_again() {
        static ASKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        fn failing(_: &Name, _: RecordType) -> (ResponseCode, Vec<Record>) {
            ASKED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (ResponseCode::ServFail, vec![])
        }
        let resolvers = resolvers(name_server(failing).await);
        let www = name("www.lab.test.");
        for _ in 0..2 {
            let (_, v6) = resolvers.addresses_v6(&www).await;
            assert_eq!(v6, Resolution::Failed(DnsError::ServFail));
        }
        // Each lookup asks, then asks again with CD after the SERVFAIL.
        assert_eq!(ASKED.load(std::sync::atomic::Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_missing_name_and_an_alias_loop_are_told_apart() {
        let resolvers = resolvers(name_server(chain).await);
        let (_, missing) = resolvers.addresses_v6(&name("nope.lab.test.")).await;
        assert_eq!(missing, Resolution::NxDomain);
        let (hops, looped) = resolvers.addresses_v6(&name("loop.lab.test.")).await;
        assert_eq!(
            looped,
            Resolution::Failed(DnsError::TooManyHops(MAX_CNAME_HOPS))
        );
        assert_eq!(hops.len(), MAX_CNAME_HOPS + 2);
    }

    #[tokio::test]
    async fn a_resolver_that_fails_or_refuses_is_told_by_the_kind_of_error() {
        fn failing(qname: &Name, _: RecordType) -> (ResponseCode, Vec<Record>) {
            let rcode = match qname.to_string().as_str() {
                "servfail.lab.test." => ResponseCode::ServFail,
                "refused.lab.test." => ResponseCode::Refused,
                _ => ResponseCode::NotImp,
            };
            (rcode, vec![])
        }
        let resolvers = resolvers(name_server(failing).await);
        for (qname, error) in [
            ("servfail.lab.test.", DnsError::ServFail),
            ("refused.lab.test.", DnsError::Refused),
            ("notimp.lab.test.", DnsError::Rcode(ResponseCode::NotImp)),
        ] {
            let (_, v6) = resolvers.addresses_v6(&name(qname)).await;
            assert_eq!(v6, Resolution::Failed(error.clone()), "{qname}");
            let zone = resolvers.zone(&name(qname)).await;
            assert_eq!(zone, Err(error), "{qname}");
        }
    }

    #[tokio::test]
    async fn an_answer_that_does_not_decode_is_malformed_not_a_timeout() {
        let socket = UdpSocket::bind("[::1]:0").await.unwrap();
        let address = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            while let Ok((_, from)) = socket.recv_from(&mut buf).await {
                // The query's id, a response's flags and one answer promised, none sent.
                let mut answer = buf[..2].to_vec();
                answer.extend([0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0]);
                let _ = socket.send_to(&answer, from).await;
            }
        });
        let (_, v6) = resolvers(address)
            .addresses_v6(&name("www.lab.test."))
            .await;
        let Resolution::Failed(error @ DnsError::Malformed(_)) = v6 else {
            panic!("{v6:?}");
        };
        assert!(
            error
                .to_string()
                .starts_with("the answer is malformed (decoding error"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_silent_resolver_is_a_failure_not_an_answer() {
        let silent = UdpSocket::bind("[::1]:0").await.unwrap();
        let resolvers = resolvers(silent.local_addr().unwrap());
        let (_, v6) = resolvers.addresses_v6(&name("www.lab.test.")).await;
        assert_eq!(v6, Resolution::Failed(DnsError::Timeout));
    }
}
