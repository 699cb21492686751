//! The demo city behind `sixfive demo`: the example Da Nang inventory served in-process by
//! DNS, HTTP(S), SMTP and SNMP servers that carry the faults real cities have, so the whole
//! product can be shown on a fresh machine without sending a packet beyond it.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

pub mod city;
pub mod dns;
pub mod example;
pub mod namespace;
pub mod plan;
pub mod ports;
pub mod smtp;
pub mod snmp;
pub mod web;

/// What a listener serves, by the host name a connection asks for: one host at an address
/// of its own, or every host at the loopback plan's shared ::1. Set anew for each run.
#[derive(Debug)]
pub struct Routes<T>(Arc<RwLock<BTreeMap<String, T>>>);

impl<T> Clone for Routes<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Default for Routes<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T: Clone> Routes<T> {
    pub fn set(&self, routes: BTreeMap<String, T>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = routes;
    }

    /// What `host` is served, if this listener serves it now.
    pub fn get(&self, host: &str) -> Option<T> {
        let routes = self.0.read().unwrap_or_else(PoisonError::into_inner);
        routes.get(&host.to_ascii_lowercase()).cloned()
    }

    /// The first host served, for a protocol that names no host (SMTP's greeting).
    pub fn first(&self) -> Option<(String, T)> {
        let routes = self.0.read().unwrap_or_else(PoisonError::into_inner);
        routes
            .first_key_value()
            .map(|(k, v)| (k.clone(), v.clone()))
    }
}
