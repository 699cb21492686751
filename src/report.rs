//! `sixfive report`: the managers' progress report from the store as it stands (or stood,
//! `--at`), written in one format and language (wiring only; the report is sixfive-report's).

use std::io::Write;
use std::path::Path;

use chrono::Utc;
use sixfive_inventory::StoreUrl;
use sixfive_inventory::model::Level;
use sixfive_report::progress::{self, ProgressReport};

use crate::Failure;
use crate::cli::{Global, ReportArgs, ReportFormat};
use crate::inventory::{
    block_on, inventory_path, load, load_options, open_store, profiles, store_url,
};

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
    if let (Some(since), Some(at)) = (args.since, args.at)
        && since > at
    {
        return Err(Failure::Usage(format!(
            "--since {since} is after --at {at}: the change is measured up to --at"
        )));
    }
    if let Some(since) = args.since.filter(|since| *since > Utc::now().date_naive()) {
        return Err(Failure::Usage(format!("--since {since} is in the future")));
    }
    // A report reads a store; a mistyped --db would otherwise make an empty one.
    if let StoreUrl::Sqlite(path) = store_url(global)?
        && !path.exists()
    {
        return Err(Failure::Usage(format!(
            "no store at {}: run a scan first, or name the store with --db",
            path.display()
        )));
    }
    let read = block_on(async {
        let store = open_store(global).await?;
        Ok::<_, Failure>(progress::read(&store, args.at, args.since).await?)
    })?;
    let agencies = &read.snapshot.agencies;
    if let Some(agency) = &args.agency
        && !agencies.iter().any(|a| &a.id == agency)
    {
        let known: Vec<&str> = agencies.iter().map(|a| a.id.as_str()).collect();
        return Err(Failure::Usage(format!(
            "no agency `{agency}` in the store{}; known: {}",
            args.at.map_or(String::new(), |d| format!(" on {d}")),
            known.join(", ")
        )));
    }
    let options = read.options(args.lang, require, args.agency.clone());
    let report = ProgressReport::build(&read.snapshot, &options);
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
/// where the last good one was. The file gets the mode any new file would (umask).
fn save(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let said = |e: std::io::Error| {
        Failure::Output(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.part", std::process::id()));
    let partial = std::path::PathBuf::from(partial);
    // Another's partial file (a killed run's) is not this one's to remove.
    let mut file = std::fs::File::create_new(&partial).map_err(|e| {
        Failure::Output(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", partial.display()),
        ))
    })?;
    let written = (file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&partial, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(said(e));
    }
    Ok(())
}
