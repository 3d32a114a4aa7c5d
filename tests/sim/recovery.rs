//! Recovery in the simulated account, as AWS Backup answers it: a legal hold on a recovery
//! point, its restore metadata, and a restore job that is PENDING, RUNNING with growing
//! progress, then COMPLETED with a new volume; unknown points and missing metadata are refused.

use crate::support::sim::paused;
use std::time::Duration;
use watchband::cloud::{
    Cloud, CreateLegalHold, ErrorKind, RestoreJobState, StartRestoreJob, collect_pages,
};

#[tokio::test(start_paused = true)]
async fn a_hold_then_a_restore_that_takes_minutes_and_creates_a_new_volume() {
    let cloud = paused(7);
    let volume = cloud.volume_arns()[2].clone();
    let point = collect_pages(|t| cloud.list_recovery_points_by_resource(&volume, t))
        .await
        .unwrap()
        .remove(0);
    let hold = cloud
        .create_legal_hold(CreateLegalHold {
            title: "incident".into(),
            description: "held".into(),
            resource_arn: volume.clone(),
            vault: "Default".into(),
            recovery_point_created: point.created,
            idempotency_token: Some("t1".into()),
        })
        .await
        .unwrap();
    assert_eq!(hold.status, "ACTIVE");
    assert!(hold.arn.contains(":legal-hold:"));
    // The same token answers the same hold, as AWS's idempotency does.
    let again = cloud
        .create_legal_hold(CreateLegalHold {
            title: "incident".into(),
            description: "held".into(),
            resource_arn: volume.clone(),
            vault: "Default".into(),
            recovery_point_created: point.created,
            idempotency_token: Some("t1".into()),
        })
        .await
        .unwrap();
    assert_eq!(again.id, hold.id);

    let metadata = cloud
        .get_recovery_point_restore_metadata("Default", &point.arn)
        .await
        .unwrap();
    let zone = metadata["availabilityZone"].clone();
    assert!(zone.starts_with("us-east-1"), "{zone}");
    assert!(volume.ends_with(&metadata["volumeId"]));
    let role = cloud.list_backup_plans().await.unwrap()[0].id.clone();
    let role = cloud.list_backup_selections(&role).await.unwrap()[0]
        .iam_role_arn
        .clone();
    let mut request = StartRestoreJob {
        recovery_point_arn: point.arn.clone(),
        iam_role_arn: role,
        resource_type: "EBS".into(),
        metadata: metadata.clone(),
        idempotency_token: None,
    };
    let id = cloud.start_restore_job(request.clone()).await.unwrap();
    let first = cloud.describe_restore_job(&id).await.unwrap();
    assert_eq!(first.state, RestoreJobState::Pending);
    let mut percents = Vec::new();
    let done = loop {
        cloud.advance(Duration::from_secs(20));
        let j = cloud.describe_restore_job(&id).await.unwrap();
        percents.push(j.percent_done);
        if j.state.is_terminal() {
            break j;
        }
        assert!(j.created_resource_arn.is_none());
    };
    assert_eq!(done.state, RestoreJobState::Completed);
    assert!(
        percents.iter().any(|p| *p > 0.0 && *p < 100.0),
        "{percents:?}"
    );
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    let minutes = (done.completed.unwrap() - done.created).num_minutes();
    assert!((3..=20).contains(&minutes), "{minutes} min");
    let new = done.created_resource_arn.unwrap();
    assert!(new.contains(":volume/vol-0") && new != volume, "{new}");

    // No availability zone, no restore; an unknown point is not found.
    request.metadata.remove("availabilityZone");
    let e = cloud.start_restore_job(request.clone()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    request.metadata = metadata;
    request.recovery_point_arn = "arn:aws:ec2:us-east-1::snapshot/snap-0ffffffffffffffff".into();
    let e = cloud.start_restore_job(request).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}
