//! The report's figures against a city worked out by hand (tests/fixture), and every
//! format carrying the same figures.

mod fixture;

use chrono::NaiveDate;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::SiteState;
use sixfive_report::progress::causes::{Cause, Subject};
use sixfive_report::progress::{Lang, Outlook, ProgressReport};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn headline_agencies_and_outlooks_match_the_hand_worked_figures() {
    let report = fixture::report(Lang::En);
    assert_eq!((report.city.hosts, report.city.ready), (9, 3));
    // On 2026-11-20 the trend's last point was 2026-11-18: 2 of 6 graded hosts ready.
    let then = report.city.then.as_ref().unwrap();
    assert_eq!(
        (then.date, then.graded, then.ready),
        (date(2026, 11, 18), 6, 2)
    );
    // Of the 9 hosts in the inventory then, as today's share is of today's 9.
    assert_eq!((then.hosts, then.share), (Some(9), Some(2.0 / 9.0)));
    assert_eq!(report.not_graded, 1);
    let level = |l| report.levels.iter().find(|c| c.level == l).unwrap().hosts;
    assert_eq!(
        [
            level(Level::Broken),
            level(Level::L0),
            level(Level::L1),
            level(Level::L2)
        ],
        [1, 1, 3, 3]
    );

    let agency = |id: &str| report.agencies.iter().find(|a| a.id == id).unwrap();
    // dict: 0, 1/3, 2/3 ready over 30 days: a line reaching 100 % 15 days after today.
    let dict = agency("dict");
    assert_eq!((dict.progress.hosts, dict.progress.ready), (3, 2));
    assert_eq!(dict.outlook, Outlook::OnTrack);
    assert_eq!(dict.projected, Some(date(2026, 12, 18)));
    // health: 0, 1/3, 1/3: slope 1/90 a day from 7/18 today, 100 % in 55 days, after its
    // target of 2026-12-10.
    let health = agency("health");
    assert_eq!(health.outlook, Outlook::AtRisk);
    assert_eq!(health.projected, Some(date(2027, 1, 27)));
    assert_eq!(agency("edu").outlook, Outlook::NoTarget);
    assert_eq!(agency("edu").not_graded, 1);

    let points: Vec<(NaiveDate, usize, usize)> = (report.trend.points.iter())
        .map(|p| (p.date, p.graded, p.ready))
        .collect();
    assert_eq!(
        points,
        [
            (date(2026, 11, 3), 6, 0),
            (date(2026, 11, 18), 6, 2),
            (date(2026, 12, 3), 8, 3)
        ]
    );
    assert_eq!(
        (report.trend.scope, report.trend.target),
        (9, Some(date(2027, 6, 30)))
    );
    // A host's own target date before its agency's.
    let c = report
        .hosts
        .iter()
        .find(|h| h.fqdn.starts_with("c."))
        .unwrap();
    assert_eq!(c.target, Some(date(2026, 12, 31)));
}

#[test]
fn blockers_are_counted_by_cause_and_fixes_ranked_by_the_hosts_they_lift() {
    let report = fixture::report(Lang::En);
    let blockers: Vec<(Cause, usize)> = report
        .blockers
        .iter()
        .map(|b| (b.cause, b.hosts.len()))
        .collect();
    assert_eq!(
        blockers,
        [
            (Cause::RedirectToV4Only, 2),
            (Cause::NotScanned, 1),
            (Cause::AaaaMissing, 1),
            (Cause::AaaaBroken, 1),
            (Cause::ContentDiffers, 1),
            (Cause::TlsInvalidV6, 1),
        ]
    );
    // a's failing dns.ptr (L4) and b's dns.ns_aaaa (L3) hold no host below L2.
    let fixes: Vec<(Cause, &str, usize, usize)> = (report.fixes.iter())
        .map(|f| {
            (
                f.target.cause,
                f.target.subject.name(),
                f.lifts,
                f.hosts.len(),
            )
        })
        .collect();
    assert_eq!(
        fixes,
        [
            // c and d sit at L2 only for their zone's name servers: one fix lifts both.
            (Cause::NameServersWithoutV6, "city.example", 2, 2),
            (Cause::RedirectToV4Only, "sso.city.example", 1, 2),
            (Cause::AaaaMissing, "e.health.city.example", 1, 1),
            // Two failed checks, one fix: the broken host's IPv6 service.
            (Cause::AaaaBroken, "f.health.city.example", 1, 1),
            (Cause::ContentDiffers, "b.dict.city.example", 1, 1),
            (Cause::TlsInvalidV6, "h.edu.city.example", 0, 1),
        ]
    );
    assert!(matches!(report.fixes[0].target.subject, Subject::Zone(_)));
    assert_eq!(
        report.top_fixes().count(),
        5,
        "a fix that lifts no host alone is not shown"
    );
}

#[test]
fn site_health_groups_states_signal_ipv6_and_cells() {
    let sites = fixture::report(Lang::En).sites;
    assert_eq!((sites.sites, sites.not_polled), (4, 1));
    let states: Vec<(SiteState, usize)> = sites.states.iter().map(|s| (s.state, s.sites)).collect();
    assert_eq!(
        states,
        [
            (SiteState::Ok, 1),
            (SiteState::Degraded, 1),
            (SiteState::Critical, 1)
        ]
    );
    let worst: Vec<&str> = sites.worst.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(worst, ["s2", "s3"]);
    let bands: Vec<usize> = sites.signal.iter().map(|b| b.sites).collect();
    assert_eq!(bands, [1, 0, 1, 1]);
    let without: Vec<&str> = sites.without_ipv6.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        without,
        ["s2"],
        "s3's WAN was not read: not counted as without"
    );
    let b2 = &sites.cells[0];
    assert_eq!(
        (
            b2.cell.as_deref(),
            b2.sites,
            b2.unhealthy,
            b2.worst,
            b2.median_rsrp_dbm
        ),
        (Some("B2"), 2, 2, SiteState::Critical, Some(-100.0))
    );
}

#[test]
fn one_agency_s_report_has_only_its_hosts_sites_and_trend() {
    let mut options = fixture::options(Lang::Vi);
    options.agency = Some("dict".into());
    let report = ProgressReport::build(&fixture::snapshot(), &options);
    assert_eq!((report.city.hosts, report.city.ready), (3, 2));
    assert_eq!(report.agencies.len(), 1);
    assert_eq!(report.agencies[0].name, "Sở Thông tin và Truyền thông");
    assert_eq!(report.sites.sites, 2);
    let ready: Vec<usize> = report.trend.points.iter().map(|p| p.ready).collect();
    assert_eq!(ready, [0, 1, 2]);
}

#[test]
fn warnings_hold_as_the_grading_reads_them_and_a_regression_is_a_blocker() {
    use serde_json::json;
    use sixfive_inventory::results::Status;
    use sixfive_inventory::store::Failure;
    let mut snapshot = fixture::snapshot();
    // a fell from L2 to BROKEN (its grade regressed; its failing dns.ptr gates L4).
    let a = host(&mut snapshot, "a.dict.city.example");
    let grade = a.grade.as_mut().unwrap();
    (grade.level, grade.regressed) = (Level::Broken, true);
    // d's DNSSEC is insecure: a warning, which holds at L4 and not below.
    host(&mut snapshot, "d.health.city.example")
        .failing
        .push(Failure {
            check: "dns.dnssec".into(),
            status: Status::Warn,
            detail: "insecure".into(),
            evidence: json!({}),
        });
    let report = ProgressReport::build(&snapshot, &fixture::options(Lang::En));
    let blocked = |cause: Cause| {
        (report.blockers.iter())
            .find(|b| b.cause == cause)
            .map(|b| b.hosts.clone())
            .unwrap_or_default()
    };
    assert_eq!(blocked(Cause::Regressed), ["a.dict.city.example"]);
    // b's parity warning holds it at L1; i's tls.v6 warning does not hold below L4.
    assert_eq!(blocked(Cause::ContentDiffers), ["b.dict.city.example"]);
    assert!(blocked(Cause::TlsInvalidV6) == ["h.edu.city.example"]);
    assert!(blocked(Cause::DnssecInvalid).is_empty(), "d is ready at L2");
    let mut options = fixture::options(Lang::En);
    options.require = Level::L4;
    let strict = ProgressReport::build(&snapshot, &options);
    let dnssec = strict
        .blockers
        .iter()
        .find(|b| b.cause == Cause::DnssecInvalid)
        .unwrap();
    assert_eq!(dnssec.hosts, ["d.health.city.example"]);
    let tls = strict
        .blockers
        .iter()
        .find(|b| b.cause == Cause::TlsInvalidV6)
        .unwrap();
    assert_eq!(
        tls.hosts,
        ["h.edu.city.example", "i.edu.city.example"],
        "every warning holds at L4"
    );
}

fn host<'a>(
    snapshot: &'a mut sixfive_inventory::store::ReportSnapshot,
    fqdn: &str,
) -> &'a mut sixfive_inventory::store::ReportHost {
    let at = snapshot
        .hosts
        .iter()
        .position(|h| h.host.fqdn == fqdn)
        .unwrap();
    &mut snapshot.hosts[at]
}

#[test]
fn an_undecided_check_holds_and_lifts_nothing_alone_and_broken_is_blocked_at_any_level() {
    use serde_json::json;
    use sixfive_inventory::results::Status;
    use sixfive_inventory::store::Failure;
    let mut snapshot = fixture::snapshot();
    // i (L1) is held by its redirect; an undecided tls.v6 holds it at L1 as well.
    host(&mut snapshot, "i.edu.city.example")
        .failing
        .push(Failure {
            check: "tls.v6".into(),
            status: Status::Error,
            detail: "timed out".into(),
            evidence: json!({}),
        });
    let report = ProgressReport::build(&snapshot, &fixture::options(Lang::En));
    let undecided = report
        .blockers
        .iter()
        .find(|b| b.cause == Cause::Undecided)
        .unwrap();
    assert_eq!(undecided.hosts, ["i.edu.city.example"]);
    let redirect = (report.fixes.iter())
        .find(|f| f.target.cause == Cause::RedirectToV4Only)
        .unwrap();
    assert_eq!(
        (redirect.lifts, redirect.hosts.len()),
        (0, 2),
        "neither h nor i alone"
    );
    // Asked only for L0, the broken host f is still held by its broken IPv6 service.
    let mut options = fixture::options(Lang::En);
    options.require = Level::L0;
    let any = ProgressReport::build(&snapshot, &options);
    let broken = any
        .blockers
        .iter()
        .find(|b| b.cause == Cause::AaaaBroken)
        .unwrap();
    assert_eq!(broken.hosts, ["f.health.city.example"]);
}
