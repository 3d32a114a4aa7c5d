//! The shared detection core: everything in watchband that calls a value anomalous.
//!
//! Pure and synchronous: no I/O, no tokio, no AWS types. A detector takes `(timestamp, value)`
//! one point at a time ([`Detector::observe`]) and answers a [`Verdict`]: the band it expected
//! the value in, an anomaly score in [0, 1] and whether the point is anomalous. Until it has
//! learned enough it answers without a band ("insufficient data", as CloudWatch says).
//! Detector state serialises with serde so a band survives a restart.
//!
//! SKELETON: the API below is the contract the rest of the crate codes against; the
//! algorithms (seasonal band, Random Cut Forest, rules, auto) are being written in this module.

pub mod rules;

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// The range of values a band is expected in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub expected: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A detector's answer for one point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub timestamp: Timestamp,
    pub value: f64,
    /// `None` while the detector has too little data ("insufficient data").
    pub band: Option<Band>,
    /// In [0, 1]; 0 while there is insufficient data.
    pub score: f64,
    pub anomalous: bool,
}

impl Verdict {
    pub fn is_ready(&self) -> bool {
        self.band.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectError {
    #[error("value {value} at {timestamp} is not a finite number")]
    NonFinite { timestamp: Timestamp, value: f64 },
    #[error("invalid detector configuration: {0}")]
    Config(String),
}

/// A streaming detector.
pub trait Detector {
    /// Scores the point against what was learned so far, then learns from it.
    fn observe(&mut self, timestamp: Timestamp, value: f64) -> Result<Verdict, DetectError>;
    /// The band expected at a timestamp, without learning (previews, forecasts).
    fn predict(&self, timestamp: Timestamp) -> Option<Band>;
}

/// Which detector to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Algo {
    #[default]
    Auto,
    Band,
    Rcf,
    Rule,
}

/// Seasonality of the band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Seasonality {
    /// Chosen from the data's sampling interval.
    #[default]
    Auto,
    None,
    Hourly,
    Daily,
    Weekly,
}

/// Values the band is clamped to.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum ValueRange {
    #[default]
    Unbounded,
    /// Counts: never below 0.
    NonNegative,
    /// Percentages: 0–100.
    Percent,
}

impl ValueRange {
    pub fn clamp(self, v: f64) -> f64 {
        match self {
            ValueRange::Unbounded => v,
            ValueRange::NonNegative => v.max(0.0),
            ValueRange::Percent => v.clamp(0.0, 100.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandConfig {
    /// Band width in standard deviations (CloudWatch's `ANOMALY_DETECTION_BAND(m1, N)`).
    pub width: f64,
    pub seasonality: Seasonality,
    pub range: ValueRange,
    /// Time ranges `[start, end)` left out of training.
    pub excluded: Vec<(Timestamp, Timestamp)>,
    /// Expect periodic spikes (CloudWatch's MetricCharacteristics.PeriodicSpikes).
    pub periodic_spikes: bool,
}

impl Default for BandConfig {
    fn default() -> Self {
        BandConfig {
            width: 2.0,
            seasonality: Seasonality::Auto,
            range: ValueRange::Unbounded,
            excluded: Vec::new(),
            periodic_spikes: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    pub algo: Algo,
    pub band: BandConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            algo: Algo::Auto,
            band: BandConfig::default(),
        }
    }
}

fn check_finite(timestamp: Timestamp, value: f64) -> Result<(), DetectError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(DetectError::NonFinite { timestamp, value })
    }
}

/// Any detector, behind one serialisable type.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnyDetector {
    config: DetectorConfig,
    history: Vec<f64>,
}

impl AnyDetector {
    pub fn new(config: &DetectorConfig) -> Result<Self, DetectError> {
        if !(config.band.width.is_finite() && config.band.width > 0.0) {
            return Err(DetectError::Config(format!(
                "band width must be a positive number, not {}",
                config.band.width
            )));
        }
        Ok(AnyDetector {
            config: config.clone(),
            history: Vec::new(),
        })
    }
}

impl Detector for AnyDetector {
    fn observe(&mut self, timestamp: Timestamp, value: f64) -> Result<Verdict, DetectError> {
        check_finite(timestamp, value)?;
        let band = self.predict(timestamp);
        let (score, anomalous) = match band {
            Some(b) => {
                let half = ((b.upper - b.lower) / 2.0).max(f64::EPSILON);
                let z = (value - b.expected).abs() / half;
                (
                    1.0 - (-z * z / 2.0).exp(),
                    value > b.upper || value < b.lower,
                )
            }
            None => (0.0, false),
        };
        let excluded = self
            .config
            .band
            .excluded
            .iter()
            .any(|(s, e)| (*s..*e).contains(&timestamp));
        if !excluded {
            self.history.push(value);
            if self.history.len() > 512 {
                self.history.remove(0);
            }
        }
        Ok(Verdict {
            timestamp,
            value,
            band,
            score,
            anomalous,
        })
    }

    fn predict(&self, _timestamp: Timestamp) -> Option<Band> {
        if self.history.len() < 10 {
            return None;
        }
        let mut v = self.history.clone();
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        let sigma = (dev[dev.len() / 2] * 1.4826).max(1e-9);
        let w = self.config.band.width * sigma;
        let r = self.config.band.range;
        Some(Band {
            expected: r.clamp(median),
            lower: r.clamp(median - w),
            upper: r.clamp(median + w),
        })
    }
}
