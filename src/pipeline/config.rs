//! What the pipeline watches and how often: [`PipelineConfig`], filled by the CLI and the
//! config file, with defaults that match the patterns' names.

use crate::cloud::MetricId;
use crate::interop;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where a stream consumer starts when the store has no checkpoint for a shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum StreamStart {
    /// Everything the stream still holds (24 h on AWS by default).
    TrimHorizon,
    /// Only records written from now on: the default, so a first start does not replay a
    /// day of backlog; later starts resume from their checkpoints either way.
    #[default]
    Latest,
    /// Records written from this moment on (`AT_TIMESTAMP`): `scan` reads a recent window and
    /// is done when it reaches the tip, instead of waiting at LATEST for records to come.
    At(crate::cloud::Time),
}

/// How often each source is polled (wall-clock time, whichever account answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PollIntervals {
    /// Recovery points (the EventBridge-equivalent: a new backup is noticed within this).
    pub backups: Duration,
    pub alarms: Duration,
    pub metrics: Duration,
    /// Pause between SQS receives that returned nothing (on top of the long-poll wait).
    pub notifications: Duration,
    /// DescribeBackupJob polling of a running job.
    pub job: Duration,
    /// Minimum gap between GetRecords calls on one shard (Kinesis allows 5 calls/s).
    pub shard_min_gap: Duration,
    /// Gap after an empty GetRecords at the tip of a shard.
    pub shard_idle: Duration,
}

impl Default for PollIntervals {
    fn default() -> Self {
        PollIntervals {
            backups: Duration::from_secs(5),
            alarms: Duration::from_secs(3),
            metrics: Duration::from_secs(30),
            notifications: Duration::from_secs(1),
            job: Duration::from_secs(1),
            shard_min_gap: Duration::from_millis(200),
            shard_idle: Duration::from_secs(1),
        }
    }
}

/// A metric the Metrics view follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WatchedMetric {
    pub metric: MetricId,
    /// "Average", "Maximum", ...
    pub stat: String,
    /// Seconds (the RCF metric scorer uses 300).
    pub period: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// Only volumes carrying this tag key are watched (value ignored), as the changed-block pipeline selects them.
    pub tag_key: String,
    /// Vault for on-demand backups and the recovery-point listing.
    pub vault: String,
    /// IAM role AWS Backup assumes for on-demand backups.
    pub backup_role: String,
    /// SNS topic name of the backup anomaly alarms (created if absent when alarms are created).
    pub backup_topic: String,
    /// Further SNS topic names or ARNs whose messages the Notifications view shows
    /// (alarm action topics are added automatically).
    pub topics: Vec<String>,
    /// Kinesis streams to consume.
    pub streams: Vec<String>,
    /// The DynamoDB table a team's watchbands share acknowledgements in.
    pub ack_table: String,
    pub stream_start: StreamStart,
    /// Metrics to chart; when empty, `AWS/EC2 CPUUtilization` of every instance ListMetrics
    /// finds is watched.
    pub metrics: Vec<WatchedMetric>,
    /// Width of the local band in standard deviations (and of alarms the app creates).
    pub band_width: f64,
    /// Publish `BACKUP_CHANGED_BLOCKS` for volumes whose metric does not exist yet.
    pub publish: bool,
    /// Refuse every mutating command.
    pub read_only: bool,
    /// Days of metric history loaded for a metric series.
    pub metric_history_days: i64,
    /// A stable name part for the notifications queue (`watchband-notifications-<id>`), so a
    /// restart reuses the same queue and subscriptions instead of creating new ones.
    pub queue_id: String,
    pub intervals: PollIntervals,
    /// Shard leases shared with other workers (`process stream --lease-table`); `None`: this
    /// process reads every shard, with checkpoints in the store.
    #[serde(skip, default)]
    pub leases: Option<crate::pipeline::leases::LeaseSettings>,
    /// Retries of every call (not part of the config file).
    #[serde(skip, default)]
    pub retry: crate::pipeline::retry::RetryPolicy,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            tag_key: interop::DEFAULT_BACKUP_TAG_KEY.into(),
            vault: "Default".into(),
            backup_role: String::new(),
            backup_topic: interop::BACKUP_TOPIC_NAME.into(),
            topics: vec![interop::TEMPERATURE_TOPIC.into()],
            streams: vec![interop::TEMPERATURE_STREAM.into()],
            ack_table: interop::ACK_TABLE.into(),
            stream_start: StreamStart::default(),
            metrics: Vec::new(),
            band_width: 2.0,
            publish: false,
            read_only: false,
            metric_history_days: 14,
            queue_id: default_queue_id(),
            intervals: PollIntervals::default(),
            leases: None,
            retry: Default::default(),
        }
    }
}

/// `<user>-<host>`, restricted to the characters SQS allows in a queue name.
fn default_queue_id() -> String {
    let user = crate::pipeline::acks::current_user();
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "local".into());
    let raw = format!("{user}-{host}");
    let id: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(50)
        .collect();
    id
}
