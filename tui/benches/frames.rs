//! The terminal UI at a big city's size (issue 12's budgets): drawing a Hosts frame with
//! 100,000 hosts (under 16 ms), filtering them (under 50 ms) and the Overview frame, on
//! ratatui's TestBackend at 160×50. The data is made up here, shaped like a real board.
//!
//!     cargo bench -p sixfive-tui --bench frames

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sixfive_inventory::model::{Level, Stage};
use sixfive_inventory::store::{Board, Grade, HostLine, RunLevels};
use sixfive_tui::{App, Theme, draw};

mod city;
use city::{AGENCIES, CHECKS};

const HOSTS: usize = 100_000;

fn board() -> Board {
    let agencies = city::agencies();
    let hosts = (0..HOSTS)
        .map(|n| {
            let level = Level::ALL[n % Level::ALL.len()];
            HostLine {
                fqdn: format!("h{n:06}.a{:02}.danang.test", n % AGENCIES),
                agency: format!("a{:02}", n % AGENCIES),
                stage: Stage::InProgress,
                owner: Some("Minh".into()),
                zone: None,
                tags: vec!["public".into()],
                grade: Some(Grade {
                    level,
                    score: (n % 101) as u8,
                    regressed: n % 97 == 0,
                    run: 365,
                    at: Some(Utc::now()),
                }),
                failing: if level < Level::L2 {
                    vec![CHECKS[n % CHECKS.len()].to_owned()]
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let trend = (0..12)
        .map(|run| RunLevels {
            run,
            finished_at: Some(Utc::now() - chrono::Duration::days(12 - run)),
            levels: Level::ALL
                .iter()
                .map(|l| (*l, HOSTS / Level::ALL.len()))
                .collect(),
            by_agency: agencies
                .iter()
                .map(|a| {
                    let levels: BTreeMap<Level, usize> = Level::ALL
                        .iter()
                        .map(|l| (*l, HOSTS / AGENCIES / 7))
                        .collect();
                    (a.id.clone(), levels)
                })
                .collect(),
        })
        .collect();
    Board {
        agencies,
        hosts,
        sites: Vec::new(),
        trend,
        last_run: None,
    }
}

fn app(screen: char) -> App {
    let mut app = App::new("bench.db".into(), Level::L2);
    app.set_board(Arc::new(board()), Utc::now());
    app.key(KeyEvent::new(KeyCode::Char(screen), KeyModifiers::NONE));
    app
}

fn frames(c: &mut Criterion) {
    let theme = Theme::plain(true);
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();
    let mut hosts = app('2');
    // Mid-list, so the frame draws rows from the middle of 100,000.
    hosts.key(KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
    c.bench_function("hosts frame, 100,000 hosts, 160x50", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| draw(frame, &mut hosts, theme))
                .unwrap();
        })
    });
    let mut overview = app('1');
    c.bench_function("overview frame, 100,000 hosts, 160x50", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| draw(frame, &mut overview, theme))
                .unwrap();
        })
    });
    // Two queries in turn, so each iteration filters and sorts all 100,000 again.
    let queries = ["agency=a07 level<L3 failing~tls", "level>=L2"];
    let mut turn = 0;
    c.bench_function("filter and sort 100,000 hosts", |b| {
        b.iter(|| {
            turn += 1;
            hosts.apply_filter(queries[turn % 2]);
            black_box(hosts.hosts.rows.len())
        })
    });
    c.bench_function(
        "new snapshot of 100,000 hosts (filter, sort, overview)",
        |b| {
            let board = Arc::new(board());
            b.iter(|| hosts.set_board(Arc::clone(&board), Utc::now()))
        },
    );
}

criterion_group!(benches, frames);
criterion_main!(benches);
