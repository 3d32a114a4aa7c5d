//! The backups collector and on-demand jobs against the simulated account: inventory, change
//! series with verdicts counted exactly as EBS reports them, a job followed to completion and
//! its new pair counted, a failing job with its reason, and `--read-only`.

use crate::support::pipeline::*;
use crate::support::sim::paused;
use std::collections::BTreeMap;
use std::time::Duration;
use watchband::cloud::{BackupJobState, Cloud, ListChangedBlocks};
use watchband::pipeline::{Command, Event, VolumeInfo, VolumeSeries};

fn latest_series(seen: &[Event]) -> BTreeMap<String, VolumeSeries> {
    let mut out = BTreeMap::new();
    for e in seen {
        if let Event::VolumeSeries(s) = e {
            out.insert(s.volume_arn.clone(), s.clone());
        }
    }
    out
}

fn inventory(seen: &[Event]) -> Vec<VolumeInfo> {
    seen.iter()
        .rev()
        .find_map(|e| match e {
            Event::Volumes(v) => Some(v.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn volumes_and_change_series_match_ebs() {
    let cloud = paused(7);
    let mut run = start(cloud.clone(), None, config());
    run.until(
        Duration::from_secs(60),
        "a series for every backed-up volume",
        |_, seen| {
            let inv = inventory(seen);
            let series = latest_series(seen);
            (inv.len() >= 8
                && inv
                    .iter()
                    .filter(|v| v.last_snapshot.is_some())
                    .all(|v| series.contains_key(&v.arn)))
            .then_some(())
        },
    )
    .await;
    run.drain_for(Duration::from_secs(2)).await;
    let inv = inventory(&run.seen);
    assert!((8..=12).contains(&inv.len()), "{} volumes", inv.len());
    assert!(
        inv.iter()
            .all(|v| v.volume_id.starts_with("vol-") && !v.name.is_empty())
    );
    let series = latest_series(&run.seen);
    for s in series.values() {
        assert!(
            s.points.len() >= 60,
            "{} has {} points",
            s.volume_arn,
            s.points.len()
        );
        for w in s.points.windows(2) {
            assert_eq!(
                w[0].second_snapshot, w[1].first_snapshot,
                "pairs are consecutive"
            );
            assert!(w[0].time < w[1].time);
        }
        let p = s.points.last().unwrap();
        assert!(
            p.verdict.is_ready(),
            "no band after 60 days on {}",
            s.volume_arn
        );
        assert!((0.0..=100.0).contains(&p.percent_of_volume));
        assert_eq!(p.verdict.value, p.changed_blocks as f64);
    }
    // Brute force: the newest pair of one volume, counted page by page here.
    let s = series.values().next().unwrap();
    let p = s.points.last().unwrap();
    let mut token = None;
    let mut blocks = 0u64;
    loop {
        let page = cloud
            .list_changed_blocks(ListChangedBlocks {
                first_snapshot_id: Some(p.first_snapshot.clone()),
                second_snapshot_id: p.second_snapshot.clone(),
                next_token: token.take(),
                max_results: Some(100),
            })
            .await
            .unwrap();
        blocks += page.block_indices.len() as u64;
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(blocks, p.changed_blocks);
    let gib = (p.changed_blocks * p.block_size) as f64 / (1u64 << 30) as f64;
    assert!((p.changed_gib - gib).abs() < 1e-9);
}

/// Moves the simulated clock while the pipeline runs (jobs take simulated minutes).
fn tick(cloud: std::sync::Arc<watchband::cloud::sim::SimCloud>, step: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            cloud.advance(step);
        }
    });
}

#[tokio::test(start_paused = true)]
async fn an_on_demand_backup_runs_to_completion_and_its_pair_is_counted() {
    let cloud = paused(7);
    let mut run = start(cloud.clone(), None, config());
    let (vault, role) = run
        .until(
            Duration::from_secs(30),
            "the backup setup",
            |e, _| match e {
                Event::BackupSetup {
                    vault,
                    iam_role_arn,
                } => Some((vault.clone(), iam_role_arn.clone())),
                _ => None,
            },
        )
        .await;
    let role = role.expect("the changed-block pipeline's plan names a role");
    let volume = run
        .until(
            Duration::from_secs(60),
            "a volume with a series",
            |e, _| match e {
                Event::VolumeSeries(s) if !s.points.is_empty() => Some(s.volume_arn.clone()),
                _ => None,
            },
        )
        .await;
    tick(cloud.clone(), Duration::from_secs(15));
    run.send(Command::StartBackup {
        volume_arn: volume.clone(),
        vault,
        iam_role_arn: role,
    })
    .await;
    let mut percents = Vec::new();
    let done = run
        .until(
            Duration::from_secs(600),
            "the job to finish",
            |e, _| match e {
                Event::Job(j) => {
                    percents.push(j.percent_done);
                    j.state.is_terminal().then(|| j.clone())
                }
                _ => None,
            },
        )
        .await;
    assert_eq!(
        done.state,
        BackupJobState::Completed,
        "{:?}",
        done.status_message
    );
    assert!(
        percents.windows(2).all(|w| w[0] <= w[1]),
        "progress went back: {percents:?}"
    );
    assert!(
        percents.iter().any(|p| *p > 0.0 && *p < 100.0),
        "no progress shown: {percents:?}"
    );
    let snapshot = watchband::interop::snapshot_id_in(done.recovery_point_arn.as_deref().unwrap())
        .unwrap()
        .to_string();
    run.until(
        Duration::from_secs(60),
        "the new pair in the series",
        |e, _| match e {
            Event::VolumeSeries(s) if s.volume_arn == volume => s
                .points
                .last()
                .is_some_and(|p| p.second_snapshot == snapshot)
                .then_some(()),
            _ => None,
        },
    )
    .await;
    assert!(run.seen.iter().any(
        |e| matches!(e, Event::Outcome(o) if o.ok && o.command == "start backup" && o.message.contains("COMPLETED"))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_failing_job_reports_its_reason_and_read_only_refuses() {
    let cloud = paused(7);
    let volume = cloud.volume_arns()[0].clone();
    let mut run = start(cloud.clone(), None, config());
    tick(cloud.clone(), Duration::from_secs(15));
    run.send(Command::StartBackup {
        volume_arn: volume.clone(),
        vault: "Default".into(),
        iam_role_arn: "arn:aws:iam::123456789012:role/NotARole".into(),
    })
    .await;
    let failed = run
        .until(
            Duration::from_secs(600),
            "the job to fail",
            |e, _| match e {
                Event::Job(j) if j.state.is_terminal() => Some(j.clone()),
                _ => None,
            },
        )
        .await;
    assert_eq!(failed.state, BackupJobState::Failed);
    assert!(failed.status_message.unwrap().contains("IAM role"));
    run.until(
        Duration::from_secs(5),
        "the failure outcome",
        |e, _| match e {
            Event::Outcome(o) if !o.ok && o.message.contains(&volume) => Some(()),
            _ => None,
        },
    )
    .await;

    let mut c = config();
    c.read_only = true;
    let mut ro = start(cloud.clone(), None, c);
    ro.send(Command::StartBackup {
        volume_arn: volume,
        vault: "Default".into(),
        iam_role_arn: "x".into(),
    })
    .await;
    let o = ro
        .until(Duration::from_secs(5), "the refusal", |e, _| match e {
            Event::Outcome(o) => Some(o.clone()),
            _ => None,
        })
        .await;
    assert!(!o.ok && o.message.contains("--read-only"), "{o:?}");
}
