//! Retrying calls through the seam: exponential back-off with full jitter for errors that
//! can succeed later (`ErrorKind::is_retryable`), and an adaptive limiter shared by every
//! caller of one service that spaces calls out while the service keeps throttling.
//!
//! The SDK's own retries are switched off (max attempts 1) so this is the only retry layer,
//! and the simulator's injected faults take exactly the same path as AWS errors.

use crate::cloud::{CloudError, CloudResult, ErrorKind};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How often and how patiently one call is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// The back-off cap for the first retry; it doubles with each further retry.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// No retries at all (a single attempt).
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The upper bound of the back-off before retry number `retry` (0-based).
    pub fn backoff_cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// "Full jitter": a uniformly random delay in [0, cap], which spreads a crowd of callers
    /// that failed together instead of having them return together.
    pub fn backoff(&self, retry: u32) -> Duration {
        // Not the seeded generator: retries must differ between processes and runs, or a
        // crowd of callers would still return together.
        self.backoff_cap(retry).mul_f64(fastrand::f64())
    }
}

/// Paces the callers of one service: while calls are throttled the gap between call starts
/// grows (doubling, up to `max_gap`); successes shrink it again, so a burst of throttling slows
/// everybody down for a while instead of every caller hammering on its own schedule.
#[derive(Debug)]
pub struct AdaptiveLimiter {
    state: Mutex<LimiterState>,
    min_gap: Duration,
    max_gap: Duration,
}

#[derive(Debug)]
struct LimiterState {
    gap: Duration,
    next_slot: Option<Instant>,
}

impl Default for AdaptiveLimiter {
    fn default() -> Self {
        Self::new(Duration::from_millis(20), Duration::from_secs(5))
    }
}

impl AdaptiveLimiter {
    /// `min_gap` is the first gap after a throttle; below it the limiter lets calls through
    /// unpaced.
    pub fn new(min_gap: Duration, max_gap: Duration) -> Self {
        AdaptiveLimiter {
            state: Mutex::new(LimiterState {
                gap: Duration::ZERO,
                next_slot: None,
            }),
            min_gap,
            max_gap,
        }
    }

    /// The current gap between call starts (zero when the service is not throttling).
    pub fn gap(&self) -> Duration {
        self.lock().gap
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let wait_until = {
            let mut s = self.lock();
            if s.gap.is_zero() {
                return;
            }
            let now = Instant::now();
            let slot = s.next_slot.map_or(now, |n| n.max(now));
            s.next_slot = Some(slot + s.gap);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }

    /// The service throttled us: widen the gap.
    pub fn on_throttle(&self) {
        let mut s = self.lock();
        s.gap = (s.gap * 2).clamp(self.min_gap, self.max_gap);
    }

    /// A call went through: narrow the gap, back to unpaced once it is small.
    pub fn on_success(&self) {
        let mut s = self.lock();
        if s.gap.is_zero() {
            return;
        }
        s.gap = s.gap.mul_f64(0.75);
        if s.gap < self.min_gap {
            s.gap = Duration::ZERO;
            s.next_slot = None;
        }
    }
}

/// Calls `op` until it succeeds, fails with an error that is not retryable, or the policy's
/// attempts are used up; the last error is returned as it came.
pub async fn retry<T, F, Fut>(
    policy: &RetryPolicy,
    limiter: Option<&AdaptiveLimiter>,
    mut op: F,
) -> CloudResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = CloudResult<T>>,
{
    let mut attempt = 0u32;
    loop {
        if let Some(l) = limiter {
            l.acquire().await;
        }
        let result = op().await;
        attempt += 1;
        match result {
            Ok(v) => {
                if let Some(l) = limiter {
                    l.on_success();
                }
                return Ok(v);
            }
            Err(e) => {
                if e.kind == ErrorKind::Throttling
                    && let Some(l) = limiter
                {
                    l.on_throttle();
                }
                if !should_retry(&e) || attempt >= policy.max_attempts.max(1) {
                    return Err(e);
                }
                tokio::time::sleep(policy.backoff(attempt - 1)).await;
            }
        }
    }
}

fn should_retry(e: &CloudError) -> bool {
    e.kind.is_retryable()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn err(kind: ErrorKind) -> CloudError {
        CloudError::new(kind, "ebs", "ListChangedBlocks", "x")
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[tokio::test]
    async fn retries_retryable_errors_until_success() {
        let calls = AtomicU32::new(0);
        let out = retry(&fast(), None, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(err(ErrorKind::Throttling)),
                1 => Err(err(ErrorKind::Network)),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(out, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn does_not_retry_permanent_errors() {
        let calls = AtomicU32::new(0);
        let out: CloudResult<()> = retry(&fast(), None, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(err(ErrorKind::AccessDenied))
        })
        .await;
        assert_eq!(out.unwrap_err().kind, ErrorKind::AccessDenied);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_with_last_error() {
        let calls = AtomicU32::new(0);
        let out: CloudResult<()> = retry(&fast(), None, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(err(ErrorKind::ServiceUnavailable))
        })
        .await;
        assert_eq!(out.unwrap_err().kind, ErrorKind::ServiceUnavailable);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn backoff_doubles_up_to_cap_and_jitters_within_it() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        assert_eq!(p.backoff_cap(0), Duration::from_millis(100));
        assert_eq!(p.backoff_cap(2), Duration::from_millis(400));
        assert_eq!(p.backoff_cap(9), Duration::from_millis(1000));
        assert_eq!(p.backoff_cap(200), Duration::from_millis(1000));
        let samples: Vec<Duration> = (0..200).map(|_| p.backoff(1)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(200)));
        let distinct: std::collections::BTreeSet<_> = samples.iter().collect();
        assert!(distinct.len() > 50, "jitter should spread delays");
    }

    #[test]
    fn limiter_widens_on_throttle_and_recovers_on_success() {
        let l = AdaptiveLimiter::new(Duration::from_millis(10), Duration::from_millis(80));
        assert_eq!(l.gap(), Duration::ZERO);
        l.on_throttle();
        assert_eq!(l.gap(), Duration::from_millis(10));
        for _ in 0..10 {
            l.on_throttle();
        }
        assert_eq!(l.gap(), Duration::from_millis(80));
        for _ in 0..20 {
            l.on_success();
        }
        assert_eq!(l.gap(), Duration::ZERO);
    }

    #[tokio::test]
    async fn limiter_spaces_calls_while_throttled() {
        let l = AdaptiveLimiter::new(Duration::from_millis(15), Duration::from_millis(15));
        l.on_throttle();
        let start = Instant::now();
        for _ in 0..5 {
            l.acquire().await;
        }
        // Five slots 15 ms apart: the last starts at least 60 ms after the first.
        assert!(start.elapsed() >= Duration::from_millis(60));
    }

    #[tokio::test]
    async fn throttling_through_retry_slows_shared_limiter() {
        let l = AdaptiveLimiter::new(Duration::from_millis(1), Duration::from_millis(50));
        let calls = AtomicU32::new(0);
        let _ = retry(&fast(), Some(&l), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err::<(), _>(err(ErrorKind::Throttling))
            } else {
                Ok(())
            }
        })
        .await;
        // Three throttles doubled the gap from 1 ms; one success shrank it by a quarter.
        assert_eq!(l.gap(), Duration::from_millis(4).mul_f64(0.75));
    }
}
