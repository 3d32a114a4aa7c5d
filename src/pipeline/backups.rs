//! The backups collector: protected EBS volumes carrying the configured tag key, their
//! completed recovery points, the changed blocks between consecutive snapshots and the
//! detector's verdict on each — the AWS Backup changed-block pipeline, computed above the seam.
//!
//! New backups are noticed by polling recovery points (the EventBridge-equivalent): a volume's
//! points are re-listed when its `last_backup` moved. Pair counts come from the
//! [`ChangeCounter`](super::changes::ChangeCounter), cached in the store, so a restart recounts
//! nothing. With `publish` on, `BACKUP/BACKUP_CHANGED_BLOCKS` is written for volumes whose
//! metric does not exist yet (no the changed-block pipeline function processes them); CloudWatch's own band is
//! read back when the metric has an anomaly detector.

use super::changes::SnapshotPair;
use super::events::{BandPoint, ChangePoint, Event, Source, VolumeInfo, VolumeSeries};
use super::{Ctx, bands, pause};
use crate::cloud::{MetricDatum, ProtectedResource, RecoveryPoint, Time, collect_pages};
use crate::detect::{
    Algo, AnyDetector, BandConfig, DetectError, Detector, DetectorConfig, Seasonality, ValueRange,
    Verdict,
};
use crate::interop;
use crate::sanitize::clean;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const GIB: f64 = (1u64 << 30) as f64;
/// CloudWatch refuses data points older than two weeks.
const PUBLISH_WINDOW_DAYS: i64 = 14;
/// The CloudWatch band is re-read at most this often per volume (in polls) when nothing
/// changed, since a detector retrains slowly.
const BAND_REFRESH_POLLS: u32 = 12;

/// What the collector remembers about one volume between polls.
struct VolumeState {
    info: VolumeInfo,
    /// `last_backup` when the recovery points were last listed.
    listed_at: Option<Option<Time>>,
    points: Vec<ChangePoint>,
    judge: ChangeJudge,
    cloudwatch_band: Vec<BandPoint>,
    polls_since_band: u32,
    /// The metric was absent when first checked, so watchband publishes it.
    publishing: bool,
    /// Newest point time already published.
    published_until: Option<Time>,
}

/// The interval a count is assumed to cover when the snapshot before it is unknown: the
/// daily backup plan's.
pub const DEFAULT_INTERVAL_SECS: i64 = 86_400;

/// Judges changed-block counts by the interval they cover, for the TUI's pipeline and the
/// backup processor alike: a count becomes blocks per day over the time since the snapshot
/// before it, and is scored against the like rates of the volume's other backups. So an
/// on-demand backup 12 h after the daily one is compared with half a day's usual change, not a
/// whole day's. The verdict's value and band are given back in blocks for that interval.
pub struct ChangeJudge {
    detector: AnyDetector,
}

impl ChangeJudge {
    pub fn new(width: f64) -> ChangeJudge {
        ChangeJudge {
            detector: volume_detector(width),
        }
    }

    /// Scores `blocks` changed between the snapshot at `since` (None: unknown, taken as
    /// [`DEFAULT_INTERVAL_SECS`]) and the one at `at`.
    pub fn observe(
        &mut self,
        since: Option<i64>,
        at: i64,
        blocks: f64,
    ) -> Result<Verdict, DetectError> {
        // A minute at least: two snapshots in the same second would make any count infinite.
        let interval = since
            .map(|s| at - s)
            .unwrap_or(DEFAULT_INTERVAL_SECS)
            .max(60);
        let scale = interval as f64 / DEFAULT_INTERVAL_SECS as f64;
        let mut verdict = self.detector.observe(at, blocks / scale)?;
        verdict.value = blocks;
        if let Some(b) = &mut verdict.band {
            b.expected *= scale;
            b.lower *= scale;
            b.upper *= scale;
        }
        Ok(verdict)
    }
}

/// Scores a count against the volume's history of `(time, blocks)` counts, oldest first, each
/// covering the interval since the one before it: [`ChangeJudge`] over the history, then the
/// new count, which covers the time since the last history point.
pub fn judge_count(
    width: f64,
    history: &[(i64, f64)],
    at: i64,
    blocks: f64,
) -> Result<Verdict, DetectError> {
    let mut judge = ChangeJudge::new(width);
    let mut since = None;
    for &(t, v) in history {
        let _ = judge.observe(since, t, v);
        since = Some(t);
    }
    judge.observe(since, at, blocks)
}

/// The detector for a volume's daily change counts: weekly seasonality, never negative.
fn volume_detector(width: f64) -> AnyDetector {
    let config = DetectorConfig {
        algo: Algo::Band,
        band: BandConfig {
            width,
            seasonality: Seasonality::Weekly,
            range: ValueRange::NonNegative,
            ..BandConfig::default()
        },
        ..DetectorConfig::default()
    };
    AnyDetector::new(&config).unwrap_or_else(|_| {
        // The width came from the configuration; fall back to CloudWatch's default.
        AnyDetector::new(&DetectorConfig {
            band: BandConfig {
                width: 2.0,
                ..config.band.clone()
            },
            ..config
        })
        .expect("the default band configuration is valid")
    })
}

pub(crate) async fn run(ctx: Arc<Ctx>) {
    let wake = ctx.refresh.subscribe();
    let (vault, iam_role_arn) = backup_setup(&ctx).await;
    if !ctx
        .emit(Event::BackupSetup {
            vault,
            iam_role_arn,
        })
        .await
    {
        return;
    }
    let mut volumes: BTreeMap<String, VolumeState> = BTreeMap::new();
    loop {
        if !poll(&ctx, &mut volumes).await {
            return;
        }
        pause(ctx.config.intervals.backups, &wake).await;
    }
}

/// The vault and role for on-demand backups: the configuration's, else those of the backup
/// plan that selects volumes by the tag key (the changed-block pipeline's), else the plan's first.
async fn backup_setup(ctx: &Ctx) -> (String, Option<String>) {
    let mut vault = ctx.config.vault.clone();
    let mut role = (!ctx.config.backup_role.is_empty()).then(|| ctx.config.backup_role.clone());
    if role.is_some() {
        return (vault, role);
    }
    let Ok(plans) = ctx
        .call(Source::Backups, || ctx.cloud.list_backup_plans())
        .await
    else {
        return (vault, role);
    };
    for plan in &plans {
        let Ok(selections) = ctx
            .call(Source::Backups, || {
                ctx.cloud.list_backup_selections(&plan.id)
            })
            .await
        else {
            continue;
        };
        let chosen = selections
            .iter()
            .find(|s| s.tag_keys.contains(&ctx.config.tag_key))
            .or(selections.first());
        if let Some(s) = chosen {
            role = Some(clean(&s.iam_role_arn));
            if let Some(rule) = plan.rules.first() {
                vault = clean(&rule.vault);
            }
            if s.tag_keys.contains(&ctx.config.tag_key) {
                break;
            }
        }
    }
    (vault, role)
}

/// One pass; `false` once the app has gone.
async fn poll(ctx: &Arc<Ctx>, volumes: &mut BTreeMap<String, VolumeState>) -> bool {
    let cloud = &ctx.cloud;
    let resources = match ctx
        .call(Source::Backups, || {
            collect_pages(|t| cloud.list_protected_resources(t))
        })
        .await
    {
        Ok(r) => r,
        // Reported to health; the last inventory stays on screen.
        Err(_) => return !ctx.events.is_closed(),
    };
    let resources: Vec<ProtectedResource> = resources
        .into_iter()
        .filter(|r| r.resource_type == "EBS" && interop::volume_id_in(&r.arn).is_some())
        .collect();

    // Tags are read once per volume: the changed-block pipeline selects by tag key, and names live in tags.
    for r in &resources {
        if volumes.contains_key(&r.arn) {
            continue;
        }
        let Ok(tags) = ctx.call(Source::Backups, || cloud.list_tags(&r.arn)).await else {
            continue;
        };
        let tags: BTreeMap<String, String> = tags
            .into_iter()
            .map(|(k, v)| (clean(&k), clean(&v)))
            .collect();
        if !tags.contains_key(&ctx.config.tag_key) {
            continue;
        }
        let volume_id = interop::volume_id_in(&r.arn)
            .unwrap_or_default()
            .to_string();
        let name = tags
            .get("Name")
            .cloned()
            .or_else(|| r.name.as_deref().map(clean))
            .unwrap_or_else(|| volume_id.clone());
        volumes.insert(
            r.arn.clone(),
            VolumeState {
                info: VolumeInfo {
                    arn: clean(&r.arn),
                    volume_id,
                    name,
                    tags,
                    size_gib: None,
                    last_backup: r.last_backup,
                    last_snapshot: None,
                    alarm_name: None,
                },
                listed_at: None,
                points: Vec::new(),
                judge: ChangeJudge::new(ctx.config.band_width),
                cloudwatch_band: Vec::new(),
                polls_since_band: BAND_REFRESH_POLLS,
                publishing: false,
                published_until: None,
            },
        );
    }

    let published: Option<BTreeSet<String>> = if ctx.config.publish && !ctx.config.read_only {
        published_volumes(ctx).await
    } else {
        None
    };
    let alarms = ctx.known_alarms();

    let inventory = |volumes: &BTreeMap<String, VolumeState>| -> Vec<VolumeInfo> {
        volumes
            .values()
            .filter(|v| resources.iter().any(|r| r.arn == v.info.arn))
            .map(|v| v.info.clone())
            .collect()
    };
    // The inventory first, so the table fills before the first counts are in.
    let mut sent = inventory(volumes);
    if !ctx.emit(Event::Volumes(sent.clone())).await {
        return false;
    }
    for r in &resources {
        let Some(state) = volumes.get_mut(&r.arn) else {
            continue;
        };
        state.info.last_backup = r.last_backup;
        let alarm = interop::backup_alarm_name(&r.arn);
        state.info.alarm_name = alarms.contains(&alarm).then_some(alarm);
        if let Some(published) = &published
            && state.published_until.is_none()
            && !state.publishing
            && !published.contains(&r.arn)
        {
            state.publishing = true;
        }
        let mut series_changed = false;
        if state.listed_at != Some(r.last_backup) {
            let (added, complete) = update_series(ctx, state).await;
            series_changed = added;
            // An incomplete pass is retried at the next poll.
            if complete {
                state.listed_at = Some(r.last_backup);
            }
        }
        if state.publishing {
            publish(ctx, state).await;
        }
        state.polls_since_band += 1;
        if series_changed || state.polls_since_band >= BAND_REFRESH_POLLS {
            state.polls_since_band = 0;
            if let Some(band) = cloudwatch_band(ctx, state).await
                && band != state.cloudwatch_band
            {
                state.cloudwatch_band = band;
                series_changed = true;
            }
        }
        if series_changed {
            let series = VolumeSeries {
                volume_arn: state.info.arn.clone(),
                points: state.points.clone(),
                cloudwatch_band: state.cloudwatch_band.clone(),
            };
            if !ctx.emit(Event::VolumeSeries(series)).await {
                return false;
            }
        }
    }
    let now = inventory(volumes);
    if now != sent {
        sent = now;
        if !ctx.emit(Event::Volumes(sent)).await {
            return false;
        }
    }
    true
}

/// Lists the volume's completed recovery points and counts the pairs not seen yet.
/// Returns (points were added, every pair was counted).
async fn update_series(ctx: &Arc<Ctx>, state: &mut VolumeState) -> (bool, bool) {
    let cloud = &ctx.cloud;
    let arn = state.info.arn.clone();
    let Ok(points) = ctx
        .call(Source::Backups, || {
            collect_pages(|t| cloud.list_recovery_points_by_resource(&arn, t))
        })
        .await
    else {
        return (false, false);
    };
    let snapshots = completed_snapshots(points);
    if let Some((_, last)) = snapshots.last() {
        state.info.last_snapshot = Some(last.clone());
    }
    // Resume after the newest pair already in the series.
    let start = match state.points.last() {
        Some(p) => match snapshots.iter().position(|(_, s)| *s == p.second_snapshot) {
            Some(i) => i,
            // The series' last snapshot is gone (expired); keep what we have and go on from
            // the snapshots newer than it.
            None => snapshots
                .iter()
                .position(|(t, _)| *t > p.time)
                .map(|i| i.saturating_sub(1))
                .unwrap_or(snapshots.len()),
        },
        None => 0,
    };
    let todo = &snapshots[start.min(snapshots.len())..];
    let pairs: Vec<SnapshotPair> = todo
        .windows(2)
        .map(|w| SnapshotPair::new(Some(&w[0].1), &w[1].1))
        .collect();
    // Counted concurrently (bounded), applied in order.
    let counts = ctx.counter.count_many(&pairs).await;
    let mut added = false;
    for (pair, (count, window)) in pairs.iter().zip(counts.into_iter().zip(todo.windows(2))) {
        let time = window[1].0;
        let count = match count {
            Ok(c) => {
                ctx.health.ok(Source::Backups).await;
                c
            }
            Err(e) => {
                ctx.health.error(Source::Backups, &e).await;
                // Stop here so the series never skips a pair; the next poll resumes.
                return (added, false);
            }
        };
        let size_bytes = count.volume_size_gib as f64 * GIB;
        let changed_bytes = count.changed_bytes() as f64;
        let since = window[0].0.timestamp();
        let Ok(verdict) = state
            .judge
            .observe(Some(since), time.timestamp(), count.blocks as f64)
        else {
            continue;
        };
        state.info.size_gib = Some(count.volume_size_gib);
        state.points.push(ChangePoint {
            first_snapshot: pair.first.clone().unwrap_or_default(),
            second_snapshot: pair.second.clone(),
            time,
            changed_blocks: count.blocks,
            block_size: count.block_size.max(0) as u64,
            changed_gib: changed_bytes / GIB,
            percent_of_volume: if size_bytes > 0.0 {
                (changed_bytes / size_bytes * 100.0).min(100.0)
            } else {
                0.0
            },
            verdict,
        });
        added = true;
    }
    (added, true)
}

/// Completed EBS snapshots, oldest first, as (creation time, snapshot id).
fn completed_snapshots(points: Vec<RecoveryPoint>) -> Vec<(Time, String)> {
    let mut out: Vec<(Time, String)> = points
        .iter()
        .filter(|p| p.status == "COMPLETED")
        .filter_map(|p| Some((p.created, clean(p.snapshot_id()?))))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.1 == b.1);
    out
}

/// Volume ARNs that already have a `BACKUP_CHANGED_BLOCKS` metric.
async fn published_volumes(ctx: &Arc<Ctx>) -> Option<BTreeSet<String>> {
    let metrics = ctx
        .call(Source::Backups, || {
            ctx.cloud.list_metrics(
                Some(interop::BACKUP_NAMESPACE),
                Some(interop::BACKUP_METRIC),
            )
        })
        .await
        .ok()?;
    Some(
        metrics
            .into_iter()
            .flat_map(|m| m.dimensions)
            .filter(|(k, _)| k == interop::BACKUP_DIMENSION)
            .map(|(_, v)| v)
            .collect(),
    )
}

/// Publishes the points not published yet that CloudWatch still accepts.
async fn publish(ctx: &Arc<Ctx>, state: &mut VolumeState) {
    let oldest = ctx.cloud.now() - chrono::Duration::days(PUBLISH_WINDOW_DAYS);
    let data: Vec<MetricDatum> = state
        .points
        .iter()
        .filter(|p| p.time > oldest && state.published_until.is_none_or(|u| p.time > u))
        .map(|p| MetricDatum {
            metric_name: interop::BACKUP_METRIC.into(),
            dimensions: vec![(interop::BACKUP_DIMENSION.into(), state.info.arn.clone())],
            timestamp: p.time,
            value: p.changed_blocks as f64,
            unit: None,
            storage_resolution: None,
        })
        .collect();
    if data.is_empty() {
        return;
    }
    let newest = data.iter().map(|d| d.timestamp).max();
    // PutMetricData takes at most 1000 data points per call.
    for chunk in data.chunks(1000) {
        let sent = ctx
            .call(Source::Backups, || {
                ctx.cloud
                    .put_metric_data(interop::BACKUP_NAMESPACE, chunk.to_vec())
            })
            .await;
        if sent.is_err() {
            return;
        }
    }
    state.published_until = newest;
}

/// CloudWatch's band over the series, when the metric has an anomaly detector.
async fn cloudwatch_band(ctx: &Arc<Ctx>, state: &VolumeState) -> Option<Vec<BandPoint>> {
    let first = state.points.first()?.time;
    let last = state.points.last()?.time;
    let metric = interop::backup_metric(&state.info.arn);
    let detectors = ctx
        .call(Source::Backups, || {
            ctx.cloud.describe_anomaly_detectors(Some(&metric))
        })
        .await
        .ok()?;
    if detectors.is_empty() {
        return Some(Vec::new());
    }
    let stat = detectors[0].stat.clone();
    let request = bands::band_request(
        &metric,
        &stat,
        60,
        ctx.config.band_width,
        first - chrono::Duration::hours(1),
        last + chrono::Duration::hours(1),
    );
    let results = ctx
        .call(Source::Backups, || {
            ctx.cloud.get_metric_data(request.clone())
        })
        .await
        .ok()?;
    Some(bands::band_of(&results))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Five weeks of daily backups changing about 34,000 blocks a day.
    fn daily_history() -> Vec<(i64, f64)> {
        (0..35)
            .map(|d| {
                let wobble = ((d * 7919) % 11) as f64 * 150.0;
                (d * 86_400, 33_500.0 + wobble)
            })
            .collect()
    }

    #[test]
    fn an_on_demand_backup_is_judged_by_the_interval_it_covers() {
        let history = daily_history();
        let last = history.last().unwrap().0;
        // 12 h after the daily one, half a day's usual change: normal.
        let v = judge_count(2.0, &history, last + 12 * 3_600, 17_152.0).unwrap();
        assert!(v.is_ready());
        assert!(!v.anomalous, "{v:?}");
        assert_eq!(v.value, 17_152.0);
        let band = v.band.unwrap();
        assert!(band.upper < 30_000.0, "the band is half a day's: {band:?}");
        // A day's whole change squeezed into 12 h is twice the usual rate: anomalous.
        let burst = judge_count(2.0, &history, last + 12 * 3_600, 40_000.0).unwrap();
        assert!(burst.anomalous, "{burst:?}");
        // The daily backup itself is judged as before.
        let daily = judge_count(2.0, &history, last + 86_400, 34_000.0).unwrap();
        assert!(!daily.anomalous, "{daily:?}");
    }

    #[test]
    fn the_pipeline_and_the_processor_judge_alike() {
        // The pipeline observes pair by pair with each pair's own interval; the processor
        // rebuilds the judge from the published history. Same verdicts.
        let history = daily_history();
        let mut judge = ChangeJudge::new(2.0);
        let mut since = None;
        for &(t, v) in &history {
            judge.observe(since, t, v).unwrap();
            since = Some(t);
        }
        let at = history.last().unwrap().0 + 12 * 3_600;
        let incremental = judge.observe(since, at, 17_152.0).unwrap();
        let rebuilt = judge_count(2.0, &history, at, 17_152.0).unwrap();
        assert_eq!(incremental, rebuilt);
    }
}
