//! The keys and the filter language, on one screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;

const KEYS: [(&str, &str); 17] = [
    ("tab 1 2 3", "Overview, Hosts, Sites"),
    (
        "j k ↓ ↑",
        "move; ctrl+d ctrl+u half a page; gg G first, last",
    ),
    ("enter", "from the overview, the hosts"),
    (
        "/",
        "filter: key op value terms, all must hold (ctrl+u clears)",
    ),
    (
        "",
        "hosts: fqdn zone agency level score failing stage owner",
    ),
    ("", "       tag regressed"),
    ("", "sites: agency state tech rsrp rsrq sinr uplink ipv6"),
    ("", "ops: = != < <= > >= ~ (contains)"),
    ("", "e.g. agency=dict level<L3 failing=tls.v6 rsrp<-100"),
    ("esc", "clear the filter; leave help"),
    ("s S", "next sort column; invert the order"),
    (":", "command: hosts, sites, overview, agency ID, help"),
    ("?", "this help"),
    ("q ctrl+c", "quit"),
    ("", "BROKEN: an AAAA that IPv6 users cannot use, or a"),
    ("", "        regression; below L0. ↓ marks a regression."),
    ("", "NO_COLOR=1 drops colour; the words stay."),
];

pub fn draw(frame: &mut Frame, area: Rect, theme: Theme) {
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<10} "), theme.heading()),
                Span::raw(*what),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}
