//! The operator's view of the detectors, as tests: false alarms per 1,000 normal points on the
//! demo's own series (the simulated account's CloudWatch CPU fleet and the Kinesis temperature
//! pipeline's sensors). A NAB score can rise while the alarms an operator is paged for rise
//! too; these bars are the rates measured before the cross-validated changes of `auto`, and a
//! change to any detector must not raise them.

use super::{Algo, AnyDetector, Detector, DetectorConfig};
use crate::cloud::sim::WorldSize;
use crate::cloud::sim::world::{World, default_start_ms};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// `(timestamp s, value, normal)` of every point; `normal` is false inside a known anomaly
/// and for a while after it (the detector's return to quiet is part of the same event).
type Labelled = Vec<(i64, f64, bool)>;

fn world() -> World {
    World::build(7, default_start_ms(), &WorldSize::default())
}

/// Two weeks of 5-minute `CPUUtilization` of each instance of the fleet, ending at the
/// injected anomaly's end plus a day.
fn cpu_series(w: &World) -> Vec<Labelled> {
    let fleet = &w.cpu;
    let end = w.start + 2 * 24 * HOUR_MS;
    let from = end - 14 * 24 * HOUR_MS;
    (0..fleet.instances.len())
        .map(|i| {
            let anomaly = fleet.instances[i].anomaly;
            (from..end)
                .step_by(5 * MINUTE_MS as usize)
                .map(|t| {
                    let hit = anomaly.is_some_and(|(a, b)| (a..b + 2 * HOUR_MS).contains(&t));
                    (t / 1000, fleet.value(i, t), !hit)
                })
                .collect()
        })
        .collect()
}

/// Three hours of per-second readings of two sensors, decoded as the Kinesis temperature
/// pipeline decodes them (malformed records skipped); the hot and cold excursions (outside its
/// 96–101 °F) and the ten minutes after each are not normal.
fn temperature_series(w: &World) -> Vec<Labelled> {
    let stream = &w.kinesis.streams[0];
    let end = w.start / 1000;
    let from = end - 3 * 3600;
    // device 2 is the one that gets stuck later on; the others are plain sensors
    [0usize, 1]
        .iter()
        .map(|&d| {
            let mut last_out = i64::MIN / 2;
            (from..end)
                .filter_map(|s| {
                    let bytes = stream.payload(w.kinesis.seed, d, s, s * 1000);
                    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
                    let v = json.get("value")?.as_f64()?;
                    if !(96.0..=101.0).contains(&v) {
                        last_out = s;
                    }
                    Some((s, v, s - last_out > 600))
                })
                .collect()
        })
        .collect()
}

/// False alarms per 1,000 normal points over the series, and the number of normal points.
fn false_alarm_rate(algo: Algo, series: &[Labelled]) -> (f64, usize) {
    let (mut alarms, mut normal) = (0usize, 0usize);
    for s in series {
        let mut det = AnyDetector::new(&DetectorConfig {
            algo,
            ..DetectorConfig::default()
        })
        .unwrap();
        for &(t, v, is_normal) in s {
            let verdict = det.observe(t, v).unwrap();
            if is_normal {
                normal += 1;
                alarms += usize::from(verdict.anomalous);
            }
        }
    }
    (1000.0 * alarms as f64 / normal.max(1) as f64, normal)
}

#[test]
fn false_alarms_on_the_demo_series_do_not_rise() {
    let w = world();
    let cpu = cpu_series(&w);
    let temp = temperature_series(&w);
    // (series, detector, rate measured on main 7b1d361 — `auto` on the CPU fleet: main 597485d,
    // 10 alarms, after branch `rank`'s recalibration —, rounded up to the next hundredth: one
    // more false alarm than then fails; the bars of main 6db6adc, where the issue set them, were
    // 1.17, 30.21, 14.94, 0.14, 30.85, 25.83). Unconfirmed per-point verdicts: the band and the
    // RCF metric scorer flag every few minutes at 1 Hz, which is why `persist` confirms findings.
    let bars = [
        ("CloudWatch CPU", &cpu, Algo::Auto, 0.83),
        ("CloudWatch CPU", &cpu, Algo::Band, 30.20),
        ("CloudWatch CPU", &cpu, Algo::Rcf, 14.94),
        ("temperature", &temp, Algo::Auto, 0.14),
        ("temperature", &temp, Algo::Band, 30.84),
        ("temperature", &temp, Algo::Rcf, 25.77),
    ];
    let mut report = String::new();
    let mut worse = Vec::new();
    for (name, series, algo, bar) in bars {
        let (rate, normal) = false_alarm_rate(algo, series);
        report += &format!("{name:15} {algo:?}: {rate:.2} per 1,000 of {normal} normal points\n");
        if rate > bar + 1e-9 || rate.is_nan() {
            worse.push(format!("{name} {algo:?}: {rate:.3} > {bar}"));
        }
    }
    eprint!("{report}");
    assert!(worse.is_empty(), "false alarms rose: {worse:?}\n{report}");
}
