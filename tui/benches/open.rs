//! Opening the terminal UI on a big city's store (issue 12's budget: under 1 s): 100,000
//! hosts in 40 agencies and a year of daily runs, 2 % of hosts changing level a day. One
//! iteration is what `sixfive tui` does before its first frame: [`Store::open`] (schema
//! check, stale runs), [`Store::board_version`], [`Store::board`], and the Overview frame
//! on ratatui's TestBackend at 160×50.
//!
//!     cargo bench -p sixfive-tui --bench open
//!     SIXFIVE_BENCH_HOSTS=10000 SIXFIVE_BENCH_DAYS=30 cargo bench -p sixfive-tui --bench open
//!
//! The store is the city's year (`store`): SQLite, written by bulk SQL and kept under the
//! target folder for the next bench run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sixfive_inventory::model::Level;
use sixfive_inventory::store::Board;
use sixfive_inventory::{Store, StoreUrl};
use sixfive_tui::{App, Theme, draw};

mod city;
mod store;
use store::{SITES, setting, store_path};

/// Opens the store and draws the first frame, as `sixfive tui` does; returns the board for
/// a look at what was read.
async fn open(url: &StoreUrl, terminal: &mut Terminal<TestBackend>) -> Arc<Board> {
    let store = Store::open(url).await.unwrap();
    store.board_version().await.unwrap();
    let board = Arc::new(store.board().await.unwrap());
    let mut app = App::new("bench.db".into(), Level::L2);
    app.set_board(Arc::clone(&board), Utc::now());
    terminal
        .draw(|frame| draw(frame, &mut app, Theme::plain(true)))
        .unwrap();
    store.close().await;
    board
}

fn opening(c: &mut Criterion) {
    let hosts = setting("SIXFIVE_BENCH_HOSTS", 100_000);
    let days = setting("SIXFIVE_BENCH_DAYS", 365);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = StoreUrl::Sqlite(store_path(&rt, hosts, days));
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();
    // Once, step by step, for where the time goes.
    rt.block_on(async {
        let started = Instant::now();
        let store = Store::open(&url).await.unwrap();
        let opened = started.elapsed();
        store.board_version().await.unwrap();
        let versioned = started.elapsed();
        let board = store.board().await.unwrap();
        let read = started.elapsed();
        let mut app = App::new("bench.db".into(), Level::L2);
        app.set_board(Arc::new(board), Utc::now());
        let taken = started.elapsed();
        terminal
            .draw(|frame| draw(frame, &mut app, Theme::plain(true)))
            .unwrap();
        let drawn = started.elapsed();
        println!(
            "open bench, once: open {opened:.0?}, board_version +{:.0?}, board +{:.0?}, \
             the app takes the board +{:.0?}, first frame +{:.0?}",
            versioned - opened,
            read - versioned,
            taken - read,
            drawn - taken
        );
        store.close().await;
    });
    let board = rt.block_on(open(&url, &mut terminal));
    let newest = board.trend.last().expect("a trend");
    assert_eq!(board.hosts.len(), hosts);
    assert_eq!(board.sites.len(), SITES);
    assert_eq!(newest.levels.values().sum::<usize>(), hosts);
    let mut group = c.benchmark_group("open");
    // Seconds an iteration: the same number of them in every sample.
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(
        format!("open the UI: {hosts} hosts, {days} daily runs, 160x50"),
        |b| {
            b.iter_custom(|iterations| {
                let mut spent = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    rt.block_on(open(&url, &mut terminal));
                    spent += started.elapsed();
                }
                spent
            })
        },
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    targets = opening
}
criterion_main!(benches);
