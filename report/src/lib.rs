//! sixfive's machine-readable outputs as typed documents: `sixfive.check/v1`,
//! `sixfive.sites/v1` and `sixfive.scan/v1`, built from the store's types only, and the JSON
//! Schemas generated from the same types (`sixfive schema check|sites|scan`), so what is
//! written and what is promised cannot drift apart. It never probes and never reads the
//! store itself: callers hand it what a run found.

pub mod document;

pub use document::{
    CheckDocument, CheckHead, CheckSummary, HostEntry, ScanDocument, ScannerInfo, SitesDocument,
    schema,
};
