//! A fixed, seeded estate for snapshot tests, the render benchmark and documentation figures.
//!
//! It is built the way the live app is: pipeline [`Event`]s through [`update`], so the state
//! boundary (cleaning of hostile text included) is exercised too. The bands are computed here
//! with a fixed formula, not by the detection core, so a change of algorithm there does not
//! rewrite every screen snapshot.

use super::state::{AppState, DemoState};
use super::update::{Input, update};
use crate::cloud::*;
use crate::detect::{Band, Verdict};
use crate::pipeline::*;
use crate::rng::Rng;
use crate::theme::Theme;
use chrono::{Duration, TimeZone, Utc};

/// How big the estate is.
#[derive(Debug, Clone, Copy)]
pub struct FixtureSize {
    pub volumes: usize,
    pub days: usize,
    pub devices: usize,
    pub points_per_device: usize,
}

impl Default for FixtureSize {
    fn default() -> Self {
        FixtureSize {
            volumes: 10,
            days: 60,
            devices: 4,
            points_per_device: 600,
        }
    }
}

pub const NAMES: [&str; 12] = [
    "prod-db-01",
    "prod-db-02",
    "web-01",
    "web-02",
    "web-03",
    "analytics-01",
    "cache-01",
    "queue-01",
    "logs-01",
    "build-01",
    "vault-01",
    "search-01",
];

pub fn fixture_now() -> Time {
    Utc.with_ymd_and_hms(2026, 11, 21, 15, 0, 0)
        .single()
        .expect("valid")
}

fn verdict(t: i64, value: f64, expected: f64, spread: f64, ready: bool) -> Verdict {
    let band = ready.then(|| Band {
        expected,
        lower: (expected - spread).max(0.0),
        upper: expected + spread,
    });
    let anomalous = band.is_some_and(|b| value > b.upper || value < b.lower);
    Verdict {
        timestamp: t,
        value,
        band,
        score: if anomalous { 0.99 } else { 0.1 },
        anomalous,
    }
}

/// The estate of the snapshots: 10 volumes, 4 devices, alarms in every state.
pub fn state() -> AppState {
    state_with(FixtureSize::default(), "default")
}

/// The estate at a given size with a given built-in theme.
pub fn state_with(size: FixtureSize, theme: &str) -> AppState {
    let now = fixture_now();
    let mut s = AppState::new(
        now,
        "demo",
        false,
        Theme::builtin(theme).unwrap_or_else(Theme::default_theme),
    );
    s.user = "operator".into();
    s.demo = Some(DemoState {
        paused: false,
        speed: 3600.0,
    });
    // The crate's seeded generator, so the fixture is the same on every machine.
    let mut rng = Rng::new(0x5eed_0000_0000_0007);
    let mut events = Vec::new();
    events.push(Event::Identity(Identity {
        account: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/Operator/alice".into(),
        region: "eu-west-1".into(),
    }));
    for (i, source) in Source::ALL.iter().enumerate() {
        let throttled = i == 2;
        events.push(Event::Health(SourceHealth {
            source: *source,
            state: if throttled {
                HealthState::Throttled
            } else {
                HealthState::Ok
            },
            last_error: throttled.then(|| {
                "Kinesis GetRecords on shardId-000000000001: rate exceeded; retrying".into()
            }),
            last_error_resource: None,
            last_error_kind: throttled.then_some(crate::cloud::ErrorKind::Throttling),
            last_error_at: throttled.then(|| now - Duration::minutes(3)),
            since: now - Duration::hours(1),
        }));
    }

    // ---------------------------------------------------------------- volumes
    let mut infos = Vec::new();
    let mut series = Vec::new();
    for v in 0..size.volumes {
        let id = format!("vol-{:017x}", 0xa11ce00 + v as u64);
        let arn = format!("arn:aws:ec2:eu-west-1:123456789012:volume/{id}");
        let name = if v < NAMES.len() {
            NAMES[v].to_string()
        } else {
            format!("{}-{}", NAMES[v % NAMES.len()], v / NAMES.len())
        };
        let size_gib = [8i64, 100, 500, 2048][v % 4];
        let blocks_total = size_gib as f64 * 2048.0;
        let base = blocks_total * (0.002 + 0.01 * rng.next_f64());
        let mut points = Vec::new();
        for d in 0..size.days {
            let t = now - Duration::days((size.days - d) as i64) + Duration::hours(-10);
            let weekday = chrono::Datelike::weekday(&t).num_days_from_monday();
            let season = if weekday >= 5 { 0.4 } else { 1.0 };
            let growth = 1.0 + d as f64 / size.days as f64 * 0.2;
            let expected = base * season * growth;
            let mut value = (expected * (0.85 + 0.3 * rng.next_f64())).round();
            // The encryption burst: the newest backup of the second volume.
            if v == 1 && d == size.days - 1 {
                value = (blocks_total * 0.78).round();
            }
            let ready = d >= 14;
            let verdict = verdict(t.timestamp(), value, expected, expected * 0.35, ready);
            points.push(ChangePoint {
                first_snapshot: format!("snap-{:017x}", (v * 1000 + d) as u64),
                second_snapshot: format!("snap-{:017x}", (v * 1000 + d + 1) as u64),
                time: t,
                changed_blocks: value as u64,
                block_size: 524_288,
                changed_gib: value * 524_288.0 / (1u64 << 30) as f64,
                percent_of_volume: 100.0 * value / blocks_total,
                verdict,
            });
        }
        let cloudwatch_band = if v == 0 {
            points
                .iter()
                .filter_map(|p| {
                    p.verdict.band.map(|b| BandPoint {
                        time: p.time,
                        lower: b.lower * 0.9,
                        upper: b.upper * 1.1,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        infos.push(VolumeInfo {
            arn: arn.clone(),
            volume_id: id,
            name,
            tags: Default::default(),
            size_gib: Some(size_gib),
            last_backup: points.last().map(|p| p.time),
            last_snapshot: points.last().map(|p| p.second_snapshot.clone()),
            alarm_name: (v < 6).then(|| crate::interop::backup_alarm_name(&arn)),
        });
        series.push(VolumeSeries {
            volume_arn: arn,
            points,
            cloudwatch_band,
        });
    }
    let volume_arns: Vec<String> = infos.iter().map(|i| i.arn.clone()).collect();
    events.push(Event::Volumes(infos));
    // ---------------------------------------------------------------- alarms
    let topic = "arn:aws:sns:eu-west-1:123456789012:backup-anomaly-alerts";
    let mut alarms = Vec::new();
    for (i, arn) in volume_arns.iter().take(6).enumerate() {
        let def = crate::interop::backup_alarm_definition(arn, topic, 2.0);
        let (state, reason) = match i {
            1 => (
                AlarmState::Alarm,
                "Thresholds Crossed: 1 out of the last 1 datapoints was greater than the upper thresholds",
            ),
            3 => (
                AlarmState::Alarm,
                "Thresholds Crossed: 1 datapoint was greater than the upper thresholds",
            ),
            5 => (
                AlarmState::InsufficientData,
                "Insufficient Data: the anomaly detector is training",
            ),
            _ => (
                AlarmState::Ok,
                "Threshold Crossed: no datapoints were greater than the upper thresholds",
            ),
        };
        let state_updated = now - Duration::minutes(17 + 13 * i as i64);
        alarms.push(AlarmView {
            arn: format!(
                "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{}",
                def.name
            ),
            acknowledgement: (i == 3).then(|| Acknowledgement {
                alarm_name: def.name.clone(),
                episode: state_updated,
                who: "arn:aws:iam::123456789012:user/bob".into(),
                note: Some("planned re-encryption".into()),
                at: now - Duration::minutes(5),
                snooze_until: None,
                shared: true,
            }),
            snoozed_until: None,
            definition: def,
            state,
            reason: reason.into(),
            state_updated,
            volume_arn: Some(arn.clone()),
        });
    }
    let mut cpu = crate::interop::anomaly_alarm_definition(
        "cpu-high-web-01",
        MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-0abc1234")]),
        "Average",
        300,
        2.0,
        3,
        topic,
    );
    cpu.description = Some("the static CloudWatch alarm: static threshold".into());
    alarms.push(AlarmView {
        arn: "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high-web-01".into(),
        definition: cpu,
        state: AlarmState::Ok,
        reason: "Threshold Crossed: 1 datapoint [41.2] was not greater than the threshold (80.0)"
            .into(),
        state_updated: now - Duration::hours(5),
        acknowledgement: None,
        snoozed_until: None,
        volume_arn: None,
    });
    events.push(Event::Alarms(alarms));
    // The series come after the inventory and the alarms, as the pipeline sends them.
    for s in series {
        events.push(Event::VolumeSeries(s));
    }
    if let Some(first) = volume_arns.first() {
        events.push(Event::AlarmHistory {
            alarm_name: crate::interop::backup_alarm_name(first),
            items: vec![AlarmHistoryItem {
                alarm_name: crate::interop::backup_alarm_name(first),
                timestamp: now - Duration::minutes(17),
                item_type: "StateUpdate".into(),
                summary: "Alarm updated from INSUFFICIENT_DATA to OK".into(),
            }],
        });
    }

    // ---------------------------------------------------------------- streams
    let stream = crate::interop::TEMPERATURE_STREAM.to_string();
    events.push(Event::Stream(StreamStats {
        stream: stream.clone(),
        shards: (0..2)
            .map(|i| ShardStats {
                shard_id: format!("shardId-00000000000{i}"),
                parent: None,
                finished: false,
                records_per_sec: 2.0 + i as f64,
                millis_behind: 120 * i as i64,
                records_total: 10_000 + i as u64,
                rejected_total: i as u64 * 2,
                last_rejected: if i == 1 {
                    vec![RejectedRecord {
                        shard_id: "shardId-000000000001".into(),
                        sequence_number: "4959".into(),
                        partition_key: "DHT_003".into(),
                        arrival: now - Duration::minutes(2),
                        error: "not JSON: expected value at line 1 column 1".into(),
                        // a hostile payload: must arrive neutralised
                        raw: "\u{1b}]52;c;ZXZpbA==\u{7}{temp:".into(),
                    }]
                } else {
                    vec![]
                },
                checkpoint: Some("4958".into()),
                read_at: Some(now),
            })
            .collect(),
    }));
    let mut temps = Vec::new();
    let mut anomalies = Vec::new();
    for d in 0..size.devices {
        let device = format!("DHT_{:03}", d + 1);
        // Fahrenheit, between the temperature pipeline's thresholds (96 and 101) as its
        // sensors read: each device a little warmer than the last, four apart at most.
        let base = 97.5 + (d % 4) as f64 * 0.6;
        for k in 0..size.points_per_device {
            let t = now - Duration::seconds((size.points_per_device - k) as i64);
            let mut value = base + (k as f64 / 60.0).sin() * 0.8 + (rng.next_f64() - 0.5) * 0.6;
            if d == 0 && k == size.points_per_device.saturating_sub(40) {
                // The one hot excursion: 2.5 °F over the hot threshold.
                value = 103.5;
            }
            let class = crate::detect::rules::temperature_class(value, 96.0, 101.0);
            let v = verdict(t.timestamp(), value, base, 1.6, k > 30);
            if v.anomalous || class.is_some() {
                anomalies.push(TemperatureAnomaly {
                    deviceid: device.clone(),
                    anomaly_date: t.format("%Y-%m-%d").to_string(),
                    timestamp: t.format("%Y-%m-%d %H:%M:%S").to_string(),
                    value,
                    anomaly_type: class.map(|c| c.as_str()).unwrap_or("Unusual").into(),
                });
            }
            temps.push(TemperaturePoint {
                stream: stream.clone(),
                shard_id: format!("shardId-00000000000{}", d % 2),
                sequence_number: format!("{}", 49_000 + k),
                device: device.clone(),
                time: t,
                value,
                lowest: 96.0,
                highest: 101.0,
                class,
                verdict: v,
            });
        }
    }
    events.push(Event::Temperatures(temps));
    let keep = anomalies.len().saturating_sub(30);
    events.push(Event::TemperatureAnomalies(anomalies.split_off(keep)));

    // ---------------------------------------------------------------- metrics
    let cpu_id = MetricId::new("AWS/EC2", "CPUUtilization", &[("InstanceId", "i-0abc1234")]);
    let mut points = Vec::new();
    let mut cw = Vec::new();
    let mut indicator = Vec::new();
    for k in 0..288 {
        let t = now - Duration::minutes(5 * (288 - k));
        let hour = chrono::Timelike::hour(&t) as f64;
        let expected = 30.0 + 15.0 * ((hour - 6.0) / 24.0 * std::f64::consts::TAU).sin();
        let mut value = expected + (rng.next_f64() - 0.5) * 8.0;
        if k == 250 {
            value = 97.0;
        }
        let v = verdict(t.timestamp(), value, expected, 9.0, k > 20);
        if v.anomalous {
            indicator.push((t, 1.0));
        }
        points.push(v);
        cw.push(BandPoint {
            time: t,
            lower: (expected - 11.0).max(0.0),
            upper: expected + 11.0,
        });
    }
    events.push(Event::Metric(MetricSeries {
        metric: cpu_id.clone(),
        stat: "Average".into(),
        period: 300,
        detector: MetricDetector::Band,
        points,
        cloudwatch_band: cw,
        indicator,
    }));
    events.push(Event::MetricList(vec![
        cpu_id,
        MetricId::new("AWS/EC2", "NetworkIn", &[("InstanceId", "i-0abc1234")]),
        crate::interop::backup_metric(&volume_arns[0]),
    ]));

    // ---------------------------------------------------------------- notifications
    for (k, (subject, message)) in [
        (
            "ALARM: \"Backup-Anomaly-Alarm/prod-db-02\" in EU (Ireland)",
            "You are receiving this email because your Amazon CloudWatch Alarm entered the ALARM state.",
        ),
        ("Temperature Alert: DHT_001", "Hot: 103.5 above 101.0 at DHT_001"),
    ]
    .iter()
    .enumerate()
    {
        events.push(Event::Notification(crate::pipeline::SnsNotification {
            message_id: format!("m-{k}"),
            topic_arn: if k == 0 {
                topic.into()
            } else {
                format!("arn:aws:sns:eu-west-1:123456789012:{}", crate::interop::TEMPERATURE_TOPIC)
            },
            subject: Some(subject.to_string()),
            message: message.to_string(),
            time: now - Duration::minutes(10 - 4 * k as i64),
        }));
    }
    if size.volumes > 2 {
        events.push(Event::Job(JobProgress {
            job_id: "job-0001".into(),
            volume_arn: volume_arns[2].clone(),
            vault: "Default".into(),
            state: BackupJobState::Running,
            percent_done: 42.0,
            status_message: None,
            recovery_point_arn: None,
            created: now - Duration::minutes(1),
            completed: None,
        }));
    }
    for e in events {
        update(&mut s, Input::Event(e));
    }
    s.message = None;
    s
}
