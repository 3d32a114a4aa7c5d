//! `auto`: the default detector for a series of unknown kind, and the one measured on NAB.
//!
//! Five views of surprise are computed for each point before it is learned:
//! - the seasonal band's residual, in robust standard deviations (spikes, dips, level shifts,
//!   a broken daily or weekly pattern);
//! - a Random Cut Forest over a short shingle of values (odd shapes the band cannot express,
//!   e.g. a stuck or suddenly noisy signal); the shingle starts afresh after a gap in the
//!   sampling (a step much longer than the series' running median step), so it only ever
//!   holds points that were consecutive in time;
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
//! single point shows). Since branch `rank`, each look also watches its own calibration in the
//! extreme tail: if its probability fell below 1e-3 more often than 1e-3 of the time over its
//! history, the exponential tail is too light on this series (a series that keeps producing
//! the same kind of bump), and its probabilities below 1e-3 are multiplied by that excess —
//! on NAB most false alarms are such recurring bumps, scored like the true anomalies
//! (docs/detect.md, "Ranking true hits above false rows"). The smallest tail probability, corrected for the number of looks
//! (Bonferroni; the other rules of [`super::combine`] were measured and lost), becomes the score on a logarithmic scale, so a score means the same on every series.
//! After a detection the score is damped for a while (unless a clearly stronger one comes):
//! one change is reported once, as an operator wants, and as NAB rewards.
//!
//! A detection is reported with a score of at least `report_floor` × the alarm (1.5×, since
//! branch `knowncause`). A detection starts a quiet period, so a threshold on the reported
//! scores (NAB's scorer chooses its own, on other files than it is then applied to) that fell
//! between a weak detection and the alarm would drop the detection and keep its quiet period,
//! which damps the change coming after it (on one NAB file a detection at 0.1793 damped a
//! 0.2045 fourteen points later in the same window, and at a threshold of 0.1797 the window
//! was lost). With the floor no reported score lies between the alarm and 1.5× it: any
//! threshold there gives the detector's own verdicts. The verdicts and the quiet period are
//! unchanged (they use the score itself).

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
    /// Points after a detection during which nothing breaks through the quiet period: the
    /// same episode is not reported twice (0: an escalation may come at the next point).
    /// Scores in that gap raise the level an escalation must beat (the episode's peak).
    pub escalation_gap: usize,
    /// How the contextual detector (`cad`) joins the views (default: a fifth view, the point
    /// alone).
    pub cad: CadMode,
    /// How the looks' tail probabilities become one (default: Bonferroni; the others were
    /// measured and lost, docs/detect.md).
    pub combine: Combine,
    /// The contextual detector's model, when `cad` is not `Off`.
    pub cad_model: CadConfig,
    /// With `cad = Max`: the final score is the larger of `auto`'s and this × the contextual
    /// detector's raw score.
    pub cad_weight: f64,
    /// A step between two points longer than this many times the series' running median step
    /// (its last [`STEPS`] steps, causal) is a gap: the forest's shingle starts afresh after it,
    /// so no shingle joins points on either side of one (default 8; 0 is off: main's `auto`
    /// before branch `traffic`). The median needs 8 steps; until then nothing is a gap.
    pub gap: f64,
    /// A detection's reported score is at least this many times the alarm (default 1.5; 1 or
    /// less is off: main's `auto` before branch `knowncause`). Only the reported score: the
    /// quiet period and the escalation use the score itself. A detection starts a quiet
    /// period, so a threshold on the reported scores (NAB's scorer chooses its own) that split
    /// weak detections from strong ones would keep a quiet period whose detection it does not
    /// count; with the floor no reported score lies between the alarm and the floor, and every
    /// threshold in that range gives the detector's own verdicts.
    pub report_floor: f64,
    /// Per-look recalibration of the extreme tail (default 1e-3; 0 is off, main's `auto` before
    /// branch `rank`): a look whose tail
    /// probability fell below this level q more often than q of the time in its own history
    /// (the calibrator's last `history` probabilities, counted before correction) has an
    /// exponential tail too light on this series; its probabilities below q are multiplied by
    /// the observed excess `(count + recal_prior) / (looks × q + recal_prior)` (never below 1).
    pub recal: f64,
    /// Pseudo-count of the recalibration's excess (see `recal`; default 0.25).
    pub recal_prior: f64,
}

/// Steps remembered for the running median step (gap handling).
const STEPS: usize = 64;

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
            escalation_gap: 16,
            cad: CadMode::Point,
            combine: Combine::Bonferroni,
            cad_model: CadConfig {
                bits: 5,
                range_pad: 0.5,
                ..CadConfig::default()
            },
            cad_weight: 0.2,
            gap: 8.0,
            report_floor: 1.5,
            recal: 1e-3,
            recal_prior: 0.25,
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
        if !(self.gap.is_finite() && self.gap >= 0.0) {
            return bad("gap must be a non-negative number of median steps");
        }
        if !(self.report_floor.is_finite() && self.report_floor >= 0.0) {
            return bad("report floor must be a non-negative multiple of the alarm");
        }
        let prior_ok = self.recal_prior.is_finite() && self.recal_prior > 0.0;
        if !((0.0..1.0).contains(&self.recal) && prior_ok) {
            return bad("recal must be in [0, 1) and its prior positive");
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
    /// Recalibration level q of the extreme tail (0: off; `AutoConfig::recal`).
    #[serde(default)]
    recal: f64,
    #[serde(default)]
    recal_prior: f64,
    /// Whether each of the last `capacity` probabilities given was below `recal`, and how many.
    #[serde(default)]
    below: VecDeque<bool>,
    #[serde(default)]
    below_count: usize,
}

/// Most looks a point can get: the band and the forest, point and sustained (4), the flat line
/// and the record (2), the contextual view in `View` mode (2).
const MAX_LOOKS: usize = 8;
/// Fraction of the history above the tail threshold.
const TAIL: f64 = 0.02;
/// History needed before a probability is given.
const MIN_HISTORY: usize = 50;

impl Calibrator {
    fn new(capacity: usize) -> Self {
        Calibrator {
            ring: VecDeque::with_capacity(capacity),
            sorted: Vec::with_capacity(capacity),
            capacity: capacity.max(MIN_HISTORY),
            min_scale: 0.0,
            recal: 0.0,
            recal_prior: 0.0,
            below: VecDeque::new(),
            below_count: 0,
        }
    }

    fn with_recal(mut self, q: f64, prior: f64) -> Self {
        self.recal = q;
        self.recal_prior = prior;
        self
    }

    /// `p` corrected by this calibrator's own excess of probabilities below `recal`, and the
    /// uncorrected `p` counted.
    fn recalibrate(&mut self, p: f64) -> f64 {
        if self.recal <= 0.0 || self.sorted.len() < MIN_HISTORY {
            return p;
        }
        let q = self.recal;
        let m = self.below.len() as f64;
        let out = if p < q {
            let excess = (self.below_count as f64 + self.recal_prior) / (m * q + self.recal_prior);
            (p * excess.max(1.0)).min(1.0)
        } else {
            p
        };
        if self.below.len() == self.capacity
            && let Some(old) = self.below.pop_front()
        {
            self.below_count -= usize::from(old);
        }
        self.below.push_back(p < q);
        self.below_count += usize::from(p < q);
        out
    }

    /// `P(raw' >= raw)` under the history; 1 while the history is short.
    fn tail(&self, raw: f64) -> f64 {
        let n = self.sorted.len();
        if n < MIN_HISTORY {
            return 1.0;
        }
        let k = ((n as f64) * TAIL).ceil() as usize;
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

    fn observe(&mut self, raw: f64) -> f64 {
        let p = self.tail(raw);
        self.learn(raw);
        self.recalibrate(p)
    }
}

/// A raw signal seen two ways: the point alone and the mean of the last few points.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Surprise {
    point: Calibrator,
    sustained: Calibrator,
    recent: VecDeque<f64>,
    window: usize,
}

impl Surprise {
    /// A placeholder for a view that is off.
    fn unused() -> Self {
        Surprise::new(MIN_HISTORY, 1)
    }

    fn new(history: usize, window: usize) -> Self {
        Surprise::with_recal(history, window, 0.0, 0.0)
    }

    fn with_recal(history: usize, window: usize, q: f64, prior: f64) -> Self {
        Surprise {
            point: Calibrator::new(history).with_recal(q, prior),
            sustained: Calibrator::new(history).with_recal(q, prior),
            recent: VecDeque::with_capacity(window),
            window: window.max(1),
        }
    }

    /// The point's and the sustained mean's tail probabilities (1 for the latter while the
    /// window is not yet full: the look is counted all the same).
    fn observe(&mut self, raw: f64) -> [f64; 2] {
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(raw);
        let p = self.point.observe(raw);
        if self.recent.len() < self.window {
            return [p, 1.0];
        }
        let m = self.recent.iter().sum::<f64>() / self.window as f64;
        [p, self.sustained.observe(m)]
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
    /// `n` at the last detection (0 in states saved before `escalation_gap`).
    #[serde(default)]
    alarmed_at: usize,
    /// (Absent from states saved before the contextual view: it then stays off.)
    #[serde(default)]
    cad: Option<ContextModel>,
    #[serde(default = "Surprise::unused")]
    cal_cad: Surprise,
    /// The last timestamp and the last [`STEPS`] positive steps (gap handling).
    #[serde(default)]
    last_ts: Option<Timestamp>,
    #[serde(default)]
    steps: VecDeque<i64>,
}

impl AutoDetector {
    pub fn new(config: &AutoConfig, band: &BandConfig) -> Result<Self, DetectError> {
        config.validate()?;
        let (q, prior) = (config.recal, config.recal_prior);
        let surprise = || Surprise::with_recal(config.history, config.short_window, q, prior);
        Ok(AutoDetector {
            band: BandDetector::new(band)?,
            forest: RandomCutForest::new(&config.rcf, config.rcf.shingle)?,
            shingle: VecDeque::with_capacity(config.rcf.shingle),
            cal_band: surprise(),
            cal_rcf: surprise(),
            cal_flat: Calibrator {
                // a run of repeats is judged in points: each extra repeat divides by e
                min_scale: 1.0,
                ..Calibrator::new(config.history).with_recal(q, prior)
            },
            run: 0.0,
            last: None,
            lowest: f64::INFINITY,
            highest: f64::NEG_INFINITY,
            n: 0,
            quiet_until: Timestamp::MIN,
            quiet_level: 0.0,
            alarmed_at: 0,
            cad: match config.cad {
                CadMode::Off => None,
                _ => Some(ContextModel::new(&config.cad_model)?),
            },
            cal_cad: surprise(),
            last_ts: None,
            steps: VecDeque::with_capacity(STEPS),
            config: config.clone(),
        })
    }

    /// This point's step in units of the running median step before it (causal), and learns
    /// the step; `None` for the first point or while fewer than 8 steps are known.
    fn relative_step(&mut self, timestamp: Timestamp) -> Option<f64> {
        let prev = self.last_ts.replace(timestamp)?;
        let step = timestamp.saturating_sub(prev);
        if step <= 0 {
            return None;
        }
        let rel = if self.steps.len() >= 8 {
            // on the stack: no allocation per point
            let mut v = [0i64; STEPS];
            let k = self.steps.len();
            v.iter_mut().zip(&self.steps).for_each(|(d, &s)| *d = s);
            let (_, median, _) = v[..k].select_nth_unstable(k / 2);
            Some(step as f64 / (*median).max(1) as f64)
        } else {
            None
        };
        if self.steps.len() == STEPS {
            self.steps.pop_front();
        }
        self.steps.push_back(step);
        rel
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
        let rel = self.relative_step(timestamp);
        if self.config.gap > 0.0 && rel.is_some_and(|r| r > self.config.gap) {
            self.shingle.clear();
        }
        let band_z = self.band.residual_z(timestamp, value);
        let band = self.band.predict(timestamp);
        self.band.train(timestamp, value);
        let rcf = self.rcf_raw(value);
        // every look's tail probability, combined below (by default: the smallest,
        // Bonferroni-corrected)
        let mut ps = [1.0f64; MAX_LOOKS];
        let mut looks = 0usize;
        let mut look = |p: f64| {
            ps[looks] = p;
            looks += 1;
        };
        if let Some(z) = band_z {
            self.cal_band
                .observe(z.abs().min(1e12))
                .into_iter()
                .for_each(&mut look);
        }
        if let Some(r) = rcf {
            self.cal_rcf.observe(r).into_iter().for_each(&mut look);
        }
        self.run = match self.last {
            Some(prev) if prev == value => self.run + 1.0,
            _ => 0.0,
        };
        self.last = Some(value);
        if self.n > 1 {
            look(self.cal_flat.observe(self.run));
        }
        if let Some(p) = self.record(value) {
            look(p);
        }
        let cad = self.cad.as_mut().and_then(|m| m.observe(value));
        if let Some(c) = cad {
            match self.config.cad {
                CadMode::View => self.cal_cad.observe(c).into_iter().for_each(&mut look),
                CadMode::Point => look(self.cal_cad.point.observe(c)),
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
        let p = self.config.combine.combine(&mut ps[..looks]);
        // -log10(p) / 12: 1e-6 → 0.5, 1e-12 and beyond → 1; p = 1 gives -0.0, which is
        // printed as "-0", hence the explicit zero
        let s = -p.log10() / 12.0;
        let mut score = if s > 0.0 { s.min(1.0) } else { 0.0 };
        if let (CadMode::Max, Some(c)) = (self.config.cad, cad) {
            score = score.max((self.config.cad_weight * c).min(1.0));
        }
        let mut anomalous = score >= self.config.alarm;
        let quiet = timestamp < self.quiet_until;
        let same_episode = quiet && self.n - self.alarmed_at <= self.config.escalation_gap;
        if same_episode {
            // the episode just reported: its peak is what a later escalation must beat
            self.quiet_level = self.quiet_level.max(score);
        }
        if quiet && (same_episode || score <= self.quiet_level * self.config.escalation) {
            // the change was already reported: keep the ranking, stay under the alarm
            score *= 0.5 * self.config.alarm;
            anomalous = false;
        } else if anomalous {
            self.quiet_until = timestamp.saturating_add(self.config.quiet);
            self.quiet_level = score;
            self.alarmed_at = self.n;
            // reported at least at the floor: nothing reported lies between the alarm and it
            // (the quiet period above keeps the score itself)
            score = score.max((self.config.report_floor * self.config.alarm).min(1.0));
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

    /// Five-minute points of a daily wave (288 points a day) with a little deterministic noise:
    /// the series the tests below disturb.
    fn wave(i: i64) -> f64 {
        let day = (i as f64 / 288.0 * std::f64::consts::TAU).sin();
        10.0 + 3.0 * day + ((i * 7919) % 13) as f64 / 13.0
    }

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

    /// A configuration saved before `combine` existed keeps Bonferroni, and every rule
    /// flags a plain spike on a quiet wave.
    #[test]
    fn every_combination_flags_a_spike_and_old_configs_keep_bonferroni() {
        let mut json = serde_json::to_value(AutoConfig::default()).unwrap();
        json.as_object_mut().unwrap().remove("combine");
        let old: AutoConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old.combine, Combine::Bonferroni);
        for combine in [
            Combine::Bonferroni,
            Combine::Simes,
            Combine::Harmonic,
            Combine::Cauchy,
        ] {
            let config = AutoConfig {
                combine,
                ..AutoConfig::default()
            };
            let mut det = AutoDetector::new(&config, &BandConfig::default()).unwrap();
            for i in 0..1500i64 {
                det.observe(300 * i, wave(i)).unwrap();
            }
            let v = det.observe(300 * 1500, wave(1500) + 40.0).unwrap();
            assert!(v.anomalous, "{combine:?}: spike scored {}", v.score);
        }
    }

    /// One episode is reported once: a detection followed two points later by a stronger
    /// score (beyond the 1.5× escalation) alarmed twice before `escalation_gap`; now the
    /// second is damped under the alarm.
    #[test]
    fn one_episode_is_not_alarmed_twice() {
        let value = |i: i64| {
            let bump = match i {
                1500 => 1.0,
                1502 => 3.0,
                _ => 0.0,
            };
            wave(i) + bump
        };
        let episode = |gap: usize| {
            let config = AutoConfig {
                escalation_gap: gap,
                ..AutoConfig::default()
            };
            let mut det = AutoDetector::new(&config, &BandConfig::default()).unwrap();
            let mut alarms = Vec::new();
            for i in 0..1600i64 {
                let v = det.observe(300 * i, value(i)).unwrap();
                if i >= 1490 && v.anomalous {
                    alarms.push((i, v.score));
                }
            }
            alarms
        };
        let before = episode(0);
        assert_eq!(before.len(), 2, "before: {before:?}");
        assert_eq!(
            (before[0].0, before[1].0),
            (1500, 1502),
            "before: {before:?}"
        );
        assert!(before[1].1 > 1.5 * before[0].1, "an escalation: {before:?}");
        assert_eq!(AutoConfig::default().escalation_gap, 16);
        let now = episode(16);
        assert_eq!(now.len(), 1, "now: {now:?}");
        assert_eq!(now[0], before[0]);
    }

    /// A detection is reported at least at `report_floor` × the alarm, so no threshold on the
    /// reported scores can drop a weak detection while keeping the quiet period it started:
    /// the verdicts and every other score are unchanged, a weak detection (under 1.5× the
    /// alarm before the floor) is reported at the floor, and the quiet period after it is
    /// the same (a later score is damped against the score itself, not the floor).
    #[test]
    fn a_detection_is_reported_at_least_at_the_floor() {
        let run = |floor: f64, bump: f64| {
            let config = AutoConfig {
                report_floor: floor,
                ..AutoConfig::default()
            };
            let mut det = AutoDetector::new(&config, &BandConfig::default()).unwrap();
            let value = |i: i64| {
                let bump = if (1500..1503).contains(&i) { bump } else { 0.0 };
                wave(i) + bump
            };
            (0..1700i64)
                .map(|i| {
                    let v = det.observe(300 * i, value(i)).unwrap();
                    (v.score, v.anomalous)
                })
                .collect::<Vec<_>>()
        };
        let config = AutoConfig::default();
        assert_eq!(config.report_floor, 1.5);
        let floor = config.report_floor * config.alarm;
        let mut weak = 0;
        for bump in [0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0] {
            let (before, now) = (run(0.0, bump), run(config.report_floor, bump));
            for (i, (&(old, old_alarm), &(new, new_alarm))) in before.iter().zip(&now).enumerate() {
                assert_eq!(old_alarm, new_alarm, "bump {bump}, row {i}");
                if old_alarm {
                    assert_eq!(new, old.max(floor), "bump {bump}, row {i}");
                    weak += usize::from(old < floor);
                } else {
                    assert_eq!(new, old, "bump {bump}, row {i}");
                    assert!(new < config.alarm, "bump {bump}, row {i}: {new}");
                }
            }
        }
        assert!(weak > 0, "no detection under the floor was exercised");
    }

    /// A view whose surprises come more often than its calibrated tail says: a bump of 1.2 on a
    /// quiet wave every 100 points (the band's exponential tail, fitted to the uniform noise,
    /// calls each one rarer than one in a thousand). Without the recalibration each bump past the
    /// quiet period is a new alarm; with it, the band's looks have seen their p fall below 1e-3
    /// far more often than 1e-3 of the time and are corrected by that excess, so fewer bumps
    /// alarm. A real spike on the same series is still flagged.
    #[test]
    fn a_look_surprised_too_often_is_recalibrated() {
        let value = |i: i64| {
            let bump = if i > 0 && i % 100 == 0 { 1.2 } else { 0.0 };
            wave(i) + bump
        };
        let run = |recal: f64| {
            let config = AutoConfig {
                recal,
                ..AutoConfig::default()
            };
            let mut det = AutoDetector::new(&config, &BandConfig::default()).unwrap();
            let mut alarms = 0;
            for i in 0..6000i64 {
                let v = det.observe(300 * i, value(i)).unwrap();
                alarms += usize::from(i >= 2000 && v.anomalous);
            }
            let spike = det.observe(300 * 6000, value(6000) + 40.0).unwrap();
            (alarms, spike.anomalous)
        };
        assert_eq!(AutoConfig::default().recal, 1e-3);
        let (with, spike) = run(AutoConfig::default().recal);
        let (without, _) = run(0.0);
        assert!(with < without, "{with} alarms with, {without} without");
        assert!(spike, "the spike is still an alarm");
        // a configuration saved before the setting loads with the new default; a detector state
        // saved before it loads with its calibrators uncorrected (their level defaults to 0)
        let mut json = serde_json::to_value(AutoConfig::default()).unwrap();
        json.as_object_mut().unwrap().remove("recal");
        let old: AutoConfig = serde_json::from_value(json).unwrap();
        assert_eq!(old.recal, AutoConfig::default().recal);
        let mut cal = serde_json::to_value(Calibrator::new(100)).unwrap();
        for k in ["recal", "recal_prior", "below", "below_count"] {
            cal.as_object_mut().unwrap().remove(k);
        }
        let mut cal: Calibrator = serde_json::from_value(cal).unwrap();
        assert_eq!(cal.recalibrate(1e-9), 1e-9);
    }

    /// Sparse, irregular sampling (NAB's realTraffic: hours without a point): the forest's
    /// shingle must not join the points on either side of a gap as if they were adjacent. A
    /// 5-minute daily wave loses twelve hours once, from its peak to its trough: the first
    /// points after the gap are ordinary for their time of day, but a shingle across the gap
    /// is a jump the forest never saw.
    #[test]
    fn a_gap_in_the_sampling_is_not_a_jump() {
        let run = |gap: f64| {
            let config = AutoConfig {
                gap,
                ..AutoConfig::default()
            };
            let mut det = AutoDetector::new(&config, &BandConfig::default()).unwrap();
            // the peak of day 10 is point 10 * 288 + 72; the trough twelve hours later
            let (from, to) = (10 * 288 + 72, 10 * 288 + 72 + 144);
            let (mut shingles, mut highest) = (Vec::new(), 0.0f64);
            for i in (0..4000i64).filter(|&i| i <= from || i >= to) {
                let v = det.observe(300 * i, wave(i)).unwrap();
                if (to..to + 4).contains(&i) {
                    shingles.push(det.shingle.len());
                }
                if (to..to + 8).contains(&i) {
                    highest = highest.max(v.score);
                }
            }
            (shingles, highest)
        };
        // with the gap judged against the running median step (5 minutes), the shingle after
        // the gap holds only points after it, and the points after it are not alarms
        let (shingles, highest) = run(AutoConfig::default().gap);
        assert_eq!(shingles, vec![1, 2, 3, 4]);
        let (old_shingles, old_highest) = run(0.0);
        assert!(highest < AutoConfig::default().alarm, "scored {highest}");
        // the old behaviour: the shingle spans the gap, and the forest calls the jump an alarm
        assert_eq!(old_shingles, vec![4, 4, 4, 4]);
        assert!(
            old_highest >= AutoConfig::default().alarm,
            "across the gap: {old_highest}"
        );
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
            let value = wave(i);
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
