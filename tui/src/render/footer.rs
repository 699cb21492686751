//! The bottom line: the keys that matter here, a line being typed, or what went wrong.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::app::{App, Input, Screen};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let line = match (&app.input, &app.status) {
        (Input::Filter(text), _) => Line::from(format!("/{text}▏")),
        (Input::Command(text), _) => Line::from(format!(":{text}▏")),
        (Input::Keys, Some(status)) => Line::from(Span::styled(
            format!(" {status}"),
            if theme.color {
                Style::new().fg(Color::Red)
            } else {
                Style::new()
            },
        )),
        (Input::Keys, None) => Line::from(Span::styled(
            match app.screen {
                Screen::Overview => {
                    " enter hosts · tab screens · / filter · : command · ? help · q quit"
                }
                Screen::Hosts | Screen::Sites => {
                    " j/k move · / filter · s sort · S invert · tab screens · ? help · q quit"
                }
                Screen::Help => " esc or ? back · q quit",
            },
            theme.dim(),
        )),
    };
    frame.render_widget(Paragraph::new(line), area);
}
