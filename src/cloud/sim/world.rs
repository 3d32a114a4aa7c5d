//! The default world (issue 3) and how it moves: generation from the seed, and the lazy
//! advance that runs before every call (backups complete and their `Backup Job State Change`
//! events reach the EventBridge rule's queue, alarms evaluate and notify). Nothing runs in the
//! background: the deployed functions that act on the events, the stream and the metrics are
//! watchband's own processors (`crate::processors::deployed`), running against this account
//! through the `Cloud` seam like any client.

use super::backup::{BackupState, Volume};
use super::clock::{DAY_MS, HOUR_MS, MINUTE_MS};
use super::cloudwatch::{AlarmPublication, Alarms, CpuFleet, Instance, Sources, Watch, watch_of};
use super::dynamodb::{Dynamo, Table};
use super::kinesis::{Kinesis, Stream};
use super::messaging::Messaging;
use super::rng::{Rng, hash};
use crate::cloud::{
    AlarmDefinition, AlarmMetric, AnomalyDetector, ComparisonOperator, MetricId, TreatMissingData,
};
use crate::interop;
use std::collections::BTreeMap;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const OPS_EMAIL: &str = "ops@example.com";
pub const CPU_TOPIC: &str = "cpu-utilization-alerts";

/// How big a world to build.
#[derive(Debug, Clone, PartialEq)]
pub struct WorldSize {
    /// Number of volumes; `None` lets the seed choose 8–12 named ones.
    pub volumes: Option<usize>,
    /// Days of daily backups before the start.
    pub history_days: u32,
    /// Kinesis streams (the first is the temperature pipeline's).
    pub streams: usize,
}

impl Default for WorldSize {
    fn default() -> Self {
        WorldSize {
            volumes: None,
            history_days: 65,
            streams: 1,
        }
    }
}

/// Everything in the simulated account.
#[derive(Debug, Clone)]
pub struct World {
    pub seed: u64,
    pub start: i64,
    pub backup: BackupState,
    pub cpu: CpuFleet,
    pub stored: BTreeMap<MetricId, Vec<(i64, f64)>>,
    pub detectors: BTreeMap<(MetricId, String), AnomalyDetector>,
    pub alarms: Alarms,
    pub alarms_due: i64,
    pub msg: Messaging,
    pub kinesis: Kinesis,
    pub ddb: Dynamo,
    pub backup_topic: String,
    /// The queue the EventBridge rule for completed backup jobs targets.
    pub backup_events: String,
    pub ids: Rng,
    pub advanced_to: i64,
    pruned_at: i64,
}

const NAMES: [&str; 12] = [
    "prod-db-01",
    "web-01",
    "web-02",
    "prod-db-02",
    "cache-01",
    "logs-01",
    "analytics-01",
    "build-01",
    "web-03",
    "files-01",
    "mail-01",
    "queue-01",
];

/// (size range GiB, daily change rate range, weekend factor) by role.
fn role_params(name: &str) -> ((f64, f64), (f64, f64), f64) {
    let role = name.rsplit_once('-').map_or(name, |(r, _)| r);
    match role {
        "prod-db" => ((256.0, 2048.0), (0.02, 0.04), 0.8),
        "web" => ((8.0, 64.0), (0.006, 0.015), 0.4),
        "cache" => ((32.0, 128.0), (0.05, 0.08), 0.6),
        "logs" => ((100.0, 1024.0), (0.03, 0.05), 0.9),
        "analytics" => ((512.0, 2048.0), (0.01, 0.02), 0.25),
        "build" => ((64.0, 256.0), (0.04, 0.07), 0.15),
        "files" => ((200.0, 1000.0), (0.005, 0.01), 0.3),
        _ => ((50.0, 200.0), (0.01, 0.02), 0.6),
    }
}

/// The default start: a Monday 17:00 UTC, so the first daily backup lands 12 simulated hours in
/// and the encryption burst's backup about a minute into the demo at 3600×.
pub fn default_start_ms() -> i64 {
    chrono::DateTime::parse_from_rfc3339("2026-03-02T17:00:00Z")
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

impl World {
    pub fn build(seed: u64, start: i64, size: &WorldSize) -> World {
        let mut rng = Rng::from_state(hash(&[seed, 0x3011d]));
        let start_day = start.div_euclid(DAY_MS);
        let day0 = start_day - i64::from(size.history_days);
        let mut backup = BackupState::new(seed, ACCOUNT, REGION, day0);
        let n = size
            .volumes
            .unwrap_or(8 + (hash(&[seed, 0x7]) % 5) as usize);
        for i in 0..n {
            let name = match size.volumes {
                None => NAMES[i % NAMES.len()].to_string(),
                Some(_) => {
                    let role = NAMES[i % NAMES.len()]
                        .rsplit_once('-')
                        .map_or("vol", |r| r.0);
                    format!("{role}-{:05}", i / NAMES.len() + 1)
                }
            };
            let ((smin, smax), (rmin, rmax), weekend) = role_params(&name);
            // Sizes spread log-uniformly, rounded to whole GiB as EBS sizes are.
            let size_gib = (smin * (smax / smin).powf(rng.next_f64()))
                .round()
                .clamp(8.0, 2048.0) as i64;
            let mut first_day = day0;
            if size.volumes.is_none() && i + 1 == n {
                // The newest volume: first backed up during the demo, so its alarm is created
                // on first sight and trains from nothing (the changed-block pipeline's walkthrough).
                first_day = start_day + 1;
            }
            let vol = Volume {
                idx: i as u32,
                id: backup.volume_id_for(i as u32),
                arn: String::new(),
                name,
                size_gib,
                used_frac: rng.range(0.35, 0.9),
                rate: rng.range(rmin, rmax),
                weekend: (weekend * rng.range(0.8, 1.2)).min(1.0),
                growth: rng.range(0.0, 0.6),
                noise: rng.range(0.08, 0.2),
                first_day,
                extra: Vec::new(),
                bursts: Vec::new(),
                processed_until: start,
                seen: false,
            };
            backup.volumes.push(vol);
        }
        for v in &mut backup.volumes {
            v.arn = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{}", v.id);
        }
        if size.volumes.is_none() && n > 1 {
            // One volume is encrypted in place about a minute into the demo at 3600×.
            let victim = (hash(&[seed, 0xb0]) % (n as u64 - 1)) as usize;
            backup.volumes[victim].bursts.push(start + 57 * HOUR_MS);
        }

        let mut msg = Messaging::new(ACCOUNT, REGION, seed);
        let backup_topic = msg
            .create_topic(
                interop::BACKUP_TOPIC_NAME,
                Some(interop::BACKUP_TOPIC_DISPLAY_NAME),
            )
            .unwrap_or_default();
        let temp_topic = msg
            .create_topic(interop::TEMPERATURE_TOPIC, None)
            .unwrap_or_default();
        let cpu_topic = msg.create_topic(CPU_TOPIC, None).unwrap_or_default();
        let backup_events = msg
            .create_queue(interop::BACKUP_EVENTS_QUEUE)
            .unwrap_or_default();
        for t in [&backup_topic, &temp_topic, &cpu_topic] {
            let _ = msg.subscribe(t, "email", OPS_EMAIL);
        }

        let cpu = CpuFleet {
            seed,
            history_start: start - 35 * DAY_MS,
            instances: ["web-01", "api-01", "batch-01"]
                .iter()
                .enumerate()
                .map(|(i, name)| Instance {
                    id: format!("i-0{:016x}", hash(&[seed, 0x1e5, i as u64])),
                    name: name.to_string(),
                    base: rng.range(12.0, 30.0),
                    amplitude: rng.range(15.0, 35.0),
                    anomaly: (i == 1)
                        .then_some((start + 30 * HOUR_MS, start + 31 * HOUR_MS + 30 * MINUTE_MS)),
                })
                .collect(),
        };

        let mut kinesis = Kinesis::new(seed);
        for s in 0..size.streams.max(1) {
            let stream = if s == 0 {
                Stream::new(
                    seed,
                    0,
                    interop::TEMPERATURE_STREAM,
                    4,
                    start - 30 * DAY_MS,
                    Some(start + 40 * HOUR_MS),
                    Some((2, start + 20 * HOUR_MS, start + 30 * HOUR_MS)),
                )
            } else {
                Stream::new(
                    seed,
                    s as u32,
                    &format!("sensor-stream-{s:03}"),
                    4,
                    start - 30 * DAY_MS,
                    None,
                    None,
                )
            };
            kinesis.streams.push(stream);
        }

        let mut ddb = Dynamo::default();
        for t in [
            Table::new(interop::BACKUP_TABLE, "arn", None),
            Table::new(interop::TEMPERATURE_TABLE, "deviceid", Some("timestamp")),
            Table::new(interop::DETECTOR_STATE_TABLE, "key", None),
            // The demo account has deployed deploy/template.yaml, acknowledgements included.
            Table::new(
                interop::ACK_TABLE,
                interop::ACK_HASH_KEY,
                Some(interop::ACK_RANGE_KEY),
            ),
        ] {
            ddb.tables.insert(t.name.clone(), t);
        }

        let mut world = World {
            seed,
            start,
            backup,
            cpu,
            stored: BTreeMap::new(),
            detectors: BTreeMap::new(),
            alarms: Alarms::default(),
            alarms_due: i64::MIN,
            msg,
            kinesis,
            ddb,
            backup_topic,
            backup_events,
            ids: Rng::from_state(hash(&[seed, 0x1d5])),
            advanced_to: start,
            pruned_at: start,
        };
        world.seed_function_state(start);
        world.put_cpu_alarm(&cpu_topic, start);
        world.backup.next_due = (0..world.backup.volumes.len() as u32)
            .map(|v| world.backup.next_completion_after(v, start))
            .min()
            .unwrap_or(i64::MAX);
        world
    }

    /// What the changed-block pipeline's function has done before the start: each volume seen has its alarm
    /// (evaluated on its latest datapoint at the first call), its table row and its metric
    /// series (derived from the volume model up to the start, see `Sources::derived_until`).
    /// From the start on, the deployed backup processor does this work through the seam.
    fn seed_function_state(&mut self, start: i64) {
        for v in 0..self.backup.volumes.len() as u32 {
            let done = self.backup.completed(v, start);
            let (Some(first), Some(last)) = (done.first().copied(), done.last().copied()) else {
                continue;
            };
            let arn = self.backup.volumes[v as usize].arn.clone();
            self.backup.volumes[v as usize].seen = true;
            let id = self.backup.snapshot_id(v, last.seq);
            let _ = self
                .ddb
                .table_mut(interop::BACKUP_TABLE)
                .map(|t| t.put(interop::backup_table_item(&arn, &id), None));
            let def = interop::backup_alarm_definition(&arn, &self.backup_topic, 2.0);
            let name = def.name.clone();
            self.put_alarm_internal(def, first.completed);
            if let Some(rec) = self.alarms.map.get_mut(&name) {
                // Evaluate the last datapoint (and the one before) at the first call.
                let p = rec.watch.period_ms;
                let before_last = done.len().checked_sub(2).map_or(last, |i| done[i]);
                rec.evaluated_until = before_last.completed.div_euclid(p) * p;
                rec.next_due = start;
            }
        }
    }

    fn put_cpu_alarm(&mut self, topic: &str, now: i64) {
        let def = AlarmDefinition {
            name: format!("cpu-high-{}", self.cpu.instances[1].name),
            description: Some(format!(
                "CPUUtilization > 80 % for 5 minutes on {}",
                self.cpu.instances[1].id
            )),
            actions_enabled: true,
            alarm_actions: vec![topic.to_string()],
            ok_actions: vec![topic.to_string()],
            insufficient_data_actions: vec![],
            metric: AlarmMetric::Single {
                metric: self.cpu.metric(1),
                stat: "Average".into(),
                period: 300,
            },
            comparison: ComparisonOperator::GreaterThanThreshold,
            threshold: Some(80.0),
            threshold_metric_id: None,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            treat_missing_data: TreatMissingData::Missing,
        };
        self.put_alarm_internal(def, now);
    }

    /// PutMetricAlarm without validation errors (definitions made by the world are valid).
    pub fn put_alarm_internal(&mut self, def: AlarmDefinition, now: i64) {
        if let Ok(w) = watch_of(&def) {
            self.put_alarm(def, w, now);
        }
    }

    /// PutMetricAlarm's effect once the definition is valid. An alarm on an anomaly detection
    /// band creates the band's anomaly detector (metric and statistic, default configuration)
    /// when there is none, as CloudWatch does; it stays when the alarm is deleted.
    pub fn put_alarm(&mut self, def: AlarmDefinition, watch: Watch, now: i64) {
        if watch.band.is_some() {
            self.detectors
                .entry((watch.metric.clone(), watch.stat.clone()))
                .or_insert_with(|| AnomalyDetector {
                    metric: watch.metric.clone(),
                    stat: watch.stat.clone(),
                    excluded: Vec::new(),
                    metric_timezone: None,
                    periodic_spikes: false,
                    state: None,
                });
        }
        let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{}", def.name);
        self.alarms.put(def, watch, arn, now);
        self.alarms_due = i64::MIN;
    }

    pub fn sources(&self, now: i64) -> Sources<'_> {
        Sources {
            backup: &self.backup,
            cpu: &self.cpu,
            stored: &self.stored,
            derived_until: self.start,
            now,
        }
    }

    /// Brings the world to `now`: completes backups and emits their events, evaluates alarms
    /// and delivers their notifications.
    pub fn advance(&mut self, now: i64, real: i64) {
        if now < self.advanced_to {
            return;
        }
        self.advanced_to = now;
        if now >= self.backup.next_due {
            self.emit_backup_events(now, real);
        }
        if now >= self.alarms_due {
            let notes = {
                let src = Sources {
                    backup: &self.backup,
                    cpu: &self.cpu,
                    stored: &self.stored,
                    derived_until: self.start,
                    now,
                };
                self.alarms.evaluate(&src, &self.detectors, ACCOUNT, REGION)
            };
            self.alarms_due = self.alarms.next_due();
            self.deliver(notes, now, real);
        }
        if now - self.pruned_at > HOUR_MS {
            self.kinesis.prune(now);
            self.pruned_at = now;
        }
    }

    pub fn deliver(&mut self, notes: Vec<AlarmPublication>, now: i64, real: i64) {
        for n in notes {
            for t in &n.topics {
                let _ = self.msg.publish(t, Some(&n.subject), &n.message, now, real);
            }
        }
    }

    /// AWS Backup's `Backup Job State Change` event (COMPLETED, EBS) for each newly completed
    /// backup, sent by the EventBridge rule to its queue at the moment the job completes.
    fn emit_backup_events(&mut self, now: i64, real: i64) {
        let mut next_due = i64::MAX;
        for v in 0..self.backup.volumes.len() as u32 {
            let since = self.backup.volumes[v as usize].processed_until;
            if self.backup.next_completion_after(v, since) <= now {
                let mut fresh: Vec<_> = self
                    .backup
                    .completed(v, now)
                    .into_iter()
                    .filter(|s| s.completed > since)
                    .collect();
                fresh.sort_by_key(|s| s.completed);
                for s in fresh {
                    let event = self.backup_event(v, s);
                    let _ = self.msg.send(&self.backup_events, event, real);
                }
                self.backup.volumes[v as usize].processed_until = now;
            }
            next_due = next_due.min(self.backup.next_completion_after(v, now));
        }
        self.backup.next_due = next_due;
    }

    fn backup_event(&self, v: u32, s: super::backup::Snap) -> String {
        // An on-demand job keeps its id; a scheduled one gets a stable one from the snapshot.
        let job_id = self
            .backup
            .jobs
            .iter()
            .find(|j| j.volume == Some(v) && j.outcome == Ok(s.seq))
            .map(|j| j.id.clone())
            // AWS Backup's job ids are upper-case UUIDs.
            .unwrap_or_else(|| {
                Rng::from_state(hash(&[self.seed, 0x10b, u64::from(v), u64::from(s.seq)]))
                    .uuid()
                    .to_uppercase()
            });
        let time =
            super::clock::to_time(s.completed).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        interop::backup_event_json(
            ACCOUNT,
            REGION,
            &job_id,
            &self.backup.volumes[v as usize].arn,
            &self.backup.snapshot_arn(v, s.seq),
            &time,
        )
    }
}
