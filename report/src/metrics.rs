//! The agent's `/metrics` page: a [`MetricsSnapshot`] read from the store, encoded as
//! OpenMetrics text with prometheus-client, named as agent.md's Metrics table names them.
//! Serving it, and counting probes as they happen, is the agent's work, not this module's.
//!
//! Base units as Prometheus wants them: seconds (the store keeps milliseconds), ratios, and
//! dBm and dB for radio. A value the store does not know has no series at all, never a 0
//! that a dashboard would draw as a reading: a host never graded has no level, a site
//! whose modem did not say its RSRP has no RSRP.
//!
//! The page is written straight from the snapshot by a [`Collector`], in the snapshot's
//! order: filling prometheus-client's `Family` maps first copied every label into a hash
//! map per series and took half a second for 100,000 hosts, half the scrape's budget.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveTime;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeGaugeValue, EncodeLabelSet, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use sixfive_inventory::model::Level;
use sixfive_inventory::results::{Family as IpFamily, PerFamily, SiteState, Status};
use sixfive_inventory::store::metrics::MetricsSnapshot;

/// What the page holds beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsOptions {
    /// A series per host, check and family (`--metrics-per-check`): a big city's
    /// 100,000 hosts make millions, so only when asked for.
    pub per_check: bool,
}

/// The technology label of the NR values a modem reports beside its LTE anchor's (5G NSA).
const NR: &str = "NR";
/// The technology label of radio values from a modem that did not say its technology.
const UNKNOWN_TECH: &str = "unknown";

/// The page: every metric of agent.md's table the store can answer, then `# EOF`.
pub fn open_metrics(snapshot: Arc<MetricsSnapshot>, options: &MetricsOptions) -> String {
    let mut registry = Registry::with_prefix("sixfive");
    registry.register_collector(Box::new(Page {
        snapshot,
        options: *options,
    }));
    let mut page = String::new();
    prometheus_client::encoding::text::encode(&mut page, &registry)
        .expect("writing to a String cannot fail");
    page
}

/// Writes the page from a snapshot on each encoding (the registry keeps it, hence the Arc).
#[derive(Debug)]
struct Page {
    snapshot: Arc<MetricsSnapshot>,
    options: MetricsOptions,
}

impl Collector for Page {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let snapshot = &*self.snapshot;
        hosts(&mut encoder, snapshot)?;
        agencies(&mut encoder, snapshot)?;
        sites(&mut encoder, snapshot)?;
        runs(&mut encoder, snapshot)?;
        probes(&mut encoder, snapshot)?;
        if self.options.per_check {
            host_checks(&mut encoder, snapshot)?;
        }
        Ok(())
    }
}

/// One gauge: its HELP, TYPE and UNIT (the unit also ends its name, as OpenMetrics
/// wants), then a sample per labels and value; nothing at all without samples, as
/// prometheus-client's own families do.
fn gauge<L: EncodeLabelSet, V: EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    series: impl IntoIterator<Item = (L, V)>,
) -> fmt::Result {
    let mut series = series.into_iter().peekable();
    if series.peek().is_none() {
        return Ok(());
    }
    let mut family: MetricEncoder =
        encoder.encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
    for (labels, value) in series {
        family.encode_family(&labels)?.encode_gauge(&value)?;
    }
    Ok(())
}

/// -1 for BROKEN, then 0 to 5 for L0 to L5: worse is lower, as on the scale.
fn level_value(level: Level) -> i64 {
    match level {
        Level::Broken => -1,
        Level::L0 => 0,
        Level::L1 => 1,
        Level::L2 => 2,
        Level::L3 => 3,
        Level::L4 => 4,
        Level::L5 => 5,
    }
}

fn state_value(state: SiteState) -> i64 {
    match state {
        SiteState::Ok => 0,
        SiteState::Degraded => 1,
        SiteState::Critical => 2,
        SiteState::Unreachable => 3,
        SiteState::AuthFailed => 4,
    }
}

fn status_value(status: Status) -> i64 {
    match status {
        Status::Pass => 0,
        Status::Skip => 1,
        Status::Warn => 2,
        Status::Error => 3,
        Status::Fail => 4,
    }
}

fn hosts(encoder: &mut DescriptorEncoder, snapshot: &MetricsSnapshot) -> fmt::Result {
    let graded = || {
        snapshot.board.hosts.iter().filter_map(|line| {
            let labels = [
                ("host", line.fqdn.as_str()),
                ("agency", line.agency.as_str()),
                ("zone", line.zone.as_deref().unwrap_or_default()),
            ];
            Some((labels, line.grade.as_ref()?))
        })
    };
    gauge(
        encoder,
        "host_level",
        "The host's IPv6 readiness level in the newest complete run that graded it \
         conclusively: -1 BROKEN, 0 to 5 for L0 to L5.",
        None,
        graded().map(|(labels, grade)| (labels, level_value(grade.level))),
    )?;
    gauge(
        encoder,
        "host_score",
        "The host's readiness score in that run, 0 to 100.",
        None,
        graded().map(|(labels, grade)| (labels, i64::from(grade.score))),
    )?;
    gauge(
        encoder,
        "host_regressed",
        "1 when the host's level fell below its previous one in that run, else 0.",
        None,
        graded().map(|(labels, grade)| (labels, i64::from(grade.regressed))),
    )
}

fn agencies(encoder: &mut DescriptorEncoder, snapshot: &MetricsSnapshot) -> fmt::Result {
    // Every level of every agency, 0 where none stand: a level emptied stays on a graph.
    // Hosts never graded count too, at `none`: an agency with none graded yet is 0 ready
    // of its hosts, not 0 of 0.
    const NONE: &str = "none";
    let mut counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for agency in &snapshot.board.agencies {
        for level in Level::ALL.iter().map(|l| l.as_str()).chain([NONE]) {
            counts.insert((agency.id.as_str(), level), 0);
        }
    }
    for line in &snapshot.board.hosts {
        let level = line
            .grade
            .as_ref()
            .map_or(NONE, |grade| grade.level.as_str());
        *counts.entry((line.agency.as_str(), level)).or_default() += 1;
    }
    gauge(
        encoder,
        "agency_hosts",
        "The agency's hosts at each level (BROKEN, L0 to L5), and those never graded at none.",
        None,
        counts
            .into_iter()
            .map(|((agency, level), hosts)| ([("agency", agency), ("level", level)], hosts)),
    )?;
    gauge(
        encoder,
        "agency_target_timestamp",
        "The agency's target date for IPv6 readiness, as 00:00 UTC of that day.",
        Some(Unit::Seconds),
        snapshot.board.agencies.iter().filter_map(|agency| {
            let at = agency
                .target?
                .and_time(NaiveTime::MIN)
                .and_utc()
                .timestamp();
            Some(([("agency", agency.id.as_str())], at))
        }),
    )?;
    gauge(
        encoder,
        "check_hosts",
        "The agency's hosts by their verdict on a check: the worst status among the \
         check's current results for the host.",
        None,
        snapshot.check_counts.iter().map(|count| {
            let labels = [
                ("agency", count.agency.as_str()),
                ("check", count.check.as_str()),
                ("status", count.status.as_str()),
            ];
            (labels, count.hosts)
        }),
    )
}

fn sites(encoder: &mut DescriptorEncoder, snapshot: &MetricsSnapshot) -> fmt::Result {
    let polled = || {
        snapshot
            .board
            .sites
            .iter()
            .filter_map(|line| Some((line, line.latest.as_ref()?)))
    };
    gauge(
        encoder,
        "site_state",
        "The site's state at its latest poll: 0 ok, 1 degraded, 2 critical, 3 unreachable, \
         4 auth_failed.",
        None,
        polled().map(|(line, report)| {
            let labels = [
                ("site", line.id.as_str()),
                ("agency", line.agency.as_str()),
                ("zone", line.zone.as_deref().unwrap_or_default()),
            ];
            (labels, state_value(report.state))
        }),
    )?;
    // RSRP, RSRQ and SINR: the values a poll read, under the technology the modem named,
    // then the NR leg's beside an LTE anchor.
    let readings = [
        ("site_rsrp", "RSRP", "dbm"),
        ("site_rsrq", "RSRQ", "db"),
        ("site_sinr", "SINR", "db"),
    ];
    for (reading, (name, what, unit)) in readings.into_iter().enumerate() {
        let help = format!(
            "The site's {what} at its latest poll, by technology as the modem names it \
             (NR for the NR leg beside an LTE anchor, unknown when unnamed); absent when not \
             read."
        );
        let series = polled().flat_map(|(line, report)| {
            let radio = &report.radio;
            let tech = radio.technology.as_deref().unwrap_or(UNKNOWN_TECH);
            let anchor = [radio.rsrp_dbm, radio.rsrq_db, radio.sinr_db][reading];
            let nr = [radio.nr_rsrp_dbm, radio.nr_rsrq_db, radio.nr_sinr_db][reading];
            [(tech, anchor), (NR, nr)]
                .into_iter()
                .filter_map(move |(tech, value)| {
                    Some(([("site", line.id.as_str()), ("tech", tech)], value?))
                })
        });
        gauge(
            encoder,
            name,
            &help,
            Some(Unit::Other(unit.to_owned())),
            series,
        )?;
    }
    gauge(
        encoder,
        "site_uplink_up",
        "1 when the site's uplink interface was up (or dormant, an idle modem) at its latest poll, 0 when it was down; absent when its status says neither.",
        None,
        polled().filter_map(|(line, report)| {
            let up = report.uplink.is_up()?;
            Some(([("site", line.id.as_str())], i64::from(up)))
        }),
    )?;
    gauge(
        encoder,
        "site_latency",
        "The site's ICMP round trip at its latest poll, per address family.",
        Some(Unit::Seconds),
        polled().flat_map(|(line, report)| {
            per_family(report.latency_ms).map(|(family, ms)| {
                (
                    [("site", line.id.as_str()), ("family", family.as_str())],
                    ms / 1e3,
                )
            })
        }),
    )?;
    gauge(
        encoder,
        "site_loss",
        "The share of the site's ICMP echoes lost at its latest poll, 0 to 1, per address \
         family.",
        Some(Unit::Other("ratio".to_owned())),
        polled().flat_map(|(line, report)| {
            per_family(report.loss).map(|(family, loss)| {
                (
                    [("site", line.id.as_str()), ("family", family.as_str())],
                    loss,
                )
            })
        }),
    )?;
    gauge(
        encoder,
        "site_wan_ipv6",
        "1 when the site's WAN interface held an IPv6 address other than link-local at its \
         latest poll, 0 when it held none.",
        None,
        polled().filter_map(|(line, report)| {
            let addresses = report.wan_ipv6.as_ref()?;
            Some((
                [("site", line.id.as_str())],
                i64::from(!addresses.is_empty()),
            ))
        }),
    )
}

/// The values a [`PerFamily`] knows, with their family.
fn per_family(values: PerFamily) -> impl Iterator<Item = (IpFamily, f64)> {
    [(IpFamily::V6, values.v6), (IpFamily::V4, values.v4)]
        .into_iter()
        .filter_map(|(family, value)| Some((family, value?)))
}

fn runs(encoder: &mut DescriptorEncoder, snapshot: &MetricsSnapshot) -> fmt::Result {
    let kind = |run: &sixfive_inventory::store::metrics::RunStat| [("kind", run.kind.as_str())];
    gauge(
        encoder,
        "run_duration",
        "How long the last complete run of the kind took.",
        Some(Unit::Seconds),
        snapshot
            .runs
            .iter()
            .map(|run| (kind(run), run.duration().as_seconds_f64())),
    )?;
    gauge(
        encoder,
        "last_complete_run_timestamp",
        "When the last complete run of the kind finished.",
        Some(Unit::Seconds),
        snapshot
            .runs
            .iter()
            .map(|run| (kind(run), run.finished_at.timestamp_micros() as f64 / 1e6)),
    )
}

/// The agent's probes, a counter per kind, family and outcome (none on a page without them).
fn probes(encoder: &mut DescriptorEncoder, snapshot: &MetricsSnapshot) -> fmt::Result {
    if snapshot.probes.is_empty() {
        return Ok(());
    }
    let mut family = encoder.encode_descriptor(
        "probes",
        "Probes this agent sent since it started, by kind (dns, tcp, http, smtp, icmp, snmp), \
         family and outcome (ok, failed, timeout, not_sent: out of scope or unsendable).",
        None,
        MetricType::Counter,
    )?;
    for count in &snapshot.probes {
        let labels = [
            ("kind", count.kind),
            ("family", count.family),
            ("outcome", count.outcome),
        ];
        family
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(&count.probes, None)?;
    }
    Ok(())
}

fn host_checks(encoder: &mut DescriptorEncoder, snapshot: &MetricsSnapshot) -> fmt::Result {
    gauge(
        encoder,
        "host_check",
        "The host's verdict on a check, the worst status among its current results for \
         the family (empty for results about neither): 0 pass, 1 skip, 2 warn, 3 error, \
         4 fail.",
        None,
        snapshot.host_checks.iter().flatten().map(|check| {
            let labels = [
                ("host", check.host.as_str()),
                ("check", check.check.as_str()),
                ("family", check.family.map_or("", IpFamily::as_str)),
            ];
            (labels, status_value(check.status))
        }),
    )
}

#[cfg(test)]
#[path = "../../tests/common/skip.rs"]
mod skip;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{TimeZone, Utc};
    use openmetrics_parser::{MetricNumber, OpenMetricsValue};
    use serde_json::json;
    use sixfive_inventory::model::{Agency, Stage};
    use sixfive_inventory::results::SiteReport;
    use sixfive_inventory::store::metrics::{CheckCount, HostCheck, RunStat};
    use sixfive_inventory::store::{Board, Grade, HostLine, RunKind, SiteLine};

    use super::*;

    /// A page read back by a parser of the OpenMetrics grammar: each sample's value by
    /// metric name and labels.
    type Samples = BTreeMap<(String, BTreeMap<String, String>), f64>;

    fn parse(page: &str) -> Samples {
        let exposition = openmetrics_parser::openmetrics::parse_openmetrics(page)
            .unwrap_or_else(|e| panic!("not OpenMetrics: {e:?}\n{page}"));
        let mut samples = Samples::new();
        for (name, family) in exposition.families {
            for sample in family.iter_samples() {
                // A counter's sample is its family's name and `_total`.
                let (name, value) = match &sample.value {
                    OpenMetricsValue::Gauge(value) => (name.clone(), value),
                    OpenMetricsValue::Counter(counter) => (format!("{name}_total"), &counter.value),
                    _ => panic!("{name} is neither a gauge nor a counter"),
                };
                let value = match value {
                    MetricNumber::Float(f) => *f,
                    MetricNumber::Int(i) => *i as f64,
                };
                let labels = sample.get_labelset().unwrap();
                let labels = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                samples.insert((name, labels), value);
            }
        }
        samples
    }

    fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        samples.get(&(name.to_owned(), labels)).copied()
    }

    fn names(samples: &Samples, name: &str) -> usize {
        samples.keys().filter(|(n, _)| n == name).count()
    }

    fn host(fqdn: &str, agency: &str, grade: Option<(Level, u8, bool)>) -> HostLine {
        HostLine {
            fqdn: fqdn.into(),
            agency: agency.into(),
            stage: Stage::InProgress,
            owner: None,
            zone: Some("dc".into()),
            tags: Vec::new(),
            grade: grade.map(|(level, score, regressed)| Grade {
                level,
                score,
                regressed,
                run: 7,
                at: None,
            }),
            failing: Vec::new(),
        }
    }

    /// A 5G NSA router that said its RSRP and SINR, not its RSRQ, with a down uplink, no
    /// IPv6 on its WAN, and ICMP over IPv6 only.
    fn report() -> SiteReport {
        serde_json::from_value(json!({
            "id": "hai-chau-01", "state": "degraded", "reasons": [], "polled_via": "v6",
            "address": "fd00:5c::20", "profile": "teltonika-rutx", "system": {},
            "radio": {"technology": "5G-NSA", "rsrp_dbm": -95.0, "sinr_db": 8.5,
                      "nr_rsrp_dbm": -101.0},
            "uplink": {"oper_status": "lowerLayerDown"}, "uptime_s": 4200, "rebooted": false,
            "wan_ipv6": [], "latency_ms": {"v6": 12.5}, "jitter_ms": {},
            "loss": {"v6": 0.25}, "quality": {}, "polled_at": "2026-12-03T00:00:00Z",
            "took_ms": 1.0
        }))
        .unwrap()
    }

    fn snapshot(agency: &str, fqdn: &str) -> MetricsSnapshot {
        let site = |id: &str, latest| SiteLine {
            id: id.into(),
            name: id.into(),
            agency: agency.into(),
            zone: Some("dc".into()),
            latest,
            rsrp_history: Vec::new(),
        };
        let finished = Utc.with_ymd_and_hms(2026, 12, 3, 1, 0, 0).unwrap();
        MetricsSnapshot {
            board: Board {
                agencies: vec![Agency {
                    id: agency.into(),
                    name: "Sở".into(),
                    name_vi: None,
                    target: Some("2027-06-30".parse().unwrap()),
                }],
                hosts: vec![
                    host(fqdn, agency, Some((Level::Broken, 10, true))),
                    host("b.danang.test", agency, Some((Level::L5, 100, false))),
                    host("never.danang.test", agency, None),
                ],
                sites: vec![site("hai-chau-01", Some(report())), site("silent", None)],
                ..Board::default()
            },
            check_counts: vec![CheckCount {
                agency: agency.into(),
                check: "tcp.v6".into(),
                status: Status::Fail,
                hosts: 2,
            }],
            runs: vec![RunStat {
                run: 7,
                kind: RunKind::Hosts,
                started_at: finished - chrono::Duration::milliseconds(8_250),
                finished_at: finished,
            }],
            host_checks: Some(vec![HostCheck {
                host: fqdn.into(),
                check: "tcp.v6".into(),
                family: Some(IpFamily::V6),
                status: Status::Fail,
            }]),
            probes: vec![sixfive_inventory::store::metrics::ProbeCount {
                kind: "dns",
                family: "v6",
                outcome: "timeout",
                probes: 7,
            }],
        }
    }

    #[test]
    fn the_page_names_values_and_labels_as_the_contract_does() {
        let page = open_metrics(
            Arc::new(snapshot("dict", "a.danang.test")),
            &MetricsOptions::default(),
        );
        assert!(page.ends_with("# EOF\n"), "{page}");
        let samples = parse(&page);
        assert_eq!(
            value(
                &samples,
                "sixfive_probes_total",
                &[("kind", "dns"), ("family", "v6"), ("outcome", "timeout")]
            ),
            Some(7.0)
        );
        assert!(page.contains("# TYPE sixfive_probes counter"), "{page}");
        let host = |fqdn| [("host", fqdn), ("agency", "dict"), ("zone", "dc")];
        let a = host("a.danang.test");
        assert_eq!(
            value(&samples, "sixfive_host_level", &a),
            Some(-1.0),
            "BROKEN"
        );
        assert_eq!(value(&samples, "sixfive_host_score", &a), Some(10.0));
        assert_eq!(value(&samples, "sixfive_host_regressed", &a), Some(1.0));
        let b = host("b.danang.test");
        assert_eq!(value(&samples, "sixfive_host_level", &b), Some(5.0));
        assert_eq!(value(&samples, "sixfive_host_regressed", &b), Some(0.0));
        for name in [
            "sixfive_host_level",
            "sixfive_host_score",
            "sixfive_host_regressed",
        ] {
            assert_eq!(
                names(&samples, name),
                2,
                "{name}: a host never graded has none"
            );
        }
        let level = |level| [("agency", "dict"), ("level", level)];
        assert_eq!(
            value(&samples, "sixfive_agency_hosts", &level("BROKEN")),
            Some(1.0)
        );
        assert_eq!(
            value(&samples, "sixfive_agency_hosts", &level("L5")),
            Some(1.0)
        );
        assert_eq!(
            value(&samples, "sixfive_agency_hosts", &level("L2")),
            Some(0.0)
        );
        assert_eq!(
            value(&samples, "sixfive_agency_hosts", &level("none")),
            Some(1.0),
            "the host never graded"
        );
        assert_eq!(names(&samples, "sixfive_agency_hosts"), 8);
        let target = Utc
            .with_ymd_and_hms(2027, 6, 30, 0, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(
            value(
                &samples,
                "sixfive_agency_target_timestamp_seconds",
                &[("agency", "dict")]
            ),
            Some(target as f64)
        );
        assert_eq!(
            value(
                &samples,
                "sixfive_check_hosts",
                &[("agency", "dict"), ("check", "tcp.v6"), ("status", "fail")]
            ),
            Some(2.0)
        );
        let kind = [("kind", "hosts")];
        assert_eq!(
            value(&samples, "sixfive_run_duration_seconds", &kind),
            Some(8.25)
        );
        let finished = Utc
            .with_ymd_and_hms(2026, 12, 3, 1, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(
            value(
                &samples,
                "sixfive_last_complete_run_timestamp_seconds",
                &kind
            ),
            Some(finished as f64)
        );
    }

    #[test]
    fn a_sites_latest_poll_is_in_base_units_and_unknown_values_have_no_series() {
        let page = open_metrics(
            Arc::new(snapshot("dict", "a.danang.test")),
            &MetricsOptions::default(),
        );
        let samples = parse(&page);
        let site = [("site", "hai-chau-01")];
        assert_eq!(
            value(
                &samples,
                "sixfive_site_state",
                &[("site", "hai-chau-01"), ("agency", "dict"), ("zone", "dc")]
            ),
            Some(1.0),
            "degraded"
        );
        assert_eq!(
            names(&samples, "sixfive_site_state"),
            1,
            "a site never polled has none"
        );
        let tech = |tech| [("site", "hai-chau-01"), ("tech", tech)];
        assert_eq!(
            value(&samples, "sixfive_site_rsrp_dbm", &tech("5G-NSA")),
            Some(-95.0)
        );
        assert_eq!(
            value(&samples, "sixfive_site_rsrp_dbm", &tech("NR")),
            Some(-101.0)
        );
        assert_eq!(
            value(&samples, "sixfive_site_sinr_db", &tech("5G-NSA")),
            Some(8.5)
        );
        assert_eq!(names(&samples, "sixfive_site_sinr_db"), 1);
        assert_eq!(
            names(&samples, "sixfive_site_rsrq_db"),
            0,
            "unknown RSRQ is absent, not 0"
        );
        assert_eq!(value(&samples, "sixfive_site_uplink_up", &site), Some(0.0));
        assert_eq!(value(&samples, "sixfive_site_wan_ipv6", &site), Some(0.0));
        let family = |family| [("site", "hai-chau-01"), ("family", family)];
        assert_eq!(
            value(&samples, "sixfive_site_latency_seconds", &family("v6")),
            Some(0.0125),
            "milliseconds become seconds"
        );
        assert_eq!(
            value(&samples, "sixfive_site_loss_ratio", &family("v6")),
            Some(0.25)
        );
        assert_eq!(
            names(&samples, "sixfive_site_latency_seconds"),
            1,
            "no IPv4 measured"
        );
        assert!(
            page.contains("# UNIT sixfive_site_latency_seconds seconds\n"),
            "{page}"
        );
    }

    #[test]
    fn label_values_with_quotes_backslashes_and_newlines_read_back_as_they_were() {
        let agency = "dict \"IT\"\\ops\nteam";
        let fqdn = "odd\"host\\\n.danang.test";
        let page = open_metrics(
            Arc::new(snapshot(agency, fqdn)),
            &MetricsOptions { per_check: true },
        );
        assert!(
            page.contains(r#"agency="dict \"IT\"\\ops\nteam""#),
            "{page}"
        );
        let samples = parse(&page);
        let labels = [("host", fqdn), ("agency", agency), ("zone", "dc")];
        assert_eq!(value(&samples, "sixfive_host_level", &labels), Some(-1.0));
        let check = [("host", fqdn), ("check", "tcp.v6"), ("family", "v6")];
        assert_eq!(
            value(&samples, "sixfive_host_check", &check),
            Some(4.0),
            "fail"
        );
    }

    #[test]
    fn per_check_series_come_only_when_asked_for() {
        let snapshot = Arc::new(snapshot("dict", "a.danang.test"));
        let without = parse(&open_metrics(snapshot.clone(), &MetricsOptions::default()));
        assert_eq!(names(&without, "sixfive_host_check"), 0);
        let with = parse(&open_metrics(snapshot, &MetricsOptions { per_check: true }));
        assert_eq!(names(&with, "sixfive_host_check"), 1);
    }

    /// Prometheus' own linter, where it is installed (Debian's `prometheus` package).
    #[test]
    fn promtool_finds_nothing_to_say() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let page = open_metrics(
            Arc::new(snapshot("dict", "a.danang.test")),
            &MetricsOptions { per_check: true },
        );
        let Ok(mut promtool) = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        else {
            skip::skip("no promtool: tests/lab/install installs it (Debian's prometheus)");
            return;
        };
        promtool
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let out = promtool.wait_with_output().unwrap();
        // promtool lints the classic text format, where a counter's HELP names its sample
        // (`x_total`); OpenMetrics names the family (`x`), as Prometheus reads the page. That
        // one remark is the formats', not the page's.
        let counters: Vec<String> = (page.lines())
            .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
            .map(|family| format!("{family}_total no help text"))
            .collect();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let remarks: Vec<&str> = (said.lines())
            .filter(|l| !l.trim().is_empty() && !counters.iter().any(|c| l.contains(c.as_str())))
            .collect();
        assert!(!counters.is_empty(), "the page has a counter: {page}");
        assert!(remarks.is_empty(), "{said}");
    }
}
