//! Plain aligned tables for a terminal: the header, then one line per row. Widths count
//! what a terminal shows, so Vietnamese names line up. `check` and `sites` are the
//! commands' tables.

use std::io::{self, Write};

use sixfive_inventory::model::Level;
use sixfive_inventory::results::{SiteReport, SiteState, Status};
use sixfive_inventory::run::HostReport;
use unicode_width::UnicodeWidthStr;

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<const N: usize>(header: [&str; N]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows.push(cells.into());
    }

    pub fn write(&self, out: &mut impl Write, color: bool) -> io::Result<()> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| shown_width(h)).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(shown_width(cell));
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                text.push_str(cell);
                if i + 1 < cells.len() {
                    text.push_str(&" ".repeat(width - shown_width(cell) + 2));
                }
            }
            text
        };
        let header = line(&self.header);
        if color {
            writeln!(out, "\x1b[1m{header}\x1b[0m")?;
        } else {
            writeln!(out, "{header}")?;
        }
        for row in &self.rows {
            writeln!(out, "{}", line(row))?;
        }
        Ok(())
    }
}

/// Columns a cell takes on a terminal: colour codes (`ESC [ … m`) take none.
fn shown_width(cell: &str) -> usize {
    let mut plain = String::with_capacity(cell.len());
    let mut in_code = false;
    for c in cell.chars() {
        match (in_code, c) {
            (false, '\x1b') => in_code = true,
            (true, 'm') => in_code = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    plain.width()
}

/// `sixfive check`'s table: a host a row.
pub fn check(reports: &[HostReport], require: Level) -> Table {
    let mut table = Table::new(["FQDN", "AGENCY", "LEVEL", "SCORE", "READY", "FAILING"]);
    for r in reports {
        let mut failing: Vec<&str> = r
            .records
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Error))
            .map(|c| c.check.as_str())
            .collect();
        failing.dedup();
        table.row([
            r.host.fqdn.clone(),
            r.host.agency.clone(),
            r.level.level.to_string()
                + if r.level.regressed {
                    " (regressed)"
                } else {
                    ""
                },
            r.level.score.to_string(),
            if r.level.level >= require {
                "yes"
            } else {
                "no"
            }
            .into(),
            failing.join(","),
        ]);
    }
    table
}

/// `sixfive sites`' table: a site a row, states coloured when `color`.
pub fn sites(reports: &[SiteReport], color: bool) -> Table {
    let mut table = Table::new([
        "SITE",
        "STATE",
        "VIA",
        "RADIO",
        "RSRP",
        "RSRQ",
        "SINR",
        "CONNECTION",
        "TEMP",
        "UPLINK",
        "RTT v6/v4",
        "LOSS",
        "WAN IPv6",
        "REASONS",
    ]);
    let number = |value: Option<f64>| value.map_or("-".into(), |v| format!("{v}"));
    let pair = |v6: Option<f64>, v4: Option<f64>, show: fn(f64) -> String| {
        format!(
            "{}/{}",
            v6.map_or("-".into(), show),
            v4.map_or("-".into(), show)
        )
    };
    for r in reports {
        let name = match r.state {
            SiteState::AuthFailed => "AUTH FAILED".to_owned(),
            other => other.as_str().to_uppercase(),
        };
        // Green, yellow, red; refused credentials in magenta, apart from the dead.
        let paint = match r.state {
            SiteState::Ok => "32",
            SiteState::Degraded => "33",
            SiteState::Critical | SiteState::Unreachable => "31",
            SiteState::AuthFailed => "35",
        };
        let state = if color {
            format!("\x1b[{paint}m{name}\x1b[0m")
        } else {
            name
        };
        table.row([
            r.id.clone(),
            state,
            r.polled_via.map_or("-".into(), |f| f.as_str().to_owned()),
            r.radio.technology.clone().unwrap_or_else(|| "-".into()),
            number(r.radio.rsrp_dbm),
            number(r.radio.rsrq_db),
            number(r.radio.sinr_db),
            r.modem
                .connection_state
                .clone()
                .unwrap_or_else(|| "-".into()),
            r.modem
                .temperature_c
                .map_or("-".into(), |c| format!("{c:.1}°C")),
            match (&r.uplink.name, &r.uplink.oper_status) {
                (Some(name), Some(status)) => format!("{name} {status}"),
                _ => "-".into(),
            },
            pair(r.latency_ms.v6, r.latency_ms.v4, |ms| format!("{ms:.1}")),
            pair(r.loss.v6, r.loss.v4, |loss| format!("{:.0}%", loss * 100.0)),
            match &r.wan_ipv6 {
                Some(addresses) if addresses.is_empty() => "none".into(),
                Some(addresses) => addresses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                None => "-".into(),
            },
            r.reasons.join("; "),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_by_displayed_width() {
        let mut table = Table::new(["ID", "TÊN"]);
        table.row(["dict".into(), "Sở Thông tin".into()]);
        table.row(["x".into(), "y".into()]);
        let mut out = Vec::new();
        table.write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "ID    TÊN\ndict  Sở Thông tin\nx     y\n");
    }

    #[test]
    fn a_site_row_shows_the_modem_state_and_temperature() {
        let site = |id: &str, modem: serde_json::Value| -> SiteReport {
            serde_json::from_value(serde_json::json!({
                "id": id, "state": "degraded", "reasons": ["modem at 78.1 °C, above the 75 °C it is rated for"],
                "polled_via": "v6", "address": "fd00:5c::20", "profile": "teltonika-rutx",
                "system": {}, "radio": { "technology": "5G-SA", "rsrp_dbm": -75.0 },
                "modem": modem, "uplink": {}, "uptime_s": null, "rebooted": false,
                "wan_ipv6": null, "latency_ms": {}, "jitter_ms": {}, "loss": {}, "quality": {},
                "polled_at": "2026-12-02T00:00:00Z", "took_ms": 1.0
            }))
            .unwrap()
        };
        let hot = site(
            "hot",
            serde_json::json!({ "connection_state": "Connected", "temperature_c": 78.1 }),
        );
        let unread = site("unread", serde_json::json!({}));
        let mut out = Vec::new();
        sites(&[hot, unread], false).write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        let modem = lines[0].iter().position(|h| *h == "CONNECTION").unwrap();
        assert_eq!(lines[0][modem + 1], "TEMP", "{text}");
        assert_eq!(
            &lines[1][modem..modem + 2],
            ["Connected", "78.1°C"],
            "{text}"
        );
        assert_eq!(&lines[2][modem..modem + 2], ["-", "-"], "{text}");
    }

    #[test]
    fn colour_codes_take_no_columns() {
        let mut table = Table::new(["STATE", "SITE"]);
        table.row(["\x1b[32mOK\x1b[0m".into(), "a".into()]);
        table.row(["DEGRADED".into(), "b".into()]);
        let mut out = Vec::new();
        table.write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "STATE     SITE\n\x1b[32mOK\x1b[0m        a\nDEGRADED  b\n"
        );
    }
}
