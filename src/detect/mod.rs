//! The shared detection core: everything in watchband that calls a value anomalous.
//!
//! Pure and synchronous: no I/O, no tokio, no AWS types. A detector takes `(timestamp, value)`
//! one point at a time ([`Detector::observe`]) and answers a [`Verdict`]: the band it expected
//! the value in, an anomaly score in [0, 1] and whether the point is anomalous. Until it has
//! learned enough it answers without a band ("insufficient data", as CloudWatch says).
//! Detector state serialises with serde so a band survives a restart.
//!
//! Detectors: [`band`] (CloudWatch-like seasonal band), [`rcf`] (streaming Random Cut Forest,
//! the RCF metric scorer's), [`rules`] (the Kinesis temperature pipeline's rule, the static
//! CloudWatch alarm's threshold), [`cad`] (contextual, after NAB's CAD OSE) and [`auto`]
//! (the default for a series of unknown kind, measured on NAB). [`AnyDetector`] wraps any of
//! them behind one serialisable type built from a [`DetectorConfig`].

pub mod auto;
pub mod band;
pub mod cad;
pub mod cad_ose;
pub mod combine;
pub mod last_clean;
#[cfg(test)]
mod operators;
pub mod persist;
pub mod rcf;
pub mod rules;
pub mod stats;

pub use auto::{AutoConfig, AutoDetector};
pub use band::BandDetector;
pub use cad::{CadConfig, CadDetector};
pub use rcf::{RcfConfig, RcfDetector, anomaly_indicators, batch_cutoff};
pub use rules::{RuleConfig, RuleDetector};

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
    /// `None` while the detector has too little data for a band ("insufficient data"); never
    /// a made-up band. `auto` may score a point before its seasonal band is known.
    pub band: Option<Band>,
    /// In [0, 1] (never -0); 0 while there is insufficient data to score.
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
    /// Contextual anomaly detector (after NAB's CAD OSE).
    Cad,
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
#[serde(default)]
pub struct DetectorConfig {
    pub algo: Algo,
    pub band: BandConfig,
    pub rcf: RcfConfig,
    pub rule: RuleConfig,
    pub auto: AutoConfig,
    pub cad: CadConfig,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            algo: Algo::Auto,
            band: BandConfig::default(),
            rcf: RcfConfig::default(),
            rule: RuleConfig::default(),
            auto: AutoConfig::default(),
            cad: CadConfig::default(),
        }
    }
}

/// Values are saturated to ±1e150 inside the detectors, so that differences and squares of
/// any two finite inputs stay finite (verdicts still echo the value as given).
const SAFE: f64 = 1e150;

fn saturate(value: f64) -> f64 {
    value.clamp(-SAFE, SAFE)
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
pub enum AnyDetector {
    Band(BandDetector),
    Rcf(Box<RcfDetector>),
    Rule(RuleDetector),
    Auto(Box<AutoDetector>),
    Cad(Box<CadDetector>),
}

impl AnyDetector {
    pub fn new(config: &DetectorConfig) -> Result<Self, DetectError> {
        // the band is validated for every algorithm: rcf and auto draw it too
        let band = BandDetector::new(&config.band)?;
        Ok(match config.algo {
            Algo::Band => AnyDetector::Band(band),
            Algo::Rcf => AnyDetector::Rcf(Box::new(RcfDetector::new(&config.rcf, &config.band)?)),
            Algo::Rule => AnyDetector::Rule(RuleDetector::new(&config.rule)?),
            Algo::Auto => {
                AnyDetector::Auto(Box::new(AutoDetector::new(&config.auto, &config.band)?))
            }
            Algo::Cad => AnyDetector::Cad(Box::new(CadDetector::new(&config.cad)?)),
        })
    }

    fn inner(&self) -> &dyn Detector {
        match self {
            AnyDetector::Band(d) => d,
            AnyDetector::Rcf(d) => d.as_ref(),
            AnyDetector::Rule(d) => d,
            AnyDetector::Auto(d) => d.as_ref(),
            AnyDetector::Cad(d) => d.as_ref(),
        }
    }
}

impl Detector for AnyDetector {
    fn observe(&mut self, timestamp: Timestamp, value: f64) -> Result<Verdict, DetectError> {
        let mut v = match self {
            AnyDetector::Band(d) => d.observe(timestamp, value),
            AnyDetector::Rcf(d) => d.observe(timestamp, value),
            AnyDetector::Rule(d) => d.observe(timestamp, value),
            AnyDetector::Auto(d) => d.observe(timestamp, value),
            AnyDetector::Cad(d) => d.observe(timestamp, value),
        }?;
        // -0.0 + 0.0 is +0.0: a score is never printed as "-0", whatever the detector
        v.score += 0.0;
        Ok(v)
    }

    fn predict(&self, timestamp: Timestamp) -> Option<Band> {
        self.inner().predict(timestamp)
    }
}
