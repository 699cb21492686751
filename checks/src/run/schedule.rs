//! The agent's schedule (`scan.schedule`): one loop per duty (hosts, hosts in progress,
//! sites) that starts a run through the run driver once per interval, a window in which it
//! takes the duty's work items as they come due (spread over the interval, shared with the
//! zone's other agents), never overlapping its own previous run, and backing off when a
//! run fails (the store is down). The inventory and engine may change under it (a reload):
//! a reload ends the window, and the next starts at once with the newest.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sixfive_inventory::model::{Inventory, Schedule, Stage};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use sixfive_inventory::store::Window;

use super::{Engine, Lease, RunRequest};

/// The longest wait before trying a failed run again.
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// What the agent runs on one schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duty {
    /// Every host, but those in progress when they have an interval of their own.
    Hosts,
    /// Hosts whose stage is `in-progress`, when `scan.schedule.hosts_in_progress` is set.
    HostsInProgress,
    Sites,
}

impl Duty {
    pub const ALL: [Duty; 3] = [Duty::Hosts, Duty::HostsInProgress, Duty::Sites];

    pub fn as_str(self) -> &'static str {
        match self {
            Duty::Hosts => "hosts",
            Duty::HostsInProgress => "hosts_in_progress",
            Duty::Sites => "sites",
        }
    }

    /// Its interval under `schedule`; None when it has none (it waits for a reload).
    pub fn interval(self, schedule: &Schedule) -> Option<Duration> {
        match self {
            Duty::Hosts => Some(schedule.hosts.0),
            Duty::HostsInProgress => schedule.hosts_in_progress.map(|i| i.0),
            Duty::Sites => Some(schedule.sites.0),
        }
    }

    /// The run request of this duty over `inventory`, of `zone` only when given.
    fn request(
        self,
        inventory: &Inventory,
        zone: Option<&str>,
        owner: &str,
        source: &str,
    ) -> RunRequest {
        let own_interval = inventory.scan.schedule.hosts_in_progress.is_some();
        let ours = |of: &Option<String>| zone.is_none_or(|zone| of.as_deref() == Some(zone));
        let hosts = (inventory.hosts.iter()).filter(|h| ours(&h.zone));
        let hosts = match self {
            Duty::Sites => Vec::new(),
            Duty::Hosts => hosts
                .filter(|h| !(own_interval && h.stage == Stage::InProgress))
                .cloned()
                .collect(),
            Duty::HostsInProgress => hosts
                .filter(|h| h.stage == Stage::InProgress)
                .cloned()
                .collect(),
        };
        let sites = match self {
            Duty::Sites => (inventory.sites.iter())
                .filter(|s| ours(&s.zone))
                .cloned()
                .collect(),
            Duty::Hosts | Duty::HostsInProgress => Vec::new(),
        };
        RunRequest {
            hosts,
            sites,
            owner: owner.to_owned(),
            source: source.to_owned(),
        }
    }
}

/// The inventory the agent runs and the engine built for its scan settings, replaced
/// together on a reload.
pub struct Armed {
    pub inventory: Arc<Inventory>,
    pub engine: Arc<Engine>,
    /// The inventory's path, recorded with its imports.
    pub source: String,
}

/// How a duty stands, for `/healthz`, `/readyz` and the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DutyState {
    pub running: bool,
    /// The inventory gives it nothing to do (no sites, no host in progress).
    pub idle: bool,
    /// The last run that ended complete: when, and how long it took.
    pub last_complete: Option<(DateTime<Utc>, Duration)>,
    /// Why the last run failed, until one succeeds.
    pub failing: Option<String>,
}

/// Runs `duty` (of `zone` only, when given) on its schedule until `stop`; a run under way
/// when `stop` comes is cancelled and stored incomplete before this returns. `state`
/// follows the duty.
pub async fn keep(
    duty: Duty,
    zone: Option<String>,
    mut armed: watch::Receiver<Arc<Armed>>,
    owner: String,
    stop: CancellationToken,
    state: watch::Sender<DutyState>,
) {
    // The first run starts within the jitter, so agents started together drift apart.
    let mut next = Instant::now() + first_delay(&armed.borrow().inventory.scan.schedule);
    let mut last_start: Option<Instant> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        let current = Arc::clone(&armed.borrow_and_update());
        let schedule = current.inventory.scan.schedule;
        let Some(interval) = duty.interval(&schedule) else {
            // No interval for this duty now: wait for a reload that gives one.
            tokio::select! {
                () = stop.cancelled() => return,
                changed = armed.changed() => if changed.is_err() { return },
            }
            continue;
        };
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
            // A reload may shorten the interval: count the new one from the last start.
            changed = armed.changed() => {
                if changed.is_err() { return }
                let schedule = armed.borrow().inventory.scan.schedule;
                if let Some(shorter) = duty.interval(&schedule) {
                    next = next.min(last_start.unwrap_or_else(Instant::now) + shorter);
                }
                continue;
            }
        }
        let request = duty.request(&current.inventory, zone.as_deref(), &owner, &current.source);
        let started = Instant::now();
        last_start = Some(started);
        let idle = request.hosts.is_empty() && request.sites.is_empty();
        state.send_modify(|s| s.idle = idle);
        if idle {
            next = started + interval;
            continue;
        }
        let lease = Lease {
            duty: duty.as_str(),
            zone: zone.clone(),
            window: Window {
                start: Utc::now(),
                interval,
            },
            close: CancellationToken::new(),
        };
        let close = lease.close.clone();
        let run = (current.engine).start_leased(Arc::clone(&current.inventory), request, lease);
        state.send_modify(|s| s.running = true);
        let cancel = run.cancel.clone();
        let finishing = run.finish();
        tokio::pin!(finishing);
        let mut reloaded = false;
        let (outcome, stopping) = loop {
            tokio::select! {
                outcome = &mut finishing => break (outcome, false),
                () = stop.cancelled() => {
                    cancel.cancel();
                    break (finishing.await, true);
                }
                // The window ends with what it took; the next has the new inventory.
                _ = armed.changed(), if !reloaded => {
                    reloaded = true;
                    close.cancel();
                }
            }
        };
        match outcome {
            Ok(outcome) => {
                tracing::info!(duty = duty.as_str(), run = outcome.run, status = ?outcome.status, "run ended");
                state.send_modify(|s| {
                    s.running = false;
                    s.failing = None;
                    if outcome.status == sixfive_inventory::store::RunStatus::Complete {
                        s.last_complete = Some((Utc::now(), started.elapsed()));
                    }
                });
                backoff = Duration::from_secs(1);
                next = if reloaded {
                    Instant::now()
                } else {
                    after(started, &schedule, interval)
                };
            }
            Err(error) => {
                tracing::warn!(duty = duty.as_str(), %error, retry_in = ?backoff, "run failed");
                state.send_modify(|s| {
                    s.running = false;
                    s.failing = Some(error.to_string());
                });
                next = Instant::now() + backoff;
                backoff = longer(backoff, interval);
            }
        }
        if stopping {
            return;
        }
    }
}

/// The wait after `backoff` failed too: twice as long, at most [`BACKOFF_MAX`] and at most
/// the duty's interval (a retry never comes later than the next run would).
fn longer(backoff: Duration, interval: Duration) -> Duration {
    (backoff * 2).min(BACKOFF_MAX).min(interval)
}

/// A random delay within the jitter share of the shortest interval.
fn first_delay(schedule: &Schedule) -> Duration {
    let shortest = Duty::ALL
        .iter()
        .filter_map(|duty| duty.interval(schedule))
        .min()
        .unwrap_or_default();
    schedule.jitter.of(shortest).mul_f64(fastrand::f64())
}

/// When the run after one that started at `started` starts: an interval later, moved
/// either way by up to half the jitter share, at random.
fn after(started: Instant, schedule: &Schedule, interval: Duration) -> Instant {
    let share = schedule.jitter.of(interval);
    started + interval.saturating_sub(share / 2) + share.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_runs_wait_twice_as_long_up_to_five_minutes_or_the_interval() {
        let hour = Duration::from_secs(3600);
        let mut waits = vec![Duration::from_secs(1)];
        while waits.len() < 12 {
            waits.push(longer(*waits.last().unwrap(), hour));
        }
        assert_eq!(waits[1..4], [2, 4, 8].map(Duration::from_secs));
        assert_eq!(*waits.last().unwrap(), BACKOFF_MAX);
        assert_eq!(
            longer(Duration::from_secs(40), Duration::from_secs(60)),
            Duration::from_secs(60)
        );
    }
}
