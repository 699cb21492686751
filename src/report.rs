//! `sixfive report`: the managers' progress report from the store as it stands (or stood,
//! `--at`), written in one format and language (wiring only; the report is sixfive-report's).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use sixfive_inventory::model::Level;
use sixfive_report::progress::{self, ProgressReport, ReportOptions};

use crate::Failure;
use crate::cli::{Global, ReportArgs, ReportFormat};
use crate::inventory::{block_on, inventory_path, load, load_options, open_store, profiles};

pub fn run(args: ReportArgs, global: &Global) -> Result<(), Failure> {
    if args.output == Path::new("-") && args.format == ReportFormat::Xlsx {
        return Err(Failure::Usage(
            "an XLSX workbook is a binary file: name one with -o FILE".into(),
        ));
    }
    let require = match (args.require, &global.inventory) {
        (Some(level), _) => level,
        (None, Some(_)) => {
            let path = inventory_path(None, global)?;
            load(&path, &load_options(false, &profiles(global)?))?
                .inventory
                .scan
                .require
        }
        (None, None) => Level::L2,
    };
    let at = args.at.map(end_of);
    let snapshot = block_on(async {
        let store = open_store(global).await?;
        Ok::<_, Failure>(store.report_snapshot(at).await?)
    })?;
    if let Some(agency) = &args.agency
        && !snapshot.agencies.iter().any(|a| &a.id == agency)
    {
        let known: Vec<&str> = snapshot.agencies.iter().map(|a| a.id.as_str()).collect();
        return Err(Failure::Usage(format!(
            "no agency `{agency}` in the store{}; known: {}",
            args.at.map_or(String::new(), |d| format!(" on {d}")),
            known.join(", ")
        )));
    }
    let today = snapshot.at.date_naive();
    let options = ReportOptions {
        lang: args.lang,
        require,
        agency: args.agency.clone(),
        since: args
            .since
            .unwrap_or_else(|| today - Days::new(progress::PERIOD_DAYS)),
        generated_at: Utc::now(),
    };
    let report = ProgressReport::build(&snapshot, &options);
    let mut bytes = Vec::new();
    write(&mut bytes, &report, args.format)?;
    if args.output == Path::new("-") {
        std::io::stdout().lock().write_all(&bytes)?;
        return Ok(());
    }
    save(&args.output, &bytes)?;
    tracing::info!(file = %args.output.display(), bytes = bytes.len(), "report written");
    Ok(())
}

fn write(out: &mut Vec<u8>, report: &ProgressReport, format: ReportFormat) -> Result<(), Failure> {
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        ReportFormat::Html => progress::html::write(out, report)?,
        ReportFormat::Csv => progress::csv::write(&mut *out, report)?,
        ReportFormat::Md => progress::markdown::write(out, report)?,
        ReportFormat::Xlsx => {
            let workbook = progress::xlsx::write(report).map_err(std::io::Error::other)?;
            out.extend_from_slice(&workbook);
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` whole or not at all: a half-written report is never left
/// where the last good one was.
fn save(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let said = |e: std::io::Error| {
        Failure::Output(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(said)?;
    file.write_all(bytes).map_err(said)?;
    file.persist(path).map_err(|e| said(e.error))?;
    Ok(())
}

/// A date given for `--at` means the store as it stood at the end of that day (UTC).
fn end_of(date: NaiveDate) -> DateTime<Utc> {
    let last = NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time");
    date.and_time(last).and_utc()
}
