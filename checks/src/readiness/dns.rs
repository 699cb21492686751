//! DNS checks: the host's A and AAAA records, whether its AAAA are usable, its zone's name
//! servers over IPv6, its mail exchangers' AAAA, and reverse DNS.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use futures::future::{BoxFuture, FutureExt};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use serde_json::json;
use sixfive_inventory::model::{Level, Service};
use sixfive_inventory::results::{CheckRecord, Status};

use crate::probe::address::classify;
use crate::probe::dns::{Flags, Transport};
use crate::probe::resolve::{Mail, MailHost, Resolution, Zone, display_name};
use crate::readiness::{Check, Gate, HostScan};

pub fn checks() -> Vec<Box<dyn Check>> {
    vec![
        Box::new(ARecords),
        Box::new(AaaaRecords),
        Box::new(AaaaGlobal),
        Box::new(NsAaaa),
        Box::new(NsV6),
        Box::new(MxAaaa),
        Box::new(Ptr),
        Box::new(Dnssec),
        Box::new(V6Only),
    ]
}

/// The record for a name that does not resolve: missing (the host's fault) or a lookup
/// that failed (the scan's).
fn unresolved<T>(scan: &HostScan<'_>, id: &str, resolution: &Resolution<T>) -> CheckRecord {
    match resolution {
        Resolution::Failed(why) => scan.record(id, Status::Error, format!("lookup failed: {why}")),
        _ => scan
            .record(id, Status::Fail, "the name does not exist (NXDOMAIN)")
            .hint("publish the name in DNS, or remove the host from the inventory"),
    }
}

struct ARecords;

impl Check for ARecords {
    fn id(&self) -> &'static str {
        "dns.a"
    }
    fn gate(&self) -> Option<Gate> {
        None
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let evidence = json!({"chain": scan.facts.chain, "a": scan.facts.v4});
            let record = match &scan.facts.v4 {
                Resolution::Records(a) => {
                    scan.record(self.id(), Status::Pass, format!("{} A records", a.len()))
                }
                Resolution::NoData => {
                    scan.record(self.id(), Status::Skip, "no A record: an IPv6-only host")
                }
                Resolution::NxDomain | Resolution::Failed(_) => {
                    unresolved(scan, self.id(), &scan.facts.v4)
                }
            };
            vec![record.evidence(evidence)]
        }
        .boxed()
    }
}

struct AaaaRecords;

impl Check for AaaaRecords {
    fn id(&self) -> &'static str {
        "dns.aaaa"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L1, 25))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            // A mail-only domain is reached through its exchangers: theirs are the AAAA that count.
            if scan.web_schemes().is_empty()
                && let Some(Mail::Exchangers { hosts, .. }) = &scan.facts.mail
            {
                let with_aaaa: Vec<&str> = hosts
                    .iter()
                    .filter(|mx| !scan.usable_v6(&mx.v6).is_empty())
                    .map(|mx| mx.name.as_str())
                    .collect();
                let evidence = json!({"mx": hosts});
                let failed = hosts
                    .iter()
                    .any(|mx| matches!(mx.v6, Resolution::Failed(_)));
                return vec![if with_aaaa.is_empty() && failed {
                    scan.record(
                        self.id(),
                        Status::Error,
                        "cannot tell: AAAA lookups of the mail exchangers failed",
                    )
                    .evidence(evidence)
                } else if with_aaaa.is_empty() {
                    scan.record(
                        self.id(),
                        Status::Fail,
                        "no mail exchanger has a usable AAAA: mail is IPv4-only",
                    )
                    .hint("give a mail exchanger an IPv6 address and publish its AAAA")
                    .evidence(evidence)
                } else {
                    scan.record(
                        self.id(),
                        Status::Pass,
                        format!("mail exchangers with AAAA: {}", with_aaaa.join(", ")),
                    )
                    .evidence(evidence)
                }];
            }
            let evidence = json!({"chain": scan.facts.chain, "aaaa": scan.facts.v6});
            let hops = scan.facts.chain.len() - 1;
            let via = if hops > 0 {
                format!(" via {hops} CNAME hop{}", if hops == 1 { "" } else { "s" })
            } else {
                String::new()
            };
            let record = match &scan.facts.v6 {
                Resolution::Records(aaaa) => scan.record(
                    self.id(),
                    Status::Pass,
                    format!("{} AAAA records{via}", aaaa.len()),
                ),
                Resolution::NoData => scan
                    .record(
                        self.id(),
                        Status::Fail,
                        format!("no AAAA record{via}: IPv4-only"),
                    )
                    .hint("publish an AAAA record once the service answers over IPv6"),
                Resolution::NxDomain | Resolution::Failed(_) => {
                    unresolved(scan, self.id(), &scan.facts.v6)
                }
            };
            vec![record.evidence(evidence)]
        }
        .boxed()
    }
}

struct AaaaGlobal;

impl Check for AaaaGlobal {
    fn id(&self) -> &'static str {
        "dns.aaaa_global"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::breaking(Level::L1, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let addresses = scan.facts.v6.records();
            if addresses.is_empty() {
                return scan.skip(self.id(), "no AAAA record");
            }
            addresses
                .iter()
                .map(|address| {
                    let (status, kind) = classify(*address, scan.host.internal);
                    let record = scan
                        .record(self.id(), status, format!("{address} is {kind}"))
                        .at(IpAddr::V6(*address), None)
                        .evidence(json!({"address": address, "class": kind, "internal": scan.host.internal,
                            "chain": scan.facts.chain}));
                    match status {
                        Status::Fail if kind.contains("NAT64") => record.hint(
                            "remove this AAAA: a translator's address in authoritative data is IPv4, not IPv6; publish the service's native IPv6 address",
                        ),
                        Status::Fail => record.hint(
                            "remove this AAAA: IPv6 users try it and fail (publish only global unicast addresses)",
                        ),
                        Status::Warn => record.hint("publish the service's native IPv6 address instead"),
                        _ => record,
                    }
                })
                .collect()
        }
        .boxed()
    }
}

/// The zones on the host's resolution path that were found; each one that was not is an
/// `error` record (the scan could not decide).
fn zones_of<'a>(scan: &'a HostScan<'_>, id: &str) -> (Vec<&'a Zone>, Vec<CheckRecord>) {
    let mut zones = Vec::new();
    let mut errors = Vec::new();
    for zone in &scan.facts.zones {
        match zone {
            Ok(zone) => zones.push(zone),
            Err(why) => {
                errors.push(scan.record(id, Status::Error, format!("zone not found: {why}")))
            }
        }
    }
    (zones, errors)
}

/// Why each IPv6 address of a name server or mail exchanger is not usable, for evidence.
fn unusable(scan: &HostScan<'_>, addresses: &[Ipv6Addr]) -> Vec<String> {
    addresses
        .iter()
        .filter(|a| !scan.usable(IpAddr::V6(**a)))
        .map(|a| format!("{a} is {}", classify(*a, scan.host.internal).1))
        .collect()
}

struct NsAaaa;

impl Check for NsAaaa {
    fn id(&self) -> &'static str {
        "dns.ns_aaaa"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L3, 15))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let (zones, mut records) = zones_of(scan, self.id());
            for zone in zones {
                let with_aaaa: Vec<&str> = zone
                    .name_servers
                    .iter()
                    .filter(|ns| !scan.usable_v6(&ns.v6).is_empty())
                    .map(|ns| ns.name.as_str())
                    .collect();
                let unusable: Vec<String> = zone
                    .name_servers
                    .iter()
                    .flat_map(|ns| {
                        unusable(scan, ns.v6.records())
                            .into_iter()
                            .map(move |why| format!("{}: {why}", ns.name))
                    })
                    .collect();
                let total = zone.name_servers.len();
                let failed: Vec<String> = zone
                    .name_servers
                    .iter()
                    .filter_map(|ns| match &ns.v6 {
                        Resolution::Failed(why) => Some(format!("{}: {why}", ns.name)),
                        _ => None,
                    })
                    .collect();
                if with_aaaa.len() < 2 && !failed.is_empty() {
                    // "No AAAA" is only an answer when every lookup answered.
                    records.push(
                        scan.record(
                            self.id(),
                            Status::Error,
                            format!("cannot tell: AAAA lookups failed ({})", failed.join("; ")),
                        )
                        .evidence(json!({"zone": zone})),
                    );
                    continue;
                }
                let status = if with_aaaa.len() >= 2 {
                    Status::Pass
                } else {
                    Status::Fail
                };
                let mut detail = format!(
                    "{} of {total} name servers of {} have a usable AAAA",
                    with_aaaa.len(),
                    zone.apex
                );
                if !unusable.is_empty() {
                    detail = format!("{detail} ({})", unusable.join("; "));
                }
                let record = scan
                    .record(self.id(), status, detail)
                    .evidence(json!({"zone": zone, "unusable": unusable}));
                records.push(if status == Status::Fail {
                    record.hint(format!(
                        "give at least two name servers of {} a global IPv6 address (AAAA)",
                        zone.apex
                    ))
                } else {
                    record
                });
            }
            records
        }
        .boxed()
    }
}

struct NsV6;

impl Check for NsV6 {
    fn id(&self) -> &'static str {
        "dns.ns_v6"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L3, 10))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let (zones, mut records) = zones_of(scan, self.id());
            let mut probes = Vec::new();
            for zone in zones {
                let Ok(apex) = Name::from_str(&format!("{}.", zone.apex)) else {
                    records.push(scan.record(
                        self.id(),
                        Status::Error,
                        format!("zone apex {} is not a DNS name", zone.apex),
                    ));
                    continue;
                };
                let targets: Vec<(String, Ipv6Addr)> = zone
                    .name_servers
                    .iter()
                    .flat_map(|ns| {
                        scan.usable_v6(&ns.v6)
                            .into_iter()
                            .map(move |a| (ns.name.clone(), a))
                    })
                    .collect();
                if targets.is_empty() {
                    records.extend(scan.skip(
                        self.id(),
                        format!(
                            "no name server of {} has a usable IPv6 address (see dns.ns_aaaa)",
                            zone.apex
                        ),
                    ));
                    continue;
                }
                for (ns, address) in targets {
                    for transport in [Transport::Udp, Transport::Tcp] {
                        let (ns, apex) = (ns.clone(), apex.clone());
                        probes.push(
                            async move { self.ask(scan, &ns, address, &apex, transport).await },
                        );
                    }
                }
            }
            records.extend(futures::future::join_all(probes).await);
            records
        }
        .boxed()
    }
}

impl NsV6 {
    async fn ask(
        &self,
        scan: &HostScan<'_>,
        ns: &str,
        address: Ipv6Addr,
        apex: &Name,
        transport: Transport,
    ) -> CheckRecord {
        let over = match transport {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        };
        let ip = IpAddr::V6(address);
        let zone = display_name(apex);
        let base = |status, detail: String| scan.record(self.id(), status, detail).at(ip, Some(53));
        let answer = match scan
            .network
            .ask_authoritative(SocketAddr::new(ip, 53), apex, transport)
            .await
        {
            Ok(answer) => answer,
            Err(refused) => return base(Status::Error, refused.detail(ip)),
        };
        // Any reply at all is what Internet.nl's score counts as reachable.
        let evidence = json!({"zone": zone, "name_server": ns, "transport": over,
            "answer": answer.describe(), "answered": answer.message().is_some()});
        match answer.message() {
            Some(m) if m.metadata.authoritative && m.metadata.response_code == ResponseCode::NoError => {
                base(Status::Pass, format!("{ns} answers authoritatively for {zone} over IPv6 {over}")).evidence(evidence)
            }
            Some(_) => base(Status::Fail, format!("{ns} answers for {zone} over IPv6 {over} but not authoritatively"))
                .hint("the name server at this IPv6 address must serve the zone")
                .evidence(evidence),
            None => base(Status::Fail, format!("{ns} does not answer for {zone} over IPv6 {over}: {}", answer.describe()))
                .hint(format!("let the name server listen on [{address}]:53 for UDP and TCP, and open port 53 in the firewall"))
                .evidence(evidence),
        }
    }
}

struct MxAaaa;

impl Check for MxAaaa {
    fn id(&self) -> &'static str {
        "dns.mx_aaaa"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L3, 5))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            if !scan.has(Service::Smtp) {
                return scan.skip(self.id(), "the host has no mail service");
            }
            match &scan.facts.mail {
                None | Some(Mail::Implicit) => scan.skip(
                    self.id(),
                    "no MX: mail goes to the host's own addresses (see dns.aaaa)",
                ),
                Some(Mail::NullMx) => scan.skip(self.id(), "null MX: the domain takes no mail"),
                Some(Mail::Failed { reason }) => {
                    vec![scan.record(
                        self.id(),
                        Status::Error,
                        format!("MX lookup failed: {reason}"),
                    )]
                }
                Some(Mail::Exchangers { hosts, null_mx_beside }) => {
                    let mut records: Vec<CheckRecord> = hosts
                        .iter()
                        .map(|mx| self.exchanger(scan, mx))
                        .collect();
                    if *null_mx_beside {
                        records.push(
                            scan.record(
                                self.id(),
                                Status::Warn,
                                "a null MX (MX 0 .) stands beside other MX records",
                            )
                            .hint("RFC 7505: a null MX must be the only MX; remove it, or the others if the domain takes no mail")
                            .evidence(json!({"mx": hosts, "null_mx": true})),
                        );
                    }
                    records
                }
            }
        }
        .boxed()
    }
}

impl MxAaaa {
    fn exchanger(&self, scan: &HostScan<'_>, mx: &MailHost) -> CheckRecord {
        let unusable = unusable(scan, mx.v6.records());
        let evidence = json!({"mx": mx, "unusable": unusable});
        let record = if !scan.usable_v6(&mx.v6).is_empty() {
            scan.record(
                self.id(),
                Status::Pass,
                format!("MX {} has a usable AAAA", mx.name),
            )
        } else if let Resolution::Failed(why) = &mx.v6 {
            scan.record(
                self.id(),
                Status::Error,
                format!("MX {}: lookup failed: {why}", mx.name),
            )
        } else {
            let detail = if unusable.is_empty() {
                format!("MX {} has no AAAA", mx.name)
            } else {
                format!(
                    "MX {} has no usable AAAA ({})",
                    mx.name,
                    unusable.join("; ")
                )
            };
            scan.record(self.id(), Status::Fail, detail)
                .hint("give the mail exchanger a global IPv6 address and publish its AAAA")
        };
        record.evidence(evidence)
    }
}

struct Ptr;

impl Check for Ptr {
    fn id(&self) -> &'static str {
        "dns.ptr"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L4, 2))
    }
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let addresses: Vec<Ipv6Addr> = scan
                .facts
                .v6
                .records()
                .iter()
                .copied()
                .filter(|a| scan.usable(IpAddr::V6(*a)))
                .collect();
            if addresses.is_empty() {
                return scan.skip(self.id(), "no usable AAAA record");
            }
            futures::future::join_all(addresses.into_iter().map(|a| self.reverse(scan, a))).await
        }
        .boxed()
    }
}

impl Ptr {
    async fn reverse(&self, scan: &HostScan<'_>, address: Ipv6Addr) -> CheckRecord {
        let resolvers = &scan.network.resolvers;
        let base = |status, detail: String| {
            scan.record(self.id(), status, detail)
                .at(IpAddr::V6(address), None)
        };
        let reverse = Name::from(IpAddr::V6(address));
        let answer = resolvers.lookup(&reverse, RecordType::PTR).await;
        let Some(message) = answer.conclusive() else {
            return base(
                Status::Error,
                format!("PTR lookup failed: {}", answer.describe()),
            );
        };
        let names: Vec<Name> = message
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::PTR(ptr) => Some(ptr.0.clone()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            return base(Status::Warn, format!("no PTR for {address}"))
                .hint(format!("publish a PTR for {address} in its ip6.arpa zone"))
                .evidence(json!({"reverse": display_name(&reverse), "answer": answer.describe()}));
        }
        for name in &names {
            let (_, forward) = resolvers.addresses_v6(name).await;
            if forward.records().contains(&address) {
                return base(
                    Status::Pass,
                    format!("PTR {} resolves back to {address}", display_name(name)),
                );
            }
        }
        let shown: Vec<String> = names.iter().map(display_name).collect();
        base(
            Status::Warn,
            format!(
                "PTR {} does not resolve back to {address}",
                shown.join(", ")
            ),
        )
        .hint("make the PTR name's AAAA include this address (forward-confirmed reverse DNS)")
    }
}

struct Dnssec;

impl Check for Dnssec {
    fn id(&self) -> &'static str {
        "dns.dnssec"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L4, 5))
    }
    /// Trusts the scan's resolver to validate, as a city's clients do: AD set is secure,
    /// SERVFAIL that clears with CD is bogus, an answer without AD is insecure.
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            let Some(canonical) = scan.facts.chain.last() else {
                return scan.skip(self.id(), "no name");
            };
            let Ok(name) = Name::from_str(&format!("{canonical}.")) else {
                return vec![scan.record(self.id(), Status::Error, "not a DNS name")];
            };
            let resolvers = &scan.network.resolvers;
            let record_type = if scan.facts.v6.records().is_empty() { RecordType::A } else { RecordType::AAAA };
            let dnssec_ok = Flags { dnssec_ok: true, checking_disabled: false };
            let answer = resolvers.lookup_with(&name, record_type, dnssec_ok).await;
            let signed = |m: &hickory_proto::op::Message| {
                m.answers.iter().any(|r| r.record_type() == RecordType::RRSIG)
            };
            let evidence = |extra: serde_json::Value| {
                json!({"name": canonical, "type": record_type.to_string(), "answer": answer.describe(), "more": extra})
            };
            let record = match answer.message() {
                Some(m) if m.metadata.response_code == ResponseCode::ServFail => {
                    let unchecked = Flags { dnssec_ok: true, checking_disabled: true };
                    let retry = resolvers.lookup_with(&name, record_type, unchecked).await;
                    match retry.rcode() {
                        Some(ResponseCode::NoError | ResponseCode::NXDomain) => scan
                            .record(self.id(), Status::Fail, format!("{canonical} is bogus: it fails DNSSEC validation"))
                            .hint("fix the zone's signatures or the DS at its parent: validating resolvers cannot reach this host")
                            .evidence(evidence(json!({"with_cd": retry.describe()}))),
                        _ => scan.record(self.id(), Status::Error, format!("the resolver fails for {canonical}: {}", retry.describe())),
                    }
                }
                // REFUSED, NOTIMP, FORMERR from the scanner's resolver: no verdict on the zone.
                Some(_) if answer.conclusive().is_none() => scan.record(
                    self.id(),
                    Status::Error,
                    format!("the resolver gave no answer for {canonical}: {}", answer.describe()),
                ),
                Some(m) if m.metadata.authentic_data => scan
                    .record(self.id(), Status::Pass, format!("{canonical} validates (secure)"))
                    .evidence(evidence(json!({"signed": signed(m)}))),
                Some(m) => scan
                    .record(self.id(), Status::Warn, format!("{canonical} is not validated (insecure)"))
                    .hint("sign the zone and publish its DS at the parent (Circular 32/2017 asks for DNSSEC)")
                    .evidence(evidence(json!({"signed": signed(m)}))),
                None => scan.record(self.id(), Status::Error, format!("lookup failed: {}", answer.describe())),
            };
            vec![record]
        }
        .boxed()
    }
}

struct V6Only;

impl Check for V6Only {
    fn id(&self) -> &'static str {
        "dns.v6_only"
    }
    fn gate(&self) -> Option<Gate> {
        Some(Gate::at(Level::L5, 2))
    }
    /// Every zone the host depends on (its own, its aliases', its mail exchangers' and its
    /// name servers') answers over IPv6, so a client with no IPv4 at all can resolve it.
    /// The root and top-level zones are left out: they are IPv6-ready, and out of scope.
    fn run<'a>(&'a self, scan: &'a HostScan<'a>) -> BoxFuture<'a, Vec<CheckRecord>> {
        async move {
            if scan.facts.v6.records().is_empty() {
                return scan.skip(self.id(), "no AAAA record");
            }
            let mut names: Vec<String> = scan.facts.chain.clone();
            if let Some(Mail::Exchangers { hosts, .. }) = &scan.facts.mail {
                names.extend(hosts.iter().map(|mx| mx.name.clone()));
            }
            for zone in scan.facts.zones.iter().flatten() {
                names.extend(zone.name_servers.iter().map(|ns| ns.name.clone()));
            }
            let resolvers = &scan.network.resolvers;
            let mut zones = std::collections::BTreeMap::new();
            for name in names {
                let Ok(name) = Name::from_str(&format!("{name}.")) else {
                    continue;
                };
                match resolvers.zone(&name).await {
                    Ok(zone) => {
                        zones.entry(zone.apex.clone()).or_insert(zone);
                    }
                    Err(why) => {
                        return vec![scan.record(
                            self.id(),
                            Status::Error,
                            format!("zone of {name} not found: {why}"),
                        )];
                    }
                }
            }
            let mut records = Vec::new();
            for (apex, zone) in zones {
                let Ok(apex_name) = Name::from_str(&format!("{apex}.")) else {
                    continue;
                };
                let mut answered = None;
                let mut refused = None;
                'servers: for ns in &zone.name_servers {
                    for address in scan.usable_v6(&ns.v6) {
                        let ip = IpAddr::V6(address);
                        match scan
                            .network
                            .ask_authoritative(SocketAddr::new(ip, 53), &apex_name, Transport::Udp)
                            .await
                        {
                            Ok(a) if a.message().is_some_and(|m| m.metadata.authoritative) => {
                                answered = Some(ns.name.clone());
                                break 'servers;
                            }
                            Ok(_) => {}
                            Err(why) => refused = Some(why.detail(ip)),
                        }
                    }
                    if let Resolution::Failed(why) = &ns.v6 {
                        refused = Some(format!("AAAA lookup of {} failed: {why}", ns.name));
                    }
                }
                if let (None, Some(why)) = (&answered, refused) {
                    records.push(
                        scan.record(self.id(), Status::Error, format!("zone {apex}: {why}"))
                            .evidence(json!({"zone": zone})),
                    );
                    continue;
                }
                let evidence = json!({"zone": zone});
                records.push(match answered {
                    Some(ns) => scan
                        .record(
                            self.id(),
                            Status::Pass,
                            format!("zone {apex} answers over IPv6 ({ns})"),
                        )
                        .evidence(evidence),
                    None => scan
                        .record(
                            self.id(),
                            Status::Fail,
                            format!("zone {apex} cannot be resolved without IPv4"),
                        )
                        .hint(format!(
                            "give a name server of {apex} an IPv6 address that answers for the zone"
                        ))
                        .evidence(evidence),
                });
            }
            records
        }
        .boxed()
    }
}
