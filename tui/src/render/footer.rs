//! The bottom line: the keys that matter here, a line being typed, or what went wrong.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::app::{App, Input, Screen};
use crate::keys::Action;

/// The keys a screen's footer names, with what they do.
fn hints(screen: Screen) -> &'static [(Action, &'static str)] {
    match screen {
        Screen::Overview => &[
            (Action::Open, "hosts"),
            (Action::NextScreen, "screens"),
            (Action::Filter, "filter"),
            (Action::Command, "command"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Screen::Hosts | Screen::Sites => &[
            (Action::Open, "open"),
            (Action::Filter, "filter"),
            (Action::Recheck, "re-check"),
            (Action::Edit, "edit"),
            (Action::Export, "export"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Screen::HostDetail | Screen::SiteDetail => &[
            (Action::Back, "back"),
            (Action::Down, "scroll"),
            (Action::Recheck, "re-check"),
            (Action::Edit, "edit"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Screen::Help => &[(Action::Back, "back"), (Action::Quit, "quit")],
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let mut spans = Vec::new();
    // Re-checks under way show whatever else the line says.
    for running in &app.rechecks {
        let progress = running.progress.borrow();
        spans.push(Span::styled(
            format!(
                " ⟳ {} {}/{} {}s ·",
                running.target.name(),
                progress.done(),
                progress.total(),
                (app.now - running.started).num_seconds().max(0)
            ),
            theme.heading(),
        ));
    }
    match (&app.input, &app.status) {
        (Input::Filter(text), _) => spans.push(Span::raw(format!("/{text}▏"))),
        (Input::Command(text), _) => spans.push(Span::raw(format!(":{text}▏"))),
        (Input::Edit(target, text), _) => spans.push(Span::raw(format!(
            "edit {} (stage= owner= note=): {text}▏",
            target.name()
        ))),
        (Input::Keys, Some(status)) => {
            let style = if status.trouble {
                theme.error()
            } else {
                Style::new()
            };
            spans.push(Span::styled(format!(" {status}"), style))
        }
        (Input::Keys, None) => {
            let text: Vec<String> = hints(app.screen)
                .iter()
                .filter_map(|(action, what)| {
                    let keys = app.bindings.keys_of(*action);
                    let key = keys.split(' ').next().filter(|k| !k.is_empty())?;
                    Some(format!("{key} {what}"))
                })
                .collect();
            spans.push(Span::styled(format!(" {}", text.join(" · ")), theme.dim()));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
