//! The simulator's keyed randomness: hashes of keys (a world's seed and an object's identity)
//! that seed the crate's one generator (`crate::rng`, SplitMix64). Everything in the simulated
//! world is derived from the seed through these, so the same seed gives the same world bit for
//! bit on every platform (no std hashing, no HashMap iteration order, no floating-point libm
//! differences in the key paths).

pub use crate::rng::{Rng, mix, unit};

/// Hashes a key made of several integers into one well-mixed value.
pub fn hash(parts: &[u64]) -> u64 {
    let mut h = 0x243F_6A88_85A3_08D3u64;
    for p in parts {
        h = mix(h ^ *p);
    }
    h
}

/// FNV-1a of a string, for keying things by name.
pub fn str_hash(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spread_and_differ_by_every_part() {
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
        assert_ne!(hash(&[1]), hash(&[1, 0]));
        assert_ne!(str_hash("web-01"), str_hash("web-02"));
        let mean = (0..10_000u64).map(|i| unit(hash(&[9, i]))).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
