//! From detection to recovery on the demo account, through the pipeline: an encryption burst,
//! the last clean recovery point found in the volume's series, a legal hold on it, and a
//! restore job that runs for minutes and ends with a new volume; a bad role fails with its
//! reason; `--read-only` refuses both.

use crate::support::pipeline::*;
use crate::support::sim::paused;
use std::time::Duration;
use watchband::cloud::{Cloud, RestoreJobState};
use watchband::pipeline::{ChangePoint, Command, Event, RestoreProgress};

/// Moves the simulated clock while the pipeline runs.
fn tick(cloud: std::sync::Arc<watchband::cloud::sim::SimCloud>, step: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            cloud.advance(step);
        }
    });
}

/// The last clean point of a series: (snapshot id, its creation time).
fn last_clean(points: &[ChangePoint]) -> Option<(String, watchband::cloud::Time)> {
    let flags: Vec<bool> = std::iter::once(false)
        .chain(points.iter().map(|p| p.verdict.anomalous))
        .collect();
    let i = watchband::detect::last_clean::last_clean(&flags)?;
    // Point i ends the count points[i - 1]; point 0 is points[0]'s first snapshot.
    assert!(i > 0, "the demo's history starts clean");
    Some((points[i - 1].second_snapshot.clone(), points[i - 1].time))
}

fn restores(seen: &[Event]) -> Vec<RestoreProgress> {
    seen.iter()
        .filter_map(|e| match e {
            Event::Restore(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_burst_its_last_clean_point_held_and_restored_to_a_new_volume() {
    let cloud = paused(7);
    let volume = cloud.volume_arns()[0].clone();
    let region = cloud.caller_identity().await.unwrap().region;
    let mut run = start(cloud.clone(), None, config());
    let role = run
        .until(
            Duration::from_secs(30),
            "the backup setup",
            |e, _| match e {
                Event::BackupSetup { iam_role_arn, .. } => iam_role_arn.clone(),
                _ => None,
            },
        )
        .await;
    cloud.demo().unwrap().inject_burst(&volume).unwrap();
    tick(cloud.clone(), Duration::from_secs(900));
    let points = run
        .until(
            Duration::from_secs(600),
            "the burst in the series",
            |e, _| match e {
                Event::VolumeSeries(s)
                    if s.volume_arn == volume
                        && s.points.last().is_some_and(|p| p.verdict.anomalous) =>
                {
                    Some(s.points.clone())
                }
                _ => None,
            },
        )
        .await;
    let (snapshot, created) = last_clean(&points).expect("a last clean point");
    // A single burst: the last clean point is the backup just before it.
    assert_eq!(snapshot, points.last().unwrap().first_snapshot);
    let rp = format!("arn:aws:ec2:{region}::snapshot/{snapshot}");

    run.send(Command::Protect {
        volume_arn: volume.clone(),
        recovery_point_arn: rp.clone(),
        vault: "Default".into(),
        created,
    })
    .await;
    let hold = run
        .until(Duration::from_secs(30), "the legal hold", |e, _| match e {
            Event::Hold(h) => Some(h.clone()),
            _ => None,
        })
        .await;
    assert_eq!(hold.recovery_point_arn, rp);
    assert_eq!(hold.status, "ACTIVE");

    let before = cloud.volume_arns();
    run.send(Command::Restore {
        volume_arn: volume.clone(),
        recovery_point_arn: rp.clone(),
        vault: "Default".into(),
        iam_role_arn: role,
    })
    .await;
    let done = run
        .until(
            Duration::from_secs(600),
            "the restore to finish",
            |e, _| match e {
                Event::Restore(r) if r.state.is_terminal() => Some(r.clone()),
                _ => None,
            },
        )
        .await;
    assert_eq!(
        done.state,
        RestoreJobState::Completed,
        "{:?}",
        done.status_message
    );
    let new = done.new_volume_id.clone().expect("the new volume");
    assert!(new.starts_with("vol-0") && new.len() == 21, "{new}");
    assert!(
        !volume.ends_with(&new),
        "the restore must not reuse the original"
    );
    assert!(
        done.availability_zone.starts_with(&region),
        "{}",
        done.availability_zone
    );
    // A realistic duration: minutes of the account's time, shown as progress on the way.
    let minutes = (done.completed.unwrap() - done.created).num_minutes();
    assert!((3..=20).contains(&minutes), "restore took {minutes} min");
    let percents: Vec<f64> = restores(&run.seen).iter().map(|r| r.percent_done).collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    // The original volume is still there, unchanged in the inventory.
    assert_eq!(cloud.volume_arns(), before);
    run.until(Duration::from_secs(5), "the outcome", |e, _| match e {
        Event::Outcome(o) if o.ok && o.command == "restore" && o.message.contains(&new) => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_restore_with_a_role_backup_cannot_assume_fails_and_read_only_refuses_both() {
    let cloud = paused(7);
    let volume = cloud.volume_arns()[1].clone();
    let point =
        watchband::cloud::collect_pages(|t| cloud.list_recovery_points_by_resource(&volume, t))
            .await
            .unwrap()
            .remove(0);
    let mut run = start(cloud.clone(), None, config());
    tick(cloud.clone(), Duration::from_secs(30));
    run.send(Command::Restore {
        volume_arn: volume.clone(),
        recovery_point_arn: point.arn.clone(),
        vault: "Default".into(),
        iam_role_arn: "arn:aws:iam::123456789012:role/NotARole".into(),
    })
    .await;
    let failed = run
        .until(
            Duration::from_secs(600),
            "the restore to fail",
            |e, _| match e {
                Event::Restore(r) if r.state.is_terminal() => Some(r.clone()),
                _ => None,
            },
        )
        .await;
    assert_eq!(failed.state, RestoreJobState::Failed);
    assert!(failed.status_message.unwrap().contains("IAM role"));
    assert!(failed.new_volume_id.is_none());

    let mut c = config();
    c.read_only = true;
    let mut ro = start(cloud.clone(), None, c);
    ro.send(Command::Protect {
        volume_arn: volume.clone(),
        recovery_point_arn: point.arn.clone(),
        vault: "Default".into(),
        created: point.created,
    })
    .await;
    ro.send(Command::Restore {
        volume_arn: volume,
        recovery_point_arn: point.arn,
        vault: "Default".into(),
        iam_role_arn: "x".into(),
    })
    .await;
    for what in ["protect", "restore"] {
        let o = ro
            .until(Duration::from_secs(5), "the refusal", |e, _| match e {
                Event::Outcome(o) => Some(o.clone()),
                _ => None,
            })
            .await;
        assert!(
            !o.ok && o.command == what && o.message.contains("--read-only"),
            "{o:?}"
        );
    }
    assert!(restores(&ro.seen).is_empty());
}
