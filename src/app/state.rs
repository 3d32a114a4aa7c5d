//! `AppState`: everything the screen shows, as plain data. The UI only reads it; [`super::update`]
//! is the only writer. Text in it that came from AWS or a stream was cleaned on the way in
//! ([`super::feed`]), so rendering never has to think about escape sequences.

use crate::cloud::{AlarmDefinition, AlarmHistoryItem, AlarmState, Identity, MetricId, Time};
use crate::pipeline::MetricDetector;
use crate::theme::Theme;
use std::collections::VecDeque;

/// Points kept per live series (a temperature device, a metric): enough for hours at 1 Hz.
pub const SERIES_CAP: usize = 10_000;
/// Lines kept in the overview's event log, notifications, rejected records.
pub const LOG_CAP: usize = 500;

/// The six views, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Overview,
    Backups,
    Streams,
    Alarms,
    Metrics,
    Notifications,
}

impl View {
    /// How many views there are (the tabs, the keys `1`… and the per-view selections).
    pub const COUNT: usize = 6;
    pub const ALL: [View; View::COUNT] = [
        View::Overview,
        View::Backups,
        View::Streams,
        View::Alarms,
        View::Metrics,
        View::Notifications,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Backups => "Backups",
            View::Streams => "Streams",
            View::Alarms => "Alarms",
            View::Metrics => "Metrics",
            View::Notifications => "Notifications",
        }
    }

    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    /// `:backups`, `:alarms`... also accept the singular and a unique prefix.
    pub fn from_command(s: &str) -> Option<View> {
        let s = s.to_ascii_lowercase();
        if s.is_empty() {
            return None;
        }
        View::ALL
            .into_iter()
            .find(|v| v.title().to_ascii_lowercase().starts_with(&s))
    }
}

/// One point of a series with the band the detector expected it in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Seconds since the epoch.
    pub t: i64,
    pub value: f64,
    /// `(lower, upper)`; `None` while the detector has insufficient data.
    pub band: Option<(f64, f64)>,
    pub anomalous: bool,
}

/// A time series with its band, oldest first, capped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub points: VecDeque<Point>,
    /// CloudWatch's own band (`ANOMALY_DETECTION_BAND`), when the account has one.
    pub cloudwatch_band: Vec<(i64, f64, f64)>,
}

impl Series {
    pub fn push(&mut self, p: Point) {
        // Samples can arrive out of order after a retry; keep the series sorted.
        if self.points.back().is_some_and(|last| last.t > p.t) {
            let at = self.points.partition_point(|q| q.t <= p.t);
            self.points.insert(at, p);
        } else if self.points.back().is_some_and(|last| last.t == p.t) {
            *self.points.back_mut().expect("non-empty") = p;
        } else {
            self.points.push_back(p);
        }
        while self.points.len() > SERIES_CAP {
            self.points.pop_front();
        }
    }

    pub fn last(&self) -> Option<&Point> {
        self.points.back()
    }

    pub fn anomalies(&self) -> usize {
        self.points.iter().filter(|p| p.anomalous).count()
    }
}

/// A snapshot of a volume and the change since the one before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub id: String,
    /// None for the oldest snapshot of the series: the pipeline reports each pair at its
    /// second snapshot's time, so the first one's own time is not known here (showing the
    /// pair's time would put the first two snapshots in the same minute).
    pub created: Option<Time>,
    pub changed_blocks: Option<u64>,
    pub anomalous: bool,
}

/// A protected EBS volume (Backups view row, volume detail).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub arn: String,
    pub id: String,
    pub name: String,
    /// Known once one snapshot pair has been counted.
    pub size_gib: Option<i64>,
    pub block_size: i64,
    pub last_backup: Option<Time>,
    pub last_snapshot: Option<String>,
    pub alarm_name: Option<String>,
    /// Oldest first.
    pub snapshots: Vec<Snapshot>,
    /// Changed blocks per backup, with the band.
    pub changes: Series,
    pub alarm: Option<AlarmState>,
}

impl Volume {
    pub fn last_snapshot(&self) -> Option<&Snapshot> {
        self.snapshots.last()
    }

    /// The last change: blocks, GiB and % of the volume.
    pub fn last_change(&self) -> Option<(u64, f64, f64)> {
        let blocks = self.changes.last()?.value.max(0.0) as u64;
        let gib = blocks as f64 * self.block_size as f64 / (1u64 << 30) as f64;
        let pct = match self.size_gib {
            Some(size) if size > 0 => 100.0 * gib / size as f64,
            _ => 0.0,
        };
        Some((blocks, gib, pct))
    }

    /// The last clean recovery point: the snapshot before the first anomalous count of the
    /// latest episode ([`crate::detect::last_clean`]); None without an anomalous count.
    pub fn last_clean(&self) -> Option<usize> {
        let flags: Vec<bool> = self.snapshots.iter().map(|s| s.anomalous).collect();
        crate::detect::last_clean::last_clean(&flags)
    }

    /// The recovery point ARN of one of this volume's snapshots (AWS Backup names an EBS
    /// recovery point by its snapshot's ARN, in the volume's region).
    pub fn snapshot_arn(&self, snapshot_id: &str) -> String {
        crate::cloud::arn::snapshot_arn_for(&self.arn, snapshot_id)
    }

    /// "anomalous", "normal" or "learning" (the detector has no band yet).
    pub fn verdict(&self) -> VolumeVerdict {
        match self.changes.last() {
            None => VolumeVerdict::NoData,
            Some(p) if p.anomalous => VolumeVerdict::Anomalous,
            Some(p) if p.band.is_none() => VolumeVerdict::Learning,
            Some(_) => VolumeVerdict::Normal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeVerdict {
    NoData,
    Learning,
    Normal,
    Anomalous,
}

impl VolumeVerdict {
    pub fn label(self) -> &'static str {
        match self {
            VolumeVerdict::NoData => "no data",
            VolumeVerdict::Learning => "learning",
            VolumeVerdict::Normal => "normal",
            VolumeVerdict::Anomalous => "ANOMALY",
        }
    }
}

/// One shard of a Kinesis stream.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardStat {
    pub stream: String,
    pub shard: String,
    pub records_per_sec: f64,
    pub iterator_age_ms: i64,
    pub rejected: u64,
    /// When GetRecords last answered for the shard (account time): what the numbers are as of.
    pub read_at: Option<Time>,
}

/// The stream's retention AWS gives by default; an iterator age near it means records are
/// about to be trimmed before they are read.
pub const DEFAULT_RETENTION_MS: i64 = 24 * 3_600_000;

impl AppState {
    /// How old a shard's numbers are when they cannot be taken as current: the Streams source
    /// is failing (its values are the last ones read), or the shard was never read. `None`
    /// while the source is healthy.
    pub fn shard_staleness(&self, s: &ShardStat) -> Option<Staleness> {
        let failing = self.sources().iter().any(|(source, health, _)| {
            *source == crate::pipeline::Source::Streams
                && *health == crate::pipeline::HealthState::Degraded
        });
        match s.read_at {
            None => Some(Staleness::NeverRead),
            Some(t) if failing => Some(Staleness::Since((self.now - t).num_seconds())),
            Some(_) => None,
        }
    }
}

impl AppState {
    /// How old a source's values are when they cannot be taken as current: the source fails
    /// (its values are the last ones read), or it fails and nothing was ever read from it (the
    /// values are unknown, not zero). `None` while it is healthy or only throttled (data still
    /// arrives, late). The pipeline sends data only when it changed, so a failing source's
    /// values were last confirmed when it began failing, or when they last arrived if later.
    pub fn source_staleness(&self, source: crate::pipeline::Source) -> Option<Staleness> {
        let h = self
            .health
            .iter()
            .find(|h| h.source == source && h.state == crate::pipeline::HealthState::Degraded)?;
        let i = crate::pipeline::Source::ALL
            .iter()
            .position(|s| *s == source)?;
        match self.read_at[i] {
            None => Some(Staleness::NeverRead),
            Some(t) => Some(Staleness::Since((self.now - t.max(h.since)).num_seconds())),
        }
    }

    /// Notes that data from `source` arrived now.
    pub fn mark_read(&mut self, source: crate::pipeline::Source) {
        if let Some(i) = crate::pipeline::Source::ALL
            .iter()
            .position(|s| *s == source)
        {
            self.read_at[i] = Some(self.now);
        }
    }
}

/// Why values are not current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Nothing has been read yet: the value is unknown, not zero.
    NeverRead,
    /// The source fails; the values were read this many seconds (account time) ago.
    Since(i64),
}

/// A record that could not be decoded, kept for inspection (already printable).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub stream: String,
    pub shard: String,
    pub at: Time,
    pub reason: String,
    /// `sanitize::printable_bytes` of the payload.
    pub bytes: String,
}

/// A temperature sensor's live series.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub id: String,
    pub series: Series,
    pub hot: f64,
    pub cold: f64,
}

/// A detected stream anomaly, shaped like the temperature pipeline's `m03p02_anomaly_data` items.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAnomaly {
    pub deviceid: String,
    pub anomaly_date: String,
    pub timestamp: String,
    pub value: f64,
    /// "Hot", "Cold" or "Unusual".
    pub anomaly_type: String,
    /// Account time it arrived (for "last 24 h").
    pub seen: Time,
}

/// Who acknowledged an alarm's current ALARM episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// The caller identity ARN of whoever acknowledged.
    pub by: String,
    pub at: Time,
    pub note: String,
    /// Until when re-notifications are hidden.
    pub snooze_until: Option<Time>,
    /// `false`: made here while the shared table was unreachable ("not shared yet").
    pub shared: bool,
}

impl Ack {
    /// The short form of `by`: the user, role session or role at the end of the ARN.
    pub fn short_by(&self) -> &str {
        self.by.rsplit(['/', ':']).next().unwrap_or(&self.by)
    }
}

/// A CloudWatch alarm watchband shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRow {
    pub name: String,
    pub arn: String,
    pub state: AlarmState,
    pub reason: String,
    pub since: Time,
    pub ack: Option<Ack>,
    /// An acknowledgement's snooze that still runs: re-notifications are hidden until then.
    pub snoozed_until: Option<Time>,
    pub definition: AlarmDefinition,
    /// Newest first.
    pub history: Vec<AlarmHistoryItem>,
}

impl AlarmRow {
    /// In ALARM, nobody acknowledged this episode and no snooze runs.
    pub fn needs_attention(&self) -> bool {
        self.state == AlarmState::Alarm && self.ack.is_none() && self.snoozed_until.is_none()
    }
}

/// A CloudWatch metric charted on the Metrics view.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricView {
    pub id: MetricId,
    pub stat: String,
    pub period: i32,
    /// Scored by the pipeline with the local detector ([`AppState::metric_algo`]).
    pub scored: Series,
    /// Timestamps where the RCF metric scorer's `<Metric>AnomalyIndicator` is 1.
    pub indicator: Vec<i64>,
}

/// A message sent to an SNS topic.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRow {
    /// The newest of the identical messages grouped in this row.
    pub at: Time,
    /// How many identical messages (same topic, subject and body) this row stands for.
    pub count: u32,
    pub topic: String,
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Backup,
    Anomaly,
    Alarm,
    Notification,
    Action,
    Error,
}

/// A line of the overview's "latest events".
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    /// When it happened (a snapshot's creation, a notification's sending), not when the UI heard.
    pub at: Time,
    pub kind: EventKind,
    pub text: String,
    /// Identical lines in a row are one event with a count.
    pub count: u32,
}

/// An on-demand backup started from the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupJobView {
    pub volume_arn: String,
    pub vault: String,
    pub job_id: Option<String>,
    pub percent: f64,
    /// "CREATED", "RUNNING", "COMPLETED", "FAILED" ...
    pub state: String,
    pub message: Option<String>,
    pub done: bool,
}

/// A restore started from the UI (`R`), one per volume.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreView {
    pub volume_arn: String,
    pub snapshot_id: String,
    pub job_id: Option<String>,
    pub zone: Option<String>,
    pub percent: f64,
    /// "STARTING", "PENDING", "RUNNING", "COMPLETED", "FAILED" ...
    pub state: String,
    pub message: Option<String>,
    /// `vol-...` of the restored volume, once COMPLETED.
    pub new_volume_id: Option<String>,
    pub done: bool,
}

/// What `P` and `R` act on: a recovery point of a volume.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryTarget {
    pub volume_arn: String,
    pub volume_id: String,
    pub volume_name: String,
    pub size_gib: Option<i64>,
    pub snapshot_id: String,
    pub recovery_point_arn: String,
    pub created: Time,
    /// Whether it is the volume's last clean recovery point (else the operator chose it).
    pub last_clean: bool,
    pub vault: String,
}

/// Where mutating actions go: the defaults the confirm dialog and the alarm form show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActionConfig {
    pub vault: String,
    /// Empty: AWS Backup's default service role in the caller's account.
    pub backup_role_arn: String,
    /// A topic name or ARN for new alarms' actions.
    pub topic: String,
}

/// The alarm-creation form (`a`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmForm {
    pub metric: MetricId,
    /// Text of each field, in [`AlarmForm::LABELS`] order (metric is fixed).
    pub fields: [String; 5],
    pub focus: usize,
    /// The series the preview is computed on.
    pub data: Vec<(i64, f64)>,
    /// The band preview over `data` with the current width.
    pub preview: Series,
    /// What is wrong with the fields as typed (checked on every key), if anything.
    pub error: Option<String>,
    /// What the alarm watches as the operator knows it (the volume's name, or the metric).
    pub target: String,
    /// An alarm with the name this form would write already exists: it would be replaced.
    pub existing: Option<String>,
    /// The operator saw the overwrite warning and pressed Enter again.
    pub overwrite_confirmed: bool,
}

impl AlarmForm {
    /// The statistics CloudWatch accepts for an anomaly detector that the picker offers.
    pub const STATISTICS: [&'static str; 9] = [
        "Average",
        "Maximum",
        "Minimum",
        "Sum",
        "SampleCount",
        "p99",
        "p95",
        "p90",
        "p50",
    ];

    pub const LABELS: [&'static str; 5] = [
        "statistic",
        "period (s)",
        "band width",
        "evaluation periods",
        "SNS topic",
    ];
}

/// A dialog on top of the view; keys go to it first.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Help {
        query: String,
        scroll: usize,
    },
    ConfirmBackup {
        volume_arn: String,
        volume_name: String,
        vault: String,
        role: String,
    },
    /// `P`: a legal hold on a recovery point.
    ConfirmProtect(Box<RecoveryTarget>),
    /// `R`: a restore of a recovery point to a new volume, with the role it runs as.
    ConfirmRestore {
        target: Box<RecoveryTarget>,
        role: String,
    },
    AlarmForm(Box<AlarmForm>),
    Acknowledge {
        alarm_name: String,
        note: String,
        /// Minutes to snooze re-notifications (empty: no snooze).
        snooze: String,
        /// Tab moves between the note (false) and the snooze (true).
        on_snooze: bool,
    },
    /// `x` on an acknowledged alarm: withdraw the acknowledgement (`mine`: the operator's
    /// own; otherwise someone else's, which this dialog is the confirmation for).
    Withdraw {
        alarm_name: String,
        by: String,
        mine: bool,
    },
    /// The shared acknowledgements table is missing: create it?
    CreateAckTable {
        table: String,
    },
    Command {
        input: String,
        /// The history line being shown (Up/Down), if any.
        recall: Option<usize>,
    },
    MetricBrowser {
        query: String,
        selected: usize,
    },
    /// `:profile` or `:region` without a name: pick one from a list (type to search).
    AccountPicker {
        field: AccountField,
        query: String,
        selected: usize,
    },
}

/// What `:profile` and `:region` change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountField {
    Profile,
    Region,
}

/// Which account to watch next: another profile (the region stays when `--region` or
/// `:region` chose it) or another region of the same profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChoice {
    Profile(String),
    Region(String),
}

/// The account watchband switched to, as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountInfo {
    /// The AWS profile (`None`: the SDK's default chain without a named profile).
    pub profile: Option<String>,
    /// The region the clients were built for.
    pub region: Option<String>,
    /// `--read-only`, or the profile's `read_only = true`.
    pub read_only: bool,
    /// The profile's theme, when the configuration file gives it one and `--theme` did not.
    pub theme: Option<Theme>,
    /// The profiles of the shared files, read again on the switch (for completion).
    pub profiles: Vec<String>,
    /// Said instead of the switch's success line when something is missing (no store).
    pub warning: Option<String>,
}

/// A line at the bottom saying what happened or why something was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// The demo account's controls as last seen (only when the Cloud is the simulator).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemoState {
    pub paused: bool,
    pub speed: f64,
}

/// Everything on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    pub now: Time,
    pub view: View,
    /// "demo" or "aws".
    pub cloud_kind: String,
    pub identity: Option<Identity>,
    pub read_only: bool,
    /// The OS user, kept only as a note beside the caller identity ([`Self::acknowledger`]).
    pub user: String,
    pub demo: Option<DemoState>,
    pub theme: Theme,
    pub actions: ActionConfig,
    /// The AWS profile in use (`None`: the default chain), for the status bar.
    pub profile: Option<String>,
    /// The region the clients were built for (known before the caller identity is).
    pub region: Option<String>,
    /// The profiles `:profile` completes and offers (the shared config and credentials files).
    pub profiles: Vec<String>,
    /// A `:profile` / `:region` switch is under way (what it switches to).
    pub switching: Option<String>,

    pub volumes: Vec<Volume>,
    /// Position in `volumes` by ARN (rebuilt by the feed when the list changes), so that a
    /// name for an ARN costs no search through 10,000 volumes.
    pub volume_index: std::collections::HashMap<String, usize>,
    pub shards: Vec<ShardStat>,
    pub devices: Vec<Device>,
    pub stream_anomalies: VecDeque<StreamAnomaly>,
    pub rejected: VecDeque<Rejected>,
    pub alarms: Vec<AlarmRow>,
    pub metrics: Vec<MetricView>,
    pub metric_algo: MetricDetector,
    /// ListMetrics' answer for the `:metric` browser.
    pub metric_catalog: Vec<MetricId>,
    pub notifications: VecDeque<NotificationRow>,
    pub events: VecDeque<LogEvent>,
    pub health: Vec<crate::pipeline::SourceHealth>,
    /// Per source (in `Source::ALL` order), when its last data arrived (account time): what
    /// the values a view shows from it are as of.
    pub read_at: [Option<Time>; crate::pipeline::Source::ALL.len()],
    pub jobs: Vec<BackupJobView>,
    pub restores: Vec<RestoreView>,
    /// Recovery point ARNs a legal hold placed from this session protects.
    pub held: Vec<String>,

    /// Selected row per view (index into the filtered list).
    pub selected: [usize; View::COUNT],
    /// Volume detail (Backups) or alarm detail (Alarms) is open.
    pub detail: bool,
    /// Selected row inside the open detail (a snapshot, a history line).
    pub detail_row: usize,
    pub modal: Option<Modal>,
    pub filter: String,
    pub filter_editing: bool,
    /// Per view: the column its table is sorted by.
    pub sort: [crate::app::table::Sort; View::COUNT],
    /// The open volume's snapshot list's sort (`o` `O` in the detail).
    pub snapshot_sort: crate::app::table::Sort,
    /// Tables show only the rows that are a problem (`!`).
    pub problems_only: bool,
    /// `:` lines run, oldest first (Up/Down in the command line).
    pub command_history: Vec<String>,
    /// How far back the charts reach (`[` `]`, `:range`); `None` is all.
    pub range: Option<i64>,
    /// The slice of that range the charts show (`+` `-` `<` `>`).
    pub zoom: crate::app::zoom::Zoom,
    /// The terminal's size as last drawn or reported (keys wait while it is too small; the
    /// mouse maps clicks through it).
    pub size: (u16, u16),
    /// The rows scrolled in the Streams view's anomaly and rejected panes.
    pub pane_scroll: usize,
    /// The shard clicked in the Streams view's shards table (stream, shard id): by name, so
    /// it stays marked when the table reorders; none until a click.
    pub selected_shard: Option<(String, String)>,
    pub message: Option<Message>,
    pub quit: bool,
    /// Bumped by every change that alters the screen; the runtime draws only when it moved.
    pub revision: u64,
}

impl AppState {
    /// The state the TUI starts from on an account: the actions' defaults from what the
    /// pipeline watches, and the demo's controls when the account is the demo. The live TUI
    /// and the tape player both start here.
    pub fn for_account(
        cloud: &dyn crate::cloud::Cloud,
        read_only: bool,
        theme: Theme,
        user: String,
        config: &crate::pipeline::PipelineConfig,
    ) -> AppState {
        let mut state = AppState::new(cloud.now(), cloud.kind(), read_only, theme);
        state.user = user;
        state.actions = ActionConfig {
            vault: config.vault.clone(),
            backup_role_arn: config.backup_role.clone(),
            topic: config.backup_topic.clone(),
        };
        if let Some(d) = cloud.demo() {
            state.demo = Some(DemoState {
                paused: d.is_paused(),
                speed: d.speed(),
            });
        }
        state
    }

    pub fn new(now: Time, cloud_kind: &str, read_only: bool, theme: Theme) -> AppState {
        AppState {
            now,
            view: View::Overview,
            cloud_kind: cloud_kind.to_string(),
            identity: None,
            read_only,
            user: String::new(),
            demo: None,
            theme,
            actions: ActionConfig {
                vault: "Default".into(),
                backup_role_arn: String::new(),
                topic: crate::interop::BACKUP_TOPIC_NAME.into(),
            },
            profile: None,
            region: None,
            profiles: Vec::new(),
            switching: None,
            volumes: Vec::new(),
            volume_index: Default::default(),
            shards: Vec::new(),
            devices: Vec::new(),
            stream_anomalies: VecDeque::new(),
            rejected: VecDeque::new(),
            alarms: Vec::new(),
            metrics: Vec::new(),
            metric_algo: MetricDetector::Band,
            metric_catalog: Vec::new(),
            notifications: VecDeque::new(),
            events: VecDeque::new(),
            health: Vec::new(),
            read_at: [None; crate::pipeline::Source::ALL.len()],
            jobs: Vec::new(),
            restores: Vec::new(),
            held: Vec::new(),
            selected: [0; View::COUNT],
            detail: false,
            detail_row: 0,
            modal: None,
            filter: String::new(),
            filter_editing: false,
            sort: [crate::app::table::Sort::default(); View::COUNT],
            snapshot_sort: Default::default(),
            problems_only: false,
            command_history: Vec::new(),
            range: None,
            zoom: Default::default(),
            size: (0, 0),
            pane_scroll: 0,
            selected_shard: None,
            message: None,
            quit: false,
            revision: 0,
        }
    }

    /// Number of rows the current view's list has (what j/k/G move over).
    pub fn row_count(&self) -> usize {
        match self.view {
            View::Overview => self.problems().len() + self.visible_events().len(),
            View::Backups if self.detail => self
                .selected_volume()
                .map(|v| v.snapshots.len())
                .unwrap_or(0),
            View::Alarms if self.detail => {
                self.selected_alarm().map(|a| a.history.len()).unwrap_or(0)
            }
            View::Backups => self.visible_volumes().len(),
            View::Streams => self.visible_devices().len(),
            View::Alarms => self.visible_alarms().len(),
            View::Metrics => self.visible_metrics().len(),
            View::Notifications => self.visible_notifications().len(),
        }
    }

    pub fn selected_row(&self) -> usize {
        if self.detail {
            return self.detail_row;
        }
        self.selected[self.view.index()]
    }

    pub fn selected_volume(&self) -> Option<&Volume> {
        let vis = self.visible_volumes();
        vis.get(self.selected[View::Backups.index()])
            .map(|&i| &self.volumes[i])
    }

    pub fn selected_alarm(&self) -> Option<&AlarmRow> {
        let vis = self.visible_alarms();
        vis.get(self.selected[View::Alarms.index()])
            .map(|&i| &self.alarms[i])
    }

    pub fn selected_device(&self) -> Option<&Device> {
        let vis = self.visible_devices();
        vis.get(self.selected[View::Streams.index()])
            .map(|&i| &self.devices[i])
    }

    pub fn selected_metric(&self) -> Option<&MetricView> {
        let vis = self.visible_metrics();
        vis.get(self.selected[View::Metrics.index()])
            .map(|&i| &self.metrics[i])
    }

    /// The alarm that watches a volume (`Backup-Anomaly-Alarm/<arn>`).
    pub fn alarm_for_volume(&self, arn: &str) -> Option<&AlarmRow> {
        let name = crate::interop::backup_alarm_name(arn);
        self.alarms.iter().find(|a| a.name == name)
    }

    pub fn alarms_needing_attention(&self) -> usize {
        self.alarms.iter().filter(|a| a.needs_attention()).count()
    }

    /// Anomalies (backups and streams) in the 24 hours before `now`.
    pub fn anomalies_last_24h(&self) -> usize {
        let since_time = self.now - chrono::Duration::hours(24);
        let since = since_time.timestamp();
        let backups: usize = self
            .volumes
            .iter()
            .map(|v| {
                v.changes
                    .points
                    .iter()
                    .filter(|p| p.anomalous && p.t >= since)
                    .count()
            })
            .sum();
        let streams = self
            .stream_anomalies
            .iter()
            .filter(|a| a.seen >= since_time)
            .count();
        backups + streams
    }

    pub fn records_per_sec(&self) -> f64 {
        self.shards.iter().map(|s| s.records_per_sec).sum::<f64>() + 0.0
    }

    /// Every source with its health; a source that has not reported is ok (the pipeline
    /// reports changes, and every source starts healthy).
    pub fn sources(
        &self,
    ) -> Vec<(
        crate::pipeline::Source,
        crate::pipeline::HealthState,
        Option<&crate::pipeline::SourceHealth>,
    )> {
        crate::pipeline::Source::ALL
            .iter()
            .map(|s| {
                let h = self.health.iter().find(|h| h.source == *s);
                (
                    *s,
                    h.map(|h| h.state)
                        .unwrap_or(crate::pipeline::HealthState::Ok),
                    h,
                )
            })
            .collect()
    }

    pub fn log(&mut self, kind: EventKind, text: String) {
        self.log_at(self.now, kind, text);
    }

    /// Logs an event at its own time; a repeat of the newest line only bumps its count.
    pub fn log_at(&mut self, at: Time, kind: EventKind, text: String) {
        if let Some(last) = self.events.back_mut()
            && last.kind == kind
            && last.text == text
        {
            last.count += 1;
            last.at = last.at.max(at);
            return;
        }
        self.events.push_back(LogEvent {
            at,
            kind,
            text,
            count: 1,
        });
        while self.events.len() > LOG_CAP {
            self.events.pop_front();
        }
    }

    /// The role for on-demand backups: the configured one, else AWS Backup's default service
    /// role of the caller's account (None until the identity is known).
    pub fn backup_role(&self) -> Option<String> {
        if !self.actions.backup_role_arn.is_empty() {
            return Some(self.actions.backup_role_arn.clone());
        }
        let id = self.identity.as_ref()?;
        Some(format!(
            "arn:aws:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
            id.account
        ))
    }

    /// The SNS topic ARN new alarms notify: the configured ARN, or the configured name in the
    /// caller's account and region.
    pub fn topic_arn(&self) -> Option<String> {
        if self.actions.topic.starts_with("arn:") {
            return Some(self.actions.topic.clone());
        }
        let id = self.identity.as_ref()?;
        Some(format!(
            "arn:aws:sns:{}:{}:{}",
            id.region, id.account, self.actions.topic
        ))
    }

    /// Who an acknowledgement or an action is attributed to: the caller identity's ARN (what
    /// CloudTrail will show for the same person), with the OS user as a note; the OS user
    /// alone says it is only that until the identity is known.
    pub fn acknowledger(&self) -> String {
        let user = (!self.user.is_empty() && self.user != "unknown").then_some(self.user.as_str());
        match (&self.identity, user) {
            (Some(id), Some(u)) => format!("{} (OS user {u})", id.arn),
            (Some(id), None) => id.arn.clone(),
            (None, Some(u)) => format!("OS user {u} (identity unknown)"),
            (None, None) => "identity unknown".into(),
        }
    }

    /// Forgets everything read from the account (a `:profile` / `:region` switch): its
    /// volumes, streams, alarms, metrics, notifications, events, health and identity, and the
    /// selections into them. How the UI is set up (view, theme, filter, sort, range, command
    /// history) stays.
    pub fn clear_account_data(&mut self) {
        self.identity = None;
        self.volumes.clear();
        self.volume_index.clear();
        self.shards.clear();
        self.devices.clear();
        self.stream_anomalies.clear();
        self.rejected.clear();
        self.alarms.clear();
        self.metrics.clear();
        self.metric_catalog.clear();
        self.notifications.clear();
        self.events.clear();
        self.health.clear();
        self.read_at = Default::default();
        self.jobs.clear();
        self.restores.clear();
        self.held.clear();
        self.selected = [0; View::COUNT];
        self.detail = false;
        self.detail_row = 0;
        self.pane_scroll = 0;
        self.selected_shard = None;
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
    }

    pub fn refuse(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
    }
}
