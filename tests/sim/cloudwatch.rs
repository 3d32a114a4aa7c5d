//! The simulated account's CloudWatch, SNS and SQS: the alarm state machine on the simulator's
//! clock, notifications through SNS into SQS in SNS's envelope, bands from the detection core.

use crate::support::sim::paused;
use std::time::Duration;
use watchband::cloud::sim::SimCloud;
use watchband::cloud::{
    AlarmFilter, AlarmState, Cloud, ErrorKind, GetMetricData, MetricDatum, MetricId, MetricQuery,
};
use watchband::interop;

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test]
async fn static_cpu_alarm_goes_ok_alarm_ok_and_notifies_through_sns_into_sqs() {
    let cloud = paused(7);
    // Subscribe a queue to the alarm's topic, as watchband does on AWS.
    let alarms = cloud
        .describe_alarms(AlarmFilter {
            name_prefix: Some("cpu-high".into()),
            names: vec![],
        })
        .await
        .unwrap();
    assert_eq!(alarms.len(), 1);
    let topic = alarms[0].definition.alarm_actions[0].clone();
    let q = cloud.create_queue("watchband-notes").await.unwrap();
    let qarn = cloud.queue_arn(&q).await.unwrap();
    cloud.allow_topic_to_queue(&q, &topic).await.unwrap();
    cloud.subscribe(&topic, "sqs", &qarn).await.unwrap();

    cloud.advance(Duration::from_secs(600));
    let a = &cloud
        .describe_alarms(AlarmFilter {
            names: vec![alarms[0].definition.name.clone()],
            name_prefix: None,
        })
        .await
        .unwrap()[0];
    assert_eq!(a.state, AlarmState::Ok, "{}", a.state_reason);

    let mut states = vec![AlarmState::Ok];
    for _ in 0..40 {
        cloud.advance(HOUR);
        let s = cloud
            .describe_alarms(AlarmFilter {
                names: vec![a.definition.name.clone()],
                name_prefix: None,
            })
            .await
            .unwrap()[0]
            .state;
        if states.last() != Some(&s) {
            states.push(s);
        }
    }
    assert_eq!(
        states,
        vec![AlarmState::Ok, AlarmState::Alarm, AlarmState::Ok]
    );
    let history = cloud
        .describe_alarm_history(&a.definition.name, 50)
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.summary.contains("from OK to ALARM"))
    );
    assert!(
        history[0].timestamp >= history[history.len() - 1].timestamp,
        "newest first"
    );

    let msgs = cloud.receive_messages(&q, 10, 0).await.unwrap();
    assert_eq!(msgs.len(), 2, "ALARM and OK notifications");
    let env: serde_json::Value = serde_json::from_str(&msgs[0].body).unwrap();
    assert_eq!(env["Type"], "Notification");
    assert_eq!(env["TopicArn"], topic.as_str());
    assert!(
        env["Subject"]
            .as_str()
            .unwrap()
            .starts_with("ALARM: \"cpu-high")
    );
    let inner: serde_json::Value = serde_json::from_str(env["Message"].as_str().unwrap()).unwrap();
    assert_eq!(inner["NewStateValue"], "ALARM");
    for m in &msgs {
        cloud.delete_message(&q, &m.receipt_handle).await.unwrap();
    }
    assert!(
        cloud
            .published_messages()
            .iter()
            .any(|p| p.topic_arn == topic)
    );
}

#[tokio::test]
async fn backup_alarms_exist_for_volumes_seen_before_the_start_and_are_trained() {
    let cloud = paused(7);
    let all = cloud
        .describe_alarms(AlarmFilter {
            name_prefix: Some(interop::BACKUP_ALARM_PREFIX.into()),
            names: vec![],
        })
        .await
        .unwrap();
    let arns = cloud.volume_arns();
    assert_eq!(
        all.len(),
        arns.len() - 1,
        "the newest volume is not seen yet"
    );
    assert!(
        all.iter().all(|a| a.state != AlarmState::InsufficientData),
        "trained on 60 days"
    );
    // From here on the deployed backup processor creates alarms and publishes counts:
    // tests/sim_deployed.rs.
}

#[tokio::test]
async fn get_metric_data_returns_series_and_an_anomaly_band() {
    let cloud = paused(7);
    let arn = cloud.volume_arns()[0].clone();
    let metric = interop::backup_metric(&arn);
    let now = cloud.now();
    let req = GetMetricData {
        queries: vec![
            MetricQuery::stat("m1", metric.clone(), 60, "Maximum"),
            MetricQuery::expression("ad1", interop::band_expression("m1", 2.0)),
        ],
        start: now - chrono::Duration::days(30),
        end: now,
    };
    let res = cloud.get_metric_data(req).await.unwrap();
    assert_eq!(res.len(), 3);
    assert!(res[0].values.len() >= 29, "{}", res[0].values.len());
    assert!(res[0].values.iter().all(|v| *v > 0.0));
    assert_eq!(res[1].id, "ad1");
    assert!(!res[1].values.is_empty());
    assert!(
        res[1]
            .values
            .iter()
            .zip(&res[2].values)
            .all(|(lo, hi)| lo <= hi)
    );
    let listed = cloud.list_metrics(Some("BACKUP"), None).await.unwrap();
    assert!(listed.contains(&metric));
    let cpu = cloud
        .list_metrics(Some("AWS/EC2"), Some("CPUUtilization"))
        .await
        .unwrap();
    assert_eq!(cpu.len(), 3);
}

#[tokio::test]
async fn put_metric_data_feeds_a_static_alarm_and_bad_input_is_rejected() {
    let cloud = paused(1);
    let metric = MetricId::new("Custom", "Errors", &[("Service", "api")]);
    let def = watchband::cloud::AlarmDefinition {
        name: "errors-high".into(),
        description: None,
        actions_enabled: true,
        alarm_actions: vec![],
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        metric: watchband::cloud::AlarmMetric::Single {
            metric: metric.clone(),
            stat: "Sum".into(),
            period: 60,
        },
        comparison: watchband::cloud::ComparisonOperator::GreaterThanThreshold,
        threshold: Some(10.0),
        threshold_metric_id: None,
        evaluation_periods: 1,
        datapoints_to_alarm: None,
        treat_missing_data: watchband::cloud::TreatMissingData::Missing,
    };
    cloud.put_metric_alarm(def.clone()).await.unwrap();
    let state = |c: std::sync::Arc<SimCloud>| async move {
        c.describe_alarms(AlarmFilter {
            names: vec!["errors-high".into()],
            name_prefix: None,
        })
        .await
        .unwrap()[0]
            .state
    };
    assert_eq!(state(cloud.clone()).await, AlarmState::InsufficientData);
    let put = |v: f64| MetricDatum {
        metric_name: "Errors".into(),
        dimensions: vec![("Service".into(), "api".into())],
        timestamp: cloud.now(),
        value: v,
        unit: None,
        storage_resolution: None,
    };
    cloud
        .put_metric_data("Custom", vec![put(3.0)])
        .await
        .unwrap();
    cloud.advance(Duration::from_secs(60));
    assert_eq!(state(cloud.clone()).await, AlarmState::Ok);
    cloud
        .put_metric_data("Custom", vec![put(30.0)])
        .await
        .unwrap();
    cloud.advance(Duration::from_secs(60));
    assert_eq!(state(cloud.clone()).await, AlarmState::Alarm);
    cloud
        .set_alarm_state("errors-high", AlarmState::Ok, "manual")
        .await
        .unwrap();
    assert_eq!(state(cloud.clone()).await, AlarmState::Ok);

    let e = cloud
        .put_metric_data("AWS/EC2", vec![put(1.0)])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    let e = cloud
        .put_metric_data("Custom", vec![put(f64::NAN)])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidRequest);
    let mut bad = def.clone();
    bad.threshold = None;
    assert_eq!(
        cloud.put_metric_alarm(bad).await.unwrap_err().kind,
        ErrorKind::InvalidRequest
    );
    let e = cloud
        .delete_alarms(&["errors-high".into(), "nope".into()])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(
        state(cloud.clone()).await,
        AlarmState::Ok,
        "nothing was deleted"
    );
    cloud.delete_alarms(&["errors-high".into()]).await.unwrap();
}
