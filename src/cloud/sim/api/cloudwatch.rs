//! CloudWatch answered from the world's metrics and alarms ([`crate::cloud::sim::cloudwatch`]):
//! metric data and anomaly bands, anomaly detectors, alarms and their history.

use super::errors::*;
use crate::cloud::sim::SimCloud;
use crate::cloud::sim::clock::{self, to_ms, to_time};
use crate::cloud::sim::cloudwatch;
use crate::cloud::sim::world::{ACCOUNT, REGION, World};
use crate::cloud::{
    Alarm, AlarmDefinition, AlarmFilter, AlarmHistoryItem, AlarmState, AnomalyDetector,
    CloudResult, GetMetricData, MetricDataResult, MetricDatum, MetricId, MetricQueryKind,
};

pub(crate) async fn put_metric_data(
    sim: &SimCloud,
    namespace: &str,
    data: Vec<MetricDatum>,
) -> CloudResult<()> {
    const OP: &str = "PutMetricData";
    sim.gate("cloudwatch", OP, Some(namespace)).await?;
    if namespace.is_empty() || namespace.starts_with("AWS/") || namespace.len() > 255 {
        return Err(invalid(
            "cloudwatch",
            OP,
            namespace,
            "The namespace must be 1–255 characters and must not start with \"AWS/\"",
        ));
    }
    if data.is_empty() || data.len() > 1000 {
        return Err(invalid(
            "cloudwatch",
            OP,
            namespace,
            "MetricData must hold 1 to 1000 items",
        ));
    }
    if let Some(d) = data
        .iter()
        .find(|d| !d.value.is_finite() || d.metric_name.is_empty())
    {
        return Err(invalid(
            "cloudwatch",
            OP,
            namespace,
            format!(
                "The value {} of metric {:?} is not a finite number",
                d.value, d.metric_name
            ),
        ));
    }
    sim.with(|w, _, _| {
        for d in data {
            let dims: Vec<(&str, &str)> = d
                .dimensions
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let m = MetricId::new(namespace, &d.metric_name, &dims);
            let t = to_ms(d.timestamp);
            let series = w.stored.entry(m.clone()).or_default();
            let pos = series.partition_point(|p| p.0 <= t);
            series.insert(pos, (t, d.value));
            w.alarms.touch(&m, t);
            w.alarms_due = w.alarms_due.min(t);
        }
        Ok(())
    })
}

pub(crate) async fn get_metric_data(
    sim: &SimCloud,
    request: GetMetricData,
) -> CloudResult<Vec<MetricDataResult>> {
    const OP: &str = "GetMetricData";
    let res = request
        .queries
        .iter()
        .find_map(|q| match &q.kind {
            MetricQueryKind::Stat { metric, .. } => Some(metric.display()),
            _ => None,
        })
        .unwrap_or_default();
    sim.gate("cloudwatch", OP, Some(&res)).await?;
    let bad = |m: String| invalid("cloudwatch", OP, &res, m);
    if request.queries.is_empty() || request.queries.len() > 500 {
        return Err(bad("MetricDataQueries must hold 1 to 500 queries".into()));
    }
    if request.start >= request.end {
        return Err(bad("StartTime must be before EndTime".into()));
    }
    let mut ids = std::collections::BTreeSet::new();
    for q in &request.queries {
        if !ids.insert(q.id.as_str()) {
            return Err(bad(format!("The id {} is used more than once", q.id)));
        }
    }
    let (start, end) = (to_ms(request.start), to_ms(request.end));
    sim.with(|w, now, _| {
        let mut out = Vec::new();
        for q in &request.queries {
            match &q.kind {
                MetricQueryKind::Stat {
                    metric,
                    period,
                    stat,
                } => {
                    if *period <= 0 || (*period >= 60 && period % 60 != 0) {
                        return Err(bad(format!("Period {period} must be a positive multiple of 60")));
                    }
                    let pts = cloudwatch::aggregate(
                        &w.sources(now).raw(metric, start, end),
                        i64::from(*period) * 1000,
                        stat,
                    )
                    .ok_or_else(|| bad(format!("Invalid statistic {stat:?}")))?;
                    if q.return_data {
                        out.push(MetricDataResult {
                            id: q.id.clone(),
                            label: q.label.clone().unwrap_or_else(|| metric.name.clone()),
                            timestamps: pts.iter().map(|p| to_time(p.0)).collect(),
                            values: pts.iter().map(|p| p.1).collect(),
                            status: "Complete".into(),
                        });
                    }
                }
                MetricQueryKind::Expression(expr) => {
                    let (mid, width) = crate::interop::parse_band_expression(expr)
                        .ok_or_else(|| bad(format!("Unsupported expression {expr:?}: the demo account evaluates ANOMALY_DETECTION_BAND(id, N)")))?;
                    let base = request
                        .queries
                        .iter()
                        .find(|b| b.id == mid)
                        .ok_or_else(|| bad(format!("{expr} refers to an unknown id {mid}")))?;
                    let MetricQueryKind::Stat {
                        metric,
                        period,
                        stat,
                    } = &base.kind
                    else {
                        return Err(bad(format!("{mid} is not a metric query")));
                    };
                    if q.return_data {
                        let label = q.label.clone().unwrap_or_else(|| expr.clone());
                        let pair = band_results(
                            w,
                            now,
                            &q.id,
                            &label,
                            metric,
                            stat,
                            i64::from(*period) * 1000,
                            width,
                            start,
                            end,
                        )
                        .map_err(bad)?;
                        out.extend(pair);
                    }
                }
            }
        }
        Ok(out)
    })
}

pub(crate) async fn list_metrics(
    sim: &SimCloud,
    namespace: Option<&str>,
    metric_name: Option<&str>,
) -> CloudResult<Vec<MetricId>> {
    sim.gate("cloudwatch", "ListMetrics", namespace).await?;
    sim.with(|w, now, _| {
        Ok(w.sources(now)
            .all_metrics()
            .into_iter()
            .filter(|m| namespace.is_none_or(|n| m.namespace == n))
            .filter(|m| metric_name.is_none_or(|n| m.name == n))
            .collect())
    })
}

pub(crate) async fn put_anomaly_detector(
    sim: &SimCloud,
    detector: AnomalyDetector,
) -> CloudResult<()> {
    const OP: &str = "PutAnomalyDetector";
    let res = detector.metric.display();
    sim.gate("cloudwatch", OP, Some(&res)).await?;
    if !cloudwatch::stat_is_valid(&detector.stat) {
        return Err(invalid(
            "cloudwatch",
            OP,
            &res,
            format!("Invalid statistic {:?}", detector.stat),
        ));
    }
    if detector.excluded.iter().any(|(a, b)| a >= b) {
        return Err(invalid(
            "cloudwatch",
            OP,
            &res,
            "An excluded time range ends before it starts",
        ));
    }
    sim.with(|w, _, _| {
        let key = (detector.metric.clone(), detector.stat.clone());
        w.detectors.insert(
            key,
            AnomalyDetector {
                state: None,
                ..detector
            },
        );
        Ok(())
    })
}

pub(crate) async fn describe_anomaly_detectors(
    sim: &SimCloud,
    metric: Option<&MetricId>,
) -> CloudResult<Vec<AnomalyDetector>> {
    sim.gate(
        "cloudwatch",
        "DescribeAnomalyDetectors",
        metric.map(|m| m.display()).as_deref(),
    )
    .await?;
    sim.with(|w, now, _| {
        let src = w.sources(now);
        // Keyed by (metric, stat): one metric's detectors are a key range, so the per-volume
        // lookups stay cheap with one detector per volume in a large world.
        let matching: Box<dyn Iterator<Item = &AnomalyDetector>> = match metric {
            Some(m) => Box::new(
                w.detectors
                    .range((m.clone(), String::new())..)
                    .take_while(move |(k, _)| &k.0 == m)
                    .map(|(_, d)| d),
            ),
            None => Box::new(w.detectors.values()),
        };
        Ok(matching
            .map(|d| {
                let n = src.raw(&d.metric, now - 14 * clock::DAY_MS, now + 1).len();
                AnomalyDetector {
                    state: Some(
                        match n {
                            0 => "PENDING_TRAINING",
                            1..10 => "TRAINED_INSUFFICIENT_DATA",
                            _ => "TRAINED",
                        }
                        .to_string(),
                    ),
                    ..d.clone()
                }
            })
            .collect())
    })
}

pub(crate) async fn put_metric_alarm(sim: &SimCloud, alarm: AlarmDefinition) -> CloudResult<()> {
    const OP: &str = "PutMetricAlarm";
    let name = alarm.name.clone();
    sim.gate("cloudwatch", OP, Some(&name)).await?;
    if name.is_empty() || name.chars().count() > 255 {
        return Err(invalid(
            "cloudwatch",
            OP,
            &name,
            "AlarmName must be 1–255 characters",
        ));
    }
    let watch = cloudwatch::watch_of(&alarm).map_err(|m| invalid("cloudwatch", OP, &name, m))?;
    sim.with(|w, now, _| {
        w.put_alarm(alarm, watch, now);
        Ok(())
    })
}

pub(crate) async fn describe_alarms(
    sim: &SimCloud,
    filter: AlarmFilter,
) -> CloudResult<Vec<Alarm>> {
    sim.gate(
        "cloudwatch",
        "DescribeAlarms",
        filter.name_prefix.as_deref(),
    )
    .await?;
    sim.with(|w, _, _| {
        Ok(w.alarms
            .map
            .values()
            .filter(|a| filter.names.is_empty() || filter.names.contains(&a.def.name))
            .filter(|a| {
                filter
                    .name_prefix
                    .as_deref()
                    .is_none_or(|p| a.def.name.starts_with(p))
            })
            .map(|a| Alarm {
                arn: a.arn.clone(),
                definition: a.def.clone(),
                state: a.state,
                state_reason: a.reason.clone(),
                state_updated: to_time(a.updated),
            })
            .collect())
    })
}

pub(crate) async fn delete_alarms(sim: &SimCloud, names: &[String]) -> CloudResult<()> {
    const OP: &str = "DeleteAlarms";
    let res = names.join(",");
    sim.gate("cloudwatch", OP, Some(&res)).await?;
    sim.with(|w, _, _| {
        if let Some(missing) = names.iter().find(|n| !w.alarms.map.contains_key(*n)) {
            return Err(not_found(
                "cloudwatch",
                OP,
                missing,
                format!("Alarm {missing} does not exist; nothing was deleted"),
            ));
        }
        for n in names {
            w.alarms.delete(n);
        }
        Ok(())
    })
}

pub(crate) async fn describe_alarm_history(
    sim: &SimCloud,
    alarm_name: &str,
    max: usize,
) -> CloudResult<Vec<AlarmHistoryItem>> {
    sim.gate("cloudwatch", "DescribeAlarmHistory", Some(alarm_name))
        .await?;
    sim.with(|w, _, _| {
        Ok(w.alarms
            .map
            .get(alarm_name)
            .map(|a| a.history.iter().rev().take(max).cloned().collect())
            .unwrap_or_default())
    })
}

pub(crate) async fn set_alarm_state(
    sim: &SimCloud,
    alarm_name: &str,
    state: AlarmState,
    reason: &str,
) -> CloudResult<()> {
    const OP: &str = "SetAlarmState";
    sim.gate("cloudwatch", OP, Some(alarm_name)).await?;
    if reason.chars().count() > 1023 {
        return Err(invalid(
            "cloudwatch",
            OP,
            alarm_name,
            "StateReason must be at most 1023 characters",
        ));
    }
    sim.with(|w, now, real| {
        let rec = w.alarms.map.get_mut(alarm_name).ok_or_else(|| {
            not_found(
                "cloudwatch",
                OP,
                alarm_name,
                format!("Alarm {alarm_name} does not exist"),
            )
        })?;
        let note = rec.transition(state, reason.to_string(), now, ACCOUNT, REGION);
        // The state set lasts until the next comparison, at the end of this period.
        rec.recheck_after(now);
        w.alarms_due = w.alarms_due.min(rec.next_due);
        w.deliver(note.into_iter().collect(), now, real);
        Ok(())
    })
}

pub(crate) async fn set_alarm_actions_enabled(
    sim: &SimCloud,
    names: &[String],
    enabled: bool,
) -> CloudResult<()> {
    let op = if enabled {
        "EnableAlarmActions"
    } else {
        "DisableAlarmActions"
    };
    sim.gate("cloudwatch", op, Some(&names.join(","))).await?;
    sim.with(|w, _, _| {
        for n in names {
            if let Some(a) = w.alarms.map.get_mut(n) {
                a.def.actions_enabled = enabled;
            }
        }
        Ok(())
    })
}

/// The band of `ANOMALY_DETECTION_BAND(id, width)` over the window, as two series
/// (lower, upper) with the expression's id.
#[allow(clippy::too_many_arguments)]
fn band_results(
    w: &World,
    now: i64,
    id: &str,
    label: &str,
    metric: &MetricId,
    stat: &str,
    period_ms: i64,
    width: f64,
    start: i64,
    end: i64,
) -> Result<[MetricDataResult; 2], String> {
    let src = w.sources(now);
    let points = cloudwatch::aggregate(&src.raw(metric, start, end), period_ms, stat)
        .ok_or_else(|| format!("invalid statistic {stat}"))?;
    let history = cloudwatch::training_history(&src, metric, stat, period_ms, start);
    let det = w.detectors.get(&(metric.clone(), stat.to_string()));
    let cfg = cloudwatch::band_config(metric, width, det);
    let verdicts = cloudwatch::band_verdicts(&cfg, &history, &points)?;
    let mut lo = MetricDataResult {
        id: id.to_string(),
        label: format!("{label} Lower"),
        timestamps: Vec::new(),
        values: Vec::new(),
        status: "Complete".into(),
    };
    let mut hi = MetricDataResult {
        label: format!("{label} Upper"),
        ..lo.clone()
    };
    for v in verdicts {
        if let Some(b) = v.band {
            let t = to_time(v.timestamp * 1000);
            lo.timestamps.push(t);
            lo.values.push(b.lower);
            hi.timestamps.push(t);
            hi.values.push(b.upper);
        }
    }
    Ok([lo, hi])
}
