//! The demo city's plan: which addresses each host and name server gets, which zone holds
//! each name, and which fault each host carries in each run. Pure data, decided from the
//! inventory alone, so the servers, the namespace and the tests all agree on one city.
//! The city has two address plans: its lab addresses in the demo's own namespace, or the
//! same city moved onto loopback ([`Addressing::Loopback`]) where no namespace is given.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sixfive_inventory::Inventory;
use sixfive_inventory::model::{Endpoint, Service, Stage};

/// The city's own domain; every host of the example lives under it.
pub const DOMAIN: &str = "danang.test";
/// The IPv4-only host that [`Fault::RedirectToV4Only`] sends users to.
pub const LEGACY: &str = "legacy.danang.test";
/// Runs the demo makes; the city fixes faults (and breaks one host) between them.
pub const RUNS: u32 = 3;

/// A name server: its name, its IPv6 address if it has one, its IPv4 address.
pub type NameServer = (&'static str, Option<Ipv6Addr>, Ipv4Addr);

/// Name servers: two that serve both families, and one on IPv4 alone for the zones whose
/// name servers have no AAAA (a district that runs its own old DNS box).
const NS: [NameServer; 3] = [
    (
        "ns1.danang.test",
        Some(Ipv6Addr::new(0xfd00, 0x53, 0, 0, 0, 0, 0, 1)),
        Ipv4Addr::new(198, 18, 0, 1),
    ),
    (
        "ns2.danang.test",
        Some(Ipv6Addr::new(0xfd00, 0x53, 0, 0, 0, 0, 0, 2)),
        Ipv4Addr::new(198, 18, 0, 2),
    ),
    ("ns-v4.danang.test", None, Ipv4Addr::new(198, 18, 0, 3)),
];
/// Zones whose name servers have no AAAA until the run in the second field (never: past
/// [`RUNS`]).
const V4_ONLY_ZONES: [(&str, u32); 2] = [("dotr.danang.test", 3), ("hoavang.danang.test", 99)];

/// The faults real cities have, one per host at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// No AAAA at all.
    Ipv4Only,
    /// An AAAA whose address nothing listens on.
    DeadAaaa,
    /// An AAAA that is an IPv4-mapped address (bogus: it leaves over IPv4).
    MappedAaaa,
    /// Another page over IPv6 (a forgotten default vhost).
    OtherContentV6,
    /// Another certificate over IPv6, from a CA nobody trusts.
    WrongCertV6,
    /// The home page redirects to a host with no IPv6.
    RedirectToV4Only,
    /// The host's other TCP services (or SMTP) listen on IPv4 only.
    PortV4Only,
}

/// One host of the city.
#[derive(Debug, Clone)]
pub struct HostPlan {
    pub fqdn: String,
    pub v6: Ipv6Addr,
    pub v4: Ipv4Addr,
    pub services: Vec<Service>,
    pub stage: Stage,
    /// The fault of the first run, the run that fixes it (past [`RUNS`] when never), and
    /// the run from which a fault appears on a host that had none (a regression).
    pub fault: Option<Fault>,
    pub fixed_in: u32,
    pub regresses_in: Option<u32>,
}

impl HostPlan {
    /// The fault this host carries in `run` (1-based).
    pub fn fault_in(&self, run: u32) -> Option<Fault> {
        match (self.fault, self.regresses_in) {
            (Some(fault), _) if run < self.fixed_in => Some(fault),
            (None, Some(from)) if run >= from => Some(Fault::WrongCertV6),
            _ => None,
        }
    }

    pub fn has(&self, service: Service) -> bool {
        self.services.contains(&service)
    }

    /// Whether the host serves web pages (the checks probe 80 and 443 on any web host).
    pub fn web(&self) -> bool {
        self.has(Service::Http) || self.has(Service::Https)
    }
}

/// Where the city's addresses are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// The lab's ULA and 198.18.0.0/15 addresses, on the loopback of the demo's own
    /// network namespace.
    Namespace,
    /// The machine's own loopback, for a user whom the kernel gives no namespace: every
    /// IPv6 address is ::1, and 198.18.a.b is 127.64.a.b (all of 127.0.0.0/8 is local).
    Loopback,
}

impl Addressing {
    /// Where the lab address `address` is in this plan.
    pub fn place(self, address: IpAddr) -> IpAddr {
        match (self, address) {
            (Addressing::Namespace, _) => address,
            (Addressing::Loopback, IpAddr::V6(_)) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            (Addressing::Loopback, IpAddr::V4(v4)) => {
                let [_, b, c, d] = v4.octets();
                // 198.18.0.0/15 onto 127.64.0.0/15.
                IpAddr::V4(Ipv4Addr::new(127, 64 + (b & 1), c, d))
            }
        }
    }

    fn place_v6(self, address: Ipv6Addr) -> Ipv6Addr {
        match self.place(IpAddr::V6(address)) {
            IpAddr::V6(v6) => v6,
            IpAddr::V4(_) => unreachable!("IPv6 stays IPv6"),
        }
    }

    fn place_v4(self, address: Ipv4Addr) -> Ipv4Addr {
        match self.place(IpAddr::V4(address)) {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => unreachable!("IPv4 stays IPv4"),
        }
    }
}

/// The whole city: hosts, the IPv4-only redirect target, name servers, sites' addresses,
/// resolvers, all in one [`Addressing`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub addressing: Addressing,
    pub hosts: Vec<HostPlan>,
    pub legacy_v4: Ipv4Addr,
    pub name_servers: Vec<NameServer>,
    pub resolvers: Vec<IpAddr>,
    pub site_addresses: Vec<IpAddr>,
}

/// FNV-1a: a stable hash (std's is randomised per process), so every run of the demo
/// builds the same city.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Plan {
    /// The city of `inventory` at the addresses of `addressing`; the example inventory
    /// holds lab addresses, which [`Addressing::place`] moves.
    pub fn of(inventory: &Inventory, addressing: Addressing) -> Self {
        let v6 = |address| addressing.place_v6(address);
        let v4 = |address| addressing.place_v4(address);
        // Faults are handed out in hash order, each stage going round its list of kinds,
        // so every kind shows however the names hash.
        let mut order: Vec<(u64, usize)> = (inventory.hosts.iter().enumerate())
            .map(|(i, host)| (stable_hash(&host.fqdn), i))
            .collect();
        order.sort_unstable();
        let mut turns: HashMap<Stage, usize> = HashMap::new();
        let mut faults = vec![(None, RUNS + 1); inventory.hosts.len()];
        for (hash, i) in order {
            let host = &inventory.hosts[i];
            let turn = turns.entry(host.stage).or_default();
            faults[i] = fault_for(host.stage, &host.services, hash, turn);
        }
        let mut hosts: Vec<HostPlan> = inventory
            .hosts
            .iter()
            .zip(faults)
            .enumerate()
            .map(|(i, (host, (fault, fixed_in)))| {
                let n = u16::try_from(i + 1).expect("the demo city has few hosts");
                HostPlan {
                    fqdn: host.fqdn.clone(),
                    v6: v6(Ipv6Addr::new(0xfd00, 0x64, 0, 0, 0, 0, 0, 0x100 + n)),
                    v4: v4(Ipv4Addr::new(198, 18, 64, n.to_be_bytes()[1])),
                    services: host.services.clone(),
                    stage: host.stage,
                    fault,
                    fixed_in,
                    regresses_in: None,
                }
            })
            .collect();
        // One ready host breaks in the last run (a certificate swapped on the IPv6 front
        // end only), so the demo has a regression to show.
        if let Some(host) = hosts
            .iter_mut()
            .filter(|h| h.stage == Stage::DualStack && h.fault.is_none() && h.has(Service::Https))
            .min_by_key(|h| stable_hash(&h.fqdn))
        {
            host.regresses_in = Some(RUNS);
        }
        let site_addresses = inventory
            .sites
            .iter()
            .flat_map(|site| site.address.iter())
            .filter_map(|endpoint| match endpoint {
                Endpoint::Ip(ip) => Some(addressing.place(*ip)),
                Endpoint::Name(_) => None,
            })
            .collect();
        let resolvers = inventory.scan.resolvers.iter();
        Self {
            addressing,
            hosts,
            legacy_v4: v4(Ipv4Addr::new(198, 18, 64, 250)),
            name_servers: NS
                .iter()
                .map(|&(name, address6, address4)| (name, address6.map(v6), v4(address4)))
                .collect(),
            resolvers: resolvers.map(|r| addressing.place(r.0.ip())).collect(),
            site_addresses,
        }
    }

    /// Every address the namespace's loopback must hold.
    pub fn addresses(&self) -> BTreeSet<IpAddr> {
        let hosts = self
            .hosts
            .iter()
            .flat_map(|h| [IpAddr::V6(h.v6), IpAddr::V4(h.v4)]);
        hosts
            .chain(self.dns_addresses())
            .chain([IpAddr::V4(self.legacy_v4)])
            .chain(self.site_addresses.iter().copied())
            .collect()
    }

    /// Where the DNS server listens: the scan's resolvers and every name server.
    pub fn dns_addresses(&self) -> BTreeSet<IpAddr> {
        let ns = self
            .name_servers
            .iter()
            .flat_map(|(_, v6, v4)| v6.map(IpAddr::V6).into_iter().chain([IpAddr::V4(*v4)]));
        self.resolvers.iter().copied().chain(ns).collect()
    }

    /// The reverse zones of the hosts' addresses: their IPv6 /64 and IPv4 /24 (the
    /// legacy host's too).
    pub fn reverse_zones(&self) -> [String; 2] {
        let host = self.hosts.first().expect("the demo city has hosts");
        let parent = |address: IpAddr, labels: usize| {
            let name = hickory_server::proto::rr::Name::from(address).to_string();
            let mut rest = name.trim_end_matches('.').splitn(labels + 1, '.');
            rest.nth(labels).expect("a reverse name is long").to_owned()
        };
        [
            parent(IpAddr::V6(host.v6), 16),
            parent(IpAddr::V4(host.v4), 1),
        ]
    }

    /// The zones: the city's, and one per name below it that holds other hosts (an
    /// agency's or a district's own zone, `dict.danang.test`).
    pub fn zones(&self) -> BTreeSet<String> {
        let suffix = format!(".{DOMAIN}");
        let mut zones: BTreeSet<String> = self
            .hosts
            .iter()
            .filter_map(|h| h.fqdn.strip_suffix(&suffix))
            .filter_map(|rest| rest.rsplit_once('.').map(|(_, label)| label))
            .map(|label| format!("{label}{suffix}"))
            .collect();
        zones.insert(DOMAIN.to_owned());
        zones
    }

    /// Whether `zone`'s name servers have AAAA in `run`.
    pub fn zone_ns_v6(zone: &str, run: u32) -> bool {
        V4_ONLY_ZONES
            .iter()
            .all(|(name, fixed_in)| *name != zone || run >= *fixed_in)
    }
}

/// The zone that holds `name`: the longest of `zones` it ends in.
pub fn zone_of<'a>(name: &str, zones: &'a BTreeSet<String>) -> Option<&'a str> {
    zones
        .iter()
        .filter(|zone| name == zone.as_str() || name.ends_with(&format!(".{zone}")))
        .max_by_key(|zone| zone.len())
        .map(String::as_str)
}

/// A host's first fault and the run that fixes it, by its stage and hash: a host
/// planned for IPv6 has none yet, one in progress often has a half-done setup, a
/// dual-stack one sometimes a leftover; IPv6-only hosts are clean. `turn` counts the
/// faults its stage has handed out, to go round the kinds.
fn fault_for(
    stage: Stage,
    services: &[Service],
    hash: u64,
    turn: &mut usize,
) -> (Option<Fault>, u32) {
    let web = services.contains(&Service::Https);
    let other_port = services
        .iter()
        .any(|s| matches!(s, Service::Tcp(_) | Service::Smtp));
    let mut pick = |choices: &[Fault]| {
        let usable: Vec<Fault> = choices
            .iter()
            .copied()
            .filter(|fault| match fault {
                Fault::OtherContentV6 | Fault::WrongCertV6 | Fault::RedirectToV4Only => web,
                Fault::PortV4Only => other_port,
                _ => true,
            })
            .collect();
        *turn += 1;
        usable[(*turn - 1) % usable.len()]
    };
    let never = RUNS + 1;
    match stage {
        Stage::Ipv6Only => (None, never),
        Stage::Exempt => (Some(Fault::Ipv4Only), never),
        // A quarter of planned hosts gets its AAAA by the second run.
        Stage::Planned => (
            Some(Fault::Ipv4Only),
            if hash.is_multiple_of(4) { 2 } else { never },
        ),
        Stage::InProgress if hash.is_multiple_of(5) => (None, never),
        Stage::InProgress => (
            Some(pick(&[
                Fault::DeadAaaa,
                Fault::MappedAaaa,
                Fault::OtherContentV6,
                Fault::WrongCertV6,
                Fault::PortV4Only,
                Fault::Ipv4Only,
            ])),
            2 + (hash % 3) as u32,
        ),
        Stage::DualStack if hash.is_multiple_of(3) => (
            Some(pick(&[
                Fault::OtherContentV6,
                Fault::WrongCertV6,
                Fault::RedirectToV4Only,
                Fault::PortV4Only,
            ])),
            2 + (hash % 4) as u32,
        ),
        Stage::DualStack => (None, never),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Plan {
        Plan::of(&crate::example::inventory(), Addressing::Namespace)
    }

    #[test]
    fn every_address_is_in_the_lab_ranges_and_unique_per_host() {
        let plan = example();
        let ula: ipnet::IpNet = "fd00::/8".parse().unwrap();
        let bench: ipnet::IpNet = "198.18.0.0/15".parse().unwrap();
        assert!(
            plan.addresses()
                .iter()
                .all(|a| ula.contains(a) || bench.contains(a))
        );
        let mut seen = BTreeSet::new();
        for host in &plan.hosts {
            assert!(seen.insert(host.v6), "{}", host.fqdn);
        }
        assert_eq!(
            plan.reverse_zones(),
            [
                "0.0.0.0.0.0.0.0.4.6.0.0.0.0.d.f.ip6.arpa",
                "64.18.198.in-addr.arpa"
            ]
        );
    }

    /// The loopback plan is the same city, on ::1 and each host on an IPv4 of its own.
    #[test]
    fn the_loopback_plan_moves_the_city_onto_loopback_alone() {
        let inventory = crate::example::inventory();
        let plan = Plan::of(&inventory, Addressing::Loopback);
        assert!(plan.addresses().iter().all(IpAddr::is_loopback));
        let v4: BTreeSet<Ipv4Addr> = plan.hosts.iter().map(|h| h.v4).collect();
        assert_eq!(v4.len(), plan.hosts.len());
        assert!(plan.hosts.iter().all(|h| h.v6 == Ipv6Addr::LOCALHOST));
        let lab = example();
        for (moved, host) in plan.hosts.iter().zip(&lab.hosts) {
            assert_eq!((moved.fault, moved.fixed_in), (host.fault, host.fixed_in));
        }
        assert_eq!(
            Addressing::Loopback.place("198.19.5.7".parse().unwrap()),
            "127.65.5.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            plan.reverse_zones(),
            [
                "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
                "64.64.127.in-addr.arpa"
            ]
        );
    }

    #[test]
    fn faults_follow_the_stage_and_some_are_fixed_between_runs() {
        let plan = example();
        for host in &plan.hosts {
            match host.stage {
                Stage::Ipv6Only => assert_eq!(host.fault, None, "{}", host.fqdn),
                Stage::Planned | Stage::Exempt => {
                    assert_eq!(host.fault, Some(Fault::Ipv4Only), "{}", host.fqdn)
                }
                _ => {}
            }
        }
        for kind in [
            Fault::Ipv4Only,
            Fault::DeadAaaa,
            Fault::MappedAaaa,
            Fault::OtherContentV6,
            Fault::WrongCertV6,
            Fault::RedirectToV4Only,
            Fault::PortV4Only,
        ] {
            assert!(
                plan.hosts.iter().any(|h| h.fault_in(1) == Some(kind)),
                "{kind:?}"
            );
        }
        let faulty = |run| {
            plan.hosts
                .iter()
                .filter(|h| h.fault_in(run).is_some())
                .count()
        };
        assert!(
            faulty(1) > faulty(2) && faulty(2) > faulty(RUNS),
            "fixes between runs"
        );
        let regressed: Vec<_> = plan
            .hosts
            .iter()
            .filter(|h| h.regresses_in.is_some())
            .collect();
        assert_eq!(regressed.len(), 1);
        assert_eq!(regressed[0].fault_in(RUNS), Some(Fault::WrongCertV6));
    }

    #[test]
    fn internal_names_get_their_agency_zone() {
        let plan = example();
        let zones = plan.zones();
        assert_eq!(
            zone_of("lgsp.dict.danang.test", &zones),
            Some("dict.danang.test")
        );
        assert_eq!(zone_of("portal.danang.test", &zones), Some("danang.test"));
        assert_eq!(
            zone_of("hoavang.danang.test", &zones),
            Some("hoavang.danang.test")
        );
        assert!(!Plan::zone_ns_v6("hoavang.danang.test", RUNS));
        assert!(Plan::zone_ns_v6("danang.test", 1));
    }
}
