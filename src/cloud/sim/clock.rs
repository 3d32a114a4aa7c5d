//! The simulator's virtual clock.
//!
//! Simulated time is derived from `tokio::time::Instant`: `now = base + (Instant::now() - origin)
//! × speed`, frozen while paused. A tokio runtime with paused time (`start_paused`,
//! `tokio::time::advance`) therefore makes the whole simulated account deterministic, and a
//! plain runtime runs it at `speed` simulated seconds per real second. Nothing runs in the
//! background: the world is advanced lazily to `now` on every call.

use crate::cloud::Time;
use std::sync::Mutex;
use tokio::time::Instant;

pub const SECOND_MS: i64 = 1000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Milliseconds since the Unix epoch → chrono time.
pub fn to_time(ms: i64) -> Time {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Chrono time → milliseconds since the Unix epoch.
pub fn to_ms(t: Time) -> i64 {
    t.timestamp_millis()
}

#[derive(Debug)]
struct State {
    origin: Instant,
    base_ms: f64,
    speed: f64,
    paused: bool,
}

/// Simulated time plus the real (tokio) time the simulator needs for things AWS measures in
/// wall-clock time (iterator expiry, SQS visibility, long polls).
#[derive(Debug)]
pub struct SimClock {
    state: Mutex<State>,
    real_origin: Instant,
}

impl SimClock {
    pub fn new(start_ms: i64, speed: f64, paused: bool) -> Self {
        let now = Instant::now();
        SimClock {
            state: Mutex::new(State {
                origin: now,
                base_ms: start_ms as f64,
                speed: sanitize_speed(speed),
                paused,
            }),
            real_origin: now,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_of(s: &State) -> f64 {
        if s.paused {
            s.base_ms
        } else {
            s.base_ms + s.origin.elapsed().as_secs_f64() * 1000.0 * s.speed
        }
    }

    /// Simulated milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        Self::now_of(&self.lock()).floor() as i64
    }

    /// Real (tokio) milliseconds since the clock was made; unaffected by speed and pause.
    pub fn real_ms(&self) -> i64 {
        self.real_origin.elapsed().as_millis() as i64
    }

    pub fn speed(&self) -> f64 {
        self.lock().speed
    }

    pub fn set_speed(&self, speed: f64) {
        let mut s = self.lock();
        s.base_ms = Self::now_of(&s);
        s.origin = Instant::now();
        s.speed = sanitize_speed(speed);
    }

    pub fn is_paused(&self) -> bool {
        self.lock().paused
    }

    pub fn set_paused(&self, paused: bool) {
        let mut s = self.lock();
        if s.paused == paused {
            return;
        }
        s.base_ms = Self::now_of(&s);
        s.origin = Instant::now();
        s.paused = paused;
    }

    /// Moves simulated time forward by `ms`, paused or not (tests, stepping).
    pub fn advance_ms(&self, ms: i64) {
        let mut s = self.lock();
        s.base_ms += ms.max(0) as f64;
    }
}

fn sanitize_speed(speed: f64) -> f64 {
    if speed.is_finite() && speed >= 0.0 {
        speed.min(1e7)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_clock_only_moves_when_advanced() {
        let c = SimClock::new(1_000_000, 3600.0, true);
        assert_eq!(c.now_ms(), 1_000_000);
        c.advance_ms(5000);
        assert_eq!(c.now_ms(), 1_005_000);
        c.set_speed(10.0);
        assert_eq!(c.now_ms(), 1_005_000);
        assert!(c.is_paused());
    }
}
