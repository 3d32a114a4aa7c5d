//! Kinesis's read limit in the simulated account: five GetRecords calls per second per shard,
//! counted on real (tokio) time, refused with ProvisionedThroughputExceededException (the
//! seam's Throttling); and watchband's stream consumer living with it, alone and as one of two
//! consumers of the same stream (the TUI and the stream processor), without losing a record.

use crate::support::pipeline::{Run, config, direct_read, start};
use crate::support::sim::paused_with;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::sim::{SimCloud, SimOptions};
use watchband::cloud::{Cloud, ErrorKind, ShardPosition};
use watchband::interop::TEMPERATURE_STREAM;
use watchband::pipeline::{Event, PipelineConfig, StreamStart};

fn sim(speed: f64, read_limit: bool) -> Arc<SimCloud> {
    paused_with(SimOptions {
        seed: 7,
        speed,
        kinesis_read_limit: read_limit,
        ..SimOptions::default()
    })
}

async fn iterator(cloud: &SimCloud, shard: &str) -> String {
    cloud
        .get_shard_iterator(TEMPERATURE_STREAM, shard, ShardPosition::TrimHorizon)
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_tight_loop_is_throttled_after_five_calls_in_a_second_per_shard() {
    let cloud = sim(3600.0, true);
    let shards = cloud.list_shards(TEMPERATURE_STREAM).await.unwrap();
    let (a, b) = (shards[0].id.clone(), shards[1].id.clone());
    let mut it = iterator(&cloud, &a).await;
    for _ in 0..5 {
        it = cloud
            .get_records(&it, Some(100))
            .await
            .unwrap()
            .next_iterator
            .unwrap();
    }
    let e = cloud.get_records(&it, Some(100)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttling);
    assert_eq!(
        e.code.as_deref(),
        Some("ProvisionedThroughputExceededException")
    );
    assert_eq!(
        e.resource.as_deref(),
        Some(format!("{TEMPERATURE_STREAM}/{a}").as_str())
    );
    assert!(e.message.contains("Rate exceeded for shard"), "{e}");
    // The limit is per shard: the other shard answers.
    let other = iterator(&cloud, &b).await;
    assert!(cloud.get_records(&other, Some(100)).await.is_ok());
    // It is counted on real time: simulated hours passing do not lift it.
    cloud.advance(Duration::from_secs(3 * 3600));
    assert_eq!(
        cloud.get_records(&it, Some(100)).await.unwrap_err().kind,
        ErrorKind::Throttling
    );
    // Still refused just before the second is over, accepted once it is; the refused calls
    // had no effect, so the same iterator reads on.
    tokio::time::sleep(Duration::from_millis(999)).await;
    assert!(cloud.get_records(&it, Some(100)).await.is_err());
    tokio::time::sleep(Duration::from_millis(1)).await;
    let batch = cloud.get_records(&it, Some(100)).await.unwrap();
    assert_eq!(batch.records.len(), 100);
    let reads = cloud.kinesis_reads();
    let on = |shard: &str| reads.iter().find(|r| r.1 == shard).cloned().unwrap();
    assert_eq!((on(&a).2, on(&a).3), (6, 3), "accepted, throttled on {a}");
    assert_eq!((on(&b).2, on(&b).3), (1, 0));

    // Benchmarks of record generation can turn the limit off.
    let free = sim(3600.0, false);
    let mut it = iterator(&free, &a).await;
    for _ in 0..20 {
        it = free
            .get_records(&it, Some(10))
            .await
            .unwrap()
            .next_iterator
            .unwrap();
    }
}

fn stream_config() -> PipelineConfig {
    let mut c = config();
    c.streams = vec![TEMPERATURE_STREAM.to_string()];
    c.stream_start = StreamStart::Latest;
    // The shard reader's pacing as shipped (the other pollers keep the tests' quick ones).
    let shipped = PipelineConfig::default().intervals;
    c.intervals.shard_min_gap = shipped.shard_min_gap;
    c.intervals.shard_idle = shipped.shard_idle;
    c
}

/// Records handled by one run: (shard, sequence number), with repeats.
fn handled(seen: &[Event]) -> Vec<(String, String)> {
    seen.iter()
        .filter_map(|e| match e {
            Event::Temperatures(ps) => Some(
                ps.iter()
                    .map(|p| (p.shard_id.clone(), p.sequence_number.clone()))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Receives the events of every run during `d`, concurrently, so no reader waits on a full
/// event channel.
async fn drain_all(runs: &mut [Run], d: Duration) {
    match runs {
        [a] => a.drain_for(d).await,
        [a, b] => {
            tokio::join!(a.drain_for(d), b.drain_for(d));
        }
        _ => unreachable!("one or two consumers"),
    }
}

/// Starts `n` pipelines reading the stream from LATEST, lets the simulated clock run at its
/// speed for `secs` seconds, stops it, lets the readers reach the tip and stops them. Returns
/// what each handled, the time reading started, and the GetRecords counts per shard.
async fn consume(
    cloud: &Arc<SimCloud>,
    n: usize,
    secs: u64,
) -> (Vec<Vec<(String, String)>>, watchband::cloud::Time) {
    let mut runs: Vec<Run> = (0..n)
        .map(|_| start(cloud.clone(), None, stream_config()))
        .collect();
    // Every reader has opened its shards (at LATEST, with the clock still stopped).
    drain_all(&mut runs, Duration::from_secs(3)).await;
    let t0 = cloud.now();
    cloud.demo().unwrap().set_paused(false);
    drain_all(&mut runs, Duration::from_secs(secs)).await;
    cloud.demo().unwrap().set_paused(true);
    drain_all(&mut runs, Duration::from_secs(10)).await;
    let out = runs.iter().map(|r| handled(&r.seen)).collect();
    drop(runs);
    // The readers have stopped and their calls have left the one-second window.
    tokio::time::sleep(Duration::from_secs(3)).await;
    (out, t0)
}

fn assert_complete(got: &[(String, String)], want: &BTreeSet<(String, String)>, who: &str) {
    let unique: BTreeSet<(String, String)> = got.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        got.len(),
        "{who}: some records were handled twice"
    );
    let missing: Vec<_> = want.difference(&unique).take(3).collect();
    let extra: Vec<_> = unique.difference(want).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{who}: missing {missing:?}, extra {extra:?}"
    );
}

/// Records per shard arrive faster than one per call at any speed above a few simulated
/// seconds per second, so the reader is never idle: it polls at its 200 ms gap, i.e. at the
/// limit, and is never throttled.
#[tokio::test(start_paused = true)]
async fn one_consumer_stays_within_the_limit() {
    let cloud = sim(60.0, true);
    let (runs, t0) = consume(&cloud, 1, 20).await;
    let reads = cloud.kinesis_reads();
    for (_, shard, accepted, throttled) in &reads {
        assert_eq!(*throttled, 0, "{shard} throttled: {reads:?}");
        // 20 s of flowing records, plus the catch-up and idle polls around them.
        eprintln!("one consumer: {shard}: {accepted} GetRecords in ~33 s");
    }
    let (want, _) = direct_read(&cloud, t0).await;
    assert!(want.len() > 2000, "{}", want.len());
    assert_complete(&runs[0], &want, "the consumer");
}

/// Two consumers of the same stream (the TUI's and the stream processor's, as in the demo):
/// each rests once caught up, so together they stay within Kinesis's five reads per second per
/// shard, and each still handles every record exactly once.
#[tokio::test(start_paused = true)]
async fn two_consumers_share_the_read_limit_and_still_read_everything() {
    let cloud = sim(60.0, true);
    let (runs, t0) = consume(&cloud, 2, 20).await;
    let reads = cloud.kinesis_reads();
    let throttled: u64 = reads.iter().map(|r| r.3).sum();
    let accepted: u64 = reads.iter().map(|r| r.2).sum();
    eprintln!("two consumers: {reads:?}");
    assert_eq!(throttled, 0, "two consumers were throttled: {reads:?}");
    assert!(accepted > 0);
    let (want, _) = direct_read(&cloud, t0).await;
    assert!(want.len() > 2000, "{}", want.len());
    assert_complete(&runs[0], &want, "the first consumer");
    assert_complete(&runs[1], &want, "the second consumer");
}
