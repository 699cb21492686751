//! The store: the inventory as imported with the history of every change, scan runs with
//! their check results and site samples (summed up by the hour past retention), and an
//! audit log of hand edits.
//!
//! SQLite (embedded, the default) and PostgreSQL (shared by several agents) run the same
//! SQL through [`on_pool!`]; only the migrations differ. Every write that belongs together
//! is one transaction, so a crash leaves the store as it was before or after, never between.

mod url;

pub use audit::{AuditEntry, EditField};
pub use board::{Board, Grade, HostLine, RunLevels, SPARK_SAMPLES, SiteLine};
pub use inventory::{Change, ImportSummary, Kind, Stored};
pub use report::{Failure, ReportHost, ReportSite, ReportSnapshot};
pub use results::{ResultVersion, Thinned};
pub use runs::{Run, RunKind, RunStatus, STALE_AFTER};
pub use samples::{SiteHour, Spread};
pub use work::{LEASE, Window, WorkScope, next_due};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgPoolOptions};
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
    #[error("cannot create the store's folder {}: {}", path.display(), said(source))]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store's folder {} does not exist: create it first", .0.display())]
    NoFolder(PathBuf),
    #[error("the store {} is a directory: name a file in it", .0.display())]
    IsDirectory(PathBuf),
    #[error("cannot open the store {url}: {}", said_sql(source))]
    Open { url: String, source: sqlx::Error },
    #[error("cannot open the store {url}: no answer within {} s", after.as_secs())]
    ConnectTimeout { url: String, after: Duration },
    #[error("cannot update the store's schema: {}", said_migrate(.0))]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store: {}", said_sql(.0))]
    Sql(#[from] sqlx::Error),
    #[error("no {kind} `{key}` in the store")]
    NotFound { kind: &'static str, key: String },
    #[error("{0}")]
    BadEdit(String),
    #[error(
        "a result of host `{0}` came without the host's grade: a run covers the hosts it graded"
    )]
    Ungraded(String),
    #[error("scan run {0} is not running: it was finished or interrupted")]
    RunClosed(i64),
    #[error("a stored {kind} is not readable: {reason}")]
    Corrupt { kind: &'static str, reason: String },
}

impl StoreError {
    /// Whether the store could not be reached or was too busy to write (a later try may
    /// succeed), as against a write it refuses.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Open { .. } | StoreError::ConnectTimeout { .. } => true,
            StoreError::Sql(error) => match error {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => {
                    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                        // SQLITE_BUSY and SQLITE_LOCKED, in their extended codes too.
                        let code = db.code().and_then(|c| c.parse::<i32>().ok());
                        code.is_some_and(|c| matches!(c & 0xff, 5 | 6))
                    } else {
                        // PostgreSQL: connection exceptions (08), a server shutting down
                        // or starting (57P01–57P03), too many connections (53300).
                        let code = db.code().unwrap_or_default();
                        code.starts_with("08") || code.starts_with("57P") || code == "53300"
                    }
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// An I/O error as a person says it: the system's words ("connection refused", "no space
/// left on device") without the error number.
pub fn said(error: &std::io::Error) -> String {
    let text = error.to_string();
    let text = match error.raw_os_error() {
        Some(code) => text
            .trim_end_matches(&format!(" (os error {code})"))
            .to_owned(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A database error as a person says it: the server's message, without sqlx's prefix,
/// SQLite's result code or the line of PostgreSQL's source that raised it.
fn said_sql(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(e) => e.message().to_owned(),
        sqlx::Error::Io(e) => said(e),
        sqlx::Error::Migrate(e) => said_migrate(e),
        other => other.to_string(),
    }
}

fn said_migrate(error: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError;
    match error {
        MigrateError::Execute(e) => said_sql(e),
        MigrateError::ExecuteMigration(e, version) => {
            format!("migration {version}: {}", said_sql(e))
        }
        other => other.to_string(),
    }
}

/// A stored text read back as `T`, or the store is corrupt.
fn stored<T: std::str::FromStr<Err = String>>(
    text: &str,
    kind: &'static str,
) -> Result<T, StoreError> {
    text.parse()
        .map_err(|reason| StoreError::Corrupt { kind, reason })
}

/// A stored score (0 to 100) back as the byte it was.
fn percent(value: i64) -> Result<u8, StoreError> {
    u8::try_from(value).map_err(|e| StoreError::Corrupt {
        kind: "host level",
        reason: e.to_string(),
    })
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
    /// Serialises writers of result versions, which read what they change: two agents'
    /// runs grading one host must not both close its current version.
    lock_results: Option<&'static str>,
    /// Serialises thinners of site samples, which read what they delete and sum up.
    lock_site_hours: Option<&'static str>,
    /// The aggregate that joins a group's texts with a separator: `f(text, separator)`.
    join_texts: &'static str,
    /// A JSON array of its arguments, and the aggregate that gathers a group's values in one.
    json_array: &'static str,
    json_agg: &'static str,
    /// Fields of an entity's `doc`, as one JSON array: SQLite parses the document once.
    doc_fields: fn(&[&str]) -> String,
    /// A JSON column as a JSON array built in SQL holds it: SQLite keeps JSON as text,
    /// which would go in as a string.
    json_value: fn(&str) -> String,
    /// A run's finishing day, UTC.
    finished_day: &'static str,
    /// What a SELECT of rows to take ends with: PostgreSQL skips those another agent is
    /// taking; SQLite's write lock (`begin_write`) already serialises the takers.
    skip_locked: &'static str,
    /// Queues agents planning their work items, which would otherwise lock rows in
    /// different orders (SQLite's write lock already does).
    lock_plans: Option<&'static str>,
}

const SQLITE: Dialect = Dialect {
    begin_write: "BEGIN IMMEDIATE",
    lock_inventory: None,
    lock_results: None,
    lock_site_hours: None,
    join_texts: "group_concat",
    json_array: "json_array",
    json_agg: "json_group_array",
    doc_fields: |fields| {
        let paths: Vec<String> = fields.iter().map(|f| format!("'$.{f}'")).collect();
        format!("json_extract(doc, {})", paths.join(", "))
    },
    json_value: |column| format!("json({column})"),
    finished_day: "substr(finished_at, 1, 10)",
    skip_locked: "",
    lock_plans: None,
};

const POSTGRES: Dialect = Dialect {
    begin_write: "BEGIN",
    lock_inventory: Some("LOCK TABLE entities IN SHARE ROW EXCLUSIVE MODE"),
    lock_results: Some("LOCK TABLE result_versions IN SHARE ROW EXCLUSIVE MODE"),
    lock_site_hours: Some("LOCK TABLE site_hours IN SHARE ROW EXCLUSIVE MODE"),
    join_texts: "string_agg",
    json_array: "json_build_array",
    json_agg: "json_agg",
    doc_fields: |fields| {
        let fields: Vec<String> = fields.iter().map(|f| format!("doc->'{f}'")).collect();
        format!("json_build_array({})", fields.join(", "))
    },
    json_value: |column| column.to_owned(),
    finished_day: "(finished_at AT TIME ZONE 'UTC')::date",
    skip_locked: " FOR UPDATE SKIP LOCKED",
    // Any fixed key of sixfive's own: "65" and "work".
    lock_plans: Some("SELECT pg_advisory_xact_lock(65, 1)"),
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

/// Rows per multi-row INSERT: one statement for a batch rather than one per row (SQLite
/// takes at most 32,766 bound values a statement; 1,000 rows of 11 stay well inside).
const ROWS_PER_INSERT: usize = 1000;

/// Writes a batch for a running scan in one transaction: all of it, or none when the run
/// was already finished or interrupted.
/// With `late: true`, a batch written after its run ended (kept on disk while the store was
/// away): the run is not required to be running.
macro_rules! in_running_run {
    ($store:expr, $run:expr, late: $late:expr, $tx:ident => $body:expr) => {
        in_running_run!($store, $run, late: $late, $tx, _dialect => $body)
    };
    ($store:expr, $run:expr, late: $late:expr, $tx:ident, $dialect:ident => $body:expr) => {
        on_pool!($store, pool, $dialect => {
            let mut $tx = pool.begin().await?;
            if !$late {
                $crate::store::runs::ensure_running(&mut $tx, $run).await?;
            }
            $body;
            $tx.commit().await?;
            Ok(())
        })
    };
}

/// Appends ` IN (…)` binding every item, to a query builder on either backend.
macro_rules! push_in {
    ($query:expr, $items:expr) => {{
        $query.push(" IN (");
        let mut list = $query.separated(", ");
        for item in $items {
            list.push_bind(*item);
        }
        $query.push(")");
    }};
}

// After the macros, which they use.
mod audit;
mod board;
mod detail;
mod inventory;
pub mod metrics;
mod report;
mod results;
mod runs;
mod samples;
mod work;

pub struct Store {
    backend: Backend,
    url: StoreUrl,
}

impl Store {
    /// Opens the store at `url` and brings its schema up to date. A SQLite file is
    /// created in an existing folder; see [`StoreUrl::create_folder`] for the folder.
    pub async fn open(url: &StoreUrl) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            url: url.to_string(),
            source,
        };
        let backend = match url {
            StoreUrl::Sqlite(path) => {
                check_place(path)?;
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
            StoreUrl::Postgres {
                options,
                connect_timeout,
            } => {
                // The pool retries a refused connection until its acquire timeout and then
                // says only that it timed out; one connection first tells why, and soon.
                let first =
                    tokio::time::timeout(*connect_timeout, PgConnection::connect_with(options))
                        .await
                        .map_err(|_| StoreError::ConnectTimeout {
                            url: url.to_string(),
                            after: *connect_timeout,
                        })?
                        .map_err(open_error)?;
                let _ = first.close().await;
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
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
}

impl StoreUrl {
    /// Creates the folder of a SQLite store. Only the default store's is made: a missing
    /// folder in a path the user gave is more likely a typo than a wish.
    pub fn create_folder(&self) -> Result<(), StoreError> {
        match self {
            StoreUrl::Sqlite(path) => match folder_of(path) {
                Some(folder) => {
                    std::fs::create_dir_all(folder).map_err(|source| StoreError::Folder {
                        path: folder.to_path_buf(),
                        source,
                    })
                }
                None => Ok(()),
            },
            StoreUrl::Postgres { .. } => Ok(()),
        }
    }
}

/// The folder a SQLite store is in, unless it is the current one.
fn folder_of(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

/// Says what is wrong with a SQLite store's path before SQLite does, in its own words:
/// "unable to open database file" for both a directory and a missing folder.
fn check_place(path: &Path) -> Result<(), StoreError> {
    if path.is_dir() {
        return Err(StoreError::IsDirectory(path.to_path_buf()));
    }
    if let Some(folder) = folder_of(path)
        && matches!(std::fs::metadata(folder), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
    {
        return Err(StoreError::NoFolder(folder.to_path_buf()));
    }
    Ok(())
}
