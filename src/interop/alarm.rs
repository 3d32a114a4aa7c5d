//! CloudWatch alarms as the patterns write them: the anomaly-band alarm (a metric query, its
//! `ANOMALY_DETECTION_BAND` expression and an upper-threshold comparison), which the AWS Backup
//! changed-block pipeline creates per volume and the TUI's `a` key creates on any metric.

use crate::cloud::{
    AlarmDefinition, AlarmMetric, ComparisonOperator, MetricId, MetricQuery, TreatMissingData,
};

/// A band alarm of the changed-block pipeline's shape on any metric (what the TUI's `a` key writes).
pub fn anomaly_alarm_definition(
    name: &str,
    metric: MetricId,
    stat: &str,
    period: i32,
    band_width: f64,
    evaluation_periods: i32,
    topic_arn: &str,
) -> AlarmDefinition {
    AlarmDefinition {
        name: name.to_string(),
        description: Some(name.to_string()),
        actions_enabled: true,
        alarm_actions: vec![topic_arn.to_string()],
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        metric: AlarmMetric::Queries(vec![
            MetricQuery::stat("m1", metric, period, stat),
            MetricQuery::expression("ad1", band_expression("m1", band_width)),
        ]),
        comparison: ComparisonOperator::GreaterThanUpperThreshold,
        threshold: None,
        threshold_metric_id: Some("ad1".into()),
        evaluation_periods,
        datapoints_to_alarm: None,
        treat_missing_data: TreatMissingData::Ignore,
    }
}

/// `ANOMALY_DETECTION_BAND(m1, 2)`; a fractional width keeps its fraction.
pub fn band_expression(metric_id: &str, width: f64) -> String {
    if width.fract() == 0.0 {
        format!("ANOMALY_DETECTION_BAND({metric_id}, {})", width as i64)
    } else {
        format!("ANOMALY_DETECTION_BAND({metric_id}, {width})")
    }
}

/// Parses `ANOMALY_DETECTION_BAND(m1)` or `ANOMALY_DETECTION_BAND(m1, 2.5)` into the metric id
/// and the band width (2 when not given, as CloudWatch does).
pub fn parse_band_expression(expr: &str) -> Option<(String, f64)> {
    let inner = expr
        .trim()
        .strip_prefix("ANOMALY_DETECTION_BAND(")?
        .strip_suffix(')')?;
    let mut parts = inner.split(',').map(str::trim);
    let id = parts.next().filter(|s| !s.is_empty())?.to_string();
    let width = match parts.next() {
        Some(w) => w
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && *w > 0.0)?,
        None => 2.0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((id, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_expressions_round_trip() {
        assert_eq!(band_expression("m1", 2.0), "ANOMALY_DETECTION_BAND(m1, 2)");
        assert_eq!(
            parse_band_expression("ANOMALY_DETECTION_BAND(m1, 2.5)"),
            Some(("m1".into(), 2.5))
        );
        assert_eq!(
            parse_band_expression("ANOMALY_DETECTION_BAND(m1)"),
            Some(("m1".into(), 2.0))
        );
        assert_eq!(
            parse_band_expression("ANOMALY_DETECTION_BAND(m1, -1)"),
            None
        );
        assert_eq!(parse_band_expression("SUM(m1)"), None);
    }
}
