//! The scan engine: resolves each selected host, runs every registered check on it, and
//! grades it. Hosts run side by side up to the scan's concurrency; every probe still goes
//! through the network guard (scope, rate, per-address and global limits), so one slow or
//! black-holed host costs only its own deadlines.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::stream::{self, Stream, StreamExt};
use sixfive_inventory::model::{Host, Level, Scan, Service};
use sixfive_inventory::results::{CheckRecord, HostLevel};

use crate::check::{Check, Gate, HostScan, registry};
use crate::level::grade;
use crate::network::{Network, OwnV6};
use crate::probe::resolve::Facts;

/// One host's results and grade.
#[derive(Debug, Clone)]
pub struct HostReport {
    pub host: Host,
    pub records: Vec<CheckRecord>,
    pub level: HostLevel,
}

pub struct Scanner {
    network: Network,
    checks: Vec<Box<dyn Check>>,
    gates: BTreeMap<&'static str, Gate>,
    hosts_in_flight: usize,
}

impl Scanner {
    pub fn new(scan: &Scan) -> Result<Self, String> {
        let checks = registry();
        let gates = checks
            .iter()
            .filter_map(|check| check.gate().map(|gate| (check.id(), gate)))
            .collect();
        Ok(Self {
            network: Network::new(scan)?,
            checks,
            gates,
            hosts_in_flight: scan.concurrency.max(1) as usize,
        })
    }

    /// The scanner's own IPv6: without it every IPv6 result is inconclusive.
    pub fn own_v6(&self) -> &OwnV6 {
        &self.network.own_v6
    }

    pub fn check_ids(&self) -> Vec<&'static str> {
        self.checks.iter().map(|check| check.id()).collect()
    }

    pub async fn scan_host(&self, host: &Host, previous: Option<Level>) -> HostReport {
        let facts = Facts::resolve(
            &self.network.resolvers,
            &host.fqdn,
            host.services.contains(&Service::Smtp),
        )
        .await;
        let scan = HostScan::new(host, facts, &self.network);
        let runs = self.checks.iter().map(|check| check.run(&scan));
        let records: Vec<CheckRecord> = futures::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
            .collect();
        let mut level = grade(&host.fqdn, &records, &self.gates, previous);
        level.internet_nl = crate::internet_nl::score(&scan, &records).await;
        HostReport {
            host: host.clone(),
            records,
            level,
        }
    }

    /// Scans `hosts`, yielding each report as it completes (not in input order). Each host
    /// is its own task, so a multi-threaded runtime spreads hosts over every core.
    pub fn scan_all(
        self: &Arc<Self>,
        hosts: Vec<Host>,
        previous: Arc<HashMap<String, Level>>,
    ) -> impl Stream<Item = HostReport> + use<> {
        let in_flight = self.hosts_in_flight;
        let scanner = Arc::clone(self);
        stream::iter(hosts)
            .map(move |host| {
                let (scanner, previous) = (Arc::clone(&scanner), Arc::clone(&previous));
                tokio::spawn(async move {
                    let before = previous.get(&host.fqdn).copied();
                    scanner.scan_host(&host, before).await
                })
            })
            .buffer_unordered(in_flight)
            .map(|joined| joined.expect("a host scan never panics"))
    }
}
