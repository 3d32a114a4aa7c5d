//! Fault profiles of the simulated account (throttle, flaky, expired, dropped): calls are
//! retried, the affected source reports the error naming the resource, the tasks recover,
//! and the data is complete afterwards — compared with a fault-free account of the same seed.

use crate::support::pipeline::*;
use crate::support::sim::{faulty, paused};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::Cloud;
use watchband::cloud::sim::FaultProfile;
use watchband::interop::TEMPERATURE_STREAM;
use watchband::pipeline::{
    Event, HealthState, PipelineConfig, Source, SourceHealth, StreamStart, VolumeSeries,
};

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

fn with_stream() -> PipelineConfig {
    let mut c = config();
    c.streams = vec![TEMPERATURE_STREAM.to_string()];
    c.stream_start = StreamStart::Latest;
    c
}

fn handled_records(seen: &[Event]) -> Vec<(String, String)> {
    seen.iter()
        .filter_map(|e| match e {
            Event::Temperatures(p) => Some(p),
            _ => None,
        })
        .flatten()
        .map(|p| (p.shard_id.clone(), p.sequence_number.clone()))
        .collect()
}

fn latest_series(seen: &[Event]) -> BTreeMap<String, Vec<(String, u64)>> {
    let mut out = BTreeMap::new();
    for e in seen {
        if let Event::VolumeSeries(VolumeSeries {
            volume_arn, points, ..
        }) = e
        {
            out.insert(
                volume_arn.clone(),
                points
                    .iter()
                    .map(|p| (p.second_snapshot.clone(), p.changed_blocks))
                    .collect(),
            );
        }
    }
    out
}

fn health(seen: &[Event]) -> Vec<SourceHealth> {
    seen.iter()
        .filter_map(|e| match e {
            Event::Health(h) => Some(h.clone()),
            _ => None,
        })
        .collect()
}

/// Runs the pipeline on a faulty account from `offset` after the world's start for
/// `duration` (in simulated 10-minute steps), then checks completeness against a fault-free
/// account of the same seed at the same simulated time. Returns the health events.
async fn run_profile(
    profile: FaultProfile,
    offset: Duration,
    duration: Duration,
) -> Vec<SourceHealth> {
    let faulty = faulty(profile);
    let reference = paused(7);
    faulty.advance(offset);
    reference.advance(offset);
    let t0 = faulty.now();
    let mut run = start(faulty.clone(), None, with_stream());
    run.drain_for(Duration::from_secs(20)).await;
    let step = 10 * MINUTE;
    let mut done = Duration::ZERO;
    while done < duration {
        faulty.advance(step);
        reference.advance(step);
        done += step;
        run.drain_for(Duration::from_secs(5)).await;
    }
    // Time for the last retries and polls after the faults.
    run.drain_for(Duration::from_secs(60)).await;

    let records = handled_records(&run.seen);
    let unique: BTreeSet<_> = records.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        records.len(),
        "{profile:?}: records handled twice"
    );
    // Decodable records after t0, read directly from a fault-free account of the same seed.
    let expected = direct_read(&reference, t0).await.0;
    let missing: Vec<_> = expected.difference(&unique).take(3).collect();
    assert!(
        missing.is_empty(),
        "{profile:?}: {} records missing, e.g. {missing:?}",
        expected.difference(&unique).count()
    );
    assert!(
        unique.is_subset(&expected),
        "{profile:?}: records that do not exist"
    );

    // Backups: the same series as a fault-free pipeline computes.
    let mut clean_run = start(reference.clone(), None, config());
    clean_run.drain_for(Duration::from_secs(60)).await;
    let want = latest_series(&clean_run.seen);
    // Throttled counting takes longer: wait (virtual time) until the series are complete.
    if latest_series(&run.seen) != want {
        run.until(
            Duration::from_secs(1800),
            "complete backup series",
            |_, seen| (latest_series(seen) == want).then_some(()),
        )
        .await;
    }
    health(&run.seen)
}

fn assert_reported(profile: FaultProfile, h: &[SourceHealth], needle: &str) {
    let hit = h.iter().find(|h| {
        h.last_error.as_deref().is_some_and(|e| e.contains(needle))
            && h.last_error_resource.is_some()
    });
    assert!(
        hit.is_some(),
        "{profile:?}: no health event with {needle:?} naming a resource; got {h:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_reported() {
    let h = run_profile(FaultProfile::Throttle, Duration::ZERO, 30 * MINUTE).await;
    assert!(h.iter().any(|h| h.state == HealthState::Throttled));
    assert_reported(FaultProfile::Throttle, &h, "throttled");
}

#[tokio::test(start_paused = true)]
async fn transient_server_errors_are_absorbed_and_shown() {
    let h = run_profile(FaultProfile::Flaky, Duration::ZERO, 30 * MINUTE).await;
    assert_reported(FaultProfile::Flaky, &h, "(retrying)");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stream_connection_degrades_then_recovers() {
    // The profile drops stream calls for the last 20 minutes of every 6 hours.
    let h = run_profile(FaultProfile::Dropped, 5 * HOUR + 30 * MINUTE, HOUR).await;
    let streams: Vec<_> = h.iter().filter(|h| h.source == Source::Streams).collect();
    assert!(
        streams.iter().any(|h| h.state == HealthState::Degraded),
        "{streams:?}"
    );
    assert_eq!(
        streams.last().unwrap().state,
        HealthState::Ok,
        "streams did not recover"
    );
    assert_reported(FaultProfile::Dropped, &h, "connection reset");
}

#[tokio::test(start_paused = true)]
async fn expired_credentials_degrade_every_source_until_they_are_valid_again() {
    // Credentials are expired from 2 h to 8 h after the start.
    let cloud = faulty(FaultProfile::Expired);
    cloud.advance(HOUR + 50 * MINUTE);
    let mut run = start(cloud.clone(), None, config());
    run.drain_for(Duration::from_secs(30)).await;
    let before = latest_series(&run.seen);
    assert!(!before.is_empty());
    cloud.advance(20 * MINUTE);
    run.drain_for(Duration::from_secs(30)).await;
    let h = health(&run.seen);
    let degraded: BTreeSet<Source> = h
        .iter()
        .filter(|h| {
            h.state == HealthState::Degraded
                && h.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("expired"))
        })
        .map(|h| h.source)
        .collect();
    assert!(
        degraded.contains(&Source::Backups) && degraded.contains(&Source::Alarms),
        "{h:?}"
    );
    let hint = h.iter().find_map(|h| h.last_error.clone()).unwrap();
    assert!(hint.contains("refresh your credentials"), "{hint}");
    // Past the window and past the next daily backup (05:00 UTC, 12 h after the start).
    cloud.advance(11 * HOUR);
    run.drain_for(Duration::from_secs(60)).await;
    let now = health(&run.seen);
    for s in [Source::Backups, Source::Alarms] {
        let last = now.iter().rev().find(|h| h.source == s).unwrap();
        assert_eq!(last.state, HealthState::Ok, "{s:?} did not recover");
    }
    let after = latest_series(&run.seen);
    assert!(
        after
            .iter()
            .any(|(arn, pts)| pts.len() > before.get(arn).map_or(0, |b| b.len())),
        "the backups made after the window were not counted"
    );
    let _ = Arc::clone(&cloud);
}
