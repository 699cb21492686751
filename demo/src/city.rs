//! The running demo city: its name servers, web, mail and TCP listeners and SNMP routers,
//! set for one run at a time. Between runs [`City::set_run`] brings the servers to the
//! next run's plan (faults fixed, one regression, a site's uplink back), and the inventory
//! the demo scans is the example's, adapted by [`adapt`] to the lab it runs in. Each
//! listener serves the hosts a run routes to it: one at an address of its own in the
//! namespace, every host at the loopback plan's shared ::1.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use sixfive_inventory::Inventory;
use sixfive_inventory::model::{Endpoint, Endpoints, Rate, Service, SnmpVersion, Timeout};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::Routes;
use crate::dns::{self, Dns};
use crate::plan::{Addressing, Fault, HostPlan, LEGACY, Plan, RUNS};
use crate::ports::Ports;
use crate::snmp::{self, Condition, Router};
use crate::web::{self, Cert, Page, Pki, PkiError, Vhost};

#[derive(Debug, thiserror::Error)]
pub enum CityError {
    #[error("cannot listen at {at}: {source}")]
    Listen {
        at: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("cannot read the demo's SNMP community: {0}")]
    Community(std::io::Error),
    #[error("no recording of profile {profile}: {why}")]
    Recording { profile: String, why: String },
}

/// What one listener serves one host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Serve {
    Web {
        page: Page,
        cert: Option<Cert>,
    },
    Smtp,
    /// Any other TCP service: accepted and closed, which is all a port check asks.
    Tcp,
}

/// The protocol a listener speaks, whichever hosts it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Web { tls: bool },
    Smtp,
    Tcp,
}

impl Serve {
    fn kind(&self) -> Kind {
        match self {
            Serve::Web { cert, .. } => Kind::Web {
                tls: cert.is_some(),
            },
            Serve::Smtp => Kind::Smtp,
            Serve::Tcp => Kind::Tcp,
        }
    }
}

/// What a run wants served at each address and well-known port, by host.
type Wanted = HashMap<SocketAddr, BTreeMap<String, Serve>>;

/// A bound listener and the routes its task reads.
struct Listener {
    routes: Table,
    task: JoinHandle<()>,
}

/// What a listener's task reads, per connection, to choose the host it serves.
enum Table {
    Web(Routes<Vhost>),
    Smtp(Routes<()>),
    Tcp,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How a site's router answers in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SiteCase {
    Healthy,
    Fair,
    Poor,
    UplinkDown,
    NoWanIpv6,
    /// A router configured with another community: the poller's requests go unanswered.
    WrongCommunity,
}

impl SiteCase {
    /// The case of the `index`th site in `run`: mostly healthy, a few weak signals, and
    /// one of each failure; the uplink comes back in the last run.
    fn of(index: usize, run: u32) -> Self {
        match index {
            3 if run < RUNS => SiteCase::UplinkDown,
            6 => SiteCase::NoWanIpv6,
            10 => SiteCase::WrongCommunity,
            1 | 8 | 13 => SiteCase::Fair,
            5 | 15 => SiteCase::Poor,
            _ => SiteCase::Healthy,
        }
    }

    fn condition(self) -> Condition {
        match self {
            SiteCase::Healthy | SiteCase::WrongCommunity => Condition::Healthy,
            SiteCase::Fair => Condition::Fair,
            SiteCase::Poor => Condition::Poor,
            SiteCase::UplinkDown => Condition::UplinkDown,
            SiteCase::NoWanIpv6 => Condition::NoWanIpv6,
        }
    }
}

struct SiteRouters {
    profile: String,
    case: SiteCase,
    routers: Vec<Router>,
}

/// The city's servers; dropping it stops them all.
pub struct City {
    plan: Plan,
    pki: Pki,
    dns: Dns,
    /// Keyed by address and well-known port, whatever port the loopback plan bound.
    listeners: HashMap<SocketAddr, Listener>,
    /// The loopback plan's port for each well-known one (none in the namespace).
    ports: HashMap<u16, u16>,
    sites: Vec<SiteRouters>,
}

impl City {
    /// Starts the city of `inventory` as it is in the first run. In the namespace plan its
    /// addresses must be on the namespace's loopback already; in the loopback plan each
    /// service takes ports free on every address it needs ([`City::ports`]), and each
    /// site's router a port of its own, written into the site's `snmp.port`.
    pub async fn start(inventory: &mut Inventory, plan: Plan, pki: Pki) -> Result<Self, CityError> {
        let loopback = plan.addressing == Addressing::Loopback;
        let mut free = Ports::default();
        let dns_at = plan.dns_addresses();
        let listen = |source| CityError::Listen {
            at: SocketAddr::new(*dns_at.first().expect("the city has name servers"), 53),
            source,
        };
        let mut ports = HashMap::new();
        let dns = if loopback {
            let serve = |port| dns::serve(dns_at.iter().copied(), port, dns::catalog(&plan, 1));
            let (port, dns) = free.bind("DNS", serve).await.map_err(listen)?;
            ports.insert(53, port);
            dns
        } else {
            let catalog = dns::catalog(&plan, 1);
            dns::serve(dns_at.iter().copied(), 53, catalog)
                .await
                .map_err(listen)?
        };
        let mut city = Self {
            plan,
            pki,
            dns,
            listeners: HashMap::new(),
            ports,
            sites: Vec::new(),
        };
        for (index, site) in inventory.sites.iter_mut().enumerate() {
            let case = SiteCase::of(index, 1);
            let community = match &site.snmp.community_file {
                Some(file) => std::fs::read_to_string(file.path())
                    .map_err(CityError::Community)?
                    .trim()
                    .to_owned(),
                None => String::new(),
            };
            let community = if case == SiteCase::WrongCommunity {
                format!("{community}-old")
            } else {
                community
            };
            let addresses: Vec<IpAddr> = site
                .address
                .iter()
                .filter_map(|endpoint| match endpoint {
                    Endpoint::Ip(ip) => Some(*ip),
                    Endpoint::Name(_) => None,
                })
                .collect();
            let profile = site.profile.clone();
            let recorded = recording(&profile, case)?;
            let routers = |port| {
                let (community, recorded, addresses) = (&community, &recorded, &addresses);
                async move {
                    let mut routers = Vec::new();
                    for ip in addresses {
                        let at = SocketAddr::new(*ip, port);
                        routers.push(snmp::spawn(at, community.clone(), recorded.clone()).await?);
                    }
                    Ok(routers)
                }
            };
            let routers = match addresses.first() {
                // A site named only by DNS names has no router of the demo's.
                None => Vec::new(),
                Some(&first) if loopback => {
                    let at = SocketAddr::new(first, site.snmp.port);
                    let (port, routers) = free
                        .bind(&format!("site {}'s SNMP", site.id), routers)
                        .await
                        .map_err(|source| CityError::Listen { at, source })?;
                    site.snmp.port = port;
                    routers
                }
                Some(&first) => routers(site.snmp.port).await.map_err(|source| {
                    let at = SocketAddr::new(first, site.snmp.port);
                    CityError::Listen { at, source }
                })?,
            };
            city.sites.push(SiteRouters {
                profile,
                case,
                routers,
            });
        }
        if loopback {
            city.bind_every_run(&mut free).await?;
        }
        city.set_run(1).await?;
        Ok(city)
    }

    /// Where the loopback plan listens for each well-known port (443 → 20443): empty in
    /// the namespace, where every service has its own.
    pub fn ports(&self) -> &HashMap<u16, u16> {
        &self.ports
    }

    /// What `run` wants served, by address and well-known port.
    fn wanted(&self, run: u32) -> Wanted {
        let mut wanted = Wanted::new();
        let legacy = (
            SocketAddr::new(IpAddr::V4(self.plan.legacy_v4), 443),
            LEGACY.to_owned(),
            web_serve(Page::Home, true),
        );
        let hosts = self.plan.hosts.iter().flat_map(|host| {
            let at = listeners(host, run);
            at.into_iter()
                .map(|(at, serve)| (at, host.fqdn.clone(), serve))
        });
        for (at, host, serve) in hosts.chain([legacy]) {
            wanted.entry(at).or_default().insert(host, serve);
        }
        wanted
    }

    /// Binds, once for the whole demo, every listener the loopback plan needs in any
    /// run, each well-known port on a port free at every address that serves it: between
    /// runs only the routes change, so no port is given up for another process to take.
    async fn bind_every_run(&mut self, free: &mut Ports) -> Result<(), CityError> {
        let mut by_port: BTreeMap<u16, (Kind, BTreeSet<IpAddr>)> = BTreeMap::new();
        for run in 1..=RUNS {
            for (at, serves) in self.wanted(run) {
                let kind = serves
                    .values()
                    .next()
                    .expect("a wanted listener serves")
                    .kind();
                let (_, addresses) = by_port.entry(at.port()).or_insert((kind, BTreeSet::new()));
                addresses.insert(at.ip());
            }
        }
        for (well_known, (kind, addresses)) in by_port {
            let bind = |port| {
                let addresses = &addresses;
                async move {
                    let mut bound = Vec::new();
                    for ip in addresses {
                        bound.push((*ip, TcpListener::bind((*ip, port)).await?));
                    }
                    Ok(bound)
                }
            };
            let at = SocketAddr::new(*addresses.first().expect("bound somewhere"), well_known);
            let (port, bound) = free
                .bind(&format!("port {well_known}"), bind)
                .await
                .map_err(|source| CityError::Listen { at, source })?;
            self.ports.insert(well_known, port);
            for (ip, listener) in bound {
                self.listeners
                    .insert(SocketAddr::new(ip, well_known), spawn(listener, kind));
            }
        }
        Ok(())
    }

    /// Brings every server to the plan of `run` (1-based).
    pub async fn set_run(&mut self, run: u32) -> Result<(), CityError> {
        self.dns.zones.set(dns::catalog(&self.plan, run)).await;
        let wanted = self.wanted(run);
        let gone: Vec<SocketAddr> = (self.listeners.keys())
            .filter(|at| !wanted.contains_key(at))
            .copied()
            .collect();
        for at in gone {
            match self.plan.addressing {
                // Nothing listens there any more: connections are refused.
                Addressing::Namespace => drop(self.listeners.remove(&at)),
                // ::1 is every host's: the listener stays, serving no host.
                Addressing::Loopback => self.route(at, &BTreeMap::new())?,
            }
        }
        for (at, serves) in wanted {
            if !self.listeners.contains_key(&at) {
                let kind = serves
                    .values()
                    .next()
                    .expect("a wanted listener serves")
                    .kind();
                let port = self.ports.get(&at.port()).copied().unwrap_or(at.port());
                let bound = SocketAddr::new(at.ip(), port);
                let listener = bind_again(bound)
                    .await
                    .map_err(|source| CityError::Listen { at: bound, source })?;
                self.listeners.insert(at, spawn(listener, kind));
            }
            self.route(at, &serves)?;
        }
        for (index, site) in self.sites.iter_mut().enumerate() {
            let case = SiteCase::of(index, run);
            if case != site.case {
                for router in &site.routers {
                    router.set(recording(&site.profile, case)?);
                }
                site.case = case;
            }
        }
        Ok(())
    }

    /// Gives the listener at `at` the hosts it serves now.
    fn route(&self, at: SocketAddr, serves: &BTreeMap<String, Serve>) -> Result<(), CityError> {
        let Some(listener) = self.listeners.get(&at) else {
            return Ok(());
        };
        match &listener.routes {
            Table::Web(routes) => {
                let mut vhosts = BTreeMap::new();
                for (host, serve) in serves {
                    if let Serve::Web { page, cert, .. } = serve {
                        let tls = cert.map(|cert| self.pki.config(host, cert)).transpose()?;
                        let page = page.clone();
                        vhosts.insert(host.clone(), Vhost { page, tls });
                    }
                }
                routes.set(vhosts);
            }
            Table::Smtp(routes) => routes.set(serves.keys().map(|h| (h.clone(), ())).collect()),
            Table::Tcp => {}
        }
        Ok(())
    }
}

/// Binds `at`, which a listener of the last run may have held until a moment ago: its
/// task lets go of the socket as it ends, so a busy address is tried again briefly.
async fn bind_again(at: SocketAddr) -> std::io::Result<TcpListener> {
    let mut tries = 0;
    loop {
        match TcpListener::bind(at).await {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 50 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            bound => return bound,
        }
    }
}

/// Serves `listener` as `kind`, with no host to serve until routed.
fn spawn(listener: TcpListener, kind: Kind) -> Listener {
    let (routes, task) = match kind {
        Kind::Web { tls } => {
            let routes = Routes::default();
            let task = tokio::spawn(web::serve(listener, routes.clone(), tls));
            (Table::Web(routes), task)
        }
        Kind::Smtp => {
            let routes = Routes::default();
            let task = tokio::spawn(crate::smtp::serve(listener, routes.clone()));
            (Table::Smtp(routes), task)
        }
        Kind::Tcp => {
            let task = tokio::spawn(async move { while listener.accept().await.is_ok() {} });
            (Table::Tcp, task)
        }
    };
    Listener { routes, task }
}

fn recording(profile: &str, case: SiteCase) -> Result<snmp::Recording, CityError> {
    snmp::recording(profile, case.condition()).map_err(|why| CityError::Recording {
        profile: profile.to_owned(),
        why: why.to_string(),
    })
}

fn web_serve(page: Page, tls: bool) -> Serve {
    Serve::Web {
        page,
        cert: tls.then_some(Cert::Trusted),
    }
}

/// The listeners of `host` in `run`, on each address its DNS records lead to.
fn listeners(host: &HostPlan, run: u32) -> Vec<(SocketAddr, Serve)> {
    let now = host.fault_in(run);
    let v6_served = !matches!(
        now,
        Some(Fault::Ipv4Only | Fault::MappedAaaa | Fault::DeadAaaa)
    );
    let mut out = Vec::new();
    let families = [(IpAddr::V4(host.v4), false), (IpAddr::V6(host.v6), true)];
    for (address, v6) in families.into_iter().filter(|(_, v6)| !v6 || v6_served) {
        let at = |port| SocketAddr::new(address, port);
        // The faults below show over IPv6 alone; a redirect shows over both.
        let fault = if v6 { now } else { None };
        let https = host.has(Service::Https);
        if host.web() {
            // Port 80 sends users to HTTPS where there is HTTPS, as a city's sites do.
            let plain = if https {
                Page::Redirect(format!("https://{}/", host.fqdn))
            } else {
                Page::Home
            };
            out.push((at(80), web_serve(plain, false)));
        }
        if https {
            let page = match (fault, now) {
                (Some(Fault::OtherContentV6), _) => Page::Other,
                (_, Some(Fault::RedirectToV4Only)) => Page::Redirect(format!("https://{LEGACY}/")),
                _ => Page::Home,
            };
            let cert = match fault {
                Some(Fault::WrongCertV6) => Cert::SelfSigned,
                _ => Cert::Trusted,
            };
            let serve = Serve::Web {
                page,
                cert: Some(cert),
            };
            out.push((at(443), serve));
        }
        if fault == Some(Fault::PortV4Only) {
            continue;
        }
        for service in &host.services {
            match service {
                Service::Smtp => out.push((at(25), Serve::Smtp)),
                Service::Tcp(port) => out.push((at(*port), Serve::Tcp)),
                Service::Http | Service::Https => {}
            }
        }
    }
    out
}

/// The example inventory as the demo scans it, in its private lab:
/// - every host `internal`, because the lab's IPv6 addresses are ULA, which a public
///   host must not publish (dns.aaaa_global would call every one of them BROKEN);
/// - the demo CA trusted, through `ca_file`;
/// - short timeouts and a lab's rate, so three runs take seconds (nothing here is far);
/// - the SNMPv3 sites polled over v2c with the others' community, as the demo's
///   responders speak v2c;
/// - in the loopback plan, resolvers, sites and scope on loopback (the ports are the
///   scan's loopback setting's and [`City::start`]'s to move).
pub fn adapt(inventory: &mut Inventory, ca_file: PathBuf, plan: &Plan) {
    for host in &mut inventory.hosts {
        host.internal = true;
    }
    let place = |ip| plan.addressing.place(ip);
    if plan.addressing == Addressing::Loopback {
        for site in &mut inventory.sites {
            let mut moved: Vec<Endpoint> = Vec::new();
            for endpoint in site.address.iter() {
                let endpoint = match endpoint {
                    Endpoint::Ip(ip) => Endpoint::Ip(place(*ip)),
                    name => name.clone(),
                };
                if !moved.contains(&endpoint) {
                    moved.push(endpoint);
                }
            }
            site.address = Endpoints::Many(moved);
        }
        let scan = &mut inventory.scan;
        for resolver in &mut scan.resolvers {
            resolver.0.set_ip(place(resolver.0.ip()));
        }
        scan.scope = ["127.0.0.0/8", "::1/128"]
            .map(|net| net.parse().expect("a prefix"))
            .to_vec();
    }
    let scan = &mut inventory.scan;
    scan.ca_file = Some(ca_file);
    let short = |ms| Timeout(Duration::from_millis(ms));
    scan.timeouts.dns = short(1000);
    scan.timeouts.connect = short(1000);
    scan.timeouts.http = short(2000);
    scan.timeouts.smtp = short(2000);
    // A router that does not answer (the wrong community) costs two tries per family.
    scan.timeouts.snmp = short(300);
    scan.rate = Rate(20_000);
    scan.concurrency = 512;
    let v2c = inventory
        .sites
        .iter()
        .find(|site| site.snmp.version == SnmpVersion::V2c)
        .map(|site| site.snmp.clone());
    if let Some(v2c) = v2c {
        for site in &mut inventory.sites {
            if site.snmp.version == SnmpVersion::V3 {
                site.snmp = v2c.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_decide_what_listens_over_ipv6() {
        let plan = Plan::of(&crate::example::inventory(), Addressing::Namespace);
        for host in &plan.hosts {
            let on_v6: Vec<(SocketAddr, Serve)> = listeners(host, 1)
                .into_iter()
                .filter(|(at, _)| at.is_ipv6())
                .collect();
            let v4: Vec<(SocketAddr, Serve)> = listeners(host, 1)
                .into_iter()
                .filter(|(at, _)| at.is_ipv4())
                .collect();
            let port = |list: &[(SocketAddr, Serve)], port| {
                list.iter()
                    .find(|(at, _)| at.port() == port)
                    .map(|(_, s)| s.clone())
            };
            match host.fault_in(1) {
                Some(Fault::Ipv4Only | Fault::DeadAaaa | Fault::MappedAaaa) => {
                    assert!(on_v6.is_empty(), "{}", host.fqdn)
                }
                Some(Fault::OtherContentV6) => {
                    assert!(matches!(
                        port(&on_v6, 443),
                        Some(Serve::Web {
                            page: Page::Other,
                            ..
                        })
                    ));
                    assert!(matches!(
                        port(&v4, 443),
                        Some(Serve::Web {
                            page: Page::Home,
                            ..
                        })
                    ));
                }
                Some(Fault::WrongCertV6) => {
                    assert!(matches!(
                        port(&on_v6, 443),
                        Some(Serve::Web {
                            cert: Some(Cert::SelfSigned),
                            ..
                        })
                    ));
                    assert!(matches!(
                        port(&v4, 443),
                        Some(Serve::Web {
                            cert: Some(Cert::Trusted),
                            ..
                        })
                    ));
                }
                Some(Fault::RedirectToV4Only) => {
                    assert!(matches!(
                        port(&on_v6, 443),
                        Some(Serve::Web {
                            page: Page::Redirect(_),
                            ..
                        })
                    ));
                }
                Some(Fault::PortV4Only) => assert!(on_v6.len() < v4.len(), "{}", host.fqdn),
                None => assert_eq!(on_v6.len(), v4.len(), "{}", host.fqdn),
            }
        }
    }

    #[test]
    fn the_demo_inventory_trusts_its_ca_and_polls_every_site_over_v2c() {
        let mut inventory = crate::example::inventory();
        let plan = Plan::of(&inventory, Addressing::Namespace);
        adapt(&mut inventory, "/tmp/ca.pem".into(), &plan);
        assert!(inventory.hosts.iter().all(|h| h.internal));
        assert_eq!(
            inventory.scan.ca_file.as_deref(),
            Some(std::path::Path::new("/tmp/ca.pem"))
        );
        assert!(
            inventory
                .sites
                .iter()
                .all(|s| s.snmp.version == SnmpVersion::V2c)
        );
        let cases: Vec<SiteCase> = (0..inventory.sites.len())
            .map(|i| SiteCase::of(i, 1))
            .collect();
        for case in [
            SiteCase::UplinkDown,
            SiteCase::NoWanIpv6,
            SiteCase::WrongCommunity,
            SiteCase::Poor,
        ] {
            assert!(cases.contains(&case), "{case:?}");
        }
    }

    /// On loopback, what the scan asks and polls is on loopback, and only there in scope.
    #[test]
    fn the_loopback_inventory_asks_and_polls_loopback_alone() {
        let mut inventory = crate::example::inventory();
        let plan = Plan::of(&inventory, Addressing::Loopback);
        adapt(&mut inventory, "/tmp/ca.pem".into(), &plan);
        let scan = &inventory.scan;
        assert!(scan.resolvers.iter().all(|r| r.0.ip().is_loopback()));
        assert!(scan.resolvers.iter().all(|r| r.0.port() == 53));
        let loopback = |ip: &IpAddr| ip.is_loopback();
        assert!(scan.scope.iter().all(|net| loopback(&net.network())));
        for site in &inventory.sites {
            let addresses: Vec<&Endpoint> = site.address.iter().collect();
            assert!(
                addresses
                    .iter()
                    .all(|a| matches!(a, Endpoint::Ip(ip) if ip.is_loopback())),
                "{}",
                site.id
            );
        }
    }
}
