//! Every screen drawn from fixed data at 80×24 and 160×50, compared with the snapshots
//! under `src/snapshots/`, and the keys that move between them.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};
use sixfive_inventory::model::{Agency, Level, Stage};
use sixfive_inventory::results::SiteReport;
use sixfive_inventory::store::{Board, Grade, HostLine, Run, RunLevels, RunStatus, SiteLine};

use crate::app::{App, Outcome, Screen};
use crate::render::{self, Theme};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn host(
    fqdn: &str,
    agency: &str,
    level: Option<Level>,
    failing: &[&str],
    stage: Stage,
) -> HostLine {
    HostLine {
        fqdn: fqdn.into(),
        agency: agency.into(),
        stage,
        owner: Some("Minh".into()),
        tags: Vec::new(),
        grade: level.map(|level| Grade {
            level,
            score: match level {
                Level::Broken => 48,
                Level::L0 => 20,
                Level::L1 => 55,
                Level::L2 => 80,
                _ => 95,
            },
            regressed: level == Level::Broken,
            run: 3,
            at: Some(at("2026-12-02T05:04:00Z")),
        }),
        failing: failing.iter().map(|c| (*c).to_owned()).collect(),
    }
}

fn site(id: &str, state: &str, tech: &str, rsrp: f64, sinr: f64, v6: bool) -> SiteLine {
    let report: SiteReport = serde_json::from_value(serde_json::json!({
        "id": id, "state": state, "reasons": [], "polled_via": "v6",
        "address": "fd00:5c::20", "profile": "teltonika-rutx", "system": {},
        "radio": { "technology": tech, "rsrp_dbm": rsrp, "sinr_db": sinr },
        "uplink": { "oper_status": "up" }, "uptime_s": 86400, "rebooted": false,
        "wan_ipv6": if v6 { serde_json::json!(["fd00:5d::1"]) } else { serde_json::json!([]) },
        "latency_ms": { "v6": 12.4, "v4": 11.0 }, "jitter_ms": {}, "loss": { "v6": 0.0 },
        "quality": {}, "polled_at": "2026-12-02T05:00:00Z", "took_ms": 30.0
    }))
    .unwrap();
    SiteLine {
        id: id.into(),
        name: id.into(),
        agency: "dict".into(),
        latest: Some(report),
        rsrp_history: [-95.0, -98.0, -101.0, -104.0, -108.0, rsrp]
            .into_iter()
            .map(Some)
            .collect(),
    }
}

fn levels(pairs: &[(Level, usize)]) -> std::collections::BTreeMap<Level, usize> {
    pairs.iter().copied().collect()
}

/// A small city: two agencies with targets, hosts at every level, four sites.
pub fn board() -> Board {
    let agency = |id: &str, name: &str, target: &str| Agency {
        id: id.into(),
        name: name.into(),
        name_vi: None,
        target: Some(target.parse::<NaiveDate>().unwrap()),
    };
    let run = |id: i64, day: &str, dict: usize, health: usize| RunLevels {
        run: id,
        finished_at: Some(at(day)),
        levels: levels(&[(Level::L0, 7 - dict - health), (Level::L2, dict + health)]),
        by_agency: [
            (
                "dict".to_owned(),
                levels(&[(Level::L0, 3 - dict), (Level::L2, dict)]),
            ),
            (
                "health".to_owned(),
                levels(&[(Level::L0, 4 - health), (Level::L2, health)]),
            ),
        ]
        .into_iter()
        .collect(),
    };
    Board {
        agencies: vec![
            agency("dict", "Sở Thông tin và Truyền thông", "2027-06-30"),
            agency("health", "Sở Y tế", "2026-12-15"),
        ],
        hosts: vec![
            host(
                "cong.danang.test",
                "dict",
                Some(Level::L3),
                &[],
                Stage::DualStack,
            ),
            host(
                "dichvucong.danang.test",
                "dict",
                Some(Level::L2),
                &[],
                Stage::InProgress,
            ),
            host(
                "mail.dict.danang.test",
                "dict",
                Some(Level::L0),
                &["dns.aaaa"],
                Stage::Planned,
            ),
            host(
                "portal.health.danang.test",
                "health",
                Some(Level::Broken),
                &["http.v6", "tcp.v6"],
                Stage::InProgress,
            ),
            host(
                "benhvien.health.danang.test",
                "health",
                Some(Level::L1),
                &["tls.v6"],
                Stage::Planned,
            ),
            host(
                "yte.danang.test",
                "health",
                Some(Level::L2),
                &[],
                Stage::DualStack,
            ),
            host(
                "new.health.danang.test",
                "health",
                None,
                &[],
                Stage::Planned,
            ),
        ],
        sites: vec![
            site("ward-haichau", "ok", "5G-SA", -78.0, 22.0, true),
            site("school-sontra", "critical", "LTE", -112.0, -2.0, true),
            site("cabinet-lienchieu", "degraded", "5G-NSA", -95.0, 8.0, false),
            SiteLine {
                id: "ward-camle".into(),
                name: "ward-camle".into(),
                agency: "dict".into(),
                latest: None,
                rsrp_history: Vec::new(),
            },
        ],
        trend: vec![
            run(1, "2026-11-18T05:00:00Z", 0, 0),
            run(2, "2026-11-25T05:00:00Z", 1, 0),
            run(3, "2026-12-02T05:00:00Z", 2, 1),
        ],
        last_run: Some(Run {
            id: 3,
            agent: "check@lan".into(),
            kind: sixfive_inventory::store::RunKind::Scan,
            started_at: at("2026-12-02T05:03:00Z"),
            finished_at: Some(at("2026-12-02T05:04:00Z")),
            status: RunStatus::Complete,
            import: Some(1),
        }),
    }
}

pub fn app() -> App {
    let mut app = App::new("danang.db".into(), Level::L2);
    app.now = at("2026-12-02T05:07:00Z");
    app.zone = FixedOffset::east_opt(7 * 3600).unwrap();
    app.set_board(Arc::new(board()), app.now);
    app
}

fn draw(app: &mut App, width: u16, height: u16, theme: Theme) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render::draw(frame, app, theme))
        .unwrap();
    terminal
}

fn plain(app: &mut App, width: u16, height: u16) -> String {
    draw(app, width, height, Theme { color: false })
        .backend()
        .to_string()
}

fn press(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\t' => KeyCode::Tab,
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        // ^U, as a terminal sends ctrl+u.
        if c == '\x15' {
            app.key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        } else {
            app.key(KeyEvent::new(code, KeyModifiers::NONE));
        }
    }
}

#[test]
fn every_screen_at_80_by_24_and_160_by_50() {
    for (width, height) in [(80, 24), (160, 50)] {
        for (name, keys) in [
            ("overview", ""),
            ("hosts", "2"),
            ("sites", "3"),
            ("help", "?"),
        ] {
            let mut app = app();
            press(&mut app, keys);
            insta::assert_snapshot!(
                format!("{name}_{width}x{height}"),
                plain(&mut app, width, height)
            );
        }
    }
}

#[test]
fn a_filter_narrows_the_list_and_a_bad_one_says_why_and_keeps_it() {
    let mut app = app();
    press(&mut app, "2/agency=health level<L2\n");
    assert_eq!(
        app.hosts.rows.len(),
        2,
        "BROKEN and L1; the ungraded host has no level"
    );
    insta::assert_snapshot!("hosts_filtered_80x24", plain(&mut app, 80, 24));
    press(&mut app, "/\x15levl<L3\n");
    assert_eq!(
        app.query.text(),
        "agency=health level<L2",
        "the filter stays"
    );
    let screen = plain(&mut app, 80, 24);
    assert!(screen.contains("`levl` is not a key"), "{screen}");
}

#[test]
fn the_cursor_stays_on_its_host_when_new_data_arrives() {
    let mut app = app();
    press(&mut app, "2jj");
    let chosen = app.selected_host().unwrap().fqdn.clone();
    let mut board = board();
    board.hosts.insert(
        0,
        host(
            "a-first.danang.test",
            "dict",
            Some(Level::Broken),
            &[],
            Stage::Planned,
        ),
    );
    app.set_board(Arc::new(board), app.now);
    assert_eq!(app.selected_host().unwrap().fqdn, chosen);
}

#[test]
fn keys_move_sort_and_quit() {
    let mut app = app();
    press(&mut app, "2");
    assert_eq!(app.screen, Screen::Hosts);
    press(&mut app, "G");
    assert_eq!(app.hosts.selected, 6);
    press(&mut app, "gg");
    assert_eq!(app.hosts.selected, 0);
    // Ungraded first, then BROKEN: worst first.
    assert_eq!(app.selected_host().unwrap().fqdn, "new.health.danang.test");
    press(&mut app, "S");
    assert_eq!(
        app.selected_host().unwrap().fqdn,
        "new.health.danang.test",
        "kept"
    );
    press(&mut app, "gg");
    assert_eq!(
        app.selected_host().unwrap().fqdn,
        "cong.danang.test",
        "L3 first, inverted"
    );
    press(&mut app, "s");
    assert_eq!(app.host_sort.0.name(), "fqdn");
    press(&mut app, ":sites\n");
    assert_eq!(app.screen, Screen::Sites);
    press(&mut app, ":agency health\n");
    assert_eq!(app.query.text(), "agency=health");
    press(&mut app, ":nonsense\n");
    assert!(app.status.as_deref().unwrap().contains("unknown command"));
    let control_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.key(control_c), Outcome::Quit);
    assert_eq!(
        app.key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
        Outcome::Quit
    );
}

#[test]
fn broken_is_told_from_l0_without_colour_and_with_it() {
    let mut app = app();
    press(&mut app, "2");
    let text = plain(&mut app, 80, 24);
    assert!(text.contains("BROKEN ↓") && text.contains("L0"), "{text}");
    let terminal = draw(&mut app, 80, 24, Theme { color: true });
    let buffer = terminal.backend().buffer();
    // The style of the first cell of `word` on screen, cells compared one symbol each.
    let style_of = |word: &str| {
        let wanted: Vec<String> = word.chars().map(String::from).collect();
        let (x, y) = (0..buffer.area.height)
            .find_map(|y| {
                let cells: Vec<&str> = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect();
                let x = cells
                    .windows(wanted.len())
                    .position(|w| w == wanted.as_slice())?;
                Some((u16::try_from(x).unwrap(), y))
            })
            .unwrap();
        buffer[(x, y)].style()
    };
    let broken = style_of("BROKEN");
    let l0 = style_of("L0");
    assert_eq!(broken.fg, Some(Color::Red));
    assert!(broken.add_modifier.contains(Modifier::BOLD));
    assert_ne!(broken, l0);
}
