//! The top two lines: what is shown and how fresh it is, then the screens.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use sixfive_inventory::store::RunStatus;

use super::{Theme, spread};
use crate::app::{App, Screen};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let freshness = match &app.board.last_run {
        Some(run) => {
            let at = run.finished_at.unwrap_or(run.started_at);
            let minutes = (app.now - at).num_minutes().max(0);
            let ago = match minutes {
                0 => "just now".to_owned(),
                m if m < 120 => format!("{m} min ago"),
                m if m < 48 * 60 => format!("{} h ago", m / 60),
                m => format!("{} days ago", m / 1440),
            };
            // Local time, as the engineer reads the clock on the wall.
            let local = at.with_timezone(&app.zone);
            let status = match run.status {
                RunStatus::Complete => String::new(),
                other => format!(", {other}"),
            };
            format!("last run {} ({ago}{status})", local.format("%m-%d %H:%M"))
        }
        None if app.loaded_at.is_none() => "loading…".to_owned(),
        None => "no run yet".to_owned(),
    };
    let title = format!(" sixfive · {} · {freshness}", app.label);
    let first = spread(
        Span::styled(title, theme.heading()),
        Span::styled("? help ", theme.dim()),
        area.width,
    );
    let mut tabs = vec![Span::raw(" ")];
    let tab = app.list_screen();
    for screen in Screen::TABS {
        if screen == tab {
            tabs.push(Span::styled(
                format!("[{}]", screen.title()),
                theme.heading(),
            ));
        } else {
            tabs.push(Span::raw(format!(" {} ", screen.title())));
        }
        tabs.push(Span::raw(" "));
    }
    let detail = match app.screen {
        Screen::Help => Some(Screen::Help),
        Screen::HostDetail | Screen::SiteDetail => Some(app.screen),
        _ => None,
    };
    if let Some(screen) = detail {
        tabs.push(Span::styled(
            format!("› {}", screen.title()),
            theme.heading(),
        ));
    }
    frame.render_widget(Paragraph::new(vec![first, Line::from(tabs)]), area);
}
