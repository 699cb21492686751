//! Drawing: one file per screen region, as trippy lays out its frontend. Every function
//! reads the app's snapshot; none waits on anything.

mod footer;
mod header;
mod help;
mod hosts;
mod overview;
mod sites;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table, TableState};
use sixfive_inventory::model::Level;
use sixfive_inventory::results::SiteState;

use crate::app::{App, List, Screen};

/// Colours, or none (NO_COLOR): the words carry the meaning either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless NO_COLOR is set to anything (no-color.org).
    pub fn from_env() -> Self {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn paint(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// BROKEN in bold red, apart from L0's plain red; ready levels green.
    pub fn level(self, level: Level, require: Level) -> Style {
        match level {
            Level::Broken => self.paint(Color::Red).add_modifier(Modifier::BOLD),
            Level::L0 => self.paint(Color::Red),
            _ if level >= require => self.paint(Color::Green),
            _ => self.paint(Color::Yellow),
        }
    }

    pub fn state(self, state: SiteState) -> Style {
        match state {
            SiteState::Ok => self.paint(Color::Green),
            SiteState::Degraded => self.paint(Color::Yellow),
            SiteState::Critical | SiteState::Unreachable => {
                self.paint(Color::Red).add_modifier(Modifier::BOLD)
            }
            SiteState::AuthFailed => self.paint(Color::Magenta),
        }
    }

    pub fn dim(self) -> Style {
        self.paint(Color::DarkGray)
    }

    /// The cursor's row: reversed, which reads without colour too.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn heading(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

/// `left` and `right` on one line of `width`, apart.
pub fn spread<'a>(left: Span<'a>, right: Span<'a>, width: u16) -> Line<'a> {
    let used = left.content.chars().count() + right.content.chars().count();
    let pad = usize::from(width).saturating_sub(used);
    Line::from(vec![left, Span::raw(" ".repeat(pad)), right])
}

/// A list's table: its heading, the rows on screen, and the cursor on `selected` of the
/// list when the list has rows (`offset` is the first row on screen).
pub fn list_table<'a>(
    frame: &mut Frame,
    area: Rect,
    (rows, widths, header): (
        impl IntoIterator<Item = Row<'a>>,
        Vec<Constraint>,
        Vec<&'a str>,
    ),
    (list, offset): (&List, usize),
    theme: Theme,
) {
    let cursor = (!list.rows.is_empty()).then(|| list.selected - offset);
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.heading()))
            .row_highlight_style(theme.selected()),
        area,
        &mut TableState::new().with_selected(cursor),
    );
}

/// A list's sort as its title line ends: `sort: level ▲`.
pub fn sort_text(column: &str, descending: bool) -> String {
    format!("sort: {column} {} ", if descending { "▼" } else { "▲" })
}

/// A state as the lists print it: capitals, as sixfive's tables do.
pub fn state_text(state: SiteState) -> String {
    match state {
        SiteState::AuthFailed => "AUTH FAIL".into(),
        other => other.as_str().to_uppercase(),
    }
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A one-line sparkline of `values` between `low` and `high`; a gap is a space.
pub fn spark(values: &[Option<f64>], low: f64, high: f64) -> String {
    values
        .iter()
        .map(|value| match value {
            Some(v) => {
                let share = ((v - low) / (high - low)).clamp(0.0, 1.0);
                BARS[((share * 7.0).round() as usize).min(7)]
            }
            None => ' ',
        })
        .collect()
}

pub fn draw(frame: &mut Frame, app: &mut App, theme: Theme) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    header::draw(frame, top, app, theme);
    match app.screen {
        Screen::Overview => overview::draw(frame, body, app, theme),
        Screen::Hosts => hosts::draw(frame, body, app, theme),
        Screen::Sites => sites::draw(frame, body, app, theme),
        Screen::Help => help::draw(frame, body, theme),
    }
    footer::draw(frame, bottom, app, theme);
}
