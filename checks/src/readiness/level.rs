//! From a host's check results to its level (BROKEN, L0–L5) and 0–100 score, as
//! readiness.md defines them. The gates come from the checks themselves.

use std::collections::BTreeMap;

use sixfive_inventory::model::{LEVEL_CHECKS, Level};
use sixfive_inventory::results::{CheckRecord, HostLevel, Status};

use crate::readiness::Gate;

fn all_ran(level: Level, verdicts: &BTreeMap<&str, Status>) -> bool {
    LEVEL_CHECKS
        .iter()
        .filter(|(gated, _)| *gated <= level)
        .all(|(_, ids)| ids.iter().all(|id| verdicts.contains_key(id)))
}

/// The host's verdict on one check: the worst of its entries.
pub fn verdicts(records: &[CheckRecord]) -> BTreeMap<&str, Status> {
    let mut verdicts: BTreeMap<&str, Status> = BTreeMap::new();
    for record in records {
        let verdict = verdicts
            .entry(record.check.as_str())
            .or_insert(Status::Pass);
        *verdict = (*verdict).max(record.status);
    }
    verdicts
}

/// Grades a host from its results. `gates` maps check ids to what they gate; `previous`
/// is the host's level in the last complete scan, if any.
pub fn grade(
    host: &str,
    records: &[CheckRecord],
    gates: &BTreeMap<&str, Gate>,
    previous: Option<Level>,
) -> HostLevel {
    let verdicts = verdicts(records);
    let gated = || {
        verdicts
            .iter()
            .filter_map(|(id, status)| gates.get(id).map(|gate| (*gate, *status)))
    };
    let broken = gated().any(|(gate, status)| gate.breaking && status == Status::Fail);
    let has_aaaa = verdicts.get("dns.aaaa") == Some(&Status::Pass);

    // The highest level whose gates, and all below, are met.
    let mut level = Level::L0;
    let mut inconclusive = verdicts.get("dns.aaaa") == Some(&Status::Error);
    if has_aaaa {
        for candidate in [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5] {
            let strict = candidate >= Level::L4;
            let mut met = true;
            for (gate, status) in gated().filter(|(gate, _)| gate.level <= candidate) {
                met &= match status {
                    Status::Pass | Status::Skip => true,
                    Status::Warn => !strict && !gate.warn_holds && gate.level < Level::L4,
                    Status::Error => {
                        inconclusive = true;
                        false
                    }
                    Status::Fail => false,
                };
            }
            if !met || !all_ran(candidate, &verdicts) {
                break;
            }
            level = candidate;
        }
    }
    // A grade the scan could not decide is no evidence of a fall.
    let regressed =
        !inconclusive && previous.is_some_and(|before| before > level && before != Level::Broken);
    let level = if broken || regressed {
        Level::Broken
    } else {
        level
    };
    HostLevel {
        host: host.to_owned(),
        level,
        score: score(&verdicts, gates),
        // Internet.nl's rules need the probes' evidence, not verdicts (crate::internet_nl).
        internet_nl: None,
        inconclusive,
        regressed,
    }
}

/// Credit per check, weighted: pass counts fully, warn half; skipped checks and checks the
/// scan could not decide leave the total.
fn score(verdicts: &BTreeMap<&str, Status>, gates: &BTreeMap<&str, Gate>) -> u8 {
    let (mut earned, mut possible) = (0.0, 0.0);
    for (id, status) in verdicts {
        let Some(gate) = gates.get(id) else { continue };
        let weight = f64::from(gate.weight);
        match status {
            Status::Pass => {
                earned += weight;
                possible += weight;
            }
            Status::Warn => {
                earned += weight / 2.0;
                possible += weight;
            }
            Status::Fail => possible += weight,
            Status::Skip | Status::Error => {}
        }
    }
    if possible == 0.0 {
        return 0;
    }
    (100.0 * earned / possible).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gates() -> BTreeMap<&'static str, Gate> {
        let gate = |level, breaking, weight| Gate {
            level,
            breaking,
            weight,
            warn_holds: false,
        };
        BTreeMap::from([
            ("dns.aaaa", gate(Level::L1, false, 25)),
            ("dns.aaaa_global", gate(Level::L1, true, 5)),
            ("tcp.v6", gate(Level::L1, true, 15)),
            ("http.parity", gate(Level::L2, false, 15)),
            ("dns.ns_aaaa", gate(Level::L3, false, 15)),
            ("dns.ptr", gate(Level::L4, false, 2)),
        ])
    }

    /// Every check the levels ask for passes, except as `statuses` say.
    fn results(statuses: &[(&str, Status)]) -> Vec<CheckRecord> {
        let given = statuses.iter().map(|(id, status)| (*id, *status));
        let defaults = LEVEL_CHECKS
            .iter()
            .flat_map(|(_, ids)| ids.iter())
            .filter(|id| !statuses.iter().any(|(given, _)| given == *id))
            .map(|id| (*id, Status::Pass));
        given
            .chain(defaults)
            .map(|(id, status)| CheckRecord::new("h.test", id, status, ""))
            .collect()
    }

    fn level_of(statuses: &[(&str, Status)], previous: Option<Level>) -> HostLevel {
        grade("h.test", &results(statuses), &gates(), previous)
    }

    #[test]
    fn the_level_table_and_the_checks_gates_agree() {
        let gates: BTreeMap<&str, Level> = crate::readiness::registry()
            .iter()
            .filter_map(|check| check.gate().map(|gate| (check.id(), gate.level)))
            .collect();
        let table: BTreeMap<&str, Level> = LEVEL_CHECKS
            .iter()
            .flat_map(|(level, ids)| ids.iter().map(move |id| (*id, *level)))
            .collect();
        assert_eq!(
            gates, table,
            "every gated check is in the table at its gate's level"
        );
        let holding: Vec<&str> = crate::readiness::registry()
            .iter()
            .filter(|check| check.gate().is_some_and(|gate| gate.warn_holds))
            .map(|check| check.id())
            .collect();
        assert_eq!(
            holding,
            sixfive_inventory::model::WARN_HOLDS,
            "the reports read warnings as the grading does"
        );
    }

    #[test]
    fn a_level_needs_every_check_it_asks_for() {
        let mut partial = results(&[]);
        partial.retain(|r| r.check != "dns.dnssec");
        assert_eq!(grade("h.test", &partial, &gates(), None).level, Level::L3);
        partial.retain(|r| r.check != "http.v6");
        assert_eq!(grade("h.test", &partial, &gates(), None).level, Level::L0);
    }

    #[test]
    fn all_passing_reaches_the_top() {
        let all = [
            ("dns.aaaa", Status::Pass),
            ("dns.aaaa_global", Status::Pass),
            ("tcp.v6", Status::Pass),
            ("http.parity", Status::Pass),
            ("dns.ns_aaaa", Status::Pass),
            ("dns.ptr", Status::Pass),
        ];
        let graded = level_of(&all, None);
        assert_eq!((graded.level, graded.score), (Level::L5, 100));
        assert!(!graded.inconclusive && !graded.regressed);
    }

    #[test]
    fn no_aaaa_is_l0_and_a_breaking_failure_is_broken() {
        assert_eq!(
            level_of(
                &[("dns.aaaa", Status::Fail), ("tcp.v6", Status::Skip)],
                None
            )
            .level,
            Level::L0
        );
        let broken = level_of(
            &[("dns.aaaa", Status::Pass), ("tcp.v6", Status::Fail)],
            None,
        );
        assert_eq!(broken.level, Level::Broken);
        let bogus = level_of(
            &[
                ("dns.aaaa", Status::Pass),
                ("dns.aaaa_global", Status::Fail),
            ],
            None,
        );
        assert_eq!(bogus.level, Level::Broken);
    }

    #[test]
    fn the_worst_entry_decides_and_levels_stop_at_the_first_unmet_gate() {
        let graded = level_of(
            &[
                ("dns.aaaa", Status::Pass),
                ("tcp.v6", Status::Pass),
                ("http.parity", Status::Pass),
                ("http.parity", Status::Fail),
                ("dns.ns_aaaa", Status::Pass),
            ],
            None,
        );
        assert_eq!(graded.level, Level::L1);
    }

    #[test]
    fn warnings_hold_back_only_l4_and_above() {
        let base = [
            ("dns.aaaa", Status::Pass),
            ("tcp.v6", Status::Pass),
            ("dns.ns_aaaa", Status::Pass),
        ];
        let parity_warn = [
            &base[..],
            &[("http.parity", Status::Warn), ("dns.ptr", Status::Pass)],
        ]
        .concat();
        assert_eq!(
            level_of(&parity_warn, None).level,
            Level::L3,
            "a warned L2 gate still blocks L4"
        );
        let ptr_warn = [
            &base[..],
            &[("http.parity", Status::Pass), ("dns.ptr", Status::Warn)],
        ]
        .concat();
        let graded = level_of(&ptr_warn, None);
        assert_eq!(graded.level, Level::L3);
        assert_eq!(graded.score, 99);
    }

    #[test]
    fn a_warning_on_a_strict_gate_holds_its_level_back() {
        let mut strict = gates();
        strict.insert("http.parity", Gate::strict(Level::L2, 15));
        let records = results(&[("http.parity", Status::Warn)]);
        assert_eq!(grade("h.test", &records, &strict, None).level, Level::L1);
        assert_eq!(grade("h.test", &records, &gates(), None).level, Level::L3);
    }

    #[test]
    fn errors_are_inconclusive_not_failures() {
        let graded = level_of(
            &[("dns.aaaa", Status::Pass), ("tcp.v6", Status::Error)],
            None,
        );
        assert_eq!(graded.level, Level::L0);
        assert!(graded.inconclusive);
        assert_eq!(
            graded.score, 100,
            "an undecided check is left out of the score"
        );
        let was_l3 = level_of(
            &[("dns.aaaa", Status::Error), ("tcp.v6", Status::Skip)],
            Some(Level::L3),
        );
        assert!(
            !was_l3.regressed && was_l3.level == Level::L0,
            "a scan that could not decide is no regression"
        );
    }

    #[test]
    fn falling_below_the_last_level_is_a_regression() {
        let now = [
            ("dns.aaaa", Status::Pass),
            ("tcp.v6", Status::Pass),
            ("http.parity", Status::Fail),
        ];
        let graded = level_of(&now, Some(Level::L3));
        assert!(graded.regressed);
        assert_eq!(graded.level, Level::Broken);
        assert!(!level_of(&now, Some(Level::L1)).regressed);
        assert!(!level_of(&now, Some(Level::Broken)).regressed);
    }
}
