//! The running demo city: its name servers, web, mail and TCP listeners and SNMP routers,
//! set for one run at a time. Between runs [`City::set_run`] brings the servers to the
//! next run's plan (faults fixed, one regression, a site's uplink back), and the inventory
//! the demo scans is the example's, adapted by [`adapt`] to the lab it runs in.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use sixfive_inventory::Inventory;
use sixfive_inventory::model::{Endpoint, Rate, Service, SnmpVersion, Timeout};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::dns::{self, Dns};
use crate::plan::{Fault, HostPlan, LEGACY, Plan};
use crate::snmp::{self, Condition, Router};
use crate::web::{self, Cert, Page, Pki, PkiError};

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

/// What one listener serves.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Serve {
    Web {
        host: String,
        page: Page,
        cert: Option<Cert>,
    },
    Smtp(String),
    /// Any other TCP service: accepted and closed, which is all a port check asks.
    Tcp,
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
            3 if run < crate::plan::RUNS => SiteCase::UplinkDown,
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
    listeners: HashMap<SocketAddr, (Serve, JoinHandle<()>)>,
    sites: Vec<SiteRouters>,
}

impl City {
    /// Starts the city of `inventory` as it is in the first run. The plan's addresses
    /// must be on this namespace's loopback already.
    pub async fn start(inventory: &Inventory, plan: Plan, pki: Pki) -> Result<Self, CityError> {
        let dns_at = plan.dns_addresses();
        let dns = dns::serve(&dns_at, 53, dns::catalog(&plan, 1))
            .await
            .map_err(|source| CityError::Listen {
                at: SocketAddr::new(dns_at[0], 53),
                source,
            })?;
        let mut city = Self {
            plan,
            pki,
            dns,
            listeners: HashMap::new(),
            sites: Vec::new(),
        };
        for (index, site) in inventory.sites.iter().enumerate() {
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
            let mut routers = Vec::new();
            for endpoint in site.address.iter() {
                if let Endpoint::Ip(ip) = endpoint {
                    let at = SocketAddr::new(*ip, site.snmp.port);
                    let recording = recording(&site.profile, case)?;
                    let router = snmp::spawn(at, community.clone(), recording)
                        .await
                        .map_err(|source| CityError::Listen { at, source })?;
                    routers.push(router);
                }
            }
            city.sites.push(SiteRouters {
                profile: site.profile.clone(),
                case,
                routers,
            });
        }
        city.set_run(1).await?;
        Ok(city)
    }

    /// Brings every server to the plan of `run` (1-based).
    pub async fn set_run(&mut self, run: u32) -> Result<(), CityError> {
        self.dns.zones.set(dns::catalog(&self.plan, run)).await;
        let mut wanted: HashMap<SocketAddr, Serve> = HashMap::new();
        for host in &self.plan.hosts {
            wanted.extend(listeners(host, run));
        }
        let legacy = IpAddr::V4(self.plan.legacy_v4);
        wanted.insert(
            SocketAddr::new(legacy, 443),
            web_serve(LEGACY, Page::Home, true),
        );
        let stale: Vec<SocketAddr> = self
            .listeners
            .iter()
            .filter(|(at, (serve, _))| wanted.get(*at) != Some(serve))
            .map(|(at, _)| *at)
            .collect();
        for at in stale {
            if let Some((_, task)) = self.listeners.remove(&at) {
                task.abort();
                // Its listener closes as the task is dropped: wait, to bind the port again.
                let _ = task.await;
            }
        }
        for (at, serve) in wanted {
            if self.listeners.contains_key(&at) {
                continue;
            }
            let listener = TcpListener::bind(at)
                .await
                .map_err(|source| CityError::Listen { at, source })?;
            let task = match &serve {
                Serve::Web { host, page, cert } => {
                    let tls = cert.map(|cert| self.pki.config(host, cert)).transpose()?;
                    tokio::spawn(web::serve(listener, host.clone(), page.clone(), tls))
                }
                Serve::Smtp(host) => tokio::spawn(crate::smtp::serve(listener, host.clone())),
                Serve::Tcp => tokio::spawn(async move { while listener.accept().await.is_ok() {} }),
            };
            self.listeners.insert(at, (serve, task));
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
}

fn recording(profile: &str, case: SiteCase) -> Result<snmp::Recording, CityError> {
    snmp::recording(profile, case.condition()).map_err(|why| CityError::Recording {
        profile: profile.to_owned(),
        why: why.to_string(),
    })
}

fn web_serve(host: &str, page: Page, tls: bool) -> Serve {
    Serve::Web {
        host: host.to_owned(),
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
            out.push((at(80), web_serve(&host.fqdn, plain, false)));
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
                host: host.fqdn.clone(),
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
                Service::Smtp => out.push((at(25), Serve::Smtp(host.fqdn.clone()))),
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
///   responders speak v2c.
pub fn adapt(inventory: &mut Inventory, ca_file: PathBuf) {
    for host in &mut inventory.hosts {
        host.internal = true;
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
        let plan = Plan::of(&crate::example::inventory());
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
        adapt(&mut inventory, "/tmp/ca.pem".into());
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
}
