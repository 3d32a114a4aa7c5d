//! What the per-device judge reports on the demo's temperature stream, where the truth is
//! known: 1 Hz readings with Gaussian noise, rare hot/cold excursions of a few minutes, and
//! DHT_003 frozen from 20 to 30 simulated hours after the start. An operator must get the rule's
//! Hot/Cold readings and one "Stuck", not a stream of statistical false alarms (a lone 3σ
//! reading per device every six minutes, before confirmation).

use crate::support::pipeline::read_stream;
use crate::support::sim::paused;
use std::collections::BTreeMap;
use std::time::Duration;
use watchband::interop::TEMPERATURE_STREAM;
use watchband::pipeline::temperature::{DeviceJudge, Judged, STUCK, UNUSUAL};

#[tokio::test]
async fn sixteen_hours_of_the_demo_stream_give_the_stuck_sensor_once_and_no_noise() {
    let sim = paused(7);
    let start = sim.start_time();
    sim.advance(Duration::from_secs(34 * 3600));
    let from = start + chrono::Duration::hours(16);
    let to = start + chrono::Duration::hours(32);

    let mut judge = DeviceJudge::new(2.0);
    let mut found: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let mut readings = 0u64;
    read_stream(&sim, from, Some(to), |shard, r| {
        if let Judged::Reading {
            point,
            anomaly: Some(a),
        } = judge.judge(TEMPERATURE_STREAM, shard, r)
        {
            found
                .entry((point.device.clone(), a.anomaly_type.clone()))
                .or_default()
                .push(a.timestamp.clone());
        }
        readings += 1;
    })
    .await;
    let count = |device: &str, kind: &str| {
        found
            .get(&(device.to_string(), kind.to_string()))
            .map_or(0, Vec::len)
    };
    let summary: BTreeMap<_, _> = found.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    eprintln!("{readings} records judged: {summary:?}");
    assert!(readings > 4 * 16 * 3600 * 99 / 100, "{readings}");
    assert_eq!(count("DHT_003", STUCK), 1, "{summary:?}");
    let stuck_at = &found[&("DHT_003".to_string(), STUCK.to_string())][0];
    assert!(
        stuck_at.as_str() > "2026-03-03 13:00:00" && stuck_at.as_str() < "2026-03-03 13:02:00",
        "found a minute after it froze at start + 20 h: {stuck_at}"
    );
    // Unusual: at most the end of the frozen stretch (the band shrank while it was stuck),
    // and excursions that stay inside the thresholds — a handful, not hundreds.
    let unusual: usize = ["DHT_001", "DHT_002", "DHT_003", "DHT_004"]
        .iter()
        .map(|d| count(d, UNUSUAL))
        .sum();
    assert!(unusual <= 4, "{summary:?}");
    for d in ["DHT_001", "DHT_002", "DHT_004"] {
        assert_eq!(count(d, STUCK), 0, "{summary:?}");
    }
}
