//! The first screen: how far the city and each agency are from the target level, the
//! level counts, site health and what fails most.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use sixfive_inventory::model::Level;

use super::{Theme, spark, state_text};
use crate::app::App;
use crate::summary::{Outlook, outlook_text};

const BAR: usize = 20;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let summary = &app.summary;
    let [city, levels, agencies, sites, weakest, failing] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);

    let share = if summary.hosts == 0 {
        0.0
    } else {
        summary.ready as f64 / summary.hosts as f64
    };
    let filled = ((share * BAR as f64).round() as usize).min(BAR);
    let change = match summary.change {
        Some((n, Some(day))) if n != 0 => format!(" · {n:+} since {}", day.format("%m-%d")),
        Some((n, None)) if n != 0 => format!(" · {n:+} since last run"),
        _ => String::new(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" City  ", theme.heading()),
            Span::raw(format!(
                "{}{}",
                "█".repeat(filled),
                "░".repeat(BAR - filled)
            )),
            Span::raw(format!(
                "  {:.0} % at {} · {} of {} hosts{change}",
                share * 100.0,
                app.require.as_str(),
                summary.ready,
                summary.hosts
            )),
        ])),
        city,
    );

    let mut spans = vec![Span::raw(" ")];
    for (level, count) in &summary.levels {
        let (name, style) = match level {
            Some(level) => (level.as_str(), theme.level(*level, app.require)),
            None => ("UNSCANNED", theme.dim()),
        };
        spans.push(Span::styled(format!("{name} {count}"), style));
        spans.push(Span::raw("   "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), levels);

    // Agencies beyond the screen are counted on a last row, not cut off unseen.
    let room = usize::from(agencies.height.saturating_sub(1));
    let total = summary.agencies.len();
    let shown = if total > room {
        room.saturating_sub(1)
    } else {
        total
    };
    let agencies = if total > shown {
        let [table, more] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(agencies);
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!(" … {} more: :agency ID lists one", total - shown),
                theme.dim(),
            )),
            more,
        );
        table
    } else {
        agencies
    };
    let rows = summary.agencies.iter().take(shown).map(|agency| {
        let outlook_style = match agency.outlook {
            Outlook::AtRisk | Outlook::Late => theme.level(Level::L0, app.require),
            Outlook::Done | Outlook::OnTrack => theme.level(app.require, app.require),
            Outlook::NoTrend | Outlook::NoTarget => theme.dim(),
        };
        Row::new(vec![
            Cell::from(agency.name.clone()),
            Cell::from(agency.id.clone()),
            Cell::from(agency.hosts.to_string()),
            Cell::from(if agency.hosts == 0 {
                "-".to_owned()
            } else {
                format!("{:.0} %", agency.ready as f64 * 100.0 / agency.hosts as f64)
            }),
            Cell::from(spark(&agency.trend, 0.0, 1.0)),
            Cell::from(agency.target.map_or("-".into(), |d| d.to_string())),
            Cell::from(Span::styled(outlook_text(agency.outlook), outlook_style)),
        ])
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Fill(1),
                Constraint::Length(8),
                Constraint::Length(5),
                Constraint::Length(5),
                Constraint::Length(12),
                Constraint::Length(10),
                Constraint::Length(8),
            ],
        )
        .header(
            Row::new(["AGENCY", "", "HOSTS", "READY", "TREND", "TARGET", "STATUS"])
                .style(theme.heading()),
        ),
        agencies,
    );

    let mut spans = vec![Span::styled(" SITES  ", theme.heading())];
    let mut parts: Vec<Span> = summary
        .sites
        .iter()
        .map(|(state, count)| {
            Span::styled(
                format!("{} {count}", state_text(*state).to_lowercase()),
                theme.state(*state),
            )
        })
        .collect();
    if summary.sites_not_polled > 0 {
        parts.push(Span::styled(
            format!("not polled {}", summary.sites_not_polled),
            theme.dim(),
        ));
    }
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw(" · "));
        }
        spans.push(part);
    }
    if summary.sites.is_empty() && summary.sites_not_polled == 0 {
        spans.push(Span::styled("none in the inventory", theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), sites);
    if let Some((site, rsrp)) = &summary.weakest {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(" WEAKEST  ", theme.heading()),
                Span::raw(format!("{site} {rsrp:.0} dBm")),
            ])),
            weakest,
        );
    }

    let failing_text: Vec<String> = summary
        .top_failing
        .iter()
        .map(|(check, hosts)| format!("{check} {hosts}"))
        .collect();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" MOST FAILED  ", theme.heading()),
            Span::raw(if failing_text.is_empty() {
                "none".to_owned()
            } else {
                failing_text.join(" · ")
            }),
        ])),
        failing,
    );
}
