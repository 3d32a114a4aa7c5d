//! Properties every detector keeps on arbitrary finite input: scores in [0, 1], bands ordered,
//! no panic, the same answers for the same seed, and a clear error on NaN or infinity.

use proptest::prelude::*;
use watchband::detect::{Algo, AnyDetector, DetectError, Detector, DetectorConfig, Verdict};

const ALGOS: [Algo; 5] = [Algo::Band, Algo::Rcf, Algo::Rule, Algo::Auto, Algo::Cad];

fn config(algo: Algo, seed: u64) -> DetectorConfig {
    let mut c = DetectorConfig {
        algo,
        ..Default::default()
    };
    c.rcf.seed = seed;
    c.rcf.trees = 10;
    c.auto.rcf.seed = seed;
    c.auto.rcf.trees = 10;
    c.auto.warmup = 20;
    c
}

fn series() -> impl Strategy<Value = Vec<(i64, f64)>> {
    // timestamps that go forwards, backwards and repeat; values of any finite size
    prop::collection::vec(
        (
            -1_000i64..100_000,
            prop_oneof![
                -1e300f64..1e300,
                -10.0f64..10.0,
                Just(0.0),
                Just(f64::MIN_POSITIVE),
                Just(f64::MAX),
                Just(f64::MIN),
            ],
        ),
        0..300,
    )
    .prop_map(|v| {
        let mut t = 0i64;
        v.into_iter()
            .map(|(dt, x)| {
                t = t.saturating_add(dt / 100);
                (t, x)
            })
            .collect()
    })
}

fn run(c: &DetectorConfig, s: &[(i64, f64)]) -> Vec<Verdict> {
    let mut d = AnyDetector::new(c).unwrap();
    s.iter().map(|&(t, x)| d.observe(t, x).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn scores_are_in_unit_interval_and_nothing_panics(s in series()) {
        for algo in ALGOS {
            for v in run(&config(algo, 1), &s) {
                prop_assert!((0.0..=1.0).contains(&v.score), "{algo:?} score {}", v.score);
                if let Some(b) = v.band {
                    prop_assert!(!b.lower.is_nan() && !b.upper.is_nan() && !b.expected.is_nan(), "{algo:?} {b:?}");
                    prop_assert!(b.lower <= b.upper, "{algo:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn same_seed_same_answers(s in series(), seed in any::<u64>()) {
        for algo in ALGOS {
            let c = config(algo, seed);
            prop_assert_eq!(run(&c, &s), run(&c, &s));
        }
    }

    #[test]
    fn non_finite_is_a_clear_error(s in series(), at in 0usize..300, bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)]) {
        for algo in ALGOS {
            let mut d = AnyDetector::new(&config(algo, 3)).unwrap();
            let at = at.min(s.len());
            for &(t, x) in &s[..at] {
                d.observe(t, x).unwrap();
            }
            let e = d.observe(42, bad).unwrap_err();
            prop_assert!(matches!(e, DetectError::NonFinite { timestamp: 42, .. }), "{:?}", e);
            prop_assert!(e.to_string().contains("not a finite number"));
            // the detector is still usable afterwards
            prop_assert!(d.observe(43, 1.0).is_ok());
        }
    }
}
