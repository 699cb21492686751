//! `sixfive tui`: the terminal UI over the store (wiring only; the UI is sixfive-tui).

use std::io::IsTerminal;

use sixfive_inventory::StoreUrl;
use sixfive_inventory::model::Level;

use crate::Failure;
use crate::cli::{Global, TuiArgs};
use crate::inventory::{block_on, load, load_options, open_store, profiles};

pub fn run(args: TuiArgs, global: &Global) -> Result<(), Failure> {
    if !std::io::stdout().is_terminal() {
        return Err(Failure::Usage(
            "sixfive tui needs a terminal; for output a script can read, use `sixfive check --format json`"
                .into(),
        ));
    }
    let inventory = match &global.inventory {
        Some(path) => Some(load(path, &load_options(false, &profiles(global)?))?.inventory),
        None => None,
    };
    let require = args
        .require
        .or(inventory.as_ref().map(|i| i.scan.require))
        .unwrap_or(Level::L2);
    block_on(async {
        let store = open_store(global).await?;
        // A SQLite store by its file name, as the header has 80 columns to share; a
        // PostgreSQL one by its URL, which never carries the password.
        let label = match store.url() {
            StoreUrl::Sqlite(path) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            ),
            other => other.to_string(),
        };
        let options = sixfive_tui::Options { label, require };
        Ok(sixfive_tui::run(store, options).await?)
    })
}
