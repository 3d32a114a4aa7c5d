//! The detectors on synthetic series whose anomalies we placed ourselves: a spike, a level
//! shift, a ransomware-like burst of changed blocks on a weekly-seasonal daily series, a stuck
//! sensor on a per-second series; plus configuration, clamping, exclusion and restarts.

use watchband::detect::rules::{RuleConfig, RuleDetector};
use watchband::detect::stats::Rng;
use watchband::detect::{
    Algo, AnyDetector, BandConfig, BandDetector, DetectError, Detector, DetectorConfig, RcfConfig,
    RcfDetector, Seasonality, ValueRange, Verdict,
};

const DAY: i64 = 86_400;
/// A Monday, 00:00 UTC (2024-01-01).
const MONDAY: i64 = 1_704_067_200;

/// Roughly normal noise from the crate's own RNG (sum of uniforms), so tests need no crates.
fn noise(rng: &mut Rng) -> f64 {
    (0..12).map(|_| rng.next_f64()).sum::<f64>() - 6.0
}

fn run(det: &mut impl Detector, series: &[(i64, f64)]) -> Vec<Verdict> {
    series
        .iter()
        .map(|&(t, v)| det.observe(t, v).expect("finite input"))
        .collect()
}

fn detector(algo: Algo) -> AnyDetector {
    AnyDetector::new(&DetectorConfig {
        algo,
        ..Default::default()
    })
    .unwrap()
}

/// Five-minute series around 50 with a little noise and a daily wave.
fn five_minute_series(n: usize, seed: u64) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let t = MONDAY + 300 * i as i64;
            let wave = 5.0 * ((t % DAY) as f64 / DAY as f64 * std::f64::consts::TAU).sin();
            (t, 50.0 + wave + noise(&mut rng))
        })
        .collect()
}

#[test]
fn spike_is_flagged_by_every_statistical_detector() {
    for algo in [Algo::Band, Algo::Rcf, Algo::Auto] {
        let mut series = five_minute_series(3000, 1);
        series[2500].1 += 40.0;
        let mut det = detector(algo);
        let v = run(&mut det, &series);
        assert!(
            v[2500].anomalous,
            "{algo:?} missed the spike: {:?}",
            v[2500]
        );
        assert!(v[2500].score > 0.9, "{algo:?}: {:?}", v[2500]);
        // and it is rare elsewhere: well under 2% of the learned points
        let false_alarms = v[1000..2490].iter().filter(|x| x.anomalous).count();
        let limit = if algo == Algo::Band { 60 } else { 30 };
        assert!(
            false_alarms < limit,
            "{algo:?}: {false_alarms} false alarms"
        );
    }
}

#[test]
fn level_shift_is_flagged_when_it_happens() {
    let mut series = five_minute_series(3000, 2);
    for p in &mut series[2400..] {
        p.1 += 25.0;
    }
    // the band (2σ, so ~5% of ordinary points fall outside) flags the shift and what follows
    let v = run(&mut detector(Algo::Band), &series);
    assert!(
        v[2400..2410].iter().all(|x| x.anomalous),
        "{:?}",
        &v[2400..2410]
    );
    // auto reports the change once, when it happens
    let v = run(&mut detector(Algo::Auto), &series);
    let first = (2300..3000).find(|&i| v[i].anomalous);
    assert!(
        first.is_some_and(|i| (2400..2405).contains(&i)),
        "auto: first detection at {first:?}"
    );
    // the band follows the new level: after a day it expects it
    let mut band = BandDetector::new(&BandConfig::default()).unwrap();
    let v = run(&mut band, &series);
    let b = v[2999].band.unwrap();
    assert!((b.expected - 75.0).abs() < 6.0, "{b:?}");
}

/// One changed-block count per daily backup: weekdays ~1000 blocks, weekends ~150.
fn backup_series(weeks: usize, seed: u64) -> Vec<(i64, f64)> {
    let mut rng = Rng::new(seed);
    (0..weeks * 7)
        .map(|d| {
            let t = MONDAY + d as i64 * DAY + 2 * 3600; // backups run at 02:00
            let weekend = d % 7 >= 5;
            let base = if weekend { 150.0 } else { 1000.0 };
            (t, (base + base * 0.05 * noise(&mut rng)).round())
        })
        .collect()
}

#[test]
fn ransomware_burst_on_a_weekly_daily_series() {
    let mut series = backup_series(10, 3);
    let burst = 9 * 7 + 2; // a Wednesday in week 10
    series[burst].1 = 9000.0;
    let cfg = DetectorConfig {
        algo: Algo::Band,
        band: BandConfig {
            range: ValueRange::NonNegative,
            ..BandConfig::default()
        },
        ..Default::default()
    };
    let mut det = AnyDetector::new(&cfg).unwrap();
    let v = run(&mut det, &series);
    // insufficient data until each weekday has been seen twice
    assert!(!v[5].is_ready());
    assert!(v[20].is_ready());
    assert!(v[burst].anomalous, "{:?}", v[burst]);
    // weekday/weekend matters: the band for a Saturday is far below a Wednesday's
    let sat = v[9 * 7 + 5].band.unwrap();
    let wed = v[burst].band.unwrap();
    assert!(
        sat.upper < wed.lower,
        "saturday {sat:?} vs wednesday {wed:?}"
    );
    assert!(sat.lower >= 0.0, "clamped to counts: {sat:?}");
    // no other day of the last 7 weeks is anomalous
    let others = (21..series.len())
        .filter(|&i| i != burst && v[i].anomalous)
        .count();
    assert!(others <= 2, "{others} false alarms");

    // a weekday-sized backup on a Saturday is also suspicious (encryption on a quiet day)
    let mut quiet_day = backup_series(10, 4);
    quiet_day[9 * 7 + 5].1 = 1000.0;
    let mut det = AnyDetector::new(&cfg).unwrap();
    let v = run(&mut det, &quiet_day);
    assert!(v[9 * 7 + 5].anomalous, "{:?}", v[9 * 7 + 5]);
}

#[test]
fn stuck_sensor_on_a_per_second_series() {
    let mut rng = Rng::new(5);
    let start = MONDAY;
    let mut series: Vec<(i64, f64)> = (0..4000)
        .map(|i| (start + i, 21.0 + 0.3 * noise(&mut rng)))
        .collect();
    let stuck_at = 3500;
    let stuck = series[stuck_at].1;
    for p in &mut series[stuck_at..] {
        p.1 = stuck;
    }
    let mut det = detector(Algo::Auto);
    let v = run(&mut det, &series);
    let first = (3000..4000).find(|&i| v[i].anomalous);
    assert!(
        first.is_some_and(|i| (stuck_at..stuck_at + 30).contains(&i)),
        "first detection at {first:?}"
    );
    assert!(v[1000..stuck_at].iter().filter(|x| x.anomalous).count() < 20);
}

#[test]
fn insufficient_data_first_then_a_band() {
    let series = five_minute_series(400, 6);
    let mut det = detector(Algo::Band);
    let v = run(&mut det, &series);
    assert!(!v[0].is_ready());
    assert_eq!(v[0].score, 0.0);
    assert!(v[399].is_ready());
    let b = v[399].band.unwrap();
    assert!(b.lower < b.expected && b.expected < b.upper);
}

#[test]
fn band_width_scales_the_band() {
    let series = five_minute_series(600, 7);
    let width_of = |width: f64| {
        let mut det = BandDetector::new(&BandConfig {
            width,
            ..BandConfig::default()
        })
        .unwrap();
        let b = run(&mut det, &series)[599].band.unwrap();
        b.upper - b.lower
    };
    let (w2, w3) = (width_of(2.0), width_of(3.0));
    assert!((w3 / w2 - 1.5).abs() < 1e-9, "{w2} {w3}");
    assert!(width_of(0.5) < w2);
}

#[test]
fn percent_band_is_clamped_to_0_100() {
    let mut rng = Rng::new(8);
    let series: Vec<(i64, f64)> = (0..600)
        .map(|i| {
            (
                MONDAY + 300 * i,
                (97.0 + 3.0 * noise(&mut rng)).clamp(0.0, 100.0),
            )
        })
        .collect();
    let mut det = BandDetector::new(&BandConfig {
        range: ValueRange::Percent,
        width: 4.0,
        ..BandConfig::default()
    })
    .unwrap();
    for v in run(&mut det, &series).iter().filter_map(|v| v.band) {
        assert!(v.lower >= 0.0 && v.upper <= 100.0, "{v:?}");
    }
}

#[test]
fn excluded_time_range_is_not_learned() {
    let mut series = five_minute_series(2000, 9);
    let (s, e) = (series[1500].0, series[1700].0);
    for p in &mut series[1500..1700] {
        p.1 = 500.0; // a maintenance window
    }
    let with = |excluded: Vec<(i64, i64)>| {
        let mut det = BandDetector::new(&BandConfig {
            excluded,
            ..BandConfig::default()
        })
        .unwrap();
        run(&mut det, &series)[1999].band.unwrap()
    };
    let clean = with(vec![(s, e)]);
    let polluted = with(vec![]);
    assert!((clean.expected - 50.0).abs() < 8.0, "{clean:?}");
    assert!(
        clean.upper - clean.lower < polluted.upper - polluted.lower,
        "{clean:?} {polluted:?}"
    );
}

#[test]
fn periodic_spikes_widen_the_band_where_they_recur() {
    // a daily batch job: a spike every day at 03:00 on a 5-minute series
    let mut series = five_minute_series(288 * 12, 10);
    for p in &mut series {
        if p.0 % DAY == 3 * 3600 {
            p.1 += 30.0;
        }
    }
    let last_spike = (0..series.len())
        .rev()
        .find(|&i| series[i].0 % DAY == 3 * 3600)
        .unwrap();
    let verdict = |periodic_spikes: bool| {
        let mut det = BandDetector::new(&BandConfig {
            periodic_spikes,
            ..BandConfig::default()
        })
        .unwrap();
        run(&mut det, &series)[last_spike]
    };
    assert!(verdict(false).anomalous);
    assert!(!verdict(true).anomalous, "{:?}", verdict(true));
}

#[test]
fn configured_seasonality_is_used() {
    let layout = |s: Seasonality, interval| band::Layout::choose(s, interval);
    use watchband::detect::band;
    assert_eq!(layout(Seasonality::Auto, 1).period, 3600);
    assert_eq!(layout(Seasonality::Auto, 300).period, DAY);
    assert_eq!(layout(Seasonality::Auto, DAY).bins, 7);
    assert_eq!(layout(Seasonality::None, 300).bins, 1);
    assert_eq!(layout(Seasonality::Weekly, 300).period, 7 * DAY);
}

#[test]
fn state_survives_a_restart() {
    for algo in [Algo::Band, Algo::Rcf, Algo::Rule, Algo::Auto] {
        let series = five_minute_series(1500, 11);
        let mut a = detector(algo);
        run(&mut a, &series[..1000]);
        let json = serde_json::to_string(&a).unwrap();
        let mut b: AnyDetector = serde_json::from_str(&json).unwrap();
        let va = run(&mut a, &series[1000..]);
        let vb = run(&mut b, &series[1000..]);
        // JSON keeps f64 to the last bit or one ulp, so compare with a tolerance
        for (i, (x, y)) in va.iter().zip(&vb).enumerate() {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * (1.0 + a.abs());
            let same_band = match (x.band, y.band) {
                (Some(p), Some(q)) => close(p.expected, q.expected) && close(p.upper, q.upper),
                (None, None) => true,
                _ => false,
            };
            assert!(
                close(x.score, y.score) && x.anomalous == y.anomalous && same_band,
                "{algo:?} diverged after a restart at {i}: {x:?} vs {y:?}"
            );
        }
    }
}

#[test]
fn non_finite_values_are_rejected() {
    for algo in [Algo::Band, Algo::Rcf, Algo::Rule, Algo::Auto] {
        let mut det = detector(algo);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            match det.observe(60, bad) {
                Err(DetectError::NonFinite { timestamp: 60, .. }) => {}
                other => panic!("{algo:?} accepted {bad}: {other:?}"),
            }
        }
        assert!(det.observe(120, 1.0).is_ok());
    }
}

#[test]
fn invalid_configurations_say_what_is_wrong() {
    let bad_width = DetectorConfig {
        band: BandConfig {
            width: 0.0,
            ..BandConfig::default()
        },
        ..Default::default()
    };
    let e = AnyDetector::new(&bad_width).unwrap_err();
    assert!(e.to_string().contains("band width"), "{e}");
    let bad_rcf = RcfConfig {
        trees: 0,
        ..RcfConfig::default()
    };
    let e = RcfDetector::new(&bad_rcf, &BandConfig::default()).unwrap_err();
    assert!(e.to_string().contains("trees"), "{e}");
}

#[test]
fn static_alarm_threshold_through_any_detector() {
    let mut det = detector(Algo::Rule);
    assert!(!det.observe(0, 79.0).unwrap().anomalous);
    assert!(det.observe(60, 81.0).unwrap().anomalous);
    let mut temp = RuleDetector::new(&RuleConfig::temperature(10.0, 30.0)).unwrap();
    assert!(temp.observe(0, 5.0).unwrap().anomalous);
    assert!(!temp.observe(1, 20.0).unwrap().anomalous);
    assert!(temp.observe(2, 35.0).unwrap().anomalous);
}
