//! One site: its latest poll in full (why its state, radio, modem, uplink, reach, WAN
//! IPv6, system), sparklines of its recent samples, and the hand edits.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use sixfive_inventory::results::{PerFamily, SiteReport};

use super::host_detail::audit_line;
use super::sites::{RSRP_CEILING, RSRP_FLOOR};
use super::{Theme, fit, spark, state_text};
use crate::app::App;
use crate::recheck::Target;
use crate::snapshot::Detail;

pub fn draw(frame: &mut Frame, area: Rect, app: &mut App, theme: Theme) {
    let Some(site) = app.focused_site() else {
        // Removed from the inventory while its screen was open.
        frame.render_widget(
            Paragraph::new(" no longer in the inventory: esc goes back"),
            area,
        );
        return;
    };
    let width = usize::from(area.width);
    let detail = app.detail.clone();
    let (samples, audit) = match detail.as_deref() {
        Some(Detail::Site { id, samples, audit }) if *id == site.id => {
            (samples.as_slice(), audit.as_slice())
        }
        _ => (&[][..], &[][..]),
    };
    let checking = if app.rechecking(&Target::Site(site.id.clone())) {
        " · re-checking…"
    } else {
        ""
    };
    let mut lines = Vec::new();
    let mut head = vec![
        Span::styled(format!(" {}", site.id), theme.heading()),
        Span::raw(format!(" · {} · {} · ", site.name, site.agency)),
    ];
    let Some(report) = &site.latest else {
        head.push(Span::styled("NOT POLLED", theme.dim()));
        lines.push(Line::from(head));
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    head.push(Span::styled(
        state_text(report.state),
        theme.state(report.state),
    ));
    head.push(Span::raw(format!(" · {}{checking}", report.profile)));
    lines.push(Line::from(head));
    if !report.reasons.is_empty() {
        lines.push(Line::from(Span::raw(fit(
            &format!(" why: {}", report.reasons.join("; ")),
            width,
        ))));
    }
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!(" {name:<8}"), theme.heading()),
            Span::raw(fit(&value, width.saturating_sub(9))),
        ])
    };
    for (name, value) in facts(report) {
        lines.push(field(name, value));
    }

    // Samples come newest first; sparklines read left to right, oldest first.
    let reports: Vec<SiteReport> = samples
        .iter()
        .rev()
        .filter_map(SiteReport::from_sample)
        .collect();
    if !reports.is_empty() {
        let series =
            |value: fn(&SiteReport) -> Option<f64>| reports.iter().map(value).collect::<Vec<_>>();
        let rtt = |r: &SiteReport| r.latency_ms.v6.or(r.latency_ms.v4);
        let rtts = series(rtt);
        let high = rtts.iter().flatten().fold(1.0_f64, |a, b| a.max(*b));
        lines.push(field(
            "polls",
            format!(
                "RSRP {} · SINR {} · RTT {} (last {})",
                spark(&series(|r| r.radio.rsrp_dbm), RSRP_FLOOR, RSRP_CEILING),
                spark(&series(|r| r.radio.sinr_db), -5.0, 25.0),
                spark(&rtts, 0.0, high),
                reports.len()
            ),
        ));
    } else if detail.is_none() {
        lines.push(Line::from(Span::styled(" loading…", theme.dim())));
    }
    for entry in audit.iter().rev().take(3) {
        lines.push(audit_line(entry, app, theme));
    }
    let height = usize::from(area.height);
    let last_start = lines.len().saturating_sub(height);
    app.detail_scroll = app.detail_scroll.min(last_start);
    app.page = height.max(1);
    frame.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(app.detail_scroll).unwrap_or(0), 0)),
        area,
    );
}

/// The latest poll's values as `name: value` lines; `-` where the router said nothing.
fn facts(report: &SiteReport) -> Vec<(&'static str, String)> {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let db = |v: Option<f64>, unit: &str| v.map_or("-".into(), |v| format!("{v:.1} {unit}"));
    let per_family =
        |v: PerFamily, unit: &str| format!("v6 {} · v4 {}", db(v.v6, unit), db(v.v4, unit));
    let radio = &report.radio;
    let mut out = vec![
        (
            "radio",
            format!(
                "{} · RSRP {} · RSRQ {} · SINR {} · RSSI {}",
                or_dash(&radio.technology),
                db(radio.rsrp_dbm, "dBm"),
                db(radio.rsrq_db, "dB"),
                db(radio.sinr_db, "dB"),
                db(radio.rssi_dbm, "dBm"),
            ),
        ),
        (
            "cell",
            format!(
                "{} · cell {} · band {}",
                or_dash(&radio.operator),
                or_dash(&radio.cell_id),
                or_dash(&radio.band)
            ),
        ),
    ];
    if radio.nr_rsrp_dbm.is_some() || radio.nr_sinr_db.is_some() {
        out.push((
            "NR",
            format!(
                "RSRP {} · RSRQ {} · SINR {}",
                db(radio.nr_rsrp_dbm, "dBm"),
                db(radio.nr_rsrq_db, "dB"),
                db(radio.nr_sinr_db, "dB")
            ),
        ));
    }
    let modem = &report.modem;
    out.push((
        "modem",
        format!(
            "data {} · SIM {} · network {} · {}",
            or_dash(&modem.connection_state),
            or_dash(&modem.sim_state),
            or_dash(&modem.network_state),
            modem
                .temperature_c
                .map_or("-".into(), |t| format!("{t:.0} °C"))
        ),
    ));
    let uplink = &report.uplink;
    let count = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
    out.push((
        "uplink",
        format!(
            "{} ({}) · errors in {} out {}",
            or_dash(&uplink.oper_status),
            or_dash(&uplink.name),
            count(uplink.in_errors),
            count(uplink.out_errors)
        ),
    ));
    out.push(("RTT", per_family(report.latency_ms, "ms")));
    out.push((
        "loss",
        format!(
            "v6 {} · v4 {}",
            report
                .loss
                .v6
                .map_or("-".into(), |l| format!("{:.0} %", l * 100.0)),
            report
                .loss
                .v4
                .map_or("-".into(), |l| format!("{:.0} %", l * 100.0))
        ),
    ));
    out.push((
        "WAN v6",
        match &report.wan_ipv6 {
            Some(addresses) if addresses.is_empty() => "none".into(),
            Some(addresses) => addresses
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            None => "-".into(),
        },
    ));
    out.push((
        "system",
        format!(
            "{} · up {}{}",
            or_dash(&report.system.descr),
            report.uptime_s.map_or("-".into(), |s| format!(
                "{}d {}h",
                s / 86_400,
                s % 86_400 / 3600
            )),
            if report.rebooted { " · rebooted" } else { "" }
        ),
    ));
    out
}
