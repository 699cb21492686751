//! `sixfive demo`: enters a private network namespace, starts the demo city there
//! (sixfive-demo), scans it a few times through the run driver into a store of its own,
//! then opens the TUI on it, or prints the last run's check table when stdout is not a
//! terminal. Where the kernel refuses the namespace, the same city and runs go onto the
//! machine's loopback, the scan confined to it. Wiring only: the city's servers live in
//! the demo crate.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use sixfive_checks::network::Loopback;
use sixfive_checks::sites::poller::PINGS;
use sixfive_checks::{Engine, RunRequest};
use sixfive_demo::city::{City, adapt};
use sixfive_demo::namespace::NamespaceError;
use sixfive_demo::plan::{Addressing, Plan, RUNS};
use sixfive_demo::web::Pki;
use sixfive_demo::{example, namespace};
use sixfive_inventory::run::Finished;
use sixfive_inventory::{Store, StoreUrl};

use crate::Failure;
use crate::check::Summary;
use crate::cli::Global;
use crate::inventory::{block_on, load, load_options, profiles, who};

/// What the runs record as the inventory's source.
const SOURCE: &str = "sixfive demo (inventory/examples/danang, built in)";

/// `color` colours the table on stdout.
pub fn run(global: &Global, color: bool) -> Result<u8, Failure> {
    let chosen = chosen_store(global)?;
    // First, while the process has one thread: unshare refuses a threaded process.
    let addressing = match namespace::enter() {
        Ok(()) => Addressing::Namespace,
        Err(NamespaceError::Refused(why)) => {
            eprintln!("{}", fallback_note(&why));
            Addressing::Loopback
        }
        Err(e) => return Err(Failure::Scanner(e.to_string())),
    };
    let folder = tempfile::Builder::new().prefix("sixfive-demo-").tempdir()?;
    example::write(folder.path())?;
    let profiles = profiles(global)?;
    let mut inventory = load(folder.path(), &load_options(true, &profiles))?.inventory;
    let plan = Plan::of(&inventory, addressing);
    if addressing == Addressing::Namespace {
        namespace::add_addresses(&plan.addresses()).map_err(|e| Failure::Scanner(e.to_string()))?;
    }
    let pki = Pki::new().map_err(|e| Failure::Scanner(e.to_string()))?;
    let ca_file = folder.path().join("demo-ca.pem");
    std::fs::write(&ca_file, pki.ca_pem())?;
    adapt(&mut inventory, ca_file, &plan);
    let require = inventory.scan.require;
    block_on(async {
        let store = Arc::new(demo_store(chosen).await?);
        let mut city = City::start(&mut inventory, plan, pki)
            .await
            .map_err(|e| Failure::Scanner(e.to_string()))?;
        let inventory = Arc::new(inventory);
        let engine = match addressing {
            Addressing::Namespace => {
                Engine::new(&inventory.scan, profiles, PINGS, Arc::clone(&store))?
            }
            Addressing::Loopback => {
                let loopback = Loopback {
                    ports: city.ports().clone(),
                };
                let store = Arc::clone(&store);
                Engine::on_loopback(&inventory.scan, profiles, PINGS, store, loopback)?
            }
        };
        let started = std::time::Instant::now();
        // The demo's own name on its runs and the UI's re-checks: `--db` takes back a store
        // that only the demo wrote.
        let owner = format!("{DEMO_OWNER}{}", who());
        let (mut reports, mut states, mut levels) = (Vec::new(), Vec::new(), Vec::new());
        for run in 1..=RUNS {
            city.set_run(run)
                .await
                .map_err(|e| Failure::Scanner(e.to_string()))?;
            (reports, states, levels) = (Vec::new(), Vec::new(), Vec::new());
            let request = RunRequest {
                hosts: inventory.hosts.clone(),
                sites: inventory.sites.clone(),
                owner: owner.clone(),
                source: SOURCE.into(),
            };
            crate::run::drive(
                &engine,
                Arc::clone(&inventory),
                request,
                |finished| match finished {
                    Finished::Host(report) => {
                        levels.push(report.level.clone());
                        reports.push(*report);
                    }
                    Finished::Site(report) => states.push(report.state),
                },
            )
            .await?;
            let summary = Summary::of(&levels, require, engine.own_v6());
            tracing::info!(run, hosts = %summary.line(), "demo run stored");
        }
        let mut err = std::io::stderr().lock();
        let place = match addressing {
            Addressing::Namespace => "in a private network namespace",
            Addressing::Loopback => {
                "on this machine's loopback (127.0.0.1/::1; the kernel refused a private network namespace)"
            }
        };
        // stderr is for people; one that cannot be written to is no reason to stop.
        let _ = writeln!(
            err,
            "sixfive demo: {RUNS} runs of the example city in {:.1} s, {place}; store {}",
            started.elapsed().as_secs_f64(),
            store.url()
        );
        drop(err);
        if std::io::stdout().is_terminal() {
            let recheck =
                crate::tui::DriverRecheck::new(Arc::new(engine), Arc::clone(&inventory), owner);
            crate::tui::open(store, require, Some(recheck), color).await?;
        } else {
            store.close().await;
            reports.sort_by(|a, b| a.host.fqdn.cmp(&b.host.fqdn));
            let summary = Summary::of(&levels, require, engine.own_v6());
            let mut out = std::io::stdout().lock();
            sixfive_report::table::check(&reports, require).write(&mut out, color)?;
            writeln!(out, "hosts  {}", summary.line())?;
            writeln!(
                out,
                "sites  {}",
                crate::scan::sites_line(&crate::scan::by_state(&states))
            )?;
        }
        // The city stops with the process's namespace; dropping it first closes its sockets.
        drop(city);
        Ok(0)
    })
}

/// What the demo says when the kernel refuses it a namespace, and what that changes.
fn fallback_note(why: &nix::Error) -> String {
    format!(
        "sixfive demo: the kernel refuses a private network namespace ({why}; unprivileged user namespaces are off: sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, or AppArmor's restrict_unprivileged_userns), so the city's servers run on this machine's loopback instead, on 127.0.0.1/::1 at ports of their own, and the scan probes loopback alone. There ::1 is every host's IPv6 address: a fault that needs a host's own (an AAAA nothing listens on, a port open over IPv4 only) shows as ::1 closing that host's web connections."
    )
}

/// Runs the demo writes as: `demo@` and the user.
const DEMO_OWNER: &str = "demo@";

/// The store `--db` names, if the demo may write it, or None for the demo's own. Only
/// --db chooses another store: SIXFIVE_DB names the user's own store, whose inventory the
/// demo's import would replace. A PostgreSQL over TCP is a city's shared store: never.
fn chosen_store(global: &Global) -> Result<Option<StoreUrl>, Failure> {
    let from_env = std::env::var_os("SIXFIVE_DB").map(|v| v.to_string_lossy().into_owned());
    if global.db.is_none() || global.db == from_env {
        return Ok(None);
    }
    let url = crate::inventory::store_url(global)?;
    if let StoreUrl::Postgres { options, .. } = &url
        && options.get_socket().is_none()
    {
        return Err(Failure::Usage(format!(
            "--db {url}: the demo does not write to a PostgreSQL server over the network, which is a city's shared store (its import would replace the city's inventory); give it a new SQLite file, or none for its own"
        )));
    }
    Ok(Some(url))
}

/// Opens the demo's store: its own, made afresh, or `chosen` when that is new or holds
/// the demo's imports and runs alone.
async fn demo_store(chosen: Option<StoreUrl>) -> Result<Store, Failure> {
    let Some(url) = chosen else {
        return Ok(Store::open(&fresh_store()?).await?);
    };
    let store = Store::open(&url).await?;
    // A new store has neither; a user's has imports and runs of their own.
    let runs = store.runs().await?;
    let changes = store.history(None).await?;
    let other = runs
        .iter()
        .map(|run| &run.agent)
        .chain(changes.iter().map(|change| &change.who))
        .find(|who| !who.starts_with(DEMO_OWNER))
        .cloned();
    if let Some(who) = other {
        store.close().await;
        return Err(Failure::Usage(format!(
            "--db {url} holds more than the demo's runs (written by {who}): the demo imports its own city over a store's inventory, so it writes only a new store or one of its own"
        )));
    }
    Ok(store)
}

/// The demo's own SQLite store beside the default one, emptied: each demo starts afresh.
fn fresh_store() -> Result<StoreUrl, Failure> {
    let StoreUrl::Sqlite(default) =
        StoreUrl::default_sqlite().map_err(|e| Failure::Usage(e.to_string()))?
    else {
        unreachable!("the default store is SQLite")
    };
    let path = default.with_file_name("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        match std::fs::remove_file(format!("{}{suffix}", path.display())) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let url = StoreUrl::Sqlite(path);
    url.create_folder()?;
    Ok(url)
}
