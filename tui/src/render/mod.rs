//! Drawing: one file per screen region, as trippy lays out its frontend. Every function
//! reads the app's snapshot; none waits on anything.

mod footer;
mod header;
mod help;
mod host_detail;
mod hosts;
mod overview;
mod site_detail;
mod sites;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table, TableState};
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{SiteState, Status};

use crate::app::{App, List, Screen};

/// The colours of levels, states and the status line; a config file's `[theme-colors]`
/// changes them by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colors {
    pub broken: Color,
    pub l0: Color,
    /// Graded, but below the required level.
    pub below: Color,
    pub ready: Color,
    pub ok: Color,
    pub degraded: Color,
    pub critical: Color,
    pub auth_failed: Color,
    pub dim: Color,
    pub error: Color,
}

impl Default for Colors {
    fn default() -> Self {
        Colors {
            broken: Color::Red,
            l0: Color::Red,
            below: Color::Yellow,
            ready: Color::Green,
            ok: Color::Green,
            degraded: Color::Yellow,
            critical: Color::Red,
            auth_failed: Color::Magenta,
            dim: Color::DarkGray,
            error: Color::Red,
        }
    }
}

/// Each colour by the name a config file gives it.
type Slot = fn(&mut Colors) -> &mut Color;

impl Colors {
    const SLOTS: [(&'static str, Slot); 10] = [
        ("level-broken", |c| &mut c.broken),
        ("level-l0", |c| &mut c.l0),
        ("level-below", |c| &mut c.below),
        ("level-ready", |c| &mut c.ready),
        ("state-ok", |c| &mut c.ok),
        ("state-degraded", |c| &mut c.degraded),
        ("state-critical", |c| &mut c.critical),
        ("state-auth-failed", |c| &mut c.auth_failed),
        ("dim", |c| &mut c.dim),
        ("error", |c| &mut c.error),
    ];

    pub fn names() -> impl Iterator<Item = &'static str> {
        Colors::SLOTS.iter().map(|(name, _)| *name)
    }

    pub fn slot(&mut self, name: &str) -> Option<&mut Color> {
        let (_, slot) = Colors::SLOTS.iter().find(|(n, _)| *n == name)?;
        Some(slot(self))
    }
}

/// Colours, or none (NO_COLOR, `--color never`): the words carry the meaning either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub colors: Colors,
}

impl Theme {
    /// The default colours, or none.
    pub fn plain(color: bool) -> Self {
        Theme {
            color,
            colors: Colors::default(),
        }
    }

    fn paint(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    /// BROKEN in bold, apart from L0's plain colour; ready levels apart from those below.
    pub fn level(self, level: Level, require: Level) -> Style {
        match level {
            Level::Broken => self.paint(self.colors.broken).add_modifier(Modifier::BOLD),
            Level::L0 => self.paint(self.colors.l0),
            _ if level >= require => self.paint(self.colors.ready),
            _ => self.paint(self.colors.below),
        }
    }

    pub fn state(self, state: SiteState) -> Style {
        match state {
            SiteState::Ok => self.paint(self.colors.ok),
            SiteState::Degraded => self.paint(self.colors.degraded),
            SiteState::Critical | SiteState::Unreachable => self
                .paint(self.colors.critical)
                .add_modifier(Modifier::BOLD),
            SiteState::AuthFailed => self.paint(self.colors.auth_failed),
        }
    }

    /// A check's status: a failure as loud as BROKEN, warnings and errors as a level
    /// short of the target.
    pub fn status(self, status: Status) -> Style {
        match status {
            Status::Pass => self.paint(self.colors.ready),
            Status::Fail => self.paint(self.colors.broken).add_modifier(Modifier::BOLD),
            Status::Warn | Status::Error => self.paint(self.colors.below),
            Status::Skip => self.dim(),
        }
    }

    pub fn dim(self) -> Style {
        self.paint(self.colors.dim)
    }

    pub fn error(self) -> Style {
        self.paint(self.colors.error)
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

/// `text` in at most `width` characters, cut with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        cut.push('…');
    }
    cut
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
        Screen::HostDetail => host_detail::draw(frame, body, app, theme),
        Screen::SiteDetail => site_detail::draw(frame, body, app, theme),
        Screen::Help => help::draw(frame, body, app, theme),
    }
    footer::draw(frame, bottom, app, theme);
}
