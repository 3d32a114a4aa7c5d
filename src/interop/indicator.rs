//! The RCF metric scorer: a Random Cut Forest scores a CloudWatch metric and writes its
//! `<Metric>AnomalyIndicator` series (1.0 anomalous, 0.0 not) beside it.

use crate::cloud::MetricId;

pub const INDICATOR_SUFFIX: &str = "AnomalyIndicator";

/// Where the indicator of an AWS-owned metric (`AWS/EC2` …) is written: `Watchband/AWS/EC2`.
pub const INDICATOR_NAMESPACE_PREFIX: &str = "Watchband/";

/// `CPUUtilization` → `CPUUtilizationAnomalyIndicator` (same namespace, except for AWS's own
/// namespaces, and same dimensions).
pub fn indicator_metric(metric: &MetricId) -> MetricId {
    // CloudWatch refuses PutMetricData to namespaces starting with "AWS/", so the RCF metric scorer's
    // write-back ("same namespace") cannot work for AWS's own metrics; those get theirs under
    // a custom namespace of the same name.
    let namespace = if metric.namespace.starts_with("AWS/") {
        format!("{INDICATOR_NAMESPACE_PREFIX}{}", metric.namespace)
    } else {
        metric.namespace.clone()
    };
    MetricId {
        namespace,
        name: format!("{}{INDICATOR_SUFFIX}", metric.name),
        dimensions: metric.dimensions.clone(),
    }
}
