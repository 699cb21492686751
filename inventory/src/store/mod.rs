//! The store: the inventory as imported with the history of every change, scan runs with
//! their check results and site samples, and an audit log of hand edits.
//!
//! SQLite (embedded, the default) and PostgreSQL (shared by several agents) run the same
//! SQL through [`on_pool!`]; only the migrations differ. Every write that belongs together
//! is one transaction, so a crash leaves the store as it was before or after, never between.

mod url;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{PgPool, Row, SqlitePool};

pub use self::url::{StoreUrl, UrlError};
use crate::model::Level;
use crate::model::{Agency, Host, Inventory, Site};
use crate::results::{CheckRecord, HostLevel, SiteSample, text_enum};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("cannot create the store's folder {}: {source}", path.display())]
    Folder {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the store {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot update the store's schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("no {kind} `{key}` in the store")]
    NotFound { kind: &'static str, key: String },
    #[error("{0}")]
    BadEdit(String),
    #[error("scan run {0} is not running: it was finished or interrupted")]
    RunClosed(i64),
    #[error("a stored {kind} is not readable: {reason}")]
    Corrupt { kind: &'static str, reason: String },
}

/// A stored text read back as `T`, or the store is corrupt.
fn stored<T: std::str::FromStr<Err = String>>(
    text: &str,
    kind: &'static str,
) -> Result<T, StoreError> {
    text.parse()
        .map_err(|reason| StoreError::Corrupt { kind, reason })
}

enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The few statements that differ between the backends.
struct Dialect {
    /// Starts a transaction that will write, taking the write lock at once so that two
    /// writers queue instead of one failing half-way.
    begin_write: &'static str,
    /// Serialises imports against each other (SQLite's write lock already does).
    lock_inventory: Option<&'static str>,
}

const SQLITE: Dialect = Dialect {
    begin_write: "BEGIN IMMEDIATE",
    lock_inventory: None,
};

const POSTGRES: Dialect = Dialect {
    begin_write: "BEGIN",
    lock_inventory: Some("LOCK TABLE entities IN SHARE ROW EXCLUSIVE MODE"),
};

/// Runs the same code on whichever pool the store has; the SQL must suit both dialects,
/// except what [`Dialect`] names.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        on_pool!($store, $pool, _dialect => $body)
    };
    ($store:expr, $pool:ident, $dialect:ident => $body:expr) => {
        match &$store.backend {
            Backend::Sqlite($pool) => {
                let $dialect = &SQLITE;
                $body
            }
            Backend::Postgres($pool) => {
                let $dialect = &POSTGRES;
                $body
            }
        }
    };
}

/// Writes a batch for a running scan in one transaction: all of it, or none when the run
/// was already finished or interrupted.
macro_rules! in_running_run {
    ($store:expr, $run:expr, $tx:ident => $body:expr) => {
        on_pool!($store, pool => {
            let mut $tx = pool.begin().await?;
            ensure_running(&mut $tx, $run).await?;
            $body;
            $tx.commit().await?;
            Ok(())
        })
    };
}

pub struct Store {
    backend: Backend,
    url: StoreUrl,
}

/// What kind of entry an inventory row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Agency,
    Host,
    Site,
}

text_enum!(Kind {
    Agency = "agency",
    Host = "host",
    Site = "site",
});

/// What one import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// None when the inventory matched the store and nothing was written.
    pub import_id: Option<i64>,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// One entry of an entity's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub import_id: i64,
    pub at: DateTime<Utc>,
    pub who: String,
    pub kind: Kind,
    pub key: String,
    pub change: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A stored entry with when it came and, if it left the inventory, when it went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stored<T> {
    #[serde(flatten)]
    pub entry: T,
    pub added_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    /// Hand edits (stage, owner, note) over what the inventory file says.
    pub annotations: BTreeMap<String, String>,
}

/// A field that people edit by hand, over the inventory file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditField {
    Stage,
    Owner,
    Note,
}

impl EditField {
    fn as_str(self) -> &'static str {
        match self {
            EditField::Stage => "stage",
            EditField::Owner => "owner",
            EditField::Note => "note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub who: String,
    pub kind: Kind,
    pub key: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Complete,
    Incomplete,
}

text_enum!(RunStatus {
    Running = "running",
    Complete = "complete",
    Incomplete = "incomplete",
});

/// What a run polls: hosts, sites, or both (`sixfive scan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Hosts,
    Sites,
    Scan,
}

text_enum!(RunKind {
    Hosts = "hosts",
    Sites = "sites",
    Scan = "scan",
});

/// A running run whose owner has not beaten its heart for this long is taken as dead.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub agent: String,
    pub kind: RunKind,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    /// The inventory import the run ran against; None for runs before imports were noted.
    pub import: Option<i64>,
}

/// An inventory entry as the store keeps it: its key, its agency and its JSON form.
struct Entity {
    kind: Kind,
    key: String,
    agency: Option<String>,
    doc: Value,
}

fn entities(inventory: &Inventory) -> Result<Vec<Entity>, serde_json::Error> {
    let mut out = Vec::new();
    for agency in &inventory.agencies {
        out.push(Entity {
            kind: Kind::Agency,
            key: agency.id.clone(),
            agency: None,
            doc: serde_json::to_value(agency)?,
        });
    }
    for host in &inventory.hosts {
        out.push(Entity {
            kind: Kind::Host,
            key: host.fqdn.clone(),
            agency: Some(host.agency.clone()),
            doc: serde_json::to_value(host)?,
        });
    }
    for site in &inventory.sites {
        out.push(Entity {
            kind: Kind::Site,
            key: site.id.clone(),
            agency: Some(site.agency.clone()),
            doc: serde_json::to_value(site)?,
        });
    }
    Ok(out)
}

impl Store {
    /// Opens (creating if needed) the store at `url` and brings its schema up to date.
    pub async fn open(url: &StoreUrl) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            url: url.to_string(),
            source,
        };
        let backend = match url {
            StoreUrl::Sqlite(path) => {
                create_parent(path)?;
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(std::time::Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(open_error)?;
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
                Backend::Sqlite(pool)
            }
            StoreUrl::Postgres(options) => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(std::time::Duration::from_secs(10))
                    .connect_with((**options).clone())
                    .await
                    .map_err(open_error)?;
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                Backend::Postgres(pool)
            }
        };
        let store = Store {
            backend,
            url: url.clone(),
        };
        store.expire_runs(STALE_AFTER).await?;
        Ok(store)
    }

    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
    }

    /// Brings the stored inventory in line with `inventory` in one transaction: new entries
    /// are added, changed ones updated, missing ones marked removed (their history and
    /// results stay). Importing an unchanged inventory writes nothing.
    pub async fn import(
        &self,
        inventory: &Inventory,
        source: &str,
        who: &str,
    ) -> Result<ImportSummary, StoreError> {
        let wanted = entities(inventory).map_err(|e| StoreError::Corrupt {
            kind: "inventory entry",
            reason: e.to_string(),
        })?;
        let now = Utc::now();
        on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            if let Some(lock) = dialect.lock_inventory {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let rows = sqlx::query("SELECT kind, key, doc, removed_at FROM entities")
                .fetch_all(&mut *tx)
                .await?;
            let mut current: HashMap<(Kind, String), (Value, bool)> = HashMap::new();
            for row in rows {
                let kind = stored(&row.try_get::<String, _>("kind")?, "entity kind")?;
                let Json(doc): Json<Value> = row.try_get("doc")?;
                let removed = row.try_get::<Option<DateTime<Utc>>, _>("removed_at")?.is_some();
                current.insert((kind, row.try_get("key")?), (doc, removed));
            }

            let mut summary = ImportSummary::default();
            let mut pending: Vec<(&Entity, &'static str, Option<Value>)> = Vec::new();
            for entity in &wanted {
                match current.remove(&(entity.kind, entity.key.clone())) {
                    None => pending.push((entity, "added", None)),
                    Some((_, true)) => pending.push((entity, "added", None)),
                    Some((doc, false)) if doc != entity.doc => pending.push((entity, "changed", Some(doc))),
                    Some(_) => {}
                }
            }
            let gone: Vec<((Kind, String), Value)> = current
                .into_iter()
                .filter(|(_, (_, removed))| !removed)
                .map(|(id, (doc, _))| (id, doc))
                .collect();
            if pending.is_empty() && gone.is_empty() {
                tx.rollback().await?;
                return Ok(summary);
            }
            summary.added = pending.iter().filter(|p| p.1 == "added").count();
            summary.changed = pending.len() - summary.added;
            summary.removed = gone.len();

            let import_id: i64 = sqlx::query_scalar(
                "INSERT INTO imports (at, source, who, added, changed, removed)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(now)
            .bind(source)
            .bind(who)
            .bind(summary.added as i64)
            .bind(summary.changed as i64)
            .bind(summary.removed as i64)
            .fetch_one(&mut *tx)
            .await?;

            for (entity, change, before) in &pending {
                sqlx::query(
                    "INSERT INTO entities (kind, key, agency, doc, added_at, updated_at, removed_at)
                     VALUES ($1, $2, $3, $4, $5, $5, NULL)
                     ON CONFLICT (kind, key) DO UPDATE SET agency = $3, doc = $4, updated_at = $5,
                        removed_at = NULL,
                        added_at = CASE WHEN entities.removed_at IS NULL THEN entities.added_at ELSE $5 END",
                )
                .bind(entity.kind.as_str())
                .bind(&entity.key)
                .bind(&entity.agency)
                .bind(Json(&entity.doc))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                record_change(&mut tx, import_id, entity.kind, &entity.key, change, before.as_ref(), Some(&entity.doc)).await?;
            }
            for ((kind, key), doc) in &gone {
                sqlx::query("UPDATE entities SET removed_at = $1 WHERE kind = $2 AND key = $3")
                    .bind(now)
                    .bind(kind.as_str())
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                record_change(&mut tx, import_id, *kind, key, "removed", Some(doc), None).await?;
            }
            tx.commit().await?;
            summary.import_id = Some(import_id);
            Ok(summary)
        })
    }

    pub async fn agencies(&self, with_removed: bool) -> Result<Vec<Stored<Agency>>, StoreError> {
        self.stored(Kind::Agency, with_removed).await
    }

    pub async fn hosts(&self, with_removed: bool) -> Result<Vec<Stored<Host>>, StoreError> {
        self.stored(Kind::Host, with_removed).await
    }

    pub async fn sites(&self, with_removed: bool) -> Result<Vec<Stored<Site>>, StoreError> {
        self.stored(Kind::Site, with_removed).await
    }

    async fn stored<T: serde::de::DeserializeOwned>(
        &self,
        kind: Kind,
        with_removed: bool,
    ) -> Result<Vec<Stored<T>>, StoreError> {
        let (rows, notes) = on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT key, doc, added_at, removed_at FROM entities
                 WHERE kind = $1 AND ($2 OR removed_at IS NULL) ORDER BY key",
            )
            .bind(kind.as_str())
            .bind(with_removed)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|row| {
                Ok((
                    row.try_get::<String, _>("key")?,
                    row.try_get::<Json<Value>, _>("doc")?.0,
                    row.try_get::<DateTime<Utc>, _>("added_at")?,
                    row.try_get::<Option<DateTime<Utc>>, _>("removed_at")?,
                ))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let notes = sqlx::query("SELECT key, field, value FROM annotations WHERE kind = $1")
                .bind(kind.as_str())
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get::<String, _>("key")?, row.try_get::<String, _>("field")?, row.try_get::<String, _>("value")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            (rows, notes)
        });
        let mut annotations: HashMap<String, BTreeMap<String, String>> = HashMap::new();
        for (key, field, value) in notes {
            annotations.entry(key).or_default().insert(field, value);
        }
        rows.into_iter()
            .map(|(key, doc, added_at, removed_at)| {
                let entry = serde_json::from_value(doc).map_err(|e| StoreError::Corrupt {
                    kind: kind.as_str(),
                    reason: format!("{key}: {e}"),
                })?;
                Ok(Stored {
                    entry,
                    added_at,
                    removed_at,
                    annotations: annotations.remove(&key).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The changes imports made, oldest first; for one entry when `key` is given.
    pub async fn history(&self, key: Option<(Kind, &str)>) -> Result<Vec<Change>, StoreError> {
        let (kind, key) = key.map_or((None, None), |(k, key)| (Some(k.as_str()), Some(key)));
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT h.import_id, i.at, i.who, h.kind, h.key, h.change, h.before, h.after
             FROM entity_history h JOIN imports i ON i.id = h.import_id
             WHERE ($1 IS NULL OR h.kind = $1) AND ($2 IS NULL OR h.key = $2)
             ORDER BY h.id",
        )
        .bind(kind)
        .bind(key)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("import_id")?,
            row.try_get::<DateTime<Utc>, _>("at")?,
            row.try_get::<String, _>("who")?,
            row.try_get::<String, _>("kind")?,
            row.try_get::<String, _>("key")?,
            row.try_get::<String, _>("change")?,
            row.try_get::<Option<Json<Value>>, _>("before")?.map(|j| j.0),
            row.try_get::<Option<Json<Value>>, _>("after")?.map(|j| j.0),
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(import_id, at, who, kind, key, change, before, after)| {
                Ok(Change {
                    import_id,
                    at,
                    who,
                    kind: stored(&kind, "entity kind")?,
                    key,
                    change,
                    before,
                    after,
                })
            })
            .collect()
    }

    /// Sets a hand-edited field (None clears it) and logs who changed what, together.
    pub async fn edit(
        &self,
        kind: Kind,
        key: &str,
        field: EditField,
        value: Option<&str>,
        who: &str,
    ) -> Result<(), StoreError> {
        if let (EditField::Stage, Some(stage)) = (field, value) {
            stage
                .parse::<crate::model::Stage>()
                .map_err(StoreError::BadEdit)?;
        }
        let now = Utc::now();
        on_pool!(self, pool, dialect => {
            let mut tx = pool.begin_with(dialect.begin_write).await?;
            let present: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM entities WHERE kind = $1 AND key = $2 AND removed_at IS NULL",
            )
            .bind(kind.as_str())
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            if present == 0 {
                return Err(StoreError::NotFound { kind: kind.as_str(), key: key.to_owned() });
            }
            let old: Option<String> = sqlx::query_scalar(
                "SELECT value FROM annotations WHERE kind = $1 AND key = $2 AND field = $3",
            )
            .bind(kind.as_str())
            .bind(key)
            .bind(field.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            match value {
                Some(value) => sqlx::query(
                    "INSERT INTO annotations (kind, key, field, value) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (kind, key, field) DO UPDATE SET value = $4",
                )
                .bind(kind.as_str())
                .bind(key)
                .bind(field.as_str())
                .bind(value)
                .execute(&mut *tx)
                .await?,
                None => sqlx::query("DELETE FROM annotations WHERE kind = $1 AND key = $2 AND field = $3")
                    .bind(kind.as_str())
                    .bind(key)
                    .bind(field.as_str())
                    .execute(&mut *tx)
                    .await?,
            };
            sqlx::query(
                "INSERT INTO audit_log (at, who, kind, key, field, old_value, new_value)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(now)
            .bind(who)
            .bind(kind.as_str())
            .bind(key)
            .bind(field.as_str())
            .bind(old)
            .bind(value)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Hand edits, oldest first; for one entry when `key` is given.
    pub async fn audit_log(
        &self,
        key: Option<(Kind, &str)>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (kind, key) = key.map_or((None, None), |(k, key)| (Some(k.as_str()), Some(key)));
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT at, who, kind, key, field, old_value, new_value FROM audit_log
             WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR key = $2) ORDER BY id",
        )
        .bind(kind)
        .bind(key)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<DateTime<Utc>, _>("at")?,
            row.try_get::<String, _>("who")?,
            row.try_get::<String, _>("kind")?,
            row.try_get::<String, _>("key")?,
            row.try_get::<String, _>("field")?,
            row.try_get::<Option<String>, _>("old_value")?,
            row.try_get::<Option<String>, _>("new_value")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(at, who, kind, key, field, old_value, new_value)| {
                Ok(AuditEntry {
                    at,
                    who,
                    kind: stored(&kind, "entity kind")?,
                    key,
                    field,
                    old_value,
                    new_value,
                })
            })
            .collect()
    }

    /// Starts a scan run; it stays `running` until [`Store::finish_run`], its owner calling
    /// [`Store::beat`] well within [`STALE_AFTER`] meanwhile.
    pub async fn begin_run(&self, agent: &str, kind: RunKind) -> Result<i64, StoreError> {
        self.begin_run_against(agent, kind, None).await
    }

    /// [`Store::begin_run`], noting the inventory import the run runs against.
    pub async fn begin_run_against(
        &self,
        agent: &str,
        kind: RunKind,
        import: Option<i64>,
    ) -> Result<i64, StoreError> {
        let now = Utc::now();
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "INSERT INTO scan_runs (agent, kind, started_at, heartbeat_at, status, import_id)
             VALUES ($1, $2, $3, $3, 'running', $4) RETURNING id",
        )
        .bind(agent)
        .bind(kind.as_str())
        .bind(now)
        .bind(import)
        .fetch_one(pool)
        .await?))
    }

    /// The newest import, which the stored inventory is as of.
    pub async fn latest_import(&self) -> Result<Option<i64>, StoreError> {
        Ok(
            on_pool!(self, pool => sqlx::query_scalar("SELECT MAX(id) FROM imports")
            .fetch_one(pool)
            .await?),
        )
    }

    /// Says the run's owner is alive.
    pub async fn beat(&self, run: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE scan_runs SET heartbeat_at = $1 WHERE id = $2 AND status = 'running'",
        )
        .bind(Utc::now())
        .bind(run)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Marks runs still `running` whose heartbeat is older than `stale_after` as
    /// incomplete: their owner was killed. A run whose owner beats is never touched, even if
    /// it beats while this looks.
    pub async fn expire_runs(&self, stale_after: std::time::Duration) -> Result<u64, StoreError> {
        let Some(cutoff) = chrono::Duration::from_std(stale_after)
            .ok()
            .and_then(|after| Utc::now().checked_sub_signed(after))
        else {
            return Ok(0);
        };
        let running = on_pool!(self, pool => sqlx::query(
            "SELECT id, started_at, heartbeat_at FROM scan_runs WHERE status = 'running'",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("id")?,
            row.try_get::<DateTime<Utc>, _>("started_at")?,
            row.try_get::<Option<DateTime<Utc>>, _>("heartbeat_at")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let mut expired = 0;
        for (id, started_at, heartbeat_at) in running {
            if heartbeat_at.unwrap_or(started_at) >= cutoff {
                continue;
            }
            expired += on_pool!(self, pool => sqlx::query(
                "UPDATE scan_runs SET status = 'incomplete', finished_at = $1
                 WHERE id = $2 AND status = 'running'
                 AND (heartbeat_at IS NULL AND $3 IS NULL OR heartbeat_at = $3)",
            )
            .bind(Utc::now())
            .bind(id)
            .bind(heartbeat_at)
            .execute(pool)
            .await?
            .rows_affected());
        }
        Ok(expired)
    }

    /// Each host's level in the newest complete run that graded it conclusively: what a
    /// regression is measured against, whichever hosts that run covered.
    pub async fn latest_levels(&self) -> Result<HashMap<String, Level>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT l.host, l.level FROM host_levels l
             JOIN (SELECT h.host, MAX(h.run_id) AS run_id FROM host_levels h
                   JOIN scan_runs r ON r.id = h.run_id
                   WHERE r.status = 'complete' AND NOT h.inconclusive
                   GROUP BY h.host) newest
             ON newest.host = l.host AND newest.run_id = l.run_id",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get::<String, _>("host")?, row.try_get::<String, _>("level")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(host, level)| Ok((host, stored(&level, "host level")?)))
            .collect()
    }

    /// Adds a batch of results to a running scan, all or none.
    pub async fn record_results(
        &self,
        run: i64,
        results: &[CheckRecord],
    ) -> Result<(), StoreError> {
        in_running_run!(self, run, tx => for r in results {
                sqlx::query(
                    "INSERT INTO check_results
                     (run_id, host, check_id, status, family, address, port, duration_ms, detail, hint, evidence)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(run)
                .bind(&r.host)
                .bind(&r.check)
                .bind(r.status.as_str())
                .bind(r.family.map(|f| f.as_str()))
                .bind(r.address.map(|a| a.to_string()))
                .bind(r.port.map(i64::from))
                .bind(r.duration_ms)
                .bind(&r.detail)
                .bind(&r.hint)
                .bind(Json(&r.evidence))
                .execute(&mut *tx)
                .await?;
        })
    }

    /// Adds a batch of site samples to a running scan, all or none.
    pub async fn record_samples(&self, run: i64, samples: &[SiteSample]) -> Result<(), StoreError> {
        in_running_run!(self, run, tx => for s in samples {
                sqlx::query(
                    "INSERT INTO site_samples (run_id, site, at, state, reasons, data)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(run)
                .bind(&s.site)
                .bind(s.at)
                .bind(s.state.as_str())
                .bind(Json(&s.reasons))
                .bind(Json(&s.data))
                .execute(&mut *tx)
                .await?;
        })
    }

    /// Adds hosts' grades to a running scan, all or none.
    pub async fn record_levels(&self, run: i64, levels: &[HostLevel]) -> Result<(), StoreError> {
        in_running_run!(self, run, tx => for l in levels {
                sqlx::query(
                    "INSERT INTO host_levels (run_id, host, level, score, internet_nl, inconclusive, regressed)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(run)
                .bind(&l.host)
                .bind(l.level.as_str())
                .bind(i64::from(l.score))
                .bind(l.internet_nl.map(i64::from))
                .bind(l.inconclusive)
                .bind(l.regressed)
                .execute(&mut *tx)
                .await?;
        })
    }

    /// Hosts' grades in a run, by host.
    pub async fn levels(&self, run: i64) -> Result<Vec<HostLevel>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT host, level, score, internet_nl, inconclusive, regressed FROM host_levels
             WHERE run_id = $1 ORDER BY host",
        )
        .bind(run)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("host")?,
            row.try_get::<String, _>("level")?,
            (row.try_get::<i64, _>("score")?, row.try_get::<Option<i64>, _>("internet_nl")?),
            row.try_get::<bool, _>("inconclusive")?,
            row.try_get::<bool, _>("regressed")?,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(
                |(host, level, (score, internet_nl), inconclusive, regressed)| {
                    let corrupt = |reason: String| StoreError::Corrupt {
                        kind: "host level",
                        reason,
                    };
                    let percent =
                        |value: i64| u8::try_from(value).map_err(|e| corrupt(e.to_string()));
                    Ok(HostLevel {
                        host,
                        level: level.parse::<Level>().map_err(corrupt)?,
                        score: percent(score)?,
                        internet_nl: internet_nl.map(percent).transpose()?,
                        inconclusive,
                        regressed,
                    })
                },
            )
            .collect()
    }

    /// Closes a running scan as complete, or as incomplete when it was cut short.
    pub async fn finish_run(&self, run: i64, status: RunStatus) -> Result<(), StoreError> {
        let done = on_pool!(self, pool => sqlx::query(
            "UPDATE scan_runs SET status = $1, finished_at = $2 WHERE id = $3 AND status = 'running'",
        )
        .bind(status.as_str())
        .bind(Utc::now())
        .bind(run)
        .execute(pool)
        .await?
        .rows_affected());
        if done == 0 {
            return Err(StoreError::RunClosed(run));
        }
        Ok(())
    }

    /// Marks `agent`'s runs that are still `running` as incomplete: an agent calls this as
    /// it starts, since a run it left running was cut short by its end.
    pub async fn interrupt_runs(&self, agent: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query(
            "UPDATE scan_runs SET status = 'incomplete', finished_at = $1
             WHERE agent = $2 AND status = 'running'",
        )
        .bind(Utc::now())
        .bind(agent)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Scan runs, newest first.
    pub async fn runs(&self) -> Result<Vec<Run>, StoreError> {
        self.select_runs(None, false, i64::MAX).await
    }

    /// Runs newest first, of one kind or all, only complete ones when `complete`, at most
    /// `limit`.
    async fn select_runs(
        &self,
        kind: Option<RunKind>,
        complete: bool,
        limit: i64,
    ) -> Result<Vec<Run>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT id, agent, kind, started_at, finished_at, status, import_id FROM scan_runs
             WHERE ($1 IS NULL OR kind = $1 OR kind = 'scan') AND (NOT $2 OR status = 'complete')
             ORDER BY id DESC LIMIT $3",
        )
        .bind(kind.map(RunKind::as_str))
        .bind(complete)
        .bind(limit)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<i64, _>("id")?,
            row.try_get::<String, _>("agent")?,
            row.try_get::<String, _>("kind")?,
            row.try_get::<DateTime<Utc>, _>("started_at")?,
            row.try_get::<Option<DateTime<Utc>>, _>("finished_at")?,
            (row.try_get::<String, _>("status")?, row.try_get::<Option<i64>, _>("import_id")?),
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(
                |(id, agent, kind, started_at, finished_at, (status, import))| {
                    Ok(Run {
                        id,
                        agent,
                        kind: stored(&kind, "run kind")?,
                        started_at,
                        finished_at,
                        status: stored(&status, "run status")?,
                        import,
                    })
                },
            )
            .collect()
    }

    /// The newest complete run that covered `kind` (a `scan` run covers hosts and sites).
    pub async fn latest_complete_run(&self, kind: RunKind) -> Result<Option<Run>, StoreError> {
        Ok(self.select_runs(Some(kind), true, 1).await?.pop())
    }

    /// A run's check results, in the order they were recorded.
    pub async fn results(&self, run: i64) -> Result<Vec<CheckRecord>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(
            "SELECT host, check_id, status, family, address, port, duration_ms, detail, hint, evidence
             FROM check_results WHERE run_id = $1 ORDER BY id",
        )
        .bind(run)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("host")?,
            row.try_get::<String, _>("check_id")?,
            row.try_get::<String, _>("status")?,
            row.try_get::<Option<String>, _>("family")?,
            row.try_get::<Option<String>, _>("address")?,
            row.try_get::<Option<i64>, _>("port")?,
            row.try_get::<Option<f64>, _>("duration_ms")?,
            row.try_get::<String, _>("detail")?,
            row.try_get::<Option<String>, _>("hint")?,
            row.try_get::<Json<Value>, _>("evidence")?.0,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        let corrupt = |reason: String| StoreError::Corrupt {
            kind: "check result",
            reason,
        };
        rows.into_iter()
            .map(
                |(
                    host,
                    check,
                    status,
                    family,
                    address,
                    port,
                    duration_ms,
                    detail,
                    hint,
                    evidence,
                )| {
                    Ok(CheckRecord {
                        host,
                        check,
                        status: status.parse().map_err(corrupt)?,
                        family: family.map(|f| f.parse()).transpose().map_err(corrupt)?,
                        address: address
                            .map(|a| a.parse())
                            .transpose()
                            .map_err(|e: std::net::AddrParseError| corrupt(e.to_string()))?,
                        port: port
                            .map(u16::try_from)
                            .transpose()
                            .map_err(|e| corrupt(e.to_string()))?,
                        duration_ms,
                        detail,
                        hint,
                        evidence,
                    })
                },
            )
            .collect()
    }

    /// Each site's newest sample (or only `site`'s), whatever run it came from: where the
    /// next poll's counter deltas, reboot check and hysteresis start.
    pub async fn latest_samples(&self, site: Option<&str>) -> Result<Vec<SiteSample>, StoreError> {
        self.select_samples(
            "SELECT site, at, state, reasons, data FROM site_samples
             WHERE id IN (SELECT MAX(id) FROM site_samples GROUP BY site)
             AND ($1 = '' OR site = $1) ORDER BY site LIMIT $2",
            site.unwrap_or(""),
            i64::MAX,
        )
        .await
    }

    /// A site's samples, newest first, at most `limit`.
    pub async fn samples(&self, site: &str, limit: i64) -> Result<Vec<SiteSample>, StoreError> {
        self.select_samples(
            "SELECT site, at, state, reasons, data FROM site_samples
             WHERE site = $1 ORDER BY at DESC, id DESC LIMIT $2",
            site,
            limit,
        )
        .await
    }

    async fn select_samples(
        &self,
        sql: &'static str,
        site: &str,
        limit: i64,
    ) -> Result<Vec<SiteSample>, StoreError> {
        let rows = on_pool!(self, pool => sqlx::query(sql)
        .bind(site)
        .bind(limit)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|row| Ok((
            row.try_get::<String, _>("site")?,
            row.try_get::<DateTime<Utc>, _>("at")?,
            row.try_get::<String, _>("state")?,
            row.try_get::<Json<Vec<String>>, _>("reasons")?.0,
            row.try_get::<Json<Value>, _>("data")?.0,
        )))
        .collect::<Result<Vec<_>, sqlx::Error>>()?);
        rows.into_iter()
            .map(|(site, at, state, reasons, data)| {
                Ok(SiteSample {
                    site,
                    at,
                    state: stored(&state, "site sample")?,
                    reasons,
                    data,
                })
            })
            .collect()
    }
}

fn create_parent(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                path: parent.to_path_buf(),
                source,
            })
        }
        _ => Ok(()),
    }
}

async fn record_change<DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    import_id: i64,
    kind: Kind,
    key: &str,
    change: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<Json<&'q Value>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query::<DB>(
        "INSERT INTO entity_history (import_id, kind, key, change, before, after)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(import_id)
    .bind(kind.as_str())
    .bind(key)
    .bind(change)
    .bind(before.map(Json))
    .bind(after.map(Json))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Fails unless `run` is still running; the no-op update locks the run's row, so a
/// concurrent finish waits for this transaction instead of slipping in between.
async fn ensure_running<DB: sqlx::Database>(
    tx: &mut sqlx::Transaction<'_, DB>,
    run: i64,
) -> Result<(), StoreError>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    (i64,): for<'r> sqlx::FromRow<'r, DB::Row>,
{
    let touched: Option<(i64,)> = sqlx::query_as::<DB, (i64,)>(
        "UPDATE scan_runs SET status = status WHERE id = $1 AND status = 'running' RETURNING id",
    )
    .bind(run)
    .fetch_optional(&mut **tx)
    .await?;
    touched.map(|_| ()).ok_or(StoreError::RunClosed(run))
}
