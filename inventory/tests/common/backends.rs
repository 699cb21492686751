//! A store on each backend the tests can reach, for the store's test files: SQLite in a
//! temporary file, and a fresh database on the PostgreSQL server named by
//! SIXFIVE_TEST_POSTGRES (`tests/lab/postgres-up` starts one). Without a server a test runs
//! on SQLite alone and counts as skipped; under SIXFIVE_LAB=required that fails instead.

use std::sync::atomic::{AtomicUsize, Ordering};

use sixfive_inventory::StoreUrl;
use sqlx::Connection;

#[path = "../../../tests/common/skip.rs"]
mod skip;

/// A store on each available backend, each empty, with a name for messages and a URL for
/// side connections.
pub struct Backend {
    pub name: &'static str,
    pub url: StoreUrl,
    _dir: Option<tempfile::TempDir>,
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

pub async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = vec![Backend {
        name: "sqlite",
        url: StoreUrl::Sqlite(dir.path().join("store.db")),
        _dir: Some(dir),
    }];
    match std::env::var("SIXFIVE_TEST_POSTGRES") {
        Ok(admin) => {
            let db = format!(
                "sixfive_test_{}_{}",
                std::process::id(),
                DATABASES.fetch_add(1, Ordering::SeqCst)
            );
            let mut conn = connect_pg(&admin).await;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let url = admin.rsplit_once('/').unwrap().0.to_owned() + "/" + &db;
            out.push(Backend {
                name: "postgres",
                url: url.parse().unwrap(),
                _dir: None,
            });
        }
        Err(_) => skip::skip(&format!(
            "no PostgreSQL, ran on SQLite alone: {}",
            skip::cause(
                "SIXFIVE_TEST_POSTGRES_SKIP_REASON",
                "SIXFIVE_TEST_POSTGRES is unset (tests/run starts a server)"
            )
        )),
    }
    out
}

async fn connect_pg(url: &str) -> sqlx::PgConnection {
    let StoreUrl::Postgres { options, .. } = url.parse::<StoreUrl>().unwrap() else {
        panic!("not a PostgreSQL URL: {url}");
    };
    sqlx::PgConnection::connect_with(&options).await.unwrap()
}
