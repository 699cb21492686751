//! The overview's figures, worked out from a snapshot: the share of hosts at the target
//! level, city-wide and per agency, each agency's trend and whether it will make its date,
//! site states, and the checks that fail most.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sixfive_inventory::model::Level;
use sixfive_inventory::results::SiteState;
use sixfive_inventory::store::{Board, RunLevels};
pub use sixfive_report::progress::Outlook;
use sixfive_report::progress::outlook;

/// An outlook in the overview's narrow column.
pub fn outlook_text(outlook: Outlook) -> &'static str {
    match outlook {
        Outlook::Done => "done",
        Outlook::OnTrack => "on track",
        Outlook::AtRisk => "at risk",
        Outlook::Late => "late",
        Outlook::NoTrend => "no trend",
        Outlook::NoTarget => "-",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgencyRow {
    pub id: String,
    pub name: String,
    pub hosts: usize,
    pub ready: usize,
    /// The share ready in each of the last runs, oldest first.
    pub trend: Vec<Option<f64>>,
    pub target: Option<NaiveDate>,
    pub outlook: Outlook,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub hosts: usize,
    pub ready: usize,
    /// Ready hosts at the trend's newest point minus the point before it, and when that
    /// point was, when it was on an earlier day (the trend has a point a day then).
    pub change: Option<(i64, Option<NaiveDate>)>,
    /// Hosts per level; None counts hosts no run has graded yet.
    pub levels: BTreeMap<Option<Level>, usize>,
    pub agencies: Vec<AgencyRow>,
    /// Sites per state, best first (the order SiteState sorts in).
    pub sites: BTreeMap<SiteState, usize>,
    pub sites_not_polled: usize,
    /// Polled sites per radio technology, however each vendor spells it.
    pub technologies: BTreeMap<String, usize>,
    /// The site with the lowest RSRP, and that RSRP.
    pub weakest: Option<(String, f64)>,
    /// Checks by how many hosts fail them, most first (at most five).
    pub top_failing: Vec<(String, usize)>,
}

fn share(ready: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| ready as f64 / total as f64)
}

pub fn summarise(board: &Board, require: Level, today: NaiveDate) -> Summary {
    let ready_in = |levels: &BTreeMap<Level, usize>| -> usize {
        levels.range(require..).map(|(_, n)| n).sum()
    };
    let mut levels: BTreeMap<Option<Level>, usize> = BTreeMap::new();
    let mut per_agency: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut failing: HashMap<&str, usize> = HashMap::new();
    for host in &board.hosts {
        let level = host.grade.as_ref().map(|g| g.level);
        *levels.entry(level).or_default() += 1;
        let counts = per_agency.entry(host.agency.as_str()).or_default();
        counts.0 += 1;
        if level.is_some_and(|l| l >= require) {
            counts.1 += 1;
        }
        for check in &host.failing {
            *failing.entry(check.as_str()).or_default() += 1;
        }
    }
    let ready = levels
        .iter()
        .filter(|(level, _)| level.is_some_and(|l| l >= require))
        .map(|(_, n)| n)
        .sum();
    let change = match board.trend.as_slice() {
        [.., before, last] => {
            let day = |run: &RunLevels| run.finished_at.map(|at| at.date_naive());
            let earlier_day = day(before).filter(|&d| Some(d) != day(last));
            let ready = |run: &RunLevels| ready_in(&run.levels) as i64;
            Some((ready(last) - ready(before), earlier_day))
        }
        _ => None,
    };
    let agencies = board
        .agencies
        .iter()
        .map(|agency| {
            let (hosts, ready) = per_agency
                .get(agency.id.as_str())
                .copied()
                .unwrap_or_default();
            let trend: Vec<Option<f64>> = board
                .trend
                .iter()
                .map(|run| {
                    let levels = run.by_agency.get(&agency.id)?;
                    share(ready_in(levels), levels.values().sum())
                })
                .collect();
            let dated: Vec<(NaiveDate, f64)> = board
                .trend
                .iter()
                .zip(&trend)
                .filter_map(|(run, share)| Some((run.finished_at?.date_naive(), (*share)?)))
                .collect();
            let (outlook, _) = outlook(&dated, share(ready, hosts), agency.target, today);
            AgencyRow {
                id: agency.id.clone(),
                name: agency.name.clone(),
                hosts,
                ready,
                trend,
                target: agency.target,
                outlook,
            }
        })
        .collect();
    let mut sites: BTreeMap<SiteState, usize> = BTreeMap::new();
    let mut sites_not_polled = 0;
    let mut technologies: BTreeMap<String, usize> = BTreeMap::new();
    let mut weakest: Option<(String, f64)> = None;
    for site in &board.sites {
        let Some(report) = &site.latest else {
            sites_not_polled += 1;
            continue;
        };
        *sites.entry(report.state).or_default() += 1;
        if let Some(tech) = &report.radio.technology {
            *technologies.entry(technology(tech)).or_default() += 1;
        }
        if let Some(rsrp) = report.radio.rsrp_dbm
            && weakest.as_ref().is_none_or(|(_, worst)| rsrp < *worst)
        {
            weakest = Some((site.id.clone(), rsrp));
        }
    }
    let mut top_failing: Vec<(String, usize)> = failing
        .into_iter()
        .map(|(check, hosts)| (check.to_owned(), hosts))
        .collect();
    top_failing.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top_failing.truncate(5);
    Summary {
        hosts: board.hosts.len(),
        ready,
        change,
        levels,
        agencies,
        sites,
        sites_not_polled,
        technologies,
        weakest,
        top_failing,
    }
}

/// One spelling per technology: vendors write `5G-NSA`, `5G NSA` or `5g_nsa`.
fn technology(said: &str) -> String {
    said.split(|c: char| c == '-' || c == '_' || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_names_the_day_it_counts_from_when_points_are_days() {
        let mut board = crate::screens::board();
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let (_, since) = summarise(&board, Level::L2, today).change.unwrap();
        let before = &board.trend[board.trend.len() - 2];
        assert_eq!(since, before.finished_at.map(|at| at.date_naive()));
        // Runs of one day: the change is since the run before.
        let last = board.trend.last().unwrap().finished_at;
        let n = board.trend.len();
        board.trend[n - 2].finished_at = last;
        assert_eq!(summarise(&board, Level::L2, today).change.unwrap().1, None);
    }

    #[test]
    fn technologies_are_counted_by_one_spelling() {
        let spellings = ["5G-NSA", "5G NSA", " 5g_nsa ", "LTE"].map(technology);
        assert_eq!(spellings, ["5G NSA", "5G NSA", "5G NSA", "LTE"]);
    }
}
