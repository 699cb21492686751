//! The sites list: each site's latest poll, worst first, with its recent RSRP.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row};

use super::{Theme, list_table, sort_text, spark, spread, state_text};
use sixfive_inventory::store::SPARK_SAMPLES;

use crate::app::App;

/// The RSRP sparkline's floor and ceiling, sites.md's poor and excellent edges.
pub(super) const RSRP_FLOOR: f64 = -110.0;
pub(super) const RSRP_CEILING: f64 = -75.0;

pub fn draw(frame: &mut Frame, area: Rect, app: &mut App, theme: Theme) {
    let [title, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let techs: Vec<String> = app
        .summary
        .technologies
        .iter()
        .map(|(tech, count)| format!("{tech} {count}"))
        .collect();
    let filter = if app.query.is_empty() {
        String::new()
    } else {
        format!(" · {} shown", app.sites.rows.len())
    };
    let heading = format!(
        " Sites {}{}{}{filter}",
        app.board.sites.len(),
        if techs.is_empty() { "" } else { " · " },
        techs.join(" · ")
    );
    let (column, descending) = app.site_sort;
    let sort = Span::raw(sort_text(column.name(), descending));
    let line = spread(Span::styled(heading, theme.heading()), sort, title.width);
    frame.render_widget(Paragraph::new(line), title);

    let height = usize::from(table.height.saturating_sub(1));
    app.page = height.max(1);
    let offset = app.sites.scroll(height);
    let board = &app.board;
    let number = |value: Option<f64>| value.map_or("-".into(), |v| format!("{v:.0}"));
    let rows = app.sites.rows[offset..].iter().take(height).map(|index| {
        let site = &board.sites[*index];
        let Some(report) = &site.latest else {
            return Row::new(vec![
                Cell::from(site.id.clone()),
                Cell::from(Span::styled("NOT POLLED", theme.dim())),
            ]);
        };
        let worst = |v6: Option<f64>, v4: Option<f64>| match (v6, v4) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let rtt = worst(report.latency_ms.v6, report.latency_ms.v4);
        let loss = worst(report.loss.v6, report.loss.v4);
        Row::new(vec![
            Cell::from(site.id.clone()),
            Cell::from(Span::styled(
                state_text(report.state),
                theme.state(report.state),
            )),
            Cell::from(
                report
                    .radio
                    .technology
                    .clone()
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(number(report.radio.rsrp_dbm)),
            Cell::from(number(report.radio.sinr_db)),
            Cell::from(
                report
                    .uplink
                    .oper_status
                    .clone()
                    .unwrap_or_else(|| "-".into()),
            ),
            Cell::from(rtt.map_or("-".into(), |ms| format!("{ms:.0} ms"))),
            Cell::from(loss.map_or("-".into(), |l| format!("{:.0} %", l * 100.0))),
            Cell::from(match &report.wan_ipv6 {
                Some(addresses) if addresses.is_empty() => "no",
                Some(_) => "yes",
                None => "-",
            }),
            Cell::from(spark(&site.rsrp_history, RSRP_FLOOR, RSRP_CEILING)),
        ])
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(11),
        Constraint::Length(6),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(6),
        // `1234 ms`, `100 %`.
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(SPARK_SAMPLES as u16),
    ];
    let header = [
        "SITE", "STATE", "TECH", "RSRP", "SINR", "UPLINK", "RTT", "LOSS", "WAN v6", "RSRP",
    ];
    list_table(
        frame,
        table,
        (rows, widths.to_vec(), header.to_vec()),
        (&app.sites, offset),
        theme,
    );
}
