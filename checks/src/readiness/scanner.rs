//! The host scanner: resolves each selected host, runs every registered check on it, and
//! grades it. Hosts run side by side up to the scan's concurrency; every probe still goes
//! through the network guard (scope, rate, per-address and global limits), so one slow or
//! black-holed host costs only its own deadlines.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::stream::{Stream, StreamExt};
use sixfive_inventory::model::{Host, Level, Scan, Service};
use sixfive_inventory::results::{CheckRecord, HostLevel, Status};
use sixfive_inventory::run::HostReport;
use tokio_util::task::AbortOnDropHandle;

use crate::network::{Network, OwnV6};
use crate::probe::resolve::Facts;
use crate::readiness::level::grade;
use crate::readiness::{Check, Gate, HostScan, registry};

pub struct Scanner {
    network: Arc<Network>,
    checks: Vec<Box<dyn Check>>,
    gates: BTreeMap<&'static str, Gate>,
    hosts_in_flight: usize,
}

impl Scanner {
    /// A scanner probing through `network`, which it may share with a site poller.
    pub fn new(scan: &Scan, network: Arc<Network>) -> Self {
        let checks = registry();
        let gates = checks
            .iter()
            .filter_map(|check| check.gate().map(|gate| (check.id(), gate)))
            .collect();
        Self {
            network,
            checks,
            gates,
            hosts_in_flight: scan.concurrency.max(1) as usize,
        }
    }

    /// Drops the answers cached by earlier runs (zones and name servers' answers): they
    /// live for one run, never longer.
    pub async fn forget(&self) {
        self.network.forget().await;
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
        level.internet_nl = crate::readiness::internet_nl::score(&scan, &records).await;
        HostReport {
            host: host.clone(),
            records,
            level,
        }
    }

    /// Scans the hosts `hosts` yields, as they come, yielding each report as it completes
    /// (not in input order). Each host is its own task, so a multi-threaded runtime spreads
    /// hosts over every core, and a task that fails is reported as that host's `error`,
    /// never the run's end. The next host is asked for when there is room for it.
    pub fn scan_all<S>(
        self: &Arc<Self>,
        hosts: S,
        previous: Arc<HashMap<String, Level>>,
    ) -> impl Stream<Item = HostReport> + use<S>
    where
        S: Stream<Item = Host> + Send + 'static,
    {
        let in_flight = self.hosts_in_flight;
        let scanner = Arc::clone(self);
        hosts
            .map(move |host| {
                let (scanner, previous) = (Arc::clone(&scanner), Arc::clone(&previous));
                // Dropped with the stream when a run is cancelled: the host's probes stop.
                let task = AbortOnDropHandle::new(tokio::spawn({
                    let host = host.clone();
                    async move {
                        let before = previous.get(&host.fqdn).copied();
                        scanner.scan_host(&host, before).await
                    }
                }));
                async move {
                    match task.await {
                        Ok(report) => report,
                        Err(failure) => failed(host, &crate::run::why(failure)),
                    }
                }
            })
            .buffer_unordered(in_flight)
    }
}

/// The report of a host whose scan failed inside sixfive: one `error` record, and a level
/// claimed by nothing (inconclusive, never a regression).
fn failed(host: Host, why: &str) -> HostReport {
    let record = CheckRecord::new(
        &host.fqdn,
        "scan",
        Status::Error,
        format!("sixfive failed while scanning this host: {why}"),
    )
    .hint("a bug in sixfive: please report it with this message")
    .evidence(serde_json::json!({"failure": why}));
    HostReport {
        level: HostLevel {
            host: host.fqdn.clone(),
            level: Level::L0,
            score: 0,
            internet_nl: None,
            inconclusive: true,
            regressed: false,
        },
        host,
        records: vec![record],
    }
}
