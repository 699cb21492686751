//! The scan engine: resolves each selected host, runs every registered check on it, and
//! grades it. Hosts run side by side up to the scan's concurrency; every probe still goes
//! through the network guard (scope, rate, per-address and global limits), so one slow or
//! black-holed host costs only its own deadlines.

use std::collections::{BTreeMap, HashMap};

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
        let level = grade(&host.fqdn, &records, &self.gates, previous);
        HostReport {
            host: host.clone(),
            records,
            level,
        }
    }

    /// Scans `hosts`, yielding each report as it completes (not in input order).
    pub fn scan_all<'a>(
        &'a self,
        hosts: &'a [Host],
        previous: &'a HashMap<String, Level>,
    ) -> impl Stream<Item = HostReport> + 'a {
        stream::iter(hosts)
            .map(move |host| self.scan_host(host, previous.get(&host.fqdn).copied()))
            .buffer_unordered(self.hosts_in_flight)
    }
}
