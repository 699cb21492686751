//! `x`: the rows a list shows, in its filter and sort, as CSV (the reports' CSV writer);
//! on the overview, the managers' report (the reports' HTML writer, in the worker). Values are plain (numbers
//! without units, times in RFC 3339) so a spreadsheet can sort and sum them.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sixfive_inventory::store::{HostLine, SiteLine};

use crate::app::App;

/// The rows as CSV through the reports' writer, whose cells a spreadsheet will not run.
fn write(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<String, io::Error> {
    let mut out = Vec::new();
    sixfive_report::progress::csv::write_rows(&mut out, header, rows)?;
    String::from_utf8(out).map_err(io::Error::other)
}

/// Writes `text` to a new file `{stem}.{extension}` in `dir`, or `{stem}-2.{extension}`
/// and on when that exists (two exports within a second share a stem): an export never
/// overwrites a file.
pub fn save(dir: &Path, stem: &str, extension: &str, text: &[u8]) -> io::Result<PathBuf> {
    for n in 1u32.. {
        let path = match n {
            1 => dir.join(format!("{stem}.{extension}")),
            n => dir.join(format!("{stem}-{n}.{extension}")),
        };
        match std::fs::File::create_new(&path) {
            Ok(mut file) => {
                // No half-written export left behind to be taken for a whole one.
                return match file.write_all(text) {
                    Ok(()) => Ok(path),
                    Err(e) => {
                        let _ = std::fs::remove_file(&path);
                        Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())))
                    }
                };
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        }
    }
    unreachable!("some name is free")
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

pub fn hosts(app: &App) -> Result<String, io::Error> {
    let row = |host: &HostLine| {
        let grade = host.grade.as_ref();
        vec![
            host.fqdn.clone(),
            host.agency.clone(),
            grade.map_or_else(String::new, |g| g.level.as_str().to_owned()),
            grade.map_or_else(String::new, |g| g.score.to_string()),
            grade.map_or_else(String::new, |g| g.regressed.to_string()),
            host.failing.join(" "),
            host.stage.as_str().to_owned(),
            host.owner.clone().unwrap_or_default(),
            grade
                .and_then(|g| g.at)
                .map_or_else(String::new, |at| at.to_rfc3339()),
        ]
    };
    write(
        &[
            "fqdn",
            "agency",
            "level",
            "score",
            "regressed",
            "failing",
            "stage",
            "owner",
            "last_scan",
        ],
        app.hosts.rows.iter().map(|i| row(&app.board.hosts[*i])),
    )
}

pub fn sites(app: &App) -> Result<String, io::Error> {
    let row = |site: &SiteLine| {
        let mut cells = vec![site.id.clone(), site.name.clone(), site.agency.clone()];
        match &site.latest {
            Some(report) => cells.extend([
                report.state.as_str().to_owned(),
                report.radio.technology.clone().unwrap_or_default(),
                number(report.radio.rsrp_dbm),
                number(report.radio.rsrq_db),
                number(report.radio.sinr_db),
                report.uplink.oper_status.clone().unwrap_or_default(),
                number(report.latency_ms.v6),
                number(report.latency_ms.v4),
                number(report.loss.v6),
                number(report.loss.v4),
                match &report.wan_ipv6 {
                    Some(addresses) => (!addresses.is_empty()).to_string(),
                    None => String::new(),
                },
                report.polled_at.to_rfc3339(),
            ]),
            None => cells.extend(std::iter::repeat_n(String::new(), 12)),
        }
        cells
    };
    write(
        &[
            "site",
            "name",
            "agency",
            "state",
            "technology",
            "rsrp_dbm",
            "rsrq_db",
            "sinr_db",
            "uplink",
            "latency_v6_ms",
            "latency_v4_ms",
            "loss_v6",
            "loss_v4",
            "wan_ipv6",
            "polled_at",
        ],
        app.sites.rows.iter().map(|i| row(&app.board.sites[*i])),
    )
}
