//! Confirmation for high-rate series: a per-reading verdict turned into findings an operator
//! can act on.
//!
//! At one reading per second even a 3σ band calls a normal reading anomalous every six
//! minutes or so (0.27 % of readings); each would be a table row and an alert. A real change
//! persists, noise does not, so a shift is *confirmed* only when `need` of the last `window`
//! readings fall outside the band on the same side (for 3 of 5 at 3σ, about one false
//! confirmation in 10⁸ readings), and it is reported once, when its episode begins. A stuck
//! sensor stays inside its band — its value is frozen where it was — so it is found by a run
//! of identical readings instead: normal readings at 0.1° resolution with σ ≈ 0.35 repeat
//! their predecessor about one time in nine, so a run of `stuck_after` identical values does
//! not happen by chance.

use super::Verdict;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfirmConfig {
    /// Readings looked at (at most 32).
    pub window: u32,
    /// Of those, how many must be outside the band on one side.
    pub need: u32,
    /// Identical consecutive readings that make a sensor stuck.
    pub stuck_after: u32,
}

impl Default for ConfirmConfig {
    fn default() -> Self {
        ConfirmConfig {
            window: 5,
            need: 3,
            stuck_after: 60,
        }
    }
}

/// A finding worth a row and an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Finding {
    /// The series left its band and stayed out (a shift, a drift, a spike that lasts).
    Shift,
    /// The same value again and again.
    Stuck,
}

/// One series' recent history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Confirm {
    above: u32,
    below: u32,
    shifted: bool,
    last: Option<f64>,
    run: u32,
}

impl Confirm {
    /// Takes the next reading and its band verdict; a finding is returned once per episode.
    pub fn step(
        &mut self,
        config: &ConfirmConfig,
        value: f64,
        verdict: &Verdict,
    ) -> Option<Finding> {
        let window = config.window.clamp(1, 32);
        let mask = if window == 32 {
            u32::MAX
        } else {
            (1u32 << window) - 1
        };
        let (hi, lo) = match (verdict.anomalous, verdict.band) {
            (true, Some(b)) => (value > b.upper, value < b.lower),
            _ => (false, false),
        };
        self.above = ((self.above << 1) | u32::from(hi)) & mask;
        self.below = ((self.below << 1) | u32::from(lo)) & mask;

        self.run = match self.last {
            Some(prev) if prev == value => self.run.saturating_add(1),
            _ => 1,
        };
        self.last = Some(value);

        let need = config.need.clamp(1, window);
        let out = self.above.count_ones() >= need || self.below.count_ones() >= need;
        let mut finding = None;
        if out && !self.shifted {
            finding = Some(Finding::Shift);
        }
        // The episode ends once the window is clean again, so a return is not a new shift.
        self.shifted = if out {
            true
        } else {
            self.shifted && (self.above | self.below) != 0
        };
        if self.run == config.stuck_after.max(2) {
            finding = Some(Finding::Stuck);
        }
        finding
    }

    /// Whether the series is in a stuck run now.
    pub fn stuck(&self, config: &ConfirmConfig) -> bool {
        self.run >= config.stuck_after.max(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Band;

    fn verdict(value: f64, mid: f64) -> Verdict {
        let band = Band {
            lower: mid - 1.0,
            upper: mid + 1.0,
            expected: mid,
        };
        Verdict {
            timestamp: 0,
            value,
            anomalous: value < band.lower || value > band.upper,
            band: Some(band),
            score: 0.0,
        }
    }

    fn run(values: &[f64]) -> Vec<(usize, Finding)> {
        let cfg = ConfirmConfig::default();
        let mut c = Confirm::default();
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| c.step(&cfg, *v, &verdict(*v, 0.0)).map(|f| (i, f)))
            .collect()
    }

    #[test]
    fn isolated_outliers_are_not_confirmed() {
        let mut v: Vec<f64> = (0..200).map(|i| (i % 7) as f64 * 0.1).collect();
        v[50] = 5.0;
        v[53] = 5.0;
        v[120] = -5.0;
        assert_eq!(run(&v), vec![]);
    }

    #[test]
    fn a_lasting_shift_is_reported_once_when_it_begins() {
        let mut v: Vec<f64> = (0..300).map(|i| (i % 7) as f64 * 0.1).collect();
        for (k, x) in v.iter_mut().enumerate().skip(100).take(100) {
            *x = 4.0 + (k % 3) as f64 * 0.1;
        }
        assert_eq!(run(&v), vec![(102, Finding::Shift)]);
    }

    #[test]
    fn a_second_episode_after_a_clean_window_is_reported_again() {
        let mut v: Vec<f64> = (0..100).map(|i| (i % 5) as f64 * 0.1).collect();
        for x in &mut v[20..24] {
            *x = -3.0;
        }
        for x in &mut v[60..64] {
            *x = 3.0;
        }
        assert_eq!(run(&v), vec![(22, Finding::Shift), (62, Finding::Shift)]);
    }

    #[test]
    fn a_frozen_value_is_stuck_after_the_run_length() {
        let mut v: Vec<f64> = (0..300).map(|i| (i % 9) as f64 * 0.1).collect();
        for x in &mut v[100..250] {
            *x = 0.3;
        }
        // v[99] = 0.0 and v[100..] = 0.3: the run starts at 100, the 60th identical is 159.
        assert_eq!(run(&v), vec![(159, Finding::Stuck)]);
    }
}
