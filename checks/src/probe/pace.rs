//! The scan's one rate limit, shared by every probe of a run: DNS, TCP, HTTP, ICMP, SNMP.

use std::num::NonZeroU32;
use std::sync::Arc;

/// The scan's rate limit, which every probe waits for. Probes take turns (tokio's Mutex
/// queues its waiters in order) rather than all polling the limiter, and wait on tokio's
/// timer rather than governor's `until_ready`, whose futures-timer thread woke a worker
/// for every retry: at 500/s a 10,000-host check spent 45 s of CPU instead of 28.
#[derive(Clone)]
pub struct Pace(Arc<PaceInner>);

struct PaceInner {
    limiter: governor::DefaultDirectRateLimiter,
    turn: tokio::sync::Mutex<()>,
}

impl Pace {
    /// `rate` probes a second, in any second of a run, beyond [`Pace::burst`].
    pub fn per_second(rate: NonZeroU32) -> Self {
        let quota = governor::Quota::per_second(rate).allow_burst(Self::burst(rate));
        Self(Arc::new(PaceInner {
            limiter: governor::RateLimiter::direct(quota),
            turn: tokio::sync::Mutex::new(()),
        }))
    }

    /// The probes a pace lets through at once. governor's own quota for a rate lets a whole
    /// second's probes through at once, so a scan's first second sent twice the rate
    /// (tests/scope.rs counted 187 at 100/s). A hundredth of the rate (10 ms of probes) is
    /// enough that the timer's 1 ms steps do not slow a high rate; at least two, so a turn
    /// that comes a tick late is made up (with one, 100/s ran at 86 to 89/s).
    pub fn burst(rate: NonZeroU32) -> NonZeroU32 {
        NonZeroU32::new((rate.get() / 100).max(2)).expect("at least two")
    }

    /// Waits for this probe's slot, after the probes that came first.
    pub async fn until_ready(&self) {
        let _turn = self.0.turn.lock().await;
        while let Err(not_until) = self.0.limiter.check() {
            use governor::clock::Clock;
            let now = self.0.limiter.clock().now();
            tokio::time::sleep(not_until.wait_time_from(now)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A fresh pace lets its burst through at once and then one probe per interval: at
    /// 1000/s (a burst of 10) the 30th probe waits 20 ms, where a second's burst let all
    /// 30 through at once.
    #[tokio::test]
    async fn a_fresh_pace_holds_its_rate_from_the_first_probe() {
        let pace = Pace::per_second(NonZeroU32::new(1000).unwrap());
        let started = Instant::now();
        for _ in 0..30 {
            pace.until_ready().await;
        }
        assert!(
            started.elapsed() >= Duration::from_millis(19),
            "{:?}",
            started.elapsed()
        );
    }
}
