//! The keys (as bound, config file included) and the filter language, on one screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::app::App;
use crate::keys::Action;

/// Each line: the actions whose keys it names, and what they do.
const LINES: [(&[Action], &str); 19] = [
    (
        &[
            Action::NextScreen,
            Action::Overview,
            Action::Hosts,
            Action::Sites,
        ],
        "Overview, Hosts, Sites",
    ),
    (
        &[Action::Down, Action::Up, Action::Top, Action::Bottom],
        "move; first, last; ctrl+d ctrl+u half a page",
    ),
    (
        &[Action::Open],
        "open the host or site; the hosts, from the overview",
    ),
    (&[Action::Back], "back; clear the filter"),
    (
        &[Action::Filter],
        "filter: key op value terms, all must hold (ctrl+u clears)",
    ),
    (
        &[],
        "hosts: fqdn domain zone agency level score failing stage",
    ),
    (&[], "       owner tag regressed"),
    (
        &[],
        "sites: agency zone state tech rsrp rsrq sinr uplink ipv6",
    ),
    (
        &[],
        "ops: = != < <= > >= ~ (contains)  e.g. level<L3 rsrp<-100",
    ),
    (
        &[Action::Sort, Action::InvertSort],
        "next sort column; invert the order",
    ),
    (
        &[Action::Recheck],
        "re-check the host or site now; its row updates",
    ),
    (
        &[Action::Edit],
        "edit: stage=in-progress, owner=…, note=… (audited)",
    ),
    (
        &[Action::Export],
        "export: a list as shown to CSV, the overview as the HTML report",
    ),
    (
        &[Action::Command],
        "command: hosts, sites, overview, agency ID, help",
    ),
    (&[Action::Help], "this help"),
    (&[Action::Quit], "quit"),
    (&[], "BROKEN: an AAAA that IPv6 users cannot use, or a"),
    (&[], "        regression; below L0. ↓ marks a regression."),
    (&[], "NO_COLOR=1 drops colour; keys, colours: tui.toml"),
];

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let lines: Vec<Line> = LINES
        .iter()
        .map(|(actions, what)| {
            let keys = match actions {
                [one] => app.bindings.keys_of(*one),
                many => many
                    .iter()
                    .filter_map(|a| {
                        let keys = app.bindings.keys_of(*a);
                        keys.split(' ')
                            .next()
                            .filter(|k| !k.is_empty())
                            .map(str::to_owned)
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            Line::from(vec![
                Span::styled(format!(" {keys:<10} "), theme.heading()),
                Span::raw(*what),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
