//! Metric series against the simulated account: EC2 CPU of every instance ListMetrics finds,
//! scored by the local band or RCF (switchable), with CloudWatch's band where the metric has an
//! anomaly detector; the `:metric` browser's ListMetrics.

use crate::support::pipeline::*;
use crate::support::sim::paused;
use std::time::Duration;
use watchband::cloud::Cloud;
use watchband::pipeline::{Command, Event, MetricDetector};

#[tokio::test(start_paused = true)]
async fn cpu_series_with_local_and_cloudwatch_bands_and_a_detector_switch() {
    let cloud = paused(7);
    let instances = cloud
        .list_metrics(Some("AWS/EC2"), Some("CPUUtilization"))
        .await
        .unwrap();
    assert_eq!(instances.len(), 3);
    let mut run = start(cloud.clone(), None, config());
    let cpu = run
        .until(Duration::from_secs(60), "a CPU series", |e, _| match e {
            Event::Metric(m) if m.metric.name == "CPUUtilization" && !m.points.is_empty() => {
                Some(m.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!((cpu.stat.as_str(), cpu.period), ("Average", 300));
    // 14 days at 5 minutes.
    assert!(cpu.points.len() > 3000, "{} points", cpu.points.len());
    assert!(
        cpu.points
            .windows(2)
            .all(|w| w[0].timestamp < w[1].timestamp)
    );
    assert!(cpu.points.last().unwrap().is_ready());
    assert_eq!(cpu.detector, MetricDetector::Band);

    // A metric with an anomaly detector gets CloudWatch's band next to the local one.
    cloud
        .put_anomaly_detector(watchband::cloud::AnomalyDetector {
            metric: instances[0].clone(),
            stat: "Average".into(),
            excluded: vec![],
            metric_timezone: None,
            periodic_spikes: false,
            state: None,
        })
        .await
        .unwrap();
    run.send(Command::Refresh).await;
    let banded = run
        .until(
            Duration::from_secs(120),
            "CloudWatch's band",
            |e, _| match e {
                Event::Metric(m) if m.metric == instances[0] && !m.cloudwatch_band.is_empty() => {
                    Some(m.clone())
                }
                _ => None,
            },
        )
        .await;
    assert!(banded.cloudwatch_band.iter().all(|b| b.lower <= b.upper));
    assert!(banded.cloudwatch_band.len() > 100);

    run.send(Command::SetMetricDetector(MetricDetector::Rcf))
        .await;
    let rcf = run
        .until(Duration::from_secs(10), "the RCF series", |e, _| match e {
            Event::Metric(m) if m.detector == MetricDetector::Rcf => Some(m.clone()),
            _ => None,
        })
        .await;
    assert!(!rcf.points.is_empty());

    run.send(Command::ListMetrics {
        namespace: Some("AWS/EC2".into()),
    })
    .await;
    let list = run
        .until(Duration::from_secs(10), "the metric list", |e, _| match e {
            Event::MetricList(l) => Some(l.clone()),
            _ => None,
        })
        .await;
    assert!(list.iter().filter(|m| m.name == "CPUUtilization").count() == 3);
}
