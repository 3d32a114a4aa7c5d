//! Small numeric helpers shared by the detectors: the seeded RNG (re-exported), the normal tail,
//! and exponentially weighted moments. Kept here so every detector calibrates scores the same way.

use serde::{Deserialize, Serialize};

/// The detectors' random cuts and reservoir keys come from the crate's one seeded generator;
/// re-exported here because the detectors' state (and the benches and tests) name it so.
pub use crate::rng::Rng;

/// `erf(x)` to about 1.2e-7 (Numerical Recipes' `erfc` Chebyshev fit); cheap enough for the
/// band's per-point budget.
pub fn erf(x: f64) -> f64 {
    1.0 - erfc(x)
}

pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Upper tail of the standard normal, `P(Z > z)`.
pub fn normal_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Exponentially weighted mean and variance whose weight starts as a plain average
/// (`1/n`) and settles at `1/window`, so early estimates are not biased towards zero.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EwStats {
    pub n: u64,
    pub mean: f64,
    pub var: f64,
    pub window: f64,
}

impl EwStats {
    pub fn new(window: f64) -> Self {
        EwStats {
            n: 0,
            mean: 0.0,
            var: 0.0,
            window: window.max(1.0),
        }
    }

    pub fn update(&mut self, x: f64) {
        self.n += 1;
        let a = (1.0 / self.n as f64).max(1.0 / self.window);
        let d = x - self.mean;
        self.mean += a * d;
        self.var = (1.0 - a) * (self.var + a * d * d);
    }

    pub fn std(&self) -> f64 {
        self.var.max(0.0).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        assert!((erf(0.0)).abs() < 1e-7);
        assert!((erf(1.0) - 0.842_700_79).abs() < 1e-6);
        assert!((erf(-2.0) + 0.995_322_27).abs() < 1e-6);
        assert!((normal_tail(1.959_964) - 0.025).abs() < 1e-6);
    }

    #[test]
    fn ew_stats_is_a_plain_average_at_first() {
        let mut s = EwStats::new(100.0);
        for x in [1.0, 2.0, 3.0, 4.0] {
            s.update(x);
        }
        assert!((s.mean - 2.5).abs() < 1e-12);
        assert!((s.var - 1.25).abs() < 1e-12);
    }
}
