//! JUnit XML for CI: one test suite per host, one test case per check; a check whose worst
//! entry fails is a failure, a skipped one is skipped.

use std::collections::BTreeMap;

use sixfive_inventory::model::Level;
use sixfive_inventory::results::Status;
use sixfive_inventory::run::HostReport;

/// One test case per host and check; a check whose worst entry fails is a failure.
pub fn check(reports: &[HostReport], require: Level) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("sixfive check");
    for r in reports {
        let mut suite = TestSuite::new(format!("{} ({})", r.host.fqdn, r.level.level));
        suite.add_property(quick_junit::Property::new("agency", r.host.agency.as_str()));
        suite.add_property(quick_junit::Property::new("require", require.as_str()));
        let mut by_check: BTreeMap<&str, Vec<&sixfive_inventory::results::CheckRecord>> =
            BTreeMap::new();
        for record in &r.records {
            by_check
                .entry(record.check.as_str())
                .or_default()
                .push(record);
        }
        for (id, records) in by_check {
            let worst = records
                .iter()
                .map(|c| c.status)
                .max()
                .unwrap_or(Status::Pass);
            let details: Vec<String> = records
                .iter()
                .map(|c| match (&c.address, &c.hint) {
                    (Some(a), Some(h)) => format!("{} {a}: {} (hint: {h})", c.status, c.detail),
                    (Some(a), None) => format!("{} {a}: {}", c.status, c.detail),
                    (None, Some(h)) => format!("{}: {} (hint: {h})", c.status, c.detail),
                    (None, None) => format!("{}: {}", c.status, c.detail),
                })
                .collect();
            let status = match worst {
                Status::Pass | Status::Warn => TestCaseStatus::success(),
                Status::Skip => TestCaseStatus::skipped(),
                Status::Fail => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(details.join("; "));
                    status
                }
                Status::Error => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status.set_message(details.join("; "));
                    status
                }
            };
            let mut case = TestCase::new(format!("{} {id}", r.host.fqdn), status);
            case.set_classname(r.host.agency.as_str());
            case.set_system_out(details.join("\n"));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().expect("a JUnit report serialises")
}
