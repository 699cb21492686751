//! The managers' report (`sixfive.report/v1`): the migration's progress city-wide and per
//! agency, what blocks it and the fixes that unblock the most, the sites' health, the
//! trend against the target, and every host. Computed once from a [`ReportSnapshot`] (the
//! store as it stood at a moment, never a scan); each format is a writer over it.

pub mod causes;
pub mod csv;
pub mod html;
pub mod i18n;
pub mod markdown;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use sixfive_inventory::model::{Level, Stage, holds_back};
use sixfive_inventory::results::{SiteState, Status};
use sixfive_inventory::store::{ReportSnapshot, RunLevels};
use sixfive_inventory::{Store, StoreError};

use causes::{Cause, FixTarget};
pub use i18n::Lang;

pub const SCHEMA: &str = "sixfive.report/v1";

/// The days a report measures its change over unless told a date: a month, the steering
/// board's cycle.
pub const PERIOD_DAYS: u64 = 30;

/// A date's end (UTC), to the microsecond (PostgreSQL's finest; SQLite's nanoseconds
/// within the day's last microsecond are left out): a report `--at` a day, or its change
/// since one, counts what the store held at its end.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    let last = chrono::NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999).expect("a valid time");
    date.and_time(last).and_utc()
}

/// What a report reads from the store ([`read`]).
pub struct StoreRead {
    /// The store at the end of the day asked for, or now.
    pub snapshot: ReportSnapshot,
    /// The date the change is measured from.
    pub since: NaiveDate,
    /// Hosts per agency in the inventory at the end of `since`.
    pub hosts_since: BTreeMap<String, usize>,
}

/// Reads what a report is made of: the store as it stood at the end of `at` (None: now),
/// and its hosts on `since` (None: [`PERIOD_DAYS`] before `at` or today). `sixfive report`,
/// the UI's `x` and the bench all read through it.
pub async fn read(
    store: &Store,
    at: Option<NaiveDate>,
    since: Option<NaiveDate>,
) -> Result<StoreRead, StoreError> {
    let day = at.unwrap_or_else(|| Utc::now().date_naive());
    let since = since.unwrap_or_else(|| day - chrono::Days::new(PERIOD_DAYS));
    Ok(StoreRead {
        snapshot: store.report_snapshot(at.map(end_of_day)).await?,
        since,
        hosts_since: store.hosts_per_agency_at(end_of_day(since)).await?,
    })
}

impl StoreRead {
    /// The options of a report on what was read.
    pub fn options(&self, lang: Lang, require: Level, agency: Option<String>) -> ReportOptions {
        ReportOptions {
            lang,
            require,
            agency,
            since: self.since,
            hosts_since: self.hosts_since.clone(),
            generated_at: Utc::now(),
        }
    }
}

/// How far back the outlook's line is fitted: recent pace, not the pace of a year ago.
pub const PROJECTION_DAYS: i64 = 90;

/// Fixes listed: the rest are a long tail of one host each.
pub const FIXES_SHOWN: usize = 20;
/// Sites listed as worst.
pub const WORST_SITES: usize = 10;

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub lang: Lang,
    /// The level that counts as ready (the inventory's `scan.require`).
    pub require: Level,
    /// One agency's report; None for the city.
    pub agency: Option<String>,
    /// The date the change is measured from.
    pub since: NaiveDate,
    /// Hosts per agency in the inventory at the end of `since` (`Store::hosts_per_agency_at`):
    /// what the share ready then is of. Empty when unknown: then the hosts graded then.
    pub hosts_since: BTreeMap<String, usize>,
    pub generated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ProgressReport {
    /// `sixfive.report/v1`.
    pub schema: String,
    pub lang: Lang,
    pub generated_at: DateTime<Utc>,
    /// The moment the store is reported as it stood (`--at`, else when it was read).
    pub at: DateTime<Utc>,
    pub since: NaiveDate,
    pub require: Level,
    /// The agency reported on, when the report is one agency's.
    pub agency: Option<String>,
    pub city: Progress,
    /// Hosts per level, worst first; hosts no run graded are `not_graded`.
    pub levels: Vec<LevelCount>,
    pub not_graded: usize,
    pub agencies: Vec<AgencyProgress>,
    /// Causes keeping hosts below the target level, most hosts first.
    pub blockers: Vec<Blocker>,
    /// What to fix, ranked by how many hosts it would lift a level.
    pub fixes: Vec<Fix>,
    pub sites: SiteHealth,
    pub trend: Trend,
    /// Every host, in fqdn order.
    pub hosts: Vec<HostRow>,
}

/// Hosts ready against hosts in scope, now and on the `since` date.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Progress {
    pub hosts: usize,
    pub ready: usize,
    /// `ready / hosts`, 0–1; None without hosts.
    pub share: Option<f64>,
    /// As the trend stood on the `since` date (its last point on or before it); None when
    /// no run had graded hosts by then.
    pub then: Option<Then>,
}

/// The trend's last point on or before the `since` date.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Then {
    pub date: NaiveDate,
    /// Hosts in the inventory at the end of `since`; None when not known.
    pub hosts: Option<usize>,
    pub graded: usize,
    pub ready: usize,
    /// `ready / hosts` (as today's share is of today's hosts), else `ready / graded`.
    pub share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LevelCount {
    pub level: Level,
    pub hosts: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outlook {
    /// Every host ready.
    Done,
    /// At its recent pace, ready by the target date.
    OnTrack,
    /// At its recent pace, not ready by the target date, or no progress.
    AtRisk,
    /// Past the target date and not done.
    Late,
    /// Fewer than two days of runs: nothing to project from.
    NoTrend,
    NoTarget,
}

impl Outlook {
    pub fn id(self) -> &'static str {
        match self {
            Outlook::Done => "done",
            Outlook::OnTrack => "on_track",
            Outlook::AtRisk => "at_risk",
            Outlook::Late => "late",
            Outlook::NoTrend => "no_trend",
            Outlook::NoTarget => "no_target",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgencyProgress {
    pub id: String,
    /// In the report's language: `name_vi` in Vietnamese where the inventory has it.
    pub name: String,
    pub progress: Progress,
    pub levels: Vec<LevelCount>,
    pub not_graded: usize,
    pub target: Option<NaiveDate>,
    pub outlook: Outlook,
    /// When every host would be ready at the recent pace; None without progress.
    pub projected: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Blocker {
    pub cause: Cause,
    /// The hosts below the target level that this cause holds back, in fqdn order.
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Fix {
    #[serde(flatten)]
    pub target: FixTarget,
    /// Hosts this fix alone would lift at least a level (it is all that holds them at
    /// their level).
    pub lifts: usize,
    /// Hosts whose next level this fix is part of, in fqdn order.
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SiteHealth {
    pub sites: usize,
    pub not_polled: usize,
    /// Sites per state, best first.
    pub states: Vec<StateCount>,
    /// The worst sites: by state, then weakest signal.
    pub worst: Vec<SiteRow>,
    /// Polled sites per RSRP band (sites.md's radio quality), best first.
    pub signal: Vec<SignalBand>,
    /// Polled sites whose WAN has no IPv6 address.
    pub without_ipv6: Vec<SiteRow>,
    /// Sites per operator and cell, worst first, so a bad cell stands out.
    pub cells: Vec<CellGroup>,
    /// Every site, in id order.
    pub all: Vec<SiteRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct StateCount {
    pub state: SiteState,
    pub sites: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SiteRow {
    pub id: String,
    pub name: String,
    pub agency: String,
    /// None before its first poll.
    pub state: Option<SiteState>,
    pub technology: Option<String>,
    pub rsrp_dbm: Option<f64>,
    pub sinr_db: Option<f64>,
    pub operator: Option<String>,
    pub cell: Option<String>,
    pub latency_v6_ms: Option<f64>,
    pub loss_v6: Option<f64>,
    /// Whether the WAN has an IPv6 address; None when not read.
    pub wan_ipv6: Option<bool>,
    pub polled_at: Option<DateTime<Utc>>,
}

/// An RSRP band: `from_dbm` inclusive, `to_dbm` exclusive; open ends are None.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SignalBand {
    pub band: &'static str,
    pub from_dbm: Option<f64>,
    pub to_dbm: Option<f64>,
    pub sites: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CellGroup {
    pub operator: Option<String>,
    pub cell: Option<String>,
    pub sites: usize,
    pub worst: SiteState,
    /// Not ok (degraded, critical, unreachable, auth failed).
    pub unhealthy: usize,
    pub median_rsrp_dbm: Option<f64>,
}

/// The burn-up: hosts ready over time against the hosts in scope and the target.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Trend {
    pub points: Vec<TrendPoint>,
    /// Hosts in scope now: the burn-up's ceiling.
    pub scope: usize,
    /// The date every host is due: the latest agency target in the report.
    pub target: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TrendPoint {
    pub date: NaiveDate,
    /// Hosts graded then.
    pub graded: usize,
    pub ready: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HostRow {
    pub fqdn: String,
    pub agency: String,
    pub stage: Stage,
    pub zone: Option<String>,
    pub level: Option<Level>,
    pub score: Option<u8>,
    pub ready: bool,
    /// The host's own target date, else its agency's.
    pub target: Option<NaiveDate>,
    pub graded_at: Option<DateTime<Utc>>,
    /// Checks failed in the grade's run, once each, in id order.
    pub failing: Vec<String>,
    /// What keeps it below the target level, if it is.
    pub blockers: Vec<Cause>,
}

/// Agencies' names by id ([`ProgressReport::agency_names`]).
pub struct AgencyNames<'a>(HashMap<&'a str, &'a str>);

impl<'a> AgencyNames<'a> {
    /// The agency's name; its id when the report has no such agency.
    pub fn of(&self, id: &'a str) -> &'a str {
        self.0.get(id).copied().unwrap_or(id)
    }
}

impl Progress {
    /// The share now less the share then (fractions of 1); None without both.
    pub fn change(&self) -> Option<f64> {
        Some(self.share? - self.then.as_ref()?.share?)
    }
}

fn share(ready: usize, hosts: usize) -> Option<f64> {
    (hosts > 0).then(|| ready as f64 / hosts as f64)
}

fn ready_in(levels: &BTreeMap<Level, usize>, require: Level) -> usize {
    levels.range(require..).map(|(_, n)| n).sum()
}

fn level_counts(levels: &BTreeMap<Level, usize>) -> Vec<LevelCount> {
    Level::ALL
        .iter()
        .map(|level| LevelCount {
            level: *level,
            hosts: levels.get(level).copied().unwrap_or(0),
        })
        .collect()
}

/// A day's level counts, city-wide or for one agency.
struct DayLevels {
    date: NaiveDate,
    levels: BTreeMap<Level, usize>,
}

/// The snapshot's trend as one point a day, for all agencies in `agencies` together.
fn daily(trend: &[RunLevels], agencies: &BTreeSet<&str>) -> Vec<DayLevels> {
    let mut days: Vec<DayLevels> = Vec::new();
    for run in trend {
        let Some(date) = run.finished_at.map(|at| at.date_naive()) else {
            continue;
        };
        let mut levels = BTreeMap::new();
        for (agency, counts) in &run.by_agency {
            if agencies.contains(agency.as_str()) {
                for (level, n) in counts {
                    *levels.entry(*level).or_default() += n;
                }
            }
        }
        // The store gives a day's last run; two runs of one day keep the later.
        match days.last_mut() {
            Some(last) if last.date == date => last.levels = levels,
            _ => days.push(DayLevels { date, levels }),
        }
    }
    days
}

fn then(
    days: &[DayLevels],
    since: NaiveDate,
    require: Level,
    hosts: Option<usize>,
) -> Option<Then> {
    let day = days.iter().rev().find(|day| day.date <= since)?;
    let graded = day.levels.values().sum();
    let ready = ready_in(&day.levels, require);
    Some(Then {
        date: day.date,
        hosts,
        graded,
        ready,
        // The hosts are counted at `since`, the grades at the trend's day before it: hosts
        // removed between the two leave the graded ones as the floor, never above 100 %.
        share: share(ready, hosts.unwrap_or(graded).max(graded)),
    })
}

/// The share ready on each day of `days`: of the hosts graded that day, so hosts added to
/// the inventory count once graded.
fn daily_shares(days: &[DayLevels], require: Level) -> Vec<(NaiveDate, f64)> {
    (days.iter())
        .filter_map(|day| {
            let share = share(ready_in(&day.levels, require), day.levels.values().sum())?;
            Some((day.date, share))
        })
        .collect()
}

/// Fits a least-squares line through the daily shares ready (`shares`, one a day) of the
/// last [`PROJECTION_DAYS`] and extends it to 100 %: on track when that date is no later
/// than the target; at risk when it is later or there is no progress. Also when every host
/// would be ready at that pace. The UI's overview and the reports share it.
pub fn outlook(
    shares: &[(NaiveDate, f64)],
    now: Option<f64>,
    target: Option<NaiveDate>,
    today: NaiveDate,
) -> (Outlook, Option<NaiveDate>) {
    let points: Vec<(f64, f64)> = (shares.iter())
        .filter(|(date, _)| (today - *date).num_days() <= PROJECTION_DAYS)
        .map(|(date, share)| ((*date - today).num_days() as f64, *share))
        .collect();
    let projected = fit(&points).and_then(|(slope, intercept)| {
        // Reaches 1.0 at x days from today.
        (slope > 0.0).then(|| {
            let x = ((1.0 - intercept) / slope).clamp(0.0, 365.0 * 100.0);
            // Less a hair for the float's error: 48.000000001 days is 48.
            today + chrono::Days::new((x - 1e-6).ceil().max(0.0) as u64)
        })
    });
    if now.is_some_and(|share| share >= 1.0) {
        return (Outlook::Done, None);
    }
    let Some(target) = target else {
        return (Outlook::NoTarget, projected);
    };
    if today > target {
        return (Outlook::Late, projected);
    }
    if points.len() < 2 {
        return (Outlook::NoTrend, None);
    }
    match projected {
        Some(date) if date <= target => (Outlook::OnTrack, projected),
        _ => (Outlook::AtRisk, projected),
    }
}

/// Least squares: (slope, intercept) of y over x; None without two distinct x.
fn fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (points.len() >= 2 && sxx > 0.0).then(|| {
        let slope = sxy / sxx;
        (slope, mean_y - slope * mean_x)
    })
}

/// RSRP bands (sites.md): excellent ≥ −80 dBm, good ≥ −90, fair ≥ −100, poor below.
const SIGNAL_BANDS: [(&str, Option<f64>, Option<f64>); 4] = [
    ("excellent", Some(-80.0), None),
    ("good", Some(-90.0), Some(-80.0)),
    ("fair", Some(-100.0), Some(-90.0)),
    ("poor", None, Some(-100.0)),
];

fn site_health(snapshot: &ReportSnapshot, agencies: &BTreeSet<&str>) -> SiteHealth {
    let all: Vec<SiteRow> = snapshot
        .sites
        .iter()
        .filter(|site| agencies.contains(site.site.agency.as_str()))
        .map(|site| {
            let latest = site.latest.as_ref();
            let radio = latest.map(|r| &r.radio);
            SiteRow {
                id: site.site.id.clone(),
                name: site.site.name.clone(),
                agency: site.site.agency.clone(),
                state: latest.map(|r| r.state),
                technology: radio.and_then(|r| r.technology.clone()),
                rsrp_dbm: radio.and_then(|r| r.rsrp_dbm),
                sinr_db: radio.and_then(|r| r.sinr_db),
                operator: radio.and_then(|r| r.operator.clone()),
                cell: radio.and_then(|r| r.cell_id.clone()),
                latency_v6_ms: latest.and_then(|r| r.latency_ms.v6),
                loss_v6: latest.and_then(|r| r.loss.v6),
                wan_ipv6: latest.and_then(|r| r.wan_ipv6.as_ref().map(|a| !a.is_empty())),
                polled_at: latest.map(|r| r.polled_at),
            }
        })
        .collect();
    let mut states: BTreeMap<SiteState, usize> = BTreeMap::new();
    for state in all.iter().filter_map(|site| site.state) {
        *states.entry(state).or_default() += 1;
    }
    let polled: Vec<&SiteRow> = all.iter().filter(|site| site.state.is_some()).collect();
    let mut worst: Vec<SiteRow> = polled
        .iter()
        .filter(|site| site.state != Some(SiteState::Ok))
        .map(|site| (*site).clone())
        .collect();
    // Worst state first, then weakest signal (unknown signal last), then id.
    worst.sort_by(|a, b| {
        b.state
            .cmp(&a.state)
            .then_with(|| {
                let rsrp = |s: &SiteRow| s.rsrp_dbm.unwrap_or(f64::INFINITY);
                rsrp(a).total_cmp(&rsrp(b))
            })
            .then_with(|| a.id.cmp(&b.id))
    });
    worst.truncate(WORST_SITES);
    let signal = SIGNAL_BANDS
        .iter()
        .map(|(band, from, to)| SignalBand {
            band,
            from_dbm: *from,
            to_dbm: *to,
            sites: polled
                .iter()
                .filter_map(|site| site.rsrp_dbm)
                .filter(|rsrp| from.is_none_or(|f| *rsrp >= f) && to.is_none_or(|t| *rsrp < t))
                .count(),
        })
        .collect();
    let without_ipv6 = polled
        .iter()
        .filter(|site| site.wan_ipv6 == Some(false))
        .map(|site| (*site).clone())
        .collect();
    let mut by_cell: BTreeMap<(Option<String>, Option<String>), Vec<&SiteRow>> = BTreeMap::new();
    for site in &polled {
        by_cell
            .entry((site.operator.clone(), site.cell.clone()))
            .or_default()
            .push(site);
    }
    let mut cells: Vec<CellGroup> = by_cell
        .into_iter()
        .map(|((operator, cell), sites)| {
            let mut rsrp: Vec<f64> = sites.iter().filter_map(|s| s.rsrp_dbm).collect();
            rsrp.sort_by(f64::total_cmp);
            CellGroup {
                operator,
                cell,
                sites: sites.len(),
                worst: sites
                    .iter()
                    .filter_map(|s| s.state)
                    .max()
                    .unwrap_or(SiteState::Ok),
                unhealthy: sites
                    .iter()
                    .filter(|s| s.state != Some(SiteState::Ok))
                    .count(),
                median_rsrp_dbm: median(&rsrp),
            }
        })
        .collect();
    cells.sort_by(|a, b| {
        b.worst
            .cmp(&a.worst)
            .then_with(|| b.unhealthy.cmp(&a.unhealthy))
            .then_with(|| {
                let rsrp = |c: &CellGroup| c.median_rsrp_dbm.unwrap_or(f64::INFINITY);
                rsrp(a).total_cmp(&rsrp(b))
            })
            .then_with(|| (&a.operator, &a.cell).cmp(&(&b.operator, &b.cell)))
    });
    SiteHealth {
        sites: all.len(),
        not_polled: all.len() - polled.len(),
        states: states
            .into_iter()
            .map(|(state, sites)| StateCount { state, sites })
            .collect(),
        worst,
        signal,
        without_ipv6,
        cells,
        all,
    }
}

fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if !n.is_multiple_of(2) => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

impl ProgressReport {
    /// Works the report out from the store as it stood.
    pub fn build(snapshot: &ReportSnapshot, options: &ReportOptions) -> Self {
        let require = options.require;
        let today = snapshot.at.date_naive();
        let in_report = |agency: &str| options.agency.as_deref().is_none_or(|a| a == agency);
        let agencies: Vec<_> = snapshot
            .agencies
            .iter()
            .filter(|agency| in_report(&agency.id))
            .collect();
        let ids: BTreeSet<&str> = agencies.iter().map(|a| a.id.as_str()).collect();
        let targets: HashMap<&str, NaiveDate> = agencies
            .iter()
            .filter_map(|a| Some((a.id.as_str(), a.target?)))
            .collect();

        let mut hosts = Vec::new();
        let mut blockers: BTreeMap<Cause, Vec<String>> = BTreeMap::new();
        // Per fix: the hosts it is part of the next level for, and those it alone lifts.
        let mut fixes: HashMap<FixTarget, (Vec<String>, usize)> = HashMap::new();
        for entry in snapshot
            .hosts
            .iter()
            .filter(|h| ids.contains(h.host.agency.as_str()))
        {
            let host = &entry.host;
            let level = entry.grade.as_ref().map(|g| g.level);
            let ready = level.is_some_and(|l| l >= require);
            let mut failing: Vec<String> = (entry.failing.iter())
                .filter(|f| f.status == Status::Fail)
                .map(|f| f.check.clone())
                .collect();
            failing.dedup();
            // The results that keep the host from `level`, as the grading reads them.
            let holding = |level: Level| {
                (entry.failing.iter()).filter(move |f| {
                    causes::gate(&f.check).is_some_and(|gate| gate <= level)
                        && holds_back(&f.check, f.status, level)
                })
            };
            let mut host_blockers: BTreeSet<Cause> = BTreeSet::new();
            match &entry.grade {
                None => {
                    host_blockers.insert(Cause::NotScanned);
                }
                Some(grade) if grade.level < require => {
                    // A broken host is held by its L1 failures whatever the level asked.
                    let asked = match grade.level {
                        Level::Broken => require.max(Level::L1),
                        _ => require,
                    };
                    host_blockers.extend(holding(asked).map(Cause::of_result));
                    if grade.regressed {
                        host_blockers.insert(Cause::Regressed);
                    }
                }
                Some(_) => {}
            }
            for cause in &host_blockers {
                blockers.entry(*cause).or_default().push(host.fqdn.clone());
            }
            if let Some(next) = level.and_then(causes::next_level) {
                let needed: BTreeSet<FixTarget> = holding(next)
                    .filter(|f| f.status != Status::Error)
                    .map(|f| causes::fix_for(&host.fqdn, f))
                    .collect();
                // A check the scan could not decide may hold the host as well: no fix
                // alone is known to lift it.
                let undecided = holding(next).any(|f| f.status == Status::Error);
                let alone = needed.len() == 1 && !undecided;
                for target in needed {
                    let fix = fixes.entry(target).or_default();
                    fix.0.push(host.fqdn.clone());
                    fix.1 += usize::from(alone);
                }
            }
            hosts.push(HostRow {
                fqdn: host.fqdn.clone(),
                agency: host.agency.clone(),
                stage: host.stage,
                zone: host.zone.clone(),
                level,
                score: entry.grade.as_ref().map(|g| g.score),
                ready,
                target: host
                    .target
                    .or_else(|| targets.get(host.agency.as_str()).copied()),
                graded_at: entry.grade.as_ref().and_then(|g| g.at),
                failing,
                blockers: host_blockers.into_iter().collect(),
            });
        }
        hosts.sort_by(|a, b| a.fqdn.cmp(&b.fqdn));

        let hosts_since = |agencies: &BTreeSet<&str>| {
            (!options.hosts_since.is_empty()).then(|| {
                (options.hosts_since.iter())
                    .filter(|(agency, _)| agencies.contains(agency.as_str()))
                    .map(|(_, hosts)| hosts)
                    .sum()
            })
        };
        let progress_of = |rows: &[&HostRow], days: &[DayLevels], agencies: &BTreeSet<&str>| {
            let ready = rows.iter().filter(|h| h.ready).count();
            Progress {
                hosts: rows.len(),
                ready,
                share: share(ready, rows.len()),
                then: then(days, options.since, require, hosts_since(agencies)),
            }
        };
        let levels_of = |rows: &[&HostRow]| {
            let mut levels: BTreeMap<Level, usize> = BTreeMap::new();
            for level in rows.iter().filter_map(|h| h.level) {
                *levels.entry(level).or_default() += 1;
            }
            let not_graded = rows.iter().filter(|h| h.level.is_none()).count();
            (level_counts(&levels), not_graded)
        };
        let agency_rows: Vec<AgencyProgress> = agencies
            .iter()
            .map(|agency| {
                let rows: Vec<&HostRow> = hosts.iter().filter(|h| h.agency == agency.id).collect();
                let one = BTreeSet::from([agency.id.as_str()]);
                let days = daily(&snapshot.trend, &one);
                let progress = progress_of(&rows, &days, &one);
                let (outlook, projected) = outlook(
                    &daily_shares(&days, require),
                    progress.share,
                    agency.target,
                    today,
                );
                let (levels, not_graded) = levels_of(&rows);
                AgencyProgress {
                    id: agency.id.clone(),
                    name: match (options.lang, &agency.name_vi) {
                        (Lang::Vi, Some(name)) => name.clone(),
                        _ => agency.name.clone(),
                    },
                    progress,
                    levels,
                    not_graded,
                    target: agency.target,
                    outlook,
                    projected,
                }
            })
            .collect();

        let all: Vec<&HostRow> = hosts.iter().collect();
        let days = daily(&snapshot.trend, &ids);
        let city = progress_of(&all, &days, &ids);
        let (levels, not_graded) = levels_of(&all);
        let mut blockers: Vec<Blocker> = blockers
            .into_iter()
            .map(|(cause, hosts)| Blocker { cause, hosts })
            .collect();
        blockers.sort_by(|a, b| {
            b.hosts
                .len()
                .cmp(&a.hosts.len())
                .then(a.cause.cmp(&b.cause))
        });
        let mut fixes: Vec<Fix> = fixes
            .into_iter()
            .map(|(target, (mut hosts, lifts))| {
                hosts.sort();
                Fix {
                    target,
                    lifts,
                    hosts,
                }
            })
            .collect();
        fixes.sort_by(|a, b| {
            (b.lifts, b.hosts.len())
                .cmp(&(a.lifts, a.hosts.len()))
                .then_with(|| a.target.cmp(&b.target))
        });
        let trend = Trend {
            points: days
                .iter()
                .map(|day| TrendPoint {
                    date: day.date,
                    graded: day.levels.values().sum(),
                    ready: ready_in(&day.levels, require),
                })
                .collect(),
            scope: hosts.len(),
            target: agencies.iter().filter_map(|a| a.target).max(),
        };
        ProgressReport {
            schema: SCHEMA.into(),
            lang: options.lang,
            generated_at: options.generated_at,
            at: snapshot.at,
            since: options.since,
            require,
            agency: options.agency.clone(),
            city,
            levels,
            not_graded,
            agencies: agency_rows,
            blockers,
            fixes,
            sites: site_health(snapshot, &ids),
            trend,
            hosts,
        }
    }

    /// The agencies' names (in the report's language) by id, for rows that carry the id.
    pub fn agency_names(&self) -> AgencyNames<'_> {
        AgencyNames(
            (self.agencies.iter())
                .map(|agency| (agency.id.as_str(), agency.name.as_str()))
                .collect(),
        )
    }

    /// The report's title in its language: the city's, or one agency's with its name.
    pub fn title(&self) -> String {
        let t = self.lang.texts();
        match self.agencies.as_slice() {
            [agency] if self.agency.is_some() => {
                t.fill("title_agency", &[("agency", &agency.name)])
            }
            _ => t.get("title").into(),
        }
    }

    /// The fixes a page shows: the first [`FIXES_SHOWN`] that lift a host.
    pub fn top_fixes(&self) -> impl Iterator<Item = &Fix> {
        self.fixes
            .iter()
            .filter(|fix| fix.lifts > 0)
            .take(FIXES_SHOWN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_outlook_projects_the_recent_pace_to_the_target() {
        let today = day("2026-12-02");
        let target = Some(day("2026-12-31"));
        // 10 points in 10 days: the last 50 need 50 days, past the 31st.
        let slow = [(day("2026-11-20"), 0.4), (day("2026-11-30"), 0.5)];
        assert_eq!(
            outlook(&slow, Some(0.5), target, today),
            (Outlook::AtRisk, Some(day("2027-01-19")))
        );
        let fast = [(day("2026-11-20"), 0.2), (day("2026-11-30"), 0.8)];
        assert_eq!(outlook(&fast, Some(0.8), target, today).0, Outlook::OnTrack);
        assert_eq!(outlook(&slow, Some(1.0), target, today).0, Outlook::Done);
        assert_eq!(outlook(&slow, Some(0.5), None, today).0, Outlook::NoTarget);
        let late = outlook(&slow, Some(0.5), Some(day("2026-12-01")), today);
        assert_eq!(late.0, Outlook::Late);
        assert_eq!(
            outlook(&slow[..1], Some(0.5), target, today),
            (Outlook::NoTrend, None)
        );
        // No progress, or a crawl: at risk, with no date or a far one, never a panic.
        let flat = [(day("2026-11-20"), 0.5), (day("2026-11-30"), 0.5)];
        assert_eq!(
            outlook(&flat, Some(0.5), target, today),
            (Outlook::AtRisk, None)
        );
        let crawl = [(day("2026-09-15"), 0.3331), (day("2026-12-01"), 0.3331111)];
        assert_eq!(
            outlook(&crawl, Some(0.34), target, today).0,
            Outlook::AtRisk
        );
        // Points older than the projection's window do not count.
        let old = [(day("2026-01-01"), 0.0), (day("2026-11-30"), 0.5)];
        assert_eq!(outlook(&old, Some(0.5), target, today).0, Outlook::NoTrend);
    }
}
