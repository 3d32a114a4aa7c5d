//! Metric series for the Metrics view (the RCF metric scorer's case): the history of each watched metric
//! from GetMetricData, the local detector's verdicts (band or Random Cut Forest, switchable),
//! CloudWatch's band when the metric has an anomaly detector, and the RCF metric scorer's
//! `<Metric>AnomalyIndicator` points when that series exists.
//!
//! With nothing configured, `AWS/EC2 CPUUtilization` of every instance ListMetrics finds is
//! watched (Average over 300 s, as the RCF metric scorer reads it), and the `BACKUP_CHANGED_BLOCKS` metrics
//! (Maximum over 60 s, as the changed-block pipeline's alarm reads them).

use super::config::WatchedMetric;
use super::events::{Event, MetricDetector, MetricSeries, Source};
use super::{Ctx, bands, pause};
use crate::cloud::{MetricId, MetricQuery};
use crate::detect::{Algo, AnyDetector, BandConfig, Detector, DetectorConfig, ValueRange};
use crate::interop;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;

const INDICATOR_ID: &str = "ind";

/// What the command loop asks of the metrics task.
#[derive(Debug)]
pub(crate) enum MetricRequest {
    Select(MetricId),
    Detector(MetricDetector),
    List(Option<String>),
}

pub(crate) async fn run(ctx: Arc<Ctx>, mut requests: mpsc::Receiver<MetricRequest>) {
    let wake = ctx.refresh.subscribe();
    let mut detector = MetricDetector::default();
    let mut watched: Vec<WatchedMetric> = ctx.config.metrics.clone();
    let discover = watched.is_empty();
    // The last history per metric, so a detector switch re-scores without a call.
    let mut cache: BTreeMap<WatchedMetric, Fetched> = BTreeMap::new();
    loop {
        if discover && let Some(found) = discovered(&ctx).await {
            for m in found {
                if !watched.contains(&m) {
                    watched.push(m);
                }
            }
        }
        for m in watched.clone() {
            if let Some(f) = fetch(&ctx, &m).await {
                cache.insert(m.clone(), f);
            }
            if let Some(f) = cache.get(&m)
                && !ctx.emit(Event::Metric(series(&ctx, &m, f, detector))).await
            {
                return;
            }
        }
        if ctx.events.is_closed() {
            return;
        }
        tokio::select! {
            _ = pause(ctx.config.intervals.metrics, &wake) => {}
            Some(request) = requests.recv() => match request {
                MetricRequest::Select(metric) => {
                    let m = WatchedMetric { metric, stat: "Average".into(), period: 300 };
                    if !watched.iter().any(|w| w.metric == m.metric) {
                        watched.push(m);
                    }
                }
                MetricRequest::Detector(d) => {
                    detector = d;
                    // Re-score from the cache first so the switch shows at once.
                    for m in &watched {
                        if let Some(f) = cache.get(m)
                            && !ctx.emit(Event::Metric(series(&ctx, m, f, detector))).await
                        {
                            return;
                        }
                    }
                }
                MetricRequest::List(namespace) => {
                    if let Ok(mut list) = ctx
                        .call(Source::Metrics, || ctx.cloud.list_metrics(namespace.as_deref(), None))
                        .await
                    {
                        list.sort();
                        list.dedup();
                        let list = list.into_iter().map(clean_metric).collect();
                        if !ctx.emit(Event::MetricList(list)).await {
                            return;
                        }
                    }
                }
            },
        }
    }
}

fn clean_metric(m: MetricId) -> MetricId {
    use crate::sanitize::clean;
    MetricId {
        namespace: clean(&m.namespace),
        name: clean(&m.name),
        dimensions: m
            .dimensions
            .iter()
            .map(|(k, v)| (clean(k), clean(v)))
            .collect(),
    }
}

/// The default watch list: EC2 CPU of every instance and every BACKUP_CHANGED_BLOCKS metric.
async fn discovered(ctx: &Ctx) -> Option<Vec<WatchedMetric>> {
    let cpu = ctx
        .call(Source::Metrics, || {
            ctx.cloud
                .list_metrics(Some("AWS/EC2"), Some("CPUUtilization"))
        })
        .await
        .ok()?;
    let backup = ctx
        .call(Source::Metrics, || {
            ctx.cloud.list_metrics(
                Some(interop::BACKUP_NAMESPACE),
                Some(interop::BACKUP_METRIC),
            )
        })
        .await
        .ok()?;
    let mut out: Vec<WatchedMetric> = cpu
        .into_iter()
        .filter(|m| m.dimensions.iter().any(|(k, _)| k == "InstanceId"))
        .map(|metric| WatchedMetric {
            metric,
            stat: "Average".into(),
            period: 300,
        })
        .collect();
    out.extend(backup.into_iter().map(|metric| WatchedMetric {
        metric,
        stat: "Maximum".into(),
        period: 60,
    }));
    out.sort_by(|a, b| a.metric.cmp(&b.metric));
    Some(out)
}

/// One metric's history and CloudWatch's views of it.
struct Fetched {
    values: Vec<(crate::cloud::Time, f64)>,
    band: Vec<super::events::BandPoint>,
    indicator: Vec<(crate::cloud::Time, f64)>,
}

async fn fetch(ctx: &Ctx, m: &WatchedMetric) -> Option<Fetched> {
    let end = ctx.cloud.now();
    let start = end - chrono::Duration::days(ctx.config.metric_history_days.max(1));
    let has_detector = ctx
        .call(Source::Metrics, || {
            ctx.cloud.describe_anomaly_detectors(Some(&m.metric))
        })
        .await
        .map(|d| !d.is_empty())
        .unwrap_or(false);
    let mut request = bands::band_request(
        &m.metric,
        &m.stat,
        m.period,
        ctx.config.band_width,
        start,
        end,
    );
    if !has_detector {
        // Asking for a band where there is no detector would make CloudWatch train one.
        request.queries.retain(|q| q.id != bands::BAND_ID);
    }
    request.queries.push(MetricQuery::stat(
        INDICATOR_ID,
        interop::indicator_metric(&m.metric),
        m.period,
        "Maximum",
    ));
    let results = ctx
        .call(Source::Metrics, || {
            ctx.cloud.get_metric_data(request.clone())
        })
        .await
        .ok()?;
    Some(Fetched {
        values: bands::values_of(&results, bands::VALUE_ID),
        band: bands::band_of(&results),
        indicator: bands::values_of(&results, INDICATOR_ID),
    })
}

/// Scores the history with the chosen local detector.
fn series(ctx: &Ctx, m: &WatchedMetric, f: &Fetched, detector: MetricDetector) -> MetricSeries {
    let range = if m.metric.name.contains("Utilization") {
        ValueRange::Percent
    } else if m.metric.namespace == interop::BACKUP_NAMESPACE {
        ValueRange::NonNegative
    } else {
        ValueRange::Unbounded
    };
    let config = DetectorConfig {
        algo: match detector {
            MetricDetector::Band => Algo::Band,
            MetricDetector::Rcf => Algo::Rcf,
        },
        band: BandConfig {
            width: ctx.config.band_width,
            range,
            ..BandConfig::default()
        },
        ..DetectorConfig::default()
    };
    let points = match AnyDetector::new(&config) {
        Ok(mut d) => f
            .values
            .iter()
            .filter_map(|(t, v)| d.observe(t.timestamp(), *v).ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    MetricSeries {
        metric: clean_metric(m.metric.clone()),
        stat: m.stat.clone(),
        period: m.period,
        detector,
        points,
        cloudwatch_band: f.band.clone(),
        indicator: f.indicator.clone(),
    }
}
