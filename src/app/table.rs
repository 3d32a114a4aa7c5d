//! Which rows each table shows and in what order: the `/` filter over every visible column, the
//! problems-only toggle (`!`) and the sort (`o` cycles the column, `O` reverses; the default,
//! column 0, is worst first). The views draw exactly these rows; `update` moves over them.

use super::state::{AppState, View, VolumeVerdict};
use crate::cloud::AlarmState;
use std::cmp::Ordering;

/// The sort of one view's table: a column of [`sort_columns`] and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub column: usize,
    pub reverse: bool,
}

/// The columns a view's table sorts by, in the order `o` cycles them. The first is the default.
pub fn sort_columns(view: View) -> &'static [&'static str] {
    match view {
        View::Overview => &[],
        View::Backups => &[
            "worst", "name", "volume", "size", "age", "blocks", "%", "snapshot", "GiB", "verdict",
            "alarm",
        ],
        // Four tables share the view: `o` cycles the devices' columns, then the shards', then
        // the anomaly pane's (named as its header names them), then the rejected records';
        // each table keeps its default order while another is sorted.
        View::Streams => &[
            "worst",
            "device",
            "value",
            "shard",
            "rec/s",
            "iter. age",
            "rejected",
            "deviceid",
            "timestamp",
            "°F",
            "anomalyType",
            "time",
            "reason",
        ],
        View::Alarms => &["worst", "name", "state", "for", "ack", "reason"],
        View::Metrics => &["worst", "name"],
        View::Notifications => &["newest", "topic", "subject", "count"],
    }
}

/// The columns of the open volume's snapshot list (`o` `O` while the detail is open).
pub const SNAPSHOT_COLUMNS: &[&str] = &["worst", "created", "snapshot", "changed"];

/// The tables of the Streams view, which share its sort: each owns a range of its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamsTable {
    Devices,
    Shards,
    Anomalies,
    Rejected,
}

impl StreamsTable {
    /// The Streams columns (indices into [`sort_columns`]) that sort this table.
    fn columns(self) -> std::ops::RangeInclusive<usize> {
        match self {
            StreamsTable::Devices => 1..=2,
            StreamsTable::Shards => 3..=6,
            StreamsTable::Anomalies => 7..=10,
            StreamsTable::Rejected => 11..=12,
        }
    }
}

/// The filter, lowercased once per listing rather than once per cell.
struct Needle(String);

impl Needle {
    fn new(filter: &str) -> Needle {
        Needle(filter.to_lowercase())
    }

    /// Whether any of the cells contains the needle.
    fn any<'a>(&self, cells: impl IntoIterator<Item = &'a str>) -> bool {
        self.0.is_empty() || cells.into_iter().any(|c| contains_ci(c, &self.0))
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() && needle_lower.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle_lower.as_bytes());
        n.len() <= h.len()
            && h.windows(n.len())
                .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
    } else {
        hay.to_lowercase().contains(needle_lower)
    }
}

fn volume_rank(v: &super::state::Volume) -> u8 {
    match (v.alarm, v.verdict()) {
        (Some(AlarmState::Alarm), _) => 0,
        (_, VolumeVerdict::Anomalous) => 1,
        (Some(AlarmState::InsufficientData), _) => 2,
        (_, VolumeVerdict::Learning | VolumeVerdict::NoData) => 3,
        _ => 4,
    }
}

fn alarm_rank(a: &super::state::AlarmRow) -> u8 {
    match a.state {
        AlarmState::Alarm if a.ack.is_none() => 0,
        AlarmState::Alarm => 1,
        AlarmState::InsufficientData => 2,
        AlarmState::Ok => 3,
    }
}

fn directed(o: Ordering, reverse: bool) -> Ordering {
    if reverse { o.reverse() } else { o }
}

impl AppState {
    fn sort_of(&self, view: View) -> Sort {
        self.sort[view.index()]
    }

    /// Indices of the volumes shown on Backups, in display order.
    pub fn visible_volumes(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        let mut rows: Vec<usize> = (0..self.volumes.len())
            .filter(|&i| {
                let v = &self.volumes[i];
                if self.problems_only && volume_rank(v) > 1 {
                    return false;
                }
                if needle.0.is_empty() {
                    return true;
                }
                let alarm = v.alarm.map(|s| s.as_aws()).unwrap_or("none");
                let snap = v.last_snapshot.as_deref().unwrap_or("");
                let size = v.size_gib.map(|s| format!("{s} GiB")).unwrap_or_default();
                let blocks = v
                    .last_change()
                    .map(|(b, _, _)| b.to_string())
                    .unwrap_or_default();
                needle.any([
                    v.name.as_str(),
                    v.id.as_str(),
                    snap,
                    v.verdict().label(),
                    alarm,
                    size.as_str(),
                    blocks.as_str(),
                ])
            })
            .collect();
        let Sort { column, reverse } = self.sort_of(View::Backups);
        let vols = &self.volumes;
        let by_name = |a: usize, b: usize| vols[a].name.cmp(&vols[b].name);
        let blocks = |i: usize| vols[i].last_change().map(|c| c.0);
        let pct = |i: usize| vols[i].last_change().map(|c| c.2).unwrap_or(-1.0);
        let last = |i: usize| vols[i].last_backup.map(|t| t.timestamp());
        let gib = |i: usize| vols[i].last_change().map(|c| c.1).unwrap_or(-1.0);
        // No alarm sorts after every state.
        let alarm = |i: usize| vols[i].alarm.map(|s| s.as_aws()).unwrap_or("~");
        rows.sort_by(|&a, &b| {
            let o = match column {
                1 => by_name(a, b),
                2 => vols[a].id.cmp(&vols[b].id),
                3 => vols[b].size_gib.cmp(&vols[a].size_gib),
                // Age: the longest since a backup first.
                4 => last(a).cmp(&last(b)),
                5 => blocks(b).cmp(&blocks(a)),
                6 => pct(b).total_cmp(&pct(a)),
                7 => vols[a].last_snapshot.cmp(&vols[b].last_snapshot),
                8 => gib(b).total_cmp(&gib(a)),
                9 => vols[a].verdict().label().cmp(vols[b].verdict().label()),
                10 => alarm(a).cmp(alarm(b)),
                _ => volume_rank(&vols[a]).cmp(&volume_rank(&vols[b])),
            };
            directed(o, reverse).then_with(|| by_name(a, b))
        });
        rows
    }

    /// Alarms shown on Alarms: the filter sees the state, the name, the volume's name and the
    /// reason.
    pub fn visible_alarms(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        // Volume names by ARN, built only when a filter needs them: with 10,000 volumes and
        // 1,000 alarms a search per alarm would be ten million comparisons a frame.
        let names: std::collections::HashMap<&str, &str> = if needle.0.is_empty() {
            Default::default()
        } else {
            self.volumes
                .iter()
                .map(|v| (v.arn.as_str(), v.name.as_str()))
                .collect()
        };
        let mut rows: Vec<usize> = (0..self.alarms.len())
            .filter(|&i| {
                let a = &self.alarms[i];
                if self.problems_only && alarm_rank(a) > 1 {
                    return false;
                }
                if needle.0.is_empty() {
                    return true;
                }
                let volume = crate::interop::volume_arn_of_alarm(&a.name)
                    .and_then(|arn| names.get(arn).copied())
                    .unwrap_or("");
                let by = a.ack.as_ref().map(|k| k.by.as_str()).unwrap_or("");
                needle.any([a.name.as_str(), volume, a.state.as_aws(), &a.reason, by])
            })
            .collect();
        let Sort { column, reverse } = self.sort_of(View::Alarms);
        let al = &self.alarms;
        rows.sort_by(|&a, &b| {
            let o = match column {
                1 => al[a].name.cmp(&al[b].name),
                2 => al[a].state.as_aws().cmp(al[b].state.as_aws()),
                3 => al[a].since.cmp(&al[b].since),
                // Acknowledged by whom; the unacknowledged last.
                4 => match (&al[a].ack, &al[b].ack) {
                    (Some(x), Some(y)) => x.by.cmp(&y.by),
                    (x, y) => y.is_some().cmp(&x.is_some()),
                },
                5 => al[a].reason.cmp(&al[b].reason),
                _ => alarm_rank(&al[a])
                    .cmp(&alarm_rank(&al[b]))
                    .then(al[a].since.cmp(&al[b].since)),
            };
            directed(o, reverse).then_with(|| al[a].name.cmp(&al[b].name))
        });
        rows
    }

    /// Overview events, newest first by their own time (they arrive out of order: a
    /// notification is heard after the backup that caused it), that match the filter.
    pub fn visible_events(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        let mut rows: Vec<usize> = (0..self.events.len())
            .rev()
            .filter(|&i| needle.any([self.events[i].text.as_str()]))
            .collect();
        // Stable: equal times keep the newest-arrived first.
        rows.sort_by(|&a, &b| self.events[b].at.cmp(&self.events[a].at));
        rows
    }

    pub fn visible_devices(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        let bad = |i: usize| {
            let d = &self.devices[i];
            d.series.last().is_some_and(|p| p.anomalous)
                || self.stream_anomalies.iter().any(|a| a.deviceid == d.id)
        };
        let mut rows: Vec<usize> = (0..self.devices.len())
            .filter(|&i| {
                let d = &self.devices[i];
                if self.problems_only && !bad(i) {
                    return false;
                }
                let value = d
                    .series
                    .last()
                    .map(|p| format!("{:.1}", p.value))
                    .unwrap_or_default();
                needle.any([d.id.as_str(), value.as_str()])
            })
            .collect();
        // Another table's column leaves the devices worst first.
        let Sort { column, reverse } = self.streams_sort(StreamsTable::Devices);
        let ds = &self.devices;
        let value = |i: usize| ds[i].series.last().map(|p| p.value).unwrap_or(f64::MIN);
        rows.sort_by(|&a, &b| {
            let o = match column {
                1 => ds[a].id.cmp(&ds[b].id),
                2 => value(b).total_cmp(&value(a)),
                _ => bad(b)
                    .cmp(&bad(a))
                    .then(ds[b].series.anomalies().cmp(&ds[a].series.anomalies())),
            };
            directed(o, reverse).then_with(|| ds[a].id.cmp(&ds[b].id))
        });
        rows
    }

    /// The Streams view's shards in display order. Worst first: records rejected or an
    /// iterator near the retention, then stale, then the oldest iterator.
    pub fn visible_shards(&self) -> Vec<usize> {
        let sh = &self.shards;
        let near = crate::app::state::DEFAULT_RETENTION_MS * 8 / 10;
        let rank = |i: usize| {
            let s = &sh[i];
            if s.rejected > 0 || s.iterator_age_ms >= near {
                0
            } else if self.shard_staleness(s).is_some() {
                1
            } else {
                2
            }
        };
        let Sort { column, reverse } = self.streams_sort(StreamsTable::Shards);
        let name = |i: usize| (sh[i].stream.as_str(), sh[i].shard.as_str());
        let mut rows: Vec<usize> = (0..sh.len()).collect();
        rows.sort_by(|&a, &b| {
            let o = match column {
                3 => name(a).cmp(&name(b)),
                4 => sh[b].records_per_sec.total_cmp(&sh[a].records_per_sec),
                5 => sh[b].iterator_age_ms.cmp(&sh[a].iterator_age_ms),
                6 => sh[b].rejected.cmp(&sh[a].rejected),
                _ => rank(a)
                    .cmp(&rank(b))
                    .then(sh[b].iterator_age_ms.cmp(&sh[a].iterator_age_ms)),
            };
            directed(o, reverse).then_with(|| name(a).cmp(&name(b)))
        });
        rows
    }

    /// The Streams view's sort as it applies to `table`: its own column, or its default order
    /// (column 0, reversed with the others) when another table's column is chosen.
    fn streams_sort(&self, table: StreamsTable) -> Sort {
        let s = self.sort_of(View::Streams);
        if s.column == 0 || table.columns().contains(&s.column) {
            s
        } else {
            Sort::default()
        }
    }

    /// The detected stream anomalies the filter lets through (device, time, value, type), in
    /// display order (indices into `stream_anomalies`): newest first by default, or by a column
    /// of the pane.
    pub fn visible_stream_anomalies(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        let an = &self.stream_anomalies;
        let mut rows: Vec<usize> = (0..an.len())
            .rev()
            .filter(|&i| {
                let a = &an[i];
                let value = format!("{:.1}", a.value);
                needle.any([
                    a.deviceid.as_str(),
                    &a.timestamp,
                    value.as_str(),
                    &a.anomaly_type,
                ])
            })
            .collect();
        let Sort { column, reverse } = self.streams_sort(StreamsTable::Anomalies);
        rows.sort_by(|&a, &b| {
            let o = match column {
                7 => an[a].deviceid.cmp(&an[b].deviceid),
                8 => an[b].timestamp.cmp(&an[a].timestamp),
                9 => an[b].value.total_cmp(&an[a].value),
                10 => an[a].anomaly_type.cmp(&an[b].anomaly_type),
                // Newest first: the order they were stored in, reversed.
                _ => b.cmp(&a),
            };
            directed(o, reverse).then(b.cmp(&a))
        });
        rows
    }

    /// The rejected records the filter lets through (reason, raw bytes, shard), in display
    /// order (indices into `rejected`): newest arrived first by default, or by a column of the
    /// pane (time: newest first across the streams; reason).
    pub fn visible_rejected(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        let rj = &self.rejected;
        let mut rows: Vec<usize> = (0..rj.len())
            .rev()
            .filter(|&i| needle.any([rj[i].reason.as_str(), &rj[i].bytes, &rj[i].shard]))
            .collect();
        let Sort { column, reverse } = self.streams_sort(StreamsTable::Rejected);
        rows.sort_by(|&a, &b| {
            let o = match column {
                11 => rj[b].at.cmp(&rj[a].at),
                12 => rj[a].reason.cmp(&rj[b].reason),
                _ => b.cmp(&a),
            };
            directed(o, reverse).then(b.cmp(&a))
        });
        rows
    }

    /// The open volume's snapshots in display order (indices into its `snapshots`). Worst
    /// first: anomalous counts, then newest first.
    pub fn visible_snapshots(&self) -> Vec<usize> {
        self.selected_volume()
            .map(|v| self.snapshot_order(v))
            .unwrap_or_default()
    }

    /// [`Self::visible_snapshots`] of a volume already in hand: finding the selected volume
    /// sorts the whole fleet, which a frame should pay once.
    pub fn snapshot_order(&self, v: &super::state::Volume) -> Vec<usize> {
        let ss = &v.snapshots;
        let Sort { column, reverse } = self.snapshot_sort;
        let mut rows: Vec<usize> = (0..ss.len()).collect();
        rows.sort_by(|&a, &b| {
            let o = match column {
                // Newest first; the oldest, whose own time is unknown, last.
                1 => b.cmp(&a),
                2 => ss[a].id.cmp(&ss[b].id),
                3 => ss[b].changed_blocks.cmp(&ss[a].changed_blocks),
                _ => ss[b].anomalous.cmp(&ss[a].anomalous).then(b.cmp(&a)),
            };
            // The list is in time order already: ties keep the newest first.
            directed(o, reverse).then(b.cmp(&a))
        });
        rows
    }

    /// The snapshot selected in the open volume detail (an index into its `snapshots`).
    pub fn selected_snapshot(&self) -> Option<usize> {
        let rows = self.visible_snapshots();
        rows.get(self.detail_row.min(rows.len().saturating_sub(1)))
            .copied()
    }

    pub fn visible_metrics(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        let ms = &self.metrics;
        let bad = |i: usize| ms[i].scored.last().is_some_and(|p| p.anomalous);
        let mut rows: Vec<usize> = (0..ms.len())
            .filter(|&i| {
                if self.problems_only && !bad(i) && ms[i].scored.anomalies() == 0 {
                    return false;
                }
                let label = self.metric_label(&ms[i]);
                needle.any([label.as_str(), ms[i].id.display().as_str(), &ms[i].stat])
            })
            .collect();
        let Sort { column, reverse } = self.sort_of(View::Metrics);
        rows.sort_by(|&a, &b| {
            let o = match column {
                1 => self.metric_label(&ms[a]).cmp(&self.metric_label(&ms[b])),
                _ => bad(b)
                    .cmp(&bad(a))
                    .then(ms[b].scored.anomalies().cmp(&ms[a].scored.anomalies())),
            };
            directed(o, reverse).then(a.cmp(&b))
        });
        rows
    }

    /// How the metric list names a metric: the volume's name for a backup metric (the twelve
    /// of them share namespace and metric name), else namespace, name and dimensions.
    pub fn metric_label(&self, m: &super::state::MetricView) -> String {
        self.metric_name(&m.id)
    }

    /// A metric as the operator knows it: the volume's name for a backup metric.
    pub fn metric_name(&self, id: &crate::cloud::MetricId) -> String {
        let volume = id
            .dimensions
            .iter()
            .find(|(k, _)| k == crate::interop::BACKUP_DIMENSION)
            .map(|(_, arn)| arn);
        match volume {
            Some(arn) => {
                let name = self
                    .volume_by_arn(arn)
                    .map(|v| v.name.clone())
                    .unwrap_or_else(|| {
                        crate::interop::volume_id_in(arn).unwrap_or(arn).to_string()
                    });
                format!("{name} {}", id.name)
            }
            None => id.display(),
        }
    }

    pub fn visible_notifications(&self) -> Vec<usize> {
        let needle = Needle::new(&self.filter);
        let ns = &self.notifications;
        let mut rows: Vec<usize> = (0..ns.len())
            .filter(|&i| {
                let n = &ns[i];
                needle.any([n.subject.as_str(), &n.message, &n.topic])
            })
            .collect();
        let Sort { column, reverse } = self.sort_of(View::Notifications);
        rows.sort_by(|&a, &b| {
            let o = match column {
                1 => ns[a].topic.cmp(&ns[b].topic),
                2 => ns[a].subject.cmp(&ns[b].subject),
                3 => ns[b].count.cmp(&ns[a].count),
                _ => ns[b].at.cmp(&ns[a].at),
            };
            directed(o, reverse).then(b.cmp(&a))
        });
        rows
    }

    /// The sort label for a table's title: `by name ↑`; empty for the default order.
    pub fn sort_label(&self, view: View) -> String {
        sort_label(sort_columns(view), self.sort_of(view))
    }

    /// The sort label of one of the Streams view's tables: only the table the column belongs
    /// to says it (each when the default order is reversed).
    pub fn streams_sort_label(&self, table: StreamsTable) -> String {
        let s = self.sort_of(View::Streams);
        if s.column != 0 && !table.columns().contains(&s.column) {
            return String::new();
        }
        if s.column == 0 && matches!(table, StreamsTable::Anomalies | StreamsTable::Rejected) {
            // The panes' default order is newest first, not worst first.
            return if s.reverse {
                " · oldest first".into()
            } else {
                String::new()
            };
        }
        self.sort_label(View::Streams)
    }

    /// The sort label of the open volume's snapshot list.
    pub fn snapshot_sort_label(&self) -> String {
        sort_label(SNAPSHOT_COLUMNS, self.snapshot_sort)
    }
}

fn sort_label(cols: &[&str], s: Sort) -> String {
    if cols.is_empty() || (s.column == 0 && !s.reverse) {
        return String::new();
    }
    format!(
        " · by {}{}",
        cols[s.column.min(cols.len() - 1)],
        if s.reverse { " ↑" } else { "" }
    )
}
