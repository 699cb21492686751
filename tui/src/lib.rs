//! sixfive's terminal UI: the migration as network engineers track it. It draws from
//! store snapshots that a background task reads (on start, then whenever the store
//! changes), so a frame never waits on the database or the network, and it owns no
//! network code: scans reach it only through the store.

mod app;
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

pub use app::{App, Outcome, Screen};
pub use recheck::{Recheck, Rechecking, Target};
pub use render::{Theme, draw};
pub use snapshot::{Loaded, load};

/// What the UI needs besides the store.
#[derive(Clone)]
pub struct Options {
    /// The header's description of what is shown (the city, the store).
    pub label: String,
    /// The level a host must reach to count as ready.
    pub require: Level,
    /// Starts `r`'s re-checks; without it `r` says why it cannot.
    pub recheck: Option<Arc<dyn Recheck>>,
}

/// Runs the UI until the user quits: the snapshot loader on the current tokio runtime,
/// the terminal on a blocking thread. The terminal is restored on every way out,
/// a panic included (ratatui's hook).
pub async fn run(store: Arc<Store>, options: Options) -> io::Result<()> {
    let snapshots = load(store, snapshot::POLL);
    tokio::task::spawn_blocking(move || {
        let mut terminal = ratatui::init();
        let outcome = ui(&mut terminal, snapshots, options);
        ratatui::restore();
        outcome
    })
    .await
    .map_err(io::Error::other)?
}

fn ui(
    terminal: &mut ratatui::DefaultTerminal,
    mut snapshots: tokio::sync::watch::Receiver<Loaded>,
    options: Options,
) -> io::Result<()> {
    let theme = Theme::from_env();
    let mut app = App::new(options.label, options.require);
    // The status line shows a store failure until the store reads again.
    let mut store_failed = false;
    loop {
        if snapshots.has_changed().unwrap_or(false) {
            match snapshots.borrow_and_update().clone() {
                Loaded::Ready { board, at } => {
                    if std::mem::take(&mut store_failed) {
                        app.status = None;
                    }
                    app.set_board(board, at);
                }
                Loaded::Failed(why) => {
                    app.status = Some(why);
                    store_failed = true;
                }
                Loaded::Loading => {}
            }
        }
        app.now = chrono::Utc::now();
        terminal.draw(|frame| render::draw(frame, &mut app, theme))?;
        // Short enough that a new snapshot shows at once, long enough to idle.
        if event::poll(Duration::from_millis(250))?
            && let Event::Key(key) = event::read()?
            && key.kind == KeyEventKind::Press
            && app.key(key) == Outcome::Quit
        {
            return Ok(());
        }
    }
}
