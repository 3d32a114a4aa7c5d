//! AWS Backup: protected resources, recovery points, on-demand jobs, plans and selections,
//! tags, and recovery (legal holds, restore metadata, restore jobs). Names come from Backup's
//! resource name (the volume's `Name` tag when it has one).

use super::convert::{clean, clean_opt, from_time, opt_time, to_time};
use super::errors::map_sdk_error;
use crate::cloud::{
    BackupJob, BackupJobState, BackupPlan, BackupRule, BackupSelection, CloudError, CloudResult,
    CreateLegalHold, ErrorKind, LegalHold, Page, ProtectedResource, RecoveryPoint, RestoreJob,
    RestoreJobState, StartBackupJob, StartRestoreJob,
};
use aws_sdk_backup::Client;
use std::collections::BTreeMap;

const SERVICE: &str = "backup";

/// "EBS" for a volume ARN, "EC2" for an instance, else the ARN's service.
fn resource_type_of(arn: &str) -> String {
    if arn.contains(":volume/") {
        "EBS".into()
    } else if arn.contains(":instance/") {
        "EC2".into()
    } else {
        arn.split(':')
            .nth(2)
            .unwrap_or_default()
            .to_ascii_uppercase()
    }
}

fn page_token(t: Option<&str>) -> Option<String> {
    t.filter(|t| !t.is_empty()).map(str::to_string)
}

pub async fn list_protected_resources(
    c: &Client,
    next_token: Option<String>,
) -> CloudResult<Page<ProtectedResource>> {
    let out = c
        .list_protected_resources()
        .set_next_token(next_token)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "ListProtectedResources", None, e))?;
    Ok(Page {
        items: out
            .results()
            .iter()
            .map(|r| ProtectedResource {
                arn: clean(r.resource_arn()),
                resource_type: clean(r.resource_type()),
                name: clean_opt(r.resource_name()).filter(|n| !n.is_empty()),
                last_backup: opt_time(r.last_backup_time()),
            })
            .collect(),
        next_token: page_token(out.next_token()),
    })
}

pub async fn list_recovery_points_by_resource(
    c: &Client,
    resource_arn: &str,
    next_token: Option<String>,
) -> CloudResult<Page<RecoveryPoint>> {
    let out = c
        .list_recovery_points_by_resource()
        .resource_arn(resource_arn)
        .set_next_token(next_token)
        .send()
        .await
        .map_err(|e| {
            map_sdk_error(
                SERVICE,
                "ListRecoveryPointsByResource",
                Some(resource_arn),
                e,
            )
        })?;
    Ok(Page {
        items: out
            .recovery_points()
            .iter()
            .map(|p| RecoveryPoint {
                arn: clean(p.recovery_point_arn()),
                resource_arn: crate::sanitize::clean(resource_arn),
                resource_type: resource_type_of(resource_arn),
                vault: clean(p.backup_vault_name()),
                created: p.creation_date().map(to_time).unwrap_or_default(),
                // ByResource does not report a completion time; a COMPLETED point is complete.
                completed: None,
                status: clean(p.status().map(|s| s.as_str())),
                size_bytes: p.backup_size_bytes(),
            })
            .collect(),
        next_token: page_token(out.next_token()),
    })
}

pub async fn list_recovery_points_by_vault(
    c: &Client,
    vault: &str,
    next_token: Option<String>,
) -> CloudResult<Page<RecoveryPoint>> {
    let out = c
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(vault)
        .set_next_token(next_token)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "ListRecoveryPointsByBackupVault", Some(vault), e))?;
    Ok(Page {
        items: out
            .recovery_points()
            .iter()
            .map(|p| RecoveryPoint {
                arn: clean(p.recovery_point_arn()),
                resource_arn: clean(p.resource_arn()),
                resource_type: clean(p.resource_type()),
                vault: clean(p.backup_vault_name()),
                created: p.creation_date().map(to_time).unwrap_or_default(),
                completed: opt_time(p.completion_date()),
                status: clean(p.status().map(|s| s.as_str())),
                size_bytes: p.backup_size_in_bytes(),
            })
            .collect(),
        next_token: page_token(out.next_token()),
    })
}

pub async fn start_backup_job(c: &Client, r: StartBackupJob) -> CloudResult<String> {
    let out = c
        .start_backup_job()
        .backup_vault_name(&r.vault)
        .resource_arn(&r.resource_arn)
        .iam_role_arn(&r.iam_role_arn)
        .set_idempotency_token(r.idempotency_token.clone())
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "StartBackupJob", Some(&r.resource_arn), e))?;
    out.backup_job_id()
        .map(crate::sanitize::clean)
        .ok_or_else(|| {
            CloudError::new(
                ErrorKind::Other,
                SERVICE,
                "StartBackupJob",
                "no job id in the answer",
            )
            .with_resource(&r.resource_arn)
        })
}

pub async fn describe_backup_job(c: &Client, job_id: &str) -> CloudResult<BackupJob> {
    let out = c
        .describe_backup_job()
        .backup_job_id(job_id)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "DescribeBackupJob", Some(job_id), e))?;
    let state_text = out.state().map(|s| s.as_str()).unwrap_or_default();
    let state = BackupJobState::from_aws(state_text).ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            SERVICE,
            "DescribeBackupJob",
            format!("unknown job state {state_text:?}"),
        )
        .with_resource(job_id)
    })?;
    Ok(BackupJob {
        id: crate::sanitize::clean(out.backup_job_id().unwrap_or(job_id)),
        state,
        percent_done: percent(out.percent_done(), state == BackupJobState::Completed),
        status_message: clean_opt(out.status_message()),
        resource_arn: clean(out.resource_arn()),
        vault: clean(out.backup_vault_name()),
        recovery_point_arn: clean_opt(out.recovery_point_arn()),
        created: out.creation_date().map(to_time).unwrap_or_default(),
        completed: opt_time(out.completion_date()),
    })
}

pub async fn list_backup_plans(c: &Client) -> CloudResult<Vec<BackupPlan>> {
    let mut plans = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .list_backup_plans()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListBackupPlans", None, e))?;
        for p in out.backup_plans_list() {
            let Some(id) = p.backup_plan_id() else {
                continue;
            };
            let detail = c
                .get_backup_plan()
                .backup_plan_id(id)
                .send()
                .await
                .map_err(|e| map_sdk_error(SERVICE, "GetBackupPlan", Some(id), e))?;
            let rules = detail
                .backup_plan()
                .map(|bp| {
                    bp.rules()
                        .iter()
                        .map(|r| BackupRule {
                            name: crate::sanitize::clean(r.rule_name()),
                            schedule: clean(r.schedule_expression()),
                            vault: crate::sanitize::clean(r.target_backup_vault_name()),
                            delete_after_days: r.lifecycle().and_then(|l| l.delete_after_days()),
                        })
                        .collect()
                })
                .unwrap_or_default();
            plans.push(BackupPlan {
                id: crate::sanitize::clean(id),
                name: clean(p.backup_plan_name()),
                rules,
            });
        }
        match page_token(out.next_token()) {
            Some(t) => token = Some(t),
            None => return Ok(plans),
        }
    }
}

pub async fn list_backup_selections(
    c: &Client,
    plan_id: &str,
) -> CloudResult<Vec<BackupSelection>> {
    let mut selections = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .list_backup_selections()
            .backup_plan_id(plan_id)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListBackupSelections", Some(plan_id), e))?;
        for s in out.backup_selections_list() {
            let Some(id) = s.selection_id() else { continue };
            let detail = c
                .get_backup_selection()
                .backup_plan_id(plan_id)
                .selection_id(id)
                .send()
                .await
                .map_err(|e| map_sdk_error(SERVICE, "GetBackupSelection", Some(id), e))?;
            let Some(sel) = detail.backup_selection() else {
                continue;
            };
            let mut tag_keys: Vec<String> = sel
                .list_of_tags()
                .iter()
                .map(|t| tag_key(t.condition_key()))
                .collect();
            if let Some(cond) = sel.conditions() {
                for p in cond.string_equals().iter().chain(cond.string_like()) {
                    tag_keys.push(tag_key(p.condition_key().unwrap_or_default()));
                }
            }
            tag_keys.sort();
            tag_keys.dedup();
            selections.push(BackupSelection {
                plan_id: crate::sanitize::clean(plan_id),
                id: crate::sanitize::clean(id),
                name: crate::sanitize::clean(sel.selection_name()),
                iam_role_arn: crate::sanitize::clean(sel.iam_role_arn()),
                resources: sel
                    .resources()
                    .iter()
                    .map(|r| crate::sanitize::clean(r))
                    .collect(),
                tag_keys,
            });
        }
        match page_token(out.next_token()) {
            Some(t) => token = Some(t),
            None => return Ok(selections),
        }
    }
}

/// `aws:ResourceTag/backup` → `backup`.
fn tag_key(k: &str) -> String {
    crate::sanitize::clean(k.strip_prefix("aws:ResourceTag/").unwrap_or(k))
}

pub async fn list_tags(c: &Client, resource_arn: &str) -> CloudResult<BTreeMap<String, String>> {
    let mut tags = BTreeMap::new();
    let mut token = None;
    loop {
        let out = c
            .list_tags()
            .resource_arn(resource_arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListTags", Some(resource_arn), e))?;
        for (k, v) in out.tags().into_iter().flatten() {
            tags.insert(crate::sanitize::clean(k), crate::sanitize::clean(v));
        }
        match page_token(out.next_token()) {
            Some(t) => token = Some(t),
            None => return Ok(tags),
        }
    }
}

fn missing(op: &str, what: &str, resource: &str) -> CloudError {
    CloudError::new(
        ErrorKind::Other,
        SERVICE,
        op,
        format!("no {what} in the answer"),
    )
    .with_resource(resource)
}

/// The 0–100 share of AWS's `PercentDone` ("42.00%"), 100 once complete.
fn percent(text: Option<&str>, complete: bool) -> f64 {
    text.and_then(|p| p.trim().trim_end_matches('%').parse().ok())
        .unwrap_or(if complete { 100.0 } else { 0.0 })
}

pub async fn create_legal_hold(c: &Client, r: CreateLegalHold) -> CloudResult<LegalHold> {
    const OP: &str = "CreateLegalHold";
    let range = aws_sdk_backup::types::DateRange::builder()
        .from_date(from_time(r.recovery_point_created))
        .to_date(from_time(
            r.recovery_point_created + chrono::Duration::seconds(1),
        ))
        .build()
        .map_err(|e| {
            CloudError::new(ErrorKind::InvalidRequest, SERVICE, OP, e.to_string())
                .with_resource(&r.resource_arn)
        })?;
    let selection = aws_sdk_backup::types::RecoveryPointSelection::builder()
        .vault_names(&r.vault)
        .resource_identifiers(&r.resource_arn)
        .date_range(range)
        .build();
    let out = c
        .create_legal_hold()
        .title(&r.title)
        .description(&r.description)
        .set_idempotency_token(r.idempotency_token.clone())
        .recovery_point_selection(selection)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, OP, Some(&r.resource_arn), e))?;
    Ok(LegalHold {
        id: clean_opt(out.legal_hold_id())
            .ok_or_else(|| missing(OP, "legal hold id", &r.resource_arn))?,
        arn: clean(out.legal_hold_arn()),
        status: clean(out.status().map(|s| s.as_str())),
        title: clean(out.title()),
        created: out.creation_date().map(to_time).unwrap_or_default(),
    })
}

pub async fn get_recovery_point_restore_metadata(
    c: &Client,
    vault: &str,
    recovery_point_arn: &str,
) -> CloudResult<BTreeMap<String, String>> {
    let out = c
        .get_recovery_point_restore_metadata()
        .backup_vault_name(vault)
        .recovery_point_arn(recovery_point_arn)
        .send()
        .await
        .map_err(|e| {
            map_sdk_error(
                SERVICE,
                "GetRecoveryPointRestoreMetadata",
                Some(recovery_point_arn),
                e,
            )
        })?;
    Ok(out
        .restore_metadata()
        .into_iter()
        .flatten()
        .map(|(k, v)| (crate::sanitize::clean(k), crate::sanitize::clean(v)))
        .collect())
}

pub async fn start_restore_job(c: &Client, r: StartRestoreJob) -> CloudResult<String> {
    const OP: &str = "StartRestoreJob";
    let out = c
        .start_restore_job()
        .recovery_point_arn(&r.recovery_point_arn)
        .iam_role_arn(&r.iam_role_arn)
        .resource_type(&r.resource_type)
        .set_metadata(Some(r.metadata.clone().into_iter().collect()))
        .set_idempotency_token(r.idempotency_token.clone())
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, OP, Some(&r.recovery_point_arn), e))?;
    clean_opt(out.restore_job_id()).ok_or_else(|| missing(OP, "job id", &r.recovery_point_arn))
}

pub async fn describe_restore_job(c: &Client, job_id: &str) -> CloudResult<RestoreJob> {
    const OP: &str = "DescribeRestoreJob";
    let out = c
        .describe_restore_job()
        .restore_job_id(job_id)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, OP, Some(job_id), e))?;
    let state_text = out.status().map(|s| s.as_str()).unwrap_or_default();
    let state = RestoreJobState::from_aws(state_text).ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            SERVICE,
            OP,
            format!(
                "unknown restore job status {:?}",
                crate::sanitize::clean(state_text)
            ),
        )
        .with_resource(job_id)
    })?;
    Ok(RestoreJob {
        id: crate::sanitize::clean(out.restore_job_id().unwrap_or(job_id)),
        state,
        percent_done: percent(out.percent_done(), state == RestoreJobState::Completed),
        status_message: clean_opt(out.status_message()).filter(|m| !m.is_empty()),
        recovery_point_arn: clean(out.recovery_point_arn()),
        created_resource_arn: clean_opt(out.created_resource_arn()).filter(|a| !a.is_empty()),
        expected_minutes: out.expected_completion_time_minutes(),
        created: out.creation_date().map(to_time).unwrap_or_default(),
        completed: opt_time(out.completion_date()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_from_arns() {
        assert_eq!(
            resource_type_of("arn:aws:ec2:eu-west-1:1:volume/vol-1"),
            "EBS"
        );
        assert_eq!(
            resource_type_of("arn:aws:ec2:eu-west-1:1:instance/i-1"),
            "EC2"
        );
        assert_eq!(resource_type_of("arn:aws:rds:eu-west-1:1:db:x"), "RDS");
        assert_eq!(tag_key("aws:ResourceTag/backup"), "backup");
    }
}
