//! Rules: the Kinesis temperature pipeline's rule as intended and static thresholds (the static
//! CloudWatch alarm).

use super::{Band, DetectError, Detector, Timestamp, Verdict, check_finite};
use serde::{Deserialize, Serialize};

/// The Kinesis temperature pipeline's categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TempClass {
    Cold,
    Hot,
}

impl TempClass {
    /// As the Kinesis temperature pipeline writes it in the table and the SNS subject.
    pub fn as_str(self) -> &'static str {
        match self {
            TempClass::Cold => "Cold",
            TempClass::Hot => "Hot",
        }
    }
}

/// Cold strictly below `lowest`, Hot strictly above `highest` (the original's intent; its code
/// compared with `1.1 × lowest` and read a misspelt key).
pub fn temperature_class(value: f64, lowest: f64, highest: f64) -> Option<TempClass> {
    if value < lowest {
        Some(TempClass::Cold)
    } else if value > highest {
        Some(TempClass::Hot)
    } else {
        None
    }
}

/// A static threshold rule (the static CloudWatch alarm: `GreaterThanThreshold` 80 on
/// `datapoints` of the last `evaluation_periods` points), and the Kinesis temperature
/// pipeline's rule when both bounds are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleConfig {
    /// Breaching when the value is strictly above this.
    pub above: Option<f64>,
    /// Breaching when the value is strictly below this.
    pub below: Option<f64>,
    /// Breaching points needed ("M" of CloudWatch's M out of N).
    pub datapoints: usize,
    /// Points looked at ("N").
    pub evaluation_periods: usize,
}

impl Default for RuleConfig {
    /// The static CloudWatch alarm: greater than 80, one datapoint out of one.
    fn default() -> Self {
        RuleConfig {
            above: Some(80.0),
            below: None,
            datapoints: 1,
            evaluation_periods: 1,
        }
    }
}

impl RuleConfig {
    /// The Kinesis temperature pipeline's rule: Cold below `lowest`, Hot above `highest`.
    pub fn temperature(lowest: f64, highest: f64) -> Self {
        RuleConfig {
            above: Some(highest),
            below: Some(lowest),
            datapoints: 1,
            evaluation_periods: 1,
        }
    }

    pub fn validate(&self) -> Result<(), DetectError> {
        if self.above.is_none() && self.below.is_none() {
            return Err(DetectError::Config(
                "a threshold rule needs an upper or a lower threshold".into(),
            ));
        }
        if self.above.is_some_and(|v| !v.is_finite()) || self.below.is_some_and(|v| !v.is_finite())
        {
            return Err(DetectError::Config(
                "rule thresholds must be finite numbers".into(),
            ));
        }
        if self.datapoints == 0 || self.datapoints > self.evaluation_periods {
            return Err(DetectError::Config(format!(
                "a rule needs 1 ≤ datapoints ({}) ≤ evaluation periods ({})",
                self.datapoints, self.evaluation_periods
            )));
        }
        if self.evaluation_periods > 10_000 {
            return Err(DetectError::Config(format!(
                "at most 10000 evaluation periods, not {}",
                self.evaluation_periods
            )));
        }
        Ok(())
    }

    /// Whether one value breaches.
    pub fn breaches(&self, value: f64) -> bool {
        self.above.is_some_and(|a| value > a) || self.below.is_some_and(|b| value < b)
    }
}

/// Streaming static-threshold detector: anomalous when `datapoints` of the last
/// `evaluation_periods` points breach (CloudWatch's "M out of N").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleDetector {
    config: RuleConfig,
    recent: std::collections::VecDeque<bool>,
    min_seen: f64,
    max_seen: f64,
}

impl RuleDetector {
    pub fn new(config: &RuleConfig) -> Result<Self, DetectError> {
        config.validate()?;
        Ok(RuleDetector {
            config: config.clone(),
            recent: std::collections::VecDeque::with_capacity(config.evaluation_periods),
            min_seen: f64::INFINITY,
            max_seen: f64::NEG_INFINITY,
        })
    }

    fn band(&self) -> Band {
        // an open side of the rule is drawn at the extreme seen so far
        let lower = self.config.below.unwrap_or(self.min_seen);
        let upper = self.config.above.unwrap_or(self.max_seen);
        let (lower, upper) = (lower.min(upper), upper.max(lower));
        Band {
            // halves first: the sum of two huge thresholds would overflow
            expected: lower / 2.0 + upper / 2.0,
            lower,
            upper,
        }
    }
}

impl Detector for RuleDetector {
    fn observe(&mut self, timestamp: Timestamp, value: f64) -> Result<Verdict, DetectError> {
        check_finite(timestamp, value)?;
        self.min_seen = self.min_seen.min(value);
        self.max_seen = self.max_seen.max(value);
        if self.recent.len() == self.config.evaluation_periods {
            self.recent.pop_front();
        }
        self.recent.push_back(self.config.breaches(value));
        let breaching = self.recent.iter().filter(|&&b| b).count();
        // CloudWatch needs N points before it can leave INSUFFICIENT_DATA
        let ready = self.recent.len() >= self.config.evaluation_periods;
        Ok(Verdict {
            timestamp,
            value,
            band: ready.then(|| self.band()),
            score: (breaching as f64 / self.config.datapoints as f64).min(1.0),
            anomalous: ready && breaching >= self.config.datapoints,
        })
    }

    fn predict(&self, _timestamp: Timestamp) -> Option<Band> {
        (self.recent.len() >= self.config.evaluation_periods).then(|| self.band())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_rule_is_strict() {
        assert_eq!(temperature_class(9.9, 10.0, 30.0), Some(TempClass::Cold));
        assert_eq!(temperature_class(10.0, 10.0, 30.0), None);
        assert_eq!(temperature_class(30.0, 10.0, 30.0), None);
        assert_eq!(temperature_class(30.1, 10.0, 30.0), Some(TempClass::Hot));
    }

    #[test]
    fn static_alarm_threshold_fires_above_80_only() {
        let mut d = RuleDetector::new(&RuleConfig::default()).unwrap();
        assert!(!d.observe(0, 80.0).unwrap().anomalous);
        assert!(d.observe(60, 80.5).unwrap().anomalous);
        assert!(!d.observe(120, 12.0).unwrap().anomalous);
    }

    #[test]
    fn m_out_of_n_needs_m_breaches_in_the_window() {
        let cfg = RuleConfig {
            datapoints: 2,
            evaluation_periods: 3,
            ..RuleConfig::default()
        };
        let mut d = RuleDetector::new(&cfg).unwrap();
        let flags: Vec<bool> = [90.0, 10.0, 10.0, 90.0, 10.0, 90.0]
            .iter()
            .enumerate()
            .map(|(i, &v)| d.observe(i as i64 * 60, v).unwrap().anomalous)
            .collect();
        assert_eq!(flags, vec![false, false, false, false, false, true]);
    }

    #[test]
    fn rule_without_thresholds_is_rejected() {
        let cfg = RuleConfig {
            above: None,
            below: None,
            ..RuleConfig::default()
        };
        assert!(RuleDetector::new(&cfg).is_err());
    }
}
