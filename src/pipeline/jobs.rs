//! On-demand backups (the changed-block pipeline's walkthrough): StartBackupJob, then DescribeBackupJob polling
//! that reports progress until the job is terminal; a completed job wakes the backups
//! collector so the new snapshot pair is counted right away.

use super::Ctx;
use super::events::{Event, JobProgress, Source};
use crate::cloud::{BackupJob, StartBackupJob};
use crate::sanitize::clean;
use std::sync::Arc;

/// Starts the job and follows it in its own task; the command loop is not held up.
pub(crate) async fn start_backup(ctx: &Arc<Ctx>, volume_arn: String, vault: String, role: String) {
    let request = StartBackupJob {
        vault: vault.clone(),
        resource_arn: volume_arn.clone(),
        iam_role_arn: role.clone(),
        // One token per request: a start retried after a lost answer does not start twice.
        idempotency_token: Some(format!(
            "watchband-{}-{}",
            crate::interop::volume_id_in(&volume_arn).unwrap_or("resource"),
            ctx.cloud.now().timestamp_millis()
        )),
    };
    let started = ctx
        .call(Source::Backups, || {
            ctx.cloud.start_backup_job(request.clone())
        })
        .await;
    let job_id = match started {
        Ok(id) => id,
        Err(e) => {
            ctx.fail(
                "start backup",
                format!(
                    "backup of {volume_arn} to vault {vault} with role {role} not started: {e}"
                ),
            )
            .await;
            return;
        }
    };
    ctx.done(
        "start backup",
        format!("backup job {job_id} started for {volume_arn}"),
    )
    .await;
    tokio::spawn(follow_job(ctx.clone(), job_id));
}

/// Polls the job until it is terminal, sending its progress on each poll.
pub(crate) async fn follow_job(ctx: Arc<Ctx>, job_id: String) {
    loop {
        match ctx
            .call(Source::Backups, || ctx.cloud.describe_backup_job(&job_id))
            .await
        {
            Ok(job) => {
                let terminal = job.state.is_terminal();
                let progress = progress_of(&job);
                if !ctx.emit(Event::Job(progress.clone())).await {
                    return;
                }
                if terminal {
                    let outcome = match &progress.status_message {
                        Some(reason) if job.state != crate::cloud::BackupJobState::Completed => {
                            format!(
                                "backup job {} of {} {}: {reason}",
                                job.id,
                                progress.volume_arn,
                                job.state.as_aws()
                            )
                        }
                        _ => format!(
                            "backup job {} of {} {}",
                            job.id,
                            progress.volume_arn,
                            job.state.as_aws()
                        ),
                    };
                    if job.state == crate::cloud::BackupJobState::Completed {
                        ctx.done("start backup", outcome).await;
                        // Count the new pair now rather than at the next poll.
                        ctx.refresh.all();
                    } else {
                        ctx.fail("start backup", outcome).await;
                    }
                    return;
                }
            }
            Err(e) if e.kind == crate::cloud::ErrorKind::NotFound => {
                ctx.fail("start backup", format!("backup job {job_id} vanished: {e}"))
                    .await;
                return;
            }
            // Other errors were reported to health; keep following the job.
            Err(_) => {}
        }
        tokio::time::sleep(ctx.config.intervals.job).await;
    }
}

fn progress_of(job: &BackupJob) -> JobProgress {
    JobProgress {
        job_id: clean(&job.id),
        volume_arn: clean(&job.resource_arn),
        vault: clean(&job.vault),
        state: job.state,
        percent_done: job.percent_done.clamp(0.0, 100.0),
        status_message: job.status_message.as_deref().map(clean),
        recovery_point_arn: job.recovery_point_arn.as_deref().map(clean),
        created: job.created,
        completed: job.completed,
    }
}
