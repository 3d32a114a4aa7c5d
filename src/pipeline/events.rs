//! The contract between the pipeline and the app: [`Event`]s flow up, [`Command`]s flow down.
//!
//! Every string inside an event that came from AWS or a stream has already been through
//! `crate::sanitize`, so the app can put it in a cell as it is. Events that carry a list
//! (inventory, alarms, a series) replace what the app held for that key; events that carry
//! points or rows (temperature points, anomalies, notifications) are appended.
//!
//! Every time in an event is the account's time (`Cloud::now()`: wall time on AWS, the
//! virtual clock in the simulator), so the app measures ages against `Cloud::now()` too.

use crate::cloud::{
    AlarmDefinition, AlarmHistoryItem, AnomalyDetector, BackupJobState, Identity, MetricId,
    RestoreJobState, Time,
};
use crate::detect::Verdict;
use crate::detect::rules::TempClass;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A part of the pipeline whose health the overview shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Source {
    Backups,
    Alarms,
    Streams,
    Metrics,
    Notifications,
}

impl Source {
    pub const ALL: [Source; 5] = [
        Source::Backups,
        Source::Alarms,
        Source::Streams,
        Source::Metrics,
        Source::Notifications,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Source::Backups => "backups",
            Source::Alarms => "alarms",
            Source::Streams => "streams",
            Source::Metrics => "metrics",
            Source::Notifications => "notifications",
        }
    }
}

/// ok / throttled / degraded, as the overview colours it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HealthState {
    Ok,
    /// Calls are being throttled and retried with back-off; data still arrives, late.
    Throttled,
    /// Calls fail after retries (expired credentials, access denied, outage); the task keeps
    /// polling and recovers by itself once the cause is gone.
    Degraded,
}

/// The health of one source. `last_error` and `last_error_at` stay set after recovery so the
/// operator can still read what happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceHealth {
    pub source: Source,
    pub state: HealthState,
    /// The error as `CloudError` displays it: service, operation, resource, what to do.
    pub last_error: Option<String>,
    /// The resource the last error was about (a volume ARN, a stream or shard, a topic).
    pub last_error_resource: Option<String>,
    /// What kind of failure the last error was (a scan stops at once on one that no retry
    /// can cure: denied, no or expired credentials).
    #[serde(default)]
    pub last_error_kind: Option<crate::cloud::ErrorKind>,
    /// Account time of the last error.
    pub last_error_at: Option<Time>,
    /// Account time of this state change.
    pub since: Time,
}

// ---------------------------------------------------------------- backups

/// A protected EBS volume (inventory row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeInfo {
    pub arn: String,
    /// `vol-...`
    pub volume_id: String,
    /// `Name` tag or Backup's resource name; the volume id when there is neither.
    pub name: String,
    pub tags: BTreeMap<String, String>,
    /// Known once one pair has been counted (EBS returns it with the blocks).
    pub size_gib: Option<i64>,
    pub last_backup: Option<Time>,
    /// The newest completed snapshot (`snap-...`).
    pub last_snapshot: Option<String>,
    /// Name of the `Backup-Anomaly-Alarm/<arn>` alarm when one exists.
    pub alarm_name: Option<String>,
}

/// The change between two consecutive snapshots of a volume, with the detector's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    pub first_snapshot: String,
    pub second_snapshot: String,
    /// Creation time of the second snapshot (the x axis of the change chart).
    pub time: Time,
    pub changed_blocks: u64,
    pub block_size: u64,
    pub changed_gib: f64,
    /// Changed bytes as a share of the volume, 0–100.
    pub percent_of_volume: f64,
    /// The local detector's verdict on `changed_blocks`, band included (None band while it
    /// has insufficient data).
    pub verdict: Verdict,
}

/// One point of CloudWatch's own anomaly band (`ANOMALY_DETECTION_BAND`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BandPoint {
    pub time: Time,
    pub lower: f64,
    pub upper: f64,
}

/// A volume's whole change series; replaces what the app held for this volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeSeries {
    pub volume_arn: String,
    /// Oldest first.
    pub points: Vec<ChangePoint>,
    /// CloudWatch's band on `BACKUP/BACKUP_CHANGED_BLOCKS`; empty when the account has none.
    pub cloudwatch_band: Vec<BandPoint>,
}

/// Progress of an on-demand backup job, sent on every poll until it is terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    pub job_id: String,
    pub volume_arn: String,
    pub vault: String,
    pub state: BackupJobState,
    /// 0–100.
    pub percent_done: f64,
    /// The service's reason when FAILED/ABORTED/EXPIRED (sanitised), its message otherwise.
    pub status_message: Option<String>,
    pub recovery_point_arn: Option<String>,
    pub created: Time,
    pub completed: Option<Time>,
}

/// A legal hold placed on a recovery point by `P`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldPlaced {
    pub volume_arn: String,
    pub recovery_point_arn: String,
    pub hold_id: String,
    pub status: String,
}

/// Progress of a restore job started by `R`, sent on every poll until it is terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreProgress {
    pub job_id: String,
    /// The volume the recovery point was taken of (never touched by the restore).
    pub volume_arn: String,
    pub recovery_point_arn: String,
    pub availability_zone: String,
    pub state: RestoreJobState,
    /// 0–100.
    pub percent_done: f64,
    pub status_message: Option<String>,
    /// `vol-...` of the new volume, once COMPLETED.
    pub new_volume_id: Option<String>,
    pub created: Time,
    pub completed: Option<Time>,
}

// ---------------------------------------------------------------- alarms

/// An acknowledgement of one ALARM episode of one alarm, as the shared table (or, offline,
/// the local cache) holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub alarm_name: String,
    /// The alarm's `state_updated` when it entered the ALARM state this ack belongs to.
    pub episode: Time,
    /// The caller identity ARN (STS) of whoever acknowledged.
    pub who: String,
    pub note: Option<String>,
    /// Account time of the acknowledgement.
    pub at: Time,
    /// Until when the alarm's re-notifications are hidden, if snoozed.
    #[serde(default)]
    pub snooze_until: Option<Time>,
    /// Whether the shared table holds it; `false` for one made offline ("not shared yet").
    #[serde(default = "yes")]
    pub shared: bool,
}

fn yes() -> bool {
    true
}

/// An alarm as the Alarms view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmView {
    pub arn: String,
    pub definition: AlarmDefinition,
    pub state: crate::cloud::AlarmState,
    pub reason: String,
    /// When it entered its current state (the app derives "time in state" from it).
    pub state_updated: Time,
    /// The acknowledgement of the current ALARM episode, if any (never set outside ALARM).
    pub acknowledgement: Option<Acknowledgement>,
    /// While an acknowledgement's snooze runs (even past its episode), the alarm's
    /// re-notifications are hidden; `None` when nothing is snoozed.
    #[serde(default)]
    pub snoozed_until: Option<Time>,
    /// The volume for `Backup-Anomaly-Alarm/<arn>` alarms.
    pub volume_arn: Option<String>,
}

// ---------------------------------------------------------------- streams

/// A record the decoder refused, kept for inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecord {
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    pub arrival: Time,
    /// Why it was refused.
    pub error: String,
    /// The payload, printable (`sanitize::printable_bytes`).
    pub raw: String,
}

/// Counters of one shard's consumer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardStats {
    pub shard_id: String,
    pub parent: Option<String>,
    /// Closed by a split or merge and read to its end.
    pub finished: bool,
    /// Records per second over the last few seconds (wall clock).
    pub records_per_sec: f64,
    /// GetRecords' MillisBehindLatest (the iterator age).
    pub millis_behind: i64,
    pub records_total: u64,
    pub rejected_total: u64,
    /// The last few rejected records, newest last.
    pub last_rejected: Vec<RejectedRecord>,
    /// The last sequence number handled and checkpointed.
    pub checkpoint: Option<String>,
    /// When GetRecords last answered for this shard (account time): the counters above are
    /// as of then, and `None` means they have never been read.
    #[serde(default)]
    pub read_at: Option<crate::cloud::Time>,
}

/// A stream's consumer counters; replaces what the app held for this stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamStats {
    pub stream: String,
    pub shards: Vec<ShardStats>,
}

/// One decoded temperature reading with the per-device verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperaturePoint {
    pub stream: String,
    pub shard_id: String,
    pub sequence_number: String,
    pub device: String,
    /// The reading's own timestamp when it parses, else the record's arrival.
    pub time: Time,
    pub value: f64,
    /// Cold threshold (`lowest_temp` of the record).
    pub lowest: f64,
    /// Hot threshold (`highest_temp` of the record).
    pub highest: f64,
    /// The temperature pipeline's rule as intended.
    pub class: Option<TempClass>,
    /// The statistical detector's verdict (band included).
    pub verdict: Verdict,
}

/// A detected temperature anomaly, shaped like an `m03p02_anomaly_data` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureAnomaly {
    pub deviceid: String,
    /// `anomalyDate`
    pub anomaly_date: String,
    /// The reading's timestamp string as the generator wrote it (the table's range key).
    pub timestamp: String,
    pub value: f64,
    /// `anomalyType`: "Hot", "Cold" (the temperature pipeline's rule) or "Unusual" (statistical only).
    pub anomaly_type: String,
}

// ---------------------------------------------------------------- metrics

/// Which local detector the Metrics view draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MetricDetector {
    #[default]
    Band,
    Rcf,
}

/// A watched metric's history with the local verdicts and CloudWatch's views of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    pub metric: MetricId,
    pub stat: String,
    pub period: i32,
    pub detector: MetricDetector,
    /// One verdict per data point, oldest first (value, local band, anomalous).
    pub points: Vec<Verdict>,
    /// CloudWatch's band; empty when the metric has no anomaly detector.
    pub cloudwatch_band: Vec<BandPoint>,
    /// The RCF metric scorer's `<Metric>AnomalyIndicator` points (1.0 anomalous, 0.0 not); empty when absent.
    pub indicator: Vec<(Time, f64)>,
}

// ---------------------------------------------------------------- notifications

/// An SNS message delivered to watchband's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnsNotification {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    /// Multi-line, cleaned with `sanitize::clean_multiline`.
    pub message: String,
    pub time: Time,
}

// ---------------------------------------------------------------- the two enums

/// What the pipeline tells the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Identity(Identity),
    Health(SourceHealth),
    /// The whole volume inventory (replaces).
    Volumes(Vec<VolumeInfo>),
    /// One volume's change series (replaces that volume's series).
    VolumeSeries(VolumeSeries),
    /// What the `b` dialog proposes: the vault and the role for on-demand backups, from the
    /// configuration or, when it names none, from the changed-block pipeline's backup plan and selection.
    BackupSetup {
        vault: String,
        iam_role_arn: Option<String>,
    },
    /// A backup job's progress (replaces that job's row).
    Job(JobProgress),
    /// A legal hold now protects a recovery point.
    Hold(HoldPlaced),
    /// A restore job's progress (replaces that restore's row).
    Restore(RestoreProgress),
    /// Every watched alarm (replaces).
    Alarms(Vec<AlarmView>),
    /// An acknowledgement was recorded (the next `Alarms` carries it too).
    Acknowledged(Acknowledgement),
    /// The shared acknowledgements table does not exist: the TUI offers to create it.
    AckTableMissing {
        table: String,
    },
    /// One alarm's history, newest first (replaces).
    AlarmHistory {
        alarm_name: String,
        items: Vec<AlarmHistoryItem>,
    },
    /// A stream's consumer counters (replaces that stream's stats).
    Stream(StreamStats),
    /// New readings (append).
    Temperatures(Vec<TemperaturePoint>),
    /// New anomaly rows (append).
    TemperatureAnomalies(Vec<TemperatureAnomaly>),
    /// A watched metric's series (replaces that metric's series).
    Metric(MetricSeries),
    /// ListMetrics' answer for the `:metric` browser.
    MetricList(Vec<MetricId>),
    /// A new SNS message (append).
    Notification(SnsNotification),
    /// The outcome of a command, for the status line.
    Outcome(Outcome),
}

/// The result of one [`Command`], said in a sentence the status line shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// What was asked ("start backup", "create alarm", "acknowledge").
    pub command: String,
    pub ok: bool,
    pub message: String,
}

/// What the app asks the pipeline to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Poll every source now instead of waiting for the next interval.
    Refresh,
    /// An on-demand backup (the changed-block pipeline's walkthrough); progress arrives as [`Event::Job`].
    StartBackup {
        volume_arn: String,
        vault: String,
        iam_role_arn: String,
    },
    /// A legal hold on one recovery point (CreateLegalHold), for as long as the incident lasts.
    Protect {
        volume_arn: String,
        recovery_point_arn: String,
        vault: String,
        /// The recovery point's creation time (the hold's date range).
        created: Time,
    },
    /// Restores a recovery point to a new volume in the original volume's availability zone
    /// (GetRecoveryPointRestoreMetadata, StartRestoreJob); progress arrives as [`Event::Restore`].
    Restore {
        volume_arn: String,
        recovery_point_arn: String,
        vault: String,
        iam_role_arn: String,
    },
    /// Writes the anomaly detector, then the alarm (the changed-block pipeline-compatible definitions come from
    /// `crate::interop::anomaly_alarm_definition`).
    CreateAlarm {
        definition: Box<AlarmDefinition>,
        detector: AnomalyDetector,
    },
    /// Acknowledges the alarm's current ALARM episode in the shared table as the caller
    /// identity; announced on its SNS action topics.
    Acknowledge {
        alarm_name: String,
        note: Option<String>,
        /// Hide the alarm's re-notifications until then.
        snooze_until: Option<Time>,
    },
    /// Withdraws the acknowledgement of the alarm's current episode; `force` withdraws one
    /// someone else made (the operator confirmed it).
    Withdraw { alarm_name: String, force: bool },
    /// Creates the shared acknowledgements table (the operator confirmed it).
    CreateAckTable,
    /// Asks for an alarm's history ([`Event::AlarmHistory`]).
    LoadAlarmHistory { alarm_name: String },
    /// Adds the metric to the watched ones (if needed) and loads its series now.
    SelectMetric(MetricId),
    /// Switches the local detector of the Metrics view; every watched series is re-sent.
    SetMetricDetector(MetricDetector),
    /// ListMetrics for the `:metric` browser ([`Event::MetricList`]).
    ListMetrics { namespace: Option<String> },
}

impl Command {
    /// Whether the command changes the account (refused with `--read-only`).
    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            Command::StartBackup { .. }
                | Command::CreateAlarm { .. }
                | Command::Acknowledge { .. }
                | Command::Protect { .. }
                | Command::Restore { .. }
                | Command::Withdraw { .. }
                | Command::CreateAckTable
        )
    }

    /// A short name for outcomes ("start backup").
    pub fn label(&self) -> &'static str {
        match self {
            Command::Refresh => "refresh",
            Command::StartBackup { .. } => "start backup",
            Command::Protect { .. } => "protect",
            Command::Restore { .. } => "restore",
            Command::CreateAlarm { .. } => "create alarm",
            Command::Acknowledge { .. } => "acknowledge",
            Command::Withdraw { .. } => "withdraw acknowledgement",
            Command::CreateAckTable => "create acknowledgements table",
            Command::LoadAlarmHistory { .. } => "alarm history",
            Command::SelectMetric(_) => "select metric",
            Command::SetMetricDetector(_) => "switch detector",
            Command::ListMetrics { .. } => "list metrics",
        }
    }
}
