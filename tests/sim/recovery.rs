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
    let request = CreateLegalHold {
        title: "incident".into(),
        description: "held".into(),
        resource_arn: volume.clone(),
        vault: "Default".into(),
        recovery_point_created: point.created,
        idempotency_token: Some("t1".into()),
    };
    let hold = cloud.create_legal_hold(request.clone()).await.unwrap();
    assert_eq!(hold.status, "ACTIVE");
    assert!(hold.arn.contains(":legal-hold:"));
    // The same token answers the same hold, as AWS's idempotency does.
    let again = cloud.create_legal_hold(request).await.unwrap();
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

/// The backup processor, deployed as the demo account's function, names the last clean
/// recovery point in its burst alert: a completed point of the volume, created before the
/// burst.
#[tokio::test(start_paused = true)]
async fn the_backup_processors_burst_alert_names_the_last_clean_recovery_point() {
    use watchband::cloud::sim::{SimCloud, SimOptions};
    use watchband::processors::deployed::{self, Deployment};
    let sim = SimCloud::new(SimOptions {
        seed: 7,
        ..SimOptions::default()
    });
    let cloud: std::sync::Arc<dyn Cloud> = sim.clone();
    let _functions = deployed::spawn(
        cloud.clone(),
        Deployment {
            stream: None,
            scored_metrics: Vec::new(),
            ..Deployment::default()
        },
    );
    let (burst_arn, burst_at) = sim.bursts()[0].clone();
    let volume_id = watchband::interop::volume_id_in(&burst_arn)
        .unwrap()
        .to_string();
    let mut alert = None;
    // A test second is a simulated hour: the deployed functions reach the burst within days.
    for _ in 0..120 * 4 {
        alert = sim.published_messages().into_iter().find(|p| {
            p.subject
                .as_deref()
                .is_some_and(|s| s.starts_with("Backup anomaly:") && s.contains(&volume_id))
        });
        if alert.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let alert = alert.expect("the burst's alert");
    let line = alert
        .message
        .lines()
        .find(|l| l.starts_with("Last clean recovery point: "))
        .unwrap_or_else(|| panic!("no last clean point in {}", alert.message));
    let arn = line
        .trim_start_matches("Last clean recovery point: ")
        .split_whitespace()
        .next()
        .unwrap();
    let points = collect_pages(|t| cloud.list_recovery_points_by_resource(&burst_arn, t))
        .await
        .unwrap();
    let point = points
        .iter()
        .find(|p| p.arn == arn)
        .unwrap_or_else(|| panic!("{arn} is not a recovery point of {burst_arn}"));
    assert!(point.created < burst_at, "{line}");
    // Not merely any earlier point: the newest one before the burst's backup (a single burst).
    let before: Vec<_> = points.iter().filter(|p| p.created < burst_at).collect();
    assert_eq!(
        before.iter().map(|p| p.created).max(),
        Some(point.created),
        "{line}"
    );
}
