//! CloudWatch: metric data (with the `ANOMALY_DETECTION_BAND` expression for the overlay),
//! anomaly detectors, alarms and their history.
//!
//! This module is written against aws-sdk-cloudwatch 1.99.0, the last release that speaks the
//! awsQuery protocol (docs/aws.md says why it is pinned).

use super::convert::{clean, clean_opt, from_time, opt_time, to_time};
use super::errors::map_sdk_error;
use crate::cloud::{
    Alarm, AlarmDefinition, AlarmFilter, AlarmHistoryItem, AlarmMetric, AlarmState,
    AnomalyDetector, CloudResult, ComparisonOperator, GetMetricData, MetricDataResult, MetricDatum,
    MetricId, MetricQuery, MetricQueryKind, TreatMissingData,
};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types as cw;
use std::collections::BTreeMap;

const SERVICE: &str = "cloudwatch";

/// PutMetricData accepts at most this many data points per call.
const PUT_BATCH: usize = 1000;

fn dimensions(dims: &[(String, String)]) -> Vec<cw::Dimension> {
    dims.iter()
        .map(|(k, v)| cw::Dimension::builder().name(k).value(v).build())
        .collect()
}

fn dims_from(d: &[cw::Dimension]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = d
        .iter()
        .map(|d| (clean(d.name()), clean(d.value())))
        .collect();
    out.sort();
    out
}

fn metric_to_sdk(m: &MetricId) -> cw::Metric {
    cw::Metric::builder()
        .namespace(&m.namespace)
        .metric_name(&m.name)
        .set_dimensions(Some(dimensions(&m.dimensions)))
        .build()
}

fn metric_from_sdk(m: &cw::Metric) -> MetricId {
    MetricId {
        namespace: clean(m.namespace()),
        name: clean(m.metric_name()),
        dimensions: dims_from(m.dimensions()),
    }
}

fn query_to_sdk(q: &MetricQuery) -> cw::MetricDataQuery {
    let b = cw::MetricDataQuery::builder()
        .id(&q.id)
        .set_label(q.label.clone())
        .return_data(q.return_data);
    let b = match &q.kind {
        MetricQueryKind::Stat {
            metric,
            period,
            stat,
        } => b.metric_stat(
            cw::MetricStat::builder()
                .metric(metric_to_sdk(metric))
                .period(*period)
                .stat(stat)
                .build(),
        ),
        MetricQueryKind::Expression(e) => b.expression(e),
    };
    b.build()
}

fn query_from_sdk(q: &cw::MetricDataQuery) -> MetricQuery {
    let kind = match (q.metric_stat(), q.expression()) {
        (Some(ms), _) => MetricQueryKind::Stat {
            metric: ms
                .metric()
                .map(metric_from_sdk)
                .unwrap_or_else(|| MetricId::new("", "", &[])),
            period: ms.period().unwrap_or_default(),
            stat: clean(ms.stat()),
        },
        (None, e) => MetricQueryKind::Expression(clean(e)),
    };
    MetricQuery {
        id: clean(q.id()),
        kind,
        label: clean_opt(q.label()),
        // The API's default when ReturnData is absent is true.
        return_data: q.return_data().unwrap_or(true),
    }
}

pub async fn put_metric_data(
    c: &Client,
    namespace: &str,
    data: Vec<MetricDatum>,
) -> CloudResult<()> {
    const OP: &str = "PutMetricData";
    for chunk in data.chunks(PUT_BATCH) {
        let datums = chunk
            .iter()
            .map(|d| {
                Ok(cw::MetricDatum::builder()
                    .metric_name(&d.metric_name)
                    .set_dimensions(Some(dimensions(&d.dimensions)))
                    .timestamp(from_time(d.timestamp))
                    .value(d.value)
                    .set_unit(d.unit.as_deref().map(cw::StandardUnit::from))
                    .set_storage_resolution(d.storage_resolution)
                    .build())
            })
            .collect::<CloudResult<Vec<_>>>()?;
        c.put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(datums))
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, OP, Some(namespace), e))?;
    }
    Ok(())
}

pub async fn get_metric_data(c: &Client, r: GetMetricData) -> CloudResult<Vec<MetricDataResult>> {
    const OP: &str = "GetMetricData";
    let queries = r.queries.iter().map(query_to_sdk).collect::<Vec<_>>();
    // Pages may split one series; gather by id, keeping the order the queries gave.
    let mut by_id: BTreeMap<String, MetricDataResult> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(from_time(r.start))
            .end_time(from_time(r.end))
            .scan_by(cw::ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, OP, None, e))?;
        for res in out.metric_data_results() {
            let id = clean(res.id());
            let entry = by_id.entry(id.clone()).or_insert_with(|| {
                order.push(id.clone());
                MetricDataResult {
                    id: id.clone(),
                    label: clean(res.label()),
                    timestamps: Vec::new(),
                    values: Vec::new(),
                    status: String::new(),
                }
            });
            entry
                .timestamps
                .extend(res.timestamps().iter().map(to_time));
            entry.values.extend_from_slice(res.values());
            entry.status = clean(res.status_code().map(|s| s.as_str()));
        }
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let mut results: Vec<MetricDataResult> =
        order.iter().filter_map(|id| by_id.remove(id)).collect();
    for res in &mut results {
        // Oldest first, whatever order the service used.
        let mut pairs: Vec<_> = res
            .timestamps
            .iter()
            .copied()
            .zip(res.values.iter().copied())
            .collect();
        pairs.sort_by_key(|p| p.0);
        (res.timestamps, res.values) = pairs.into_iter().unzip();
    }
    Ok(results)
}

pub async fn list_metrics(
    c: &Client,
    namespace: Option<&str>,
    metric_name: Option<&str>,
) -> CloudResult<Vec<MetricId>> {
    let mut metrics = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c
            .list_metrics()
            .set_namespace(namespace.map(str::to_string))
            .set_metric_name(metric_name.map(str::to_string))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListMetrics", namespace, e))?;
        metrics.extend(out.metrics().iter().map(metric_from_sdk));
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(metrics),
        }
    }
}

pub async fn put_anomaly_detector(c: &Client, d: AnomalyDetector) -> CloudResult<()> {
    const OP: &str = "PutAnomalyDetector";
    let single = cw::SingleMetricAnomalyDetector::builder()
        .namespace(&d.metric.namespace)
        .metric_name(&d.metric.name)
        .set_dimensions(Some(dimensions(&d.metric.dimensions)))
        .stat(&d.stat)
        .build();
    let ranges = d
        .excluded
        .iter()
        .map(|(s, e)| {
            Ok(cw::Range::builder()
                .start_time(from_time(*s))
                .end_time(from_time(*e))
                .build())
        })
        .collect::<CloudResult<Vec<_>>>()?;
    let config = cw::AnomalyDetectorConfiguration::builder()
        .set_excluded_time_ranges(Some(ranges))
        .set_metric_timezone(d.metric_timezone.clone())
        .build();
    c.put_anomaly_detector()
        .single_metric_anomaly_detector(single)
        .configuration(config)
        .metric_characteristics(
            cw::MetricCharacteristics::builder()
                .periodic_spikes(d.periodic_spikes)
                .build(),
        )
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, OP, Some(&d.metric.display()), e))?;
    Ok(())
}

pub async fn describe_anomaly_detectors(
    c: &Client,
    metric: Option<&MetricId>,
) -> CloudResult<Vec<AnomalyDetector>> {
    const OP: &str = "DescribeAnomalyDetectors";
    let mut detectors = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = c
            .describe_anomaly_detectors()
            .anomaly_detector_types(cw::AnomalyDetectorType::SingleMetric)
            .set_next_token(token.take());
        if let Some(m) = metric {
            req = req
                .namespace(&m.namespace)
                .metric_name(&m.name)
                .set_dimensions(Some(dimensions(&m.dimensions)));
        }
        let out = req
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, OP, metric.map(|m| m.display()).as_deref(), e))?;
        for a in out.anomaly_detectors() {
            let Some(s) = a.single_metric_anomaly_detector() else {
                continue;
            };
            let config = a.configuration();
            detectors.push(AnomalyDetector {
                metric: MetricId {
                    namespace: clean(s.namespace()),
                    name: clean(s.metric_name()),
                    dimensions: dims_from(s.dimensions()),
                },
                stat: clean(s.stat()),
                excluded: config
                    .map(|c| {
                        c.excluded_time_ranges()
                            .iter()
                            .filter_map(|r| {
                                Some((to_time(r.start_time()?), to_time(r.end_time()?)))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                metric_timezone: config.and_then(|c| clean_opt(c.metric_timezone())),
                periodic_spikes: a
                    .metric_characteristics()
                    .and_then(|m| m.periodic_spikes())
                    .unwrap_or(false),
                state: a.state_value().map(|s| clean(Some(s.as_str()))),
            });
        }
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(detectors),
        }
    }
}

/// The five plain statistics go in `Statistic`; percentiles and the rest in
/// `ExtendedStatistic`, as PutMetricAlarm requires.
fn is_plain_statistic(stat: &str) -> bool {
    matches!(
        stat,
        "SampleCount" | "Average" | "Sum" | "Minimum" | "Maximum"
    )
}

pub async fn put_metric_alarm(c: &Client, a: AlarmDefinition) -> CloudResult<()> {
    const OP: &str = "PutMetricAlarm";
    let mut req = c
        .put_metric_alarm()
        .alarm_name(&a.name)
        .set_alarm_description(a.description.clone())
        .actions_enabled(a.actions_enabled)
        .set_alarm_actions(Some(a.alarm_actions.clone()))
        .set_ok_actions(Some(a.ok_actions.clone()))
        .set_insufficient_data_actions(Some(a.insufficient_data_actions.clone()))
        .comparison_operator(cw::ComparisonOperator::from(a.comparison.as_aws()))
        .set_threshold(a.threshold)
        .set_threshold_metric_id(a.threshold_metric_id.clone())
        .evaluation_periods(a.evaluation_periods)
        .set_datapoints_to_alarm(a.datapoints_to_alarm)
        .treat_missing_data(a.treat_missing_data.as_aws());
    match &a.metric {
        AlarmMetric::Single {
            metric,
            stat,
            period,
        } => {
            req = req
                .namespace(&metric.namespace)
                .metric_name(&metric.name)
                .set_dimensions(Some(dimensions(&metric.dimensions)))
                .period(*period);
            req = if is_plain_statistic(stat) {
                req.statistic(cw::Statistic::from(stat.as_str()))
            } else {
                req.extended_statistic(stat)
            };
        }
        AlarmMetric::Queries(qs) => {
            let qs = qs.iter().map(query_to_sdk).collect::<Vec<_>>();
            req = req.set_metrics(Some(qs));
        }
    }
    req.send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, OP, Some(&a.name), e))?;
    Ok(())
}

fn alarm_from_sdk(m: &cw::MetricAlarm) -> Alarm {
    let name = clean(m.alarm_name());
    let metric = if m.metrics().is_empty() {
        AlarmMetric::Single {
            metric: MetricId {
                namespace: clean(m.namespace()),
                name: clean(m.metric_name()),
                dimensions: dims_from(m.dimensions()),
            },
            stat: m
                .statistic()
                .map(|s| clean(Some(s.as_str())))
                .or_else(|| clean_opt(m.extended_statistic()))
                .unwrap_or_default(),
            period: m.period().unwrap_or_default(),
        }
    } else {
        AlarmMetric::Queries(m.metrics().iter().map(query_from_sdk).collect())
    };
    let list = |v: &[String]| {
        v.iter()
            .map(|s| crate::sanitize::clean(s))
            .collect::<Vec<_>>()
    };
    Alarm {
        arn: clean(m.alarm_arn()),
        definition: AlarmDefinition {
            name,
            description: clean_opt(m.alarm_description()),
            actions_enabled: m.actions_enabled().unwrap_or(true),
            alarm_actions: list(m.alarm_actions()),
            ok_actions: list(m.ok_actions()),
            insufficient_data_actions: list(m.insufficient_data_actions()),
            metric,
            comparison: m
                .comparison_operator()
                .and_then(|c| ComparisonOperator::from_aws(c.as_str()))
                .unwrap_or(ComparisonOperator::GreaterThanThreshold),
            threshold: m.threshold().filter(|_| m.threshold_metric_id().is_none()),
            threshold_metric_id: clean_opt(m.threshold_metric_id()),
            evaluation_periods: m.evaluation_periods().unwrap_or(1),
            datapoints_to_alarm: m.datapoints_to_alarm(),
            // The API's default is "missing".
            treat_missing_data: m
                .treat_missing_data()
                .and_then(TreatMissingData::from_aws)
                .unwrap_or(TreatMissingData::Missing),
        },
        state: m
            .state_value()
            .and_then(|s| AlarmState::from_aws(s.as_str()))
            .unwrap_or(AlarmState::InsufficientData),
        state_reason: clean(m.state_reason()),
        state_updated: opt_time(m.state_updated_timestamp()).unwrap_or_default(),
    }
}

pub async fn describe_alarms(c: &Client, f: AlarmFilter) -> CloudResult<Vec<Alarm>> {
    let mut alarms = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c
            .describe_alarms()
            .alarm_types(cw::AlarmType::MetricAlarm)
            .set_alarm_names(if f.names.is_empty() {
                None
            } else {
                Some(f.names.clone())
            })
            .set_alarm_name_prefix(f.name_prefix.clone())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "DescribeAlarms", f.name_prefix.as_deref(), e))?;
        alarms.extend(out.metric_alarms().iter().map(alarm_from_sdk));
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(alarms),
        }
    }
}

pub async fn delete_alarms(c: &Client, names: &[String]) -> CloudResult<()> {
    // DeleteAlarms takes at most 100 names per call.
    for chunk in names.chunks(100) {
        c.delete_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                map_sdk_error(
                    SERVICE,
                    "DeleteAlarms",
                    chunk.first().map(String::as_str),
                    e,
                )
            })?;
    }
    Ok(())
}

pub async fn describe_alarm_history(
    c: &Client,
    alarm_name: &str,
    max: usize,
) -> CloudResult<Vec<AlarmHistoryItem>> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    while items.len() < max {
        let out = c
            .describe_alarm_history()
            .alarm_name(alarm_name)
            .scan_by(cw::ScanBy::TimestampDescending)
            .max_records((max - items.len()).min(100) as i32)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "DescribeAlarmHistory", Some(alarm_name), e))?;
        items.extend(out.alarm_history_items().iter().map(|h| AlarmHistoryItem {
            alarm_name: clean(h.alarm_name()),
            timestamp: opt_time(h.timestamp()).unwrap_or_default(),
            item_type: clean(h.history_item_type().map(|t| t.as_str())),
            summary: clean(h.history_summary()),
        }));
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    items.truncate(max);
    Ok(items)
}

pub async fn set_alarm_state(
    c: &Client,
    alarm_name: &str,
    state: AlarmState,
    reason: &str,
) -> CloudResult<()> {
    c.set_alarm_state()
        .alarm_name(alarm_name)
        .state_value(cw::StateValue::from(state.as_aws()))
        .state_reason(reason)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "SetAlarmState", Some(alarm_name), e))?;
    Ok(())
}

pub async fn set_alarm_actions_enabled(
    c: &Client,
    names: &[String],
    enabled: bool,
) -> CloudResult<()> {
    let first = names.first().map(String::as_str);
    for chunk in names.chunks(100) {
        if enabled {
            c.enable_alarm_actions()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| map_sdk_error(SERVICE, "EnableAlarmActions", first, e))?;
        } else {
            c.disable_alarm_actions()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| map_sdk_error(SERVICE, "DisableAlarmActions", first, e))?;
        }
    }
    Ok(())
}
