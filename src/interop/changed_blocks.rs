//! The AWS Backup changed-block pipeline: AWS Backup takes daily EBS snapshots of tagged
//! volumes; on each completed job, a function counts the blocks changed since the volume's
//! previous snapshot (EBS direct API), publishes `BACKUP_CHANGED_BLOCKS` and creates an
//! anomaly-band alarm per volume. Its names (metric, dimension, table, alarm, topic), its
//! alarm definition and the EventBridge `Backup Job State Change` event it reacts to.

use super::alarm::anomaly_alarm_definition;
pub use crate::cloud::arn::{snapshot_id_in, volume_id_in};
use crate::cloud::{AlarmDefinition, AttrValue, Item, MetricId};
use serde::{Deserialize, Serialize};

pub const BACKUP_NAMESPACE: &str = "BACKUP";
pub const BACKUP_METRIC: &str = "BACKUP_CHANGED_BLOCKS";
pub const BACKUP_DIMENSION: &str = "BACKUP_RESOURCE";
/// DynamoDB table keeping the previous snapshot per volume: `{arn (S, hash key), snapshot}`.
pub const BACKUP_TABLE: &str = "anomaly-detection";
pub const BACKUP_ALARM_PREFIX: &str = "Backup-Anomaly-Alarm/";
pub const BACKUP_TOPIC_DISPLAY_NAME: &str = "AWS Backup AnomalyDetection Topic";
/// The topic watchband creates or looks for when none is configured.
pub const BACKUP_TOPIC_NAME: &str = "backup-anomaly-alerts";
/// The SQS queue an EventBridge rule fills with `Backup Job State Change` events for the backup
/// processor run as a process (`watchband process backups`) and inside the demo account.
/// The pipeline targets its Lambda function with the rule directly; a queue lets a process (or a
/// paused function) catch up on what it missed.
pub const BACKUP_EVENTS_QUEUE: &str = "watchband-backup-events";
/// The table the processors keep detector state in (the metric scorer's forests).
pub const DETECTOR_STATE_TABLE: &str = "watchband-detector-state";
/// The tag key the backup plan selects volumes by when none is configured.
pub const DEFAULT_BACKUP_TAG_KEY: &str = "backup";
/// The changed-block pipeline's daily rule.
pub const DAILY_BACKUP_SCHEDULE: &str = "cron(0 5 * * ? *)";
pub const MONTHLY_BACKUP_SCHEDULE: &str = "cron(0 5 1 * ? *)";

/// The metric a volume's changed-block counts are published under.
pub fn backup_metric(volume_arn: &str) -> MetricId {
    MetricId::new(
        BACKUP_NAMESPACE,
        BACKUP_METRIC,
        &[(BACKUP_DIMENSION, volume_arn)],
    )
}

pub fn backup_alarm_name(volume_arn: &str) -> String {
    format!("{BACKUP_ALARM_PREFIX}{volume_arn}")
}

/// The volume ARN inside a `Backup-Anomaly-Alarm/<arn>` alarm name.
pub fn volume_arn_of_alarm(alarm_name: &str) -> Option<&str> {
    alarm_name.strip_prefix(BACKUP_ALARM_PREFIX)
}

/// The changed-block pipeline's alarm, exactly as its function creates it on the first sighting of a volume:
/// `m1` = Maximum over 60 s, `ad1 = ANOMALY_DETECTION_BAND(m1, width)`, upper-threshold
/// comparison, one evaluation period, missing data ignored, actions to the topic.
pub fn backup_alarm_definition(
    volume_arn: &str,
    topic_arn: &str,
    band_width: f64,
) -> AlarmDefinition {
    anomaly_alarm_definition(
        &backup_alarm_name(volume_arn),
        backup_metric(volume_arn),
        "Maximum",
        60,
        band_width,
        1,
        topic_arn,
    )
}

/// The `anomaly-detection` table's item for a volume.
pub fn backup_table_item(volume_arn: &str, snapshot_id: &str) -> Item {
    let mut item = Item::new();
    item.insert("arn".into(), AttrValue::S(volume_arn.to_string()));
    item.insert("snapshot".into(), AttrValue::S(snapshot_id.to_string()));
    item
}

/// The parts of an EventBridge `Backup Job State Change` event the backup processor uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupJobEvent {
    pub job_id: String,
    pub state: String,
    pub resource_type: String,
    pub volume_arn: String,
    pub snapshot_id: String,
    pub time: Option<String>,
}

/// Reads an EventBridge event (the JSON EventBridge delivers to Lambda or to an SQS queue).
/// Returns `Ok(None)` for events that are not a completed EBS backup job.
pub fn parse_backup_event(json: &str) -> Result<Option<BackupJobEvent>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not a JSON event: {e}"))?;
    if v.get("detail-type").and_then(|d| d.as_str()) != Some("Backup Job State Change") {
        return Ok(None);
    }
    let detail = v.get("detail").ok_or("event has no detail")?;
    let s = |k: &str| detail.get(k).and_then(|x| x.as_str()).unwrap_or_default();
    if s("resourceType") != "EBS" || s("state") != "COMPLETED" {
        return Ok(None);
    }
    let volume_arn = s("resourceArn");
    // The exact form, not just a `vol-` suffix: an ARN with an escape sequence before the id
    // would otherwise name the alarm and the table item.
    if crate::cloud::arn::volume_arn_parts(volume_arn).is_none() {
        return Err(format!(
            "detail.resourceArn is not an EC2 volume ARN: {:?}",
            crate::sanitize::clean(volume_arn)
        ));
    }
    let resource0 = v
        .get("resources")
        .and_then(|r| r.get(0))
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    // Only an ARN's characters: an escape sequence before the `snap-` id would otherwise
    // pass the id's suffix check.
    let arn_chars = resource0
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b":/-_.".contains(&b));
    let snapshot_id = snapshot_id_in(resource0)
        .filter(|_| arn_chars)
        .ok_or_else(|| {
            format!(
                "resources[0] is not a snapshot: {:?}",
                crate::sanitize::clean(resource0)
            )
        })?;
    Ok(Some(BackupJobEvent {
        job_id: s("backupJobId").to_string(),
        state: s("state").to_string(),
        resource_type: s("resourceType").to_string(),
        volume_arn: volume_arn.to_string(),
        snapshot_id: snapshot_id.to_string(),
        time: v.get("time").and_then(|t| t.as_str()).map(str::to_string),
    }))
}

/// Builds the event AWS Backup sends when a job completes (the simulator and tests use it).
pub fn backup_event_json(
    account: &str,
    region: &str,
    job_id: &str,
    volume_arn: &str,
    snapshot_arn: &str,
    time: &str,
) -> String {
    serde_json::json!({
        "version": "0",
        "id": format!("evt-{job_id}"),
        "detail-type": "Backup Job State Change",
        "source": "aws.backup",
        "account": account,
        "time": time,
        "region": region,
        "resources": [snapshot_arn],
        "detail": {
            "backupJobId": job_id,
            "state": "COMPLETED",
            "resourceType": "EBS",
            "resourceArn": volume_arn,
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{AlarmMetric, ComparisonOperator, MetricQueryKind, TreatMissingData};

    #[test]
    fn backup_event_is_parsed_and_filtered() {
        let json = backup_event_json(
            "123456789012",
            "us-east-1",
            "job-1",
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1",
            "arn:aws:ec2:us-east-1::snapshot/snap-0b2",
            "2026-01-01T05:10:00Z",
        );
        let ev = parse_backup_event(&json).unwrap().unwrap();
        assert_eq!(ev.snapshot_id, "snap-0b2");
        assert_eq!(
            ev.volume_arn,
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1"
        );
        let running = json.replace("COMPLETED", "RUNNING");
        assert_eq!(parse_backup_event(&running).unwrap(), None);
    }

    #[test]
    fn the_backup_pipeline_alarm_definition() {
        let def = backup_alarm_definition("arn:aws:ec2:r:1:volume/vol-1", "arn:aws:sns:r:1:t", 2.0);
        assert_eq!(
            def.name,
            "Backup-Anomaly-Alarm/arn:aws:ec2:r:1:volume/vol-1"
        );
        assert_eq!(def.description.as_deref(), Some(def.name.as_str()));
        assert_eq!(
            def.comparison,
            ComparisonOperator::GreaterThanUpperThreshold
        );
        assert_eq!(def.threshold_metric_id.as_deref(), Some("ad1"));
        assert_eq!(def.evaluation_periods, 1);
        assert_eq!(def.treat_missing_data, TreatMissingData::Ignore);
        let AlarmMetric::Queries(q) = &def.metric else {
            panic!()
        };
        assert!(
            matches!(&q[0].kind, MetricQueryKind::Stat { period: 60, stat, .. } if stat == "Maximum")
        );
        assert_eq!(
            q[1].kind,
            MetricQueryKind::Expression("ANOMALY_DETECTION_BAND(m1, 2)".into())
        );
    }
}
