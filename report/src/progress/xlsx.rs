//! The report as an Excel workbook, for managers who work in spreadsheets: a sheet per
//! section in the report's language, with counts, shares, signal and dates as Excel
//! values (never text) so they sort, filter and chart, and the trend drawn as a native
//! line chart. Inventory text is always written as a string, so no cell is a formula.

use chrono::{DateTime, NaiveDate, Utc};
use rust_xlsxwriter::{
    Chart, ChartType, Color, DocProperties, Format, FormatBorder, ObjectMovement, Workbook,
    Worksheet, XlsxError,
};

use super::i18n::{Lang, Texts};
use super::{Progress, ProgressReport};

/// The widest a fitted column gets, in pixels: long lists of hosts stay readable.
const MAX_WIDTH: u32 = 480;

/// Excel's longest cell text is 32,767 characters; a host list is cut short of it.
const MAX_TEXT: usize = 32_000;

/// The formats of a workbook, dates the way the report's language writes them.
struct Formats {
    title: Format,
    heading: Format,
    header: Format,
    count: Format,
    share: Format,
    points: Format,
    dbm: Format,
    db: Format,
    ms: Format,
    date: Format,
    time: Format,
    yes_no: Format,
}

/// Dates and times as i18n writes them; the values are UTC, so times say so.
fn date_codes(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::En => ("yyyy-mm-dd", "yyyy-mm-dd hh:mm \"UTC\""),
        Lang::Vi => ("dd/mm/yyyy", "hh:mm dd/mm/yyyy \"(UTC)\""),
    }
}

impl Formats {
    fn new(t: &Texts) -> Formats {
        let (date, time) = date_codes(t.lang);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            heading: Format::new().set_bold(),
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border_bottom(FormatBorder::Thin),
            count: Format::new().set_num_format("#,##0"),
            share: Format::new().set_num_format("0.0%"),
            // Percentage points: the change is stored ×100, so it is not read as a percent.
            points: Format::new().set_num_format("+0.0;\"−\"0.0;0.0"),
            dbm: Format::new().set_num_format("0.0\" dBm\""),
            db: Format::new().set_num_format("0.0\" dB\""),
            ms: Format::new().set_num_format("0.0\" ms\""),
            date: Format::new().set_num_format(date),
            time: Format::new().set_num_format(time),
            // 1 or 0 shown as the language's yes or no: a column of them sums to a count.
            yes_no: Format::new().set_num_format(format!(
                "\"{yes}\";\"{yes}\";\"{no}\"",
                yes = t.get("yes"),
                no = t.get("no")
            )),
        }
    }
}

/// Writes one row left to right; a None leaves its cell empty.
struct Cells<'a> {
    sheet: &'a mut Worksheet,
    formats: &'a Formats,
    row: u32,
    col: u16,
}

impl<'a> Cells<'a> {
    fn at(sheet: &'a mut Worksheet, formats: &'a Formats, row: u32) -> Self {
        Cells {
            sheet,
            formats,
            row,
            col: 0,
        }
    }

    fn next(&mut self) -> &mut Self {
        self.col += 1;
        self
    }

    fn text(&mut self, text: &str) -> Result<&mut Self, XlsxError> {
        self.sheet.write_string(self.row, self.col, text)?;
        Ok(self.next())
    }

    fn texts(&mut self, texts: &[&str], format: &Format) -> Result<&mut Self, XlsxError> {
        for text in texts {
            self.sheet
                .write_string_with_format(self.row, self.col, *text, format)?;
            self.next();
        }
        Ok(self)
    }

    fn number(&mut self, value: Option<f64>, format: &Format) -> Result<&mut Self, XlsxError> {
        if let Some(value) = value {
            self.sheet
                .write_number_with_format(self.row, self.col, value, format)?;
        }
        Ok(self.next())
    }

    fn count(&mut self, n: usize) -> Result<&mut Self, XlsxError> {
        let formats = self.formats;
        self.number(Some(n as f64), &formats.count)
    }

    fn share(&mut self, share: Option<f64>) -> Result<&mut Self, XlsxError> {
        let formats = self.formats;
        self.number(share, &formats.share)
    }

    fn date(&mut self, date: Option<NaiveDate>) -> Result<&mut Self, XlsxError> {
        if let Some(date) = date {
            self.sheet
                .write_date_with_format(self.row, self.col, date, &self.formats.date)?;
        }
        Ok(self.next())
    }

    fn time(&mut self, at: Option<DateTime<Utc>>) -> Result<&mut Self, XlsxError> {
        if let Some(at) = at {
            self.sheet.write_datetime_with_format(
                self.row,
                self.col,
                at.naive_utc(),
                &self.formats.time,
            )?;
        }
        Ok(self.next())
    }

    fn yes_no(&mut self, value: Option<bool>) -> Result<&mut Self, XlsxError> {
        let formats = self.formats;
        self.number(value.map(|yes| f64::from(u8::from(yes))), &formats.yes_no)
    }
}

/// The workbook of `report`, as the bytes of an `.xlsx` file.
pub fn write(report: &ProgressReport) -> Result<Vec<u8>, XlsxError> {
    let t = report.lang.texts();
    let formats = Formats::new(t);
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(report.title())
            .set_subject(format!("{}: {}", t.get("as_at"), t.time(report.at)))
            .set_keywords("IPv6")
            // The report's moment, not the writer's: one report, one file.
            .set_creation_datetime(&report.generated_at),
    );
    headline(&mut workbook, report, &formats)?;
    agencies(&mut workbook, report, &formats)?;
    blockers(&mut workbook, report, &formats)?;
    fixes(&mut workbook, report, &formats)?;
    sites(&mut workbook, report, &formats)?;
    site_list(&mut workbook, report, &formats)?;
    trend(&mut workbook, report, &formats)?;
    hosts(&mut workbook, report, &formats)?;
    workbook.save_to_buffer()
}

fn sheet<'a>(
    workbook: &'a mut Workbook,
    t: &Texts,
    id: &str,
) -> Result<&'a mut Worksheet, XlsxError> {
    workbook.add_worksheet().set_name(t.of("xlsx.sheet", id))
}

/// Columns fitted to what they hold, up to [`MAX_WIDTH`]; printed landscape, one page
/// wide (a manager prints a sheet, not a column a page).
fn fit(sheet: &mut Worksheet) {
    sheet
        .set_autofit_max_width(MAX_WIDTH)
        .autofit()
        .set_landscape()
        .set_print_fit_to_pages(1, 0);
}

/// A sheet that is one table under a header row: the header stays in view and filters.
fn table(
    sheet: &mut Worksheet,
    formats: &Formats,
    header: &[&str],
    rows: u32,
) -> Result<(), XlsxError> {
    Cells::at(sheet, formats, 0).texts(header, &formats.header)?;
    sheet.set_freeze_panes(1, 0)?.set_repeat_rows(0, 0)?;
    let last_col = u16::try_from(header.len().saturating_sub(1)).unwrap_or(u16::MAX);
    sheet.autofilter(0, 0, rows, last_col)?;
    fit(sheet);
    Ok(())
}

/// `now − then` in percentage points.
fn change(progress: &Progress) -> Option<f64> {
    Some(progress.change()? * 100.0)
}

/// Every host, comma-separated, cut to what a cell holds and saying how many more.
fn host_list(t: &Texts, hosts: &[String]) -> String {
    let mut text = String::new();
    for (i, host) in hosts.iter().enumerate() {
        if text.len() + host.len() + 2 > MAX_TEXT {
            text.push(' ');
            text.push_str(&t.fill("more_hosts", &[("count", &t.count(hosts.len() - i))]));
            break;
        }
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(host);
    }
    text
}

/// A row that starts with `label`, at `row`, which moves on.
fn labelled<'a>(
    sheet: &'a mut Worksheet,
    formats: &'a Formats,
    row: &mut u32,
    label: &str,
) -> Result<Cells<'a>, XlsxError> {
    let mut cells = Cells::at(sheet, formats, *row);
    *row += 1;
    cells.text(label)?;
    Ok(cells)
}

/// The city's figures as label and value, then hosts per level.
fn headline(
    workbook: &mut Workbook,
    report: &ProgressReport,
    f: &Formats,
) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let sheet = sheet(workbook, t, "headline")?;
    let city = &report.city;
    let mut row = 2;
    labelled(sheet, f, &mut row, t.get("as_at"))?.time(Some(report.at))?;
    labelled(sheet, f, &mut row, t.get("since"))?.date(Some(report.since))?;
    labelled(sheet, f, &mut row, t.get("require"))?.text(&t.level(Some(report.require)))?;
    labelled(sheet, f, &mut row, t.get("generated"))?.time(Some(report.generated_at))?;
    row += 1;
    labelled(sheet, f, &mut row, t.get("hosts"))?.count(city.hosts)?;
    labelled(sheet, f, &mut row, t.get("ready"))?.count(city.ready)?;
    labelled(sheet, f, &mut row, t.get("share_ready"))?.share(city.share)?;
    match &city.then {
        Some(then) => {
            labelled(sheet, f, &mut row, t.get("xlsx.then_date"))?.date(Some(then.date))?;
            if let Some(hosts) = then.hosts {
                labelled(sheet, f, &mut row, t.get("xlsx.then_hosts"))?.count(hosts)?;
            }
            labelled(sheet, f, &mut row, t.get("xlsx.then_graded"))?.count(then.graded)?;
            labelled(sheet, f, &mut row, t.get("xlsx.then_ready"))?.count(then.ready)?;
            labelled(sheet, f, &mut row, t.get("xlsx.then_share"))?.share(then.share)?;
            labelled(sheet, f, &mut row, t.get("xlsx.change_points"))?
                .number(change(city), &f.points)?;
        }
        None => {
            labelled(sheet, f, &mut row, t.get("xlsx.then_date"))?.text(t.get("no_earlier_run"))?;
        }
    }
    row += 1;
    let levels_at = row;
    row += 1;
    Cells::at(sheet, f, row).texts(&[t.get("level"), t.get("hosts")], &f.header)?;
    row += 1;
    for count in &report.levels {
        labelled(sheet, f, &mut row, &t.level(Some(count.level)))?.count(count.hosts)?;
    }
    labelled(sheet, f, &mut row, &t.level(None))?.count(report.not_graded)?;
    fit(sheet);
    // Titles after fitting: they run on into the empty cells beside them.
    sheet.write_string_with_format(0, 0, report.title(), &f.title)?;
    sheet.write_string_with_format(levels_at, 0, t.get("levels"), &f.heading)?;
    Ok(())
}

fn agencies(
    workbook: &mut Workbook,
    report: &ProgressReport,
    f: &Formats,
) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let sheet = sheet(workbook, t, "agencies")?;
    let mut row = 0;
    for agency in &report.agencies {
        row += 1;
        let progress = &agency.progress;
        let then = progress.then.as_ref();
        Cells::at(sheet, f, row)
            .text(&agency.name)?
            .count(progress.hosts)?
            .count(progress.ready)?
            .share(progress.share)?
            .number(change(progress), &f.points)?
            .date(then.map(|then| then.date))?
            .share(then.and_then(|then| then.share))?
            .date(agency.target)?
            .text(t.of("outlook", agency.outlook.id()))?
            .date(agency.projected)?;
    }
    let header = [
        t.get("agency"),
        t.get("hosts"),
        t.get("ready"),
        t.get("share_ready"),
        t.get("xlsx.change_points"),
        t.get("xlsx.then_date"),
        t.get("xlsx.then_share"),
        t.get("target"),
        t.get("outlook"),
        t.get("projected"),
    ];
    table(sheet, f, &header, row)
}

fn blockers(
    workbook: &mut Workbook,
    report: &ProgressReport,
    f: &Formats,
) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let sheet = sheet(workbook, t, "blockers")?;
    let mut row = 0;
    for blocker in &report.blockers {
        row += 1;
        Cells::at(sheet, f, row)
            .text(t.of("cause", blocker.cause.id()))?
            .count(blocker.hosts.len())?
            .text(&host_list(t, &blocker.hosts))?;
    }
    let header = [t.get("cause"), t.get("hosts"), t.get("xlsx.host_names")];
    table(sheet, f, &header, row)
}

/// Every fix, not only those a page shows: a spreadsheet filters the tail itself.
fn fixes(workbook: &mut Workbook, report: &ProgressReport, f: &Formats) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let sheet = sheet(workbook, t, "fixes")?;
    let mut row = 0;
    for fix in &report.fixes {
        row += 1;
        let subject = &fix.target.subject;
        Cells::at(sheet, f, row)
            .text(t.of("cause", fix.target.cause.id()))?
            .text(t.of("subject", subject.kind()))?
            .text(subject.name())?
            .count(fix.lifts)?
            .count(fix.hosts.len())?;
    }
    let header = [
        t.get("fix"),
        t.get("xlsx.subject_kind"),
        t.get("subject"),
        t.get("lifts"),
        t.get("concerns"),
    ];
    table(sheet, f, &header, row)
}

/// Site health's small tables one under another. The list of sites has a sheet of its
/// own: a filter hides whole rows, and would hide these beside it.
fn sites(workbook: &mut Workbook, report: &ProgressReport, f: &Formats) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let sheet = sheet(workbook, t, "sites")?;
    let sites = &report.sites;
    let mut headings = vec![(0, t.get("sites"), &f.title)];
    let mut row = 2;
    Cells::at(sheet, f, row).texts(&[t.get("state"), t.get("sites_total")], &f.header)?;
    row += 1;
    for count in &sites.states {
        labelled(sheet, f, &mut row, t.of("state", count.state.as_str()))?.count(count.sites)?;
    }
    labelled(sheet, f, &mut row, t.get("not_polled"))?.count(sites.not_polled)?;

    row += 1;
    headings.push((row, t.get("signal"), &f.heading));
    row += 1;
    Cells::at(sheet, f, row).texts(&[t.get("band"), t.get("sites_total")], &f.header)?;
    row += 1;
    for band in &sites.signal {
        labelled(sheet, f, &mut row, t.of("band", band.band))?.count(band.sites)?;
    }

    row += 1;
    headings.push((row, t.get("cells"), &f.heading));
    row += 1;
    let header = [
        t.get("operator"),
        t.get("cell"),
        t.get("sites_total"),
        t.get("unhealthy"),
        t.get("state"),
        t.get("median_rsrp"),
    ];
    Cells::at(sheet, f, row).texts(&header, &f.header)?;
    for cell in &sites.cells {
        row += 1;
        Cells::at(sheet, f, row)
            .text(cell.operator.as_deref().unwrap_or(t.get("unknown")))?
            .text(cell.cell.as_deref().unwrap_or(t.get("unknown")))?
            .count(cell.sites)?
            .count(cell.unhealthy)?
            .text(t.of("state", cell.worst.as_str()))?
            .number(cell.median_rsrp_dbm, &f.dbm)?;
    }
    fit(sheet);
    for (row, heading, format) in headings {
        sheet.write_string_with_format(row, 0, heading, format)?;
    }
    Ok(())
}

fn site_list(
    workbook: &mut Workbook,
    report: &ProgressReport,
    f: &Formats,
) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let names = report.agency_names();
    let sheet = sheet(workbook, t, "site_list")?;
    let mut row = 0;
    for site in &report.sites.all {
        row += 1;
        Cells::at(sheet, f, row)
            .text(&site.id)?
            .text(&site.name)?
            .text(names.of(&site.agency))?
            .text(site.state.map_or("", |state| t.of("state", state.as_str())))?
            .text(site.technology.as_deref().unwrap_or_default())?
            .number(site.rsrp_dbm, &f.dbm)?
            .number(site.sinr_db, &f.db)?
            .text(site.operator.as_deref().unwrap_or_default())?
            .text(site.cell.as_deref().unwrap_or_default())?
            .yes_no(site.wan_ipv6)?
            .number(site.latency_v6_ms, &f.ms)?
            .share(site.loss_v6)?
            .time(site.polled_at)?;
    }
    let header = [
        t.get("site"),
        t.get("name"),
        t.get("agency"),
        t.get("state"),
        t.get("technology"),
        "RSRP",
        "SINR",
        t.get("operator"),
        t.get("cell"),
        t.get("xlsx.wan_ipv6"),
        t.get("latency_v6"),
        t.get("loss_v6"),
        t.get("xlsx.polled_at"),
    ];
    table(sheet, f, &header, row)
}

/// The burn-up's points and, beside them, its chart: hosts ready and hosts in scope.
fn trend(workbook: &mut Workbook, report: &ProgressReport, f: &Formats) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let name = t.of("xlsx.sheet", "trend");
    let sheet = sheet(workbook, t, "trend")?;
    let trend = &report.trend;
    let mut row = 0;
    for point in &trend.points {
        row += 1;
        let share = (point.graded > 0).then(|| point.ready as f64 / point.graded as f64);
        Cells::at(sheet, f, row)
            .date(Some(point.date))?
            .count(point.graded)?
            .count(point.ready)?
            .count(trend.scope)?
            .share(share)?;
    }
    let header = [
        t.get("date"),
        t.get("graded"),
        t.get("trend_ready"),
        t.get("trend_scope"),
        t.get("share_ready"),
    ];
    // The target on the header row, which a filter never hides.
    sheet.write_string_with_format(0, 6, t.get("target"), &f.heading)?;
    if let Some(target) = trend.target {
        sheet.write_date_with_format(0, 7, target, &f.date)?;
    }
    table(sheet, f, &header, row)?;
    if row > 0 {
        let mut chart = Chart::new(ChartType::Line);
        chart.title().set_name(t.get("trend"));
        for col in [2, 3] {
            chart
                .add_series()
                .set_name((name, 0, col))
                .set_categories((name, 1, 0, row, 0))
                .set_values((name, 1, col, row, col));
        }
        chart
            .x_axis()
            .set_date_axis(true)
            .set_num_format(date_codes(report.lang).0);
        chart.y_axis().set_min(0);
        chart
            .set_width(720)
            .set_height(360)
            // A filter hiding rows would squash it otherwise.
            .set_object_movement(ObjectMovement::DontMoveOrSizeWithCells);
        sheet.insert_chart(2, 6, &chart)?;
    }
    Ok(())
}

fn hosts(workbook: &mut Workbook, report: &ProgressReport, f: &Formats) -> Result<(), XlsxError> {
    let t = report.lang.texts();
    let names = report.agency_names();
    let sheet = sheet(workbook, t, "hosts")?;
    let mut row = 0;
    for host in &report.hosts {
        row += 1;
        Cells::at(sheet, f, row)
            .text(&host.fqdn)?
            .text(names.of(&host.agency))?
            .text(host.zone.as_deref().unwrap_or_default())?
            .text(&t.level(host.level))?
            .number(host.score.map(f64::from), &f.count)?
            .yes_no(Some(host.ready))?
            .text(t.of("stage", host.stage.as_str()))?
            .date(host.target)?
            .time(host.graded_at)?
            .text(&host.failing.join(", "))?;
    }
    let header = [
        t.get("host"),
        t.get("agency"),
        t.get("zone"),
        t.get("level"),
        t.get("score"),
        t.get("ready"),
        t.get("stage"),
        t.get("target"),
        t.get("xlsx.graded_at"),
        t.get("failing"),
    ];
    table(sheet, f, &header, row)
}
