//! The findings CI should surface (failures and warnings) and where each host is written in
//! the inventory: what SARIF and GitHub annotations both point at.

use std::collections::BTreeMap;

use sixfive_inventory::Place;
use sixfive_inventory::results::Status;
use sixfive_inventory::run::HostReport;

/// A non-passing result and where its host is written in the inventory.
pub(crate) struct Finding<'a> {
    pub record: &'a sixfive_inventory::results::CheckRecord,
    pub place: Option<&'a Place>,
}

impl Finding<'_> {
    pub fn message(&self) -> String {
        let r = self.record;
        let at = r.address.map_or_else(String::new, |a| match r.port {
            Some(port) => format!(" [{a}]:{port}"),
            None => format!(" {a}"),
        });
        let hint = r
            .hint
            .as_deref()
            .map_or_else(String::new, |h| format!(" Hint: {h}"));
        format!("{} {}{at}: {}.{hint}", r.host, r.check, r.detail)
    }
}

/// Failures and warnings, the results CI should surface.
pub(crate) fn findings<'a>(
    reports: &'a [HostReport],
    places: &'a BTreeMap<String, Place>,
) -> Vec<Finding<'a>> {
    reports
        .iter()
        .flat_map(|r| r.records.iter())
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
        .map(|record| Finding {
            record,
            place: places.get(&record.host),
        })
        .collect()
}
