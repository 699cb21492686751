//! `sixfive demo`: enters a private network namespace, starts the demo city there
//! (sixfive-demo), scans it a few times through the run driver into a store of its own,
//! then opens the TUI on it, or prints the last run's check table when stdout is not a
//! terminal. Wiring only: the city's servers live in the demo crate.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use sixfive_checks::sites::poller::PINGS;
use sixfive_checks::{Engine, RunRequest};
use sixfive_demo::city::{City, adapt};
use sixfive_demo::plan::{Plan, RUNS};
use sixfive_demo::web::Pki;
use sixfive_demo::{example, namespace};
use sixfive_inventory::run::Finished;
use sixfive_inventory::{Store, StoreUrl};

use crate::Failure;
use crate::check::Summary;
use crate::cli::Global;
use crate::inventory::{block_on, load, load_options, open_store, profiles, who};

/// What the runs record as the inventory's source.
const SOURCE: &str = "sixfive demo (inventory/examples/danang, built in)";

/// `color` colours the table on stdout.
pub fn run(global: &Global, color: bool) -> Result<u8, Failure> {
    // First, while the process has one thread: unshare refuses a threaded process.
    namespace::enter().map_err(|e| {
        Failure::Scanner(format!(
            "{e}; the demo runs in a private network namespace, which needs unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, or AppArmor's restrict_unprivileged_userns)"
        ))
    })?;
    let folder = tempfile::Builder::new().prefix("sixfive-demo-").tempdir()?;
    example::write(folder.path())?;
    let profiles = profiles(global)?;
    let mut inventory = load(folder.path(), &load_options(true, &profiles))?.inventory;
    let plan = Plan::of(&inventory);
    namespace::add_addresses(&plan.addresses()).map_err(|e| Failure::Scanner(e.to_string()))?;
    let pki = Pki::new().map_err(|e| Failure::Scanner(e.to_string()))?;
    let ca_file = folder.path().join("demo-ca.pem");
    std::fs::write(&ca_file, pki.ca_pem())?;
    adapt(&mut inventory, ca_file);
    let require = inventory.scan.require;
    let inventory = Arc::new(inventory);
    // Only --db chooses another store: SIXFIVE_DB names the user's own store, whose
    // inventory the demo's import would replace.
    let from_env = std::env::var_os("SIXFIVE_DB").map(|v| v.to_string_lossy().into_owned());
    let demo_store = match &global.db {
        Some(db) if Some(db) != from_env.as_ref() => None,
        _ => Some(fresh_store()?),
    };
    block_on(async {
        let mut city = City::start(&inventory, plan, pki)
            .await
            .map_err(|e| Failure::Scanner(e.to_string()))?;
        let store = Arc::new(match &demo_store {
            Some(url) => Store::open(url).await?,
            None => open_store(global).await?,
        });
        let engine = Engine::new(&inventory.scan, profiles, PINGS, Arc::clone(&store))?;
        let started = std::time::Instant::now();
        let (mut reports, mut states, mut levels) = (Vec::new(), Vec::new(), Vec::new());
        for run in 1..=RUNS {
            city.set_run(run)
                .await
                .map_err(|e| Failure::Scanner(e.to_string()))?;
            (reports, states, levels) = (Vec::new(), Vec::new(), Vec::new());
            let request = RunRequest {
                hosts: inventory.hosts.clone(),
                sites: inventory.sites.clone(),
                owner: format!("demo@{}", who()),
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
        // stderr is for people; one that cannot be written to is no reason to stop.
        let _ = writeln!(
            err,
            "sixfive demo: {RUNS} runs of the example city in {:.1} s, in a private network namespace; store {}",
            started.elapsed().as_secs_f64(),
            store.url()
        );
        drop(err);
        if std::io::stdout().is_terminal() {
            let recheck = crate::tui::DriverRecheck::new(Arc::new(engine), Arc::clone(&inventory));
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
