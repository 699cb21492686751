//! sixfive's inventory: the model of a city's agencies, application hosts and 5G sites,
//! its YAML loader with validation, its JSON Schema, and the store that keeps it with its
//! history, scan results and audit log.
//!
//! This crate knows nothing of how hosts are probed: the checks crate writes results
//! through [`store`], and the TUI and reports read them back.

pub mod diagnostic;
pub mod load;
pub mod model;
mod pattern;
pub mod results;
pub mod run;
pub mod schema;
pub mod store;
pub mod xdg;

pub use diagnostic::{InventoryError, Problem, Severity};
pub use load::{
    LoadError, LoadOptions, Loaded, Place, did_you_mean, load, load_at_revision, load_str,
};
pub use model::Inventory;
pub use store::{Store, StoreError, StoreUrl};
