//! `sixfive sites`: polls the selected sites once, stores the samples as a run and prints
//! a table or the `sixfive.sites/v1` document.

use std::io::IsTerminal;
use std::sync::Arc;

use sixfive_checks::{Engine, RunRequest};
use sixfive_inventory::results::SiteState;
use sixfive_inventory::run::Finished;
use sixfive_report::SitesDocument;

use crate::Failure;
use crate::cli::{FailOn, Global, SitesArgs, SitesFormat};
use crate::inventory::{block_on, inventory_path, load, load_options, open_store, profiles, who};

/// `color` colours the table on stdout.
pub fn run(args: SitesArgs, global: &Global, color: bool) -> Result<u8, Failure> {
    let path = inventory_path(None, global)?;
    let profiles = profiles(global)?;
    let mut inventory = load(&path, &load_options(true, &profiles))?.inventory;
    args.pace.apply(&mut inventory.scan);
    let fail_on = args.fail_on;
    let sites = crate::select::sites(&inventory, &[], &args.site)?;
    if sites.is_empty() {
        return Err(Failure::Usage("the inventory has no sites".into()));
    }
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        SitesFormat::Table
    } else {
        SitesFormat::Json
    });
    let inventory = Arc::new(inventory);
    let mut reports = block_on(async {
        let store = Arc::new(open_store(global).await?);
        let engine = Engine::new(&inventory.scan, profiles, args.pings, Arc::clone(&store))?;
        let request = RunRequest {
            hosts: Vec::new(),
            sites,
            owner: format!("sites@{}", who()),
            source: path.display().to_string(),
        };
        let mut reports = Vec::new();
        crate::run::drive(&engine, Arc::clone(&inventory), request, |finished| {
            if let Finished::Site(report) = finished {
                reports.push(*report);
            }
        })
        .await?;
        store.close().await;
        Ok(reports)
    })?;
    reports.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = std::io::stdout().lock();
    match format {
        SitesFormat::Json => {
            sixfive_report::json::write_line(&mut out, &SitesDocument::new(reports.clone()))?
        }
        SitesFormat::Table => {
            sixfive_report::table::sites(&reports, color).write(&mut out, color)?
        }
    }
    Ok(exit_code(reports.iter().map(|r| r.state), fail_on))
}

/// The sites' CI contract: 1 when some site is at least as bad as `fail_on`, else 0.
/// States order best to worst, unreachable and auth_failed past critical: nothing at all
/// is known of such a site.
pub fn exit_code(states: impl IntoIterator<Item = SiteState>, fail_on: FailOn) -> u8 {
    let threshold = match fail_on {
        FailOn::Degraded => SiteState::Degraded,
        FailOn::Critical => SiteState::Critical,
        FailOn::Unreachable => SiteState::Unreachable,
    };
    u8::from(states.into_iter().any(|state| state >= threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_failed_and_unreachable_are_worse_than_critical() {
        use SiteState::*;
        assert_eq!(exit_code([Ok, Degraded], FailOn::Critical), 0);
        assert_eq!(exit_code([Ok, Degraded], FailOn::Degraded), 1);
        assert_eq!(exit_code([Critical], FailOn::Critical), 1);
        assert_eq!(exit_code([Critical], FailOn::Unreachable), 0);
        assert_eq!(exit_code([AuthFailed], FailOn::Critical), 1);
        assert_eq!(exit_code([AuthFailed], FailOn::Unreachable), 1);
        assert_eq!(exit_code([Unreachable], FailOn::Unreachable), 1);
        assert_eq!(exit_code([], FailOn::Degraded), 0);
    }
}
