//! From detection to recovery: a legal hold on a recovery point (`P`) and a restore of a
//! recovery point to a new volume (`R`), followed with DescribeRestoreJob until it is terminal.
//!
//! [`last_clean_for_alert`] finds the last clean recovery point for the backup processor's
//! alert from what the processor has: the volume's published counts and its recovery points.
//!
//! The restore never touches the original volume: AWS Backup creates a new one from the
//! snapshot, in the availability zone GetRecoveryPointRestoreMetadata reports for the point
//! (where the original volume lived, so an instance there can attach it), with the role the
//! plan's selection uses.

use super::Ctx;
use super::events::{Event, HoldPlaced, RestoreProgress, Source};
use crate::cloud::{
    Cloud, CloudResult, CreateLegalHold, ErrorKind, GetMetricData, MetricQuery, RecoveryPoint,
    RestoreJob, RestoreJobState, StartRestoreJob, Time, collect_pages,
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

/// The last clean recovery point of a volume whose newest count (at `at`) is a burst: its
/// published `BACKUP_CHANGED_BLOCKS` history over `days` is scored as the processor scores it
/// (bursts above the band only), each count is placed on the newest recovery point created at
/// or before it, and [`crate::detect::last_clean`] picks the point.
pub async fn last_clean_for_alert(
    cloud: &dyn Cloud,
    volume_arn: &str,
    at: Time,
    days: i64,
    band_width: f64,
) -> CloudResult<Option<RecoveryPoint>> {
    let metric = crate::interop::backup_metric(volume_arn);
    let mut history: Vec<(i64, f64)> = cloud
        .get_metric_data(GetMetricData {
            queries: vec![MetricQuery::stat("m1", metric, 3600, "Maximum")],
            start: at - chrono::Duration::days(days),
            end: at,
        })
        .await?
        .into_iter()
        .flat_map(|r| {
            r.timestamps
                .into_iter()
                .map(|t| t.timestamp())
                .zip(r.values)
        })
        .filter(|(t, v)| *t < at.timestamp() && v.is_finite())
        .collect();
    history.sort_by_key(|(t, _)| *t);
    // Judged as the processor and the TUI judge a count: by the interval it covers.
    let mut judge = super::backups::ChangeJudge::new(band_width);
    let mut since = None;
    let mut counts: Vec<(i64, bool)> = Vec::with_capacity(history.len() + 1);
    for (t, v) in history {
        let burst = judge
            .observe(since, t, v)
            .is_ok_and(|d| d.anomalous && d.band.is_some_and(|b| v > b.upper));
        since = Some(t);
        counts.push((t, burst));
    }
    counts.push((at.timestamp(), true));
    let mut points: Vec<RecoveryPoint> =
        collect_pages(|t| cloud.list_recovery_points_by_resource(volume_arn, t))
            .await?
            .into_iter()
            .filter(|p| p.status == "COMPLETED")
            .collect();
    points.sort_by_key(|p| p.created);
    Ok(clean_point_of(&points, &counts).map(|i| points[i].clone()))
}

/// Places each count on the newest point created at or before it and picks the last clean one.
fn clean_point_of(points: &[RecoveryPoint], counts: &[(i64, bool)]) -> Option<usize> {
    let mut flags = vec![false; points.len()];
    for &(t, burst) in counts {
        let i = points.partition_point(|p| p.created.timestamp() <= t);
        // i == 0: the count predates every listed point (they expired); nothing to mark.
        if i > 0 && burst {
            flags[i - 1] = true;
        }
    }
    crate::detect::last_clean::last_clean(&flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: i64) -> RecoveryPoint {
        RecoveryPoint {
            arn: format!("arn:aws:ec2:us-east-1::snapshot/snap-0{day:016x}"),
            resource_arn: "arn:aws:ec2:us-east-1:1:volume/vol-01".into(),
            resource_type: "EBS".into(),
            vault: "Default".into(),
            created: chrono::DateTime::from_timestamp(day * 86_400, 0).unwrap(),
            completed: None,
            status: "COMPLETED".into(),
            size_bytes: None,
        }
    }

    #[test]
    fn counts_land_on_the_point_they_end_and_the_episode_goes_back() {
        let points: Vec<_> = (10..20).map(point).collect();
        // Counts are published when the job completes, minutes after the point's creation.
        let at = |day: i64| day * 86_400 + 600;
        let mut counts: Vec<(i64, bool)> = (11..20).map(|d| (at(d), false)).collect();
        assert_eq!(clean_point_of(&points, &counts), None);
        // A slow encryption over days 17, 18 and 19: day 16's point is the last clean one.
        for c in counts.iter_mut().filter(|(t, _)| *t >= at(17)) {
            c.1 = true;
        }
        assert_eq!(clean_point_of(&points, &counts), Some(6));
        assert_eq!(points[6].created.timestamp(), 16 * 86_400);
    }
}
