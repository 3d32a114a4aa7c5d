//! The embedded simulated AWS account behind the `Cloud` seam: the default demo.
//!
//! [`SimCloud`] answers every operation of [`Cloud`] with AWS semantics (paging, limits, error
//! kinds) from an in-memory world driven by a virtual clock ([`clock`]). The world advances
//! lazily on every call — no background threads — so a tokio runtime with paused time makes it
//! fully deterministic, and the same seed builds the same world bit for bit.
//!
//! This module holds [`SimCloud`], its options, the demo controls and the `Cloud` impl, which
//! only delegates: each operation is answered by a function in `api/<service>.rs` (as the
//! `aws` implementation delegates to `aws/<service>.rs`), which passes the fault gate, then
//! reads or changes the world under its lock.
//!
//! The world's models: [`clock`] virtual time; [`rng`] seeded randomness; [`world`] generation
//! and the lazy advance; [`backup`] volumes, recovery points and jobs; [`ebs`] changed blocks;
//! [`cloudwatch`] metrics, bands and alarms; [`messaging`] SNS and SQS; [`kinesis`] streams;
//! [`dynamodb`] tables; [`faults`] injected faults. The answers: `api/` (`backup`, `ebs`,
//! `cloudwatch`, `sns`, `sqs`, `kinesis`, `dynamodb`, `sts`, and `errors`, AWS's error codes).

// `CloudError` is the seam's shared error type; its size is not the simulator's to change.
#![allow(clippy::result_large_err)]

mod api;
pub mod backup;
pub mod clock;
pub mod cloudwatch;
pub mod dynamodb;
pub mod ebs;
pub mod faults;
pub mod kinesis;
mod md5;
pub mod messaging;
pub mod rng;
pub mod world;

pub use faults::FaultProfile;
pub use messaging::Publication;
pub use world::WorldSize;

use crate::cloud::{
    Alarm, AlarmDefinition, AlarmFilter, AlarmHistoryItem, AlarmState, AnomalyDetector, BackupJob,
    BackupPlan, BackupSelection, BlockPage, Cloud, CloudResult, Condition, CreateLegalHold,
    DemoControls, GetMetricData, Identity, Item, LegalHold, ListChangedBlocks, ListSnapshotBlocks,
    MetricDataResult, MetricDatum, MetricId, Page, ProtectedResource, PutRecord, PutRecordsOutcome,
    Query, QueueMessage, RecordBatch, RecoveryPoint, RestoreJob, Shard, ShardPosition,
    StartBackupJob, StartRestoreJob, Subscription, Time,
};
use async_trait::async_trait;
use clock::{SimClock, to_ms, to_time};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use world::World;

/// How to build the simulated account.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub seed: u64,
    /// Simulated seconds per real second (3600: one hour per second).
    pub speed: f64,
    pub faults: FaultProfile,
    /// Simulated time at the start; a fixed Monday 17:00 UTC by default, so the same seed gives
    /// the same answers whenever it runs.
    pub start: Option<Time>,
    /// Start with the clock paused (tests step it with [`SimCloud::advance`]).
    pub paused: bool,
    pub size: WorldSize,
    /// Kinesis's limit of five GetRecords calls per second per shard, on real time (on by
    /// default; benchmarks of record generation turn it off).
    pub kinesis_read_limit: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 7,
            speed: 3600.0,
            faults: FaultProfile::None,
            start: None,
            paused: false,
            size: WorldSize::default(),
            kinesis_read_limit: true,
        }
    }
}

impl SimOptions {
    /// Options from the command line's `--seed`, `--speed` and `--faults`.
    pub fn from_args(seed: u64, speed: f64, faults: &str) -> Result<SimOptions, String> {
        if !(speed.is_finite() && speed >= 0.0) {
            return Err(format!(
                "--speed must be a non-negative number, not {speed}"
            ));
        }
        Ok(SimOptions {
            seed,
            speed,
            faults: faults.parse()?,
            ..SimOptions::default()
        })
    }
}

/// The simulated AWS account.
#[derive(Debug)]
pub struct SimCloud {
    clock: SimClock,
    faults: faults::Faults,
    world: Mutex<World>,
    start_ms: i64,
}

impl SimCloud {
    pub fn new(options: SimOptions) -> Arc<SimCloud> {
        let start_ms = options
            .start
            .map(to_ms)
            .unwrap_or_else(world::default_start_ms);
        let mut world = World::build(options.seed, start_ms, &options.size);
        world.kinesis.read_limit = options.kinesis_read_limit;
        Arc::new(SimCloud {
            clock: SimClock::new(start_ms, options.speed, options.paused),
            faults: faults::Faults::new(options.faults, options.seed, start_ms),
            world: Mutex::new(world),
            start_ms,
        })
    }

    /// Moves simulated time forward (paused or not) and brings the world up to it.
    pub fn advance(&self, by: Duration) {
        self.clock.advance_ms(by.as_millis() as i64);
        drop(self.lock_world());
    }

    /// Simulated time at which the world started.
    pub fn start_time(&self) -> Time {
        to_time(self.start_ms)
    }

    pub fn fault_profile(&self) -> FaultProfile {
        self.faults.profile()
    }

    /// Every message published to any topic so far (oldest first), with where it went.
    pub fn published_messages(&self) -> Vec<Publication> {
        self.lock_world().msg.published.iter().cloned().collect()
    }

    /// The ARNs of the account's volumes (backed up or not yet), in world order.
    pub fn volume_arns(&self) -> Vec<String> {
        self.lock_world()
            .backup
            .volumes
            .iter()
            .map(|v| v.arn.clone())
            .collect()
    }

    /// GetRecords calls so far per shard: (stream, shard id, accepted, throttled by the
    /// five-calls-per-second limit). Calls refused by an injected fault are not counted.
    pub fn kinesis_reads(&self) -> Vec<(String, String, u64, u64)> {
        self.lock_world().kinesis.read_counts()
    }

    /// Scheduled encryption bursts: (volume ARN, time of the burst).
    pub fn bursts(&self) -> Vec<(String, Time)> {
        self.lock_world()
            .backup
            .volumes
            .iter()
            .flat_map(|v| v.bursts.iter().map(|b| (v.arn.clone(), to_time(*b))))
            .collect()
    }

    fn lock_world(&self) -> MutexGuard<'_, World> {
        let now = self.clock.now_ms();
        let real = self.clock.real_ms();
        let mut w = self.world.lock().unwrap_or_else(|e| e.into_inner());
        w.advance(now, real);
        w
    }

    fn with<R>(&self, f: impl FnOnce(&mut World, i64, i64) -> R) -> R {
        let now = self.clock.now_ms();
        let real = self.clock.real_ms();
        let mut w = self.world.lock().unwrap_or_else(|e| e.into_inner());
        w.advance(now, real);
        f(&mut w, now, real)
    }

    /// Injected faults: decided before the call touches anything, so a failed call had no effect.
    async fn gate(&self, service: &str, op: &str, resource: Option<&str>) -> CloudResult<()> {
        let d = self
            .faults
            .decide(service, op, resource, self.clock.now_ms());
        if let Some(l) = d.latency {
            tokio::time::sleep(l).await;
        }
        match d.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl DemoControls for SimCloud {
    fn inject_burst(&self, volume_arn: &str) -> Result<(), String> {
        let now = self.clock.now_ms();
        let mut w = self.lock_world();
        let i = w
            .backup
            .volume_by_arn(volume_arn)
            .map(|v| v.idx as usize)
            .ok_or_else(|| format!("no volume {volume_arn} in the demo account"))?;
        w.backup.volumes[i].bursts.push(now);
        Ok(())
    }

    fn set_paused(&self, paused: bool) {
        self.clock.set_paused(paused);
    }

    fn is_paused(&self) -> bool {
        self.clock.is_paused()
    }

    fn speed(&self) -> f64 {
        self.clock.speed()
    }

    fn set_speed(&self, speed: f64) {
        self.clock.set_speed(speed);
    }

    fn seed(&self) -> u64 {
        self.lock_world().seed
    }
}

#[async_trait]
impl Cloud for SimCloud {
    fn kind(&self) -> &'static str {
        "demo"
    }

    fn now(&self) -> Time {
        to_time(self.clock.now_ms())
    }

    fn demo(&self) -> Option<&dyn DemoControls> {
        Some(self)
    }

    async fn caller_identity(&self) -> CloudResult<Identity> {
        api::sts::caller_identity(self).await
    }

    async fn list_protected_resources(
        &self,
        next_token: Option<String>,
    ) -> CloudResult<Page<ProtectedResource>> {
        api::backup::list_protected_resources(self, next_token).await
    }
    async fn list_recovery_points_by_resource(
        &self,
        resource_arn: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>> {
        api::backup::list_recovery_points_by_resource(self, resource_arn, next_token).await
    }
    async fn list_recovery_points_by_vault(
        &self,
        vault: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>> {
        api::backup::list_recovery_points_by_vault(self, vault, next_token).await
    }
    async fn start_backup_job(&self, request: StartBackupJob) -> CloudResult<String> {
        api::backup::start_backup_job(self, request).await
    }
    async fn describe_backup_job(&self, job_id: &str) -> CloudResult<BackupJob> {
        api::backup::describe_backup_job(self, job_id).await
    }
    async fn list_backup_plans(&self) -> CloudResult<Vec<BackupPlan>> {
        api::backup::list_backup_plans(self).await
    }
    async fn list_backup_selections(&self, plan_id: &str) -> CloudResult<Vec<BackupSelection>> {
        api::backup::list_backup_selections(self, plan_id).await
    }
    async fn list_tags(&self, resource_arn: &str) -> CloudResult<BTreeMap<String, String>> {
        api::backup::list_tags(self, resource_arn).await
    }

    async fn create_legal_hold(&self, request: CreateLegalHold) -> CloudResult<LegalHold> {
        api::backup::create_legal_hold(self, request).await
    }
    async fn get_recovery_point_restore_metadata(
        &self,
        vault: &str,
        recovery_point_arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        api::backup::get_recovery_point_restore_metadata(self, vault, recovery_point_arn).await
    }
    async fn start_restore_job(&self, request: StartRestoreJob) -> CloudResult<String> {
        api::backup::start_restore_job(self, request).await
    }
    async fn describe_restore_job(&self, job_id: &str) -> CloudResult<RestoreJob> {
        api::backup::describe_restore_job(self, job_id).await
    }

    async fn list_changed_blocks(&self, request: ListChangedBlocks) -> CloudResult<BlockPage> {
        api::ebs::list_changed_blocks(self, request).await
    }
    async fn list_snapshot_blocks(&self, request: ListSnapshotBlocks) -> CloudResult<BlockPage> {
        api::ebs::list_snapshot_blocks(self, request).await
    }

    async fn put_metric_data(&self, namespace: &str, data: Vec<MetricDatum>) -> CloudResult<()> {
        api::cloudwatch::put_metric_data(self, namespace, data).await
    }
    async fn get_metric_data(&self, request: GetMetricData) -> CloudResult<Vec<MetricDataResult>> {
        api::cloudwatch::get_metric_data(self, request).await
    }
    async fn list_metrics(
        &self,
        namespace: Option<&str>,
        metric_name: Option<&str>,
    ) -> CloudResult<Vec<MetricId>> {
        api::cloudwatch::list_metrics(self, namespace, metric_name).await
    }
    async fn put_anomaly_detector(&self, detector: AnomalyDetector) -> CloudResult<()> {
        api::cloudwatch::put_anomaly_detector(self, detector).await
    }
    async fn describe_anomaly_detectors(
        &self,
        metric: Option<&MetricId>,
    ) -> CloudResult<Vec<AnomalyDetector>> {
        api::cloudwatch::describe_anomaly_detectors(self, metric).await
    }
    async fn put_metric_alarm(&self, alarm: AlarmDefinition) -> CloudResult<()> {
        api::cloudwatch::put_metric_alarm(self, alarm).await
    }
    async fn describe_alarms(&self, filter: AlarmFilter) -> CloudResult<Vec<Alarm>> {
        api::cloudwatch::describe_alarms(self, filter).await
    }
    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()> {
        api::cloudwatch::delete_alarms(self, names).await
    }
    async fn describe_alarm_history(
        &self,
        alarm_name: &str,
        max: usize,
    ) -> CloudResult<Vec<AlarmHistoryItem>> {
        api::cloudwatch::describe_alarm_history(self, alarm_name, max).await
    }
    async fn set_alarm_state(
        &self,
        alarm_name: &str,
        state: AlarmState,
        reason: &str,
    ) -> CloudResult<()> {
        api::cloudwatch::set_alarm_state(self, alarm_name, state, reason).await
    }
    async fn set_alarm_actions_enabled(&self, names: &[String], enabled: bool) -> CloudResult<()> {
        api::cloudwatch::set_alarm_actions_enabled(self, names, enabled).await
    }

    async fn create_topic(&self, name: &str, display_name: Option<&str>) -> CloudResult<String> {
        api::sns::create_topic(self, name, display_name).await
    }
    async fn list_topics(&self) -> CloudResult<Vec<String>> {
        api::sns::list_topics(self).await
    }
    async fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
    ) -> CloudResult<String> {
        api::sns::subscribe(self, topic_arn, protocol, endpoint).await
    }
    async fn list_subscriptions(&self, topic_arn: &str) -> CloudResult<Vec<Subscription>> {
        api::sns::list_subscriptions(self, topic_arn).await
    }
    async fn publish(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
    ) -> CloudResult<String> {
        api::sns::publish(self, topic_arn, subject, message, None).await
    }
    async fn publish_fifo(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
        group_id: &str,
        dedup_id: &str,
    ) -> CloudResult<String> {
        api::sns::publish(
            self,
            topic_arn,
            subject,
            message,
            Some((group_id, dedup_id)),
        )
        .await
    }

    async fn create_queue(&self, name: &str) -> CloudResult<String> {
        api::sqs::create_queue(self, name).await
    }
    async fn queue_arn(&self, queue_url: &str) -> CloudResult<String> {
        api::sqs::queue_arn(self, queue_url).await
    }
    async fn allow_topic_to_queue(&self, queue_url: &str, topic_arn: &str) -> CloudResult<()> {
        api::sqs::allow_topic_to_queue(self, queue_url, topic_arn).await
    }
    async fn receive_messages(
        &self,
        queue_url: &str,
        max: i32,
        wait_seconds: i32,
    ) -> CloudResult<Vec<QueueMessage>> {
        api::sqs::receive_messages(self, queue_url, max, wait_seconds).await
    }
    async fn delete_message(&self, queue_url: &str, receipt_handle: &str) -> CloudResult<()> {
        api::sqs::delete_message(self, queue_url, receipt_handle).await
    }
    async fn send_message(&self, queue_url: &str, body: &str) -> CloudResult<String> {
        api::sqs::send_message(self, queue_url, body).await
    }

    async fn list_streams(&self) -> CloudResult<Vec<String>> {
        api::kinesis::list_streams(self).await
    }
    async fn list_shards(&self, stream: &str) -> CloudResult<Vec<Shard>> {
        api::kinesis::list_shards(self, stream).await
    }
    async fn stream_identity(&self, stream: &str) -> CloudResult<crate::cloud::StreamIdentity> {
        api::kinesis::stream_identity(self, stream).await
    }
    async fn get_shard_iterator(
        &self,
        stream: &str,
        shard_id: &str,
        position: ShardPosition,
    ) -> CloudResult<String> {
        api::kinesis::get_shard_iterator(self, stream, shard_id, position).await
    }
    async fn get_records(&self, iterator: &str, limit: Option<i32>) -> CloudResult<RecordBatch> {
        api::kinesis::get_records(self, iterator, limit).await
    }
    async fn put_records(
        &self,
        stream: &str,
        records: Vec<PutRecord>,
    ) -> CloudResult<PutRecordsOutcome> {
        api::kinesis::put_records(self, stream, records).await
    }

    async fn get_item(&self, table: &str, key: Item) -> CloudResult<Option<Item>> {
        api::dynamodb::get_item(self, table, key).await
    }
    async fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<Condition>,
    ) -> CloudResult<()> {
        api::dynamodb::put_item(self, table, item, condition).await
    }
    async fn query(&self, query: Query) -> CloudResult<Vec<Item>> {
        api::dynamodb::query(self, query).await
    }
    async fn delete_item(
        &self,
        table: &str,
        key: Item,
        condition: Option<Condition>,
    ) -> CloudResult<()> {
        api::dynamodb::delete_item(self, table, key, condition).await
    }
    async fn create_table(
        &self,
        table: &str,
        hash_key: &str,
        range_key: Option<&str>,
    ) -> CloudResult<()> {
        api::dynamodb::create_table(self, table, hash_key, range_key).await
    }
}
