//! The `aws` implementation of the [`Cloud`] seam: the real SDK clients, one small module per
//! service, each a field-by-field translation between the SDK's shapes and the seam's.
//!
//! Every string that comes back from AWS is passed through `crate::sanitize::clean` here,
//! before it can reach state the UI renders; errors are mapped onto [`ErrorKind`] by
//! [`errors`]; credentials are never formatted anywhere in this module.

// CloudError is the seam's shared error type; its size is a given here, not a choice.
#![allow(clippy::result_large_err)]

mod backup;
mod client;
mod cloudwatch;
mod convert;
mod dynamodb;
mod ebs;
pub mod errors;
mod kinesis;
pub mod profiles;
mod sns;
mod sqs;
mod sts;

pub use client::{
    AwsOptions, http_client, http_client_trusting, load_sdk_config, resolve_credentials,
};
pub use dynamodb::{RenderedCondition, render_condition};
pub use sqs::topic_to_queue_policy;

use crate::cloud::*;
use async_trait::async_trait;
use aws_config::SdkConfig;
use std::collections::BTreeMap;

/// The SDK clients for every service watchband uses, built from one shared configuration.
#[derive(Clone, Debug)]
pub struct AwsCloud {
    region: String,
    backup: aws_sdk_backup::Client,
    ebs: aws_sdk_ebs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    kinesis: aws_sdk_kinesis::Client,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    sts: aws_sdk_sts::Client,
}

impl AwsCloud {
    /// Loads the configuration (credential chain, profile, region, endpoint) and builds the
    /// clients. Credentials are resolved lazily, on the first call: `caller_identity` is the
    /// natural first call and reports missing or expired credentials in one message.
    pub async fn connect(options: &AwsOptions) -> CloudResult<AwsCloud> {
        let config = load_sdk_config(options).await?;
        Ok(Self::from_sdk_config(&config))
    }

    /// Builds the clients from an already loaded configuration (tests pass their own).
    pub fn from_sdk_config(config: &SdkConfig) -> AwsCloud {
        AwsCloud {
            region: config.region().map(|r| r.to_string()).unwrap_or_default(),
            backup: aws_sdk_backup::Client::new(config),
            ebs: aws_sdk_ebs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            kinesis: aws_sdk_kinesis::Client::new(config),
            sns: aws_sdk_sns::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }
}

#[async_trait]
impl Cloud for AwsCloud {
    fn kind(&self) -> &'static str {
        "aws"
    }

    fn now(&self) -> Time {
        chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
    }

    async fn caller_identity(&self) -> CloudResult<Identity> {
        sts::caller_identity(&self.sts, &self.region).await
    }

    async fn list_protected_resources(
        &self,
        next_token: Option<String>,
    ) -> CloudResult<Page<ProtectedResource>> {
        backup::list_protected_resources(&self.backup, next_token).await
    }
    async fn list_recovery_points_by_resource(
        &self,
        resource_arn: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>> {
        backup::list_recovery_points_by_resource(&self.backup, resource_arn, next_token).await
    }
    async fn list_recovery_points_by_vault(
        &self,
        vault: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>> {
        backup::list_recovery_points_by_vault(&self.backup, vault, next_token).await
    }
    async fn start_backup_job(&self, request: StartBackupJob) -> CloudResult<String> {
        backup::start_backup_job(&self.backup, request).await
    }
    async fn describe_backup_job(&self, job_id: &str) -> CloudResult<BackupJob> {
        backup::describe_backup_job(&self.backup, job_id).await
    }
    async fn list_backup_plans(&self) -> CloudResult<Vec<BackupPlan>> {
        backup::list_backup_plans(&self.backup).await
    }
    async fn list_backup_selections(&self, plan_id: &str) -> CloudResult<Vec<BackupSelection>> {
        backup::list_backup_selections(&self.backup, plan_id).await
    }
    async fn list_tags(&self, resource_arn: &str) -> CloudResult<BTreeMap<String, String>> {
        backup::list_tags(&self.backup, resource_arn).await
    }

    async fn create_legal_hold(&self, request: CreateLegalHold) -> CloudResult<LegalHold> {
        backup::create_legal_hold(&self.backup, request).await
    }
    async fn get_recovery_point_restore_metadata(
        &self,
        vault: &str,
        recovery_point_arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        backup::get_recovery_point_restore_metadata(&self.backup, vault, recovery_point_arn).await
    }
    async fn start_restore_job(&self, request: StartRestoreJob) -> CloudResult<String> {
        backup::start_restore_job(&self.backup, request).await
    }
    async fn describe_restore_job(&self, job_id: &str) -> CloudResult<RestoreJob> {
        backup::describe_restore_job(&self.backup, job_id).await
    }

    async fn list_changed_blocks(&self, request: ListChangedBlocks) -> CloudResult<BlockPage> {
        ebs::list_changed_blocks(&self.ebs, request).await
    }
    async fn list_snapshot_blocks(&self, request: ListSnapshotBlocks) -> CloudResult<BlockPage> {
        ebs::list_snapshot_blocks(&self.ebs, request).await
    }

    async fn put_metric_data(&self, namespace: &str, data: Vec<MetricDatum>) -> CloudResult<()> {
        cloudwatch::put_metric_data(&self.cloudwatch, namespace, data).await
    }
    async fn get_metric_data(&self, request: GetMetricData) -> CloudResult<Vec<MetricDataResult>> {
        cloudwatch::get_metric_data(&self.cloudwatch, request).await
    }
    async fn list_metrics(
        &self,
        namespace: Option<&str>,
        metric_name: Option<&str>,
    ) -> CloudResult<Vec<MetricId>> {
        cloudwatch::list_metrics(&self.cloudwatch, namespace, metric_name).await
    }
    async fn put_anomaly_detector(&self, detector: AnomalyDetector) -> CloudResult<()> {
        cloudwatch::put_anomaly_detector(&self.cloudwatch, detector).await
    }
    async fn describe_anomaly_detectors(
        &self,
        metric: Option<&MetricId>,
    ) -> CloudResult<Vec<AnomalyDetector>> {
        cloudwatch::describe_anomaly_detectors(&self.cloudwatch, metric).await
    }
    async fn put_metric_alarm(&self, alarm: AlarmDefinition) -> CloudResult<()> {
        cloudwatch::put_metric_alarm(&self.cloudwatch, alarm).await
    }
    async fn describe_alarms(&self, filter: AlarmFilter) -> CloudResult<Vec<Alarm>> {
        cloudwatch::describe_alarms(&self.cloudwatch, filter).await
    }
    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()> {
        cloudwatch::delete_alarms(&self.cloudwatch, names).await
    }
    async fn describe_alarm_history(
        &self,
        alarm_name: &str,
        max: usize,
    ) -> CloudResult<Vec<AlarmHistoryItem>> {
        cloudwatch::describe_alarm_history(&self.cloudwatch, alarm_name, max).await
    }
    async fn set_alarm_state(
        &self,
        alarm_name: &str,
        state: AlarmState,
        reason: &str,
    ) -> CloudResult<()> {
        cloudwatch::set_alarm_state(&self.cloudwatch, alarm_name, state, reason).await
    }
    async fn set_alarm_actions_enabled(&self, names: &[String], enabled: bool) -> CloudResult<()> {
        cloudwatch::set_alarm_actions_enabled(&self.cloudwatch, names, enabled).await
    }

    async fn create_topic(&self, name: &str, display_name: Option<&str>) -> CloudResult<String> {
        sns::create_topic(&self.sns, name, display_name).await
    }
    async fn list_topics(&self) -> CloudResult<Vec<String>> {
        sns::list_topics(&self.sns).await
    }
    async fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
    ) -> CloudResult<String> {
        sns::subscribe(&self.sns, topic_arn, protocol, endpoint).await
    }
    async fn list_subscriptions(&self, topic_arn: &str) -> CloudResult<Vec<Subscription>> {
        sns::list_subscriptions(&self.sns, topic_arn).await
    }
    async fn publish(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
    ) -> CloudResult<String> {
        sns::publish(&self.sns, topic_arn, subject, message, None).await
    }
    async fn publish_fifo(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
        group_id: &str,
        dedup_id: &str,
    ) -> CloudResult<String> {
        sns::publish(
            &self.sns,
            topic_arn,
            subject,
            message,
            Some((group_id, dedup_id)),
        )
        .await
    }

    async fn create_queue(&self, name: &str) -> CloudResult<String> {
        sqs::create_queue(&self.sqs, name).await
    }
    async fn queue_arn(&self, queue_url: &str) -> CloudResult<String> {
        sqs::queue_arn(&self.sqs, queue_url).await
    }
    async fn allow_topic_to_queue(&self, queue_url: &str, topic_arn: &str) -> CloudResult<()> {
        sqs::allow_topic_to_queue(&self.sqs, queue_url, topic_arn).await
    }
    async fn receive_messages(
        &self,
        queue_url: &str,
        max: i32,
        wait_seconds: i32,
    ) -> CloudResult<Vec<QueueMessage>> {
        sqs::receive_messages(&self.sqs, queue_url, max, wait_seconds).await
    }
    async fn delete_message(&self, queue_url: &str, receipt_handle: &str) -> CloudResult<()> {
        sqs::delete_message(&self.sqs, queue_url, receipt_handle).await
    }
    async fn send_message(&self, queue_url: &str, body: &str) -> CloudResult<String> {
        sqs::send_message(&self.sqs, queue_url, body).await
    }

    async fn list_streams(&self) -> CloudResult<Vec<String>> {
        kinesis::list_streams(&self.kinesis).await
    }
    async fn list_shards(&self, stream: &str) -> CloudResult<Vec<Shard>> {
        kinesis::list_shards(&self.kinesis, stream).await
    }
    async fn stream_identity(&self, stream: &str) -> CloudResult<StreamIdentity> {
        kinesis::stream_identity(&self.kinesis, stream).await
    }
    async fn get_shard_iterator(
        &self,
        stream: &str,
        shard_id: &str,
        position: ShardPosition,
    ) -> CloudResult<String> {
        kinesis::get_shard_iterator(&self.kinesis, stream, shard_id, position).await
    }
    async fn get_records(&self, iterator: &str, limit: Option<i32>) -> CloudResult<RecordBatch> {
        kinesis::get_records(&self.kinesis, iterator, limit).await
    }
    async fn put_records(
        &self,
        stream: &str,
        records: Vec<PutRecord>,
    ) -> CloudResult<PutRecordsOutcome> {
        kinesis::put_records(&self.kinesis, stream, records).await
    }

    async fn get_item(&self, table: &str, key: Item) -> CloudResult<Option<Item>> {
        dynamodb::get_item(&self.dynamodb, table, key).await
    }
    async fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<Condition>,
    ) -> CloudResult<()> {
        dynamodb::put_item(&self.dynamodb, table, item, condition).await
    }
    async fn query(&self, query: Query) -> CloudResult<Vec<Item>> {
        dynamodb::query(&self.dynamodb, query).await
    }
    async fn delete_item(
        &self,
        table: &str,
        key: Item,
        condition: Option<Condition>,
    ) -> CloudResult<()> {
        dynamodb::delete_item(&self.dynamodb, table, key, condition).await
    }
    async fn create_table(
        &self,
        table: &str,
        hash_key: &str,
        range_key: Option<&str>,
    ) -> CloudResult<()> {
        dynamodb::create_table(&self.dynamodb, table, hash_key, range_key).await
    }
}
