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

fn ack_of(k: &crate::pipeline::Acknowledgement) -> Ack {
    Ack {
        by: clean(&k.who),
        at: k.at,
        note: k.note.as_deref().map(clean).unwrap_or_default(),
        snooze_until: k.snooze_until,
        shared: k.shared,
    }
}

/// "alice acknowledged: looking at it — cpu-high" (the Overview's latest events): who and the
/// note first, so a narrow screen still shows them; the full ARN is on the Alarms view.
fn ack_line(name: &str, k: &Ack) -> String {
    let mut line = format!("{} acknowledged", k.short_by());
    if !k.note.is_empty() {
        line.push_str(&format!(": {}", k.note));
    }
    if !k.shared {
        line.push_str(" (not shared yet)");
    }
    line.push_str(&format!(" — {name}"));
    line
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
            .map(ack_of),
        snoozed_until: a.snoozed_until,
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

/// The source whose data an event carries (not its health, not a command's outcome).
fn source_of(event: &Event) -> Option<crate::pipeline::Source> {
    use crate::pipeline::Source;
    Some(match event {
        Event::Volumes(_) | Event::VolumeSeries(_) => Source::Backups,
        Event::Alarms(_) | Event::AlarmHistory { .. } => Source::Alarms,
        Event::Stream(_) | Event::Temperatures(_) | Event::TemperatureAnomalies(_) => {
            Source::Streams
        }
        Event::Metric(_) | Event::MetricList(_) => Source::Metrics,
        Event::Notification(_) => Source::Notifications,
        _ => return None,
    })
}

/// Applies one pipeline event to the state. Returns whether anything visible changed.
pub fn apply(state: &mut AppState, event: Event) -> bool {
    // Every value carries the time it was read: its source's, as of this event.
    if let Some(source) = source_of(&event) {
        state.mark_read(source);
    }
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
                    let old = state.volume_by_arn(&arn);
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
            state.volume_index = volumes
                .iter()
                .enumerate()
                .map(|(i, v)| (v.arn.clone(), i))
                .collect();
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
                        created: None,
                        changed_blocks: None,
                        anomalous: false,
                    });
                }
                snapshots.push(Snapshot {
                    id: clean(&p.second_snapshot),
                    created: Some(p.time),
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
                let blocks = crate::app::text::count(
                    last.changed_blocks as usize,
                    "block changed",
                    "blocks changed",
                );
                // The snapshot's own creation time, not the tick the UI heard of it.
                if last.verdict.anomalous {
                    state.log_at(
                        last.time,
                        EventKind::Anomaly,
                        format!(
                            "{name}: ANOMALY, {blocks} ({:.1} % of the volume) in {id}",
                            last.percent_of_volume
                        ),
                    );
                } else {
                    state.log_at(
                        last.time,
                        EventKind::Backup,
                        format!("{name}: backup completed, {blocks} ({id})"),
                    );
                }
            }
        }
        Event::Job(job) => {
            let arn = clean(&job.volume_arn);
            let message = job.status_message.as_deref().map(clean);
            let name = state.volume_name(&arn);
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
                    Some(m) if !ok => format!("{name}: on-demand backup {}: {m}", view.state),
                    _ => format!("{name}: on-demand backup {}", view.state),
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
        Event::Hold(h) => {
            let arn = clean(&h.recovery_point_arn);
            if state.held.contains(&arn) {
                return false;
            }
            let snapshot = crate::cloud::arn::snapshot_id_in(&arn)
                .unwrap_or(&arn)
                .to_string();
            state.log(
                EventKind::Action,
                format!("legal hold {} on {snapshot}", clean(&h.hold_id)),
            );
            state.held.push(arn);
        }
        Event::Restore(r) => {
            let arn = clean(&r.volume_arn);
            let snapshot = crate::cloud::arn::snapshot_id_in(&r.recovery_point_arn)
                .map(clean)
                .unwrap_or_else(|| clean(&r.recovery_point_arn));
            let view = RestoreView {
                volume_arn: arn.clone(),
                snapshot_id: snapshot.clone(),
                job_id: Some(clean(&r.job_id)),
                zone: Some(clean(&r.availability_zone)),
                percent: r.percent_done.clamp(0.0, 100.0),
                state: r.state.as_aws().to_string(),
                message: r.status_message.as_deref().map(clean),
                new_volume_id: r.new_volume_id.as_deref().map(clean),
                done: r.state.is_terminal(),
            };
            let was_done = state
                .restores
                .iter()
                .find(|x| x.volume_arn == arn)
                .is_some_and(|x| x.done && x.job_id == view.job_id);
            if view.done && !was_done {
                let name = state.volume_name(&arn);
                match &view.new_volume_id {
                    Some(new) if r.state == crate::cloud::RestoreJobState::Completed => {
                        let text = format!(
                            "restored {name} from {snapshot}: new volume {new} in {} (y on the snapshot copies it)",
                            view.zone.as_deref().unwrap_or("?")
                        );
                        state.log(EventKind::Action, text.clone());
                        state.say(text);
                    }
                    _ => {
                        let text = format!(
                            "restore of {name} from {snapshot} {}{}",
                            view.state,
                            view.message
                                .as_deref()
                                .map(|m| format!(": {m}"))
                                .unwrap_or_default()
                        );
                        state.log(EventKind::Error, text.clone());
                        state.refuse(text);
                    }
                }
            }
            match state.restores.iter_mut().find(|x| x.volume_arn == arn) {
                Some(x) if *x == view => return false,
                Some(x) => *x = view,
                None => state.restores.push(view),
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
            let transitions: Vec<(crate::cloud::Time, String)> = alarms
                .iter()
                .filter_map(|a| {
                    let old = state.alarms.iter().find(|o| o.name == a.name)?;
                    (old.state != a.state).then(|| {
                        let text = format!(
                            "{}: {} → {}",
                            state.name_things(&a.name),
                            old.state.as_aws(),
                            a.state.as_aws()
                        );
                        (a.since, text)
                    })
                })
                .collect();
            // Acknowledgements that appeared since the last list (another machine's, too).
            let acked: Vec<String> = alarms
                .iter()
                .filter_map(|a| {
                    let k = a.ack.as_ref()?;
                    let old = state.alarms.iter().find(|o| o.name == a.name);
                    (old.and_then(|o| o.ack.as_ref()).map(|o| (&o.by, o.at)) != Some((&k.by, k.at)))
                        .then(|| ack_line(&a.name, k))
                })
                .collect();
            state.alarms = alarms;
            for (at, t) in transitions {
                state.log_at(at, EventKind::Alarm, t);
            }
            for line in acked {
                state.log(EventKind::Action, line);
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
            let ack = ack_of(&k);
            let Some(a) = state.alarms.iter_mut().find(|a| a.name == name) else {
                return false;
            };
            if a.state != AlarmState::Alarm || a.ack.as_ref() == Some(&ack) {
                return false;
            }
            let line = ack_line(&name, &ack);
            a.ack = Some(ack);
            state.log(EventKind::Action, line);
        }
        Event::AckTableMissing { table } => {
            let table = clean(&table);
            if state.read_only || state.modal.is_some() {
                state.log(
                    EventKind::Error,
                    format!(
                        "the acknowledgements table {table} does not exist: acknowledgements \
                         stay on this machine until it is created (deploy/template.yaml)"
                    ),
                );
            } else {
                state.modal = Some(Modal::CreateAckTable { table });
            }
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
                    // The temperature pipeline's sensors and thresholds (96 and 101) are °F.
                    state.log(
                        EventKind::Anomaly,
                        format!("{}: {} {:.1} °F", a.deviceid, a.anomaly_type, a.value),
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
                count: 1,
                topic: clean(&n.topic_arn),
                subject: n.subject.as_deref().map(clean).unwrap_or_default(),
                message: clean_multiline(&n.message),
            };
            // A snoozed alarm's re-notifications (CloudWatch's `ALARM: "name" in ...`) are
            // hidden until the snooze ends.
            if state.alarms.iter().any(|a| {
                a.snoozed_until.is_some_and(|t| t > n.at)
                    && n.subject.starts_with(&format!("ALARM: \"{}\"", a.name))
            }) {
                return false;
            }
            let topic = n.topic.rsplit(':').next().unwrap_or("").to_string();
            let what = if n.subject.is_empty() {
                n.message.lines().next().unwrap_or("").to_string()
            } else {
                n.subject.clone()
            };
            let text = format!("{} → {topic}", state.name_things(&what));
            state.log_at(n.at, EventKind::Notification, text);
            // One hot excursion sends the same message hundreds of times: a repeat of a recent
            // row joins it (newest time, count + 1) instead of burying everything else.
            let repeat = state
                .notifications
                .iter()
                .rev()
                .take(REPEAT_WINDOW)
                .position(|o| {
                    o.topic == n.topic && o.subject == n.subject && o.message == n.message
                });
            match repeat {
                Some(back) => {
                    let i = state.notifications.len() - 1 - back;
                    let mut row = state.notifications.remove(i).expect("in range");
                    row.count += 1;
                    row.at = row.at.max(n.at);
                    state.notifications.push_back(row);
                }
                None => state.notifications.push_back(n),
            }
            while state.notifications.len() > LOG_CAP {
                state.notifications.pop_front();
            }
        }
        Event::Outcome(o) => {
            // The outcome and the thing first: they must survive truncation.
            let text = state.name_things(&clean(&format!(
                "{} {}: {}",
                if o.ok { "done:" } else { "FAILED:" },
                o.command,
                o.message
            )));
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

/// How many recent notification rows a new identical message may join.
const REPEAT_WINDOW: usize = 16;

fn alarm_state_of_volume(alarms: &[AlarmRow], v: &Volume) -> Option<AlarmState> {
    let name = v
        .alarm_name
        .clone()
        .unwrap_or_else(|| crate::interop::backup_alarm_name(&v.arn));
    alarms.iter().find(|a| a.name == name).map(|a| a.state)
}
