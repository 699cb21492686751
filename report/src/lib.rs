//! sixfive's outputs: typed documents (`sixfive.check/v1`, `sixfive.sites/v1`,
//! `sixfive.scan/v1`) with the JSON Schemas generated from the same types (`sixfive schema`),
//! and one writer per format (json, junit, sarif, github, table; OpenMetrics for the
//! agent's `/metrics`), built from the store's types only and shared by `check` and `sites`
//! (and later the reports). It never probes and never reads the store itself: callers hand
//! it what a run found.

pub mod document;
mod finding;
pub mod github;
pub mod json;
pub mod junit;
pub mod metrics;
pub mod progress;
pub mod sarif;
pub mod table;

pub use document::{
    CheckDocument, CheckHead, CheckSummary, HostEntry, ScanDocument, ScannerInfo, SitesDocument,
    schema,
};
