//! The seam: one [`Cloud`] interface over the AWS operations watchband uses.
//!
//! Two implementations sit behind it: `aws` (the real SDK clients) and `sim` (the embedded
//! simulated account of the demo). Everything above this module — change counting, detection,
//! alarm sync, stream consumption, the processors, the TUI's actions — is written once against
//! this trait and never asks which implementation it has. The only thing the simulator offers
//! beyond AWS is [`DemoControls`], reached through [`Cloud::demo`], which the UI uses for the
//! demo-only keys (pause, inject a burst) and nothing else does.
//!
//! Operations do not retry: retrying, back-off and degrading are the pipeline's job, so the
//! simulator's injected faults exercise the very paths that AWS errors take.

pub mod arn;
pub mod aws;
pub mod error;
pub mod sim;
pub mod types;

pub use error::{CloudError, CloudResult, ErrorKind};
pub use types::*;

use async_trait::async_trait;

/// The AWS operations watchband uses, with AWS semantics (paging, error kinds, limits).
#[async_trait]
pub trait Cloud: Send + Sync + 'static {
    /// "demo" for the simulated account, "aws" for the SDK (shown in the status bar).
    fn kind(&self) -> &'static str;

    /// The account's clock: wall time on AWS, the virtual clock in the simulator.
    fn now(&self) -> Time;

    /// Controls that exist only in the simulated account.
    fn demo(&self) -> Option<&dyn DemoControls> {
        None
    }

    /// STS GetCallerIdentity plus the region in use.
    async fn caller_identity(&self) -> CloudResult<Identity>;

    // ------------------------------------------------------------ AWS Backup
    async fn list_protected_resources(
        &self,
        next_token: Option<String>,
    ) -> CloudResult<Page<ProtectedResource>>;
    async fn list_recovery_points_by_resource(
        &self,
        resource_arn: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>>;
    async fn list_recovery_points_by_vault(
        &self,
        vault: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>>;
    /// Starts an on-demand backup; returns the job id.
    async fn start_backup_job(&self, request: StartBackupJob) -> CloudResult<String>;
    async fn describe_backup_job(&self, job_id: &str) -> CloudResult<BackupJob>;
    async fn list_backup_plans(&self) -> CloudResult<Vec<BackupPlan>>;
    async fn list_backup_selections(&self, plan_id: &str) -> CloudResult<Vec<BackupSelection>>;
    /// Backup ListTags on a resource ARN.
    async fn list_tags(
        &self,
        resource_arn: &str,
    ) -> CloudResult<std::collections::BTreeMap<String, String>>;

    /// CreateLegalHold: keeps the selected recovery points from deletion (and from their
    /// lifecycle's expiry) until the hold is cancelled.
    async fn create_legal_hold(&self, request: CreateLegalHold) -> CloudResult<LegalHold>;
    /// GetRecoveryPointRestoreMetadata: the resource's configuration when it was backed up.
    async fn get_recovery_point_restore_metadata(
        &self,
        vault: &str,
        recovery_point_arn: &str,
    ) -> CloudResult<std::collections::BTreeMap<String, String>>;
    /// Starts a restore job; returns its id.
    async fn start_restore_job(&self, request: StartRestoreJob) -> CloudResult<String>;
    async fn describe_restore_job(&self, job_id: &str) -> CloudResult<RestoreJob>;

    // ------------------------------------------------------------ EBS direct API
    async fn list_changed_blocks(&self, request: ListChangedBlocks) -> CloudResult<BlockPage>;
    async fn list_snapshot_blocks(&self, request: ListSnapshotBlocks) -> CloudResult<BlockPage>;

    // ------------------------------------------------------------ CloudWatch
    async fn put_metric_data(&self, namespace: &str, data: Vec<MetricDatum>) -> CloudResult<()>;
    async fn get_metric_data(&self, request: GetMetricData) -> CloudResult<Vec<MetricDataResult>>;
    async fn list_metrics(
        &self,
        namespace: Option<&str>,
        metric_name: Option<&str>,
    ) -> CloudResult<Vec<MetricId>>;
    async fn put_anomaly_detector(&self, detector: AnomalyDetector) -> CloudResult<()>;
    async fn describe_anomaly_detectors(
        &self,
        metric: Option<&MetricId>,
    ) -> CloudResult<Vec<AnomalyDetector>>;
    async fn put_metric_alarm(&self, alarm: AlarmDefinition) -> CloudResult<()>;
    async fn describe_alarms(&self, filter: AlarmFilter) -> CloudResult<Vec<Alarm>>;
    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()>;
    /// Newest first, at most `max` items.
    async fn describe_alarm_history(
        &self,
        alarm_name: &str,
        max: usize,
    ) -> CloudResult<Vec<AlarmHistoryItem>>;
    async fn set_alarm_state(
        &self,
        alarm_name: &str,
        state: AlarmState,
        reason: &str,
    ) -> CloudResult<()>;
    /// EnableAlarmActions / DisableAlarmActions.
    async fn set_alarm_actions_enabled(&self, names: &[String], enabled: bool) -> CloudResult<()>;

    // ------------------------------------------------------------ SNS
    /// Creates the topic if needed (idempotent, as on AWS); returns its ARN.
    async fn create_topic(&self, name: &str, display_name: Option<&str>) -> CloudResult<String>;
    async fn list_topics(&self) -> CloudResult<Vec<String>>;
    /// Returns the subscription ARN.
    async fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
    ) -> CloudResult<String>;
    async fn list_subscriptions(&self, topic_arn: &str) -> CloudResult<Vec<Subscription>>;
    /// Returns the message id.
    async fn publish(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
    ) -> CloudResult<String>;

    /// Publish to a FIFO topic (ARN ending `.fifo`): `group_id` orders the messages of one
    /// group, and a `dedup_id` SNS has seen on the topic within the last 5 minutes is accepted
    /// and dropped, so a replayed publish is not delivered twice.
    async fn publish_fifo(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
        group_id: &str,
        dedup_id: &str,
    ) -> CloudResult<String>;

    // ------------------------------------------------------------ SQS
    /// Creates the queue if needed; returns its URL.
    async fn create_queue(&self, name: &str) -> CloudResult<String>;
    async fn queue_arn(&self, queue_url: &str) -> CloudResult<String>;
    /// Allows an SNS topic to deliver to the queue (the queue policy AWS requires).
    async fn allow_topic_to_queue(&self, queue_url: &str, topic_arn: &str) -> CloudResult<()>;
    async fn receive_messages(
        &self,
        queue_url: &str,
        max: i32,
        wait_seconds: i32,
    ) -> CloudResult<Vec<QueueMessage>>;
    async fn delete_message(&self, queue_url: &str, receipt_handle: &str) -> CloudResult<()>;
    /// SendMessage; returns the message id. The dead-letter destinations of the processors.
    async fn send_message(&self, queue_url: &str, body: &str) -> CloudResult<String>;

    // ------------------------------------------------------------ Kinesis
    async fn list_streams(&self) -> CloudResult<Vec<String>>;
    /// The stream's ARN and creation time (DescribeStreamSummary); `NotFound` once deleted.
    async fn stream_identity(&self, stream: &str) -> CloudResult<StreamIdentity>;
    /// Every shard, open and closed, paged to the end.
    async fn list_shards(&self, stream: &str) -> CloudResult<Vec<Shard>>;
    async fn get_shard_iterator(
        &self,
        stream: &str,
        shard_id: &str,
        position: ShardPosition,
    ) -> CloudResult<String>;
    async fn get_records(&self, iterator: &str, limit: Option<i32>) -> CloudResult<RecordBatch>;
    async fn put_records(
        &self,
        stream: &str,
        records: Vec<PutRecord>,
    ) -> CloudResult<PutRecordsOutcome>;

    // ------------------------------------------------------------ DynamoDB
    async fn get_item(&self, table: &str, key: Item) -> CloudResult<Option<Item>>;
    /// Fails with `ErrorKind::ConditionFailed` when the condition does not hold.
    async fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<Condition>,
    ) -> CloudResult<()>;
    async fn query(&self, query: Query) -> CloudResult<Vec<Item>>;
    /// Fails with `ErrorKind::ConditionFailed` when the condition does not hold (a missing
    /// item satisfies no `Equals`).
    async fn delete_item(
        &self,
        table: &str,
        key: Item,
        condition: Option<Condition>,
    ) -> CloudResult<()>;
    /// Creates an on-demand table with string keys and returns once it is ACTIVE.
    async fn create_table(
        &self,
        table: &str,
        hash_key: &str,
        range_key: Option<&str>,
    ) -> CloudResult<()>;
}

/// What only the simulated account can do; the UI offers these keys when `Cloud::demo()` is
/// `Some`, and the pipeline never touches them.
pub trait DemoControls: Send + Sync {
    /// Makes the next backup of this volume see an encryption burst (60–95 % of its blocks).
    fn inject_burst(&self, volume_arn: &str) -> Result<(), String>;
    fn set_paused(&self, paused: bool);
    fn is_paused(&self) -> bool;
    /// Simulated seconds per real second.
    fn speed(&self) -> f64;
    fn set_speed(&self, speed: f64);
    /// The world's seed (the demo keeps one store per seed).
    fn seed(&self) -> u64;
}

/// Calls a paged listing until its token is absent and gathers every item.
///
/// Stops on an absent *or empty* token: the original backup function's loop tested
/// `!== null` and spun forever when the field was merely missing.
pub async fn collect_pages<T, F, Fut>(mut call: F) -> CloudResult<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = CloudResult<Page<T>>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = call(token.take()).await?;
        out.extend(page.items);
        match page.next_token {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}
