//! Plain data types of the seam: the shapes of the AWS requests and answers watchband uses.
//!
//! They mirror the AWS API shapes (names, units, optionality) closely enough that the `aws`
//! implementation is a field-by-field translation, and carry no SDK types, so the pipeline,
//! the simulator and the tests can build them freely.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type Time = DateTime<Utc>;

/// One page of a paged listing; `next_token` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Who the credentials belong to (STS GetCallerIdentity), shown in the status bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub region: String,
}

// ---------------------------------------------------------------- AWS Backup

/// A resource AWS Backup has backed up at least once (ListProtectedResources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtectedResource {
    /// `arn:aws:ec2:REGION:ACCOUNT:volume/vol-...`
    pub arn: String,
    /// "EBS", "EC2", "RDS", ...
    pub resource_type: String,
    /// The `Name` tag or Backup's resource name, when there is one.
    pub name: Option<String>,
    pub last_backup: Option<Time>,
}

/// A recovery point (for EBS: one snapshot) in a backup vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryPoint {
    /// For EBS: `arn:aws:ec2:REGION::snapshot/snap-...`
    pub arn: String,
    pub resource_arn: String,
    pub resource_type: String,
    pub vault: String,
    pub created: Time,
    pub completed: Option<Time>,
    /// "COMPLETED", "PARTIAL", "DELETING", "EXPIRED", ...
    pub status: String,
    pub size_bytes: Option<i64>,
}

impl RecoveryPoint {
    /// The EBS snapshot id (`snap-...`) at the end of the recovery point ARN, if it is one.
    pub fn snapshot_id(&self) -> Option<&str> {
        super::arn::snapshot_id_in(&self.arn)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartBackupJob {
    pub vault: String,
    pub resource_arn: String,
    pub iam_role_arn: String,
    /// Makes a retried start idempotent.
    pub idempotency_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupJobState {
    Created,
    Pending,
    Running,
    Aborting,
    Aborted,
    Completed,
    Failed,
    Expired,
    Partial,
}

impl BackupJobState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BackupJobState::Aborted
                | BackupJobState::Completed
                | BackupJobState::Failed
                | BackupJobState::Expired
                | BackupJobState::Partial
        )
    }

    /// The state as AWS spells it ("COMPLETED").
    pub fn as_aws(self) -> &'static str {
        match self {
            BackupJobState::Created => "CREATED",
            BackupJobState::Pending => "PENDING",
            BackupJobState::Running => "RUNNING",
            BackupJobState::Aborting => "ABORTING",
            BackupJobState::Aborted => "ABORTED",
            BackupJobState::Completed => "COMPLETED",
            BackupJobState::Failed => "FAILED",
            BackupJobState::Expired => "EXPIRED",
            BackupJobState::Partial => "PARTIAL",
        }
    }

    pub fn from_aws(s: &str) -> Option<Self> {
        Some(match s {
            "CREATED" => BackupJobState::Created,
            "PENDING" => BackupJobState::Pending,
            "RUNNING" => BackupJobState::Running,
            "ABORTING" => BackupJobState::Aborting,
            "ABORTED" => BackupJobState::Aborted,
            "COMPLETED" => BackupJobState::Completed,
            "FAILED" => BackupJobState::Failed,
            "EXPIRED" => BackupJobState::Expired,
            "PARTIAL" => BackupJobState::Partial,
            _ => return None,
        })
    }
}

/// DescribeBackupJob's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupJob {
    pub id: String,
    pub state: BackupJobState,
    /// 0–100.
    pub percent_done: f64,
    pub status_message: Option<String>,
    pub resource_arn: String,
    pub vault: String,
    pub recovery_point_arn: Option<String>,
    pub created: Time,
    pub completed: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRule {
    pub name: String,
    /// `cron(0 5 * * ? *)`
    pub schedule: String,
    pub vault: String,
    pub delete_after_days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupPlan {
    pub id: String,
    pub name: String,
    pub rules: Vec<BackupRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupSelection {
    pub plan_id: String,
    pub id: String,
    pub name: String,
    pub iam_role_arn: String,
    /// Resource ARN patterns (`arn:aws:ec2:*:*:volume/*`).
    pub resources: Vec<String>,
    /// Tag keys a resource must carry to be selected (`aws:ResourceTag/<key>` present).
    pub tag_keys: Vec<String>,
}

/// CreateLegalHold on one recovery point: the selection names the point's resource, its vault
/// and a one-second date range around its creation, so the hold covers that point and no other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateLegalHold {
    pub title: String,
    pub description: String,
    pub resource_arn: String,
    pub vault: String,
    /// Creation time of the recovery point to hold.
    pub recovery_point_created: Time,
    pub idempotency_token: Option<String>,
}

/// CreateLegalHold's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegalHold {
    pub id: String,
    pub arn: String,
    /// "CREATING", "ACTIVE", "CANCELING", "CANCELED".
    pub status: String,
    pub title: String,
    pub created: Time,
}

/// StartRestoreJob: a recovery point restored as a new resource (for EBS: a new volume).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartRestoreJob {
    pub recovery_point_arn: String,
    pub iam_role_arn: String,
    /// "EBS".
    pub resource_type: String,
    /// GetRecoveryPointRestoreMetadata's answer, adjusted (availabilityZone, volumeType...).
    pub metadata: BTreeMap<String, String>,
    pub idempotency_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestoreJobState {
    Pending,
    Running,
    Completed,
    Aborted,
    Failed,
}

impl RestoreJobState {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RestoreJobState::Completed | RestoreJobState::Aborted | RestoreJobState::Failed
        )
    }

    pub fn as_aws(self) -> &'static str {
        match self {
            RestoreJobState::Pending => "PENDING",
            RestoreJobState::Running => "RUNNING",
            RestoreJobState::Completed => "COMPLETED",
            RestoreJobState::Aborted => "ABORTED",
            RestoreJobState::Failed => "FAILED",
        }
    }

    pub fn from_aws(s: &str) -> Option<Self> {
        Some(match s {
            "PENDING" => RestoreJobState::Pending,
            "RUNNING" => RestoreJobState::Running,
            "COMPLETED" => RestoreJobState::Completed,
            "ABORTED" => RestoreJobState::Aborted,
            "FAILED" => RestoreJobState::Failed,
            _ => return None,
        })
    }
}

/// DescribeRestoreJob's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreJob {
    pub id: String,
    pub state: RestoreJobState,
    /// 0–100.
    pub percent_done: f64,
    pub status_message: Option<String>,
    pub recovery_point_arn: String,
    /// The new resource (for EBS `arn:aws:ec2:REGION:ACCOUNT:volume/vol-...`) once COMPLETED.
    pub created_resource_arn: Option<String>,
    pub expected_minutes: Option<i64>,
    pub created: Time,
    pub completed: Option<Time>,
}

// ---------------------------------------------------------------- EBS direct API

/// ListChangedBlocks: blocks that differ between two snapshots of one volume lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListChangedBlocks {
    pub first_snapshot_id: Option<String>,
    pub second_snapshot_id: String,
    pub next_token: Option<String>,
    /// 100–10,000; `None` lets the service choose.
    pub max_results: Option<i32>,
}

/// ListSnapshotBlocks: every block written in one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListSnapshotBlocks {
    pub snapshot_id: String,
    pub next_token: Option<String>,
    pub max_results: Option<i32>,
}

/// One page of block indices; the block tokens are not kept (watchband only counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockPage {
    pub block_indices: Vec<i32>,
    /// Bytes per block (524288 today).
    pub block_size: i32,
    pub volume_size_gib: i64,
    pub next_token: Option<String>,
}

// ---------------------------------------------------------------- CloudWatch

/// A metric: namespace, name and dimensions (kept sorted by name so equal metrics compare equal).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricId {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
}

impl MetricId {
    pub fn new(namespace: &str, name: &str, dimensions: &[(&str, &str)]) -> Self {
        let mut dimensions: Vec<(String, String)> = dimensions
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        dimensions.sort();
        MetricId {
            namespace: namespace.to_string(),
            name: name.to_string(),
            dimensions,
        }
    }

    /// `AWS/EC2 CPUUtilization InstanceId=i-0abc`
    pub fn display(&self) -> String {
        let mut s = format!("{} {}", self.namespace, self.name);
        for (k, v) in &self.dimensions {
            s.push_str(&format!(" {k}={v}"));
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDatum {
    pub metric_name: String,
    pub dimensions: Vec<(String, String)>,
    pub timestamp: Time,
    pub value: f64,
    /// "None", "Count", "Percent", ...
    pub unit: Option<String>,
    /// 1 (high resolution) or 60.
    pub storage_resolution: Option<i32>,
}

/// One entry of GetMetricData's `MetricDataQueries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricQuery {
    /// Short id used in expressions (`m1`, `ad1`).
    pub id: String,
    pub kind: MetricQueryKind,
    pub label: Option<String>,
    pub return_data: bool,
}

impl MetricQuery {
    /// A returned query of one statistic of a metric over `period` seconds.
    pub fn stat(
        id: impl Into<String>,
        metric: MetricId,
        period: i32,
        stat: impl Into<String>,
    ) -> Self {
        MetricQuery {
            id: id.into(),
            kind: MetricQueryKind::Stat {
                metric,
                period,
                stat: stat.into(),
            },
            label: None,
            return_data: true,
        }
    }

    /// A returned metric math expression (`ANOMALY_DETECTION_BAND(m1, 2)`).
    pub fn expression(id: impl Into<String>, expression: impl Into<String>) -> Self {
        MetricQuery {
            id: id.into(),
            kind: MetricQueryKind::Expression(expression.into()),
            label: None,
            return_data: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetricQueryKind {
    /// A metric with a statistic ("Average", "Maximum", "Sum", "p99") over a period in seconds.
    Stat {
        metric: MetricId,
        period: i32,
        stat: String,
    },
    /// A metric math expression; watchband uses `ANOMALY_DETECTION_BAND(m1, 2)`.
    Expression(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetMetricData {
    pub queries: Vec<MetricQuery>,
    pub start: Time,
    pub end: Time,
}

/// One time series of GetMetricData's answer, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDataResult {
    pub id: String,
    pub label: String,
    pub timestamps: Vec<Time>,
    pub values: Vec<f64>,
    /// "Complete", "PartialData", "InternalError".
    pub status: String,
}

/// PutAnomalyDetector / DescribeAnomalyDetectors (single-metric detectors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyDetector {
    pub metric: MetricId,
    pub stat: String,
    /// Time ranges left out of training.
    pub excluded: Vec<(Time, Time)>,
    pub metric_timezone: Option<String>,
    /// MetricCharacteristics.PeriodicSpikes.
    pub periodic_spikes: bool,
    /// "PENDING_TRAINING", "TRAINED_INSUFFICIENT_DATA", "TRAINED" (read only).
    pub state: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn as_aws(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn from_aws(s: &str) -> Option<Self> {
        match s {
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    LessThanLowerOrGreaterThanUpperThreshold,
    LessThanLowerThreshold,
    GreaterThanUpperThreshold,
}

impl ComparisonOperator {
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Self::GreaterThanThreshold => "GreaterThanThreshold",
            Self::LessThanThreshold => "LessThanThreshold",
            Self::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Self::LessThanLowerOrGreaterThanUpperThreshold => {
                "LessThanLowerOrGreaterThanUpperThreshold"
            }
            Self::LessThanLowerThreshold => "LessThanLowerThreshold",
            Self::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }

    pub fn from_aws(s: &str) -> Option<Self> {
        [
            Self::GreaterThanOrEqualToThreshold,
            Self::GreaterThanThreshold,
            Self::LessThanThreshold,
            Self::LessThanOrEqualToThreshold,
            Self::LessThanLowerOrGreaterThanUpperThreshold,
            Self::LessThanLowerThreshold,
            Self::GreaterThanUpperThreshold,
        ]
        .into_iter()
        .find(|c| c.as_aws() == s)
    }

    /// Whether this operator compares against an anomaly band (needs `threshold_metric_id`).
    pub fn is_band(self) -> bool {
        matches!(
            self,
            Self::LessThanLowerOrGreaterThanUpperThreshold
                | Self::LessThanLowerThreshold
                | Self::GreaterThanUpperThreshold
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreatMissingData {
    Breaching,
    NotBreaching,
    Ignore,
    Missing,
}

impl TreatMissingData {
    pub fn as_aws(self) -> &'static str {
        match self {
            Self::Breaching => "breaching",
            Self::NotBreaching => "notBreaching",
            Self::Ignore => "ignore",
            Self::Missing => "missing",
        }
    }

    pub fn from_aws(s: &str) -> Option<Self> {
        match s {
            "breaching" => Some(Self::Breaching),
            "notBreaching" => Some(Self::NotBreaching),
            "ignore" => Some(Self::Ignore),
            "missing" => Some(Self::Missing),
            _ => None,
        }
    }
}

/// What an alarm watches: one metric with a static threshold, or metric-math queries
/// (an anomaly band alarm: `m1` plus `ad1 = ANOMALY_DETECTION_BAND(m1, N)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlarmMetric {
    Single {
        metric: MetricId,
        stat: String,
        period: i32,
    },
    Queries(Vec<MetricQuery>),
}

/// PutMetricAlarm's request, and the definition part of DescribeAlarms' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmDefinition {
    pub name: String,
    pub description: Option<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub metric: AlarmMetric,
    pub comparison: ComparisonOperator,
    /// Static threshold (with `AlarmMetric::Single`).
    pub threshold: Option<f64>,
    /// The id of the band query (with `AlarmMetric::Queries`).
    pub threshold_metric_id: Option<String>,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: Option<i32>,
    pub treat_missing_data: TreatMissingData,
}

/// An alarm with its current state (DescribeAlarms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub arn: String,
    pub definition: AlarmDefinition,
    pub state: AlarmState,
    pub state_reason: String,
    pub state_updated: Time,
}

/// Which alarms DescribeAlarms returns; all when both are empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlarmFilter {
    pub name_prefix: Option<String>,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmHistoryItem {
    pub alarm_name: String,
    pub timestamp: Time,
    /// "StateUpdate", "ConfigurationUpdate", "Action".
    pub item_type: String,
    pub summary: String,
}

// ---------------------------------------------------------------- SNS and SQS

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    /// "email", "sqs", "lambda", ...
    pub protocol: String,
    pub endpoint: String,
}

/// A message received from an SQS queue (an SNS delivery or an EventBridge event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
}

// ---------------------------------------------------------------- Kinesis

/// What makes a stream itself rather than its name (DescribeStreamSummary): a stream deleted
/// and created again under the same name has another creation time, and its shards' sequence
/// numbers start again, so checkpoints belong to this, never to the name alone. The ARN
/// holds the account and the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamIdentity {
    pub arn: String,
    pub created: Time,
}

impl StreamIdentity {
    /// The key its checkpoints are stored under: `ARN@creation time`.
    pub fn key(&self) -> String {
        format!(
            "{}@{}",
            self.arn,
            self.created
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    pub id: String,
    pub parent: Option<String>,
    pub adjacent_parent: Option<String>,
    pub starting_hash_key: String,
    pub ending_hash_key: String,
    pub starting_sequence: String,
    /// Set once the shard is closed (after a split or merge).
    pub ending_sequence: Option<String>,
}

/// Where GetShardIterator starts reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ShardPosition {
    TrimHorizon,
    Latest,
    AtSequence(String),
    AfterSequence(String),
    AtTimestamp(Time),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRecord {
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
    pub arrival: Time,
}

/// GetRecords' answer. `next_iterator` is `None` once a closed shard is read to its end;
/// `child_shards` then names where to go on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordBatch {
    pub records: Vec<StreamRecord>,
    pub next_iterator: Option<String>,
    pub millis_behind_latest: i64,
    pub child_shards: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PutRecord {
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// PutRecords' answer: one entry per request record, in order; `Err` holds the error code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PutRecordsOutcome {
    pub results: Vec<Result<(String, String), String>>,
}

impl PutRecordsOutcome {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| r.is_err()).count()
    }
}

// ---------------------------------------------------------------- DynamoDB

/// A DynamoDB attribute value (the subset the patterns' tables use).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttrValue {
    S(String),
    /// Numbers travel as strings, as in DynamoDB.
    N(String),
    Bool(bool),
    Null,
}

impl AttrValue {
    pub fn as_s(&self) -> Option<&str> {
        match self {
            AttrValue::S(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::N(n) => n.parse().ok(),
            _ => None,
        }
    }
}

pub type Item = BTreeMap<String, AttrValue>;

/// A condition on PutItem, built structurally so both implementations can honour it
/// (the `aws` one renders it to a ConditionExpression).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Condition {
    AttributeNotExists(String),
    /// The stored attribute compares less than the value (strings lexicographically,
    /// numbers numerically, as DynamoDB does).
    LessThan(String, AttrValue),
    Equals(String, AttrValue),
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
}

/// Query on the hash key, optionally newest (highest range key) first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    pub table: String,
    pub hash_key: String,
    pub hash_value: AttrValue,
    pub limit: Option<i32>,
    pub newest_first: bool,
}
