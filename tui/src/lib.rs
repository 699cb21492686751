//! sixfive's terminal UI: the migration as network engineers track it. It draws from
//! store snapshots that a background task reads (on start, then whenever the store
//! changes), so a frame never waits on the database or the network, and it owns no
//! network code: scans reach it only through the store.

mod app;
mod config;
mod export;
mod keys;
mod query;
mod recheck;
mod render;
#[cfg(test)]
mod screens;
mod snapshot;
mod summary;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};
use sixfive_inventory::Store;
use sixfive_inventory::model::Level;

pub use app::{App, Notice, Outcome, Request, Screen};
pub use config::{Config, ConfigError};
pub use recheck::{Recheck, Rechecking, Target};
pub use render::{Colors, Theme, draw};
pub use snapshot::{Ask, Detail, Loaded, Reply, Worker, start};

/// The parsers of what users type that the fuzz targets (`fuzz/`) call: filter queries
/// and key names. Hidden from the docs; nothing else should use them.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::keys::Key;
    pub use crate::query::Query;
}

/// What the UI needs besides the store.
#[derive(Clone)]
pub struct Options {
    /// The header's description of what is shown (the city, the store).
    pub label: String,
    /// The level a host must reach to count as ready.
    pub require: Level,
    /// Starts `r`'s re-checks; without it `r` says why it cannot.
    pub recheck: Option<Arc<dyn Recheck>>,
    /// Who edits, for the audit log.
    pub who: String,
    /// Keys and colours from the config file.
    pub config: Config,
    /// Colour at all (NO_COLOR and `--color` decide).
    pub color: bool,
}

/// Runs the UI until the user quits: the store worker on the current tokio runtime, the
/// terminal on a blocking thread. The terminal is restored on every way out, a panic
/// included (ratatui's hook).
pub async fn run(store: Arc<Store>, options: Options) -> io::Result<()> {
    let worker = start(store, snapshot::POLL);
    tokio::task::spawn_blocking(move || {
        let mut terminal = ratatui::try_init()?;
        let outcome = ui(&mut terminal, worker, options);
        ratatui::restore();
        outcome
    })
    .await
    .map_err(io::Error::other)?
}

/// A worker that stopped (it panicked) leaves the UI on stale data: the status line says so.
const WORKER_STOPPED: &str = "the store worker stopped: the screen no longer updates and edits are not stored; restart the UI";

fn ui(
    terminal: &mut ratatui::DefaultTerminal,
    mut worker: Worker,
    options: Options,
) -> io::Result<()> {
    let theme = Theme {
        color: options.color,
        colors: options.config.colors,
    };
    let mut app = App::new(options.label, options.require);
    app.bindings = options.config.bindings;
    app.report_lang = options.config.report_lang;
    app.who = options.who;
    // The status line shows a store failure until the store reads again.
    let mut store_failed = false;
    loop {
        match worker.boards.has_changed() {
            Err(_) => app.status = Some(Notice::trouble(WORKER_STOPPED)),
            Ok(false) => {}
            Ok(true) => match worker.boards.borrow_and_update().clone() {
                Loaded::Ready { board, at } => {
                    if std::mem::take(&mut store_failed) {
                        app.status = None;
                    }
                    app.set_board(board, at);
                }
                Loaded::Failed(why) => {
                    app.status = Some(Notice::trouble(why));
                    store_failed = true;
                }
                Loaded::Loading => {}
            },
        }
        while let Ok(reply) = worker.replies.try_recv() {
            app.reply(reply);
        }
        for request in std::mem::take(&mut app.outbox) {
            match request {
                Request::Store(ask) => {
                    if worker.asks.send(ask).is_err() {
                        app.status = Some(Notice::trouble(WORKER_STOPPED));
                    }
                }
                Request::Recheck(target) => {
                    let started = match &options.recheck {
                        Some(recheck) => recheck.start(target.clone()),
                        None => Err("open the UI with --inventory to re-check".into()),
                    };
                    app.recheck_started(target, started);
                }
            }
        }
        app.tick();
        app.now = chrono::Utc::now();
        terminal.draw(|frame| render::draw(frame, &mut app, theme))?;
        // Short enough that a new snapshot shows at once, long enough to idle; every key
        // waiting is taken before the next frame, repeats included.
        let mut wait = Duration::from_millis(250);
        while event::poll(wait)? {
            wait = Duration::ZERO;
            if let Event::Key(key) = event::read()?
                && key.kind != KeyEventKind::Release
                && app.key(key) == Outcome::Quit
            {
                return Ok(());
            }
        }
    }
}
