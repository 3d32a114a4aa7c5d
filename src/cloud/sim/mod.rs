//! The embedded simulated AWS account behind the `Cloud` seam: the default demo.
//!
//! [`SimCloud`] answers every operation of [`Cloud`] with AWS semantics (paging, limits, error
//! kinds) from an in-memory world driven by a virtual clock ([`clock`]). The world advances
//! lazily on every call — no background threads — so a tokio runtime with paused time makes it
//! fully deterministic, and the same seed builds the same world bit for bit.
//!
//! Modules: [`clock`] virtual time; [`rng`] seeded randomness; [`world`] generation and the
//! lazy advance; [`backup`] volumes, recovery points and jobs; [`ebs`] changed blocks;
//! [`cloudwatch`] metrics, bands and alarms; [`messaging`] SNS and SQS; [`kinesis`] streams;
//! [`dynamodb`] tables; [`faults`] injected faults.

// `CloudError` is the seam's shared error type; its size is not the simulator's to change.
#![allow(clippy::result_large_err)]

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
    BackupPlan, BackupRule, BackupSelection, BlockPage, Cloud, CloudError, CloudResult, Condition,
    DemoControls, ErrorKind, GetMetricData, Identity, Item, ListChangedBlocks, ListSnapshotBlocks,
    MetricDataResult, MetricDatum, MetricId, MetricQueryKind, Page, ProtectedResource, PutRecord,
    PutRecordsOutcome, Query, QueueMessage, RecordBatch, RecoveryPoint, Shard, ShardPosition,
    StartBackupJob, Subscription, Time,
};
use async_trait::async_trait;
use backup::DEFAULT_VAULT;
use clock::{SimClock, to_ms, to_time};
use ebs::{BLOCK_SIZE, BLOCKS_PER_GIB, BlockSet, MAX_RESULTS, MIN_RESULTS, Step, StepKind};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use world::{ACCOUNT, REGION, World};

/// Page size of the Backup listings (AWS's default MaxResults is larger; a smaller page keeps
/// the paging paths exercised).
const BACKUP_PAGE: usize = 100;

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
        }
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

fn err(kind: ErrorKind, service: &str, op: &str, code: &str, msg: impl Into<String>) -> CloudError {
    CloudError::new(kind, service, op, msg).with_code(code)
}

fn not_found(service: &str, op: &str, resource: &str, msg: impl Into<String>) -> CloudError {
    err(
        ErrorKind::NotFound,
        service,
        op,
        "ResourceNotFoundException",
        msg,
    )
    .with_resource(resource)
}

fn invalid(service: &str, op: &str, resource: &str, msg: impl Into<String>) -> CloudError {
    err(
        ErrorKind::InvalidRequest,
        service,
        op,
        "ValidationException",
        msg,
    )
    .with_resource(resource)
}

fn offset_token(prefix: &str, token: Option<&str>) -> Result<usize, ()> {
    match token {
        None => Ok(0),
        Some(t) => t
            .strip_prefix(prefix)
            .and_then(|x| x.parse().ok())
            .ok_or(()),
    }
}

impl SimCloud {
    pub fn new(options: SimOptions) -> Arc<SimCloud> {
        let start_ms = options
            .start
            .map(to_ms)
            .unwrap_or_else(world::default_start_ms);
        Arc::new(SimCloud {
            clock: SimClock::new(start_ms, options.speed, options.paused),
            faults: faults::Faults::new(options.faults, options.seed, start_ms),
            world: Mutex::new(World::build(options.seed, start_ms, &options.size)),
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

    fn recovery_point(w: &World, v: u32, s: backup::Snap) -> RecoveryPoint {
        let vol = &w.backup.volumes[v as usize];
        RecoveryPoint {
            arn: w.backup.snapshot_arn(v, s.seq),
            resource_arn: vol.arn.clone(),
            resource_type: "EBS".into(),
            vault: DEFAULT_VAULT.into(),
            created: to_time(s.created),
            completed: Some(to_time(s.completed)),
            status: "COMPLETED".into(),
            size_bytes: Some(
                (vol.size_gib as f64 * vol.used_frac) as i64
                    * BLOCKS_PER_GIB
                    * i64::from(BLOCK_SIZE),
            ),
        }
    }

    /// Resolves a snapshot id to (volume, snapshot) if it exists and has completed.
    fn completed_snapshot(
        w: &World,
        id: &str,
        now: i64,
        op: &str,
    ) -> CloudResult<(u32, backup::Snap)> {
        let missing = || not_found("ebs", op, id, format!("The snapshot '{id}' does not exist"));
        let (v, seq) = w.backup.decode_snapshot(id).ok_or_else(missing)?;
        let s = w.backup.snap(v, seq).ok_or_else(missing)?;
        if s.created > now {
            return Err(missing());
        }
        if s.completed > now {
            return Err(invalid(
                "ebs",
                op,
                id,
                format!("The snapshot '{id}' is not completed yet (status pending)"),
            ));
        }
        Ok((v, s))
    }

    #[allow(clippy::too_many_arguments)]
    fn block_page(
        w: &World,
        op: &str,
        v: u32,
        steps: Vec<Step>,
        token_key: &str,
        next_token: Option<&str>,
        max_results: Option<i32>,
        resource: &str,
    ) -> CloudResult<BlockPage> {
        let max = max_results.unwrap_or(MAX_RESULTS);
        if !(MIN_RESULTS..=MAX_RESULTS).contains(&max) {
            return Err(invalid(
                "ebs",
                op,
                resource,
                format!("MaxResults {max} must be between {MIN_RESULTS} and {MAX_RESULTS}"),
            ));
        }
        let from = match next_token {
            None => 0,
            Some(t) => t
                .strip_prefix(token_key)
                .and_then(|x| x.strip_prefix(':'))
                .and_then(|x| x.parse::<i64>().ok())
                .ok_or_else(|| {
                    invalid(
                        "ebs",
                        op,
                        resource,
                        "The NextToken is not valid for this request (INVALID_PAGE_TOKEN)",
                    )
                })?,
        };
        let vol = &w.backup.volumes[v as usize];
        let set = BlockSet {
            seed: w.backup.seed,
            vol,
            steps,
        };
        let (block_indices, next) = set.page(from, max as usize);
        Ok(BlockPage {
            block_indices,
            block_size: BLOCK_SIZE,
            volume_size_gib: vol.size_gib,
            next_token: next.map(|n| format!("{token_key}:{n}")),
        })
    }

    /// The band of `ANOMALY_DETECTION_BAND(id, width)` over the window, as two series
    /// (lower, upper) with the expression's id.
    #[allow(clippy::too_many_arguments)]
    fn band_results(
        w: &World,
        now: i64,
        id: &str,
        label: &str,
        metric: &MetricId,
        stat: &str,
        period_ms: i64,
        width: f64,
        start: i64,
        end: i64,
    ) -> Result<[MetricDataResult; 2], String> {
        let src = w.sources(now);
        let points = cloudwatch::aggregate(&src.raw(metric, start, end), period_ms, stat)
            .ok_or_else(|| format!("invalid statistic {stat}"))?;
        let history = cloudwatch::training_history(&src, metric, stat, period_ms, start);
        let det = w.detectors.get(&(metric.clone(), stat.to_string()));
        let cfg = cloudwatch::band_config(metric, width, det);
        let verdicts = cloudwatch::band_verdicts(&cfg, &history, &points)?;
        let mut lo = MetricDataResult {
            id: id.to_string(),
            label: format!("{label} Lower"),
            timestamps: Vec::new(),
            values: Vec::new(),
            status: "Complete".into(),
        };
        let mut hi = MetricDataResult {
            label: format!("{label} Upper"),
            ..lo.clone()
        };
        for v in verdicts {
            if let Some(b) = v.band {
                let t = to_time(v.timestamp * 1000);
                lo.timestamps.push(t);
                lo.values.push(b.lower);
                hi.timestamps.push(t);
                hi.values.push(b.upper);
            }
        }
        Ok([lo, hi])
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
        self.gate("sts", "GetCallerIdentity", None).await?;
        Ok(Identity {
            account: ACCOUNT.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/demo"),
            region: REGION.into(),
        })
    }

    // ------------------------------------------------------------ AWS Backup

    async fn list_protected_resources(
        &self,
        next_token: Option<String>,
    ) -> CloudResult<Page<ProtectedResource>> {
        const OP: &str = "ListProtectedResources";
        self.gate("backup", OP, None).await?;
        self.with(|w, now, _| {
            let from = offset_token("pr:", next_token.as_deref()).map_err(|_| {
                err(
                    ErrorKind::InvalidRequest,
                    "backup",
                    OP,
                    "InvalidParameterValueException",
                    "invalid NextToken",
                )
            })?;
            let mut items = Vec::new();
            let mut v = from;
            while v < w.backup.volumes.len() && items.len() < BACKUP_PAGE {
                if let Some(s) = w.backup.latest_completed(v as u32, now) {
                    let vol = &w.backup.volumes[v];
                    items.push(ProtectedResource {
                        arn: vol.arn.clone(),
                        resource_type: "EBS".into(),
                        name: Some(vol.name.clone()),
                        last_backup: Some(to_time(s.created)),
                    });
                }
                v += 1;
            }
            let more = (v..w.backup.volumes.len())
                .any(|i| w.backup.latest_completed(i as u32, now).is_some());
            Ok(Page {
                items,
                next_token: more.then(|| format!("pr:{v}")),
            })
        })
    }

    async fn list_recovery_points_by_resource(
        &self,
        resource_arn: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>> {
        const OP: &str = "ListRecoveryPointsByResource";
        self.gate("backup", OP, Some(resource_arn)).await?;
        self.with(|w, now, _| {
            let from = offset_token("rp:", next_token.as_deref())
                .map_err(|_| invalid("backup", OP, resource_arn, "invalid NextToken"))?;
            let Some(v) = w.backup.volume_by_arn(resource_arn).map(|v| v.idx) else {
                if crate::originals::volume_id_in(resource_arn).is_none() {
                    return Err(invalid("backup", OP, resource_arn, "Invalid resource ARN"));
                }
                return Ok(Page {
                    items: vec![],
                    next_token: None,
                });
            };
            let snaps = w.backup.completed(v, now);
            let items: Vec<RecoveryPoint> = snaps
                .iter()
                .rev()
                .skip(from)
                .take(BACKUP_PAGE)
                .map(|s| Self::recovery_point(w, v, *s))
                .collect();
            let end = from + items.len();
            Ok(Page {
                items,
                next_token: (end < snaps.len()).then(|| format!("rp:{end}")),
            })
        })
    }

    async fn list_recovery_points_by_vault(
        &self,
        vault: &str,
        next_token: Option<String>,
    ) -> CloudResult<Page<RecoveryPoint>> {
        const OP: &str = "ListRecoveryPointsByBackupVault";
        self.gate("backup", OP, Some(vault)).await?;
        self.with(|w, now, _| {
            if vault != DEFAULT_VAULT {
                return Err(not_found(
                    "backup",
                    OP,
                    vault,
                    format!("Backup vault {vault} does not exist"),
                ));
            }
            let (mut v, mut off) = match next_token.as_deref() {
                None => (0usize, 0usize),
                Some(t) => t
                    .strip_prefix("rv:")
                    .and_then(|x| x.split_once(':'))
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .ok_or_else(|| invalid("backup", OP, vault, "invalid NextToken"))?,
            };
            let mut items = Vec::new();
            while v < w.backup.volumes.len() {
                let snaps = w.backup.completed(v as u32, now);
                let take = BACKUP_PAGE - items.len();
                items.extend(
                    snaps
                        .iter()
                        .rev()
                        .skip(off)
                        .take(take)
                        .map(|s| Self::recovery_point(w, v as u32, *s)),
                );
                if off + take < snaps.len() {
                    off += take;
                    break;
                }
                v += 1;
                off = 0;
                if items.len() == BACKUP_PAGE {
                    break;
                }
            }
            let more = v < w.backup.volumes.len();
            Ok(Page {
                items,
                next_token: more.then(|| format!("rv:{v}:{off}")),
            })
        })
    }

    async fn start_backup_job(&self, request: StartBackupJob) -> CloudResult<String> {
        const OP: &str = "StartBackupJob";
        self.gate("backup", OP, Some(&request.resource_arn)).await?;
        self.with(|w, now, _| {
            if crate::originals::volume_id_in(&request.resource_arn).is_none() {
                return Err(err(
                    ErrorKind::InvalidRequest,
                    "backup",
                    OP,
                    "InvalidParameterValueException",
                    format!(
                        "Invalid resource ARN {:?}: the demo account backs up EBS volumes",
                        request.resource_arn
                    ),
                )
                .with_resource(&request.resource_arn));
            }
            if let Some(tok) = &request.idempotency_token
                && let Some(j) = w.backup.jobs.iter().find(|j| {
                    j.idempotency_token.as_deref() == Some(tok.as_str())
                        && now - j.created < clock::DAY_MS
                })
            {
                return Ok(j.id.clone());
            }
            let v = w.backup.volume_by_arn(&request.resource_arn).map(|v| v.idx);
            let role_ok = w.backup.known_role(&request.iam_role_arn);
            let vault_ok = request.vault == DEFAULT_VAULT;
            let id = w.ids.uuid().to_uppercase();
            Ok(w.backup.start_job(
                id,
                v,
                &request.resource_arn,
                &request.vault,
                role_ok,
                vault_ok,
                now,
                request.idempotency_token.clone(),
            ))
        })
    }

    async fn describe_backup_job(&self, job_id: &str) -> CloudResult<BackupJob> {
        const OP: &str = "DescribeBackupJob";
        self.gate("backup", OP, Some(job_id)).await?;
        self.with(|w, now, _| {
            let j = w
                .backup
                .jobs
                .iter()
                .find(|j| j.id == job_id)
                .ok_or_else(|| {
                    not_found(
                        "backup",
                        OP,
                        job_id,
                        format!("Backup job {job_id} not found"),
                    )
                })?;
            Ok(w.backup.job_view(j, now))
        })
    }

    async fn list_backup_plans(&self) -> CloudResult<Vec<BackupPlan>> {
        self.gate("backup", "ListBackupPlans", None).await?;
        self.with(|w, _, _| {
            Ok(vec![BackupPlan {
                id: w.backup.plan_id.clone(),
                name: "ebs-changed-block-anomaly-plan".into(),
                rules: vec![
                    BackupRule {
                        name: "daily".into(),
                        schedule: crate::originals::DAILY_BACKUP_SCHEDULE.into(),
                        vault: DEFAULT_VAULT.into(),
                        delete_after_days: Some(35),
                    },
                    BackupRule {
                        name: "monthly".into(),
                        schedule: crate::originals::MONTHLY_BACKUP_SCHEDULE.into(),
                        vault: DEFAULT_VAULT.into(),
                        delete_after_days: Some(365),
                    },
                ],
            }])
        })
    }

    async fn list_backup_selections(&self, plan_id: &str) -> CloudResult<Vec<BackupSelection>> {
        const OP: &str = "ListBackupSelections";
        self.gate("backup", OP, Some(plan_id)).await?;
        self.with(|w, _, _| {
            if plan_id != w.backup.plan_id {
                return Err(not_found(
                    "backup",
                    OP,
                    plan_id,
                    format!("Backup plan {plan_id} not found"),
                ));
            }
            Ok(vec![BackupSelection {
                plan_id: plan_id.to_string(),
                id: w.backup.selection_id.clone(),
                name: "tagged-ebs-volumes".into(),
                iam_role_arn: w.backup.role_arn(),
                resources: vec!["arn:aws:ec2:*:*:volume/*".into()],
                tag_keys: vec![crate::originals::DEFAULT_BACKUP_TAG_KEY.into()],
            }])
        })
    }

    async fn list_tags(&self, resource_arn: &str) -> CloudResult<BTreeMap<String, String>> {
        const OP: &str = "ListTags";
        self.gate("backup", OP, Some(resource_arn)).await?;
        self.with(|w, _, _| {
            let vol = w.backup.volume_by_arn(resource_arn).ok_or_else(|| {
                not_found(
                    "backup",
                    OP,
                    resource_arn,
                    format!("Resource {resource_arn} not found"),
                )
            })?;
            let mut tags = BTreeMap::new();
            tags.insert("Name".to_string(), vol.name.clone());
            tags.insert(
                crate::originals::DEFAULT_BACKUP_TAG_KEY.to_string(),
                "daily".to_string(),
            );
            Ok(tags)
        })
    }

    // ------------------------------------------------------------ EBS direct API

    async fn list_changed_blocks(&self, request: ListChangedBlocks) -> CloudResult<BlockPage> {
        const OP: &str = "ListChangedBlocks";
        let res = request.second_snapshot_id.clone();
        self.gate("ebs", OP, Some(&res)).await?;
        self.with(|w, now, _| {
            let (v2, second) = Self::completed_snapshot(w, &request.second_snapshot_id, now, OP)?;
            let first = match &request.first_snapshot_id {
                None => None,
                Some(id) => {
                    let (v1, first) = Self::completed_snapshot(w, id, now, OP)?;
                    if v1 != v2 {
                        return Err(invalid(
                            "ebs",
                            OP,
                            &res,
                            format!(
                                "The snapshots {id} and {res} are not of the same volume lineage"
                            ),
                        ));
                    }
                    if first.created >= second.created {
                        return Err(invalid(
                            "ebs",
                            OP,
                            &res,
                            format!("The first snapshot {id} must be older than the second snapshot {res}"),
                        ));
                    }
                    Some(first)
                }
            };
            let steps = ebs::steps_between(&w.backup, v2, first, second);
            let key = format!(
                "cb:{}:{}",
                request.first_snapshot_id.as_deref().unwrap_or("-"),
                request.second_snapshot_id
            );
            Self::block_page(
                w,
                OP,
                v2,
                steps,
                &key,
                request.next_token.as_deref(),
                request.max_results,
                &res,
            )
        })
    }

    async fn list_snapshot_blocks(&self, request: ListSnapshotBlocks) -> CloudResult<BlockPage> {
        const OP: &str = "ListSnapshotBlocks";
        let res = request.snapshot_id.clone();
        self.gate("ebs", OP, Some(&res)).await?;
        self.with(|w, now, _| {
            let (v, s) = Self::completed_snapshot(w, &request.snapshot_id, now, OP)?;
            let steps = vec![Step {
                vol: v,
                seq: s.seq,
                kind: StepKind::Full,
            }];
            let key = format!("sb:{}", request.snapshot_id);
            Self::block_page(
                w,
                OP,
                v,
                steps,
                &key,
                request.next_token.as_deref(),
                request.max_results,
                &res,
            )
        })
    }

    // ------------------------------------------------------------ CloudWatch

    async fn put_metric_data(&self, namespace: &str, data: Vec<MetricDatum>) -> CloudResult<()> {
        const OP: &str = "PutMetricData";
        self.gate("cloudwatch", OP, Some(namespace)).await?;
        if namespace.is_empty() || namespace.starts_with("AWS/") || namespace.len() > 255 {
            return Err(invalid(
                "cloudwatch",
                OP,
                namespace,
                "The namespace must be 1–255 characters and must not start with \"AWS/\"",
            ));
        }
        if data.is_empty() || data.len() > 1000 {
            return Err(invalid(
                "cloudwatch",
                OP,
                namespace,
                "MetricData must hold 1 to 1000 items",
            ));
        }
        if let Some(d) = data
            .iter()
            .find(|d| !d.value.is_finite() || d.metric_name.is_empty())
        {
            return Err(invalid(
                "cloudwatch",
                OP,
                namespace,
                format!(
                    "The value {} of metric {:?} is not a finite number",
                    d.value, d.metric_name
                ),
            ));
        }
        self.with(|w, _, _| {
            for d in data {
                let dims: Vec<(&str, &str)> = d
                    .dimensions
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let m = MetricId::new(namespace, &d.metric_name, &dims);
                let t = to_ms(d.timestamp);
                let series = w.stored.entry(m.clone()).or_default();
                let pos = series.partition_point(|p| p.0 <= t);
                series.insert(pos, (t, d.value));
                w.alarms.touch(&m, t);
                w.alarms_due = w.alarms_due.min(t);
            }
            Ok(())
        })
    }

    async fn get_metric_data(&self, request: GetMetricData) -> CloudResult<Vec<MetricDataResult>> {
        const OP: &str = "GetMetricData";
        let res = request
            .queries
            .iter()
            .find_map(|q| match &q.kind {
                MetricQueryKind::Stat { metric, .. } => Some(metric.display()),
                _ => None,
            })
            .unwrap_or_default();
        self.gate("cloudwatch", OP, Some(&res)).await?;
        let bad = |m: String| invalid("cloudwatch", OP, &res, m);
        if request.queries.is_empty() || request.queries.len() > 500 {
            return Err(bad("MetricDataQueries must hold 1 to 500 queries".into()));
        }
        if request.start >= request.end {
            return Err(bad("StartTime must be before EndTime".into()));
        }
        let mut ids = std::collections::BTreeSet::new();
        for q in &request.queries {
            if !ids.insert(q.id.as_str()) {
                return Err(bad(format!("The id {} is used more than once", q.id)));
            }
        }
        let (start, end) = (to_ms(request.start), to_ms(request.end));
        self.with(|w, now, _| {
            let mut out = Vec::new();
            for q in &request.queries {
                match &q.kind {
                    MetricQueryKind::Stat {
                        metric,
                        period,
                        stat,
                    } => {
                        if *period <= 0 || (*period >= 60 && period % 60 != 0) {
                            return Err(bad(format!("Period {period} must be a positive multiple of 60")));
                        }
                        let pts = cloudwatch::aggregate(
                            &w.sources(now).raw(metric, start, end),
                            i64::from(*period) * 1000,
                            stat,
                        )
                        .ok_or_else(|| bad(format!("Invalid statistic {stat:?}")))?;
                        if q.return_data {
                            out.push(MetricDataResult {
                                id: q.id.clone(),
                                label: q.label.clone().unwrap_or_else(|| metric.name.clone()),
                                timestamps: pts.iter().map(|p| to_time(p.0)).collect(),
                                values: pts.iter().map(|p| p.1).collect(),
                                status: "Complete".into(),
                            });
                        }
                    }
                    MetricQueryKind::Expression(expr) => {
                        let (mid, width) = crate::originals::parse_band_expression(expr)
                            .ok_or_else(|| bad(format!("Unsupported expression {expr:?}: the demo account evaluates ANOMALY_DETECTION_BAND(id, N)")))?;
                        let base = request
                            .queries
                            .iter()
                            .find(|b| b.id == mid)
                            .ok_or_else(|| bad(format!("{expr} refers to an unknown id {mid}")))?;
                        let MetricQueryKind::Stat {
                            metric,
                            period,
                            stat,
                        } = &base.kind
                        else {
                            return Err(bad(format!("{mid} is not a metric query")));
                        };
                        if q.return_data {
                            let label = q.label.clone().unwrap_or_else(|| expr.clone());
                            let pair = Self::band_results(
                                w,
                                now,
                                &q.id,
                                &label,
                                metric,
                                stat,
                                i64::from(*period) * 1000,
                                width,
                                start,
                                end,
                            )
                            .map_err(bad)?;
                            out.extend(pair);
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    async fn list_metrics(
        &self,
        namespace: Option<&str>,
        metric_name: Option<&str>,
    ) -> CloudResult<Vec<MetricId>> {
        self.gate("cloudwatch", "ListMetrics", namespace).await?;
        self.with(|w, now, _| {
            Ok(w.sources(now)
                .all_metrics()
                .into_iter()
                .filter(|m| namespace.is_none_or(|n| m.namespace == n))
                .filter(|m| metric_name.is_none_or(|n| m.name == n))
                .collect())
        })
    }

    async fn put_anomaly_detector(&self, detector: AnomalyDetector) -> CloudResult<()> {
        const OP: &str = "PutAnomalyDetector";
        let res = detector.metric.display();
        self.gate("cloudwatch", OP, Some(&res)).await?;
        if !cloudwatch::stat_is_valid(&detector.stat) {
            return Err(invalid(
                "cloudwatch",
                OP,
                &res,
                format!("Invalid statistic {:?}", detector.stat),
            ));
        }
        if detector.excluded.iter().any(|(a, b)| a >= b) {
            return Err(invalid(
                "cloudwatch",
                OP,
                &res,
                "An excluded time range ends before it starts",
            ));
        }
        self.with(|w, _, _| {
            let key = (detector.metric.clone(), detector.stat.clone());
            w.detectors.insert(
                key,
                AnomalyDetector {
                    state: None,
                    ..detector
                },
            );
            Ok(())
        })
    }

    async fn describe_anomaly_detectors(
        &self,
        metric: Option<&MetricId>,
    ) -> CloudResult<Vec<AnomalyDetector>> {
        self.gate(
            "cloudwatch",
            "DescribeAnomalyDetectors",
            metric.map(|m| m.display()).as_deref(),
        )
        .await?;
        self.with(|w, now, _| {
            let src = w.sources(now);
            Ok(w.detectors
                .values()
                .filter(|d| metric.is_none_or(|m| &d.metric == m))
                .map(|d| {
                    let n = src.raw(&d.metric, now - 14 * clock::DAY_MS, now + 1).len();
                    AnomalyDetector {
                        state: Some(
                            match n {
                                0 => "PENDING_TRAINING",
                                1..10 => "TRAINED_INSUFFICIENT_DATA",
                                _ => "TRAINED",
                            }
                            .to_string(),
                        ),
                        ..d.clone()
                    }
                })
                .collect())
        })
    }

    async fn put_metric_alarm(&self, alarm: AlarmDefinition) -> CloudResult<()> {
        const OP: &str = "PutMetricAlarm";
        let name = alarm.name.clone();
        self.gate("cloudwatch", OP, Some(&name)).await?;
        if name.is_empty() || name.chars().count() > 255 {
            return Err(invalid(
                "cloudwatch",
                OP,
                &name,
                "AlarmName must be 1–255 characters",
            ));
        }
        let watch =
            cloudwatch::watch_of(&alarm).map_err(|m| invalid("cloudwatch", OP, &name, m))?;
        self.with(|w, now, _| {
            let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}");
            w.alarms.put(alarm, watch, arn, now);
            w.alarms_due = i64::MIN;
            Ok(())
        })
    }

    async fn describe_alarms(&self, filter: AlarmFilter) -> CloudResult<Vec<Alarm>> {
        self.gate(
            "cloudwatch",
            "DescribeAlarms",
            filter.name_prefix.as_deref(),
        )
        .await?;
        self.with(|w, _, _| {
            Ok(w.alarms
                .map
                .values()
                .filter(|a| filter.names.is_empty() || filter.names.contains(&a.def.name))
                .filter(|a| {
                    filter
                        .name_prefix
                        .as_deref()
                        .is_none_or(|p| a.def.name.starts_with(p))
                })
                .map(|a| Alarm {
                    arn: a.arn.clone(),
                    definition: a.def.clone(),
                    state: a.state,
                    state_reason: a.reason.clone(),
                    state_updated: to_time(a.updated),
                })
                .collect())
        })
    }

    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()> {
        const OP: &str = "DeleteAlarms";
        let res = names.join(",");
        self.gate("cloudwatch", OP, Some(&res)).await?;
        self.with(|w, _, _| {
            if let Some(missing) = names.iter().find(|n| !w.alarms.map.contains_key(*n)) {
                return Err(not_found(
                    "cloudwatch",
                    OP,
                    missing,
                    format!("Alarm {missing} does not exist; nothing was deleted"),
                ));
            }
            for n in names {
                w.alarms.delete(n);
            }
            Ok(())
        })
    }

    async fn describe_alarm_history(
        &self,
        alarm_name: &str,
        max: usize,
    ) -> CloudResult<Vec<AlarmHistoryItem>> {
        self.gate("cloudwatch", "DescribeAlarmHistory", Some(alarm_name))
            .await?;
        self.with(|w, _, _| {
            Ok(w.alarms
                .map
                .get(alarm_name)
                .map(|a| a.history.iter().rev().take(max).cloned().collect())
                .unwrap_or_default())
        })
    }

    async fn set_alarm_state(
        &self,
        alarm_name: &str,
        state: AlarmState,
        reason: &str,
    ) -> CloudResult<()> {
        const OP: &str = "SetAlarmState";
        self.gate("cloudwatch", OP, Some(alarm_name)).await?;
        if reason.chars().count() > 1023 {
            return Err(invalid(
                "cloudwatch",
                OP,
                alarm_name,
                "StateReason must be at most 1023 characters",
            ));
        }
        self.with(|w, now, real| {
            let rec = w.alarms.map.get_mut(alarm_name).ok_or_else(|| {
                not_found(
                    "cloudwatch",
                    OP,
                    alarm_name,
                    format!("Alarm {alarm_name} does not exist"),
                )
            })?;
            let note = rec.transition(state, reason.to_string(), now, ACCOUNT, REGION);
            w.deliver(note.into_iter().collect(), now, real);
            Ok(())
        })
    }

    async fn set_alarm_actions_enabled(&self, names: &[String], enabled: bool) -> CloudResult<()> {
        let op = if enabled {
            "EnableAlarmActions"
        } else {
            "DisableAlarmActions"
        };
        self.gate("cloudwatch", op, Some(&names.join(","))).await?;
        self.with(|w, _, _| {
            for n in names {
                if let Some(a) = w.alarms.map.get_mut(n) {
                    a.def.actions_enabled = enabled;
                }
            }
            Ok(())
        })
    }

    // ------------------------------------------------------------ SNS

    async fn create_topic(&self, name: &str, display_name: Option<&str>) -> CloudResult<String> {
        const OP: &str = "CreateTopic";
        self.gate("sns", OP, Some(name)).await?;
        self.with(|w, _, _| {
            w.msg
                .create_topic(name, display_name)
                .map_err(|e| msg_err(e, OP, name))
        })
    }

    async fn list_topics(&self) -> CloudResult<Vec<String>> {
        self.gate("sns", "ListTopics", None).await?;
        self.with(|w, _, _| Ok(w.msg.topics.keys().cloned().collect()))
    }

    async fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
    ) -> CloudResult<String> {
        const OP: &str = "Subscribe";
        self.gate("sns", OP, Some(topic_arn)).await?;
        self.with(|w, _, _| {
            w.msg
                .subscribe(topic_arn, protocol, endpoint)
                .map_err(|e| msg_err(e, OP, topic_arn))
        })
    }

    async fn list_subscriptions(&self, topic_arn: &str) -> CloudResult<Vec<Subscription>> {
        const OP: &str = "ListSubscriptionsByTopic";
        self.gate("sns", OP, Some(topic_arn)).await?;
        self.with(|w, _, _| {
            if !w.msg.topics.contains_key(topic_arn) {
                return Err(not_found("sns", OP, topic_arn, "Topic does not exist"));
            }
            Ok(w.msg
                .subscriptions
                .iter()
                .filter(|s| s.topic_arn == topic_arn)
                .cloned()
                .collect())
        })
    }

    async fn publish(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
    ) -> CloudResult<String> {
        const OP: &str = "Publish";
        self.gate("sns", OP, Some(topic_arn)).await?;
        self.with(|w, now, real| {
            w.msg
                .publish(topic_arn, subject, message, now, real)
                .map_err(|e| msg_err(e, OP, topic_arn))
        })
    }

    // ------------------------------------------------------------ SQS

    async fn create_queue(&self, name: &str) -> CloudResult<String> {
        const OP: &str = "CreateQueue";
        self.gate("sqs", OP, Some(name)).await?;
        self.with(|w, _, _| w.msg.create_queue(name).map_err(|e| sqs_err(e, OP, name)))
    }

    async fn queue_arn(&self, queue_url: &str) -> CloudResult<String> {
        const OP: &str = "GetQueueAttributes";
        self.gate("sqs", OP, Some(queue_url)).await?;
        self.with(|w, _, _| {
            w.msg
                .queue(queue_url)
                .map(|q| q.arn.clone())
                .map_err(|e| sqs_err(e, OP, queue_url))
        })
    }

    async fn allow_topic_to_queue(&self, queue_url: &str, topic_arn: &str) -> CloudResult<()> {
        const OP: &str = "SetQueueAttributes";
        self.gate("sqs", OP, Some(queue_url)).await?;
        self.with(|w, _, _| {
            w.msg
                .queue_mut(queue_url)
                .map(|q| {
                    q.allowed_topics.insert(topic_arn.to_string());
                })
                .map_err(|e| sqs_err(e, OP, queue_url))
        })
    }

    async fn receive_messages(
        &self,
        queue_url: &str,
        max: i32,
        wait_seconds: i32,
    ) -> CloudResult<Vec<QueueMessage>> {
        const OP: &str = "ReceiveMessage";
        self.gate("sqs", OP, Some(queue_url)).await?;
        if !(1..=10).contains(&max) || !(0..=20).contains(&wait_seconds) {
            return Err(invalid(
                "sqs",
                OP,
                queue_url,
                "MaxNumberOfMessages must be 1–10 and WaitTimeSeconds 0–20",
            ));
        }
        // Long polling: wait (real time) until a message is visible or the wait is over.
        let deadline = self.clock.real_ms() + i64::from(wait_seconds) * 1000;
        loop {
            let got = self.with(|w, _, real| {
                w.msg
                    .receive(queue_url, max as usize, real)
                    .map_err(|e| sqs_err(e, OP, queue_url))
            })?;
            if !got.is_empty() || self.clock.real_ms() >= deadline {
                return Ok(got);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn delete_message(&self, queue_url: &str, receipt_handle: &str) -> CloudResult<()> {
        const OP: &str = "DeleteMessage";
        self.gate("sqs", OP, Some(queue_url)).await?;
        self.with(|w, _, _| {
            w.msg
                .delete(queue_url, receipt_handle)
                .map_err(|e| sqs_err(e, OP, queue_url))
        })
    }

    // ------------------------------------------------------------ Kinesis

    async fn list_streams(&self) -> CloudResult<Vec<String>> {
        self.gate("kinesis", "ListStreams", None).await?;
        self.with(|w, _, _| Ok(w.kinesis.names()))
    }

    async fn list_shards(&self, stream: &str) -> CloudResult<Vec<Shard>> {
        const OP: &str = "ListShards";
        self.gate("kinesis", OP, Some(stream)).await?;
        self.with(|w, now, _| {
            let st = w
                .kinesis
                .stream(stream)
                .map_err(|e| kin_err(e, OP, stream))?;
            // A shard exists once created; closed shards stay listed through the retention.
            let mut shards: Vec<Shard> = st
                .shard_views()
                .into_iter()
                .zip(&st.shards)
                .filter(|(_, d)| d.created <= now)
                .filter(|(_, d)| d.closed.is_none_or(|c| now - c < kinesis::RETENTION_MS))
                .map(|(s, d)| {
                    if d.closed.is_some_and(|c| c > now) {
                        Shard {
                            ending_sequence: None,
                            ..s
                        }
                    } else {
                        s
                    }
                })
                .collect();
            shards.sort_by(|a, b| a.id.cmp(&b.id));
            Ok(shards)
        })
    }

    async fn get_shard_iterator(
        &self,
        stream: &str,
        shard_id: &str,
        position: ShardPosition,
    ) -> CloudResult<String> {
        const OP: &str = "GetShardIterator";
        let res = format!("{stream}/{shard_id}");
        self.gate("kinesis", OP, Some(&res)).await?;
        self.with(|w, now, real| {
            let st = w.kinesis.stream(stream).map_err(|e| kin_err(e, OP, &res))?;
            if let Some(s) = st.shards.iter().find(|s| s.id() == shard_id)
                && s.created > now
            {
                return Err(not_found(
                    "kinesis",
                    OP,
                    &res,
                    format!("Shard {shard_id} does not exist yet"),
                ));
            }
            w.kinesis
                .iterator(stream, shard_id, &position, now, real)
                .map_err(|e| kin_err(e, OP, &res))
        })
    }

    async fn get_records(&self, iterator: &str, limit: Option<i32>) -> CloudResult<RecordBatch> {
        const OP: &str = "GetRecords";
        let res = kinesis_iterator_resource(iterator);
        self.gate("kinesis", OP, Some(&res)).await?;
        self.with(|w, now, real| {
            w.kinesis
                .get_records(iterator, limit, now, real)
                .map_err(|e| kin_err(e, OP, &res))
        })
    }

    async fn put_records(
        &self,
        stream: &str,
        records: Vec<PutRecord>,
    ) -> CloudResult<PutRecordsOutcome> {
        const OP: &str = "PutRecords";
        self.gate("kinesis", OP, Some(stream)).await?;
        self.with(|w, now, _| {
            w.kinesis
                .put(stream, records, now)
                .map(|results| PutRecordsOutcome { results })
                .map_err(|e| kin_err(e, OP, stream))
        })
    }

    // ------------------------------------------------------------ DynamoDB

    async fn get_item(&self, table: &str, key: Item) -> CloudResult<Option<Item>> {
        const OP: &str = "GetItem";
        self.gate("dynamodb", OP, Some(table)).await?;
        self.with(|w, _, _| {
            w.ddb
                .table(table)
                .and_then(|t| t.get(&key))
                .map_err(|e| ddb_err(e, OP, table))
        })
    }

    async fn put_item(
        &self,
        table: &str,
        item: Item,
        condition: Option<Condition>,
    ) -> CloudResult<()> {
        const OP: &str = "PutItem";
        self.gate("dynamodb", OP, Some(table)).await?;
        self.with(|w, _, _| {
            w.ddb
                .table_mut(table)
                .and_then(|t| t.put(item, condition.as_ref()))
                .map_err(|e| ddb_err(e, OP, table))
        })
    }

    async fn query(&self, query: Query) -> CloudResult<Vec<Item>> {
        const OP: &str = "Query";
        let table = query.table.clone();
        self.gate("dynamodb", OP, Some(&table)).await?;
        self.with(|w, _, _| {
            w.ddb
                .table(&table)
                .and_then(|t| t.query(&query))
                .map_err(|e| ddb_err(e, OP, &table))
        })
    }
}

/// "stream/shard" named by an iterator, for error messages (the iterator itself is opaque).
fn kinesis_iterator_resource(iterator: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(iterator)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let mut p = s.split('|').skip(1);
            let stream = p.next()?.to_string();
            let num: u32 = p.next()?.parse().ok()?;
            Some(format!("{stream}/{}", kinesis::shard_id(num)))
        })
        .unwrap_or_else(|| "shard iterator".to_string())
}

fn msg_err(e: messaging::MsgError, op: &str, res: &str) -> CloudError {
    match e {
        messaging::MsgError::NotFound(m) => {
            err(ErrorKind::NotFound, "sns", op, "NotFound", m).with_resource(res)
        }
        messaging::MsgError::Invalid(m) => {
            err(ErrorKind::InvalidRequest, "sns", op, "InvalidParameter", m).with_resource(res)
        }
    }
}

fn sqs_err(e: messaging::MsgError, op: &str, res: &str) -> CloudError {
    match e {
        messaging::MsgError::NotFound(m) => err(
            ErrorKind::NotFound,
            "sqs",
            op,
            "AWS.SimpleQueueService.NonExistentQueue",
            m,
        )
        .with_resource(res),
        messaging::MsgError::Invalid(m) => err(
            ErrorKind::InvalidRequest,
            "sqs",
            op,
            "InvalidParameterValue",
            m,
        )
        .with_resource(res),
    }
}

fn kin_err(e: kinesis::KinError, op: &str, res: &str) -> CloudError {
    match e {
        kinesis::KinError::NotFound(m) => err(
            ErrorKind::NotFound,
            "kinesis",
            op,
            "ResourceNotFoundException",
            m,
        )
        .with_resource(res),
        kinesis::KinError::Invalid(m) => err(
            ErrorKind::InvalidRequest,
            "kinesis",
            op,
            "InvalidArgumentException",
            m,
        )
        .with_resource(res),
        kinesis::KinError::Expired(m) => err(
            ErrorKind::ExpiredIterator,
            "kinesis",
            op,
            "ExpiredIteratorException",
            m,
        )
        .with_resource(res),
    }
}

fn ddb_err(e: dynamodb::DdbError, op: &str, res: &str) -> CloudError {
    match e {
        dynamodb::DdbError::NotFound(m) => err(
            ErrorKind::NotFound,
            "dynamodb",
            op,
            "ResourceNotFoundException",
            m,
        )
        .with_resource(res),
        dynamodb::DdbError::Invalid(m) => err(
            ErrorKind::InvalidRequest,
            "dynamodb",
            op,
            "ValidationException",
            m,
        )
        .with_resource(res),
        dynamodb::DdbError::ConditionFailed(m) => err(
            ErrorKind::ConditionFailed,
            "dynamodb",
            op,
            "ConditionalCheckFailedException",
            m,
        )
        .with_resource(res),
    }
}
