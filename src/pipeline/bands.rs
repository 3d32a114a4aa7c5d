//! Reading CloudWatch's own anomaly band: a GetMetricData request with `m1` and
//! `ad1 = ANOMALY_DETECTION_BAND(m1, N)`, and the pairing of its answer into [`BandPoint`]s.
//!
//! CloudWatch answers the band expression with two series under the band's id, told apart by
//! their labels (`... Upper` / `... Lower`, or High/Low); a series whose label says neither is
//! taken by order (upper first when its values are larger).

use super::events::BandPoint;
use crate::cloud::{GetMetricData, MetricDataResult, MetricId, MetricQuery, Time};
use std::collections::BTreeMap;

pub const VALUE_ID: &str = "m1";
pub const BAND_ID: &str = "ad1";

/// GetMetricData for a metric and its CloudWatch band.
pub fn band_request(
    metric: &MetricId,
    stat: &str,
    period: i32,
    width: f64,
    start: Time,
    end: Time,
) -> GetMetricData {
    GetMetricData {
        queries: vec![
            MetricQuery::stat(VALUE_ID, metric.clone(), period, stat),
            MetricQuery::expression(BAND_ID, crate::interop::band_expression(VALUE_ID, width)),
        ],
        start,
        end,
    }
}

/// The value series (`m1`) of an answer, oldest first.
pub fn values_of(results: &[MetricDataResult], id: &str) -> Vec<(Time, f64)> {
    let mut out: Vec<(Time, f64)> = results
        .iter()
        .filter(|r| r.id == id)
        .take(1)
        .flat_map(|r| r.timestamps.iter().copied().zip(r.values.iter().copied()))
        .filter(|(_, v)| v.is_finite())
        .collect();
    out.sort_by_key(|(t, _)| *t);
    out
}

/// Pairs the band's upper and lower series by timestamp, oldest first.
pub fn band_of(results: &[MetricDataResult]) -> Vec<BandPoint> {
    let series: Vec<&MetricDataResult> = results
        .iter()
        .filter(|r| r.id == BAND_ID || r.id.starts_with(&format!("{BAND_ID}_")))
        .collect();
    if series.len() < 2 {
        return Vec::new();
    }
    let side = |r: &MetricDataResult| {
        let l = format!("{} {}", r.label, r.id).to_ascii_lowercase();
        if l.contains("upper") || l.contains("high") {
            Some(true)
        } else if l.contains("lower") || l.contains("low") {
            Some(false)
        } else {
            None
        }
    };
    let (mut upper, mut lower) = (None, None);
    for r in &series {
        match side(r) {
            Some(true) if upper.is_none() => upper = Some(*r),
            Some(false) if lower.is_none() => lower = Some(*r),
            _ => {}
        }
    }
    let (upper, lower) = match (upper, lower) {
        (Some(u), Some(l)) => (u, l),
        _ => {
            // Unlabelled: the series with the larger mean is the upper one.
            let mean = |r: &MetricDataResult| {
                r.values.iter().sum::<f64>() / (r.values.len().max(1) as f64)
            };
            if mean(series[0]) >= mean(series[1]) {
                (series[0], series[1])
            } else {
                (series[1], series[0])
            }
        }
    };
    let lows: BTreeMap<Time, f64> = lower
        .timestamps
        .iter()
        .copied()
        .zip(lower.values.iter().copied())
        .collect();
    let mut out: Vec<BandPoint> = upper
        .timestamps
        .iter()
        .zip(upper.values.iter())
        .filter_map(|(t, u)| {
            let l = *lows.get(t)?;
            (u.is_finite() && l.is_finite()).then_some(BandPoint {
                time: *t,
                lower: l.min(*u),
                upper: l.max(*u),
            })
        })
        .collect();
    out.sort_by_key(|b| b.time);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn series(id: &str, label: &str, vals: &[(i64, f64)]) -> MetricDataResult {
        MetricDataResult {
            id: id.into(),
            label: label.into(),
            timestamps: vals
                .iter()
                .map(|(t, _)| chrono::Utc.timestamp_opt(*t, 0).unwrap())
                .collect(),
            values: vals.iter().map(|(_, v)| *v).collect(),
            status: "Complete".into(),
        }
    }

    #[test]
    fn labelled_band_series_are_paired_by_time() {
        let r = vec![
            series("m1", "m1", &[(60, 5.0), (0, 4.0)]),
            series("ad1", "m1 Lower", &[(0, 1.0), (60, 2.0)]),
            series("ad1", "m1 Upper", &[(60, 9.0), (0, 8.0), (120, 7.0)]),
        ];
        let band = band_of(&r);
        assert_eq!(band.len(), 2);
        assert_eq!((band[0].lower, band[0].upper), (1.0, 8.0));
        assert_eq!((band[1].lower, band[1].upper), (2.0, 9.0));
        let v = values_of(&r, "m1");
        assert_eq!(v.iter().map(|x| x.1).collect::<Vec<_>>(), vec![4.0, 5.0]);
    }

    #[test]
    fn unlabelled_band_series_are_told_apart_by_level() {
        let r = vec![
            series("ad1", "a", &[(0, 1.0)]),
            series("ad1", "b", &[(0, 3.0)]),
        ];
        assert_eq!(band_of(&r)[0].upper, 3.0);
        assert!(band_of(&r[..1]).is_empty());
    }
}
