//! `auto`: the default detector for a series of unknown kind, and the one measured on NAB.
//!
//! Five views of surprise are computed for each point before it is learned:
//! - the seasonal band's residual, in robust standard deviations (spikes, dips, level shifts,
//!   a broken daily or weekly pattern);
//! - a Random Cut Forest over a short shingle of values (odd shapes the band cannot express,
//!   e.g. a stuck or suddenly noisy signal);
//! - a flat line: how many points in a row repeat the previous value, against how long such
//!   runs usually are here (a stuck sensor is normal-looking value by value);
//! - a new record: a value beyond everything seen so far (by a tolerance of the range), whose
//!   probability among n exchangeable points is 1/n;
//! - a broken context ([`super::cad`]): how much of the quantised value the contexts of the
//!   last few points did not foresee (judged for the point alone: one look).
//!
//! Raw surprise is not comparable across series, so each view is calibrated against its own
//! recent history into a tail probability ("how unusual is this much surprise here?"), both
//! for the point alone and for the mean of the last few points (a sustained change that no
//! single point shows). The smallest tail probability, corrected for the number of looks,
//! becomes the score on a logarithmic scale, so a score means the same on every series.
//! After a detection the score is damped for a while (unless a clearly stronger one comes):
//! one change is reported once, as an operator wants, and as NAB rewards.

use super::band::BandDetector;
use super::cad::{CadConfig, ContextModel};
use super::combine::Combine;
use super::rcf::{RandomCutForest, RcfConfig};
use super::{Band, BandConfig, DetectError, Detector, Timestamp, Verdict, check_finite, saturate};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Tuning of `auto`; the defaults are the one configuration measured on NAB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoConfig {
    pub rcf: RcfConfig,
    /// Points before any score is given (the calibration needs a history).
    pub warmup: usize,
    /// Points of history each surprise is calibrated against.
    pub history: usize,
    /// Points averaged for the sustained-change view.
    pub short_window: usize,
    /// Fraction of the range seen so far a value must exceed it by to count as a record.
    pub record_tolerance: f64,
    /// Score at and above which a point is a detection (`anomalous`).
    pub alarm: f64,
    /// Seconds during which later scores are damped after a detection.
    pub quiet: i64,
    /// A score this many times the last detection's breaks through the quiet period.
    pub escalation: f64,
    /// How the contextual detector (`cad`) joins the views (default: a fifth view, the point
    /// alone).
    pub cad: CadMode,
    /// How the looks' tail probabilities become one (default: Bonferroni).
    pub combine: Combine,
    /// Off: the combined p-value is the score's; on: the combined p is itself calibrated
    /// against its own recent history on this series (the looks' dependence differs from
    /// series to series, so the null law of their combination does too).
    pub calibrate_combined: bool,
    /// How the sustained view averages the recent raw surprise.
    pub sustained: Sustained,
    /// Fewest exceedances the exponential tail is fitted to: a young history's top 2 % is a
    /// point or two, whose mean excess can be tiny and extrapolate to absurdly small
    /// probabilities (0: only the top 2 %, as before).
    pub tail_min: usize,
    /// Points of history a calibrator needs before it gives a probability.
    pub min_history: usize,
    /// On: the sustained view's calibrators count their history in windows (means of
    /// overlapping windows are strongly autocorrelated: `min_history` of them hold only
    /// `min_history / short_window` independent values), so they wait for `min_history ×
    /// short_window` points.
    pub sustained_effective: bool,
    /// The band damps its trend across gaps in the series (irregular sampling) as it does
    /// from point to point, instead of extrapolating it linearly over the gap.
    pub damped_gaps: bool,
    /// Whether the calibrators learn during the quiet period after a detection (off: the
    /// surprise of a change being absorbed does not flood the histories).
    pub learn_in_quiet: bool,
    /// The contextual detector's model, when `cad` is not `Off`.
    pub cad_model: CadConfig,
    /// With `cad = Max`: the final score is the larger of `auto`'s and this × the contextual
    /// detector's raw score.
    pub cad_weight: f64,
}

/// How the sustained view averages the raw surprise of the last points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Sustained {
    /// The plain mean of the last `short_window` points.
    #[default]
    Mean,
    /// An exponentially weighted mean with weight `2 / (short_window + 1)` (the same centre of
    /// mass as the plain mean, but no cliff when a spike leaves the window).
    Ewma,
}

/// How the contextual detector joins `auto`'s views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CadMode {
    #[default]
    Off,
    /// A fifth view, calibrated like the others, point and sustained (two more looks).
    View,
    /// A fifth view, the point alone (one more look).
    Point,
    /// The larger of `auto`'s score and `cad_weight` × the raw contextual score.
    Max,
}

impl Default for AutoConfig {
    fn default() -> Self {
        AutoConfig {
            rcf: RcfConfig {
                trees: 40,
                sample_size: 256,
                shingle: 4,
                ..RcfConfig::default()
            },
            warmup: 150,
            history: 3000,
            short_window: 8,
            record_tolerance: 0.05,
            alarm: 0.175,
            quiet: 36 * 3600,
            escalation: 1.5,
            cad: CadMode::Point,
            combine: Combine::default(),
            calibrate_combined: false,
            sustained: Sustained::Mean,
            learn_in_quiet: true,
            tail_min: 0,
            damped_gaps: false,
            min_history: MIN_HISTORY,
            sustained_effective: false,
            cad_model: CadConfig {
                bits: 5,
                ..CadConfig::default()
            },
            cad_weight: 0.2,
        }
    }
}

impl AutoConfig {
    fn validate(&self) -> Result<(), DetectError> {
        let bad = |what: &str| Err(DetectError::Config(format!("auto detector: {what}")));
        if self.history < 2 || self.short_window == 0 {
            return bad("history must be at least 2 points and the short window at least 1");
        }
        if !(self.record_tolerance.is_finite() && self.record_tolerance >= 0.0) {
            return bad("record tolerance must be a non-negative number");
        }
        if !(self.alarm > 0.0 && self.alarm <= 1.0) {
            return bad("alarm must be in (0, 1]");
        }
        if self.quiet < 0 || !(self.escalation.is_finite() && self.escalation >= 1.0) {
            return bad("quiet must be ≥ 0 seconds and escalation ≥ 1");
        }
        if !(self.cad_weight.is_finite() && self.cad_weight >= 0.0) {
            return bad("cad weight must be a non-negative number");
        }
        self.cad_model.validate()
    }
}

/// Calibrates one raw surprise signal into a tail probability against its own recent history:
/// the empirical rank inside the bulk, and beyond a high quantile an exponential tail fitted
/// to the exceedances (peaks over threshold, as in Siffer et al., KDD 2017), so probabilities
/// keep shrinking smoothly past the largest value seen.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Calibrator {
    ring: VecDeque<f64>,
    sorted: Vec<f64>,
    capacity: usize,
    /// Smallest tail scale, in the raw signal's units (a prior for signals that are constant).
    min_scale: f64,
}

/// Fraction of the history above the tail threshold.
const TAIL: f64 = 0.02;
/// History needed before a probability is given (default of `AutoConfig::min_history`).
const MIN_HISTORY: usize = 50;

/// How a calibrator is read and fed for one point.
#[derive(Debug, Clone, Copy)]
struct Fit {
    /// Learn the point (off in the quiet period with `learn_in_quiet` off).
    learn: bool,
    /// Fewest exceedances of the tail fit.
    tail_min: usize,
    /// Fewest points of history before a probability is given.
    min_history: usize,
}

impl Calibrator {
    /// A placeholder for a calibration that is off.
    fn unused() -> Self {
        Calibrator::new(MIN_HISTORY)
    }

    fn new(capacity: usize) -> Self {
        Calibrator {
            ring: VecDeque::with_capacity(capacity),
            sorted: Vec::with_capacity(capacity),
            capacity: capacity.max(MIN_HISTORY),
            min_scale: 0.0,
        }
    }

    /// `P(raw' >= raw)` under the history; 1 while the history is short.
    fn tail(&self, raw: f64, fit: Fit) -> f64 {
        let n = self.sorted.len();
        if n < MIN_HISTORY.max(fit.min_history) {
            return 1.0;
        }
        // at most half the history is "tail"
        let k = (((n as f64) * TAIL).ceil() as usize).max(fit.tail_min.min(n / 2));
        let t = self.sorted[n - k - 1];
        if raw <= t {
            let below = self.sorted.partition_point(|&x| x < raw);
            return (n - below) as f64 / n as f64;
        }
        let excess = self.sorted[n - k..].iter().map(|x| x - t).sum::<f64>() / k as f64;
        let scale = excess.max(1e-12 * (1.0 + t.abs())).max(self.min_scale);
        (k as f64 / n as f64) * (-(raw - t) / scale).exp()
    }

    fn learn(&mut self, raw: f64) {
        if self.ring.len() == self.capacity
            && let Some(old) = self.ring.pop_front()
        {
            let i = self.sorted.partition_point(|&x| x < old);
            self.sorted.remove(i);
        }
        self.ring.push_back(raw);
        let i = self.sorted.partition_point(|&x| x < raw);
        self.sorted.insert(i, raw);
    }

    fn observe(&mut self, raw: f64, fit: Fit) -> f64 {
        let p = self.tail(raw, fit);
        if fit.learn {
            self.learn(raw);
        }
        p
    }
}

/// A raw signal seen two ways: the point alone and the mean of the last few points.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Surprise {
    point: Calibrator,
    sustained: Calibrator,
    recent: VecDeque<f64>,
    window: usize,
    /// The exponentially weighted mean (`Sustained::Ewma`); absent from older states.
    #[serde(default)]
    ewma: Option<f64>,
}

impl Surprise {
    /// A placeholder for a view that is off.
    fn unused() -> Self {
        Surprise::new(MIN_HISTORY, 1)
    }

    fn new(history: usize, window: usize) -> Self {
        Surprise {
            point: Calibrator::new(history),
            sustained: Calibrator::new(history),
            recent: VecDeque::with_capacity(window),
            window: window.max(1),
            ewma: None,
        }
    }

    /// The point's and the sustained mean's tail probabilities (1 for the latter while the
    /// window is not yet full: the look is counted all the same).
    /// `fit` for the point, `sfit` for the sustained mean.
    fn observe(&mut self, raw: f64, how: Sustained, fit: Fit, sfit: Fit) -> [f64; 2] {
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(raw);
        let a = 2.0 / (self.window as f64 + 1.0);
        let ewma = self.ewma.map_or(raw, |e| e + a * (raw - e));
        self.ewma = Some(ewma);
        let p = self.point.observe(raw, fit);
        if self.recent.len() < self.window {
            return [p, 1.0];
        }
        let m = match how {
            Sustained::Mean => self.recent.iter().sum::<f64>() / self.window as f64,
            Sustained::Ewma => ewma,
        };
        [p, self.sustained.observe(m, sfit)]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AutoDetector {
    config: AutoConfig,
    band: BandDetector,
    forest: RandomCutForest,
    shingle: VecDeque<f64>,
    cal_band: Surprise,
    cal_rcf: Surprise,
    cal_flat: Calibrator,
    run: f64,
    last: Option<f64>,
    lowest: f64,
    highest: f64,
    n: usize,
    quiet_until: Timestamp,
    quiet_level: f64,
    /// (Absent from states saved before the contextual view: it then stays off.)
    #[serde(default)]
    cad: Option<ContextModel>,
    #[serde(default = "Surprise::unused")]
    cal_cad: Surprise,
    /// History of the combined p (`calibrate_combined`); absent from older states.
    #[serde(default = "Calibrator::unused")]
    cal_combined: Calibrator,
}

impl AutoDetector {
    pub fn new(config: &AutoConfig, band: &BandConfig) -> Result<Self, DetectError> {
        config.validate()?;
        Ok(AutoDetector {
            band: {
                let mut b = BandDetector::new(band)?;
                b.set_damped_gaps(config.damped_gaps);
                b
            },
            forest: RandomCutForest::new(&config.rcf, config.rcf.shingle)?,
            shingle: VecDeque::with_capacity(config.rcf.shingle),
            cal_band: Surprise::new(config.history, config.short_window),
            cal_rcf: Surprise::new(config.history, config.short_window),
            cal_flat: Calibrator {
                // a run of repeats is judged in points: each extra repeat divides by e
                min_scale: 1.0,
                ..Calibrator::new(config.history)
            },
            run: 0.0,
            last: None,
            lowest: f64::INFINITY,
            highest: f64::NEG_INFINITY,
            n: 0,
            quiet_until: Timestamp::MIN,
            quiet_level: 0.0,
            cad: match config.cad {
                CadMode::Off => None,
                _ => Some(ContextModel::new(&config.cad_model)?),
            },
            cal_cad: Surprise::new(config.history, config.short_window),
            cal_combined: if config.calibrate_combined {
                Calibrator::new(config.history)
            } else {
                Calibrator::unused()
            },
            config: config.clone(),
        })
    }

    fn rcf_raw(&mut self, value: f64) -> Option<f64> {
        if self.shingle.len() == self.config.rcf.shingle {
            self.shingle.pop_front();
        }
        self.shingle.push_back(value);
        if self.shingle.len() < self.config.rcf.shingle {
            return None;
        }
        // scored in place: no allocation per point
        let point = self.shingle.make_contiguous();
        let s = self.forest.score(point);
        self.forest.update(point);
        Some(s)
    }

    /// Tail probability of a new record, or `None` while there is no range yet.
    fn record(&mut self, value: f64) -> Option<f64> {
        let (lo, hi) = (self.lowest, self.highest);
        let range = hi - lo;
        self.lowest = lo.min(value);
        self.highest = hi.max(value);
        if self.n <= self.config.warmup || range <= 0.0 || !range.is_finite() {
            return None;
        }
        let beyond = (value - hi).max(lo - value) / range - self.config.record_tolerance;
        if beyond <= 0.0 {
            return Some(1.0);
        }
        // 1/n for a record on either side, shrinking as the record is beaten by more
        Some(2.0 / self.n as f64 * (-10.0 * beyond).exp())
    }
}

impl Detector for AutoDetector {
    fn observe(&mut self, timestamp: Timestamp, value: f64) -> Result<Verdict, DetectError> {
        check_finite(timestamp, value)?;
        let given = value;
        let value = saturate(value);
        self.n += 1;
        let band_z = self.band.residual_z(timestamp, value);
        let band = self.band.predict(timestamp);
        self.band.train(timestamp, value);
        let rcf = self.rcf_raw(value);
        let how = self.config.sustained;
        let fit = Fit {
            learn: self.config.learn_in_quiet || timestamp >= self.quiet_until,
            tail_min: self.config.tail_min,
            min_history: self.config.min_history,
        };
        let sfit = Fit {
            min_history: if self.config.sustained_effective {
                fit.min_history * self.config.short_window
            } else {
                fit.min_history
            },
            ..fit
        };
        // every look's tail probability, combined below (by default: the smallest,
        // Bonferroni-corrected)
        let mut ps = [1.0f64; 8];
        let mut looks = 0usize;
        let mut look = |p: f64| {
            ps[looks] = p;
            looks += 1;
        };
        if let Some(z) = band_z {
            self.cal_band
                .observe(z.abs().min(1e12), how, fit, sfit)
                .into_iter()
                .for_each(&mut look);
        }
        if let Some(r) = rcf {
            self.cal_rcf
                .observe(r, how, fit, sfit)
                .into_iter()
                .for_each(&mut look);
        }
        self.run = match self.last {
            Some(prev) if prev == value => self.run + 1.0,
            _ => 0.0,
        };
        self.last = Some(value);
        if self.n > 1 {
            look(self.cal_flat.observe(self.run, fit));
        }
        if let Some(p) = self.record(value) {
            look(p);
        }
        let cad = self.cad.as_mut().and_then(|m| m.observe(value));
        if let Some(c) = cad {
            match self.config.cad {
                CadMode::View => self
                    .cal_cad
                    .observe(c, how, fit, sfit)
                    .into_iter()
                    .for_each(&mut look),
                CadMode::Point => look(self.cal_cad.point.observe(c, fit)),
                CadMode::Off | CadMode::Max => {}
            }
        }
        if self.n <= self.config.warmup || looks == 0 {
            return Ok(Verdict {
                timestamp,
                value: given,
                band: None,
                score: 0.0,
                anomalous: false,
            });
        }
        let mut p = self.config.combine.combine(&mut ps[..looks]);
        if self.config.calibrate_combined {
            // how unusual is this combined p on this series? (its -ln, so larger is rarer)
            p = self.cal_combined.observe(-p.ln(), fit).clamp(1e-300, 1.0);
        }
        // -log10(p) / 12: 1e-6 → 0.5, 1e-12 and beyond → 1; p = 1 gives -0.0, which is
        // printed as "-0", hence the explicit zero
        let s = -p.log10() / 12.0;
        let mut score = if s > 0.0 { s.min(1.0) } else { 0.0 };
        if let (CadMode::Max, Some(c)) = (self.config.cad, cad) {
            score = score.max((self.config.cad_weight * c).min(1.0));
        }
        let mut anomalous = score >= self.config.alarm;
        if timestamp < self.quiet_until && score <= self.quiet_level * self.config.escalation {
            // the change was already reported: keep the ranking, stay under the alarm
            score *= 0.5 * self.config.alarm;
            anomalous = false;
        } else if anomalous {
            self.quiet_until = timestamp.saturating_add(self.config.quiet);
            self.quiet_level = score;
        }
        // the score may come before the band does (the forest, flat-line and record views need
        // fewer points than a whole seasonal cycle): an unknown band stays empty
        Ok(Verdict {
            timestamp,
            value: given,
            band,
            score,
            anomalous,
        })
    }

    fn predict(&self, timestamp: Timestamp) -> Option<Band> {
        self.band.predict(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{AnyDetector, DetectorConfig};

    /// A state saved before the contextual view existed still loads (the view stays off).
    #[test]
    fn state_without_the_contextual_view_loads() {
        let mut det = AutoDetector::new(&AutoConfig::default(), &BandConfig::default()).unwrap();
        for i in 0..300i64 {
            det.observe(300 * i, (i % 7) as f64).unwrap();
        }
        let mut json = serde_json::to_value(&det).unwrap();
        let obj = json.as_object_mut().unwrap();
        obj.remove("cad");
        obj.remove("cal_cad");
        let mut back: AutoDetector = serde_json::from_value(json).unwrap();
        assert!(back.cad.is_none());
        assert!(back.observe(300 * 300, 3.0).is_ok());
    }

    /// The bugs met in use: a zero-width band made of the value itself before the seasonal
    /// band was known, and scores printed as "-0".
    #[test]
    fn no_made_up_band_and_no_negative_zero() {
        let mut det = AnyDetector::new(&DetectorConfig::default()).unwrap();
        let (mut zero, mut scored_without_band, mut with_band) = (0, 0, 0);
        for i in 0..2000i64 {
            // five-minute points with a daily wave: the band needs a whole day of bins,
            // the other views score sooner
            let wave = (i as f64 / 288.0 * std::f64::consts::TAU).sin();
            let value = 10.0 + 3.0 * wave + ((i * 7919) % 13) as f64 / 13.0;
            let v = det.observe(1_396_310_400 + 300 * i, value).unwrap();
            assert!(v.score.is_sign_positive(), "row {i}: score {}", v.score);
            zero += usize::from(v.score == 0.0 && v.band.is_some());
            match v.band {
                None if v.score > 0.0 => scored_without_band += 1,
                None => {}
                Some(b) => {
                    assert!(b.lower < b.upper, "row {i}: zero-width band {b:?}");
                    with_band += 1;
                }
            }
        }
        assert!(with_band > 1500, "{with_band} rows with a band");
        assert!(zero > 0, "no score of exactly 0 was exercised");
        assert!(
            scored_without_band > 0,
            "the case of a score before the band was not exercised"
        );
    }
}
