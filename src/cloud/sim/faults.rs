//! Injected faults (`--faults PROFILE`): throttling, latency, transient 5xx, a window of expired
//! credentials, dropped stream connections.
//!
//! A fault is decided *before* a call touches the world, so a failed call has no effect, and
//! it surfaces as the same [`ErrorKind`] and error code the AWS SDK mapping produces, naming the
//! service, operation and resource. Decisions are deterministic for a seed: each (operation,
//! resource) pair has its own call counter, so concurrent tasks calling different resources do
//! not perturb each other's fault sequence.

use super::clock::{HOUR_MS, MINUTE_MS};
use super::rng::{hash, str_hash, unit};
use crate::cloud::{CloudError, ErrorKind};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

/// Which faults to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FaultProfile {
    #[default]
    None,
    /// A quarter of calls are throttled.
    Throttle,
    /// Latency on many calls and transient 5xx on some.
    Flaky,
    /// A window of simulated time in which the credentials have expired.
    Expired,
    /// Kinesis connections drop: windows in which stream calls fail, and rare drops elsewhere.
    Dropped,
    /// All of the above at lower rates.
    Chaos,
}

impl FaultProfile {
    pub const NAMES: [&'static str; 6] =
        ["none", "throttle", "flaky", "expired", "dropped", "chaos"];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultProfile::None => "none",
            FaultProfile::Throttle => "throttle",
            FaultProfile::Flaky => "flaky",
            FaultProfile::Expired => "expired",
            FaultProfile::Dropped => "dropped",
            FaultProfile::Chaos => "chaos",
        }
    }
}

impl FromStr for FaultProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" => FaultProfile::None,
            "throttle" => FaultProfile::Throttle,
            "flaky" => FaultProfile::Flaky,
            "expired" => FaultProfile::Expired,
            "dropped" => FaultProfile::Dropped,
            "chaos" => FaultProfile::Chaos,
            other => {
                return Err(format!(
                    "unknown fault profile {other:?}; choose one of {}",
                    Self::NAMES.join(", ")
                ));
            }
        })
    }
}

/// Rates and windows of one profile.
#[derive(Debug, Clone, Copy)]
struct Rates {
    throttle: f64,
    server_error: f64,
    network: f64,
    latency_share: f64,
    latency_max_ms: u64,
    /// Expired-credentials window `[start, end)` as offsets from the world's start.
    expired: Option<(i64, i64)>,
    /// Every `period`, stream calls fail for `length` (a dropped connection).
    dropped: Option<(i64, i64)>,
}

impl Rates {
    fn of(profile: FaultProfile) -> Rates {
        let none = Rates {
            throttle: 0.0,
            server_error: 0.0,
            network: 0.0,
            latency_share: 0.0,
            latency_max_ms: 0,
            expired: None,
            dropped: None,
        };
        match profile {
            FaultProfile::None => none,
            FaultProfile::Throttle => Rates {
                throttle: 0.25,
                ..none
            },
            FaultProfile::Flaky => Rates {
                server_error: 0.10,
                latency_share: 0.3,
                latency_max_ms: 250,
                ..none
            },
            FaultProfile::Expired => Rates {
                expired: Some((2 * HOUR_MS, 8 * HOUR_MS)),
                ..none
            },
            FaultProfile::Dropped => Rates {
                network: 0.02,
                dropped: Some((6 * HOUR_MS, 20 * MINUTE_MS)),
                ..none
            },
            FaultProfile::Chaos => Rates {
                throttle: 0.05,
                server_error: 0.03,
                network: 0.01,
                latency_share: 0.1,
                latency_max_ms: 150,
                expired: Some((30 * HOUR_MS, 33 * HOUR_MS)),
                dropped: Some((9 * HOUR_MS, 15 * MINUTE_MS)),
            },
        }
    }
}

/// What the gate decided for one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub latency: Option<Duration>,
    pub error: Option<CloudError>,
}

/// Decides faults call by call.
#[derive(Debug)]
pub struct Faults {
    profile: FaultProfile,
    rates: Rates,
    seed: u64,
    world_start_ms: i64,
    counters: Mutex<BTreeMap<(String, String), u64>>,
}

impl Faults {
    pub fn new(profile: FaultProfile, seed: u64, world_start_ms: i64) -> Self {
        Faults {
            profile,
            rates: Rates::of(profile),
            seed,
            world_start_ms,
            counters: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn profile(&self) -> FaultProfile {
        self.profile
    }

    /// Whether simulated time `now_ms` lies in the expired-credentials window.
    pub fn credentials_expired_at(&self, now_ms: i64) -> bool {
        self.rates
            .expired
            .is_some_and(|(a, b)| (a..b).contains(&(now_ms - self.world_start_ms)))
    }

    fn stream_dropped_at(&self, now_ms: i64) -> bool {
        self.rates.dropped.is_some_and(|(period, length)| {
            let t = now_ms - self.world_start_ms;
            t >= 0 && t.rem_euclid(period) >= period - length
        })
    }

    /// The fault (if any) for the next call of `operation` on `resource`.
    pub fn decide(
        &self,
        service: &str,
        operation: &str,
        resource: Option<&str>,
        now_ms: i64,
    ) -> Decision {
        if self.profile == FaultProfile::None {
            return Decision {
                latency: None,
                error: None,
            };
        }
        let res = resource.unwrap_or("");
        let n = {
            let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            let e = c
                .entry((operation.to_string(), res.to_string()))
                .or_insert(0);
            *e += 1;
            *e
        };
        let base = hash(&[self.seed, str_hash(operation), str_hash(res), n]);
        let roll = |salt: u64| unit(hash(&[base, salt]));
        let r = self.rates;
        let latency = (r.latency_max_ms > 0 && roll(1) < r.latency_share)
            .then(|| Duration::from_millis(5 + (roll(2) * r.latency_max_ms as f64) as u64));
        let err = |kind: ErrorKind, code: &str, msg: &str| {
            let mut e = CloudError::new(kind, service, operation, msg).with_code(code);
            if let Some(x) = resource {
                e = e.with_resource(x);
            }
            Some(e)
        };
        let is_stream = service == "kinesis";
        let error = if self.credentials_expired_at(now_ms) {
            err(
                ErrorKind::ExpiredCredentials,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            )
        } else if is_stream && self.stream_dropped_at(now_ms) {
            err(
                ErrorKind::Network,
                "DispatchFailure",
                "connection reset by peer while reading the stream",
            )
        } else if roll(3) < r.throttle {
            let code = match service {
                "kinesis" | "dynamodb" => "ProvisionedThroughputExceededException",
                "sns" | "sqs" => "Throttling",
                _ => "ThrottlingException",
            };
            err(ErrorKind::Throttling, code, "Rate exceeded")
        } else if roll(4) < r.server_error {
            err(
                ErrorKind::ServiceUnavailable,
                "ServiceUnavailable",
                "The service is unavailable (HTTP 503); try again later",
            )
        } else if roll(5) < r.network {
            err(
                ErrorKind::Network,
                "DispatchFailure",
                "connection reset by peer",
            )
        } else {
            None
        };
        Decision { latency, error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_none_never_fails() {
        for n in FaultProfile::NAMES {
            assert_eq!(n.parse::<FaultProfile>().unwrap().as_str(), n);
        }
        assert!("bogus".parse::<FaultProfile>().is_err());
        let f = Faults::new(FaultProfile::None, 1, 0);
        assert!((0..1000).all(|i| {
            f.decide("ebs", "ListChangedBlocks", None, i)
                .error
                .is_none()
        }));
    }

    #[test]
    fn throttle_rate_is_roughly_a_quarter_and_deterministic() {
        let a = Faults::new(FaultProfile::Throttle, 9, 0);
        let b = Faults::new(FaultProfile::Throttle, 9, 0);
        let da: Vec<bool> = (0..4000)
            .map(|_| a.decide("backup", "X", Some("r"), 0).error.is_some())
            .collect();
        let db: Vec<bool> = (0..4000)
            .map(|_| b.decide("backup", "X", Some("r"), 0).error.is_some())
            .collect();
        assert_eq!(da, db);
        let rate = da.iter().filter(|x| **x).count() as f64 / 4000.0;
        assert!((0.2..0.3).contains(&rate), "{rate}");
    }
}
