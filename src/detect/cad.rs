//! `cad`: a contextual anomaly detector after the idea of CAD OSE, the "Contextual Anomaly
//! Detector, open source edition" of M. Smirnov in the Numenta Anomaly Benchmark
//! (<https://github.com/numenta/NAB>, `nab/detectors/context_ose`), written here from its
//! description, not from its code.
//!
//! Each value is quantised into one of `2^bits` levels of the range learned so far (the
//! running minimum and maximum: causal, where NAB hands CAD the file's range in advance), and
//! the level becomes `bits` facts, one per binary digit (digit `i` is 0 or 1). A *context* is a
//! left part, the levels of the last `k` points (`k = 1 ..= window`), and a right part, the
//! facts that followed it. The dictionary of learned contexts maps each left part to the
//! levels seen after it. Before a point is learned, the contexts whose left part matches the
//! recent points are the active ones, and the point is scored by how much of it they failed
//! to foresee: the share of its facts no active context predicted, plus the share of the
//! (left part, level) pairs that are new, halved (both in [0, 1], so the score is too). Then
//! every pair is learned.
//!
//! As in CAD, a detection is followed by a rest period (in points) during which scores are
//! damped below the alarm. The dictionary is bounded: it is kept in two generations, and when
//! the current one is full the older is dropped (a context met again is carried forward), so a
//! long-running series forgets what it has not seen for a long time.

use super::cad_ose::OseModel;
use super::{Band, DetectError, Detector, Timestamp, Verdict, check_finite, saturate};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// Tuning of `cad`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CadConfig {
    /// Binary digits of a quantised value (levels = 2^bits), 1–6.
    pub bits: u32,
    /// Longest left context, in points, 1–9.
    pub window: usize,
    /// Score at and above which a point is a detection.
    pub alarm: f64,
    /// Points after a detection during which scores are damped.
    pub rest: usize,
    /// Points before any score is given.
    pub warmup: usize,
    /// Contexts kept per generation of the dictionary.
    pub capacity: usize,
    /// What the raw score measures.
    pub measure: CadMeasure,
    /// How a level becomes facts.
    pub encoding: CadEncoding,
    /// Points of history for the rank quantiser; 0: levels split the range seen so far (CAD's).
    pub rank_history: usize,
    /// Which contextual model: the last `k` levels matched exactly, or CAD OSE's sets of facts.
    pub model: CadModel,
    /// With `model = Ose`: contexts fed back as facts per step (CAD's 15).
    pub active: usize,
    /// A raw score at the alarm during the rest period starts it again (CAD's rule: its output
    /// stays 0 while any of the last `rest` raw scores reached its threshold).
    pub hold: bool,
    /// 0: levels split the running range, which moves with every new record, so contexts
    /// learnt early mean other values later. Above 0: levels split a range fixed for an
    /// epoch, the range seen so far widened by this fraction of it on each side; a value
    /// outside starts a new epoch (wider range, contexts learnt afresh).
    pub range_pad: f64,
}

/// The contextual model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CadModel {
    /// Contexts are the exact levels of the last `k` points (`k = 1 ..= window`).
    #[default]
    Suffix,
    /// CAD OSE's: contexts are sets of facts matched by subset, active contexts are fed back
    /// as facts, `window` bounds a crossed left part ([`super::cad_ose`]).
    Ose,
}

/// How a quantised level becomes facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CadEncoding {
    /// One fact per binary digit (CAD's): neighbouring levels may share no digit.
    #[default]
    Binary,
    /// One fact per level boundary ("above boundary i"): the facts a context failed to
    /// foresee are the distance, in levels, from the value to the levels seen after it.
    Thermometer,
}

/// The raw score of the contextual model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CadMeasure {
    /// Half the share of unforeseen facts plus half the share of new (context, level) pairs.
    #[default]
    Both,
    /// The share of facts no active context foresaw.
    Facts,
    /// The share of new (context, level) pairs.
    New,
}

impl Default for CadConfig {
    fn default() -> Self {
        CadConfig {
            bits: 3,
            window: 7,
            alarm: 0.45,
            rest: 30,
            warmup: 0,
            capacity: 100_000,
            measure: CadMeasure::Both,
            encoding: CadEncoding::Binary,
            rank_history: 0,
            model: CadModel::Suffix,
            active: 15,
            hold: false,
            range_pad: 0.0,
        }
    }
}

impl CadConfig {
    pub fn validate(&self) -> Result<(), DetectError> {
        let bad = |what: &str| Err(DetectError::Config(format!("cad detector: {what}")));
        if !(1..=6).contains(&self.bits) {
            return bad("bits must be 1 to 6");
        }
        if !(1..=9).contains(&self.window) {
            return bad("window must be 1 to 9 points");
        }
        if !(self.alarm > 0.0 && self.alarm <= 1.0) {
            return bad("alarm must be in (0, 1]");
        }
        if !(self.range_pad.is_finite() && (0.0..=10.0).contains(&self.range_pad)) {
            return bad("range pad must be 0 to 10 (a fraction of the range)");
        }
        if self.capacity < 16 {
            return bad("capacity must be at least 16 contexts");
        }
        Ok(())
    }
}

/// The learned contexts and the running range; no alarm logic (`auto` uses it as a view).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContextModel {
    bits: u32,
    window: usize,
    capacity: usize,
    measure: CadMeasure,
    encoding: CadEncoding,
    lowest: f64,
    highest: f64,
    /// With a rank quantiser: the recent values, in arrival order and sorted.
    #[serde(default)]
    ranked: VecDeque<f64>,
    #[serde(default)]
    sorted: Vec<f64>,
    #[serde(default)]
    rank_history: usize,
    /// Levels of the last `window` points, oldest first.
    recent: VecDeque<u8>,
    /// Left part (order and levels, packed) -> bit set of the levels seen after it.
    current: HashMap<u64, u64>,
    previous: HashMap<u64, u64>,
    /// With `model = Ose`, the whole model (absent from states saved before it existed).
    #[serde(default)]
    ose: Option<OseModel>,
    /// With `range_pad > 0`: the epoch's range that levels split (empty until two values
    /// differ).
    #[serde(default)]
    range_pad: f64,
    #[serde(default)]
    epoch_lowest: f64,
    #[serde(default)]
    epoch_highest: f64,
}

impl ContextModel {
    pub fn new(config: &CadConfig) -> Result<Self, DetectError> {
        config.validate()?;
        Ok(ContextModel {
            bits: config.bits,
            window: config.window,
            capacity: config.capacity,
            measure: config.measure,
            encoding: config.encoding,
            ranked: VecDeque::new(),
            sorted: Vec::new(),
            rank_history: config.rank_history,
            lowest: f64::INFINITY,
            highest: f64::NEG_INFINITY,
            recent: VecDeque::with_capacity(config.window),
            current: HashMap::new(),
            previous: HashMap::new(),
            ose: (config.model == CadModel::Ose)
                .then(|| OseModel::new(config.bits, config.window, config.active, config.capacity)),
            range_pad: config.range_pad,
            epoch_lowest: 0.0,
            epoch_highest: 0.0,
        })
    }

    fn level(&self, value: f64) -> u8 {
        let levels = 1u32 << self.bits;
        if self.rank_history > 0 {
            // the value's rank among the recent values (a new record is the top level)
            let n = self.sorted.len();
            if n == 0 {
                return 0;
            }
            let below = self.sorted.partition_point(|&x| x < value);
            let x = (below as f64 / n as f64 * levels as f64).floor();
            return x.clamp(0.0, (levels - 1) as f64) as u8;
        }
        let (lowest, highest) = if self.range_pad > 0.0 {
            (self.epoch_lowest, self.epoch_highest)
        } else {
            (self.lowest, self.highest)
        };
        let range = highest - lowest;
        if range.is_nan() || range <= 0.0 {
            return 0;
        }
        let x = ((value - lowest) / range * levels as f64).floor();
        x.clamp(0.0, (levels - 1) as f64) as u8
    }

    /// Key of the left part made of the last `k` levels.
    fn key(&self, k: usize) -> u64 {
        let n = self.recent.len();
        let mut key = (k as u64) << 58;
        for (j, &q) in self.recent.range(n - k..).enumerate() {
            key |= u64::from(q) << (6 * j);
        }
        key
    }

    fn lookup(&mut self, key: u64) -> Option<u64> {
        if let Some(&m) = self.current.get(&key) {
            return Some(m);
        }
        let m = self.previous.remove(&key)?;
        self.insert(key, m);
        Some(m)
    }

    fn insert(&mut self, key: u64, mask: u64) {
        if self.current.len() >= self.capacity && !self.current.contains_key(&key) {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, mask);
    }

    /// Scores the value against the active contexts (in [0, 1]; `None` while there is no
    /// context yet), then learns it.
    pub fn observe(&mut self, value: f64) -> Option<f64> {
        let value = saturate(value);
        // kept with either model: an infinite range would not survive JSON
        self.lowest = self.lowest.min(value);
        self.highest = self.highest.max(value);
        if let Some(m) = &mut self.ose {
            return m.observe(value);
        }
        if self.range_pad > 0.0
            && !(self.epoch_lowest <= value && value <= self.epoch_highest)
            && self.highest > self.lowest
        {
            // a new epoch: what was learnt is in the old range's levels
            let pad = self.range_pad * (self.highest - self.lowest);
            self.epoch_lowest = self.lowest - pad;
            self.epoch_highest = self.highest + pad;
            self.current.clear();
            self.previous.clear();
            self.recent.clear();
        }
        let q = self.level(value);
        if self.rank_history > 0 {
            if self.ranked.len() == self.rank_history
                && let Some(old) = self.ranked.pop_front()
            {
                let i = self.sorted.partition_point(|&x| x < old);
                self.sorted.remove(i);
            }
            self.ranked.push_back(value);
            let i = self.sorted.partition_point(|&x| x < value);
            self.sorted.insert(i, value);
        }
        let all = (1u64 << self.bits) - 1;
        let (mut facts, mut foreseen, mut pairs, mut new) = (0u32, 0u32, 0u32, 0u32);
        for k in 1..=self.recent.len() {
            let key = self.key(k);
            let mask = self.lookup(key).unwrap_or(0);
            pairs += 1;
            if mask & (1 << q) == 0 {
                new += 1;
            }
            if mask != 0 && self.encoding == CadEncoding::Thermometer {
                let (lo, hi) = (mask.trailing_zeros(), 63 - mask.leading_zeros());
                let q = u32::from(q);
                let boundaries = all as u32;
                facts += boundaries;
                foreseen += boundaries - q.saturating_sub(hi) - lo.saturating_sub(q);
            } else if mask != 0 {
                // the digits the levels seen after this left part had, as ones and as zeros
                let (mut ones, mut zeros) = (0u64, 0u64);
                let mut m = mask;
                while m != 0 {
                    let level = u64::from(m.trailing_zeros());
                    ones |= level;
                    zeros |= !level & all;
                    m &= m - 1;
                }
                for i in 0..self.bits {
                    facts += 1;
                    let seen = if u64::from(q) >> i & 1 == 1 {
                        ones
                    } else {
                        zeros
                    };
                    foreseen += (seen >> i & 1) as u32;
                }
            }
            self.insert(key, mask | 1 << q);
        }
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(q);
        if pairs == 0 {
            return None;
        }
        let unforeseen = if facts == 0 {
            1.0
        } else {
            1.0 - f64::from(foreseen) / f64::from(facts)
        };
        let new = f64::from(new) / f64::from(pairs);
        Some(match self.measure {
            CadMeasure::Both => (unforeseen + new) / 2.0,
            CadMeasure::Facts => unforeseen,
            CadMeasure::New => new,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CadDetector {
    config: CadConfig,
    model: ContextModel,
    n: usize,
    /// Points left in the rest period.
    resting: usize,
}

impl CadDetector {
    pub fn new(config: &CadConfig) -> Result<Self, DetectError> {
        Ok(CadDetector {
            model: ContextModel::new(config)?,
            config: config.clone(),
            n: 0,
            resting: 0,
        })
    }
}

impl Detector for CadDetector {
    fn observe(&mut self, timestamp: Timestamp, value: f64) -> Result<Verdict, DetectError> {
        check_finite(timestamp, value)?;
        self.n += 1;
        let raw = self.model.observe(value);
        let mut score = match raw {
            Some(s) if self.n > self.config.warmup => s.clamp(0.0, 1.0),
            _ => 0.0,
        };
        let mut anomalous = score >= self.config.alarm;
        if self.resting > 0 {
            self.resting -= 1;
            if self.config.hold && anomalous {
                self.resting = self.config.rest;
            }
            score *= 0.5 * self.config.alarm;
            anomalous = false;
        } else if anomalous {
            self.resting = self.config.rest;
        }
        Ok(Verdict {
            timestamp,
            value,
            band: None,
            score,
            anomalous,
        })
    }

    fn predict(&self, _timestamp: Timestamp) -> Option<Band> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A steady wave with a little deterministic noise: every pattern repeats.
    fn steady(i: usize) -> f64 {
        let wave = (i as f64 / 50.0 * std::f64::consts::TAU).sin();
        10.0 + 3.0 * wave + ((i * 7919) % 13) as f64 / 130.0
    }

    fn run(values: &[f64]) -> Vec<Verdict> {
        let mut d = CadDetector::new(&CadConfig::default()).unwrap();
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| d.observe(300 * i as i64, v).unwrap())
            .collect()
    }

    #[test]
    fn steady_series_is_not_flagged_after_learning() {
        let values: Vec<f64> = (0..3000).map(steady).collect();
        let v = run(&values);
        let late = v[1000..].iter().filter(|v| v.anomalous).count();
        assert_eq!(late, 0, "a repeating wave was flagged {late} times");
        let max = v[1000..].iter().map(|v| v.score).fold(0.0, f64::max);
        assert!(max < 0.4, "steady scores reach {max}");
    }

    #[test]
    fn spike_is_flagged() {
        let mut values: Vec<f64> = (0..2000).map(steady).collect();
        values[1500] = 30.0;
        let v = run(&values);
        assert!(v[1500].anomalous, "spike scored {}", v[1500].score);
        assert!(v[1000..1500].iter().all(|v| !v.anomalous));
    }

    #[test]
    fn level_shift_is_flagged() {
        let mut values: Vec<f64> = (0..2000).map(steady).collect();
        for v in &mut values[1500..] {
            *v += 12.0;
        }
        let v = run(&values);
        assert!(
            v[1500..1510].iter().any(|v| v.anomalous),
            "shift scored {:?}",
            v[1500..1510].iter().map(|v| v.score).collect::<Vec<_>>()
        );
        assert!(v[1000..1500].iter().all(|v| !v.anomalous));
    }

    #[test]
    fn scores_of_a_prefix_do_not_change_when_points_are_appended() {
        let mut values: Vec<f64> = (0..1500).map(steady).collect();
        values[700] = -5.0;
        let short = run(&values[..1000]);
        let long = run(&values);
        assert_eq!(short, long[..1000].to_vec());
        // the same with levels by rank among recent values
        let ranked = |values: &[f64]| {
            let mut d = CadDetector::new(&CadConfig {
                rank_history: 200,
                ..CadConfig::default()
            })
            .unwrap();
            let out: Vec<Verdict> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| d.observe(300 * i as i64, v).unwrap())
                .collect();
            out
        };
        assert_eq!(ranked(&values[..1000]), ranked(&values)[..1000].to_vec());
    }

    #[test]
    fn bad_settings_are_rejected() {
        for c in [
            CadConfig {
                bits: 0,
                ..CadConfig::default()
            },
            CadConfig {
                window: 10,
                ..CadConfig::default()
            },
            CadConfig {
                alarm: 0.0,
                ..CadConfig::default()
            },
        ] {
            assert!(CadDetector::new(&c).is_err(), "{c:?}");
        }
    }

    #[test]
    fn bounded_dictionary_keeps_working() {
        let mut d = CadDetector::new(&CadConfig {
            capacity: 16,
            ..CadConfig::default()
        })
        .unwrap();
        for i in 0..2000 {
            let v = d.observe(i, steady(i as usize * 7)).unwrap();
            assert!((0.0..=1.0).contains(&v.score));
        }
        assert!(d.model.current.len() <= 16 && d.model.previous.len() <= 16);
    }

    /// With `range_pad`, a record inside the padded range leaves every level where it was
    /// (the running range moves them all); one beyond it starts a new epoch.
    #[test]
    fn an_epoch_range_keeps_the_levels_until_a_value_leaves_it() {
        let config = |range_pad| CadConfig {
            range_pad,
            ..CadConfig::default()
        };
        let mut running = ContextModel::new(&config(0.0)).unwrap();
        let mut epoch = ContextModel::new(&config(0.5)).unwrap();
        for m in [&mut running, &mut epoch] {
            m.observe(0.0);
            m.observe(10.0);
        }
        let (before_running, before_epoch) = (running.level(5.5), epoch.level(5.5));
        running.observe(12.0);
        epoch.observe(12.0);
        assert_ne!(running.level(5.5), before_running);
        assert_eq!(epoch.level(5.5), before_epoch);
        assert!(!epoch.current.is_empty());
        epoch.observe(40.0);
        assert_eq!((epoch.epoch_lowest, epoch.epoch_highest), (-20.0, 60.0));
        assert_eq!(
            epoch.recent.len(),
            1,
            "a new epoch starts its contexts afresh"
        );
    }

    /// Levels 0..=7 of a range fixed by the first two points (7, then 3).
    fn levels(rest: &[u32]) -> Vec<f64> {
        let mut v = vec![7.0, 3.0];
        v.extend(rest.iter().map(|&l| f64::from(l)));
        v
    }

    fn model_scores(model: CadModel, values: &[f64]) -> Vec<Option<f64>> {
        let mut m = ContextModel::new(&CadConfig {
            model,
            ..CadConfig::default()
        })
        .unwrap();
        values.iter().map(|&v| m.observe(v)).collect()
    }

    /// After any high level (top digit 1) comes 0; a high level that was only ever followed
    /// by 3 (the 7) is then followed by 0. The exact last levels never saw 0 after a 7; CAD
    /// OSE's crossed context "top digit 1, then 0" foresees it.
    #[test]
    fn subset_matching_foresees_what_exact_matching_does_not() {
        let mut rest = Vec::new();
        for _ in 0..40 {
            rest.extend([4, 0, 5, 0, 6, 0]);
        }
        rest.extend([7, 0]);
        let values = levels(&rest);
        let last = values.len() - 1;
        let suffix = model_scores(CadModel::Suffix, &values)[last].unwrap();
        let ose = model_scores(CadModel::Ose, &values)[last].unwrap();
        // exact matching: nothing it learned after these levels was a 0 (score 1); CAD OSE's
        // best contexts predicted every fact of the 0 (score 0)
        assert!(suffix > 0.5, "exact matching scored {suffix}");
        assert_eq!(ose, 0.0, "subset matching scored {ose}, exact {suffix}");
    }

    /// CAD OSE's model scores a repeating wave 0 once learned and a spike high; its state
    /// survives a round trip through JSON (the indexes are rebuilt) with the same scores.
    #[test]
    fn ose_model_learns_flags_and_round_trips() {
        let config = CadConfig {
            model: CadModel::Ose,
            hold: true,
            alarm: 0.75,
            ..CadConfig::default()
        };
        let mut values: Vec<f64> = (0..2000).map(steady).collect();
        values[1500] = 30.0;
        let mut d = CadDetector::new(&config).unwrap();
        let v: Vec<Verdict> = values[..1200]
            .iter()
            .enumerate()
            .map(|(i, &x)| d.observe(300 * i as i64, x).unwrap())
            .collect();
        assert!(v[1000..].iter().all(|v| !v.anomalous));
        let json = serde_json::to_string(&d).unwrap();
        let mut back: CadDetector = serde_json::from_str(&json).unwrap();
        for (i, &x) in values.iter().enumerate().skip(1200) {
            let a = d.observe(300 * i as i64, x).unwrap();
            let b = back.observe(300 * i as i64, x).unwrap();
            assert_eq!(a, b, "row {i}");
            if i == 1500 {
                assert!(a.anomalous, "spike scored {}", a.score);
            }
        }
    }

    /// A state saved before `model`, `active`, `hold` and the OSE model existed still loads.
    #[test]
    fn state_without_the_ose_fields_loads() {
        let mut d = CadDetector::new(&CadConfig::default()).unwrap();
        for i in 0..300 {
            d.observe(300 * i as i64, steady(i)).unwrap();
        }
        let mut json = serde_json::to_value(&d).unwrap();
        for key in ["model", "active", "hold"] {
            json["config"].as_object_mut().unwrap().remove(key);
        }
        json["model"].as_object_mut().unwrap().remove("ose");
        let mut back: CadDetector = serde_json::from_value(json).unwrap();
        assert_eq!(
            back.observe(300 * 300, 3.0).unwrap(),
            d.observe(300 * 300, 3.0).unwrap()
        );
    }
}
