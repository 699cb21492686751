//! The scan's one rate limit, shared by every probe of a run: DNS, TCP, HTTP, ICMP, SNMP.

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
    pub fn per_second(rate: std::num::NonZeroU32) -> Self {
        Self(Arc::new(PaceInner {
            limiter: governor::RateLimiter::direct(governor::Quota::per_second(rate)),
            turn: tokio::sync::Mutex::new(()),
        }))
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
