//! What `r` needs from outside the UI: the binary hands the UI a [`Recheck`] that starts
//! a stored run of one host or site through the run driver. The UI never sees the checks
//! crate; it watches the run's progress and learns of its end through channels.

use sixfive_inventory::run::{Progress, RunId};
use tokio::sync::{oneshot, watch};

/// The host or site to check again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Host(String),
    Site(String),
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::Host(name) | Target::Site(name) => name,
        }
    }
}

/// A re-check under way.
pub struct Rechecking {
    pub progress: watch::Receiver<Progress>,
    /// The stored run, or why it failed.
    pub done: oneshot::Receiver<Result<RunId, String>>,
}

/// Starts re-checks; implemented by the binary over the run driver.
pub trait Recheck: Send + Sync {
    /// Starts one stored run of `target` (on the current tokio runtime), or says why not
    /// (an unknown name, no inventory to take its settings from).
    fn start(&self, target: Target) -> Result<Rechecking, String>;
}
