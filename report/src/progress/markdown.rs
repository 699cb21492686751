//! The report as Markdown, for pasting into a ticket or a wiki: the same sections as the
//! HTML, as GitHub-flavoured tables.

use std::io::{self, Write};

use super::i18n::Texts;
use super::{Progress, ProgressReport};

/// A table cell: pipes and line breaks would end it, and `<` would open raw HTML in a wiki.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(header.len()))?;
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)
}

/// "72.5% (87 of 120)".
pub(crate) fn share_text(texts: &Texts, ready: usize, hosts: usize, share: Option<f64>) -> String {
    match share {
        Some(share) => format!(
            "{} ({}/{})",
            texts.percent(share),
            texts.count(ready),
            texts.count(hosts)
        ),
        None => "–".into(),
    }
}

/// The change since the `since` date: "+4.0 pp (65.0% on 2026-11-03)".
pub fn change_text(texts: &Texts, progress: &Progress) -> String {
    match (&progress.then, progress.share) {
        (Some(then), Some(_)) => match (then.share, progress.change()) {
            (Some(before), Some(change)) => format!(
                "{} ({} {})",
                texts.points(change),
                texts.percent(before),
                texts.date(then.date)
            ),
            _ => "–".into(),
        },
        _ => texts.get("no_earlier_run").into(),
    }
}

pub fn write(out: &mut impl Write, report: &ProgressReport) -> io::Result<()> {
    let t = report.lang.texts();
    writeln!(out, "# {}\n", cell(&report.title()))?;
    writeln!(
        out,
        "{}: {} · {}: {} · {}: {} · {}: {}\n",
        t.get("as_at"),
        t.time(report.at),
        t.get("since"),
        t.date(report.since),
        t.get("require"),
        t.level(Some(report.require)),
        t.get("generated"),
        t.time(report.generated_at),
    )?;

    writeln!(out, "## {}\n", t.get("headline"))?;
    let city = &report.city;
    table(
        out,
        &[t.get("hosts"), t.get("share_ready"), t.get("change")],
        &[vec![
            t.count(city.hosts),
            share_text(t, city.ready, city.hosts, city.share),
            change_text(t, city),
        ]],
    )?;
    let mut levels: Vec<Vec<String>> = (report.levels.iter())
        .map(|count| vec![t.level(Some(count.level)), t.count(count.hosts)])
        .collect();
    levels.push(vec![t.level(None), t.count(report.not_graded)]);
    writeln!(out, "### {}\n", t.get("levels"))?;
    table(out, &[t.get("level"), t.get("hosts")], &levels)?;

    writeln!(out, "## {}\n", t.get("agencies"))?;
    let agencies: Vec<Vec<String>> = (report.agencies.iter())
        .map(|a| {
            let p = &a.progress;
            vec![
                a.name.clone(),
                t.count(p.hosts),
                share_text(t, p.ready, p.hosts, p.share),
                change_text(t, p),
                a.target.map_or("–".into(), |d| t.date(d)),
                t.of("outlook", a.outlook.id()).into(),
                a.projected.map_or("–".into(), |d| t.date(d)),
            ]
        })
        .collect();
    table(
        out,
        &[
            t.get("agency"),
            t.get("hosts"),
            t.get("share_ready"),
            t.get("change"),
            t.get("target"),
            t.get("outlook"),
            t.get("projected"),
        ],
        &agencies,
    )?;
    writeln!(out, "{}\n", t.get("projection_note"))?;

    writeln!(out, "## {}\n", t.get("blockers"))?;
    let blockers: Vec<Vec<String>> = (report.blockers.iter())
        .map(|b| {
            vec![
                t.of("cause", b.cause.id()).into(),
                t.count(b.hosts.len()),
                hosts_text(t, &b.hosts),
            ]
        })
        .collect();
    table(
        out,
        &[t.get("cause"), t.get("hosts"), t.get("host")],
        &blockers,
    )?;

    writeln!(out, "## {}\n", t.get("fixes"))?;
    writeln!(out, "{}\n", t.get("fixes_note"))?;
    let fixes: Vec<Vec<String>> = report
        .top_fixes()
        .map(|fix| {
            let subject = &fix.target.subject;
            vec![
                t.of("cause", fix.target.cause.id()).into(),
                format!("{} `{}`", t.of("subject", subject.kind()), subject.name()),
                t.count(fix.lifts),
                t.count(fix.hosts.len()),
            ]
        })
        .collect();
    table(
        out,
        &[
            t.get("fix"),
            t.get("subject"),
            t.get("lifts"),
            t.get("concerns"),
        ],
        &fixes,
    )?;

    let sites = &report.sites;
    writeln!(out, "## {}\n", t.get("sites"))?;
    let mut states: Vec<Vec<String>> = (sites.states.iter())
        .map(|s| vec![t.of("state", s.state.as_str()).into(), t.count(s.sites)])
        .collect();
    states.push(vec![t.get("not_polled").into(), t.count(sites.not_polled)]);
    table(out, &[t.get("state"), t.get("sites_total")], &states)?;
    let site_rows = |rows: &[super::SiteRow]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    s.name.clone(),
                    s.state
                        .map_or("–".into(), |st| t.of("state", st.as_str()).into()),
                    s.rsrp_dbm
                        .map_or("–".into(), |v| format!("{} dBm", t.decimal(v, 0))),
                    s.operator.clone().unwrap_or_default(),
                    s.cell.clone().unwrap_or_default(),
                ]
            })
            .collect()
    };
    let site_header = [
        t.get("site"),
        t.get("name"),
        t.get("state"),
        "RSRP",
        t.get("operator"),
        t.get("cell"),
    ];
    writeln!(out, "### {}\n", t.get("worst_sites"))?;
    table(out, &site_header, &site_rows(&sites.worst))?;
    writeln!(out, "### {}\n", t.get("signal"))?;
    let bands: Vec<Vec<String>> = (sites.signal.iter())
        .map(|b| vec![t.of("band", b.band).into(), t.count(b.sites)])
        .collect();
    table(out, &[t.get("band"), t.get("sites_total")], &bands)?;
    writeln!(out, "### {}\n", t.get("without_ipv6"))?;
    table(out, &site_header, &site_rows(&sites.without_ipv6))?;
    writeln!(out, "### {}\n", t.get("cells"))?;
    let cells: Vec<Vec<String>> = (sites.cells.iter())
        .map(|c| {
            vec![
                c.operator
                    .clone()
                    .unwrap_or_else(|| t.get("unknown").into()),
                c.cell.clone().unwrap_or_else(|| t.get("unknown").into()),
                t.count(c.sites),
                t.count(c.unhealthy),
                t.of("state", c.worst.as_str()).into(),
                c.median_rsrp_dbm
                    .map_or("–".into(), |v| format!("{} dBm", t.decimal(v, 0))),
            ]
        })
        .collect();
    table(
        out,
        &[
            t.get("operator"),
            t.get("cell"),
            t.get("sites_total"),
            t.get("unhealthy"),
            t.get("state"),
            t.get("median_rsrp"),
        ],
        &cells,
    )?;

    writeln!(out, "## {}\n", t.get("trend"))?;
    let points: Vec<Vec<String>> = (report.trend.points.iter())
        .map(|p| vec![t.date(p.date), t.count(p.graded), t.count(p.ready)])
        .collect();
    table(
        out,
        &[t.get("date"), t.get("graded"), t.get("trend_ready")],
        &points,
    )?;

    writeln!(out, "## {}\n", t.get("appendix"))?;
    let names = report.agency_names();
    let hosts: Vec<Vec<String>> = (report.hosts.iter())
        .map(|h| {
            vec![
                format!("`{}`", h.fqdn),
                names.of(&h.agency).to_owned(),
                t.level(h.level),
                h.score.map_or("–".into(), |s| s.to_string()),
                t.of("stage", h.stage.as_str()).into(),
                h.failing.join(", "),
            ]
        })
        .collect();
    table(
        out,
        &[
            t.get("host"),
            t.get("agency"),
            t.get("level"),
            t.get("score"),
            t.get("stage"),
            t.get("failing"),
        ],
        &hosts,
    )
}

/// Up to five hosts, then how many more.
pub fn hosts_text(t: &Texts, hosts: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = hosts
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if hosts.len() > SHOWN {
        text.push(' ');
        text.push_str(&t.fill("more_hosts", &[("count", &t.count(hosts.len() - SHOWN))]));
    }
    text
}
