//! `sixfive agent`: wiring for the long-lived agent. The schedule itself is the run
//! driver's (`sixfive_checks::run::schedule`); this loads the inventory and reloads it
//! (SIGHUP, a change to its files), holds a SQLite store for one agent, serves /healthz
//! and /readyz, and stops on SIGTERM or SIGINT with the runs under way stored incomplete.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum_server::tls_rustls::RustlsConfig;
use chrono::Utc;
use sixfive_checks::Engine;
use sixfive_checks::run::CancellationToken;
use sixfive_checks::run::schedule::{self, Armed, Duty, DutyState};
use sixfive_checks::run::spool::Spool;
use sixfive_checks::sites::poller::PINGS;
use sixfive_checks::sites::profiles::Profile;
use sixfive_inventory::{Inventory, Store, StoreUrl};
use sixfive_report::metrics::{MetricsOptions, open_metrics};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Mutex, mpsc, watch};

use crate::Failure;
use crate::cli::{AgentArgs, Global, Pace};
use crate::inventory::{block_on, inventory_path, load, load_options, profiles, store_url};

/// How long the runs under way get to store themselves incomplete on a stop; the rest of
/// the 10 s a stop may take goes to the endpoint and the store, a second each.
const STOP_WITHIN: Duration = Duration::from_secs(7);
/// How often the /metrics page is made again when the store changed: scrapes come a
/// minute apart (contrib/prometheus), a page takes up to seconds at 100,000 hosts.
const PAGE_EVERY: Duration = Duration::from_secs(5);
/// The most the spool keeps on disk (256 MiB): far more than the batches under way when a
/// store goes away, which is all an agent keeps.
const SPOOL_LIMIT: u64 = 256 * 1024 * 1024;
/// How long /readyz waits for the store before calling it unreachable.
const STORE_ANSWERS_WITHIN: Duration = Duration::from_secs(2);
/// Changes to the inventory's files settle this long before a reload: an editor's save is
/// several events.
const SETTLE: Duration = Duration::from_millis(300);

pub fn run(args: AgentArgs, global: &Global) -> Result<(), Failure> {
    let path = inventory_path(None, global)?;
    let profiles = profiles(global)?;
    let web = match &args.web_config {
        Some(file) => crate::web::load(file)?,
        None => crate::web::WebConfig::default(),
    };
    block_on(async move {
        // Held until the agent exits; the kernel lets go of it if the agent dies. Taken
        // before the store opens, so a second agent touches nothing of it.
        let url = store_url(global)?;
        let _hold = match &url {
            StoreUrl::Sqlite(db) => Some(hold(db)?),
            StoreUrl::Postgres { .. } => None,
        };
        tracing::info!(store = %url, "opening the store");
        let store = Arc::new(Store::open(&url).await?);
        // Before any run starts: an agent that cannot serve its health stops at once.
        let cannot_listen = |e: std::io::Error| {
            Failure::Unavailable(format!("cannot listen on {}: {e}", args.listen))
        };
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(cannot_listen)?;
        let tls = match &web.tls_server_config {
            Some(tls) => Some(
                RustlsConfig::from_pem_file(&tls.cert_file, &tls.key_file)
                    .await
                    .map_err(|e| {
                        Failure::Usage(format!(
                            "cannot use the certificate {} and key {}: {e}",
                            tls.cert_file.display(),
                            tls.key_file.display()
                        ))
                    })?,
            ),
            None => None,
        };
        // One folder per store: a batch is written into its run, which only its store has.
        let spool = match args.spool.clone().or_else(default_spool) {
            Some(dir) => {
                let spool = dir.join(format!("store-{:016x}", fnv1a(url.to_string().as_bytes())));
                tracing::info!(spool = %spool.display(), "results the store cannot take are kept here");
                Some(Arc::new(Spool::new(spool, SPOOL_LIMIT)))
            }
            None => {
                tracing::warn!(
                    "no state directory (--spool): results the store cannot take are lost"
                );
                None
            }
        };
        let loader = Loader {
            path: path.clone(),
            profiles,
            pace: args.pace,
            zone: args.zone.clone(),
            store: Arc::clone(&store),
            spool: spool.clone(),
        };
        let (armed_tx, armed) = watch::channel(Arc::new(loader.load()?));
        let stop = CancellationToken::new();
        // Its zone and process in its name: the runs of a city's agents say which took what.
        let zone = args
            .zone
            .as_ref()
            .map(|zone| format!("/{zone}"))
            .unwrap_or_default();
        let owner = format!("agent@{}{zone} pid {}", host_name(), std::process::id());
        let started = Utc::now();
        let mut duties = BTreeMap::new();
        let mut tasks = Vec::new();
        for duty in Duty::ALL {
            let (state_tx, state) = watch::channel(DutyState::default());
            duties.insert(duty.as_str(), (duty, state));
            tasks.push(tokio::spawn(schedule::keep(
                duty,
                args.zone.clone(),
                armed.clone(),
                owner.clone(),
                stop.clone(),
                state_tx,
            )));
        }
        let endpoint = Endpoint {
            store: Arc::clone(&store),
            armed: armed.clone(),
            duties,
            started,
            metrics: MetricsOptions {
                per_check: args.metrics_per_check,
            },
            page: Arc::default(),
            making: Arc::default(),
            spool,
        };
        tokio::spawn(endpoint.clone().keep_fresh(stop.clone()));
        tracing::info!(listen = %args.listen, inventory = %path.display(), %owner, "agent started");
        let router = endpoint
            .router()
            .layer(axum::middleware::from_fn_with_state(
                crate::web::Users::new(web.basic_auth_users),
                crate::web::authorize,
            ));
        let server = match tls.clone() {
            None => tokio::spawn({
                let stop = stop.clone();
                async move {
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async move { stop.cancelled().await })
                        .await
                }
            }),
            Some(tls) => {
                let handle = axum_server::Handle::new();
                tokio::spawn({
                    let (stop, handle) = (stop.clone(), handle.clone());
                    async move {
                        stop.cancelled().await;
                        handle.graceful_shutdown(Some(Duration::from_secs(1)));
                    }
                });
                let listener = listener.into_std().map_err(cannot_listen)?;
                let server = axum_server::from_tcp_rustls(listener, tls)
                    .map_err(cannot_listen)?
                    .handle(handle);
                tokio::spawn(async move { server.serve(router.into_make_service()).await })
            }
        };
        let certificate = tls.zip(web.tls_server_config);
        let stopped_by = follow(&loader, &armed_tx, certificate.as_ref(), &stop).await;
        tracing::info!(
            signal = stopped_by,
            "agent stopping: runs under way are stored incomplete"
        );
        stop.cancel();
        let aborts: Vec<_> = tasks.iter().map(|task| task.abort_handle()).collect();
        let ended = tokio::time::timeout(STOP_WITHIN, futures::future::join_all(tasks)).await;
        if ended.is_err() {
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
            tracing::warn!(
                "runs did not end in time; the store marks them incomplete when their heartbeat stops"
            );
        }
        // What is left of the 10 s: a hung connection must not hold the exit.
        let _ = tokio::time::timeout(Duration::from_secs(1), server).await;
        let _ = tokio::time::timeout(Duration::from_secs(1), store.close()).await;
        Ok(())
    })
}

/// Reloads on SIGHUP (the inventory, and the endpoint's certificate when it has one) and on
/// changes to the inventory's files until SIGTERM or SIGINT; returns the signal that
/// stopped it.
async fn follow(
    loader: &Loader,
    armed: &watch::Sender<Arc<Armed>>,
    certificate: Option<&(RustlsConfig, crate::web::TlsServerConfig)>,
    stop: &CancellationToken,
) -> &'static str {
    let (mut hangup, mut terminate, mut interrupt) = match (
        signal(SignalKind::hangup()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(h), Ok(t), Ok(i)) => (h, t, i),
        _ => {
            tracing::error!("cannot listen for signals: stopping");
            return "none";
        }
    };
    let (changes_tx, mut changes) = mpsc::unbounded_channel();
    // Kept alive while the agent follows its files; without it, SIGHUP still reloads.
    let _watcher = match watch_files(&loader.path, changes_tx) {
        Ok(watcher) => Some(watcher),
        Err(error) => {
            tracing::warn!(%error, "the inventory's files are not watched: reload with SIGHUP");
            None
        }
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => return "none",
            _ = terminate.recv() => return "SIGTERM",
            _ = interrupt.recv() => return "SIGINT",
            // SIGHUP builds the engine again even for the same inventory: it reads what
            // the machine offers (its own IPv6, ping sockets, the CA file) once.
            _ = hangup.recv() => {
                loader.reload(armed, Reload::Always, "SIGHUP");
                // A renewed certificate is taken on SIGHUP (the toolkit's exporters read theirs
                // on every request; this reads it when told).
                if let Some((tls, files)) = certificate
                    && let Err(error) = tls.reload_from_pem_file(&files.cert_file, &files.key_file).await
                {
                    tracing::error!(%error, "certificate not reloaded after SIGHUP: the old one stays");
                }
            }
            Some(()) = changes.recv() => {
                // Take the rest of an editor's burst of events as one change.
                tokio::time::sleep(SETTLE).await;
                while changes.try_recv().is_ok() {}
                loader.reload(armed, Reload::IfChanged, "a change to its files");
            }
        }
    }
}

/// Whether a reload builds a new engine for an inventory that did not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reload {
    Always,
    IfChanged,
}

/// What a (re)load needs: where the inventory is and what the command line overrides.
struct Loader {
    path: PathBuf,
    profiles: Vec<Profile>,
    pace: Pace,
    /// The agent's zone, if it serves one.
    zone: Option<String>,
    store: Arc<Store>,
    spool: Option<Arc<Spool>>,
}

impl Loader {
    /// The inventory, checked, with the command line's overrides.
    fn inventory(&self) -> Result<Inventory, Failure> {
        let mut inventory = load(&self.path, &load_options(true, &self.profiles))?.inventory;
        self.pace.apply(&mut inventory.scan);
        Ok(inventory)
    }

    /// The inventory with an engine for its scan settings.
    fn load(&self) -> Result<Armed, Failure> {
        self.arm(self.inventory()?)
    }

    fn arm(&self, inventory: Inventory) -> Result<Armed, Failure> {
        if let Some(zone) = &self.zone {
            // No agent of a zone takes them: unless another runs without --zone, never scanned.
            let hosts = inventory.hosts.iter().filter(|h| h.zone.is_none()).count();
            let sites = inventory.sites.iter().filter(|s| s.zone.is_none()).count();
            if hosts + sites > 0 {
                tracing::warn!(
                    %zone, hosts, sites,
                    "hosts and sites without a zone are left to an agent without --zone"
                );
            }
        }
        let engine = Engine::new(
            &inventory.scan,
            self.profiles.clone(),
            PINGS,
            Arc::clone(&self.store),
        )?
        .spooling(self.spool.clone());
        Ok(Armed {
            inventory: Arc::new(inventory),
            engine: Arc::new(engine),
            source: self.path.display().to_string(),
        })
    }

    /// Loads again and hands the new inventory to the duties; an inventory that does not
    /// load is refused, the old one kept, and the reason logged.
    fn reload(&self, armed: &watch::Sender<Arc<Armed>>, when: Reload, why: &str) {
        // Unchanged (a touched file, an editor's swap file in a folder inventory): the
        // engine and its rate limits stay as they are.
        let loaded = self.inventory().and_then(|inventory| {
            if when == Reload::IfChanged && *armed.borrow().inventory == inventory {
                return Ok(None);
            }
            self.arm(inventory).map(Some)
        });
        match loaded {
            Ok(None) => tracing::info!("inventory unchanged after {why}: nothing to reload"),
            Ok(Some(loaded)) => {
                tracing::info!(
                    hosts = loaded.inventory.hosts.len(),
                    sites = loaded.inventory.sites.len(),
                    "inventory reloaded after {why}"
                );
                armed.send_replace(Arc::new(loaded));
            }
            Err(failure) => {
                let problems = match &failure {
                    Failure::Inventory(sixfive_inventory::LoadError::Invalid(invalid)) => {
                        (invalid.problems.iter())
                            .map(|p| format!("{}:{}:{}: {p}", p.file().display(), p.line, p.column))
                            .collect()
                    }
                    other => vec![other.to_string()],
                };
                for problem in problems {
                    tracing::error!(%problem, "inventory not reloaded after {why}: the old one stays");
                }
            }
        }
    }
}

/// The spool's folder when none is given: systemd's state directory for the service, else
/// the user's (XDG).
fn default_spool() -> Option<PathBuf> {
    if let Some(dirs) = std::env::var_os("STATE_DIRECTORY") {
        // systemd names one folder per StateDirectory=, colon-separated.
        let first = dirs.to_string_lossy().split(':').next().map(PathBuf::from);
        return first.map(|dir| dir.join("spool"));
    }
    sixfive_inventory::xdg::sixfive_dir("XDG_STATE_HOME", ".local/state")
        .map(|dir| dir.join("spool"))
}

/// FNV-1a: a name for a store's spool folder that stays the same from one run to the next
/// (std's hasher is seeded per process).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Watches the inventory: a folder with all below it, a file through its folder (editors
/// replace a file rather than write it, which a watch on the file itself would lose).
fn watch_files(
    path: &Path,
    changes: mpsc::UnboundedSender<()>,
) -> notify::Result<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let target = std::fs::canonicalize(path)?;
    let (watched, mode) = if target.is_dir() {
        (target.clone(), RecursiveMode::Recursive)
    } else {
        let folder = target.parent().unwrap_or(Path::new("/")).to_owned();
        (folder, RecursiveMode::NonRecursive)
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let ours = event
            .paths
            .iter()
            .any(|changed| changed.starts_with(&target));
        if ours && !event.kind.is_access() {
            let _ = changes.send(());
        }
    })?;
    watcher.watch(&watched, mode)?;
    Ok(watcher)
}

/// Takes the lock that makes one agent the holder of SQLite store `db`, noting who holds
/// it; a second agent is refused with the holder's name.
fn hold(db: &Path) -> Result<File, Failure> {
    // One lock however the store is named (relative, through a symlink): by its real
    // folder, which must exist, and its name.
    let folder = match db.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let name = db.file_name().unwrap_or_default().to_string_lossy();
    let real = std::fs::canonicalize(db)
        .or_else(|_| std::fs::canonicalize(folder).map(|folder| folder.join(&*name)))
        .map_err(|e| Failure::Usage(format!("no folder for the store {}: {e}", db.display())))?;
    let lock = PathBuf::from(format!("{}.agent", real.display()));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            file.rewind()?;
            writeln!(
                file,
                "agent@{} pid {} since {}",
                host_name(),
                std::process::id(),
                Utc::now().to_rfc3339()
            )?;
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Err(Failure::Unavailable(format!(
                "the store {} is held by another agent ({}); one agent per SQLite store: several agents share a PostgreSQL store",
                db.display(),
                holder.trim()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

/// The agent's HTTP side.
#[derive(Clone)]
struct Endpoint {
    store: Arc<Store>,
    armed: watch::Receiver<Arc<Armed>>,
    duties: BTreeMap<&'static str, (Duty, watch::Receiver<DutyState>)>,
    started: chrono::DateTime<Utc>,
    metrics: MetricsOptions,
    /// The last /metrics page, swapped whole when a new one is made.
    page: Arc<std::sync::RwLock<Option<Page>>>,
    /// Held while a page is made: one at a time.
    making: Arc<Mutex<()>>,
    spool: Option<Arc<Spool>>,
}

/// A /metrics page and the board version it was made at. Pages are made in the background
/// when the version moves, as reading every host's rows takes seconds at 100,000 hosts
/// (BENCHMARKS.md): a scrape gets the last one at once.
struct Page {
    version: String,
    text: Bytes,
    made: tokio::time::Instant,
    /// How long making it took: the next waits ten times as long, so that a store that
    /// changes with every host a run writes costs a tenth of a core at most.
    took: Duration,
}

impl Endpoint {
    fn current_page(&self) -> Option<Bytes> {
        let page = self
            .page
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        page.as_ref().map(|page| page.text.clone())
    }

    /// Makes a new page when the store's board version moved since the last one.
    async fn refresh(&self) -> Result<(), sixfive_inventory::StoreError> {
        let _making = self.making.lock().await;
        let version = self.store.board_version().await?;
        let fresh = {
            let page = self
                .page
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            page.as_ref()
                .is_some_and(|page| page.version == version || page.made.elapsed() < page.took * 10)
        };
        if fresh {
            return Ok(());
        }
        let started = tokio::time::Instant::now();
        let mut snapshot = self.store.metrics(self.metrics.per_check).await?;
        snapshot.probes = sixfive_checks::probe::count::counts();
        let options = self.metrics;
        // Encoding 100,000 hosts is CPU work: off the threads that time probes.
        let text = tokio::task::spawn_blocking(move || open_metrics(Arc::new(snapshot), &options))
            .await
            .unwrap_or_else(|failure| std::panic::resume_unwind(failure.into_panic()));
        *self
            .page
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Page {
            version,
            text: Bytes::from(text),
            made: started,
            took: started.elapsed(),
        });
        Ok(())
    }

    /// Keeps the page fresh until `stop`.
    async fn keep_fresh(self, stop: CancellationToken) {
        loop {
            if let Err(error) = self.refresh().await {
                tracing::warn!(%error, "the metrics page was not made again");
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(PAGE_EVERY) => {}
            }
        }
    }
}

impl Endpoint {
    fn router(self) -> Router {
        Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .with_state(self)
    }
}

/// OpenMetrics (agent.md): the store's view of the city, whichever agent wrote it, as the
/// page [`Endpoint::refresh`] made last; the first scrape makes one if none is made yet.
async fn metrics(State(endpoint): State<Endpoint>) -> Response {
    if endpoint.current_page().is_none()
        && let Err(e) = endpoint.refresh().await
    {
        let why = format!("cannot read the store: {e}\n");
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    }
    let text = endpoint.current_page().unwrap_or_default();
    let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, kind)], text).into_response()
}

/// Live while the process is; says how each duty stands, failures included.
async fn healthz(State(endpoint): State<Endpoint>) -> (StatusCode, String) {
    let mut text = String::from("ok\n");
    for (name, (_, state)) in &endpoint.duties {
        let state = state.borrow().clone();
        let last = state.last_complete.map_or("none".into(), |(at, took)| {
            format!("{} ({:.1} s)", at.to_rfc3339(), took.as_secs_f64())
        });
        let doing = match (state.running, state.idle) {
            (true, _) => "running",
            (false, true) => "nothing to do",
            (false, false) => "waiting",
        };
        text.push_str(&format!("{name}: {doing}; last complete run: {last}"));
        if let Some(why) = &state.failing {
            text.push_str(&format!("; failing: {why}"));
        }
        text.push('\n');
    }
    if let Some(spool) = &endpoint.spool {
        let held = spool.status();
        text.push_str(&format!(
            "spool {}: {} batches waiting for the store, {} set aside, {} bytes\n",
            spool.dir().display(),
            held.waiting,
            held.set_aside,
            held.bytes
        ));
    }
    (StatusCode::OK, text)
}

/// Ready when the store answers and each duty's last complete run (or the agent's start,
/// before its first) is within twice its interval.
async fn readyz(State(endpoint): State<Endpoint>) -> (StatusCode, String) {
    let mut problems = Vec::new();
    match tokio::time::timeout(STORE_ANSWERS_WITHIN, endpoint.store.board_version()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => problems.push(format!("store: {e}")),
        Err(_) => problems.push(format!(
            "store: no answer within {} s",
            STORE_ANSWERS_WITHIN.as_secs()
        )),
    }
    let schedule = endpoint.armed.borrow().inventory.scan.schedule;
    for (name, (duty, state)) in &endpoint.duties {
        let Some(interval) = duty.interval(&schedule) else {
            continue;
        };
        let state = state.borrow().clone();
        if state.idle {
            continue;
        }
        let since = state.last_complete.map_or(endpoint.started, |(at, _)| at);
        let age = (Utc::now() - since).to_std().unwrap_or_default();
        if age > interval * 2 {
            problems.push(format!(
                "{name}: no complete run for {}",
                humantime::format_duration(Duration::from_secs(age.as_secs()))
            ));
        }
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n".into())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{}\n", problems.join("\n")),
        )
    }
}
