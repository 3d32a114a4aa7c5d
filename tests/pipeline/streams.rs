//! The stream consumer against the simulated account: every record after the start is handled
//! exactly once across a restart (checkpoints in the store) and across the default world's
//! shard split; malformed records are counted, never fatal.

use crate::support::pipeline::*;
use crate::support::sim::paused;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::Cloud;
use watchband::cloud::sim::SimCloud;
use watchband::interop::TEMPERATURE_STREAM;
use watchband::pipeline::{Event, StreamStart};
use watchband::store::Store;

const HOUR: Duration = Duration::from_secs(3600);

/// What one run handled: decodable records (shard, seq) with repeats, and rejected per shard.
#[derive(Default)]
struct Handled {
    points: Vec<(String, String)>,
    rejected: BTreeMap<String, u64>,
}

fn handled(seen: &[Event]) -> Handled {
    let mut h = Handled::default();
    for e in seen {
        match e {
            Event::Temperatures(ps) => h.points.extend(
                ps.iter()
                    .map(|p| (p.shard_id.clone(), p.sequence_number.clone())),
            ),
            Event::Stream(s) if s.stream == TEMPERATURE_STREAM => {
                for sh in &s.shards {
                    h.rejected.insert(sh.shard_id.clone(), sh.rejected_total);
                }
            }
            _ => {}
        }
    }
    h
}

/// Advances the simulated clock in steps, letting the consumer keep up between steps.
async fn run_for(cloud: &SimCloud, run: &mut Run, total: Duration, step: Duration) {
    let mut done = Duration::ZERO;
    while done < total {
        cloud.advance(step);
        done += step;
        run.drain_for(Duration::from_secs(3)).await;
    }
    // Nothing new arrives now: let every reader reach the tip.
    run.drain_for(Duration::from_secs(10)).await;
}

fn stream_config() -> watchband::pipeline::PipelineConfig {
    let mut c = config();
    c.streams = vec![TEMPERATURE_STREAM.to_string()];
    c.stream_start = StreamStart::Latest;
    c
}

#[tokio::test(start_paused = true)]
async fn every_record_exactly_once_across_a_restart_and_a_split() {
    let cloud = paused(7);
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("watchband.db");
    // The default world splits its busier shard 40 h after the start.
    cloud.advance(39 * HOUR);
    let t0 = cloud.now();
    let shards_before = cloud.list_shards(TEMPERATURE_STREAM).await.unwrap();
    assert!(shards_before.iter().all(|s| s.ending_sequence.is_none()));

    let store = Arc::new(Store::open(&store_path).unwrap());
    let mut a = start(cloud.clone(), Some(store), stream_config());
    a.until(Duration::from_secs(10), "stream stats", |e, _| {
        matches!(e, Event::Stream(s) if s.shards.len() == shards_before.len()).then_some(())
    })
    .await;
    a.drain_for(Duration::from_secs(2)).await;
    run_for(
        &cloud,
        &mut a,
        Duration::from_secs(30 * 60),
        Duration::from_secs(5 * 60),
    )
    .await;
    let first = handled(&a.seen);
    assert!(!first.points.is_empty(), "the first run read nothing");
    drop(a);

    // Records keep arriving while watchband is not running.
    cloud.advance(Duration::from_secs(20 * 60));
    let store = Arc::new(Store::open(&store_path).unwrap());
    let mut b = start(cloud.clone(), Some(store), stream_config());
    run_for(&cloud, &mut b, 2 * HOUR, Duration::from_secs(10 * 60)).await;
    let second = handled(&b.seen);

    let shards_after = cloud.list_shards(TEMPERATURE_STREAM).await.unwrap();
    assert!(
        shards_after.iter().any(|s| s.ending_sequence.is_some())
            && shards_after.len() > shards_before.len(),
        "the world did not split a shard during the test"
    );
    let children: Vec<&String> = shards_after
        .iter()
        .filter(|s| s.parent.is_some())
        .map(|s| &s.id)
        .collect();
    assert!(
        second.points.iter().any(|(sh, _)| children.contains(&sh)),
        "nothing was read from the child shards"
    );

    let mut all = first.points.clone();
    all.extend(second.points.iter().cloned());
    let unique: BTreeSet<(String, String)> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "some records were handled twice");

    let (expected, bad) = direct_read(&cloud, t0).await;
    let missing: Vec<_> = expected.difference(&unique).take(5).collect();
    let extra: Vec<_> = unique.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    let rejected: u64 =
        first.rejected.values().sum::<u64>() + second.rejected.values().sum::<u64>();
    assert_eq!(rejected as usize, bad, "malformed records counted");
    assert!(bad > 0, "the world's malformed records did not show up");
}

#[tokio::test(start_paused = true)]
async fn readings_are_judged_and_rejects_kept_for_inspection() {
    let cloud = paused(7);
    let mut run = start(cloud.clone(), None, stream_config());
    run.drain_for(Duration::from_secs(2)).await;
    // A hot reading (the temperature pipeline's rule: above highest_temp) put by a producer among the world's,
    // a minute after the consumer started from LATEST.
    cloud.advance(Duration::from_secs(60));
    put_reading(cloud.as_ref(), "DHT_001", 104.2).await;
    run_for(&cloud, &mut run, 2 * HOUR, Duration::from_secs(10 * 60)).await;
    let points: Vec<_> = run
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::Temperatures(p) => Some(p.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let devices: BTreeSet<&str> = points.iter().map(|p| p.device.as_str()).collect();
    assert_eq!(devices.len(), 4, "devices seen: {devices:?}");
    assert!(points.iter().all(|p| p.lowest < p.highest));
    assert!(points.iter().filter(|p| p.verdict.is_ready()).count() > points.len() / 2);
    let stats = run
        .seen
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Stream(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    let rejected: Vec<_> = stats
        .shards
        .iter()
        .flat_map(|s| s.last_rejected.iter())
        .collect();
    assert!(!rejected.is_empty(), "no malformed record was kept");
    assert!(
        rejected
            .iter()
            .all(|r| !r.error.is_empty() && !r.raw.is_empty())
    );
    let anomalies: Vec<_> = run
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::TemperatureAnomalies(a) => Some(a.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        anomalies
            .iter()
            .any(|a| a.deviceid == "DHT_001" && a.value == 104.2 && a.anomaly_type == "Hot"),
        "the hot reading was not reported: {anomalies:?}"
    );
}

/// `process stream`: the processor (the sink) decodes and judges every record; the consumer
/// beside it only counts what the sink reports and sends no readings of its own, so no record
/// is judged twice.
#[tokio::test(start_paused = true)]
async fn with_a_sink_the_consumer_counts_and_does_not_judge_again() {
    use watchband::processors::stream::{ProcessorSink, StreamProcessorConfig};
    let cloud = paused(7);
    let topic = cloud
        .create_topic(watchband::interop::TEMPERATURE_TOPIC, None)
        .await
        .unwrap();
    let sink = Arc::new(ProcessorSink::new(
        cloud.clone(),
        StreamProcessorConfig::new(&topic),
    ));
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let mut events =
        watchband::pipeline::spawn_stream_consumer(dyn_cloud, None, stream_config(), sink.clone());
    let mut seen = Vec::new();
    let mut drain = async |seen: &mut Vec<Event>, d: Duration| {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, events.recv()).await {
            seen.push(e);
        }
    };
    drain(&mut seen, Duration::from_secs(2)).await;
    for _ in 0..6 {
        cloud.advance(Duration::from_secs(10 * 60));
        drain(&mut seen, Duration::from_secs(3)).await;
    }
    drain(&mut seen, Duration::from_secs(10)).await;

    let totals = sink.totals();
    assert!(totals.readings > 10_000, "the sink handled {totals:?}");
    assert!(totals.rejected > 0, "no malformed record reached the sink");
    let judged_by_consumer = seen
        .iter()
        .filter(|e| matches!(e, Event::Temperatures(_) | Event::TemperatureAnomalies(_)))
        .count();
    assert_eq!(
        judged_by_consumer, 0,
        "the consumer judged the sink's records again"
    );
    let stats = seen
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Stream(s) => Some(s.clone()),
            _ => None,
        })
        .expect("stream stats");
    let counted: u64 = stats.shards.iter().map(|s| s.records_total).sum();
    let rejected: u64 = stats.shards.iter().map(|s| s.rejected_total).sum();
    assert_eq!(counted, totals.records, "records counted by the consumer");
    assert_eq!(rejected, totals.rejected, "rejects reported by the sink");
    assert!(
        stats.shards.iter().flat_map(|s| &s.last_rejected).count() > 0,
        "the sink's rejects are kept for inspection"
    );
}

/// Two workers with shard leases on the simulated account, across the default world's shard
/// split: they share the shards, every record after the start is handled (none lost), the
/// children are read once their parent has `SHARD_END` in its lease, and each closed parent
/// ends with `SHARD_END`.
#[tokio::test(start_paused = true)]
async fn two_leased_workers_share_the_stream_across_a_split() {
    use watchband::pipeline::leases::{LeaseSettings, ensure_table};
    let cloud = paused(7);
    cloud.advance(39 * HOUR);
    let t0 = cloud.now();
    ensure_table(cloud.as_ref(), "leases").await.unwrap();
    let leased = |worker: &str| {
        let mut c = stream_config();
        c.stream_start = StreamStart::At(t0);
        c.leases = Some(LeaseSettings {
            table: "leases".into(),
            period: Duration::from_secs(10),
            worker: worker.into(),
        });
        c
    };
    let mut a = start(cloud.clone(), None, leased("a"));
    let mut b = start(cloud.clone(), None, leased("b"));
    let step = Duration::from_secs(10 * 60);
    for _ in 0..18 {
        cloud.advance(step);
        tokio::join!(
            a.drain_for(Duration::from_secs(5)),
            b.drain_for(Duration::from_secs(5))
        );
    }
    tokio::join!(
        a.drain_for(Duration::from_secs(20)),
        b.drain_for(Duration::from_secs(20))
    );
    let (ha, hb) = (handled(&a.seen), handled(&b.seen));
    assert!(
        !ha.points.is_empty() && !hb.points.is_empty(),
        "a worker read nothing: {} / {}",
        ha.points.len(),
        hb.points.len()
    );
    let shards_after = cloud.list_shards(TEMPERATURE_STREAM).await.unwrap();
    let parents: Vec<&String> = shards_after
        .iter()
        .filter(|s| s.ending_sequence.is_some())
        .map(|s| &s.id)
        .collect();
    assert!(!parents.is_empty(), "the world did not split a shard");
    let children: Vec<&String> = shards_after
        .iter()
        .filter(|s| s.parent.is_some())
        .map(|s| &s.id)
        .collect();
    let all: BTreeSet<(String, String)> = ha.points.iter().chain(&hb.points).cloned().collect();
    assert!(
        all.iter().any(|(sh, _)| children.contains(&sh)),
        "nothing was read from the child shards"
    );
    let (expected, _) = direct_read(&cloud, t0).await;
    let missing: Vec<_> = expected.difference(&all).take(5).collect();
    let extra: Vec<_> = all.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    let leases = cloud
        .query(watchband::cloud::Query {
            table: "leases".into(),
            hash_key: "stream".into(),
            hash_value: watchband::cloud::AttrValue::S(
                cloud
                    .stream_identity(TEMPERATURE_STREAM)
                    .await
                    .unwrap()
                    .key(),
            ),
            limit: None,
            newest_first: false,
        })
        .await
        .unwrap();
    assert_eq!(leases.len(), shards_after.len(), "one lease per shard");
    for l in &leases {
        let shard = l["shard"].as_s().unwrap().to_string();
        if parents.contains(&&shard) {
            assert_eq!(l["checkpoint"].as_s(), Some("SHARD_END"), "{shard}");
        }
    }
    let owners: BTreeSet<&str> = leases
        .iter()
        .filter_map(|l| l.get("owner")?.as_s())
        .collect();
    assert_eq!(owners, BTreeSet::from(["a", "b"]), "{leases:?}");
}
