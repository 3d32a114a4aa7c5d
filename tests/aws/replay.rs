//! What moto does not implement — Backup jobs and recovery points, anomaly detectors, alarm
//! history and actions, EBS paging, throttling and credential failures — covered with
//! recorded AWS responses in their real wire format, served over HTTP to the real SDK
//! clients. The SDK's serializers, deserializers and error parsing all run as against AWS.

use crate::support;
use crate::support::http::{Request, Response, Server};
use std::sync::{Arc, Mutex};
use watchband::cloud::aws::AwsCloud;
use watchband::cloud::*;
use watchband::pipeline::changes::ChangeCounter;
use watchband::pipeline::retry::RetryPolicy;

type Log = Arc<Mutex<Vec<Request>>>;

/// A replay server whose handler also records every request it answered.
async fn replay(
    handler: impl Fn(&Request, usize) -> Response + Send + Sync + 'static,
) -> (Server, AwsCloud, Log) {
    let log: Log = Arc::default();
    let log2 = log.clone();
    let server = Server::start(move |req| {
        let mut l = log2.lock().unwrap();
        l.push(req.clone());
        handler(req, l.len() - 1)
    });
    let cloud = AwsCloud::from_sdk_config(&support::sdk_config_for(&server.endpoint()).await);
    (server, cloud, log)
}

fn xml(body: &str) -> Response {
    Response::new(200, "text/xml", body.to_string())
}

#[tokio::test]
async fn an_on_demand_backup_job_is_started_and_polled_to_completion() {
    let (_s, cloud, log) = replay(|req, n| {
        match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/backup-jobs") => Response::json(200, &serde_json::json!({
                "BackupJobId": "7c0d1f9a-job",
                "CreationDate": 1767261600.0,
                "RecoveryPointArn": "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0"
            })),
            ("GET", "/backup-jobs/7c0d1f9a-job") => {
                // Recorded sequence: RUNNING at 42 % on the first poll, then COMPLETED.
                if n == 1 {
                    return Response::json(200, &serde_json::json!({
                        "BackupJobId": "7c0d1f9a-job",
                        "BackupVaultName": "Default",
                        "ResourceArn": "arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc",
                        "CreationDate": 1767261600.0,
                        "State": "RUNNING",
                        "PercentDone": "42.0"
                    }));
                }
                Response::json(200, &serde_json::json!({
                    "BackupJobId": "7c0d1f9a-job",
                    "BackupVaultName": "Default",
                    "ResourceArn": "arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc",
                    "RecoveryPointArn": "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0",
                    "CreationDate": 1767261600.0,
                    "CompletionDate": 1767261900.5,
                    "State": "COMPLETED",
                    "PercentDone": "100.0",
                    "StatusMessage": "done\u{1b}[2J"
                }))
            }
            _ => Response::new(404, "text/plain", "unexpected"),
        }
    })
    .await;
    let id = cloud
        .start_backup_job(StartBackupJob {
            vault: "Default".into(),
            resource_arn: "arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc".into(),
            iam_role_arn: "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
                .into(),
            idempotency_token: Some("tok-1".into()),
        })
        .await
        .unwrap();
    assert_eq!(id, "7c0d1f9a-job");
    let sent = log.lock().unwrap()[0].json();
    assert_eq!(sent["BackupVaultName"], "Default");
    assert_eq!(sent["IdempotencyToken"], "tok-1");
    let first = cloud.describe_backup_job(&id).await.unwrap();
    assert_eq!(
        (first.state, first.percent_done),
        (BackupJobState::Running, 42.0)
    );
    assert!(!first.state.is_terminal());
    let mut job = first;
    while !job.state.is_terminal() {
        job = cloud.describe_backup_job(&id).await.unwrap();
    }
    assert_eq!(log.lock().unwrap().len(), 3);
    assert_eq!(job.state, BackupJobState::Completed);
    assert_eq!(job.percent_done, 100.0);
    assert_eq!(
        job.recovery_point_arn.as_deref(),
        Some("arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0")
    );
    assert_eq!(job.created.timestamp(), 1767261600);
    // The escape sequence in the service's message never reaches the UI's state.
    assert!(!job.status_message.unwrap().contains('\u{1b}'));
}

#[tokio::test]
async fn recovery_points_are_paged_by_resource() {
    let (_s, cloud, log) = replay(|req, _| {
        let second = req.path.contains("nextToken=p2");
        Response::json(200, &serde_json::json!({
            "RecoveryPoints": [{
                "RecoveryPointArn": if second { "arn:aws:ec2:us-east-1::snapshot/snap-2" } else { "arn:aws:ec2:us-east-1::snapshot/snap-1" },
                "CreationDate": if second { 1767348000.0 } else { 1767261600.0 },
                "Status": "COMPLETED",
                "BackupSizeBytes": 8589934592i64,
                "BackupVaultName": "Default"
            }],
            "NextToken": if second { serde_json::Value::Null } else { "p2".into() }
        }))
    })
    .await;
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc";
    let points = collect_pages(|t| cloud.list_recovery_points_by_resource(volume, t))
        .await
        .unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[1].snapshot_id(), Some("snap-2"));
    assert_eq!(points[0].resource_type, "EBS");
    assert_eq!(points[0].status, "COMPLETED");
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn anomaly_detectors_and_alarm_history_are_read_from_query_responses() {
    let (_s, cloud, log) = replay(|req, _| {
        let body = req.body_text();
        if body.contains("Action=DescribeAnomalyDetectors") {
            xml(r#"<DescribeAnomalyDetectorsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
  <DescribeAnomalyDetectorsResult>
    <AnomalyDetectors>
      <member>
        <SingleMetricAnomalyDetector>
          <Namespace>BACKUP</Namespace>
          <MetricName>BACKUP_CHANGED_BLOCKS</MetricName>
          <Dimensions><member><Name>BACKUP_RESOURCE</Name><Value>arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc</Value></member></Dimensions>
          <Stat>Maximum</Stat>
        </SingleMetricAnomalyDetector>
        <Configuration>
          <ExcludedTimeRanges><member><StartTime>2026-01-01T00:00:00Z</StartTime><EndTime>2026-01-02T00:00:00Z</EndTime></member></ExcludedTimeRanges>
          <MetricTimezone>UTC</MetricTimezone>
        </Configuration>
        <StateValue>TRAINED</StateValue>
        <MetricCharacteristics><PeriodicSpikes>true</PeriodicSpikes></MetricCharacteristics>
      </member>
    </AnomalyDetectors>
  </DescribeAnomalyDetectorsResult>
  <ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>
</DescribeAnomalyDetectorsResponse>"#)
        } else if body.contains("Action=DescribeAlarmHistory") {
            xml(r#"<DescribeAlarmHistoryResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
  <DescribeAlarmHistoryResult>
    <AlarmHistoryItems>
      <member><AlarmName>Backup-Anomaly-Alarm/x</AlarmName><Timestamp>2026-01-03T05:10:00.000Z</Timestamp><HistoryItemType>StateUpdate</HistoryItemType><HistorySummary>Alarm updated from OK to ALARM</HistorySummary></member>
      <member><AlarmName>Backup-Anomaly-Alarm/x</AlarmName><Timestamp>2026-01-02T05:10:00.000Z</Timestamp><HistoryItemType>ConfigurationUpdate</HistoryItemType><HistorySummary>Alarm "Backup-Anomaly-Alarm/x" created</HistorySummary></member>
    </AlarmHistoryItems>
  </DescribeAlarmHistoryResult>
  <ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata>
</DescribeAlarmHistoryResponse>"#)
        } else if body.contains("Action=DisableAlarmActions") {
            xml(r#"<DisableAlarmActionsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>r3</RequestId></ResponseMetadata></DisableAlarmActionsResponse>"#)
        } else {
            Response::new(400, "text/plain", "unexpected")
        }
    })
    .await;
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc";
    let detectors = cloud
        .describe_anomaly_detectors(Some(&watchband::interop::backup_metric(volume)))
        .await
        .unwrap();
    assert_eq!(detectors.len(), 1);
    let d = &detectors[0];
    assert_eq!(d.metric, watchband::interop::backup_metric(volume));
    assert_eq!(d.stat, "Maximum");
    assert_eq!(d.state.as_deref(), Some("TRAINED"));
    assert!(d.periodic_spikes);
    assert_eq!(d.excluded.len(), 1);
    assert_eq!(d.metric_timezone.as_deref(), Some("UTC"));

    let history = cloud
        .describe_alarm_history("Backup-Anomaly-Alarm/x", 10)
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0].timestamp > history[1].timestamp, "newest first");
    assert_eq!(history[0].item_type, "StateUpdate");

    cloud
        .set_alarm_actions_enabled(&["Backup-Anomaly-Alarm/x".to_string()], false)
        .await
        .unwrap();
    let log = log.lock().unwrap();
    let detector_req = log[0].body_text();
    assert!(detector_req.contains("Namespace=BACKUP"), "{detector_req}");
    let history_req = log[1].body_text();
    assert!(
        history_req.contains("ScanBy=TimestampDescending") && history_req.contains("MaxRecords=10"),
        "{history_req}"
    );
    assert!(
        log[2]
            .body_text()
            .contains("AlarmNames.member.1=Backup-Anomaly-Alarm%2Fx"),
        "{}",
        log[2].body_text()
    );
}

fn changed_blocks_page(blocks: std::ops::Range<i32>, next: Option<&str>) -> Response {
    let mut body = serde_json::json!({
        "ChangedBlocks": blocks.map(|i| serde_json::json!({"BlockIndex": i, "FirstBlockToken": "a", "SecondBlockToken": "b"})).collect::<Vec<_>>(),
        "BlockSize": 524288,
        "VolumeSize": 8,
        "ExpiryTime": 1767265200.0
    });
    if let Some(n) = next {
        body["NextToken"] = n.into();
    }
    Response::json(200, &body)
}

#[tokio::test]
async fn change_counting_pages_to_the_end_and_retries_throttling() {
    let (_s, cloud, log) = replay(|req, n| {
        if n == 1 {
            // The EBS direct API's throttling answer, as recorded.
            return Response::json(400, &serde_json::json!({"Message": "Rate exceeded", "Reason": "REQUEST_LIMIT_EXCEEDED"}))
                .with_header("x-amzn-ErrorType", "ThrottlingException");
        }
        if req.path.contains("pageToken=t2") {
            changed_blocks_page(20_000..23_000, None)
        } else if req.path.contains("pageToken=t1") {
            changed_blocks_page(10_000..20_000, Some("t2"))
        } else {
            changed_blocks_page(0..10_000, Some("t1"))
        }
    })
    .await;
    let counter = ChangeCounter::new(Arc::new(cloud), None).with_policy(RetryPolicy {
        max_attempts: 3,
        base_delay: std::time::Duration::from_millis(5),
        max_delay: std::time::Duration::from_millis(20),
    });
    let c = counter.count(Some("snap-0aaa"), "snap-0bbb").await.unwrap();
    assert_eq!(c.blocks, 23_000);
    assert_eq!((c.block_size, c.volume_size_gib), (524288, 8));
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 4, "three pages plus one throttled retry");
    for r in log.iter() {
        assert!(
            r.path.starts_with("/snapshots/snap-0bbb/changedblocks?"),
            "{}",
            r.path
        );
        assert!(
            r.path.contains("firstSnapshotId=snap-0aaa") && r.path.contains("maxResults=10000"),
            "{}",
            r.path
        );
    }
    assert_eq!(
        log[1].path, log[2].path,
        "the throttled page is asked again"
    );
}

#[tokio::test]
async fn service_errors_map_onto_error_kinds() {
    let (_s, cloud, _log) = replay(|req, _| {
        let target = req.header("x-amz-target").unwrap_or_default().to_string();
        if target.ends_with("GetRecords") {
            Response::json(400, &serde_json::json!({"__type": "ExpiredIteratorException", "message": "Iterator expired"}))
                .with_header("Content-Type", "application/x-amz-json-1.1")
        } else if target.ends_with("PutItem") {
            Response::json(400, &serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message": "The conditional request failed"}))
        } else if target.ends_with("ListShards") {
            Response::json(400, &serde_json::json!({"__type": "ResourceNotFoundException", "message": "Stream m03p02_raw_data_stream under account 123456789012 not found."}))
        } else if req.body_text().contains("Action=GetCallerIdentity") {
            Response::new(403, "text/xml", r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>r</RequestId></ErrorResponse>"#)
        } else {
            // moto's answer to an operation it does not implement.
            Response::new(500, "text/html", "<!doctype html><title>500 Internal Server Error</title>")
        }
    })
    .await;
    let e = cloud.get_records("AAAA", None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ExpiredIterator, "{e}");
    let e = cloud
        .put_item(
            "anomaly-detection",
            Item::new(),
            Some(Condition::AttributeNotExists("arn".into())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ConditionFailed, "{e}");
    assert_eq!(e.resource.as_deref(), Some("anomaly-detection"));
    let e = cloud
        .list_shards("m03p02_raw_data_stream")
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(
        e.to_string()
            .contains("kinesis ListShards on m03p02_raw_data_stream"),
        "{e}"
    );
    let e = cloud.caller_identity().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ExpiredCredentials, "{e}");
    assert!(e.message.contains("aws sso login"), "{e}");
    let e = cloud.list_protected_resources(None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::ServiceUnavailable, "{e}");
    assert!(e.kind.is_retryable());
}

// The profile-file types are deprecated aliases of aws-runtime's, which is not a direct
// dependency; the aliases are what aws-config itself exposes.
#[allow(deprecated)]
#[tokio::test]
async fn missing_credentials_give_one_clear_message_and_send_nothing() {
    let log: Log = Arc::default();
    let log2 = log.clone();
    let server = Server::start(move |req| {
        log2.lock().unwrap().push(req.clone());
        Response::new(500, "text/plain", "should not be called")
    });
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("credentials");
    std::fs::write(&empty, "").unwrap();
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    let files = ProfileFiles::builder()
        .with_file(ProfileFileKind::Credentials, &empty)
        .with_file(ProfileFileKind::Config, &empty)
        .build();
    let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
        .profile_files(files)
        .profile_name("nobody")
        .build();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(server.endpoint())
        .credentials_provider(provider)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let cloud = AwsCloud::from_sdk_config(&config);
    let e = cloud.caller_identity().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NoCredentials, "{e}");
    assert_eq!(e.message, watchband::cloud::aws::errors::NO_CREDENTIALS);
    assert!(
        log.lock().unwrap().is_empty(),
        "no unsigned request went out"
    );
}
