//! The simulated account's backups and EBS direct API: the default world, paging against a
//! brute-force count, lineage errors, on-demand jobs, the encryption burst and determinism.

use crate::support::sim::paused;
use std::time::Duration;
use watchband::cloud::sim::SimCloud;
use watchband::cloud::{
    BackupJobState, Cloud, ErrorKind, ListChangedBlocks, ListSnapshotBlocks, StartBackupJob,
    collect_pages,
};

const HOUR: Duration = Duration::from_secs(3600);

async fn count_changed(cloud: &SimCloud, first: Option<&str>, second: &str, max: i32) -> usize {
    let mut token = None;
    let mut n = 0;
    let mut last = -1i64;
    loop {
        let page = cloud
            .list_changed_blocks(ListChangedBlocks {
                first_snapshot_id: first.map(str::to_string),
                second_snapshot_id: second.to_string(),
                next_token: token.take(),
                max_results: Some(max),
            })
            .await
            .unwrap();
        assert_eq!(page.block_size, 524_288);
        assert!(page.block_indices.len() <= max as usize);
        for b in &page.block_indices {
            assert!(i64::from(*b) > last);
            last = i64::from(*b);
        }
        n += page.block_indices.len();
        match page.next_token {
            Some(t) => token = Some(t),
            None => return n,
        }
    }
}

#[tokio::test]
async fn default_world_has_tagged_volumes_with_60_days_of_daily_backups() {
    let cloud = paused(7);
    let resources = collect_pages(|t| cloud.list_protected_resources(t))
        .await
        .unwrap();
    assert!((7..=12).contains(&resources.len()), "{}", resources.len());
    for r in &resources {
        assert_eq!(r.resource_type, "EBS");
        let tags = cloud.list_tags(&r.arn).await.unwrap();
        assert!(tags.contains_key("backup"));
        let points = collect_pages(|t| cloud.list_recovery_points_by_resource(&r.arn, t))
            .await
            .unwrap();
        assert!(points.len() >= 60, "{} has {}", r.arn, points.len());
        // Newest first, daily at 05:xx UTC.
        assert!(points[0].created > points[1].created);
        assert_eq!(points[0].created.format("%H").to_string(), "05");
    }
    let plans = cloud.list_backup_plans().await.unwrap();
    let sel = cloud.list_backup_selections(&plans[0].id).await.unwrap();
    assert_eq!(sel[0].tag_keys, vec!["backup".to_string()]);
    assert_eq!(plans[0].rules[0].schedule, "cron(0 5 * * ? *)");
    // The plan and the recovery points agree: no rule's lifecycle would have deleted a point
    // that is still listed (AWS keeps points of a rule without one).
    let oldest = collect_pages(|t| cloud.list_recovery_points_by_vault("Default", t))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.created)
        .min()
        .unwrap();
    let age_days = (cloud.now() - oldest).num_days();
    assert!(age_days >= 60, "{age_days}");
    for rule in &plans[0].rules {
        assert!(
            rule.delete_after_days.is_none_or(|d| d > age_days),
            "rule {} deletes after {:?} days but a {age_days}-day-old point is listed",
            rule.name,
            rule.delete_after_days
        );
    }
}

#[tokio::test]
async fn changed_block_paging_agrees_with_a_brute_force_count() {
    let cloud = paused(11);
    let r = &collect_pages(|t| cloud.list_protected_resources(t))
        .await
        .unwrap()[0];
    let points = collect_pages(|t| cloud.list_recovery_points_by_resource(&r.arn, t))
        .await
        .unwrap();
    let s0 = points[0].snapshot_id().unwrap().to_string();
    let s1 = points[1].snapshot_id().unwrap().to_string();
    let s3 = points[3].snapshot_id().unwrap().to_string();
    let small = count_changed(&cloud, Some(&s1), &s0, 100).await;
    let big = count_changed(&cloud, Some(&s1), &s0, 10_000).await;
    assert_eq!(small, big);
    assert!(small > 0);
    // Over three days the union is larger than one day but not more than the sum.
    let three = count_changed(&cloud, Some(&s3), &s0, 10_000).await;
    assert!(three >= big, "{three} < {big}");
    // Every changed block of the first backup is a snapshot block.
    let mut token = None;
    let mut blocks = 0;
    loop {
        let p = cloud
            .list_snapshot_blocks(ListSnapshotBlocks {
                snapshot_id: s0.clone(),
                next_token: token.take(),
                max_results: Some(10_000),
            })
            .await
            .unwrap();
        blocks += p.block_indices.len();
        match p.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert!(blocks > big);
}

#[tokio::test]
async fn limits_and_lineage_errors_are_validation_errors() {
    let cloud = paused(3);
    let rs = collect_pages(|t| cloud.list_protected_resources(t))
        .await
        .unwrap();
    let a = collect_pages(|t| cloud.list_recovery_points_by_resource(&rs[0].arn, t))
        .await
        .unwrap();
    let b = collect_pages(|t| cloud.list_recovery_points_by_resource(&rs[1].arn, t))
        .await
        .unwrap();
    let req = |first: &str, second: &str, max: Option<i32>| ListChangedBlocks {
        first_snapshot_id: Some(first.to_string()),
        second_snapshot_id: second.to_string(),
        next_token: None,
        max_results: max,
    };
    let (a0, a1, b0) = (
        a[0].snapshot_id().unwrap(),
        a[1].snapshot_id().unwrap(),
        b[0].snapshot_id().unwrap(),
    );
    let e = cloud
        .list_changed_blocks(req(b0, a0, None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    assert!(e.message.contains("lineage"), "{e}");
    assert_eq!(e.resource.as_deref(), Some(a0));
    for bad in [99, 10_001] {
        let e = cloud
            .list_changed_blocks(req(a1, a0, Some(bad)))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidRequest);
    }
    let e = cloud
        .list_changed_blocks(req(a0, a1, None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest, "first must be older");
    let e = cloud
        .list_changed_blocks(req(a1, "snap-0ffffffffffffffff", None))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn on_demand_backup_goes_created_running_completed() {
    let cloud = paused(5);
    let vol = &cloud.volume_arns()[0];
    let plans = cloud.list_backup_plans().await.unwrap();
    let role = cloud.list_backup_selections(&plans[0].id).await.unwrap()[0]
        .iam_role_arn
        .clone();
    let id = cloud
        .start_backup_job(StartBackupJob {
            vault: "Default".into(),
            resource_arn: vol.clone(),
            iam_role_arn: role,
            idempotency_token: None,
        })
        .await
        .unwrap();
    let mut seen = vec![];
    let mut percent = 0.0;
    for _ in 0..60 {
        let j = cloud.describe_backup_job(&id).await.unwrap();
        if seen.last() != Some(&j.state) {
            seen.push(j.state);
        }
        assert!(j.percent_done >= percent || j.state.is_terminal());
        percent = j.percent_done;
        if j.state.is_terminal() {
            assert!(j.recovery_point_arn.is_some());
            break;
        }
        cloud.advance(Duration::from_secs(20));
    }
    assert_eq!(
        seen,
        vec![
            BackupJobState::Created,
            BackupJobState::Running,
            BackupJobState::Completed
        ]
    );
    let newest = &cloud
        .list_recovery_points_by_resource(vol, None)
        .await
        .unwrap()
        .items[0];
    let j = cloud.describe_backup_job(&id).await.unwrap();
    assert_eq!(Some(&newest.arn), j.recovery_point_arn.as_ref());

    // An unknown role: the job is created and then fails with a reason.
    let bad = cloud
        .start_backup_job(StartBackupJob {
            vault: "Default".into(),
            resource_arn: vol.clone(),
            iam_role_arn: "arn:aws:iam::123456789012:role/nope".into(),
            idempotency_token: None,
        })
        .await
        .unwrap();
    cloud.advance(Duration::from_secs(600));
    let j = cloud.describe_backup_job(&bad).await.unwrap();
    assert_eq!(j.state, BackupJobState::Failed);
    assert!(j.status_message.unwrap().contains("role"));
}

#[tokio::test]
async fn the_encryption_burst_changes_most_blocks() {
    let cloud = paused(7);
    let (arn, at) = cloud.bursts()[0].clone();
    let before = cloud.now();
    assert!(at > before);
    cloud.advance(HOUR * 72);
    let pts = cloud
        .list_recovery_points_by_resource(&arn, None)
        .await
        .unwrap()
        .items;
    let after: Vec<_> = pts.iter().filter(|p| p.created > at).collect();
    let burst_snap = after.last().unwrap();
    let prev = pts.iter().find(|p| p.created < at).unwrap();
    let n = count_changed(
        &cloud,
        prev.snapshot_id(),
        burst_snap.snapshot_id().unwrap(),
        10_000,
    )
    .await;
    let size = cloud
        .list_snapshot_blocks(ListSnapshotBlocks {
            snapshot_id: burst_snap.snapshot_id().unwrap().to_string(),
            next_token: None,
            max_results: Some(100),
        })
        .await
        .unwrap()
        .volume_size_gib;
    let frac = n as f64 / (size as f64 * 2048.0);
    assert!((0.6..=0.96).contains(&frac), "{frac}");
}

#[tokio::test]
async fn same_seed_same_world() {
    let a = paused(42);
    let b = paused(42);
    let c = paused(43);
    let ra = collect_pages(|t| a.list_protected_resources(t))
        .await
        .unwrap();
    let rb = collect_pages(|t| b.list_protected_resources(t))
        .await
        .unwrap();
    let rc = collect_pages(|t| c.list_protected_resources(t))
        .await
        .unwrap();
    assert_eq!(ra, rb);
    assert_ne!(ra, rc);
    let pa = collect_pages(|t| a.list_recovery_points_by_vault("Default", t))
        .await
        .unwrap();
    let pb = collect_pages(|t| b.list_recovery_points_by_vault("Default", t))
        .await
        .unwrap();
    assert_eq!(pa, pb);
    let s = |p: &watchband::cloud::RecoveryPoint| p.snapshot_id().unwrap().to_string();
    assert_eq!(
        count_changed(&a, Some(&s(&pa[1])), &s(&pa[0]), 1000).await,
        count_changed(&b, Some(&s(&pb[1])), &s(&pb[0]), 1000).await
    );
    a.advance(HOUR * 30);
    b.advance(HOUR * 30);
    let da = a.describe_alarms(Default::default()).await.unwrap();
    let db = b.describe_alarms(Default::default()).await.unwrap();
    assert_eq!(da, db);
}
