//! `sixfive tui`: the terminal UI over the store (wiring only; the UI is sixfive-tui), and
//! the run driver handed to it for `r`'s re-checks.

use std::io::IsTerminal;
use std::sync::Arc;

use sixfive_checks::sites::poller::PINGS;
use sixfive_checks::{Engine, RecheckRequest};
use sixfive_inventory::model::Level;
use sixfive_inventory::{Inventory, Store, StoreUrl};
use sixfive_tui::{Config, Recheck, Rechecking, Target};
use tokio::sync::oneshot;

use crate::Failure;
use crate::cli::{Global, TuiArgs};
use crate::inventory::{block_on, inventory_path, load, load_options, open_store, profiles, who};

/// `color`: `--color` and NO_COLOR's verdict for stdout.
pub fn run(args: TuiArgs, global: &Global, color: bool) -> Result<(), Failure> {
    if !std::io::stdout().is_terminal() {
        return Err(Failure::Usage(
            "sixfive tui needs a terminal; for output a script can read, use `sixfive check --format json`"
                .into(),
        ));
    }
    let profiles = profiles(global)?;
    let inventory = match &global.inventory {
        Some(_) => {
            let path = inventory_path(None, global)?;
            let loaded = load(&path, &load_options(false, &profiles))?;
            Some(Arc::new(loaded.inventory))
        }
        None => None,
    };
    let require = args
        .require
        .or(inventory.as_ref().map(|i| i.scan.require))
        .unwrap_or(Level::L2);
    block_on(async {
        let store = Arc::new(open_store(global).await?);
        let recheck = match inventory {
            Some(inventory) => {
                let engine = Engine::new(&inventory.scan, profiles, PINGS, Arc::clone(&store))?;
                let owner = format!("tui@{}", who());
                Some(DriverRecheck::new(Arc::new(engine), inventory, owner))
            }
            None => None,
        };
        open(store, require, recheck, color).await
    })
}

/// Opens the UI on `store` until the user quits, with the keys and colours of the user's
/// config file; `recheck` makes `r` work.
pub async fn open(
    store: Arc<Store>,
    require: Level,
    recheck: Option<DriverRecheck>,
    color: bool,
) -> Result<(), Failure> {
    let config = match Config::default_path() {
        Some(path) => Config::load(&path).map_err(|e| Failure::Usage(e.to_string()))?,
        None => Config::default(),
    };
    // A SQLite store by its file name, as the header has 80 columns to share; a
    // PostgreSQL one by its URL, which never carries the password.
    let label = match store.url() {
        StoreUrl::Sqlite(path) => path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        ),
        other => other.to_string(),
    };
    let options = sixfive_tui::Options {
        label,
        require,
        recheck: recheck.map(|r| Arc::new(r) as Arc<dyn Recheck>),
        who: who(),
        config,
        color,
    };
    Ok(sixfive_tui::run(store, options).await?)
}

/// `r` in the UI: one stored run of one host or site through the run driver, as the store
/// has it now (the UI's copy of the inventory file may be older).
pub struct DriverRecheck {
    engine: Arc<Engine>,
    inventory: Arc<Inventory>,
    owner: String,
}

impl DriverRecheck {
    /// `inventory` gives the scan's settings and the sites' SNMP credentials; the hosts
    /// and sites come from the store. `owner` is recorded with each run (`tui@alice`).
    pub fn new(engine: Arc<Engine>, inventory: Arc<Inventory>, owner: String) -> Self {
        Self {
            engine,
            inventory,
            owner,
        }
    }
}

impl Recheck for DriverRecheck {
    fn start(&self, target: Target) -> Result<Rechecking, String> {
        let (hosts, sites) = match target {
            Target::Host(fqdn) => (vec![fqdn], Vec::new()),
            // Its SNMP credentials are the file's: the store keeps none.
            Target::Site(id) if !self.inventory.sites.iter().any(|s| s.id == id) => {
                return Err(format!(
                    "{id} is not in the inventory file the UI was opened with, which holds its SNMP credentials: open the UI again"
                ));
            }
            Target::Site(id) => (Vec::new(), vec![id]),
        };
        let request = RecheckRequest {
            hosts,
            sites,
            owner: self.owner.clone(),
        };
        let run = self.engine.recheck(Arc::clone(&self.inventory), request);
        let progress = run.progress.clone();
        let (done_tx, done) = oneshot::channel();
        tokio::spawn(async move {
            let outcome = run.finish().await.map(|o| o.run).map_err(|e| e.to_string());
            // The UI may have quit meanwhile; the run is stored all the same.
            let _ = done_tx.send(outcome);
        });
        Ok(Rechecking { progress, done })
    }
}
