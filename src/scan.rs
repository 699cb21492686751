//! `sixfive scan`: the selected hosts and sites in one stored run, a summary on stdout, and
//! an exit code that combines `check`'s contract with `sites --fail-on`.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use sixfive_checks::{Engine, RunRequest};
use sixfive_inventory::results::{HostLevel, SiteState};
use sixfive_inventory::run::Finished;
use sixfive_report::ScanDocument;
use sixfive_report::document::SitesSummary;

use crate::Failure;
use crate::check::{Summary, counts};
use crate::cli::{Global, ScanArgs, SitesFormat};
use crate::inventory::{block_on, inventory_path, load, load_options, open_store, profiles, who};

pub fn run(args: ScanArgs, global: &Global) -> Result<u8, Failure> {
    let path = inventory_path(None, global)?;
    let profiles = profiles(global)?;
    let mut inventory = load(&path, &load_options(true, &profiles))?.inventory;
    args.pace.apply(&mut inventory.scan);
    let require = args.require.unwrap_or(inventory.scan.require);
    let hosts = crate::select::hosts(&inventory, &args.select)?;
    let sites = crate::select::sites(&inventory, &args.select.agency, &args.site)?;
    if hosts.is_empty() && sites.is_empty() {
        return Err(Failure::Usage(
            "no host or site matches the selection".into(),
        ));
    }
    let inventory = Arc::new(inventory);
    let (outcome, levels, states, own_v6) =
        block_on(async {
            let store = Arc::new(open_store(global).await?);
            let engine = Engine::new(&inventory.scan, profiles, args.pings, Arc::clone(&store))?;
            let request = RunRequest {
                hosts,
                sites,
                owner: format!("scan@{}", who()),
                source: path.display().to_string(),
            };
            let (mut levels, mut states): (Vec<HostLevel>, Vec<SiteState>) = Default::default();
            let outcome = crate::run::drive(&engine, Arc::clone(&inventory), request, |finished| {
                match finished {
                    Finished::Host(report) => levels.push(report.level),
                    Finished::Site(report) => states.push(report.state),
                }
            })
            .await?;
            store.close().await;
            Ok((outcome, levels, states, engine.own_v6().clone()))
        })?;
    let hosts = Summary::of(&levels, require, &own_v6);
    let by_state = by_state(&states);
    let code = combined(
        hosts.exit_code(),
        crate::sites::exit_code(states.iter().copied(), args.fail_on),
    );
    let mut out = std::io::stdout().lock();
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        SitesFormat::Table
    } else {
        SitesFormat::Json
    });
    match format {
        SitesFormat::Json => {
            let document = ScanDocument {
                schema: "sixfive.scan/v1".into(),
                run: outcome.run,
                require: hosts.require,
                summary: hosts.document(),
                sites: SitesSummary {
                    total: states.len(),
                    by_state,
                },
                exit_code: code,
            };
            sixfive_report::json::write_line(&mut out, &document)?;
        }
        SitesFormat::Table => {
            writeln!(out, "hosts  {}", hosts.line())?;
            writeln!(out, "sites  {}", sites_line(&by_state))?;
            writeln!(out, "run    {} stored complete", outcome.run)?;
        }
    }
    Ok(code)
}

/// How many sites are in each state.
pub fn by_state(states: &[SiteState]) -> BTreeMap<SiteState, usize> {
    let mut by_state = BTreeMap::new();
    for state in states {
        *by_state.entry(*state).or_default() += 1;
    }
    by_state
}

/// How many sites were polled, and how many are in each state.
pub fn sites_line(by_state: &BTreeMap<SiteState, usize>) -> String {
    let total: usize = by_state.values().sum();
    format!("{total} polled  ({})", counts(by_state))
}

/// One exit code for both contracts, the worse first: 2 (BROKEN or regressed), 3
/// (inconclusive), 1 (a host below the level, or a site at or past `--fail-on`), 0.
fn combined(hosts: u8, sites: u8) -> u8 {
    match (hosts, sites) {
        (0, sites) => sites,
        (hosts, _) => hosts,
    }
}

#[cfg(test)]
mod tests {
    use super::combined;

    #[test]
    fn the_worse_contract_decides() {
        assert_eq!(combined(0, 0), 0);
        assert_eq!(combined(0, 1), 1);
        assert_eq!(combined(1, 1), 1);
        assert_eq!(combined(2, 1), 2);
        assert_eq!(combined(3, 1), 3);
        assert_eq!(combined(3, 0), 3);
    }
}
