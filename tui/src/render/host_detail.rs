//! One host: its line from the board, every current check per address, port and family
//! (the cursor's with its evidence), the level over the latest runs and the hand edits.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use sixfive_inventory::results::{CheckRecord, Family, Status};
use sixfive_inventory::store::{AuditEntry, Grade};

use super::{Theme, fit};
use crate::app::App;
use crate::recheck::Target;
use crate::snapshot::Detail;

/// Audit entries shown under the checks: the newest.
const AUDIT_LINES: usize = 2;

pub fn draw(frame: &mut Frame, area: Rect, app: &mut App, theme: Theme) {
    let Some(host) = app.focused_host() else {
        // Removed from the inventory while its screen was open.
        frame.render_widget(
            Paragraph::new(" no longer in the inventory: esc goes back"),
            area,
        );
        return;
    };
    let detail = app.detail.clone();
    let (results, grades, audit) = match detail.as_deref() {
        Some(Detail::Host {
            fqdn,
            results,
            grades,
            audit,
        }) if *fqdn == host.fqdn => (results.as_slice(), grades.as_slice(), audit.as_slice()),
        _ => (&[][..], &[][..], &[][..]),
    };
    let audit_lines = audit.len().min(AUDIT_LINES) as u16;
    let [head, table, history, edits] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(audit_lines),
    ])
    .areas(area);

    let (level, level_style) = match &host.grade {
        Some(grade) => {
            let was = grades
                .iter()
                .rev()
                .nth(1)
                .filter(|before| before.level != grade.level)
                .map_or(String::new(), |before| {
                    format!(" (was {})", before.level.as_str())
                });
            (
                format!("{}{was}", grade.level.as_str()),
                theme.level(grade.level, app.require),
            )
        }
        None => ("not graded".to_owned(), theme.dim()),
    };
    let score = host
        .grade
        .as_ref()
        .map_or(String::new(), |g| format!(" · {}", g.score));
    let checking = if app.rechecking(&Target::Host(host.fqdn.clone())) {
        " · re-checking…"
    } else {
        ""
    };
    let note = audit
        .iter()
        .rev()
        .find(|entry| entry.field == "note")
        .and_then(|entry| entry.new_value.clone());
    let note = note.map_or(String::new(), |note| format!(" · note: {note}"));
    let lines = vec![
        Line::from(vec![
            Span::styled(format!(" {}", host.fqdn), theme.heading()),
            Span::raw(format!(" · {} · ", host.agency)),
            Span::styled(level, level_style),
            Span::raw(format!("{score}{checking}")),
        ]),
        Line::from(Span::raw(fit(
            &format!(
                " {} · owner: {}{note}",
                host.stage.as_str(),
                host.owner.as_deref().unwrap_or("-")
            ),
            usize::from(area.width),
        ))),
    ];
    frame.render_widget(Paragraph::new(lines), head);

    if detail.is_none() {
        frame.render_widget(
            Paragraph::new(Span::styled(" loading…", theme.dim())),
            table,
        );
    } else {
        checks(frame, table, app, results, theme);
    }
    frame.render_widget(Paragraph::new(level_history(grades, app, theme)), history);
    let edits_lines: Vec<Line> = audit
        .iter()
        .rev()
        .take(AUDIT_LINES)
        .map(|entry| audit_line(entry, app, theme))
        .collect();
    frame.render_widget(Paragraph::new(edits_lines), edits);
}

/// The checks as lines: a row per result, its hint under a result that did not pass, and
/// the cursor's evidence; scrolled so the cursor shows.
fn checks(frame: &mut Frame, area: Rect, app: &mut App, results: &[CheckRecord], theme: Theme) {
    let width = usize::from(area.width);
    let address_width = if width >= 120 { 39 } else { 20 };
    app.detail_scroll = app.detail_scroll.min(results.len().saturating_sub(1));
    app.page = usize::from(area.height.saturating_sub(1)).max(1);
    let heading = format!(
        " {:<16} {:<3} {:<address_width$} {:>5} {:<6} DETAIL",
        "CHECK", "FAM", "ADDRESS", "PORT", "STATUS"
    );
    let mut lines = Vec::new();
    let mut cursor_at = 0;
    for (index, record) in results.iter().enumerate() {
        let selected = index == app.detail_scroll;
        if selected {
            cursor_at = lines.len();
        }
        let family = record.family.map_or("-", Family::as_str);
        let address = record
            .address
            .map_or("-".to_owned(), |a| fit(&a.to_string(), address_width));
        let port = record.port.map_or("-".to_owned(), |p| p.to_string());
        let status = match record.status {
            Status::Fail => "FAIL".to_owned(),
            other => other.as_str().to_owned(),
        };
        let row = format!(
            " {:<16} {family:<3} {address:<address_width$} {port:>5} ",
            fit(&record.check, 16)
        );
        let used = row.chars().count() + 7;
        let mut line = Line::from(vec![
            Span::raw(row),
            Span::styled(format!("{status:<6} "), theme.status(record.status)),
            Span::raw(fit(&record.detail, width.saturating_sub(used))),
        ]);
        if selected {
            line = line.style(theme.selected());
        }
        lines.push(line);
        if record.status != Status::Pass
            && let Some(hint) = &record.hint
        {
            lines.push(Line::from(Span::styled(
                fit(&format!("   hint: {hint}"), width),
                theme.dim(),
            )));
        }
        if selected && !record.evidence.is_null() {
            let evidence = record.evidence.to_string();
            lines.push(Line::from(Span::styled(
                fit(&format!("   evidence: {evidence}"), width),
                theme.dim(),
            )));
        }
    }
    if results.is_empty() {
        lines.push(Line::from(Span::styled(" no results yet", theme.dim())));
    }
    let height = usize::from(area.height.saturating_sub(1));
    // Keep the cursor's row and the two lines under it (hint, evidence) on screen.
    let offset = (cursor_at + 3).saturating_sub(height).min(cursor_at);
    let [top, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(fit(&heading, width), theme.heading())),
        top,
    );
    frame.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(offset).unwrap_or(u16::MAX), 0)),
        body,
    );
}

/// `LEVEL  L0 ─ L1 ─ BROKEN  (3 runs)`, newest last.
fn level_history<'a>(grades: &[Grade], app: &App, theme: Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(" LEVEL  ", theme.heading())];
    for (index, grade) in grades.iter().enumerate() {
        if index > 0 {
            spans.push(Span::raw(" ─ "));
        }
        spans.push(Span::styled(
            grade.level.as_str(),
            theme.level(grade.level, app.require),
        ));
    }
    if grades.is_empty() {
        spans.push(Span::styled("no run graded it yet", theme.dim()));
    } else {
        spans.push(Span::styled(
            format!(
                "  ({} run{})",
                grades.len(),
                if grades.len() == 1 { "" } else { "s" }
            ),
            theme.dim(),
        ));
    }
    Line::from(spans)
}

/// `AUDIT  11-28 14:02 stage planned → in-progress (lan)`.
pub fn audit_line<'a>(entry: &AuditEntry, app: &App, theme: Theme) -> Line<'a> {
    let at = entry.at.with_timezone(&app.zone).format("%m-%d %H:%M");
    let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    Line::from(vec![
        Span::styled(" AUDIT  ", theme.heading()),
        Span::raw(format!(
            "{at} {} {} → {} ({})",
            entry.field,
            value(&entry.old_value),
            value(&entry.new_value),
            entry.who
        )),
    ])
}
