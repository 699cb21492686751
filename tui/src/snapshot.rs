//! The background worker: the only part of the UI that talks to the store. It loads the
//! board when the UI starts, then asks the store every [`POLL`] whether anything changed (a
//! run, a grade, a sample, an edit, an import) and reloads only then, so another process's
//! `sixfive check` shows up within two seconds on SQLite and PostgreSQL alike. It also
//! reads the detail screen's host or site (again whenever the store changes, and until a
//! read succeeds) and makes the UI's edits, so a frame never waits on the database.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sixfive_inventory::Store;
use sixfive_inventory::results::{CheckRecord, SiteSample};
use sixfive_inventory::store::{AuditEntry, Board, EditField, Grade, Kind};
use tokio::sync::{mpsc, watch};

use crate::recheck::Target;

/// How often the store is asked whether it changed: well within the 2 s a change may take.
pub const POLL: Duration = Duration::from_millis(500);
/// Runs of a host's level history on its detail screen.
pub const HISTORY_RUNS: i64 = 12;
/// Samples on a site's detail screen.
pub const SITE_SAMPLES: i64 = 30;

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

/// What a detail screen shows beyond the board's line.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Host {
        fqdn: String,
        /// Every current result, in the order the checks ran.
        results: Vec<CheckRecord>,
        /// The level in each of the newest runs that graded it, oldest first.
        grades: Vec<Grade>,
        audit: Vec<AuditEntry>,
    },
    Site {
        id: String,
        /// Newest first.
        samples: Vec<SiteSample>,
        audit: Vec<AuditEntry>,
    },
}

impl Detail {
    pub fn target(&self) -> Target {
        match self {
            Detail::Host { fqdn, .. } => Target::Host(fqdn.clone()),
            Detail::Site { id, .. } => Target::Site(id.clone()),
        }
    }
}

/// What the UI asks of the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// The host or site a detail screen shows, or none.
    Focus(Option<Target>),
    /// A hand edit, stored with who made it through the store's audit log.
    Edit {
        target: Target,
        field: EditField,
        value: Option<String>,
        who: String,
    },
    /// The managers' report (`sixfive report`'s HTML) of the store as it is now, saved in
    /// `dir` as `{stem}.html`.
    Report {
        dir: std::path::PathBuf,
        stem: String,
        require: sixfive_inventory::model::Level,
        lang: sixfive_report::progress::Lang,
    },
}

/// What the worker answers besides boards.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Detail(Arc<Detail>),
    /// A line for the status line: what an edit did, or why an edit or a read failed.
    Status(Result<String, String>),
}

/// The UI's end of the worker.
pub struct Worker {
    pub boards: watch::Receiver<Loaded>,
    pub asks: mpsc::UnboundedSender<Ask>,
    pub replies: mpsc::UnboundedReceiver<Reply>,
}

/// Starts the worker on the current tokio runtime; it stops when the UI drops its end.
pub fn start(store: Arc<Store>, every: Duration) -> Worker {
    let (boards_tx, boards) = watch::channel(Loaded::Loading);
    let (asks, mut asks_rx) = mpsc::unbounded_channel();
    let (replies_tx, replies) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut seen = None;
        let mut focus: Option<Target> = None;
        let mut focus_stale = false;
        // What the last failed detail read said: said again only when it changes.
        let mut failed_read: Option<String> = None;
        loop {
            let mut changed = false;
            // While a big run writes, the version moves every batch: waiting as long as
            // a read took keeps reading to half the worker's time at most.
            let mut wait = every;
            match store.board_version().await {
                Ok(version) if seen.as_ref() == Some(&version) => {}
                Ok(version) => {
                    let reading = std::time::Instant::now();
                    let loaded = match store.board().await {
                        Ok(board) => {
                            seen = Some(version);
                            changed = true;
                            Loaded::Ready {
                                board: Arc::new(board),
                                at: Utc::now(),
                            }
                        }
                        Err(e) => Loaded::Failed(format!("cannot read the store: {e}")),
                    };
                    wait = wait.max(reading.elapsed());
                    if boards_tx.send(loaded).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    // Reload once the store answers again, even if nothing changed.
                    seen = None;
                    if boards_tx
                        .send(Loaded::Failed(format!("cannot read the store: {e}")))
                        .is_err()
                    {
                        return;
                    }
                }
            }
            if let Some(target) = focus.as_ref().filter(|_| changed || focus_stale) {
                focus_stale = false;
                let reply = match detail(&store, target).await {
                    Ok(detail) => {
                        failed_read = None;
                        Some(Reply::Detail(Arc::new(detail)))
                    }
                    Err(e) => {
                        // Read again next round, not only once the store changes.
                        focus_stale = true;
                        let said = format!("cannot read {}: {e}", target.name());
                        (failed_read.as_ref() != Some(&said)).then(|| {
                            failed_read = Some(said.clone());
                            Reply::Status(Err(said))
                        })
                    }
                };
                if let Some(reply) = reply
                    && replies_tx.send(reply).is_err()
                {
                    return;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                ask = asks_rx.recv() => match ask {
                    None => return,
                    Some(Ask::Focus(target)) => {
                        focus_stale = target.is_some();
                        focus = target;
                    }
                    Some(Ask::Edit { target, field, value, who }) => {
                        let said = edit(&store, &target, field, value.as_deref(), &who).await;
                        if replies_tx.send(Reply::Status(said)).is_err() {
                            return;
                        }
                    }
                    Some(Ask::Report { dir, stem, require, lang }) => {
                        let said = report(&store, &dir, &stem, require, lang).await;
                        if replies_tx.send(Reply::Status(said)).is_err() {
                            return;
                        }
                    }
                },
            }
            if boards_tx.is_closed() {
                return;
            }
        }
    });
    Worker {
        boards,
        asks,
        replies,
    }
}

/// Writes the managers' report through the reports' own HTML writer.
async fn report(
    store: &Store,
    dir: &std::path::Path,
    stem: &str,
    require: sixfive_inventory::model::Level,
    lang: sixfive_report::progress::Lang,
) -> Result<String, String> {
    use sixfive_report::progress::{self, ProgressReport};
    let read = (progress::read(store, None, None).await)
        .map_err(|e| format!("cannot read the store for the report: {e}"))?;
    let options = read.options(lang, require, None);
    let mut page = Vec::new();
    progress::html::write(&mut page, &ProgressReport::build(&read.snapshot, &options))
        .map_err(|e| format!("cannot write the report: {e}"))?;
    let path = crate::export::save(dir, stem, "html", &page)
        .map_err(|e| format!("cannot save the report: {e}"))?;
    Ok(format!("wrote the report to {}", path.display()))
}

async fn detail(store: &Store, target: &Target) -> Result<Detail, sixfive_inventory::StoreError> {
    Ok(match target {
        Target::Host(fqdn) => Detail::Host {
            fqdn: fqdn.clone(),
            results: store.current_results(fqdn).await?,
            grades: store.host_grades(fqdn, HISTORY_RUNS).await?,
            audit: store.audit_log(Some((Kind::Host, fqdn))).await?,
        },
        Target::Site(id) => Detail::Site {
            id: id.clone(),
            samples: store.samples(id, SITE_SAMPLES).await?,
            audit: store.audit_log(Some((Kind::Site, id))).await?,
        },
    })
}

async fn edit(
    store: &Store,
    target: &Target,
    field: EditField,
    value: Option<&str>,
    who: &str,
) -> Result<String, String> {
    let kind = match target {
        Target::Host(_) => Kind::Host,
        Target::Site(_) => Kind::Site,
    };
    store
        .edit(kind, target.name(), field, value, who)
        .await
        .map_err(|e| e.to_string())?;
    Ok(match value {
        Some(value) => format!("{} of {} is now {value}", field.as_str(), target.name()),
        None => format!("{} of {} cleared", field.as_str(), target.name()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sixfive_inventory::StoreUrl;
    use sixfive_inventory::model::{Agency, Host, Inventory, Level, Service, Stage};
    use sixfive_inventory::results::{HostLevel, Status};
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

    /// One agency with one host.
    fn city() -> Inventory {
        Inventory {
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
                zone: None,
            }],
            ..Inventory::default()
        }
    }

    #[tokio::test]
    async fn a_run_written_by_another_writer_shows_within_two_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::Sqlite(dir.path().join("store.db"));
        let writer = Store::open(&url).await.unwrap();
        let inventory = city();
        writer
            .import(&inventory, "city.yaml", "tester")
            .await
            .unwrap();
        // The UI's own handle, as `sixfive tui` opens it beside a running `sixfive check`.
        // The whole worker is kept: it stops when the UI's end is gone.
        let Worker {
            mut boards,
            asks: _asks,
            replies: _replies,
        } = start(Arc::new(Store::open(&url).await.unwrap()), POLL);
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

    /// The worker's next reply, within 2 s.
    async fn next_reply(worker: &mut Worker) -> Reply {
        tokio::time::timeout(Duration::from_secs(2), worker.replies.recv())
            .await
            .expect("a reply in time")
            .expect("the worker runs")
    }

    /// A store in `dir` holding the city, cong.danang.test graded L1 with `record`.
    async fn city_graded(dir: &std::path::Path, record: CheckRecord) -> Arc<Store> {
        let store = Arc::new(
            Store::open(&StoreUrl::Sqlite(dir.join("store.db")))
                .await
                .unwrap(),
        );
        store.import(&city(), "city.yaml", "tester").await.unwrap();
        grade_cong(&store, record).await;
        store
    }

    /// A complete run that grades cong.danang.test L1 with `record`.
    async fn grade_cong(store: &Store, record: CheckRecord) {
        let run = store.begin_run("check@ops", RunKind::Hosts).await.unwrap();
        let graded = HostLevel {
            host: "cong.danang.test".into(),
            level: Level::L1,
            score: 50,
            internet_nl: None,
            inconclusive: false,
            regressed: false,
        };
        store.record_hosts(run, &[graded], &[record]).await.unwrap();
        store.finish_run(run, RunStatus::Complete).await.unwrap();
    }

    #[tokio::test]
    async fn the_worker_writes_the_managers_report_through_the_reports_html_writer() {
        let dir = tempfile::tempdir().unwrap();
        let parity = CheckRecord::new("cong.danang.test", "http.parity", Status::Fail, "");
        let store = city_graded(dir.path(), parity).await;
        let mut worker = start(Arc::clone(&store), POLL);
        let ask = |stem: &str| Ask::Report {
            dir: dir.path().to_owned(),
            stem: stem.into(),
            require: Level::L2,
            lang: sixfive_report::progress::Lang::En,
        };
        worker.asks.send(ask("report")).unwrap();
        let Reply::Status(Ok(said)) = next_reply(&mut worker).await else {
            panic!("the report is written");
        };
        assert!(said.ends_with("report.html"), "{said}");
        let page = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(page.contains("Content differs over IPv6"), "cong's blocker");
        // A second report in the same second goes to a file of its own.
        worker.asks.send(ask("report")).unwrap();
        let Reply::Status(Ok(said)) = next_reply(&mut worker).await else {
            panic!("the second report is written");
        };
        assert!(said.ends_with("report-2.html"), "{said}");
    }

    #[tokio::test]
    async fn the_worker_reads_a_focused_host_and_edits_it_with_an_audit_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = CheckRecord::new("cong.danang.test", "tcp.v6", Status::Fail, "refused");
        record.hint = Some("listen on [::]:443".into());
        let store = city_graded(dir.path(), record).await;

        let mut worker = start(Arc::clone(&store), POLL);
        let host = Target::Host("cong.danang.test".into());
        worker.asks.send(Ask::Focus(Some(host.clone()))).unwrap();
        let Reply::Detail(detail) = next_reply(&mut worker).await else {
            panic!("a detail first");
        };
        let Detail::Host {
            results,
            grades,
            audit,
            ..
        } = detail.as_ref()
        else {
            panic!("the host's detail");
        };
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].hint.as_deref(), Some("listen on [::]:443"));
        assert_eq!(
            grades.iter().map(|g| g.level).collect::<Vec<_>>(),
            [Level::L1]
        );
        assert!(audit.is_empty());

        worker
            .asks
            .send(Ask::Edit {
                target: host.clone(),
                field: EditField::Stage,
                value: Some("in-progress".into()),
                who: "lan".into(),
            })
            .unwrap();
        assert_eq!(
            next_reply(&mut worker).await,
            Reply::Status(Ok("stage of cong.danang.test is now in-progress".into()))
        );
        // The edit moves the store's version: the focused detail is read again, audited.
        let Reply::Detail(detail) = next_reply(&mut worker).await else {
            panic!("the detail again");
        };
        let Detail::Host { audit, .. } = detail.as_ref() else {
            panic!("the host's detail");
        };
        assert_eq!(
            (audit[0].who.as_str(), audit[0].new_value.as_deref()),
            ("lan", Some("in-progress"))
        );
        let entries = store
            .audit_log(Some((Kind::Host, "cong.danang.test")))
            .await
            .unwrap();
        assert_eq!(entries.len(), 1);

        worker
            .asks
            .send(Ask::Edit {
                target: Target::Host("nobody.danang.test".into()),
                field: EditField::Owner,
                value: Some("Minh".into()),
                who: "lan".into(),
            })
            .unwrap();
        let Reply::Status(Err(why)) = next_reply(&mut worker).await else {
            panic!("an unknown host is refused");
        };
        assert!(why.contains("nobody.danang.test"), "{why}");
    }

    #[tokio::test]
    async fn a_failed_detail_read_is_tried_again_without_a_store_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let store = Arc::new(Store::open(&StoreUrl::Sqlite(path.clone())).await.unwrap());
        store.import(&city(), "city.yaml", "tester").await.unwrap();
        let record = CheckRecord::new("cong.danang.test", "tcp.v6", Status::Fail, "refused");
        grade_cong(&store, record).await;
        // Evidence that is not JSON fails the read; mending it moves no board version.
        let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let set_evidence = |evidence: &'static str| {
            sqlx::query("UPDATE result_versions SET evidence = $1")
                .bind(evidence)
                .execute(&raw)
        };
        set_evidence("{").await.unwrap();

        let mut worker = start(Arc::clone(&store), Duration::from_millis(100));
        let host = Target::Host("cong.danang.test".into());
        worker.asks.send(Ask::Focus(Some(host))).unwrap();
        let Reply::Status(Err(why)) = next_reply(&mut worker).await else {
            panic!("the failed read is said");
        };
        assert!(why.contains("cannot read cong.danang.test"), "{why}");
        // Said once, not every round it fails again.
        tokio::time::sleep(Duration::from_millis(500)).await;
        set_evidence("null").await.unwrap();
        let Reply::Detail(detail) = next_reply(&mut worker).await else {
            panic!("the detail, once it reads");
        };
        assert_eq!(detail.target(), Target::Host("cong.danang.test".into()));
    }
}
