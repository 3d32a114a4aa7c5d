//! From detection to recovery: a legal hold on a recovery point (`P`) and a restore of a
//! recovery point to a new volume (`R`), followed with DescribeRestoreJob until it is terminal.
//!
//! The restore never touches the original volume: AWS Backup creates a new one from the
//! snapshot, in the availability zone GetRecoveryPointRestoreMetadata reports for the point
//! (where the original volume lived, so an instance there can attach it), with the role the
//! plan's selection uses.

use super::Ctx;
use super::events::{Event, HoldPlaced, RestoreProgress, Source};
use crate::cloud::{
    CreateLegalHold, ErrorKind, RestoreJob, RestoreJobState, StartRestoreJob, Time,
};
use crate::sanitize::clean;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The EBS restore metadata keys StartRestoreJob accepts; the rest of what
/// GetRecoveryPointRestoreMetadata answers (the old `volumeId`) describes the original.
const EBS_RESTORE_KEYS: [&str; 7] = [
    "availabilityZone",
    "encrypted",
    "kmsKeyId",
    "volumeType",
    "volumeSize",
    "iops",
    "throughput",
];

fn volume_id(arn: &str) -> &str {
    crate::interop::volume_id_in(arn).unwrap_or(arn)
}

/// Places a legal hold on one recovery point of the volume.
pub(crate) async fn protect(
    ctx: &Arc<Ctx>,
    volume_arn: String,
    recovery_point_arn: String,
    vault: String,
    created: Time,
) {
    let snapshot = crate::cloud::arn::snapshot_id_in(&recovery_point_arn)
        .unwrap_or(&recovery_point_arn)
        .to_string();
    let request = CreateLegalHold {
        title: format!("watchband incident {}", volume_id(&volume_arn)),
        description: format!(
            "Last clean recovery point {snapshot} of {volume_arn}, held by watchband while the \
             changed-block anomaly is investigated; cancel the hold when the incident is closed."
        ),
        resource_arn: volume_arn.clone(),
        vault,
        recovery_point_created: created,
        // One hold per recovery point: a retried or repeated P does not stack holds.
        idempotency_token: Some(format!("watchband-hold-{snapshot}")),
    };
    match ctx
        .call(Source::Backups, || {
            ctx.cloud.create_legal_hold(request.clone())
        })
        .await
    {
        Ok(hold) => {
            let _ = ctx
                .emit(Event::Hold(HoldPlaced {
                    volume_arn: clean(&volume_arn),
                    recovery_point_arn: clean(&recovery_point_arn),
                    hold_id: clean(&hold.id),
                    status: clean(&hold.status),
                }))
                .await;
            ctx.done(
                "protect",
                format!(
                    "legal hold {} ({}) protects {snapshot} of {}",
                    hold.id,
                    hold.status,
                    volume_id(&volume_arn)
                ),
            )
            .await;
        }
        Err(e) => {
            ctx.fail(
                "protect",
                format!("legal hold on {snapshot} not placed: {e}"),
            )
            .await
        }
    }
}

/// Reads the point's restore metadata, starts the restore job and follows it in its own task.
pub(crate) async fn restore(
    ctx: &Arc<Ctx>,
    volume_arn: String,
    recovery_point_arn: String,
    vault: String,
    iam_role_arn: String,
) {
    let metadata = match ctx
        .call(Source::Backups, || {
            ctx.cloud
                .get_recovery_point_restore_metadata(&vault, &recovery_point_arn)
        })
        .await
    {
        Ok(m) => m,
        Err(e) => {
            ctx.fail(
                "restore",
                format!("restore of {recovery_point_arn} not started: {e}"),
            )
            .await;
            return;
        }
    };
    let metadata: BTreeMap<String, String> = metadata
        .into_iter()
        .filter(|(k, _)| EBS_RESTORE_KEYS.contains(&k.as_str()))
        .collect();
    let Some(zone) = metadata.get("availabilityZone").cloned() else {
        ctx.fail(
            "restore",
            format!(
                "restore of {recovery_point_arn} not started: its restore metadata names no \
                 availabilityZone, and watchband restores only into the original volume's zone"
            ),
        )
        .await;
        return;
    };
    let request = StartRestoreJob {
        recovery_point_arn: recovery_point_arn.clone(),
        iam_role_arn: iam_role_arn.clone(),
        resource_type: "EBS".into(),
        metadata,
        idempotency_token: Some(format!(
            "watchband-restore-{}-{}",
            crate::cloud::arn::snapshot_id_in(&recovery_point_arn).unwrap_or("point"),
            ctx.cloud.now().timestamp_millis()
        )),
    };
    let job_id = match ctx
        .call(Source::Backups, || {
            ctx.cloud.start_restore_job(request.clone())
        })
        .await
    {
        Ok(id) => id,
        Err(e) => {
            ctx.fail(
                "restore",
                format!(
                    "restore of {recovery_point_arn} into {zone} with role {iam_role_arn} not \
                     started: {e}"
                ),
            )
            .await;
            return;
        }
    };
    ctx.done(
        "restore",
        format!("restore job {job_id} started: a new volume in {zone} from {recovery_point_arn}"),
    )
    .await;
    tokio::spawn(follow_restore(ctx.clone(), job_id, volume_arn, zone));
}

/// Polls the restore job until it is terminal, sending its progress on each poll.
async fn follow_restore(ctx: Arc<Ctx>, job_id: String, volume_arn: String, zone: String) {
    loop {
        match ctx
            .call(Source::Backups, || ctx.cloud.describe_restore_job(&job_id))
            .await
        {
            Ok(job) => {
                let progress = progress_of(&job, &volume_arn, &zone);
                if !ctx.emit(Event::Restore(progress.clone())).await {
                    return;
                }
                if job.state.is_terminal() {
                    match (&progress.new_volume_id, job.state) {
                        (Some(new), RestoreJobState::Completed) => {
                            ctx.done(
                                "restore",
                                format!(
                                    "restore job {} COMPLETED: new volume {new} in {zone} from {}",
                                    progress.job_id, progress.recovery_point_arn
                                ),
                            )
                            .await
                        }
                        _ => {
                            ctx.fail(
                                "restore",
                                format!(
                                    "restore job {} {}{}",
                                    progress.job_id,
                                    job.state.as_aws(),
                                    progress
                                        .status_message
                                        .as_deref()
                                        .map(|m| format!(": {m}"))
                                        .unwrap_or_default()
                                ),
                            )
                            .await
                        }
                    }
                    return;
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                ctx.fail("restore", format!("restore job {job_id} vanished: {e}"))
                    .await;
                return;
            }
            // Other errors were reported to health; keep following the job.
            Err(_) => {}
        }
        tokio::time::sleep(ctx.config.intervals.job).await;
    }
}

fn progress_of(job: &RestoreJob, volume_arn: &str, zone: &str) -> RestoreProgress {
    RestoreProgress {
        job_id: clean(&job.id),
        volume_arn: clean(volume_arn),
        recovery_point_arn: clean(&job.recovery_point_arn),
        availability_zone: clean(zone),
        state: job.state,
        percent_done: job.percent_done.clamp(0.0, 100.0),
        status_message: job.status_message.as_deref().map(clean),
        // What follows `:volume/`, even when it is not a well-formed id: the operator still
        // needs to see what AWS created.
        new_volume_id: job
            .created_resource_arn
            .as_deref()
            .map(|arn| clean(arn.rsplit_once(":volume/").map_or(arn, |(_, id)| id))),
        created: job.created,
        completed: job.completed,
    }
}
