//! `sixfive sites`: polls the selected sites once, stores the samples as a run and prints
//! a table or the `sixfive.sites/v1` document.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use futures::StreamExt;
use serde_json::json;
use sixfive_checks::SitePoller;
use sixfive_inventory::model::Site;
use sixfive_inventory::results::{SiteReport, SiteState};
use sixfive_inventory::store::RunKind;

use crate::Failure;
use crate::check::progress_bar;
use crate::cli::{Global, SitesArgs, SitesFormat};
use crate::inventory::{
    block_on, close_run, inventory_path, load, load_options, open_store, profiles, who,
};
use crate::table::Table;

/// Samples are written to the store in batches of this many sites.
const BATCH: usize = 100;

pub fn run(args: SitesArgs, global: &Global, color: bool) -> Result<u8, Failure> {
    let path = inventory_path(None, global)?;
    let profiles = profiles(global)?;
    let inventory = load(&path, &load_options(true, &profiles))?.inventory;
    let unknown: Vec<&str> = args
        .site
        .iter()
        .filter(|id| !inventory.sites.iter().any(|s| &s.id == *id))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(Failure::Usage(format!(
            "no site with id {} in the inventory",
            unknown.join(", ")
        )));
    }
    let sites: Vec<Site> = inventory
        .sites
        .into_iter()
        .filter(|s| args.site.is_empty() || args.site.contains(&s.id))
        .collect();
    if sites.is_empty() {
        return Err(Failure::Usage("the inventory has no sites".into()));
    }
    let poller =
        Arc::new(SitePoller::new(&inventory.scan, profiles, args.pings).map_err(Failure::Scanner)?);
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        SitesFormat::Table
    } else {
        SitesFormat::Json
    });
    let mut reports = block_on(async {
        let store = Arc::new(open_store(global).await?);
        let mut previous: HashMap<String, SiteReport> = store
            .latest_samples(None)
            .await?
            .iter()
            .filter_map(|sample| Some((sample.site.clone(), SiteReport::from_sample(sample)?)))
            .collect();
        let jobs_count = sites.len();
        let jobs = sites
            .into_iter()
            .map(|site| {
                let before = previous.remove(&site.id);
                (site, before)
            })
            .collect();
        let run = store
            .begin_run(&format!("sites@{}", who()), RunKind::Sites)
            .await?;
        let progress = progress_bar(jobs_count, "sites");
        let mut reports = Vec::new();
        let mut written = 0;
        let mut stream = std::pin::pin!(poller.poll_all(jobs));
        let interrupted = loop {
            tokio::select! {
                next = stream.next() => match next {
                    Some(report) => {
                        progress.inc(1);
                        reports.push(report);
                        if reports.len() - written >= BATCH {
                            store.record_samples(run, &samples(&reports[written..])).await?;
                            written = reports.len();
                        }
                    }
                    None => break false,
                },
                _ = tokio::signal::ctrl_c() => break true,
            }
        };
        progress.finish_and_clear();
        store
            .record_samples(run, &samples(&reports[written..]))
            .await?;
        close_run(&store, run, interrupted).await?;
        Ok(reports)
    })?;
    reports.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = std::io::stdout().lock();
    match format {
        SitesFormat::Json => {
            let document = json!({ "schema": "sixfive.sites/v1", "sites": reports });
            serde_json::to_writer(&mut out, &document).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        SitesFormat::Table => {
            table(&reports, color && std::io::stdout().is_terminal()).write(&mut out, color)?
        }
    }
    Ok(0)
}

fn samples(reports: &[SiteReport]) -> Vec<sixfive_inventory::results::SiteSample> {
    reports.iter().map(SiteReport::sample).collect()
}

fn table(reports: &[SiteReport], color: bool) -> Table {
    let mut table = Table::new([
        "SITE",
        "STATE",
        "VIA",
        "RADIO",
        "RSRP",
        "RSRQ",
        "SINR",
        "UPLINK",
        "RTT v6/v4",
        "LOSS",
        "WAN IPv6",
        "REASONS",
    ]);
    let number = |value: Option<f64>| value.map_or("-".into(), |v| format!("{v}"));
    let pair = |v6: Option<f64>, v4: Option<f64>, show: fn(f64) -> String| {
        format!(
            "{}/{}",
            v6.map_or("-".into(), show),
            v4.map_or("-".into(), show)
        )
    };
    for r in reports {
        let name = match r.state {
            SiteState::AuthFailed => "AUTH FAILED".to_owned(),
            other => other.as_str().to_uppercase(),
        };
        // Green, yellow, red; refused credentials in magenta, apart from the dead.
        let paint = match r.state {
            SiteState::Ok => "32",
            SiteState::Degraded => "33",
            SiteState::Critical | SiteState::Unreachable => "31",
            SiteState::AuthFailed => "35",
        };
        let state = if color {
            format!("\x1b[{paint}m{name}\x1b[0m")
        } else {
            name
        };
        table.row([
            r.id.clone(),
            state,
            r.polled_via.map_or("-".into(), |f| f.as_str().to_owned()),
            r.radio.technology.clone().unwrap_or_else(|| "-".into()),
            number(r.radio.rsrp_dbm),
            number(r.radio.rsrq_db),
            number(r.radio.sinr_db),
            match (&r.uplink.name, &r.uplink.oper_status) {
                (Some(name), Some(status)) => format!("{name} {status}"),
                _ => "-".into(),
            },
            pair(r.latency_ms.v6, r.latency_ms.v4, |ms| format!("{ms:.1}")),
            pair(r.loss.v6, r.loss.v4, |loss| format!("{:.0}%", loss * 100.0)),
            match &r.wan_ipv6 {
                Some(addresses) if addresses.is_empty() => "none".into(),
                Some(addresses) => addresses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                None => "-".into(),
            },
            r.reasons.join("; "),
        ]);
    }
    table
}
