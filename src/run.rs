//! Wiring between a command and the run driver: the progress bar on a terminal, one Ctrl-C
//! handler for the whole run, and each finished host or site handed to the command's output.

use std::io::IsTerminal;
use std::sync::Arc;

use sixfive_checks::{Engine, RunOutcome, RunRequest};
use sixfive_inventory::Inventory;
use sixfive_inventory::run::Finished;
use sixfive_inventory::store::RunStatus;
use tokio::signal::unix::{SignalKind, signal};

use crate::Failure;

/// Runs `request`, handing each finished host or site to `each` as it comes; a run cut
/// short by Ctrl-C or SIGTERM is stored incomplete and is [`Failure::Interrupted`].
pub async fn drive(
    engine: &Engine,
    inventory: Arc<Inventory>,
    request: RunRequest,
    mut each: impl FnMut(Finished),
) -> Result<RunOutcome, Failure> {
    // One handler for the run, listening before the run starts: a press while a batch is
    // being written is not lost. SIGTERM (systemd, a container) stops it the same way; a
    // second signal while the run closes ends the process at once.
    let listen = |kind| {
        signal(kind).map_err(|e| Failure::Scanner(format!("cannot listen for signals: {e}")))
    };
    let (mut interrupts, mut terms) = (
        listen(SignalKind::interrupt())?,
        listen(SignalKind::terminate())?,
    );
    let inventory_rate = inventory.scan.rate;
    let mut run = engine.start(inventory, request);
    let cancel = run.cancel.clone();
    let interrupt = tokio::spawn(async move {
        tokio::select! { _ = interrupts.recv() => {}, _ = terms.recv() => {} }
        cancel.cancel();
        tokio::select! { _ = interrupts.recv() => {}, _ = terms.recv() => {} }
        std::process::exit(130);
    });
    let bar = progress_bar(run.progress.borrow().total(), inventory_rate);
    let mut progress = run.progress.clone();
    let shown = bar.clone();
    let watcher = tokio::spawn(async move {
        while progress.changed().await.is_ok() {
            shown.set_position(progress.borrow().done() as u64);
        }
    });
    while let Some(finished) = run.finished.recv().await {
        each(finished);
    }
    let outcome = run.finish().await;
    interrupt.abort();
    watcher.abort();
    bar.finish_and_clear();
    let outcome = outcome?;
    if outcome.status == RunStatus::Incomplete {
        return Err(Failure::Interrupted);
    }
    Ok(outcome)
}

/// A progress bar on stderr when it is a terminal, naming the rate its ETA follows from.
fn progress_bar(total: usize, rate: sixfive_inventory::model::Rate) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos}/{len} {wide_bar} {eta} at {msg}")
            .expect("the template is valid"),
    );
    bar.set_message(format!("{rate}"));
    bar
}
