//! `P` and `R` through the AWS implementation: the pipeline's Protect and Restore commands run
//! on the real SDK clients against a proxy that answers AWS Backup's CreateLegalHold,
//! GetRecoveryPointRestoreMetadata, StartRestoreJob and DescribeRestoreJob with AWS's
//! documented JSON (moto lacks them) and forwards everything else to moto. The requests the SDK
//! sends are checked: the hold selects the one point, the restore goes to the point's
//! availability zone with the plan's role and only the metadata keys an EBS restore takes.

use crate::support::http::{Request, Response};
use crate::support::{self, Moto};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use watchband::cloud::{Cloud, RestoreJobState};
use watchband::pipeline::{Command, Event, PipelineConfig};

const VOLUME: &str = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0";
const POINT: &str = "arn:aws:ec2:us-east-1::snapshot/snap-0aaaabbbbccccdddd";
const ROLE: &str = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole";
const JOB: &str = "5d8e1c2a-4b3f-4e6d-9a7b-0c1d2e3f4a5b";

/// AWS Backup's recorded answers; None for what moto answers.
fn backup(req: &Request, polls: &Mutex<usize>) -> Option<Response> {
    let path = req.path.split('?').next().unwrap_or_default();
    Some(match (req.method.as_str(), path) {
        ("POST", "/legal-holds" | "/legal-holds/") => Response::json(
            200,
            &serde_json::json!({
                "Title": "watchband incident vol-0123456789abcdef0",
                "Status": "CREATING",
                "Description": "held",
                "LegalHoldId": "1a2b3c4d-hold",
                "LegalHoldArn": "arn:aws:backup:us-east-1:123456789012:legal-hold:1a2b3c4d-hold",
                "CreationDate": 1767261600.0,
                "RecoveryPointSelection": req.json()["RecoveryPointSelection"].clone()
            }),
        ),
        ("GET", p)
            if p.starts_with("/backup-vaults/Default/recovery-points/")
                && p.ends_with("/restore-metadata") =>
        {
            Response::json(
                200,
                &serde_json::json!({
                    "BackupVaultArn": "arn:aws:backup:us-east-1:123456789012:backup-vault:Default",
                    "RecoveryPointArn": POINT,
                    "ResourceType": "EBS",
                    "RestoreMetadata": {
                        "availabilityZone": "us-east-1c",
                        "encrypted": "false",
                        "volumeId": "vol-0123456789abcdef0",
                        "volumeSize": "100",
                        "volumeType": "gp3"
                    }
                }),
            )
        }
        ("PUT", "/restore-jobs") => {
            Response::json(200, &serde_json::json!({ "RestoreJobId": JOB }))
        }
        ("GET", p) if p == format!("/restore-jobs/{JOB}") => {
            let mut n = polls.lock().unwrap();
            *n += 1;
            // Recorded sequence: RUNNING at 35 %, then COMPLETED with the new volume.
            if *n == 1 {
                Response::json(
                    200,
                    &serde_json::json!({
                        "AccountId": "123456789012",
                        "RestoreJobId": JOB,
                        "RecoveryPointArn": POINT,
                        "CreationDate": 1767261700.0,
                        "Status": "RUNNING",
                        "PercentDone": "35.00%",
                        "IamRoleArn": ROLE,
                        "ExpectedCompletionTimeMinutes": 6,
                        "ResourceType": "EBS"
                    }),
                )
            } else {
                Response::json(
                    200,
                    &serde_json::json!({
                        "AccountId": "123456789012",
                        "RestoreJobId": JOB,
                        "RecoveryPointArn": POINT,
                        "CreationDate": 1767261700.0,
                        "CompletionDate": 1767262060.0,
                        "Status": "COMPLETED",
                        "PercentDone": "100.00%",
                        "IamRoleArn": ROLE,
                        "CreatedResourceArn": "arn:aws:ec2:us-east-1:123456789012:volume/vol-0fedcba9876543210\u{1b}[2J",
                        "ResourceType": "EBS"
                    }),
                )
            }
        }
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protect_and_restore_run_on_the_sdk_against_recorded_backup_answers() {
    let Some(moto) = Moto::start() else { return };
    let port = moto.port;
    let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
    let polls = Arc::new(Mutex::new(0usize));
    let log = seen.clone();
    let proxy = support::http::Server::start(move |req| match backup(req, &polls) {
        Some(answer) => {
            log.lock().unwrap().push(req.clone());
            answer
        }
        None => support::http::forward(port, req),
    });
    let config = support::sdk_config_for(&proxy.endpoint()).await;
    let cloud: Arc<dyn Cloud> = Arc::new(watchband::cloud::aws::AwsCloud::from_sdk_config(&config));
    let (mut events, commands) = watchband::pipeline::spawn(
        cloud.clone(),
        None,
        PipelineConfig {
            streams: vec![],
            ..PipelineConfig::default()
        },
    );
    let created = chrono::DateTime::from_timestamp(1767157560, 0).unwrap();
    commands
        .send(Command::Protect {
            volume_arn: VOLUME.into(),
            recovery_point_arn: POINT.into(),
            vault: "Default".into(),
            created,
        })
        .await
        .unwrap();
    commands
        .send(Command::Restore {
            volume_arn: VOLUME.into(),
            recovery_point_arn: POINT.into(),
            vault: "Default".into(),
            iam_role_arn: ROLE.into(),
        })
        .await
        .unwrap();
    let (mut hold, mut progress) = (None, Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let e = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("the restore never completed")
            .expect("the pipeline stopped");
        match e {
            Event::Hold(h) => hold = Some(h),
            Event::Restore(r) => {
                progress.push(r.clone());
                if r.state.is_terminal() {
                    break r;
                }
            }
            Event::Outcome(o) if !o.ok && (o.command == "protect" || o.command == "restore") => {
                panic!("{o:?}")
            }
            _ => {}
        }
    };
    let hold = hold.expect("the hold event");
    assert_eq!(hold.hold_id, "1a2b3c4d-hold");
    assert_eq!(hold.recovery_point_arn, POINT);
    assert_eq!(progress[0].state, RestoreJobState::Running);
    assert_eq!(progress[0].percent_done, 35.0);
    assert_eq!(done.state, RestoreJobState::Completed);
    assert_eq!(done.availability_zone, "us-east-1c");
    // The id from AWS is cleaned before it reaches the app.
    let new = done.new_volume_id.unwrap();
    assert!(
        new.starts_with("vol-0fedcba9876543210") && !new.contains('\u{1b}'),
        "{new:?}"
    );

    // What the SDK sent.
    let seen = seen.lock().unwrap();
    let hold_req = seen.iter().find(|r| r.method == "POST").unwrap().json();
    let sel = &hold_req["RecoveryPointSelection"];
    assert_eq!(sel["ResourceIdentifiers"], serde_json::json!([VOLUME]));
    assert_eq!(sel["VaultNames"], serde_json::json!(["Default"]));
    let from = sel["DateRange"]["FromDate"].as_f64().unwrap();
    let to = sel["DateRange"]["ToDate"].as_f64().unwrap();
    assert_eq!(from, created.timestamp() as f64);
    assert_eq!(to - from, 1.0, "the range selects the one point");
    assert!(
        hold_req["IdempotencyToken"]
            .as_str()
            .unwrap()
            .contains("snap-0aaaabbbbccccdddd")
    );
    let meta_req = seen
        .iter()
        .find(|r| r.path.ends_with("/restore-metadata"))
        .unwrap();
    assert!(
        meta_req
            .path
            .contains("arn%3Aaws%3Aec2%3Aus-east-1%3A%3Asnapshot%2Fsnap-0aaaabbbbccccdddd"),
        "{}",
        meta_req.path
    );
    let start = seen.iter().find(|r| r.method == "PUT").unwrap().json();
    assert_eq!(start["RecoveryPointArn"], POINT);
    assert_eq!(start["IamRoleArn"], ROLE);
    assert_eq!(start["ResourceType"], "EBS");
    assert_eq!(start["Metadata"]["availabilityZone"], "us-east-1c");
    assert_eq!(start["Metadata"]["volumeType"], "gp3");
    assert!(start["Metadata"].get("volumeId").is_none(), "{start}");
}
