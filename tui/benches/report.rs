//! The managers' report over a big city's year (issue 14's budget: under 2 s for 10,000
//! hosts and 365 daily runs). `sixfive report` reads [`Store::report_snapshot`], works the
//! report out ([`ProgressReport::build`]) and writes it in one format; each is a case
//! here, then the whole report as HTML and as XLSX, and the store as it stood mid-year
//! (`--at`).
//!
//!     cargo bench -p sixfive-tui --bench report
//!     SIXFIVE_BENCH_HOSTS=1000 SIXFIVE_BENCH_DAYS=30 cargo bench -p sixfive-tui --bench report
//!
//! The store is the city's year (`store`), the one the `open` bench reads: the bench sits
//! in the UI's crate, which builds it (sqlx among its dev-dependencies) and depends on the
//! report's crate already.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use sixfive_inventory::model::Level;
use sixfive_inventory::store::ReportSnapshot;
use sixfive_inventory::{Store, StoreUrl};
use sixfive_report::progress::{self, Lang, ProgressReport, ReportOptions};

mod city;
mod store;
use store::{SITES, setting, store_path};

/// The formats `sixfive report --format` writes.
const FORMATS: [&str; 5] = ["html", "xlsx", "csv", "json", "md"];

/// What `sixfive report` reads and the options it reports with by default: the city, in
/// English, L2 counting as ready, the change over the last 30 days.
fn read(rt: &tokio::runtime::Runtime, store: &Store) -> (ReportSnapshot, ReportOptions) {
    let read = rt.block_on(progress::read(store, None, None)).unwrap();
    let options = read.options(Lang::En, Level::L2, None);
    (read.snapshot, options)
}

/// `report` in `format`, as `sixfive report` writes it.
fn write(report: &ProgressReport, format: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match format {
        "html" => progress::html::write(&mut out, report).unwrap(),
        "xlsx" => out = progress::xlsx::write(report).unwrap(),
        "csv" => progress::csv::write(&mut out, report).unwrap(),
        "json" => {
            serde_json::to_writer_pretty(&mut out, report).unwrap();
            out.push(b'\n');
        }
        "md" => progress::markdown::write(&mut out, report).unwrap(),
        _ => unreachable!("a format of FORMATS"),
    }
    out
}

fn reporting(c: &mut Criterion) {
    let hosts = setting("SIXFIVE_BENCH_HOSTS", 10_000);
    let days = setting("SIXFIVE_BENCH_DAYS", 365);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = StoreUrl::Sqlite(store_path(&rt, hosts, days));
    let store = rt.block_on(Store::open(&url)).unwrap();
    // Once, step by step, for where the time goes and what comes out.
    let started = Instant::now();
    let (snapshot, options) = read(&rt, &store);
    let read_took = started.elapsed();
    let report = ProgressReport::build(&snapshot, &options);
    println!(
        "report bench, once: snapshot {read_took:.0?}, build +{:.0?}",
        started.elapsed() - read_took
    );
    for format in FORMATS {
        let started = Instant::now();
        let bytes = write(&report, format).len();
        println!(
            "report bench, once: {format} {:.0?}, {bytes} bytes",
            started.elapsed()
        );
    }
    assert_eq!(snapshot.hosts.len(), hosts);
    assert!(snapshot.hosts.iter().all(|h| h.grade.is_some()));
    assert_eq!(snapshot.trend.len(), days);
    let polled = snapshot.sites.iter().filter(|s| s.latest.is_some());
    assert_eq!(polled.count(), SITES);
    let failed: usize = snapshot.hosts.iter().map(|h| h.failing.len()).sum();
    println!(
        "report bench: {failed} failed results, {} blockers, {} fixes ({} that lift a host alone)",
        report.blockers.len(),
        report.fixes.len(),
        report.fixes.iter().filter(|f| f.lifts > 0).count()
    );
    // `--at` a day mid-year: the end of that day, as `sixfive report --at` reads a date.
    let mid = snapshot.trend[snapshot.trend.len() / 2]
        .finished_at
        .expect("a finished run")
        .date_naive();
    let mid = progress::end_of_day(mid);
    let started = Instant::now();
    let then = rt.block_on(store.report_snapshot(Some(mid))).unwrap();
    println!(
        "report bench, once: snapshot --at {} {:.0?}",
        mid.date_naive(),
        started.elapsed()
    );
    assert_eq!(then.hosts.len(), hosts);
    assert_eq!(then.trend.len(), days / 2 + 1);

    let mut group = c.benchmark_group("report");
    // Seconds an iteration: the same number of them in every sample.
    group.sampling_mode(SamplingMode::Flat);
    let size = format!("{hosts} hosts, {days} daily runs");
    group.bench_function(format!("snapshot: {size}"), |b| {
        b.iter(|| rt.block_on(store.report_snapshot(None)).unwrap())
    });
    // Named without its date, which moves with the day the store was written.
    group.bench_function(format!("snapshot --at mid-year: {size}"), |b| {
        b.iter(|| rt.block_on(store.report_snapshot(Some(mid))).unwrap())
    });
    group.bench_function(format!("build: {size}"), |b| {
        b.iter(|| ProgressReport::build(black_box(&snapshot), &options))
    });
    for format in FORMATS {
        group.bench_function(format!("write {format}: {size}"), |b| {
            b.iter(|| write(black_box(&report), format))
        });
    }
    for format in ["html", "xlsx"] {
        group.bench_function(format!("whole, {format}: {size}"), |b| {
            b.iter(|| {
                let (snapshot, options) = read(&rt, &store);
                write(&ProgressReport::build(&snapshot, &options), format)
            })
        });
    }
    group.finish();
    rt.block_on(store.close());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    targets = reporting
}
criterion_main!(benches);
