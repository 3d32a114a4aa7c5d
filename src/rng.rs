//! The one seeded random generator: SplitMix64, for everything that must be the same on every
//! run and machine for the same seed — the demo's world, the detectors' random cuts (whose
//! state is persisted), generated test readings and the UI fixture.
//!
//! It sits at the top level with no imports from the crate, so the pure `detect` core, the
//! simulator, the commands and the app can all use it. Jitter that must *not* repeat (retry
//! back-off) uses `fastrand` instead.
//!
//! The sequence is part of the project's output: the demo's worlds and the shipped recordings
//! are derived from it, so `mix`, `next_u64` and `next_f64` must not change.

use serde::{Deserialize, Serialize};

/// SplitMix64's increment (2^64 / φ).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function applied to `z + GOLDEN`: a strong 64-bit mixing bijection, and
/// exactly the value a generator in state `z` returns next.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1) from 64 random bits (the top 53, so every value is exact).
pub fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A SplitMix64 stream. Its whole state is one `u64`, so a detector's randomness survives
/// serialisation exactly (serialised as `{"state": N}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A stream for a small seed (1, 2, a config's `seed`): the seed is offset by the golden
    /// constant first, so seed 0 is no special case.
    pub fn new(seed: u64) -> Self {
        Self::from_state(seed ^ GOLDEN)
    }

    /// A stream that starts from `state` as it is; for keys that are already well mixed (a
    /// hash of a world's seed and an object's identity).
    pub fn from_state(state: u64) -> Self {
        Rng { state }
    }

    pub fn next_u64(&mut self) -> u64 {
        let out = mix(self.state);
        self.state = self.state.wrapping_add(GOLDEN);
        out
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        unit(self.next_u64())
    }

    /// Uniform in [0, n) without modulo bias worth caring about (Lemire's multiply-shift).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// Standard normal (Box–Muller; the first uniform is kept away from 0 for the logarithm).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(1e-12);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A UUID-shaped id (8-4-4-4-12 hex, version 4 layout), as AWS uses for message and job ids.
    pub fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_splitmix64() {
        // The reference outputs of SplitMix64 from state 0 (Vigna's splitmix64.c): the demo's
        // worlds and the recordings depend on exactly these.
        let mut r = Rng::from_state(0);
        let xs: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(
            xs,
            [
                0xE220_A839_7B1D_CDAF,
                0x6E78_9E6A_A1B9_65F4,
                0x06C4_5D18_8009_454F
            ]
        );
        // `new` offsets the seed; `mix` is the next output of a stream in that state.
        assert_eq!(Rng::new(7), Rng::from_state(7 ^ GOLDEN));
        assert_eq!(Rng::from_state(42).next_u64(), mix(42));
    }

    #[test]
    fn streams_are_reproducible_and_uniform() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<f64> = (0..10_000).map(|_| a.next_f64()).collect();
        let ys: Vec<f64> = (0..10_000).map(|_| b.next_f64()).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        let mut r = Rng::from_state(1);
        assert!((0..1000).all(|_| r.below(10) < 10));
        assert!((0..1000).all(|_| (2.0..3.0).contains(&r.range(2.0, 3.0))));
    }

    #[test]
    fn normals_have_unit_spread() {
        let mut r = Rng::new(3);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn uuids_have_the_aws_shape() {
        let id = Rng::new(1).uuid();
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(&id[14..15], "4");
    }

    #[test]
    fn the_state_serialises_as_before() {
        // Detector state persisted by earlier versions must load into the same stream.
        let r = Rng::from_state(12_345);
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"state":12345}"#);
        assert_eq!(
            serde_json::from_str::<Rng>(r#"{"state":12345}"#).unwrap(),
            r
        );
    }
}
