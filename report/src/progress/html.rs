//! The report as one self-contained HTML file, for managers to open, mail and print: the
//! Markdown's sections with inline CSS (and a print stylesheet for A4) and inline SVG charts
//! drawn with plotters. The page is `report/templates/report.html.j2`, rendered by
//! minijinja with HTML auto-escaping; this module hands it every figure already formatted in
//! the report's language.

use std::io::{self, Write};

use chrono::{Days, NaiveDate};
use minijinja::value::{Serde, Value};
use minijinja::{Environment, ErrorKind, UndefinedBehavior, context};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::SiteState;

use super::i18n::Texts;
use super::markdown::{change_text, hosts_text, share_text};
use super::{Outlook, ProgressReport, SignalBand, SiteRow, Trend};

const TEMPLATE: &str = "report.html.j2";

/// Writes `report` as HTML in its language.
pub fn write(out: &mut impl Write, report: &ProgressReport) -> io::Result<()> {
    let t = report.lang.texts();
    let mut env = Environment::new();
    // A misspelt field fails the render (and the tests) instead of printing nothing.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template(TEMPLATE, include_str!("../../templates/report.html.j2"))
        .map_err(io::Error::other)?;
    env.add_function("t", move |key: &str| {
        // Texts::get answers a missing key with the key: a page would show it unnoticed.
        t.lookup(key).map(str::to_owned).ok_or_else(|| {
            minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("no text `{key}` in report/locales"),
            )
        })
    });
    let burnup = burnup_svg(t, &report.trend)?;
    let signal = signal_svg(t, &report.sites.signal)?;
    // plotters escapes the text it writes into the SVG, so the charts go in as they are.
    let ctx = context! {
        page => Value::from(Serde(&Page::of(report))),
        burnup => burnup.map(Value::from_safe_string),
        signal => signal.map(Value::from_safe_string),
    };
    let html = env
        .get_template(TEMPLATE)
        .and_then(|template| template.render(ctx))
        .map_err(io::Error::other)?;
    out.write_all(html.as_bytes())
}

/// The page's figures, formatted; the template lays them out.
#[derive(Serialize)]
struct Page {
    lang: &'static str,
    title: String,
    meta: Vec<Meta>,
    city: Headline,
    levels: Vec<LevelRow>,
    agencies: Vec<AgencyRow>,
    blockers: Vec<BlockerRow>,
    fixes: Vec<FixRow>,
    sites: Sites,
    has_target: bool,
    hosts: Vec<HostRow>,
}

#[derive(Serialize)]
struct Meta {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct Headline {
    share: String,
    ready_of: String,
    points: String,
    then: String,
    /// Agencies on track or done, of all.
    on_track: String,
    /// How many of the others are at risk, late, …
    outlooks: String,
}

/// `tone` is a CSS class suffix: good, warn, bad, below (not yet ready) or none.
#[derive(Serialize)]
struct LevelRow {
    name: String,
    hosts: String,
    /// Share of all hosts, 0–100, for the bar.
    width: f64,
    tone: &'static str,
}

#[derive(Serialize)]
struct AgencyRow {
    name: String,
    hosts: String,
    share: String,
    width: f64,
    change: String,
    target: String,
    outlook: String,
    tone: &'static str,
    projected: String,
}

#[derive(Serialize)]
struct BlockerRow {
    cause: String,
    count: String,
    hosts: String,
}

#[derive(Serialize)]
struct FixRow {
    cause: String,
    kind: String,
    subject: String,
    lifts: String,
    concerns: String,
}

#[derive(Serialize)]
struct Sites {
    total: String,
    not_polled: String,
    states: Vec<StateRow>,
    worst: Vec<SiteLine>,
    without_ipv6: Vec<SiteLine>,
    cells: Vec<CellRow>,
}

#[derive(Serialize)]
struct StateRow {
    name: String,
    sites: String,
    tone: &'static str,
}

#[derive(Serialize)]
struct SiteLine {
    id: String,
    name: String,
    state: String,
    tone: &'static str,
    rsrp: String,
    operator: String,
    cell: String,
}

#[derive(Serialize)]
struct CellRow {
    operator: String,
    cell: String,
    sites: String,
    unhealthy: String,
    state: String,
    tone: &'static str,
    median_rsrp: String,
}

#[derive(Serialize)]
struct HostRow {
    fqdn: String,
    agency: String,
    level: String,
    tone: &'static str,
    score: String,
    ready: &'static str,
    stage: String,
    failing: String,
}

fn level_tone(level: Option<Level>, require: Level) -> &'static str {
    match level {
        None => "none",
        Some(Level::Broken) => "bad",
        Some(level) if level >= require => "good",
        Some(_) => "below",
    }
}

fn outlook_tone(outlook: Outlook) -> &'static str {
    match outlook {
        Outlook::Done | Outlook::OnTrack => "good",
        Outlook::AtRisk => "warn",
        Outlook::Late => "bad",
        Outlook::NoTrend | Outlook::NoTarget => "none",
    }
}

fn state_tone(state: Option<SiteState>) -> &'static str {
    match state {
        None => "none",
        Some(SiteState::Ok) => "good",
        Some(SiteState::Degraded | SiteState::AuthFailed) => "warn",
        Some(SiteState::Critical | SiteState::Unreachable) => "bad",
    }
}

fn dbm(t: &Texts, value: Option<f64>) -> String {
    value.map_or("–".into(), |v| format!("{} dBm", t.decimal(v, 0)))
}

fn date(t: &Texts, date: Option<NaiveDate>) -> String {
    date.map_or("–".into(), |d| t.date(d))
}

fn percent_width(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 1000.0 / whole as f64).round() / 10.0
    }
}

impl Page {
    fn of(report: &ProgressReport) -> Page {
        let t = report.lang.texts();
        let require = report.require;
        let title = report.title();
        let meta = [
            ("as_at", t.time(report.at)),
            ("since", t.date(report.since)),
            ("require", t.level(Some(require))),
            ("generated", t.time(report.generated_at)),
        ]
        .into_iter()
        .map(|(key, value)| Meta {
            label: t.get(key).into(),
            value,
        })
        .collect();

        let city = &report.city;
        let before = city
            .then
            .as_ref()
            .and_then(|then| Some((then.share?, then.date)));
        let on_track = (report.agencies.iter())
            .filter(|a| matches!(a.outlook, Outlook::Done | Outlook::OnTrack))
            .count();
        let outlooks = [
            Outlook::AtRisk,
            Outlook::Late,
            Outlook::NoTrend,
            Outlook::NoTarget,
        ]
        .iter()
        .filter_map(|outlook| {
            let n = (report.agencies.iter())
                .filter(|a| a.outlook == *outlook)
                .count();
            (n > 0).then(|| format!("{}: {}", t.of("outlook", outlook.id()), t.count(n)))
        })
        .collect::<Vec<_>>()
        .join(" · ");
        let headline = Headline {
            share: city.share.map_or("–".into(), |s| t.percent(s)),
            ready_of: t.fill(
                "html.ready_of",
                &[
                    ("ready", &t.count(city.ready)),
                    ("hosts", &t.count(city.hosts)),
                ],
            ),
            points: city.change().map_or("–".into(), |change| t.points(change)),
            then: match before {
                Some((share, day)) => t.fill(
                    "html.then",
                    &[("share", &t.percent(share)), ("date", &t.date(day))],
                ),
                None => t.get("no_earlier_run").into(),
            },
            on_track: format!("{}/{}", t.count(on_track), t.count(report.agencies.len())),
            outlooks,
        };

        let all_hosts = city.hosts;
        let mut levels: Vec<LevelRow> = (report.levels.iter())
            .map(|count| LevelRow {
                name: t.level(Some(count.level)),
                hosts: t.count(count.hosts),
                width: percent_width(count.hosts, all_hosts),
                tone: level_tone(Some(count.level), require),
            })
            .collect();
        levels.push(LevelRow {
            name: t.level(None),
            hosts: t.count(report.not_graded),
            width: percent_width(report.not_graded, all_hosts),
            tone: "none",
        });

        let agencies = (report.agencies.iter())
            .map(|a| {
                let p = &a.progress;
                AgencyRow {
                    name: a.name.clone(),
                    hosts: t.count(p.hosts),
                    share: share_text(t, p.ready, p.hosts, p.share),
                    width: percent_width(p.ready, p.hosts),
                    change: change_text(t, p),
                    target: date(t, a.target),
                    outlook: t.of("outlook", a.outlook.id()).into(),
                    tone: outlook_tone(a.outlook),
                    projected: date(t, a.projected),
                }
            })
            .collect();

        let blockers = (report.blockers.iter())
            .map(|b| BlockerRow {
                cause: t.of("cause", b.cause.id()).into(),
                count: t.count(b.hosts.len()),
                hosts: hosts_text(t, &b.hosts),
            })
            .collect();
        let fixes = report
            .top_fixes()
            .map(|fix| FixRow {
                cause: t.of("cause", fix.target.cause.id()).into(),
                kind: t.of("subject", fix.target.subject.kind()).into(),
                subject: fix.target.subject.name().into(),
                lifts: t.count(fix.lifts),
                concerns: t.count(fix.hosts.len()),
            })
            .collect();

        let sites = &report.sites;
        let site_lines = |rows: &[SiteRow]| -> Vec<SiteLine> {
            rows.iter()
                .map(|s| SiteLine {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    state: s
                        .state
                        .map_or(t.get("not_polled"), |st| t.of("state", st.as_str()))
                        .into(),
                    tone: state_tone(s.state),
                    rsrp: dbm(t, s.rsrp_dbm),
                    operator: s.operator.clone().unwrap_or_default(),
                    cell: s.cell.clone().unwrap_or_default(),
                })
                .collect()
        };
        let unknown = || t.get("unknown").to_owned();
        let sites = Sites {
            total: t.count(sites.sites),
            not_polled: t.count(sites.not_polled),
            states: (sites.states.iter())
                .map(|s| StateRow {
                    name: t.of("state", s.state.as_str()).into(),
                    sites: t.count(s.sites),
                    tone: state_tone(Some(s.state)),
                })
                .collect(),
            worst: site_lines(&sites.worst),
            without_ipv6: site_lines(&sites.without_ipv6),
            cells: (sites.cells.iter())
                .map(|c| CellRow {
                    operator: c.operator.clone().unwrap_or_else(unknown),
                    cell: c.cell.clone().unwrap_or_else(unknown),
                    sites: t.count(c.sites),
                    unhealthy: t.count(c.unhealthy),
                    state: t.of("state", c.worst.as_str()).into(),
                    tone: state_tone(Some(c.worst)),
                    median_rsrp: dbm(t, c.median_rsrp_dbm),
                })
                .collect(),
        };

        let names = report.agency_names();
        let hosts = (report.hosts.iter())
            .map(|h| HostRow {
                fqdn: h.fqdn.clone(),
                agency: names.of(&h.agency).to_owned(),
                level: t.level(h.level),
                tone: level_tone(h.level, require),
                score: h.score.map_or("–".into(), |s| s.to_string()),
                ready: t.get(if h.ready { "yes" } else { "no" }),
                stage: t.of("stage", h.stage.as_str()).into(),
                failing: h.failing.join(", "),
            })
            .collect();

        Page {
            lang: report.lang.as_str(),
            title,
            meta,
            city: headline,
            levels,
            agencies,
            blockers,
            fixes,
            sites,
            has_target: target_line(&report.trend).is_some(),
            hosts,
        }
    }
}

/// The charts' colours, the page's CSS tones.
const READY: RGBColor = RGBColor(0x1a, 0x7f, 0x37);
const SCOPE: RGBColor = RGBColor(0x59, 0x63, 0x6e);
const TARGET: RGBColor = RGBColor(0x09, 0x69, 0xda);
const GRID: RGBColor = RGBColor(0xd1, 0xd9, 0xe0);
const INK: RGBColor = RGBColor(0x1f, 0x23, 0x28);
const FONT: FontFamily = FontFamily::SansSerif;
/// Labels' size: plotters writes 1/1.24 of it, about the page's 14 px at the charts' scale.
const LABEL: f64 = 17.0;

/// A chart as SVG, or None when there is nothing to draw.
type ChartResult = io::Result<Option<String>>;

/// The date the burn-up's target line runs to: none when the target came before the first
/// day of runs, as the line would run backwards.
fn target_line(trend: &Trend) -> Option<NaiveDate> {
    let start = trend.points.first()?.date;
    trend.target.filter(|target| *target > start)
}

/// The burn-up: hosts ready per day (an area), hosts in scope now (a line), and the target
/// line from the first day's ready hosts to every host ready on the target date. None
/// without a day of runs.
fn burnup_svg(t: &Texts, trend: &Trend) -> ChartResult {
    let (Some(first), Some(last)) = (trend.points.first(), trend.points.last()) else {
        return Ok(None);
    };
    let start = first.date;
    let end = trend
        .target
        .map_or(last.date, |target| target.max(last.date));
    let day = |date: NaiveDate| (date - start).num_days() as i32;
    let most = (trend.points.iter())
        .map(|p| p.ready)
        .chain([trend.scope])
        .max()
        .unwrap_or(0);
    // Headroom above the scope line so it does not run along the frame.
    let top = (most as i32 + (most as i32 / 10).max(1)).max(1);
    let scope = trend.scope as i32;
    let date_label = |x: &i32| t.date(start + Days::new((*x).max(0) as u64));
    let count_label = |y: &i32| t.count((*y).max(0) as usize);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 360)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(28)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0..day(end).max(1), 0..top)
            .map_err(io::Error::other)?;
        chart
            .configure_mesh()
            .x_labels(7)
            .y_labels(6)
            .x_label_formatter(&date_label)
            .y_label_formatter(&count_label)
            .x_desc(t.get("date"))
            .y_desc(t.get("hosts"))
            .label_style((FONT, LABEL).into_font().color(&INK))
            .axis_desc_style((FONT, LABEL).into_font().color(&SCOPE))
            .light_line_style(GRID.mix(0.5))
            .bold_line_style(GRID)
            .axis_style(SCOPE)
            .draw()
            .map_err(io::Error::other)?;
        let ready = trend.points.iter().map(|p| (day(p.date), p.ready as i32));
        chart
            .draw_series(
                AreaSeries::new(ready.clone(), 0, READY.mix(0.18))
                    .border_style(READY.stroke_width(3)),
            )
            .map_err(io::Error::other)?;
        chart
            .draw_series(ready.map(|point| Circle::new(point, 3, READY.filled())))
            .map_err(io::Error::other)?;
        chart
            .draw_series(LineSeries::new(
                [(0, scope), (day(end).max(1), scope)],
                SCOPE.stroke_width(2),
            ))
            .map_err(io::Error::other)?;
        if let Some(target) = target_line(trend) {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0, first.ready as i32), (day(target), scope)],
                    8,
                    5,
                    TARGET.stroke_width(2),
                ))
                .map_err(io::Error::other)?;
        }
        root.present().map_err(io::Error::other)?;
    }
    Ok(Some(svg))
}

/// Polled sites per RSRP band as horizontal bars, best band on top, each coloured as its
/// band and labelled with its count. None when no site reported a signal.
fn signal_svg(t: &Texts, bands: &[SignalBand]) -> ChartResult {
    let most = bands.iter().map(|b| b.sites).max().unwrap_or(0);
    if most == 0 {
        return Ok(None);
    }
    let colour = |band: &str| match band {
        "excellent" => READY,
        "good" => RGBColor(0x4a, 0xc2, 0x6b),
        "fair" => RGBColor(0xd4, 0xa7, 0x2c),
        _ => RGBColor(0xcf, 0x22, 0x2e),
    };
    let n = bands.len() as i32;
    // Row y holds band n - 1 - y, so the first (best) band is drawn on top.
    let band_at = |y: i32| bands.get((n - 1 - y) as usize);
    let band_label = |y: &SegmentValue<i32>| match y {
        SegmentValue::CenterOf(y) => {
            band_at(*y).map_or(String::new(), |b| t.of("band", b.band).into())
        }
        _ => String::new(),
    };
    let count_label = |x: &i32| t.count((*x).max(0) as usize);
    let right = (most as i32 * 6 / 5).max(most as i32 + 1);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (600, 40 + 44 * bands.len() as u32))
            .into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(28)
            .y_label_area_size(290)
            .build_cartesian_2d(0..right, (0..n).into_segmented())
            .map_err(io::Error::other)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .set_tick_mark_size(LabelAreaPosition::Left, 0)
            .x_labels(right.min(6) as usize)
            .x_label_formatter(&count_label)
            .y_label_formatter(&band_label)
            .label_style((FONT, LABEL).into_font().color(&INK))
            .light_line_style(GRID.mix(0.5))
            .bold_line_style(GRID)
            .axis_style(SCOPE)
            .draw()
            .map_err(io::Error::other)?;
        chart
            .draw_series((0..n).filter_map(|y| {
                let band = band_at(y)?;
                let mut bar = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(y)),
                        (band.sites as i32, SegmentValue::Exact(y + 1)),
                    ],
                    colour(band.band).filled(),
                );
                bar.set_margin(8, 8, 0, 0);
                Some(bar)
            }))
            .map_err(io::Error::other)?;
        chart
            .draw_series((0..n).filter_map(|y| {
                let band = band_at(y)?;
                Some(Text::new(
                    format!(" {}", t.count(band.sites)),
                    (band.sites as i32, SegmentValue::CenterOf(y)),
                    (FONT, LABEL)
                        .into_font()
                        .color(&INK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))
            }))
            .map_err(io::Error::other)?;
        root.present().map_err(io::Error::other)?;
    }
    Ok(Some(svg))
}
