//! The background reader: loads the board when the UI starts, then asks the store every
//! [`POLL`] whether anything changed (a run, a grade, a sample, an edit, an import) and
//! reloads only then, so another process's `sixfive check` shows up within two seconds
//! on SQLite and PostgreSQL alike.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sixfive_inventory::Store;
use sixfive_inventory::store::Board;
use tokio::sync::watch;

/// How often the store is asked whether it changed: well within the 2 s a change may take.
pub const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub enum Loaded {
    Loading,
    Ready {
        board: Arc<Board>,
        at: DateTime<Utc>,
    },
    /// The store could not be read; the last board stays on screen.
    Failed(String),
}

/// Starts the reader on the current tokio runtime; it stops when every receiver is gone.
pub fn load(store: Arc<Store>, every: Duration) -> watch::Receiver<Loaded> {
    let (sender, receiver) = watch::channel(Loaded::Loading);
    tokio::spawn(async move {
        let mut seen = None;
        loop {
            match store.board_version().await {
                Ok(version) if seen.as_ref() == Some(&version) => {}
                Ok(version) => {
                    let loaded = match store.board().await {
                        Ok(board) => {
                            seen = Some(version);
                            Loaded::Ready {
                                board: Arc::new(board),
                                at: Utc::now(),
                            }
                        }
                        Err(e) => Loaded::Failed(format!("cannot read the store: {e}")),
                    };
                    if sender.send(loaded).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    // Reload once the store answers again, even if nothing changed.
                    seen = None;
                    if sender
                        .send(Loaded::Failed(format!("cannot read the store: {e}")))
                        .is_err()
                    {
                        return;
                    }
                }
            }
            tokio::time::sleep(every).await;
            if sender.is_closed() {
                return;
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixfive_inventory::StoreUrl;
    use sixfive_inventory::model::{Agency, Host, Inventory, Level, Service, Stage};
    use sixfive_inventory::results::HostLevel;
    use sixfive_inventory::store::{RunKind, RunStatus};

    /// The first board the loader sends that `wanted` accepts, within `limit`: a writer's
    /// run may show half written first.
    async fn board_where(
        receiver: &mut watch::Receiver<Loaded>,
        limit: Duration,
        wanted: impl Fn(&Board) -> bool,
    ) -> Arc<Board> {
        tokio::time::timeout(limit, async {
            loop {
                if let Loaded::Ready { board, .. } = receiver.borrow_and_update().clone()
                    && wanted(&board)
                {
                    return board;
                }
                receiver.changed().await.unwrap();
            }
        })
        .await
        .expect("the board in time")
    }

    #[tokio::test]
    async fn a_run_written_by_another_writer_shows_within_two_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::Sqlite(dir.path().join("store.db"));
        let writer = Store::open(&url).await.unwrap();
        let inventory = Inventory {
            agencies: vec![Agency {
                id: "dict".into(),
                name: "DICT".into(),
                name_vi: None,
                target: None,
            }],
            hosts: vec![Host {
                fqdn: "cong.danang.test".into(),
                agency: "dict".into(),
                services: vec![Service::Https],
                stage: Stage::Planned,
                exempt_reason: String::new(),
                internal: false,
                target: None,
                tags: Vec::new(),
                owner: None,
            }],
            ..Inventory::default()
        };
        writer
            .import(&inventory, "city.yaml", "tester")
            .await
            .unwrap();
        // The UI's own handle, as `sixfive tui` opens it beside a running `sixfive check`.
        let mut boards = load(Arc::new(Store::open(&url).await.unwrap()), POLL);
        let first = board_where(&mut boards, Duration::from_secs(2), |_| true).await;
        assert!(first.hosts[0].grade.is_none());

        let run = writer.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        let graded = HostLevel {
            host: "cong.danang.test".into(),
            level: Level::L2,
            score: 80,
            internet_nl: None,
            inconclusive: false,
            regressed: false,
        };
        writer.record_hosts(run, &[graded], &[]).await.unwrap();
        writer.finish_run(run, RunStatus::Complete).await.unwrap();
        let board = board_where(&mut boards, Duration::from_secs(2), |board| {
            board
                .last_run
                .as_ref()
                .is_some_and(|r| r.status == RunStatus::Complete)
        })
        .await;
        assert_eq!(board.hosts[0].grade.as_ref().unwrap().level, Level::L2);
        assert_eq!(board.last_run.as_ref().unwrap().id, run);
    }
}
