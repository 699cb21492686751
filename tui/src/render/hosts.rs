//! The hosts list: one row per host, the visible rows only, so 100,000 hosts draw as fast
//! as a screenful.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row};

use super::{Theme, list_table, sort_text, spread};
use crate::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &mut App, theme: Theme) {
    let [title, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let (column, descending) = app.host_sort;
    let filter = if app.query.is_empty() {
        String::new()
    } else {
        format!(" · {}", app.query.text())
    };
    let heading = format!(
        " Hosts {}{filter} · {} shown",
        app.board.hosts.len(),
        app.hosts.rows.len()
    );
    let sort = Span::raw(sort_text(column.name(), descending));
    let line = spread(Span::styled(heading, theme.heading()), sort, title.width);
    frame.render_widget(Paragraph::new(line), title);

    let wide = table.width >= 120;
    let height = usize::from(table.height.saturating_sub(1));
    app.page = height.max(1);
    let offset = app.hosts.scroll(height);
    let (board, zone) = (&app.board, app.zone);
    let rows = app.hosts.rows[offset..].iter().take(height).map(|index| {
        let host = &board.hosts[*index];
        let (level, style) = match &host.grade {
            Some(grade) => (
                format!(
                    "{}{}",
                    grade.level.as_str(),
                    if grade.regressed { " ↓" } else { "" }
                ),
                theme.level(grade.level, app.require),
            ),
            None => ("-".to_owned(), theme.dim()),
        };
        let mut cells = vec![
            Cell::from(host.fqdn.clone()),
            Cell::from(host.agency.clone()),
            Cell::from(Span::styled(level, style)),
            Cell::from(
                host.grade
                    .as_ref()
                    .map_or("-".into(), |g| g.score.to_string()),
            ),
            Cell::from(host.failing.join(" ")),
            Cell::from(host.stage.as_str()),
        ];
        if wide {
            cells.push(Cell::from(host.owner.clone().unwrap_or_default()));
            cells.push(Cell::from(
                host.grade
                    .as_ref()
                    .and_then(|g| g.at)
                    .map_or("-".into(), |at| {
                        at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
                    }),
            ));
        }
        Row::new(cells)
    });
    let mut widths = vec![
        Constraint::Fill(2),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(11),
    ];
    let mut header = vec!["FQDN", "AGENCY", "LEVEL", "SCORE", "FAILING", "STAGE"];
    if wide {
        widths.extend([Constraint::Length(12), Constraint::Length(16)]);
        header.extend(["OWNER", "LAST SCAN"]);
    }
    list_table(
        frame,
        table,
        (rows, widths, header),
        (&app.hosts, offset),
        theme,
    );
}
