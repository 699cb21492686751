//! The HTML report: one self-contained page (nothing fetched, nothing run) carrying the
//! hand-worked figures of tests/fixture in English and Vietnamese, escaping what the
//! inventory says, and rendered by headless Chromium to a PNG and an A4 PDF without a
//! console message. Without Chromium that test skips (tests/common/skip.rs); under
//! SIXFIVE_LAB=required it fails.

mod fixture;

#[path = "../../tests/common/skip.rs"]
mod skip;

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sixfive_inventory::store::ReportSnapshot;
use sixfive_report::progress::{Lang, ProgressReport, html};

fn render(report: &ProgressReport) -> String {
    let mut out = Vec::new();
    html::write(&mut out, report).unwrap();
    String::from_utf8(out).unwrap()
}

/// The page with the entities minijinja escapes with turned back into characters, to look
/// for figures as a reader sees them.
fn unescaped(page: &str) -> String {
    page.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Fails on anything that would make the page load or run something.
fn assert_self_contained(page: &str) {
    for needle in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "@import",
        "@font-face",
        "url(",
        " src=",
        "href=",
    ] {
        assert!(!page.contains(needle), "the page has {needle}");
    }
    // The only addresses are the namespaces SVG is written with; they name, never fetch.
    const NAMESPACES: [&str; 3] = [
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xhtml",
        "http://www.w3.org/1999/xlink",
    ];
    for scheme in ["http://", "https://"] {
        for (at, _) in page.match_indices(scheme) {
            assert!(
                NAMESPACES.iter().any(|ns| page[at..].starts_with(ns)),
                "an address in the page: {}",
                &page[at..(at + 60).min(page.len())]
            );
        }
    }
}

#[test]
fn english_page_is_self_contained_and_carries_the_hand_worked_figures() {
    let page = render(&fixture::report(Lang::En));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(r#"<html lang="en">"#));
    assert!(page.contains(r#"<meta charset="utf-8">"#));
    assert_self_contained(&page);
    let page = unescaped(&page);
    for figure in [
        "<title>IPv6 migration progress</title>",
        "Store as at: <strong>2026-12-03 12:00 UTC</strong>",
        "Ready means: <strong>L2 equivalent</strong>",
        // Headline: 3 of 9 ready, against 2 of the 9 on 2026-11-18.
        ">33.3%<",
        "3 of 9 hosts ready",
        "+11.1 pp",
        "22.2% on 2026-11-18",
        ">1/3<",
        // Agencies: dict on track to 2026-12-18, health at risk to 2027-01-27.
        "Department of Information and Communications",
        "66.7% (2/3)",
        "On track",
        "At risk",
        "2026-12-18",
        "2027-01-27",
        // Blockers and the fixes, the zone's name servers first.
        "Redirect to an IPv4-only host",
        "h.edu.city.example, i.edu.city.example",
        "zone's name servers <code>city.example</code>",
        "redirect target <code>sso.city.example</code>",
        // Sites.
        "Thanh Khê school",
        "-105 dBm",
        "-100 dBm",
        // Appendix.
        "f.health.city.example",
        "dns.aaaa_global, tcp.v6",
    ] {
        assert!(page.contains(figure), "no {figure:?} in the page");
    }
    // A fix that lifts no host alone (h's TLS) is not among those shown.
    assert!(page.contains("host <code>e.health.city.example</code>"));
    assert!(!page.contains("host <code>h.edu.city.example</code>"));
    // Two charts, the burn-up's axis dated the English way.
    assert_eq!(page.matches("<svg ").count(), 2);
    assert!(
        page.contains(">\n2026-11-03\n</text>"),
        "the burn-up's first date"
    );
}

#[test]
fn vietnamese_page_keeps_its_diacritics_and_writes_numbers_and_dates_its_way() {
    let page = render(&fixture::report(Lang::Vi));
    assert!(page.contains(r#"<html lang="vi">"#));
    assert!(page.contains(r#"<meta charset="utf-8">"#));
    assert_self_contained(&page);
    let page = unescaped(&page);
    for figure in [
        "<title>Tiến độ chuyển đổi IPv6</title>",
        "Sở Thông tin và Truyền thông",
        "Sẵn sàng",
        "Tỷ lệ sẵn sàng",
        "Đúng tiến độ",
        "Có nguy cơ chậm",
        ">33,3%<",
        "3/9 máy chủ sẵn sàng",
        "66,7% (2/3)",
        "18/12/2026",
        "12:00 03/12/2026 (UTC)",
        "Chuyển hướng đến máy chủ chỉ có IPv4",
        "máy chủ tên miền của vùng <code>city.example</code>",
        "Phụ lục: danh sách máy chủ",
        "Yếu (< −100 dBm)",
    ] {
        assert!(page.contains(figure), "no {figure:?} in the page");
    }
    assert!(
        page.contains(">\n03/11/2026\n</text>"),
        "the burn-up's first date"
    );
}

#[test]
fn one_agency_s_page_is_titled_with_its_name() {
    let mut options = fixture::options(Lang::Vi);
    options.agency = Some("dict".into());
    let page = unescaped(&render(&ProgressReport::build(
        &fixture::snapshot(),
        &options,
    )));
    assert!(page.contains("<h1>Tiến độ chuyển đổi IPv6: Sở Thông tin và Truyền thông</h1>"));
}

#[test]
fn an_empty_store_renders_without_charts() {
    let snapshot = ReportSnapshot {
        at: fixture::at(),
        agencies: vec![],
        hosts: vec![],
        sites: vec![],
        trend: vec![],
    };
    let page = render(&ProgressReport::build(
        &snapshot,
        &fixture::options(Lang::En),
    ));
    assert_self_contained(&page);
    assert!(!page.contains("<svg"));
    assert!(page.contains("No trend yet"));
}

#[test]
fn inventory_strings_are_escaped() {
    let mut report = fixture::report(Lang::En);
    report.agencies[0].name = "<b>Agency</b>".into();
    report.hosts[0].fqdn = "<b>host</b>.city.example".into();
    report.blockers[0].hosts[0] = "<b>blocked</b>.city.example".into();
    report.sites.worst[0].name = "<b>Site</b> & \"ward\"".into();
    let page = render(&report);
    assert!(!page.contains("<b>"), "unescaped markup from the inventory");
    for escaped in [
        "&lt;b&gt;Agency",
        "&lt;b&gt;host",
        "&lt;b&gt;blocked",
        "&lt;b&gt;Site&lt;&#x2f;b&gt; &amp; &quot;ward&quot;",
    ] {
        assert!(page.contains(escaped), "no {escaped:?} in the page");
    }
}

/// Runs Chromium headless on `page` with `args`, as the lab does (no network, a fresh
/// profile); returns its stderr, or None when Chromium is not installed.
fn chromium(profile: &Path, page: &Path, args: &[String]) -> Option<String> {
    let mut child = match Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => return None,
        Err(e) => panic!("chromium: {e}"),
    };
    // Read stderr on a thread, so a chatty Chromium never blocks on a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium {args:?} did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = reader.join().unwrap();
    assert!(status.success(), "chromium {args:?}: {status}\n{stderr}");
    Some(stderr)
}

/// The page's console output: whatever it logs, errors included, and every load its
/// Content-Security-Policy blocked.
fn console(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .collect()
}

/// The pages' sizes in points, from each `/MediaBox [x0 y0 x1 y1]`. Chromium (Skia) writes
/// page dictionaries uncompressed; a PDF that hides them shows here as no page at all.
fn media_boxes(pdf: &[u8]) -> Vec<(f64, f64)> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/MediaBox")
        .map(|(at, _)| {
            let rest = &text[at + "/MediaBox".len()..];
            let inner = rest
                .trim_start()
                .strip_prefix('[')
                .and_then(|r| r.split(']').next())
                .expect("a MediaBox array");
            let n: Vec<f64> = inner
                .split_whitespace()
                .map(|v| v.parse().unwrap())
                .collect();
            assert_eq!(n.len(), 4, "MediaBox [{inner}]");
            (n[2] - n[0], n[3] - n[1])
        })
        .collect()
}

/// The width and height in a PNG's header.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn chromium_renders_both_languages_to_png_and_an_a4_pdf_without_console_messages() {
    let dir = tempfile::tempdir().unwrap();
    for lang in Lang::ALL {
        let page = dir.path().join(format!("report-{}.html", lang.as_str()));
        std::fs::write(&page, render(&fixture::report(lang))).unwrap();
        let png = dir.path().join(format!("report-{}.png", lang.as_str()));
        let pdf = dir.path().join(format!("report-{}.pdf", lang.as_str()));
        let runs = [
            vec![
                format!("--screenshot={}", png.display()),
                "--window-size=1200,2400".to_owned(),
            ],
            vec![
                format!("--print-to-pdf={}", pdf.display()),
                "--no-pdf-header-footer".to_owned(),
            ],
        ];
        for (i, args) in runs.iter().enumerate() {
            let profile = dir.path().join(format!("profile-{}-{i}", lang.as_str()));
            let Some(stderr) = chromium(&profile, &page, args) else {
                skip::skip("no chromium: apt-get install chromium");
                return;
            };
            assert_eq!(
                console(&stderr),
                Vec::<&str>::new(),
                "{lang:?} {args:?} logged to the console"
            );
        }

        let png = std::fs::read(&png).unwrap();
        assert_eq!(png_size(&png), (1200, 2400));
        assert!(
            png.len() > 50_000,
            "a page of text and charts: {} bytes",
            png.len()
        );

        let pdf = std::fs::read(&pdf).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        let pages = media_boxes(&pdf);
        assert!(pages.len() >= 2, "{lang:?}: {} pages", pages.len());
        for (width, height) in pages {
            // A4 is 595.28 × 841.89 pt; Chromium rounds it to whole CSS pixels.
            assert_eq!(
                (width.round(), height.round()),
                (595.0, 842.0),
                "{lang:?}: a page is not A4"
            );
        }
    }
}
