//! The run driver: the one engine under every front end (`check`, `sites`, `scan`, the
//! agent, the TUI's re-check, the demo). It syncs the inventory into the store, runs the
//! selected hosts and sites through one [`Network`] (one rate limit, one set of
//! per-address limits), writes what they find from its own task in batches, publishes
//! progress snapshots, and stores the run complete, or incomplete when it is cancelled.
//! An agent's run takes its hosts or sites from the store's work items as they come due
//! ([`Lease`]), so that several agents share a duty without scanning anything twice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use sixfive_inventory::model::{Host, Inventory, Scan, Site};
use sixfive_inventory::results::{CheckRecord, HostLevel, SiteReport, SiteSample};
use sixfive_inventory::run::{Finished, Progress, RunId};
use sixfive_inventory::store::{RunKind, RunStatus, Window, WorkScope};
use sixfive_inventory::{Store, StoreError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
pub use tokio_util::sync::CancellationToken;

use crate::network::{Loopback, Network, OwnV6, SetupError};
use crate::readiness::scanner::Scanner;
use crate::sites::poller::SitePoller;
use crate::sites::profiles::Profile;

pub mod schedule;
pub mod spool;

use spool::Spool;

/// Hosts and sites written to the store per batch.
const BATCH: usize = 100;
/// A batch waits at most this long for company: a run spread over an hour finishes a few
/// hosts a minute, which the UI should see as they finish.
const FLUSH: Duration = Duration::from_secs(2);
/// How often a run says its owner is alive, well within the store's STALE_AFTER.
const HEARTBEAT: Duration = Duration::from_secs(5);
const _: () = assert!(HEARTBEAT.as_secs() * 4 <= sixfive_inventory::store::STALE_AFTER.as_secs());
const _: () = assert!(HEARTBEAT.as_secs() * 3 <= sixfive_inventory::store::LEASE.as_secs());
/// How long a leased run waits at most before asking the store for due work again: another
/// agent's plan may add an item meanwhile (a lease's end it knows, and waits for).
const ASK_EVERY: Duration = Duration::from_secs(5);
/// And at least, when an item is due but another agent is taking it right now.
const ASK_AGAIN: Duration = Duration::from_millis(100);

/// What to run: the hosts and sites the caller selected, and who asks.
pub struct RunRequest {
    pub hosts: Vec<Host>,
    pub sites: Vec<Site>,
    /// Recorded with the run, e.g. `check@alice`.
    pub owner: String,
    /// The inventory's source, recorded with the import the run makes first.
    pub source: String,
}

/// Hosts and sites to re-check by name, as the store has them now.
pub struct RecheckRequest {
    pub hosts: Vec<String>,
    pub sites: Vec<String>,
    /// Recorded with the run, e.g. `tui@alice`.
    pub owner: String,
}

/// One agent's share of a duty in one window of its schedule: the duty's work items (its
/// hosts or its sites) that come due in the window, each taken under a lease.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The duty whose items these are (`hosts`, `sites`…).
    pub duty: &'static str,
    /// Only this zone's items; every zone's when None.
    pub zone: Option<String>,
    pub window: Window,
    /// Ends the window early (a reload): no more items are taken, those taken finish, and
    /// the run is complete.
    pub close: CancellationToken,
}

impl Lease {
    fn scope(&self) -> WorkScope<'_> {
        WorkScope {
            duty: self.duty,
            zone: self.zone.as_deref(),
        }
    }
}

/// Where a run's hosts and sites come from.
enum Work {
    /// The caller's inventory, imported into the store first; its hosts and sites all at
    /// once, or as they come due under a lease.
    Imported(RunRequest, Option<Lease>),
    /// The store's inventory, unchanged: a re-check from the UI, whose copy of the file may
    /// be older than what the store holds now (importing it would roll that back).
    Stored(RecheckRequest),
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOutcome {
    pub run: RunId,
    pub status: RunStatus,
}

/// A run under way: watch it, cancel it, take what it finishes, await its end.
pub struct Run {
    pub progress: watch::Receiver<Progress>,
    pub cancel: CancellationToken,
    /// Every host and site as it finishes; dropping the receiver loses nothing stored.
    pub finished: mpsc::UnboundedReceiver<Finished>,
    task: JoinHandle<Result<RunOutcome, StoreError>>,
}

impl Run {
    /// Waits for the run to end, stored complete or (cancelled) incomplete.
    pub async fn finish(self) -> Result<RunOutcome, StoreError> {
        match self.task.await {
            Ok(outcome) => outcome,
            Err(failure) => std::panic::resume_unwind(failure.into_panic()),
        }
    }
}

/// The engine: one network, the host scanner and the site poller on it, and the store.
pub struct Engine {
    scanner: Arc<Scanner>,
    poller: Arc<SitePoller>,
    network: Arc<Network>,
    store: Arc<Store>,
    /// Where an agent's runs keep what the store could not take; None elsewhere.
    spool: Option<Arc<Spool>>,
}

impl Engine {
    pub fn new(
        scan: &Scan,
        profiles: Vec<Profile>,
        pings: u32,
        store: Arc<Store>,
    ) -> Result<Self, SetupError> {
        Ok(Self::on(scan, profiles, pings, store, Network::new(scan)?))
    }

    /// The engine of `sixfive demo`'s loopback fallback (see [`Loopback`]): never one
    /// an inventory asks for, so only the demo builds it.
    pub fn on_loopback(
        scan: &Scan,
        profiles: Vec<Profile>,
        pings: u32,
        store: Arc<Store>,
        loopback: Loopback,
    ) -> Result<Self, SetupError> {
        let network = Network::on_loopback(scan, loopback)?;
        Ok(Self::on(scan, profiles, pings, store, network))
    }

    fn on(
        scan: &Scan,
        profiles: Vec<Profile>,
        pings: u32,
        store: Arc<Store>,
        network: Network,
    ) -> Self {
        let network = Arc::new(network);
        Self {
            scanner: Arc::new(Scanner::new(scan, Arc::clone(&network))),
            poller: Arc::new(SitePoller::new(scan, profiles, pings, Arc::clone(&network))),
            network,
            store,
            spool: None,
        }
    }

    /// Runs keep a batch the store cannot take in `spool`, and the agent's runs write
    /// what it holds as they start (the agent's engine; None keeps nothing).
    pub fn spooling(mut self, spool: Option<Arc<Spool>>) -> Self {
        self.spool = spool;
        self
    }

    /// The scanner's own IPv6: without it every IPv6 result is inconclusive.
    pub fn own_v6(&self) -> &OwnV6 {
        &self.network.own_v6
    }

    pub fn check_ids(&self) -> Vec<&'static str> {
        self.scanner.check_ids()
    }

    /// Starts one stored run of `request` against `inventory` (imported first).
    pub fn start(&self, inventory: Arc<Inventory>, request: RunRequest) -> Run {
        let totals = (request.hosts.len(), request.sites.len());
        self.launch(totals, Work::Imported(request, None), inventory)
    }

    /// Starts one stored run as [`Engine::start`] does, of the hosts (or the sites) of
    /// `request` that come due in `lease`'s window: they become the duty's work items,
    /// spread over the interval, and the run takes each when it is due and no other agent
    /// holds it. A city's hosts see a steady trickle of probes, each once an interval.
    pub fn start_leased(
        &self,
        inventory: Arc<Inventory>,
        request: RunRequest,
        lease: Lease,
    ) -> Run {
        let totals = (request.hosts.len(), request.sites.len());
        self.launch(totals, Work::Imported(request, Some(lease)), inventory)
    }

    /// Starts one stored run of the hosts and sites `recheck` names, as the store has them;
    /// nothing is imported, and the run is no point on the trend. `inventory` gives the
    /// scan's settings (retention) only.
    pub fn recheck(&self, inventory: Arc<Inventory>, recheck: RecheckRequest) -> Run {
        let totals = (recheck.hosts.len(), recheck.sites.len());
        self.launch(totals, Work::Stored(recheck), inventory)
    }

    fn launch(
        &self,
        (hosts_total, sites_total): (usize, usize),
        work: Work,
        inventory: Arc<Inventory>,
    ) -> Run {
        let (progress_tx, progress) = watch::channel(Progress {
            hosts_total,
            sites_total,
            ..Progress::default()
        });
        let (finished_tx, finished) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let driver = Driver {
            scanner: Arc::clone(&self.scanner),
            poller: Arc::clone(&self.poller),
            store: Arc::clone(&self.store),
            spool: self.spool.clone(),
            progress: progress_tx,
            finished: finished_tx,
            cancel: cancel.clone(),
        };
        let task = tokio::spawn(driver.drive(inventory, work));
        Run {
            progress,
            cancel,
            finished,
            task,
        }
    }
}

struct Driver {
    scanner: Arc<Scanner>,
    poller: Arc<SitePoller>,
    store: Arc<Store>,
    spool: Option<Arc<Spool>>,
    progress: watch::Sender<Progress>,
    finished: mpsc::UnboundedSender<Finished>,
    cancel: CancellationToken,
}

/// Rows on their way to the store.
#[derive(Default)]
struct Batch {
    records: Vec<CheckRecord>,
    levels: Vec<HostLevel>,
    samples: Vec<SiteSample>,
}

impl Batch {
    fn len(&self) -> usize {
        self.levels.len() + self.samples.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0 && self.records.is_empty()
    }

    fn add(&mut self, finished: &Finished) {
        match finished {
            Finished::Host(report) => {
                self.records.extend(report.records.iter().cloned());
                self.levels.push(report.level.clone());
            }
            Finished::Site(report) => self.samples.push(report.sample()),
        }
    }
}

impl Driver {
    async fn drive(self, inventory: Arc<Inventory>, work: Work) -> Result<RunOutcome, StoreError> {
        let store = &self.store;
        // Every stored result refers to a host or site the store knows, and the run notes
        // the import it ran against.
        let (hosts, sites, owner, import, kind, lease) = match work {
            Work::Imported(request, lease) => {
                let imported = store
                    .import(&inventory, &request.source, &request.owner)
                    .await?;
                // The store answers again: what it could not take before goes in first.
                if let Some(spool) = &self.spool {
                    match spool.replay(store).await {
                        Ok(0) => {}
                        Ok(written) => tracing::info!(written, "spooled batches written"),
                        Err(error) => tracing::warn!(%error, "spooled batches not written yet"),
                    }
                }
                let kind = match (request.hosts.is_empty(), request.sites.is_empty()) {
                    (false, true) => RunKind::Hosts,
                    (true, false) => RunKind::Sites,
                    _ => RunKind::Scan,
                };
                let RunRequest {
                    hosts,
                    sites,
                    owner,
                    ..
                } = request;
                (hosts, sites, owner, imported.as_of, kind, lease)
            }
            Work::Stored(recheck) => {
                let (hosts, sites) = stored(store, &recheck, &inventory).await?;
                let import = store.latest_import().await?;
                (hosts, sites, recheck.owner, import, RunKind::Recheck, None)
            }
        };
        if let Some(lease) = &lease {
            // A duty's items are its hosts or, with no host, its sites (as taken below).
            let items: Vec<(&str, &str)> = if sites.is_empty() {
                (hosts.iter())
                    .map(|h| (h.fqdn.as_str(), h.zone.as_deref().unwrap_or_default()))
                    .collect()
            } else {
                (sites.iter())
                    .map(|s| (s.id.as_str(), s.zone.as_deref().unwrap_or_default()))
                    .collect()
            };
            store.plan_work(lease.scope(), &items, lease.window).await?;
            // A dead agent's runs are closed here, not only when a process opens the store:
            // what they finished becomes current, what they held is free.
            store
                .expire_runs(sixfive_inventory::store::STALE_AFTER)
                .await?;
        }
        let previous_levels = Arc::new(store.latest_levels().await?);
        let mut previous_samples: HashMap<String, SiteReport> = store
            .latest_samples(None)
            .await?
            .iter()
            .filter_map(|sample| Some((sample.site.clone(), SiteReport::from_sample(sample)?)))
            .collect();
        let run = store.begin_run_against(&owner, kind, import).await?;
        self.progress.send_modify(|p| p.run = Some(run));
        // Answers cached by an earlier run are not this run's.
        self.scanner.forget().await;

        let (batches, inbox) = mpsc::channel::<Batch>(4);
        let writer = tokio::spawn(write(Arc::clone(store), run, inbox, self.spool.clone()));
        let sites: Vec<_> = sites
            .into_iter()
            .map(|site| {
                let before = previous_samples.remove(&site.id);
                (site, before)
            })
            .collect();
        // What the store refused while handing out work: the run is then incomplete.
        let refused = Arc::new(Mutex::new(None));
        let (hosts, sites): (BoxStream<Host>, BoxStream<(Site, Option<SiteReport>)>) = match lease {
            None => (stream::iter(hosts).boxed(), stream::iter(sites).boxed()),
            // A duty's items are its hosts or its sites, never both.
            Some(lease) if sites.is_empty() => {
                let by_name = hosts.into_iter().map(|h| (h.fqdn.clone(), h)).collect();
                let taken = leased(Arc::clone(store), lease, run, by_name, &refused);
                (taken.boxed(), stream::empty().boxed())
            }
            Some(lease) => {
                let by_name = (sites.into_iter()).map(|s| (s.0.id.clone(), s)).collect();
                let taken = leased(Arc::clone(store), lease, run, by_name, &refused);
                (stream::empty().boxed(), taken.boxed())
            }
        };
        let hosts = self
            .scanner
            .scan_all(hosts, previous_levels)
            .map(|report| Finished::Host(Box::new(report)));
        let sites = self
            .poller
            .poll_all(sites)
            .map(|report| Finished::Site(Box::new(report)));
        let mut work = std::pin::pin!(futures::stream::select(hosts, sites));
        let mut batch = Batch::default();
        let mut flush = tokio::time::interval(FLUSH);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let cancelled = loop {
            let next = tokio::select! {
                biased;
                () = self.cancel.cancelled() => break true,
                // The writer stopped on a store error: probing on would store nothing.
                () = batches.closed() => break false,
                next = work.next() => next,
                _ = flush.tick(), if !batch.is_empty() => {
                    if batches.send(std::mem::take(&mut batch)).await.is_err() {
                        break false;
                    }
                    continue;
                }
            };
            let Some(finished) = next else { break false };
            batch.add(&finished);
            self.progress.send_modify(|p| p.count(&finished));
            let _ = self.finished.send(finished);
            if batch.len() >= BATCH && batches.send(std::mem::take(&mut batch)).await.is_err() {
                break false;
            }
        };
        // The writer ends with the inbox: what it failed on is the run's error, before any
        // error closing the run.
        let _ = batches.send(batch).await;
        drop(batches);
        let written = writer
            .await
            .unwrap_or_else(|failure| std::panic::resume_unwind(failure.into_panic()));
        let refused = refused.lock().unwrap_or_else(|p| p.into_inner()).take();
        // A batch kept on disk is not in the run yet: it is written into it later.
        let spooled = matches!(written, Ok(true));
        let status = if cancelled || written.is_err() || refused.is_some() || spooled {
            RunStatus::Incomplete
        } else {
            RunStatus::Complete
        };
        let closed = store.finish_run(run, status).await;
        written?;
        closed?;
        if let Some(error) = refused {
            return Err(error);
        }
        // History thins after every run, so a year of daily scans keeps its size in check;
        // the run itself is stored by now, and the next one thins what this one could not.
        if let Err(error) = store.apply_retention(inventory.scan.retention.0).await {
            tracing::warn!(run, %error, "old evidence and site samples were not thinned");
        }
        Ok(RunOutcome { run, status })
    }
}

/// The hosts and sites `recheck` names, as the store has them now; each site with the SNMP
/// settings of `inventory` (the caller's file), as the store keeps no secret (a literal
/// reads `<redacted>`, a file is named as the inventory names it, relative to it).
async fn stored(
    store: &Store,
    recheck: &RecheckRequest,
    inventory: &Inventory,
) -> Result<(Vec<Host>, Vec<Site>), StoreError> {
    let missing = |kind, key: &String| StoreError::NotFound {
        kind,
        key: key.clone(),
    };
    let mut hosts = Vec::new();
    for fqdn in &recheck.hosts {
        let host = store
            .host(fqdn)
            .await?
            .ok_or_else(|| missing("host", fqdn))?;
        hosts.push(host.entry);
    }
    let mut sites = Vec::new();
    for id in &recheck.sites {
        let mut site = store
            .site(id)
            .await?
            .ok_or_else(|| missing("site", id))?
            .entry;
        if let Some(own) = inventory.sites.iter().find(|own| &own.id == id) {
            site.snmp = own.snmp.clone();
        }
        sites.push(site);
    }
    Ok((hosts, sites))
}

/// Writes batches as they come, and beats the run's heart meanwhile. With a spool, a batch
/// the store cannot take for being away is kept on disk; says whether one was.
async fn write(
    store: Arc<Store>,
    run: RunId,
    mut inbox: mpsc::Receiver<Batch>,
    spool: Option<Arc<Spool>>,
) -> Result<bool, StoreError> {
    // Its own task: a write waiting on another agent's lock must not let the run's leases
    // run out. Stopped when the writer ends.
    let _heart = tokio_util::task::AbortOnDropHandle::new(tokio::spawn({
        let store = Arc::clone(&store);
        async move {
            let mut heartbeat = tokio::time::interval(HEARTBEAT);
            heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                heartbeat.tick().await;
                // A missed beat is no reason to lose the run: the next one comes in seconds.
                if let Err(error) = store.beat(run).await {
                    tracing::warn!(run, %error, "the run's heartbeat was not stored");
                }
            }
        }
    }));
    let mut spooled = false;
    while let Some(batch) = inbox.recv().await {
        if batch.is_empty() {
            continue;
        }
        let written = match store.record_hosts(run, &batch.levels, &batch.records).await {
            Ok(()) => store.record_samples(run, &batch.samples).await,
            Err(error) => Err(error),
        };
        match (written, &spool) {
            (Ok(()), _) => {}
            (Err(error), Some(spool)) if error.is_unavailable() => {
                let kept = spool.keep(run, &batch.levels, &batch.records, &batch.samples);
                match kept {
                    Ok(file) => {
                        tracing::warn!(run, %error, file = %file.display(), "the store is away: batch kept on disk");
                        spooled = true;
                    }
                    Err(why) => {
                        tracing::error!(run, %error, %why, "the store is away and the batch was not kept");
                        return Err(error);
                    }
                }
            }
            (Err(error), _) => return Err(error),
        }
    }
    Ok(spooled)
}

/// The items of `lease` that run `run` takes as they come due in its window, each as
/// `by_name` has it; ends when the window ends or closes, or when nothing more comes due
/// in it. An item the store names that this agent's inventory lacks (another agent's newer
/// inventory planned it) is passed back at once, for the agents that know it. A store
/// error is logged and the store asked again; `refused` keeps it until an answer comes, so
/// a window that ends while the store is away is incomplete.
fn leased<T: Clone + Send + Sync + 'static>(
    store: Arc<Store>,
    lease: Lease,
    run: RunId,
    by_name: HashMap<String, T>,
    refused: &Arc<Mutex<Option<StoreError>>>,
) -> impl futures::Stream<Item = T> + Send + 'static {
    let refused = Arc::clone(refused);
    let answered = move |outcome: Result<(), StoreError>| {
        if let Err(error) = &outcome {
            tracing::warn!(run, %error, "the store handed out no work: asking again");
        }
        *refused.lock().unwrap_or_else(|p| p.into_inner()) = outcome.err();
    };
    let by_name = Arc::new(by_name);
    stream::unfold(VecDeque::new(), move |mut ready| {
        let (store, lease, by_name, answered) = (
            Arc::clone(&store),
            lease.clone(),
            Arc::clone(&by_name),
            answered.clone(),
        );
        async move {
            loop {
                if let Some(item) = ready.pop_front() {
                    return Some((item, ready));
                }
                let end = lease.window.end();
                if lease.close.is_cancelled() || Utc::now() >= end {
                    return None;
                }
                let taken = store.claim_work(lease.scope(), run, lease.window).await;
                let next = match taken {
                    Ok(names) if !names.is_empty() => {
                        let mut unknown = Vec::new();
                        for name in &names {
                            match by_name.get(name) {
                                Some(item) => ready.push_back(item.clone()),
                                None => unknown.push(name.as_str()),
                            }
                        }
                        let passed = if unknown.is_empty() {
                            Ok(())
                        } else {
                            store.pass_work(run, &unknown).await
                        };
                        answered(passed);
                        continue;
                    }
                    Ok(_) => store.next_work(lease.scope(), run).await,
                    Err(error) => Err(error),
                };
                let next = match next {
                    // In the store's milliseconds, as the items' due times are.
                    Ok(next) => {
                        answered(Ok(()));
                        next.filter(|next| next.timestamp_millis() < end.timestamp_millis())?
                    }
                    // Asked again soon, while the window lasts.
                    Err(error) => {
                        answered(Err(error));
                        Utc::now() + ASK_EVERY
                    }
                };
                let wait = (next - Utc::now()).to_std().unwrap_or_default();
                tokio::select! {
                    () = lease.close.cancelled() => {}
                    () = tokio::time::sleep(wait.clamp(ASK_AGAIN, ASK_EVERY)) => {}
                }
            }
        }
    })
}

/// What a failed task says, for the record that stands in for its host or site.
pub fn why(failure: tokio::task::JoinError) -> String {
    if failure.is_cancelled() {
        return "the task was cancelled".into();
    }
    let panic = failure.into_panic();
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "it panicked".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_is_told_by_its_message() {
        let failure = tokio::spawn(async { panic!("index out of bounds") })
            .await
            .unwrap_err();
        assert_eq!(why(failure), "index out of bounds");
        let owned = tokio::spawn(async { panic!("{} of {}", 3, 2) })
            .await
            .unwrap_err();
        assert_eq!(why(owned), "3 of 2");
    }

    #[tokio::test]
    async fn a_rechecked_site_takes_its_snmp_credentials_from_the_callers_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/community"), "lab-community\n").unwrap();
        let city = dir.path().join("city.yaml");
        std::fs::write(
            &city,
            "version: 1\nagencies: [{ id: lab, name: Lab }]\nsites:\n  - { id: s1, name: S1, agency: lab, address: 198.18.92.11, profile: generic,\n      snmp: { version: 2c, community_file: secrets/community } }\n",
        )
        .unwrap();
        let options = sixfive_inventory::LoadOptions {
            profiles: vec!["generic".into()],
            secrets: true,
        };
        let inventory = sixfive_inventory::load(&city, &options).unwrap().inventory;
        let store = Store::open(&sixfive_inventory::StoreUrl::Sqlite(
            dir.path().join("s.db"),
        ))
        .await
        .unwrap();
        store.import(&inventory, "city.yaml", "test").await.unwrap();
        let file = |site: &Site| site.snmp.community_file.as_ref().unwrap().path().to_owned();
        // The store names the file as the inventory does, relative to the inventory.
        let kept = store.site("s1").await.unwrap().unwrap().entry;
        assert_ne!(file(&kept), dir.path().join("secrets/community"));
        let recheck = RecheckRequest {
            hosts: Vec::new(),
            sites: vec!["s1".into()],
            owner: "tui@test".into(),
        };
        let (_, sites) = stored(&store, &recheck, &inventory).await.unwrap();
        assert_eq!(file(&sites[0]), dir.path().join("secrets/community"));
        assert_eq!(sites[0].address, kept.address);
    }
}
