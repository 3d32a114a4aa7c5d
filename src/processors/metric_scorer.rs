//! The metric scorer: the RCF metric scorer's SageMaker pipeline without SageMaker.
//!
//! Pulls a CloudWatch metric (period 300 s, Average, walking back from now in 1,440-point
//! chunks, as the original's UploadMetricDataToS3 does), scores every point with the shared
//! core's Random Cut Forest at the RCF metric scorer's defaults (one feature, 50 trees, 100 samples per
//! tree), applies the RCF metric scorer's cut-off (a point is anomalous when its score is strictly above
//! mean + k × population std-dev of the batch's scores) and writes `<MetricName>AnomalyIndicator`
//! (1.0 / 0.0) at the original timestamps with storage resolution 60.
//!
//! Unlike the original, the forest is kept between runs (serialised in the state table), so a
//! weekly run scores against everything learned so far instead of needing a monthly retrain.

use super::detector_state::StateTable;
use crate::cloud::{
    Cloud, CloudError, CloudResult, ErrorKind, GetMetricData, MetricDatum, MetricId, MetricQuery,
    Time,
};
use crate::detect::rcf::{RandomCutForest, RcfConfig, anomaly_indicators, batch_cutoff};
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// The original's chunk: 1,440 five-minute points (five days) per request.
pub const CHUNK_POINTS: i64 = 1440;
/// PutMetricData takes at most 1,000 values per request.
const PUT_BATCH: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct MetricScorerConfig {
    pub metric: MetricId,
    pub period: i32,
    pub stat: String,
    /// The RCF metric scorer's k: 2 as its code does (its README says 3).
    pub k: f64,
    /// On the first run: how far back to learn from (the original's 30-day training window).
    pub train_days: i64,
    /// On the first run: the most recent days that are scored (the original's weekly batch).
    pub score_days: i64,
    pub rcf: RcfConfig,
    pub state_table: String,
}

impl MetricScorerConfig {
    pub fn new(metric: MetricId) -> Self {
        MetricScorerConfig {
            metric,
            period: 300,
            stat: "Average".into(),
            k: 2.0,
            train_days: 30,
            score_days: 7,
            rcf: RcfConfig::default(),
            state_table: super::detector_state::DEFAULT_STATE_TABLE.into(),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreReport {
    pub metric: String,
    pub indicator: String,
    pub trained: usize,
    pub scored: usize,
    pub anomalies: usize,
    pub cutoff: Option<f64>,
    /// Timestamps (Unix seconds) written with 1.0.
    pub anomalous_at: Vec<i64>,
}

#[derive(Serialize, Deserialize)]
struct ScorerState {
    forest: RandomCutForest,
    /// The newest timestamp already learned (Unix seconds).
    last: i64,
}

pub async fn run(cloud: &dyn Cloud, config: &MetricScorerConfig) -> CloudResult<ScoreReport> {
    let now = cloud.now();
    let key = format!("rcf/{}", config.metric.display());
    let states = StateTable::new(cloud, &config.state_table);
    let saved: Option<ScorerState> = match states.get(&key).await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
        Ok(None) => None,
        // A missing state table means a first run; anything else is a real failure.
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let (mut forest, since, score_from) = match saved {
        Some(s) => {
            let last = s.last;
            (s.forest, last + 1, last + 1)
        }
        None => {
            let forest = RandomCutForest::new(&config.rcf, config.rcf.shingle).map_err(|e| {
                CloudError::new(
                    ErrorKind::InvalidRequest,
                    "watchband",
                    "ScoreMetric",
                    e.to_string(),
                )
            })?;
            let since = (now - Duration::days(config.train_days)).timestamp();
            let score_from = (now - Duration::days(config.score_days)).timestamp();
            (forest, since, score_from)
        }
    };
    let points = fetch(cloud, config, since, now).await?;

    let mut trained = 0;
    let mut scored_ts = Vec::new();
    let mut scores = Vec::new();
    let mut last = since - 1;
    let mut shingle: Vec<f64> = Vec::with_capacity(config.rcf.shingle);
    for (ts, value) in &points {
        if shingle.len() == config.rcf.shingle {
            shingle.remove(0);
        }
        shingle.push(*value);
        last = last.max(*ts);
        if shingle.len() < config.rcf.shingle {
            continue;
        }
        // A forest holding fewer points than its sample size scores noise; it learns first.
        if *ts >= score_from && forest.sampled() >= config.rcf.sample_size {
            scores.push(forest.score(&shingle));
            scored_ts.push(*ts);
        } else {
            trained += 1;
        }
        forest.update(&shingle);
    }

    let indicators = anomaly_indicators(&scores, config.k);
    let indicator_metric = crate::interop::indicator_metric(&config.metric);
    let datums: Vec<MetricDatum> = scored_ts
        .iter()
        .zip(&indicators)
        .map(|(ts, v)| MetricDatum {
            metric_name: indicator_metric.name.clone(),
            dimensions: indicator_metric.dimensions.clone(),
            timestamp: Time::from_timestamp(*ts, 0).unwrap_or(now),
            value: *v,
            unit: None,
            storage_resolution: Some(60),
        })
        .collect();
    for batch in datums.chunks(PUT_BATCH) {
        cloud
            .put_metric_data(&indicator_metric.namespace, batch.to_vec())
            .await?;
    }
    if !points.is_empty() {
        let state = ScorerState { forest, last };
        let bytes = serde_json::to_vec(&state).expect("forest state serialises");
        states.put(&key, &bytes).await?;
    }
    let anomalous_at: Vec<i64> = scored_ts
        .iter()
        .zip(&indicators)
        .filter(|(_, v)| **v == 1.0)
        .map(|(t, _)| *t)
        .collect();
    Ok(ScoreReport {
        metric: config.metric.display(),
        indicator: indicator_metric.display(),
        trained,
        scored: scores.len(),
        anomalies: anomalous_at.len(),
        cutoff: (!scores.is_empty()).then(|| batch_cutoff(&scores, config.k)),
        anomalous_at,
    })
}

/// The metric's points in `[since, now]`, oldest first, fetched back from now in chunks of
/// 1,440 periods.
async fn fetch(
    cloud: &dyn Cloud,
    config: &MetricScorerConfig,
    since: i64,
    now: Time,
) -> CloudResult<Vec<(i64, f64)>> {
    let period = config.period.max(1) as i64;
    let chunk = Duration::seconds(period * CHUNK_POINTS);
    // Period-aligned bounds, as CloudWatch buckets them, so points keep their own timestamps.
    let align = |t: Time| {
        Time::from_timestamp(t.timestamp() - t.timestamp().rem_euclid(period), 0).unwrap_or(t)
    };
    let first_bucket = since - since.rem_euclid(period);
    let mut end = align(now) + Duration::seconds(period);
    let mut points = Vec::new();
    while end.timestamp() > first_bucket {
        let start = (end - chunk).max(Time::from_timestamp(first_bucket, 0).unwrap_or(end - chunk));
        let results = cloud
            .get_metric_data(GetMetricData {
                queries: vec![MetricQuery::stat(
                    "m1",
                    config.metric.clone(),
                    config.period,
                    config.stat.clone(),
                )],
                start,
                end,
            })
            .await?;
        for r in results.into_iter().filter(|r| r.id == "m1") {
            points.extend(
                r.timestamps
                    .iter()
                    .zip(&r.values)
                    .filter(|(_, v)| v.is_finite())
                    .map(|(t, v)| (t.timestamp(), *v)),
            );
        }
        end = start;
    }
    points.retain(|(t, _)| *t >= since);
    points.sort_by_key(|(t, _)| *t);
    points.dedup_by_key(|(t, _)| *t);
    Ok(points)
}
