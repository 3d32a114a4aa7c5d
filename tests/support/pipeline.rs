//! Helpers of the pipeline tests: a pipeline over the simulated account (see [`super::sim`]),
//! waiting for its events with a (virtual) deadline, and the temperature stream's reader and
//! producer.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use watchband::cloud::Cloud;
use watchband::cloud::sim::SimCloud;
use watchband::cloud::{ErrorKind, PutRecord, ShardPosition, StreamRecord, Time};
use watchband::interop::{TEMPERATURE_STREAM, TemperatureReading, decode_reading};
use watchband::pipeline::{Command, Event, PipelineConfig, PollIntervals};
use watchband::store::Store;

/// Quick polls so a test needs little virtual time; no stream (the stream tests add theirs,
/// a day of backlog is slow to judge in a debug build).
pub fn config() -> PipelineConfig {
    PipelineConfig {
        queue_id: "test".into(),
        streams: Vec::new(),
        intervals: PollIntervals {
            backups: Duration::from_millis(500),
            alarms: Duration::from_millis(500),
            metrics: Duration::from_secs(2),
            notifications: Duration::from_millis(200),
            job: Duration::from_millis(200),
            shard_min_gap: Duration::from_millis(200),
            shard_idle: Duration::from_millis(500),
        },
        ..PipelineConfig::default()
    }
}

/// A running pipeline and the events it sent so far.
pub struct Run {
    pub events: mpsc::Receiver<Event>,
    pub commands: mpsc::Sender<Command>,
    pub seen: Vec<Event>,
}

pub fn start(cloud: Arc<SimCloud>, store: Option<Arc<Store>>, config: PipelineConfig) -> Run {
    let cloud: Arc<dyn Cloud> = cloud;
    let (events, commands) = watchband::pipeline::spawn(cloud, store, config);
    Run {
        events,
        commands,
        seen: Vec::new(),
    }
}

impl Run {
    /// Receives events until `f(event, all events so far)` returns `Some`, or panics after
    /// `within` of virtual time.
    pub async fn until<T>(
        &mut self,
        within: Duration,
        what: &str,
        mut f: impl FnMut(&Event, &[Event]) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let e = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) => e,
                Ok(None) => panic!("the pipeline stopped before {what}"),
                Err(_) => panic!(
                    "no {what} within {within:?}; last events: {:?}",
                    last(&self.seen)
                ),
            };
            self.seen.push(e);
            // `seen` includes the event itself.
            let last = self.seen.last().expect("just pushed");
            if let Some(t) = f(last, &self.seen) {
                return t;
            }
        }
    }

    /// Receives whatever arrives during `d` of virtual time.
    pub async fn drain_for(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            self.seen.push(e);
        }
    }

    pub async fn send(&self, c: Command) {
        self.commands
            .send(c)
            .await
            .expect("the pipeline takes commands");
    }
}

fn last(seen: &[Event]) -> Vec<String> {
    seen.iter()
        .rev()
        .take(5)
        .map(|e| {
            let s = format!("{e:?}");
            s.chars().take(300).collect()
        })
        .collect()
}

/// Reads every record of the temperature stream that arrived after `after` (and before
/// `until`, if given), shard by shard in id order, as a consumer does: a throttled read (five
/// per second per shard) waits and is tried again.
pub async fn read_stream(
    cloud: &SimCloud,
    after: Time,
    until: Option<Time>,
    mut each: impl FnMut(&str, &StreamRecord),
) {
    let mut shards = cloud.list_shards(TEMPERATURE_STREAM).await.unwrap();
    shards.sort_by(|a, b| a.id.cmp(&b.id));
    for shard in shards {
        let mut it = Some(
            cloud
                .get_shard_iterator(
                    TEMPERATURE_STREAM,
                    &shard.id,
                    ShardPosition::AtTimestamp(after),
                )
                .await
                .unwrap(),
        );
        'shard: while let Some(i) = it.take() {
            let batch = match cloud.get_records(&i, Some(10_000)).await {
                Ok(b) => b,
                Err(e) if e.kind == ErrorKind::Throttling => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    it = Some(i);
                    continue;
                }
                Err(e) => panic!("{e}"),
            };
            let empty = batch.records.is_empty();
            for r in batch.records.iter().filter(|r| r.arrival > after) {
                if until.is_some_and(|u| r.arrival >= u) {
                    break 'shard;
                }
                each(&shard.id, r);
            }
            if !(empty && batch.millis_behind_latest == 0) {
                it = batch.next_iterator;
            }
        }
    }
}

/// Every record of the stream that arrived after `after`, per shard: (decodable seqs, rejected).
pub async fn direct_read(cloud: &SimCloud, after: Time) -> (BTreeSet<(String, String)>, usize) {
    let mut good = BTreeSet::new();
    let mut bad = 0;
    read_stream(cloud, after, None, |shard, r| {
        match decode_reading(&r.data) {
            Ok(_) => {
                good.insert((shard.to_string(), r.sequence_number.clone()));
            }
            Err(_) => bad += 1,
        }
    })
    .await;
    (good, bad)
}

/// Puts one reading of `device` at `value` on the temperature stream, timestamped now, as a
/// producer beside the world's devices would.
pub async fn put_reading(cloud: &dyn Cloud, device: &str, value: f64) -> TemperatureReading {
    let now = cloud.now();
    let reading = TemperatureReading {
        timestamp: now.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        datatype: "Temperature".into(),
        value,
        deviceid: device.into(),
        date: now.format("%Y-%m-%d").to_string(),
        lowest_temp: 96.0,
        highest_temp: 101.0,
    };
    cloud
        .put_records(
            TEMPERATURE_STREAM,
            vec![PutRecord {
                partition_key: device.into(),
                data: reading.to_json().into_bytes(),
            }],
        )
        .await
        .unwrap();
    reading
}
