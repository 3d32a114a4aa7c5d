//! How the pipeline's [`Event`]s land in [`AppState`].
//!
//! This is the state boundary: every string that came from AWS or a stream is passed through
//! `sanitize::clean` here, whatever the sender promised, so nothing downstream (views, dialogs,
//! the clipboard) can receive an escape sequence. Cleaning is idempotent, so text the pipeline
//! already cleaned passes unchanged.

use super::state::*;
use crate::cloud::{
    AlarmHistoryItem, AlarmMetric, AlarmState, Identity, MetricId, MetricQueryKind,
};
use crate::pipeline::{Event, MetricSeries};
use crate::sanitize::{clean, clean_multiline};

fn clean_metric(id: &MetricId) -> MetricId {
    MetricId {
        namespace: clean(&id.namespace),
        name: clean(&id.name),
        dimensions: id
            .dimensions
            .iter()
            .map(|(k, v)| (clean(k), clean(v)))
            .collect(),
    }
}

fn clean_alarm(a: &crate::pipeline::AlarmView, old: Option<&AlarmRow>) -> AlarmRow {
    let mut definition = a.definition.clone();
    definition.name = clean(&definition.name);
    definition.description = definition.description.as_deref().map(clean);
    for list in [
        &mut definition.alarm_actions,
        &mut definition.ok_actions,
        &mut definition.insufficient_data_actions,
    ] {
        *list = list.iter().map(|s| clean(s)).collect();
    }
    match &mut definition.metric {
        AlarmMetric::Single { metric, stat, .. } => {
            *metric = clean_metric(metric);
            *stat = clean(stat);
        }
        AlarmMetric::Queries(qs) => {
            for q in qs {
                q.label = q.label.as_deref().map(clean);
                match &mut q.kind {
                    MetricQueryKind::Stat { metric, stat, .. } => {
                        *metric = clean_metric(metric);
                        *stat = clean(stat);
                    }
                    MetricQueryKind::Expression(e) => *e = clean(e),
                }
            }
        }
    }
    AlarmRow {
        name: definition.name.clone(),
        arn: clean(&a.arn),
        state: a.state,
        reason: clean(&a.reason),
        since: a.state_updated,
        // The pipeline owns acknowledgements (episodes, store); it never sends one outside ALARM.
        ack: a
            .acknowledgement
            .as_ref()
            .filter(|_| a.state == AlarmState::Alarm)
            .map(|k| Ack {
                by: clean(&k.who),
                at: k.at,
                note: k.note.as_deref().map(clean).unwrap_or_default(),
            }),
        definition,
        history: old.map(|o| o.history.clone()).unwrap_or_default(),
    }
}

fn metric_view(m: &MetricSeries) -> MetricView {
    let mut scored = Series::default();
    for v in &m.points {
        scored.push(Point {
            t: v.timestamp,
            value: v.value,
            band: v.band.map(|b| (b.lower, b.upper)),
            anomalous: v.anomalous,
        });
    }
    scored.cloudwatch_band = m
        .cloudwatch_band
        .iter()
        .map(|b| (b.time.timestamp(), b.lower, b.upper))
        .collect();
    MetricView {
        id: clean_metric(&m.metric),
        stat: clean(&m.stat),
        period: m.period,
        scored,
        indicator: m
            .indicator
            .iter()
            .filter(|(_, v)| *v >= 1.0)
            .map(|(t, _)| t.timestamp())
            .collect(),
    }
}

/// Applies one pipeline event to the state. Returns whether anything visible changed.
pub fn apply(state: &mut AppState, event: Event) -> bool {
    match event {
        Event::BackupSetup {
            vault,
            iam_role_arn,
        } => {
            state.actions.vault = clean(&vault);
            if let Some(role) = iam_role_arn {
                state.actions.backup_role_arn = clean(&role);
            }
        }
        Event::Identity(id) => {
            let id = Some(Identity {
                account: clean(&id.account),
                arn: clean(&id.arn),
                region: clean(&id.region),
            });
            if state.identity == id {
                return false;
            }
            state.identity = id;
        }
        Event::Health(mut h) => {
            h.last_error = h.last_error.as_deref().map(clean);
            h.last_error_resource = h.last_error_resource.as_deref().map(clean);
            match state.health.iter_mut().find(|x| x.source == h.source) {
                Some(x) if *x == h => return false,
                Some(x) => *x = h,
                None => {
                    state.health.push(h);
                    state.health.sort_by_key(|h| h.source);
                }
            }
        }
        Event::Volumes(list) => {
            let mut volumes: Vec<Volume> = list
                .iter()
                .map(|info| {
                    let arn = clean(&info.arn);
                    let old = state.volumes.iter().find(|v| v.arn == arn);
                    Volume {
                        id: clean(&info.volume_id),
                        name: clean(&info.name),
                        size_gib: info.size_gib.or(old.and_then(|o| o.size_gib)),
                        block_size: old.map(|o| o.block_size).unwrap_or(512 * 1024),
                        last_backup: info.last_backup,
                        last_snapshot: info.last_snapshot.as_deref().map(clean),
                        alarm_name: info.alarm_name.as_deref().map(clean),
                        snapshots: old.map(|o| o.snapshots.clone()).unwrap_or_default(),
                        changes: old.map(|o| o.changes.clone()).unwrap_or_default(),
                        alarm: None,
                        arn,
                    }
                })
                .collect();
            volumes.sort_by(|a, b| a.name.cmp(&b.name).then(a.arn.cmp(&b.arn)));
            for v in &mut volumes {
                v.alarm = alarm_state_of_volume(&state.alarms, v);
            }
            if volumes == state.volumes {
                return false;
            }
            state.volumes = volumes;
        }
        Event::VolumeSeries(series) => {
            let arn = clean(&series.volume_arn);
            let Some(v) = state.volumes.iter_mut().find(|v| v.arn == arn) else {
                return false;
            };
            let before = v.changes.points.back().map(|p| p.t);
            let mut changes = Series::default();
            let mut snapshots = Vec::new();
            for p in &series.points {
                if snapshots.is_empty() {
                    snapshots.push(Snapshot {
                        id: clean(&p.first_snapshot),
                        created: p.time,
                        changed_blocks: None,
                        anomalous: false,
                    });
                    // The first snapshot's own time is unknown here; it is older than `p`.
                }
                snapshots.push(Snapshot {
                    id: clean(&p.second_snapshot),
                    created: p.time,
                    changed_blocks: Some(p.changed_blocks),
                    anomalous: p.verdict.anomalous,
                });
                if p.block_size > 0 {
                    v.block_size = p.block_size as i64;
                }
                changes.push(Point {
                    t: p.time.timestamp(),
                    value: p.changed_blocks as f64,
                    band: p.verdict.band.map(|b| (b.lower, b.upper)),
                    anomalous: p.verdict.anomalous,
                });
            }
            changes.cloudwatch_band = series
                .cloudwatch_band
                .iter()
                .map(|b| (b.time.timestamp(), b.lower, b.upper))
                .collect();
            if changes == v.changes {
                return false;
            }
            v.changes = changes;
            v.snapshots = snapshots;
            // Log the newest point when it is new (not on the first load of the history).
            if let (Some(prev), Some(last)) = (before, series.points.last())
                && last.time.timestamp() > prev
            {
                let name = v.name.clone();
                let id = clean(&last.second_snapshot);
                if last.verdict.anomalous {
                    state.log(
                        EventKind::Anomaly,
                        format!(
                            "anomaly: {name} changed {} blocks ({:.1} % of the volume) in {id}",
                            last.changed_blocks, last.percent_of_volume
                        ),
                    );
                } else {
                    state.log(
                        EventKind::Backup,
                        format!(
                            "backup completed: {name} {id}, {} blocks changed",
                            last.changed_blocks
                        ),
                    );
                }
            }
        }
        Event::Job(job) => {
            let arn = clean(&job.volume_arn);
            let message = job.status_message.as_deref().map(clean);
            let name = state
                .volumes
                .iter()
                .find(|v| v.arn == arn)
                .map(|v| v.name.clone())
                .unwrap_or_else(|| arn.clone());
            let done = job.state.is_terminal();
            let view = BackupJobView {
                volume_arn: arn.clone(),
                vault: clean(&job.vault),
                job_id: Some(clean(&job.job_id)),
                percent: job.percent_done.clamp(0.0, 100.0),
                state: job.state.as_aws().to_string(),
                message: message.clone(),
                done,
            };
            let was_done = state
                .jobs
                .iter()
                .find(|j| j.volume_arn == arn)
                .is_some_and(|j| j.done && j.job_id == view.job_id);
            if done && !was_done {
                let ok = job.state == crate::cloud::BackupJobState::Completed;
                let text = match &message {
                    Some(m) if !ok => format!("backup of {name} {}: {m}", view.state),
                    _ => format!("backup of {name} {}", view.state),
                };
                state.log(
                    if ok {
                        EventKind::Backup
                    } else {
                        EventKind::Error
                    },
                    text.clone(),
                );
                if ok {
                    state.say(text)
                } else {
                    state.refuse(text)
                }
            }
            match state.jobs.iter_mut().find(|j| j.volume_arn == arn) {
                Some(j) if *j == view => return false,
                Some(j) => *j = view,
                None => state.jobs.push(view),
            }
        }
        Event::Alarms(list) => {
            let mut alarms: Vec<AlarmRow> = list
                .iter()
                .map(|a| {
                    let name = clean(&a.definition.name);
                    clean_alarm(a, state.alarms.iter().find(|o| o.name == name))
                })
                .collect();
            alarms.sort_by(|a, b| a.name.cmp(&b.name));
            if alarms == state.alarms {
                return false;
            }
            let transitions: Vec<String> = alarms
                .iter()
                .filter_map(|a| {
                    let old = state.alarms.iter().find(|o| o.name == a.name)?;
                    (old.state != a.state).then(|| {
                        format!(
                            "alarm {}: {} → {}",
                            a.name,
                            old.state.as_aws(),
                            a.state.as_aws()
                        )
                    })
                })
                .collect();
            state.alarms = alarms;
            for t in transitions {
                state.log(EventKind::Alarm, t);
            }
            let states: Vec<Option<AlarmState>> = state
                .volumes
                .iter()
                .map(|v| alarm_state_of_volume(&state.alarms, v))
                .collect();
            for (v, s) in state.volumes.iter_mut().zip(states) {
                v.alarm = s;
            }
        }
        Event::Acknowledged(k) => {
            let name = clean(&k.alarm_name);
            let who = clean(&k.who);
            let Some(a) = state.alarms.iter_mut().find(|a| a.name == name) else {
                return false;
            };
            if a.state == AlarmState::Alarm {
                a.ack = Some(Ack {
                    by: who.clone(),
                    at: k.at,
                    note: k.note.as_deref().map(clean).unwrap_or_default(),
                });
            }
            state.log(
                EventKind::Action,
                format!(
                    "{name} acknowledged by {}",
                    crate::cloud::arn::principal_name(&who)
                ),
            );
        }
        Event::AlarmHistory { alarm_name, items } => {
            let name = clean(&alarm_name);
            let Some(a) = state.alarms.iter_mut().find(|a| a.name == name) else {
                return false;
            };
            let history: Vec<AlarmHistoryItem> = items
                .into_iter()
                .map(|h| AlarmHistoryItem {
                    alarm_name: clean(&h.alarm_name),
                    timestamp: h.timestamp,
                    item_type: clean(&h.item_type),
                    summary: clean(&h.summary),
                })
                .collect();
            if a.history == history {
                return false;
            }
            a.history = history;
        }
        Event::Stream(stats) => {
            let stream = clean(&stats.stream);
            let shards: Vec<ShardStat> = stats
                .shards
                .iter()
                .map(|s| ShardStat {
                    stream: stream.clone(),
                    shard: clean(&s.shard_id),
                    records_per_sec: s.records_per_sec,
                    iterator_age_ms: s.millis_behind,
                    rejected: s.rejected_total,
                    read_at: s.read_at,
                })
                .collect();
            let rejected: Vec<Rejected> = stats
                .shards
                .iter()
                .flat_map(|s| {
                    s.last_rejected.iter().map(|r| Rejected {
                        stream: stream.clone(),
                        shard: clean(&r.shard_id),
                        at: r.arrival,
                        reason: clean(&r.error),
                        bytes: clean(&r.raw),
                    })
                })
                .collect();
            let before = (state.shards.clone(), state.rejected.clone());
            state.shards.retain(|s| s.stream != stream);
            state.shards.extend(shards);
            state.rejected.retain(|r| r.stream != stream);
            state.rejected.extend(rejected);
            while state.rejected.len() > 20 {
                state.rejected.pop_front();
            }
            if before.0 == state.shards && before.1 == state.rejected {
                return false;
            }
        }
        Event::Temperatures(points) => {
            for p in points {
                let device = clean(&p.device);
                let i = match state.devices.iter().position(|d| d.id == device) {
                    Some(i) => i,
                    None => {
                        state.devices.push(Device {
                            id: device.clone(),
                            series: Series::default(),
                            hot: p.highest,
                            cold: p.lowest,
                        });
                        state.devices.sort_by(|a, b| a.id.cmp(&b.id));
                        state
                            .devices
                            .iter()
                            .position(|d| d.id == device)
                            .expect("just pushed")
                    }
                };
                let d = &mut state.devices[i];
                d.hot = p.highest;
                d.cold = p.lowest;
                d.series.push(Point {
                    t: p.time.timestamp(),
                    value: p.value,
                    band: p.verdict.band.map(|b| (b.lower, b.upper)),
                    anomalous: p.verdict.anomalous || p.class.is_some(),
                });
            }
        }
        Event::TemperatureAnomalies(rows) => {
            for a in rows {
                let a = StreamAnomaly {
                    deviceid: clean(&a.deviceid),
                    anomaly_date: clean(&a.anomaly_date),
                    timestamp: clean(&a.timestamp),
                    value: a.value,
                    anomaly_type: clean(&a.anomaly_type),
                    seen: state.now,
                };
                // The log gets one line per device and kind per minute: a hot sensor must not
                // push every other event out of the overview.
                let recent = state.stream_anomalies.iter().rev().take(64).any(|b| {
                    b.deviceid == a.deviceid
                        && b.anomaly_type == a.anomaly_type
                        && (a.seen - b.seen).num_seconds() < 60
                });
                if !recent {
                    state.log(
                        EventKind::Anomaly,
                        format!("{} {} {:.1} °C", a.anomaly_type, a.deviceid, a.value),
                    );
                }
                state.stream_anomalies.push_back(a);
                while state.stream_anomalies.len() > LOG_CAP {
                    state.stream_anomalies.pop_front();
                }
            }
        }
        Event::Metric(m) => {
            let view = metric_view(&m);
            state.metric_algo = m.detector;
            match state.metrics.iter_mut().find(|x| x.id == view.id) {
                Some(x) if *x == view => return false,
                Some(x) => *x = view,
                None => state.metrics.push(view),
            }
        }
        Event::MetricList(list) => {
            let list: Vec<MetricId> = list.iter().map(clean_metric).collect();
            if state.metric_catalog == list {
                return false;
            }
            state.metric_catalog = list;
        }
        Event::Notification(n) => {
            let n = NotificationRow {
                at: n.time,
                topic: clean(&n.topic_arn),
                subject: n.subject.as_deref().map(clean).unwrap_or_default(),
                message: clean_multiline(&n.message),
            };
            let topic = n.topic.rsplit(':').next().unwrap_or("").to_string();
            let what = if n.subject.is_empty() {
                n.message.lines().next().unwrap_or("").to_string()
            } else {
                n.subject.clone()
            };
            state.log(
                EventKind::Notification,
                format!("notification sent to {topic}: {what}"),
            );
            state.notifications.push_back(n);
            while state.notifications.len() > LOG_CAP {
                state.notifications.pop_front();
            }
        }
        Event::Outcome(o) => {
            let text = clean(&format!("{}: {}", o.command, o.message));
            state.log(
                if o.ok {
                    EventKind::Action
                } else {
                    EventKind::Error
                },
                text.clone(),
            );
            if o.ok {
                state.say(text)
            } else {
                state.refuse(text)
            }
        }
    }
    true
}

fn alarm_state_of_volume(alarms: &[AlarmRow], v: &Volume) -> Option<AlarmState> {
    let name = v
        .alarm_name
        .clone()
        .unwrap_or_else(|| crate::interop::backup_alarm_name(&v.arn));
    alarms.iter().find(|a| a.name == name).map(|a| a.state)
}
