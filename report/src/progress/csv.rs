//! The report as CSV: every figure a row (`section, agency, item, label, measure, value`),
//! so a spreadsheet can filter and pivot it; numbers plain, dates ISO 8601, labels in the
//! report's language. Also the cell rule every CSV of sixfive follows (the UI's `x`).

use std::io;

use super::{Progress, ProgressReport};

/// Writes rows under `header`, every cell made inert ([`inert`]).
pub fn write_rows(
    out: impl io::Write,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(out);
    out.write_record(header)?;
    for row in rows {
        out.write_record(row.iter().map(|cell| inert(cell).into_owned()))?;
    }
    out.flush()
}

/// A cell a spreadsheet will not run: text that starts like a formula (`=`, `+`, `-`,
/// `@`, their full-width forms, after any blanks or control characters; or a blank or
/// control character itself before any of those) gets a leading `'`, unless the whole
/// cell is a plain decimal number.
pub fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    let first = cell
        .trim_start_matches(|c: char| c.is_whitespace() || c.is_control())
        .chars()
        .next();
    let formula = matches!(
        first,
        Some('=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
    ) && !plain_number(cell)
        || cell.starts_with(['\t', '\r']);
    if formula {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// `-12`, `+3.5`, `-1e-3`: digits with an optional sign, point and exponent, nothing else
/// (not `inf` or `NaN`, which Rust's parser takes and a spreadsheet reads as a name).
fn plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (mantissa, exponent) = match digits.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => (all_digits(whole) || whole.is_empty()) && all_digits(fraction),
        None => all_digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(all_digits)
}

pub const HEADER: [&str; 6] = ["section", "agency", "item", "label", "measure", "value"];

/// One figure.
struct Row<'a> {
    section: &'a str,
    agency: &'a str,
    item: String,
    label: String,
    measure: &'a str,
    value: String,
}

impl Row<'_> {
    fn cells(self) -> Vec<String> {
        vec![
            self.section.into(),
            self.agency.into(),
            self.item,
            self.label,
            self.measure.into(),
            self.value,
        ]
    }
}

fn optional(value: Option<impl ToString>) -> String {
    value.map_or_else(String::new, |v| v.to_string())
}

fn progress_rows<'a>(section: &'a str, agency: &'a str, progress: &Progress) -> Vec<Row<'a>> {
    let row = |measure, value| Row {
        section,
        agency,
        item: String::new(),
        label: String::new(),
        measure,
        value,
    };
    let then = progress.then.as_ref();
    vec![
        row("hosts", progress.hosts.to_string()),
        row("ready", progress.ready.to_string()),
        row("share", optional(progress.share)),
        row("then_date", optional(then.map(|t| t.date))),
        row("then_hosts", optional(then.and_then(|t| t.hosts))),
        row("then_graded", optional(then.map(|t| t.graded))),
        row("then_ready", optional(then.map(|t| t.ready))),
        row("then_share", optional(then.and_then(|t| t.share))),
    ]
}

/// Writes the report's figures.
pub fn write(out: impl io::Write, report: &ProgressReport) -> io::Result<()> {
    let texts = report.lang.texts();
    let meta = |measure, value: String| Row {
        section: "report",
        agency: "",
        item: String::new(),
        label: String::new(),
        measure,
        value,
    };
    let mut rows: Vec<Row> = vec![
        meta("schema", report.schema.clone()),
        meta("lang", report.lang.as_str().into()),
        meta("at", report.at.to_rfc3339()),
        meta("since", report.since.to_string()),
        meta("require", report.require.as_str().into()),
        meta("agency", optional(report.agency.as_ref())),
    ];
    rows.extend(progress_rows("city", "", &report.city));
    rows.push(Row {
        section: "levels",
        agency: "",
        item: String::new(),
        label: texts.level(None),
        measure: "not_graded",
        value: report.not_graded.to_string(),
    });
    let level_rows = |agency: &'static str, levels: &[super::LevelCount]| -> Vec<Row<'static>> {
        levels
            .iter()
            .map(|count| Row {
                section: "levels",
                agency,
                item: count.level.as_str().into(),
                label: texts.level(Some(count.level)),
                measure: "hosts",
                value: count.hosts.to_string(),
            })
            .collect()
    };
    rows.extend(level_rows("", &report.levels));
    for agency in &report.agencies {
        rows.extend(progress_rows("agency", &agency.id, &agency.progress));
        let row = |measure, label: String, value| Row {
            section: "agency",
            agency: &agency.id,
            item: String::new(),
            label,
            measure,
            value,
        };
        rows.push(row("name", String::new(), agency.name.clone()));
        rows.push(row("target", String::new(), optional(agency.target)));
        rows.push(row(
            "outlook",
            texts.of("outlook", agency.outlook.id()).into(),
            agency.outlook.id().into(),
        ));
        rows.push(row("projected", String::new(), optional(agency.projected)));
        rows.push(row(
            "not_graded",
            String::new(),
            agency.not_graded.to_string(),
        ));
        rows.extend(agency.levels.iter().map(|count| Row {
            section: "agency_levels",
            agency: &agency.id,
            item: count.level.as_str().into(),
            label: texts.level(Some(count.level)),
            measure: "hosts",
            value: count.hosts.to_string(),
        }));
    }
    rows.extend(report.blockers.iter().map(|blocker| Row {
        section: "blockers",
        agency: "",
        item: blocker.cause.id().into(),
        label: texts.of("cause", blocker.cause.id()).into(),
        measure: "hosts",
        value: blocker.hosts.len().to_string(),
    }));
    for fix in &report.fixes {
        let item = format!(
            "{}:{}",
            fix.target.subject.kind(),
            fix.target.subject.name()
        );
        let label = format!(
            "{}: {} {}",
            texts.of("cause", fix.target.cause.id()),
            texts.of("subject", fix.target.subject.kind()),
            fix.target.subject.name()
        );
        let row = |measure, value| Row {
            section: "fixes",
            agency: "",
            item: item.clone(),
            label: label.clone(),
            measure,
            value,
        };
        rows.push(row("cause", fix.target.cause.id().into()));
        rows.push(row("lifts", fix.lifts.to_string()));
        rows.push(row("concerns", fix.hosts.len().to_string()));
    }
    let sites = &report.sites;
    let site_row = |section, item: String, label: String, measure, value: usize| Row {
        section,
        agency: "",
        item,
        label,
        measure,
        value: value.to_string(),
    };
    rows.push(site_row(
        "sites",
        String::new(),
        String::new(),
        "sites",
        sites.sites,
    ));
    rows.push(site_row(
        "sites",
        String::new(),
        String::new(),
        "not_polled",
        sites.not_polled,
    ));
    rows.extend(sites.states.iter().map(|count| {
        let state = count.state.as_str();
        site_row(
            "site_states",
            state.into(),
            texts.of("state", state).into(),
            "sites",
            count.sites,
        )
    }));
    rows.extend(sites.signal.iter().map(|band| {
        site_row(
            "signal",
            band.band.into(),
            texts.of("band", band.band).into(),
            "sites",
            band.sites,
        )
    }));
    rows.extend(sites.cells.iter().flat_map(|cell| {
        let item = format!(
            "{}/{}",
            optional(cell.operator.as_ref()),
            optional(cell.cell.as_ref())
        );
        [
            site_row("cells", item.clone(), String::new(), "sites", cell.sites),
            site_row(
                "cells",
                item.clone(),
                String::new(),
                "not_ok",
                cell.unhealthy,
            ),
            Row {
                section: "cells",
                agency: "",
                item: item.clone(),
                label: texts.of("state", cell.worst.as_str()).into(),
                measure: "worst",
                value: cell.worst.as_str().into(),
            },
            Row {
                section: "cells",
                agency: "",
                item,
                label: String::new(),
                measure: "median_rsrp_dbm",
                value: optional(cell.median_rsrp_dbm),
            },
        ]
    }));
    rows.extend(sites.all.iter().flat_map(|site| {
        let row = |measure, value| Row {
            section: "site",
            agency: &site.agency,
            item: site.id.clone(),
            label: site.name.clone(),
            measure,
            value,
        };
        [
            row("state", optional(site.state.map(|s| s.as_str()))),
            row("rsrp_dbm", optional(site.rsrp_dbm)),
            row("sinr_db", optional(site.sinr_db)),
            row("wan_ipv6", optional(site.wan_ipv6)),
        ]
    }));
    rows.extend(report.trend.points.iter().flat_map(|point| {
        let row = |measure, value: usize| Row {
            section: "trend",
            agency: "",
            item: point.date.to_string(),
            label: String::new(),
            measure,
            value: value.to_string(),
        };
        [row("graded", point.graded), row("ready", point.ready)]
    }));
    rows.push(Row {
        section: "trend",
        agency: "",
        item: String::new(),
        label: String::new(),
        measure: "target",
        value: optional(report.trend.target),
    });
    rows.extend(report.hosts.iter().flat_map(|host| {
        let row = |measure, value| Row {
            section: "host",
            agency: &host.agency,
            item: host.fqdn.clone(),
            label: String::new(),
            measure,
            value,
        };
        [
            row("level", optional(host.level.map(|l| l.as_str()))),
            row("score", optional(host.score)),
            row("ready", host.ready.to_string()),
            row("stage", host.stage.as_str().into()),
            row("target", optional(host.target)),
            row("failing", host.failing.join(" ")),
            row(
                "blockers",
                (host.blockers.iter().map(|c| c.id()))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ]
    }));
    write_rows(out, &HEADER, rows.into_iter().map(Row::cells))
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn cells_that_look_like_formulas_are_made_inert_and_numbers_are_not() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("-cmd"), "'-cmd");
        assert_eq!(inert("-112"), "-112");
        assert_eq!(inert("-0.5"), "-0.5");
        assert_eq!(inert("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0");
        assert_eq!(inert(" =1+1"), "' =1+1");
        assert_eq!(inert("＝1+1"), "'＝1+1");
        assert_eq!(inert("+84 236 3822"), "'+84 236 3822");
        assert_eq!(inert("-inf"), "'-inf");
        assert_eq!(inert(" \t=1+1"), "' \t=1+1");
        assert_eq!(inert("\u{a0}=1+1"), "'\u{a0}=1+1");
        assert_eq!(inert("\n=1+1"), "'\n=1+1");
        assert_eq!(inert("-1e-3"), "-1e-3");
        assert_eq!(inert("+3.5"), "+3.5");
        assert_eq!(inert("2026-11-03"), "2026-11-03");
        assert_eq!(inert("Trần Bình"), "Trần Bình");
        assert_eq!(inert(""), "");
    }
}
