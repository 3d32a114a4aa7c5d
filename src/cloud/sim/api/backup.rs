//! AWS Backup answered from the world's volumes, recovery points and jobs ([`crate::cloud::sim::backup`]):
//! protected resources, recovery points by resource and by vault, backup jobs, the plan and
//! its selection, tags, legal holds, restore metadata and restore jobs.

use super::errors::*;
use crate::cloud::sim::SimCloud;
use crate::cloud::sim::backup::{self, DEFAULT_VAULT};
use crate::cloud::sim::clock::{self, to_time};
use crate::cloud::sim::ebs::{BLOCK_SIZE, BLOCKS_PER_GIB};
use crate::cloud::sim::world::World;
use crate::cloud::{
    BackupJob, BackupPlan, BackupRule, BackupSelection, CloudResult, CreateLegalHold, ErrorKind,
    LegalHold, Page, ProtectedResource, RecoveryPoint, RestoreJob, StartBackupJob, StartRestoreJob,
};
use std::collections::BTreeMap;

pub(crate) async fn list_protected_resources(
    sim: &SimCloud,
    next_token: Option<String>,
) -> CloudResult<Page<ProtectedResource>> {
    const OP: &str = "ListProtectedResources";
    sim.gate("backup", OP, None).await?;
    sim.with(|w, now, _| {
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
        let more =
            (v..w.backup.volumes.len()).any(|i| w.backup.latest_completed(i as u32, now).is_some());
        Ok(Page {
            items,
            next_token: more.then(|| format!("pr:{v}")),
        })
    })
}

pub(crate) async fn list_recovery_points_by_resource(
    sim: &SimCloud,
    resource_arn: &str,
    next_token: Option<String>,
) -> CloudResult<Page<RecoveryPoint>> {
    const OP: &str = "ListRecoveryPointsByResource";
    sim.gate("backup", OP, Some(resource_arn)).await?;
    sim.with(|w, now, _| {
        let from = offset_token("rp:", next_token.as_deref())
            .map_err(|_| invalid("backup", OP, resource_arn, "invalid NextToken"))?;
        let Some(v) = w.backup.volume_by_arn(resource_arn).map(|v| v.idx) else {
            if crate::interop::volume_id_in(resource_arn).is_none() {
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
            .map(|s| recovery_point(w, v, *s))
            .collect();
        let end = from + items.len();
        Ok(Page {
            items,
            next_token: (end < snaps.len()).then(|| format!("rp:{end}")),
        })
    })
}

pub(crate) async fn list_recovery_points_by_vault(
    sim: &SimCloud,
    vault: &str,
    next_token: Option<String>,
) -> CloudResult<Page<RecoveryPoint>> {
    const OP: &str = "ListRecoveryPointsByBackupVault";
    sim.gate("backup", OP, Some(vault)).await?;
    sim.with(|w, now, _| {
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
                    .map(|s| recovery_point(w, v as u32, *s)),
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

pub(crate) async fn start_backup_job(
    sim: &SimCloud,
    request: StartBackupJob,
) -> CloudResult<String> {
    const OP: &str = "StartBackupJob";
    sim.gate("backup", OP, Some(&request.resource_arn)).await?;
    sim.with(|w, now, _| {
        if crate::interop::volume_id_in(&request.resource_arn).is_none() {
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

pub(crate) async fn describe_backup_job(sim: &SimCloud, job_id: &str) -> CloudResult<BackupJob> {
    const OP: &str = "DescribeBackupJob";
    sim.gate("backup", OP, Some(job_id)).await?;
    sim.with(|w, now, _| {
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

pub(crate) async fn list_backup_plans(sim: &SimCloud) -> CloudResult<Vec<BackupPlan>> {
    sim.gate("backup", "ListBackupPlans", None).await?;
    sim.with(|w, _, _| {
        // No lifecycle: the changed-block pipeline sets none, and the world keeps every daily point (60+ days
        // by default, 365 at scale), which a DeleteAfterDays would contradict on AWS.
        Ok(vec![BackupPlan {
            id: w.backup.plan_id.clone(),
            name: "ebs-changed-block-anomaly-plan".into(),
            rules: vec![
                BackupRule {
                    name: "daily".into(),
                    schedule: crate::interop::DAILY_BACKUP_SCHEDULE.into(),
                    vault: DEFAULT_VAULT.into(),
                    delete_after_days: None,
                },
                BackupRule {
                    name: "monthly".into(),
                    schedule: crate::interop::MONTHLY_BACKUP_SCHEDULE.into(),
                    vault: DEFAULT_VAULT.into(),
                    delete_after_days: None,
                },
            ],
        }])
    })
}

pub(crate) async fn list_backup_selections(
    sim: &SimCloud,
    plan_id: &str,
) -> CloudResult<Vec<BackupSelection>> {
    const OP: &str = "ListBackupSelections";
    sim.gate("backup", OP, Some(plan_id)).await?;
    sim.with(|w, _, _| {
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
            tag_keys: vec![crate::interop::DEFAULT_BACKUP_TAG_KEY.into()],
        }])
    })
}

pub(crate) async fn list_tags(
    sim: &SimCloud,
    resource_arn: &str,
) -> CloudResult<BTreeMap<String, String>> {
    const OP: &str = "ListTags";
    sim.gate("backup", OP, Some(resource_arn)).await?;
    sim.with(|w, _, _| {
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
            crate::interop::DEFAULT_BACKUP_TAG_KEY.to_string(),
            "daily".to_string(),
        );
        Ok(tags)
    })
}

/// The (volume, snapshot) of a completed recovery point of this account, or the error AWS
/// Backup answers for an unknown one.
fn completed_point(
    w: &World,
    now: i64,
    op: &str,
    recovery_point_arn: &str,
) -> CloudResult<(u32, backup::Snap)> {
    crate::cloud::arn::snapshot_id_in(recovery_point_arn)
        .and_then(|id| w.backup.decode_snapshot(id))
        .and_then(|(v, seq)| Some((v, w.backup.snap(v, seq)?)))
        .filter(|(_, s)| s.completed <= now)
        .ok_or_else(|| {
            not_found(
                "backup",
                op,
                recovery_point_arn,
                format!("Recovery point {recovery_point_arn} not found"),
            )
        })
}

pub(crate) async fn create_legal_hold(
    sim: &SimCloud,
    request: CreateLegalHold,
) -> CloudResult<LegalHold> {
    const OP: &str = "CreateLegalHold";
    sim.gate("backup", OP, Some(&request.resource_arn)).await?;
    sim.with(|w, now, _| {
        if request.title.trim().is_empty() {
            return Err(invalid(
                "backup",
                OP,
                &request.resource_arn,
                "Title is required",
            ));
        }
        if request.vault != DEFAULT_VAULT {
            return Err(not_found(
                "backup",
                OP,
                &request.vault,
                format!("Backup vault {} does not exist", request.vault),
            ));
        }
        let view = |h: &backup::Hold| LegalHold {
            id: h.id.clone(),
            arn: format!(
                "arn:aws:backup:{}:{}:legal-hold:{}",
                w.backup.region, w.backup.account, h.id
            ),
            status: "ACTIVE".into(),
            title: h.title.clone(),
            created: to_time(h.created),
        };
        if let Some(tok) = &request.idempotency_token
            && let Some(h) = w
                .backup
                .holds
                .iter()
                .find(|h| h.idempotency_token.as_deref() == Some(tok.as_str()))
        {
            return Ok(view(h));
        }
        let from = request.recovery_point_created.timestamp_millis();
        let hold = backup::Hold {
            id: w.ids.uuid(),
            title: request.title.clone(),
            resource_arn: request.resource_arn.clone(),
            vault: request.vault.clone(),
            from,
            to: from + clock::SECOND_MS,
            created: now,
            idempotency_token: request.idempotency_token.clone(),
        };
        let out = view(&hold);
        w.backup.holds.push(hold);
        Ok(out)
    })
}

pub(crate) async fn get_recovery_point_restore_metadata(
    sim: &SimCloud,
    vault: &str,
    recovery_point_arn: &str,
) -> CloudResult<BTreeMap<String, String>> {
    const OP: &str = "GetRecoveryPointRestoreMetadata";
    sim.gate("backup", OP, Some(recovery_point_arn)).await?;
    sim.with(|w, now, _| {
        if vault != DEFAULT_VAULT {
            return Err(not_found(
                "backup",
                OP,
                vault,
                format!("Backup vault {vault} does not exist"),
            ));
        }
        let (v, _) = completed_point(w, now, OP, recovery_point_arn)?;
        let vol = &w.backup.volumes[v as usize];
        // The keys AWS Backup answers for an EBS recovery point.
        Ok(BTreeMap::from([
            ("availabilityZone".into(), w.backup.availability_zone(v)),
            ("encrypted".into(), "false".into()),
            ("volumeId".into(), vol.id.clone()),
            ("volumeSize".into(), vol.size_gib.to_string()),
            ("volumeType".into(), "gp3".into()),
        ]))
    })
}

pub(crate) async fn start_restore_job(
    sim: &SimCloud,
    request: StartRestoreJob,
) -> CloudResult<String> {
    const OP: &str = "StartRestoreJob";
    let rp = request.recovery_point_arn.clone();
    sim.gate("backup", OP, Some(&rp)).await?;
    sim.with(|w, now, _| {
        if request.resource_type != "EBS" {
            return Err(invalid(
                "backup",
                OP,
                &rp,
                format!(
                    "Invalid resource type {:?}: the demo account restores EBS volumes",
                    request.resource_type
                ),
            ));
        }
        if let Some(tok) = &request.idempotency_token
            && let Some(r) = w.backup.restores.iter().find(|r| {
                r.idempotency_token.as_deref() == Some(tok.as_str())
                    && now - r.created < clock::DAY_MS
            })
        {
            return Ok(r.id.clone());
        }
        let (v, _) = completed_point(w, now, OP, &rp)?;
        let Some(zone) = request.metadata.get("availabilityZone") else {
            return Err(invalid(
                "backup",
                OP,
                &rp,
                "Metadata availabilityZone is required to restore an EBS volume",
            ));
        };
        let size_gib = w.backup.volumes[v as usize].size_gib;
        // Like a backup job's, a restore with a role AWS Backup cannot assume is accepted and
        // fails a little later.
        let new_volume = format!("vol-0{:016x}", w.ids.next_u64());
        let outcome = if !w.backup.known_role(&request.iam_role_arn) {
            Err(
                "Insufficient privileges: AWS Backup could not assume the IAM role given for the restore; check the role ARN and its trust policy"
                    .to_string(),
            )
        } else if !zone.starts_with(&w.backup.region) {
            Err(format!(
                "Invalid availability zone {zone}: it is not in {}",
                w.backup.region
            ))
        } else {
            Ok(new_volume)
        };
        let id = w.ids.uuid().to_uppercase();
        Ok(w.backup.start_restore(
            id,
            &rp,
            size_gib,
            outcome,
            now,
            request.idempotency_token.clone(),
        ))
    })
}

pub(crate) async fn describe_restore_job(sim: &SimCloud, job_id: &str) -> CloudResult<RestoreJob> {
    const OP: &str = "DescribeRestoreJob";
    sim.gate("backup", OP, Some(job_id)).await?;
    sim.with(|w, now, _| {
        let r = w
            .backup
            .restores
            .iter()
            .find(|r| r.id == job_id)
            .ok_or_else(|| {
                not_found(
                    "backup",
                    OP,
                    job_id,
                    format!("Restore job {job_id} not found"),
                )
            })?;
        Ok(w.backup.restore_view(r, now))
    })
}

/// Page size of the Backup listings (AWS's default MaxResults is larger; a smaller page keeps
/// the paging paths exercised).
const BACKUP_PAGE: usize = 100;

fn offset_token(prefix: &str, token: Option<&str>) -> Result<usize, ()> {
    match token {
        None => Ok(0),
        Some(t) => t
            .strip_prefix(prefix)
            .and_then(|x| x.parse().ok())
            .ok_or(()),
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
            (vol.size_gib as f64 * vol.used_frac) as i64 * BLOCKS_PER_GIB * i64::from(BLOCK_SIZE),
        ),
    }
}
