//! Combining the tail probabilities of `auto`'s looks into one p-value.
//!
//! Each look (a view of surprise, for the point or the sustained mean) gives a tail
//! probability; the views are strongly dependent (the band and the forest see the same
//! spike), so the combination must stay valid under dependence. Four rules, all valid (or
//! asymptotically so) under arbitrary or mild dependence:
//! - Bonferroni: `L × min p`: only the strongest look counts;
//! - Simes: `min_i L × p_(i) / i`: a few agreeing looks can beat one strong one;
//! - harmonic mean p-value (Wilson, PNAS 2019): `L / Σ 1/p_i`, between `min p` and
//!   Bonferroni, closer to `min p` when several looks agree;
//! - Cauchy combination (Liu & Xie, JASA 2020): `1/2 - arctan(mean tan((1/2 - p_i)π))/π`, which
//!   for small p behaves like the harmonic mean; large p (a look that sees nothing) pull it up.

use serde::{Deserialize, Serialize};

/// How `auto` combines its looks' tail probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Combine {
    #[default]
    Bonferroni,
    Simes,
    Harmonic,
    Cauchy,
}

/// Largest p a look enters the Cauchy combination with: a p of 1 would be `tan(-π/2)`.
const CAUCHY_CAP: f64 = 0.99;

impl Combine {
    /// The combined p-value of the looks (each in (0, 1]); 1 when there are none. Reorders
    /// `ps` (Simes sorts it).
    pub fn combine(self, ps: &mut [f64]) -> f64 {
        let l = ps.len() as f64;
        if ps.is_empty() {
            return 1.0;
        }
        let p = match self {
            Combine::Bonferroni => ps.iter().copied().fold(1.0, f64::min) * l,
            Combine::Simes => {
                ps.sort_by(f64::total_cmp);
                ps.iter()
                    .enumerate()
                    .map(|(i, &p)| p * l / (i + 1) as f64)
                    .fold(1.0, f64::min)
            }
            Combine::Harmonic => l / ps.iter().map(|&p| 1.0 / p.max(1e-300)).sum::<f64>(),
            Combine::Cauchy => {
                // tan((1/2 - p)π) = 1/tan(pπ): exact for small p
                let t = ps
                    .iter()
                    .map(|&p| 1.0 / (p.clamp(1e-300, CAUCHY_CAP) * std::f64::consts::PI).tan())
                    .sum::<f64>()
                    / l;
                if t > 0.0 {
                    // 1/2 - arctan(t)/π = arctan(1/t)/π, without cancellation for large t
                    (1.0 / t).atan() / std::f64::consts::PI
                } else {
                    0.5 - t.atan() / std::f64::consts::PI
                }
            }
        };
        p.clamp(1e-300, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(ps: &[f64]) -> [f64; 4] {
        [
            Combine::Bonferroni,
            Combine::Simes,
            Combine::Harmonic,
            Combine::Cauchy,
        ]
        .map(|c| c.combine(&mut ps.to_vec()))
    }

    #[test]
    fn one_strong_look_is_judged_about_as_bonferroni_does() {
        let [b, s, h, c] = all(&[1e-6, 1.0, 1.0, 1.0, 0.5]);
        assert!((b - 5e-6).abs() < 1e-12);
        assert!((s - 5e-6).abs() < 1e-12);
        // the harmonic mean is at most L × min p and at least min p
        assert!((1e-6..=5e-6).contains(&h), "{h}");
        assert!(c > 1e-6 && c < 1e-5, "{c}");
    }

    #[test]
    fn agreeing_looks_count_more_than_one() {
        let ps = [1e-4, 1e-4, 1e-4, 1e-4, 1.0];
        let [b, s, h, c] = all(&ps);
        assert!((b - 5e-4).abs() < 1e-12);
        assert!(s < b && h < b && c < b, "{s} {h} {c} against {b}");
        assert!((s - 1.25e-4).abs() < 1e-12);
    }

    #[test]
    fn nothing_seen_is_one_and_no_look_is_one() {
        for p in all(&[1.0, 1.0, 1.0]) {
            assert!(p > 0.3 && p <= 1.0, "{p}");
        }
        assert_eq!(Combine::Harmonic.combine(&mut []), 1.0);
    }
}
