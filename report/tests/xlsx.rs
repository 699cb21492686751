//! The report as a workbook, read back as a spreadsheet would: sheets named in the
//! report's language, the hand-worked figures (tests/fixture) as numbers and dates, not
//! text, header rows frozen and the trend charted.

mod fixture;

use std::io::{Cursor, Read};

use calamine::{Data, DataType, Range, Reader, Xlsx, open_workbook_from_rs};
use chrono::NaiveDate;
use sixfive_report::progress::{Lang, ProgressReport, xlsx};

type Book = Xlsx<Cursor<Vec<u8>>>;

fn book(report: &ProgressReport) -> (Vec<u8>, Book) {
    let bytes = xlsx::write(report).unwrap();
    let book = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
    (bytes, book)
}

fn sheet(book: &mut Book, name: &str) -> Range<Data> {
    book.worksheet_range(name).unwrap()
}

/// The row whose first cell is `first`.
fn row<'a>(range: &'a Range<Data>, first: &str) -> &'a [Data] {
    range
        .rows()
        .find(|row| row[0] == Data::String(first.into()))
        .unwrap_or_else(|| panic!("no row {first}"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A date cell's date: a date serial with a date format, not text.
fn date_of(cell: &Data) -> NaiveDate {
    assert!(matches!(cell, Data::DateTime(_)), "{cell:?} is not a date");
    cell.as_date().unwrap()
}

/// A number cell's value, never text.
fn number(cell: &Data) -> f64 {
    match cell {
        Data::Float(value) => *value,
        Data::Int(value) => *value as f64,
        other => panic!("{other:?} is not a number"),
    }
}

/// A file of the workbook's zip, as text.
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name(name)
        .unwrap_or_else(|_| panic!("no {name}"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn sheets_are_named_in_the_report_s_language() {
    let (_, en) = book(&fixture::report(Lang::En));
    assert_eq!(
        en.sheet_names(),
        [
            "Headline",
            "Agencies",
            "Blockers",
            "Fixes",
            "Sites",
            "Site list",
            "Trend",
            "Hosts"
        ]
    );
    let (bytes, vi) = book(&fixture::report(Lang::Vi));
    assert_eq!(
        vi.sheet_names(),
        [
            "Tổng quan",
            "Cơ quan, đơn vị",
            "Vướng mắc",
            "Biện pháp khắc phục",
            "Điểm kết nối",
            "Danh sách điểm kết nối",
            "Diễn biến tiến độ",
            "Danh sách máy chủ"
        ]
    );
    let core = part(&bytes, "docProps/core.xml");
    assert!(
        core.contains("<dc:title>Tiến độ chuyển đổi IPv6</dc:title>"),
        "{core}"
    );
}

#[test]
fn figures_are_numbers_and_dates_are_dates() {
    let (_, mut en) = book(&fixture::report(Lang::En));

    let headline = sheet(&mut en, "Headline");
    assert_eq!(number(&row(&headline, "Hosts")[1]), 9.0);
    assert_eq!(number(&row(&headline, "Ready")[1]), 3.0);
    assert!((number(&row(&headline, "Share ready")[1]) - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        date_of(&row(&headline, "Compared with")[1]),
        date(2026, 11, 18)
    );
    assert_eq!(number(&row(&headline, "L1 reachable")[1]), 3.0);

    let agencies = sheet(&mut en, "Agencies");
    let dict = row(&agencies, "Department of Information and Communications");
    assert_eq!(
        (number(&dict[1]), number(&dict[2])),
        (3.0, 2.0),
        "hosts, ready"
    );
    assert_eq!(date_of(&dict[7]), date(2027, 6, 30), "target");
    assert_eq!(dict[8], Data::String("On track".into()));
    assert_eq!(date_of(&dict[9]), date(2026, 12, 18), "projected");

    let fixes = sheet(&mut en, "Fixes");
    let zone = fixes
        .rows()
        .find(|row| row[2] == Data::String("city.example".into()))
        .unwrap();
    assert_eq!(zone[1], Data::String("zone's name servers".into()));
    assert_eq!((number(&zone[3]), number(&zone[4])), (2.0, 2.0));
    assert_eq!(fixes.height(), 7, "every fix, the one lifting none too");

    let trend = sheet(&mut en, "Trend");
    let points: Vec<(NaiveDate, f64, f64, f64)> = (trend.rows().skip(1))
        .map(|row| {
            (
                date_of(&row[0]),
                number(&row[1]),
                number(&row[2]),
                number(&row[3]),
            )
        })
        .collect();
    assert_eq!(
        points,
        [
            (date(2026, 11, 3), 6.0, 0.0, 9.0),
            (date(2026, 11, 18), 6.0, 2.0, 9.0),
            (date(2026, 12, 3), 8.0, 3.0, 9.0)
        ]
    );

    let sites = sheet(&mut en, "Site list");
    let s2 = row(&sites, "s2");
    assert_eq!(number(&s2[5]), -105.0, "RSRP");
    assert_eq!(number(&s2[9]), 0.0, "no IPv6 on the WAN");
    assert!(matches!(s2[12], Data::DateTime(_)), "polled at");
    assert_eq!(row(&sites, "s4")[5], Data::Empty, "never polled");

    let hosts = sheet(&mut en, "Hosts");
    assert_eq!(hosts.height(), 10);
    let c = row(&hosts, "c.dict.city.example");
    assert_eq!(number(&c[4]), 50.0, "score");
    assert_eq!(number(&c[5]), 1.0, "ready");
    assert_eq!(date_of(&c[7]), date(2026, 12, 31), "its own target");
    assert_eq!(
        c[8].as_datetime().map(|at| at.to_string()).as_deref(),
        Some("2026-12-03 06:00:00")
    );
}

#[test]
fn the_vietnamese_workbook_names_agencies_in_vietnamese() {
    let (_, mut vi) = book(&fixture::report(Lang::Vi));
    let agencies = sheet(&mut vi, "Cơ quan, đơn vị");
    assert_eq!(agencies[(0, 0)], Data::String("Cơ quan, đơn vị".into()));
    let dict = row(&agencies, "Sở Thông tin và Truyền thông");
    assert_eq!(date_of(&dict[7]), date(2027, 6, 30));
    assert_eq!(dict[8], Data::String("Đúng tiến độ".into()));
    let headline = sheet(&mut vi, "Tổng quan");
    assert_eq!(number(&row(&headline, "Máy chủ")[1]), 9.0);
}

#[test]
fn header_rows_are_frozen_filtered_and_the_trend_is_charted() {
    let (bytes, _) = book(&fixture::report(Lang::En));
    // Sheets 2–4 and 6–8 are tables; 1 and 5 are summaries of small tables.
    for n in [2, 3, 4, 6, 7, 8] {
        let xml = part(&bytes, &format!("xl/worksheets/sheet{n}.xml"));
        assert!(
            xml.contains(
                r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            ),
            "sheet {n} has no frozen header: {xml}"
        );
        assert!(xml.contains("<autoFilter ref=\"A1:"), "sheet {n}");
    }
    let chart = part(&bytes, "xl/charts/chart1.xml");
    assert!(chart.contains("<c:lineChart>"), "{chart}");
    assert!(chart.contains("<c:dateAx>"), "{chart}");
    assert!(chart.contains("Trend!$C$2:$C$4"), "hosts ready: {chart}");
    assert!(chart.contains("Trend!$D$2:$D$4"), "hosts in scope: {chart}");
}

#[test]
fn inventory_text_is_written_as_text_never_as_a_formula() {
    let mut report = fixture::report(Lang::En);
    report.sites.all[0].name = "=HYPERLINK(\"http://evil.example\",\"x\")".into();
    report.hosts[0].failing = vec!["+cmd".into()];
    let (bytes, mut book) = book(&report);
    let sites = sheet(&mut book, "Site list");
    assert_eq!(
        row(&sites, "s1")[1],
        Data::String("=HYPERLINK(\"http://evil.example\",\"x\")".into())
    );
    for n in 1..=8 {
        let xml = part(&bytes, &format!("xl/worksheets/sheet{n}.xml"));
        assert!(!xml.contains("<f>"), "sheet {n} has a formula");
    }
}

#[test]
fn a_report_with_nothing_in_it_is_still_a_workbook() {
    let mut report = fixture::report(Lang::En);
    report.city.then = None;
    report.agencies.clear();
    report.blockers.clear();
    report.fixes.clear();
    report.sites.all.clear();
    report.trend.points.clear();
    report.hosts.clear();
    let (bytes, mut book) = book(&report);
    let headline = sheet(&mut book, "Headline");
    assert_eq!(
        row(&headline, "Compared with")[1],
        Data::String("no run graded hosts by then".into())
    );
    assert_eq!(sheet(&mut book, "Hosts").height(), 1, "the header alone");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    assert!(
        zip.by_name("xl/charts/chart1.xml").is_err(),
        "no points, no chart"
    );
}
