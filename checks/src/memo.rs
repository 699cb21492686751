//! Computes each key's value once, however many tasks ask for it at the same time: how
//! two checks, or two hosts of one zone, share a probe instead of sending it twice.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use tokio::sync::{Mutex, OnceCell};

pub struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    pub fn new() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every value; a computation under way still finishes for those waiting on it.
    pub async fn clear(&self) {
        self.cells.lock().await.clear();
    }

    /// The value for `key`, running `compute` only if no one has.
    pub async fn get<F: Future<Output = V>>(&self, key: &K, compute: impl FnOnce() -> F) -> V {
        let cell = {
            let mut cells = self.cells.lock().await;
            Arc::clone(cells.entry(key.clone()).or_default())
        };
        cell.get_or_init(compute).await.clone()
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Default for Memo<K, V> {
    fn default() -> Self {
        Self::new()
    }
}
