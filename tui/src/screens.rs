//! Every screen drawn from fixed data at 80×24 and 160×50, compared with the snapshots
//! under `src/snapshots/`, and the keys that move between them.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier};
use sixfive_inventory::model::{Agency, Level, Stage};
use sixfive_inventory::results::{CheckRecord, Family, SiteReport, Status};
use sixfive_inventory::run::Progress;
use sixfive_inventory::store::{
    AuditEntry, Board, EditField, Grade, HostLine, Kind, Run, RunLevels, RunStatus, SiteLine,
};

use crate::app::{App, Input, Notice, Outcome, Request, Screen};
use crate::recheck::{Rechecking, Target};
use crate::render::{self, Theme};
use crate::snapshot::{Ask, Detail, Reply};

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
        zone: None,
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
        zone: None,
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
                zone: None,
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
    draw(app, width, height, Theme::plain(false))
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
    assert!(app.status.as_ref().unwrap().trouble);
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
    let terminal = draw(&mut app, 80, 24, Theme::plain(true));
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

/// What the worker reads for the BROKEN host's detail: results at both families with a
/// hint and evidence, four runs of levels, and one edit.
fn host_detail() -> Detail {
    let record = |check: &str, status: Status, family: Option<Family>, detail: &str| {
        let mut record = CheckRecord::new("portal.health.danang.test", check, status, detail);
        record.family = family;
        match family {
            Some(Family::V6) => {
                record.address = Some("fd00:5a:1::10".parse().unwrap());
                record.port = Some(443);
            }
            Some(Family::V4) => {
                record.address = Some("198.18.1.10".parse().unwrap());
                record.port = Some(443);
            }
            None => {}
        }
        if status != Status::Pass {
            record.hint = Some("nginx: add `listen [::]:443 ssl;`".into());
        }
        record.evidence = serde_json::json!({ "error": "connection refused" });
        record
    };
    let grade = |run: i64, level: Level| Grade {
        level,
        score: 50,
        regressed: level == Level::Broken,
        run,
        at: Some(at("2026-12-01T05:00:00Z")),
    };
    Detail::Host {
        fqdn: "portal.health.danang.test".into(),
        results: vec![
            record("dns.aaaa", Status::Pass, None, "1 AAAA"),
            record("tcp.v4", Status::Pass, Some(Family::V4), "open"),
            record(
                "tcp.v6",
                Status::Fail,
                Some(Family::V6),
                "refused (v4: open)",
            ),
            record(
                "http.v6",
                Status::Error,
                Some(Family::V6),
                "not tried: no TCP",
            ),
        ],
        grades: vec![
            grade(1, Level::L0),
            grade(2, Level::L1),
            grade(3, Level::L1),
            grade(4, Level::Broken),
        ],
        audit: vec![AuditEntry {
            at: at("2026-11-28T07:02:00Z"),
            who: "lan".into(),
            kind: Kind::Host,
            key: "portal.health.danang.test".into(),
            field: "stage".into(),
            old_value: Some("planned".into()),
            new_value: Some("in-progress".into()),
        }],
    }
}

fn site_detail(app: &App) -> Detail {
    let site = app.selected_site().unwrap();
    let report = site.latest.clone().unwrap();
    let samples = [-101.0, -104.0, -108.0, -112.0]
        .into_iter()
        .map(|rsrp| {
            let mut report = report.clone();
            report.radio.rsrp_dbm = Some(rsrp);
            report.sample()
        })
        .rev()
        .collect();
    Detail::Site {
        id: site.id.clone(),
        samples,
        audit: Vec::new(),
    }
}

#[test]
fn enter_opens_a_detail_that_the_worker_fills_in_and_esc_goes_back() {
    for (width, height) in [(80, 24), (160, 50)] {
        let mut app = app();
        press(&mut app, "2j\n");
        assert_eq!(app.screen, Screen::HostDetail);
        let target = Target::Host("portal.health.danang.test".into());
        assert_eq!(
            app.outbox,
            [Request::Store(Ask::Focus(Some(target.clone())))],
            "the worker is asked for the selected host"
        );
        let loading = plain(&mut app, width, height);
        assert!(loading.contains("loading…"), "{loading}");
        app.reply(Reply::Detail(Arc::new(host_detail())));
        insta::assert_snapshot!(
            format!("host_detail_{width}x{height}"),
            plain(&mut app, width, height)
        );
        // The cursor moves over the checks; the evidence follows it.
        press(&mut app, "jj");
        let screen = plain(&mut app, width, height);
        assert!(
            screen.contains("evidence: {\"error\":\"connection refused\"}"),
            "{screen}"
        );
        app.outbox.clear();
        press(&mut app, "\x1b");
        assert_eq!(app.screen, Screen::Hosts);
        assert_eq!(app.outbox, [Request::Store(Ask::Focus(None))]);
    }
    // A detail for another host than the one shown is not shown.
    let mut app = app();
    press(&mut app, "2\n");
    app.reply(Reply::Detail(Arc::new(host_detail())));
    assert!(app.detail.is_none());
}

#[test]
fn a_sites_detail_shows_its_poll_and_its_samples() {
    for (width, height) in [(80, 24), (160, 50)] {
        let mut app = app();
        press(&mut app, "3\n");
        assert_eq!(app.screen, Screen::SiteDetail);
        let detail = site_detail(&app);
        app.reply(Reply::Detail(Arc::new(detail)));
        insta::assert_snapshot!(
            format!("site_detail_{width}x{height}"),
            plain(&mut app, width, height)
        );
    }
}

#[test]
fn e_edits_through_the_worker_and_a_bad_edit_says_why() {
    let mut app = app();
    app.who = "lan@ops".into();
    press(&mut app, "2j\n");
    app.outbox.clear();
    press(&mut app, "estage=dual-stack\n");
    assert_eq!(
        app.outbox,
        [Request::Store(Ask::Edit {
            target: Target::Host("portal.health.danang.test".into()),
            field: EditField::Stage,
            value: Some("dual-stack".into()),
            who: "lan@ops".into(),
        })]
    );
    app.outbox.clear();
    press(&mut app, "eowner=\n");
    assert_eq!(
        app.outbox,
        [Request::Store(Ask::Edit {
            target: Target::Host("portal.health.danang.test".into()),
            field: EditField::Owner,
            value: None,
            who: "lan@ops".into(),
        })],
        "an empty value clears"
    );
    app.outbox.clear();
    press(&mut app, "estage=done\n");
    assert!(app.outbox.is_empty());
    let status = app.status.clone().unwrap();
    assert!(status.contains("done"), "{status}");
    press(&mut app, "ecolour=red\n");
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .contains("cannot edit `colour`")
    );
    app.reply(Reply::Status(Ok(
        "stage of portal.health.danang.test is now dual-stack".into(),
    )));
    assert!(plain(&mut app, 80, 24).contains("is now dual-stack"));
    // Sites have no stage.
    press(&mut app, "\x1b3\n");
    app.outbox.clear();
    press(&mut app, "estage=planned\n");
    assert!(app.outbox.is_empty());
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .contains("a site has no stage")
    );
    press(&mut app, "\x1b2\n");
    // Typing: control chords are not text.
    press(&mut app, "e");
    app.key(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT));
    assert_eq!(
        app.input,
        Input::Edit(
            Target::Host("portal.health.danang.test".into()),
            String::new()
        )
    );
}

#[test]
fn r_asks_for_a_recheck_and_its_progress_and_end_show() {
    let mut app = app();
    press(&mut app, "2jjj");
    let target = Target::Host(app.selected_host().unwrap().fqdn.clone());
    press(&mut app, "r");
    assert_eq!(app.outbox, [Request::Recheck(target.clone())]);
    app.outbox.clear();
    let (progress_tx, progress) = tokio::sync::watch::channel(Progress {
        hosts_total: 1,
        ..Progress::default()
    });
    let (done_tx, done) = tokio::sync::oneshot::channel();
    app.recheck_started(target.clone(), Ok(Rechecking { progress, done }));
    assert!(app.rechecking(&target));
    press(&mut app, "r");
    assert!(app.outbox.is_empty(), "one re-check of a host at a time");
    app.status = None;
    assert!(plain(&mut app, 80, 24).contains(&format!("⟳ {} 0/1", target.name())));
    progress_tx.send_modify(|p| p.hosts_done = 1);
    assert!(plain(&mut app, 80, 24).contains("1/1"));
    done_tx.send(Ok(42)).unwrap();
    app.tick();
    assert!(!app.rechecking(&target));
    assert_eq!(
        app.status,
        Some(Notice::done(format!(
            "{} re-checked (run 42)",
            target.name()
        )))
    );
    app.recheck_started(target.clone(), Err("not in the inventory".into()));
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .contains("not in the inventory")
    );
    // Nothing to re-check on the overview.
    press(&mut app, "1r");
    assert!(app.outbox.is_empty());
}

#[test]
fn x_exports_the_rows_shown_in_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = app();
    app.export_dir = dir.path().to_owned();
    press(&mut app, "2/agency=health\nx");
    let status = app.status.clone().unwrap();
    assert!(status.starts_with("exported 4 hosts to "), "{status}");
    let path = dir.path().join("sixfive-hosts-20261202-120700.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "fqdn,agency,level,score,regressed,failing,stage,owner,last_scan"
    );
    assert_eq!(lines.len(), 5);
    assert!(
        lines[1].starts_with("new.health.danang.test,health,,,"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("portal.health.danang.test,health,BROKEN,48,true,http.v6 tcp.v6,"),
        "{text}"
    );
    // Esc clears the filter, which kept only health's and so no site.
    press(&mut app, "3\x1bx");
    let sites =
        std::fs::read_to_string(dir.path().join("sixfive-sites-20261202-120700.csv")).unwrap();
    assert!(
        sites.lines().nth(1).unwrap().starts_with("school-sontra,"),
        "{sites}"
    );
    assert!(
        !app.status.as_ref().unwrap().trouble,
        "a done export is no error"
    );
    // A second export within the same second goes to a file of its own.
    press(&mut app, "x");
    let status = app.status.clone().unwrap();
    assert!(
        status.ends_with("sixfive-sites-20261202-120700-2.csv"),
        "{status}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sixfive-sites-20261202-120700-2.csv")).unwrap(),
        sites
    );
    app.export_dir = dir.path().join("missing");
    press(&mut app, "x");
    let status = app.status.clone().unwrap();
    assert!(status.starts_with("cannot export the sites: "), "{status}");
    assert!(status.trouble && status.contains("missing"), "{status}");
}

#[test]
fn x_on_the_overview_asks_the_worker_for_the_managers_report() {
    let mut app = app();
    app.export_dir = PathBuf::from("/reports");
    press(&mut app, "1x");
    assert_eq!(
        app.outbox,
        [Request::Store(Ask::Report {
            dir: PathBuf::from("/reports"),
            stem: "sixfive-report-20261202-120700".into(),
            require: app.require,
            lang: app.report_lang,
        })]
    );
    assert_eq!(app.status.as_deref(), Some("writing the report…"));
}

#[test]
fn bindings_from_the_config_file_drive_keys_help_and_footer() {
    let mut app = app();
    let config = crate::config::Config::parse(
        std::path::Path::new("tui.toml"),
        "[bindings]\nrecheck = \"R\"\nquit = \"ctrl+q\"\n",
    )
    .unwrap();
    app.bindings = config.bindings;
    press(&mut app, "2");
    assert_eq!(
        app.key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
        Outcome::Continue
    );
    press(&mut app, "r");
    assert!(app.outbox.is_empty());
    press(&mut app, "R");
    assert_eq!(app.outbox.len(), 1);
    let footer = plain(&mut app, 80, 24);
    assert!(
        footer.contains("R re-check") && footer.contains("ctrl+q quit"),
        "{footer}"
    );
    press(&mut app, "?");
    let help = plain(&mut app, 80, 24);
    assert!(help.contains(" R          re-check"), "{help}");
}

#[test]
fn sorting_keeps_unknowns_last_and_ties_in_name_order_either_way() {
    let mut app = app();
    press(&mut app, "2");
    let order = |app: &App| -> Vec<String> {
        app.hosts
            .rows
            .iter()
            .map(|i| app.board.hosts[*i].fqdn.clone())
            .collect()
    };
    // level → fqdn → agency → score.
    press(&mut app, "sss");
    assert_eq!(app.host_sort, (crate::app::HostColumn::Score, false));
    let ascending = order(&app);
    assert_eq!(
        ascending.last().unwrap(),
        "new.health.danang.test",
        "ungraded last"
    );
    press(&mut app, "S");
    let descending = order(&app);
    assert_eq!(
        descending.last().unwrap(),
        "new.health.danang.test",
        "still last"
    );
    assert_eq!(descending[0], "cong.danang.test");
    // The two L2 hosts score 80 alike: name order both ways.
    let tie = |order: &[String]| {
        order
            .iter()
            .filter(|f| *f == "dichvucong.danang.test" || *f == "yte.danang.test")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(tie(&ascending), tie(&descending));
    // failing starts with the most failing checks, ▼.
    press(&mut app, "s");
    assert_eq!(app.host_sort, (crate::app::HostColumn::Failing, true));
    assert_eq!(order(&app)[0], "portal.health.danang.test");
    assert!(plain(&mut app, 80, 24).contains("sort: failing ▼"));
    // stage in the migration's order.
    press(&mut app, "s");
    let stages: Vec<Stage> = app
        .hosts
        .rows
        .iter()
        .map(|i| app.board.hosts[*i].stage)
        .collect();
    assert_eq!(stages.first(), Some(&Stage::Planned));
    assert_eq!(stages.last(), Some(&Stage::DualStack));
    // Sites: the never-polled site stays last whichever way RSRP sorts.
    press(&mut app, "3ss");
    assert_eq!(app.site_sort.0.name(), "rsrp");
    let last = |app: &App| app.board.sites[*app.sites.rows.last().unwrap()].id.clone();
    assert_eq!(last(&app), "ward-camle");
    press(&mut app, "S");
    assert_eq!(last(&app), "ward-camle");
}

#[test]
fn agencies_beyond_the_overview_are_counted_not_cut_off() {
    let mut board = board();
    for n in 0..30 {
        board.agencies.push(Agency {
            id: format!("ward-{n:02}"),
            name: format!("Ward {n:02}"),
            name_vi: None,
            target: None,
        });
        board.hosts.push(host(
            &format!("portal.ward-{n:02}.danang.test"),
            &format!("ward-{n:02}"),
            Some(Level::L1),
            &[],
            Stage::Planned,
        ));
    }
    let mut app = app();
    app.set_board(Arc::new(board), app.now);
    let screen = plain(&mut app, 80, 24);
    assert!(screen.contains("more: :agency ID lists one"), "{screen}");
    let counted: usize = screen
        .split("… ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let listed = screen.lines().filter(|l| l.contains(" ward-")).count();
    assert!(listed > 5, "{screen}");
    assert_eq!(listed + 2 + counted, app.summary.agencies.len(), "{screen}");
}

#[test]
fn a_detail_stays_on_its_host_when_the_host_leaves_the_filter() {
    let mut app = app();
    press(&mut app, "2/stage=planned\n");
    let fqdn = app.selected_host().unwrap().fqdn.clone();
    press(&mut app, "\n");
    assert_eq!(app.screen, Screen::HostDetail);
    // The host moves on to in-progress: the filter no longer shows it.
    let mut board = board();
    board
        .hosts
        .iter_mut()
        .find(|h| h.fqdn == fqdn)
        .unwrap()
        .stage = Stage::InProgress;
    app.set_board(Arc::new(board), app.now);
    assert_ne!(
        app.selected_host().map(|h| h.fqdn.clone()),
        Some(fqdn.clone())
    );
    assert_eq!(app.focused_host().unwrap().fqdn, fqdn);
    assert!(plain(&mut app, 80, 24).contains(&fqdn));
    app.outbox.clear();
    press(&mut app, "enote=x\n");
    let Some(Request::Store(Ask::Edit { target, .. })) = app.outbox.first() else {
        panic!("an edit: {:?}", app.outbox);
    };
    assert_eq!(
        target,
        &Target::Host(fqdn.clone()),
        "the edit is of the host shown"
    );
    // Help and back keep the host.
    press(&mut app, "??");
    assert_eq!(app.focused_host().unwrap().fqdn, fqdn);
    // r pressed again before the draw loop starts the first is one re-check.
    app.outbox.clear();
    press(&mut app, "rrr");
    assert_eq!(app.outbox, [Request::Recheck(Target::Host(fqdn))]);
}

#[test]
fn only_trouble_shows_in_the_error_colour() {
    let mut app = app();
    let theme = Theme::plain(true);
    let mut status_fg = |notice: Notice| {
        app.status = Some(notice);
        let terminal = draw(&mut app, 80, 24, theme);
        let buffer = terminal.backend().buffer();
        // The footer's first column is a space; the message starts after it.
        buffer[(1, buffer.area.height - 1)].style().fg
    };
    assert_eq!(
        status_fg(Notice::trouble("unknown command")),
        Some(theme.colors.error)
    );
    assert_ne!(
        status_fg(Notice::done("exported 4 hosts")),
        Some(theme.colors.error)
    );
}
