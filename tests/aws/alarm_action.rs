//! The `a` key's action path against moto: the command the alarm form sends goes through the
//! pipeline (anomaly detector first, then the alarm) and the alarm that appears in CloudWatch
//! has the changed-block pipeline's definition. moto lacks PutAnomalyDetector, so a pass-through proxy answers that
//! one call with AWS's recorded Query response and forwards everything else to moto.

use crate::support::{self, Moto};
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::{AlarmFilter, AnomalyDetector, Cloud};
use watchband::interop;
use watchband::pipeline::{Command, PipelineConfig};

const PUT_ANOMALY_DETECTOR: &str = r#"<PutAnomalyDetectorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
  <PutAnomalyDetectorResult/>
  <ResponseMetadata><RequestId>4f8e0a53-9f2c-4b5e-9c1e-0d6a1c7a2b11</RequestId></ResponseMetadata>
</PutAnomalyDetectorResponse>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_created_through_the_tui_action_path_has_the_backup_pipeline_definition() {
    let Some(moto) = Moto::start() else { return };
    let port = moto.port;
    let detectors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = detectors.clone();
    let proxy = support::http::Server::start(move |req| {
        let body = req.body_text();
        if body.contains("Action=PutAnomalyDetector") {
            seen.lock().unwrap().push(body);
            return support::http::Response::new(200, "text/xml", PUT_ANOMALY_DETECTOR);
        }
        support::http::forward(port, req)
    });
    let config = support::sdk_config_for(&proxy.endpoint()).await;
    let cloud: Arc<dyn Cloud> = Arc::new(watchband::cloud::aws::AwsCloud::from_sdk_config(&config));
    let topic = cloud
        .create_topic(
            interop::BACKUP_TOPIC_NAME,
            Some(interop::BACKUP_TOPIC_DISPLAY_NAME),
        )
        .await
        .unwrap();
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0";
    let metric = interop::backup_metric(volume);
    let (mut events, commands) = watchband::pipeline::spawn(
        cloud.clone(),
        None,
        PipelineConfig {
            streams: vec![],
            ..PipelineConfig::default()
        },
    );
    // What the alarm form sends for a volume with its defaults (Maximum, 60 s, width 2, one
    // evaluation period, the backup topic).
    commands
        .send(Command::CreateAlarm {
            definition: Box::new(interop::anomaly_alarm_definition(
                &interop::backup_alarm_name(volume),
                metric.clone(),
                "Maximum",
                60,
                2.0,
                1,
                &topic,
            )),
            detector: AnomalyDetector {
                metric: metric.clone(),
                stat: "Maximum".into(),
                excluded: vec![],
                metric_timezone: None,
                periodic_spikes: false,
                state: None,
            },
        })
        .await
        .unwrap();

    let name = interop::backup_alarm_name(volume);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let alarm = loop {
        while events.try_recv().is_ok() {}
        let found = cloud
            .describe_alarms(AlarmFilter {
                names: vec![name.clone()],
                ..Default::default()
            })
            .await
            .unwrap();
        if let Some(a) = found.into_iter().next() {
            break a;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the alarm never appeared"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let expected = interop::backup_alarm_definition(volume, &topic, 2.0);
    let got = alarm.definition;
    assert_eq!(got.name, expected.name);
    assert_eq!(got.description, expected.description);
    assert_eq!(got.metric, expected.metric);
    assert_eq!(got.comparison, expected.comparison);
    assert_eq!(got.threshold_metric_id, expected.threshold_metric_id);
    assert_eq!(got.evaluation_periods, expected.evaluation_periods);
    assert_eq!(got.treat_missing_data, expected.treat_missing_data);
    assert_eq!(got.alarm_actions, expected.alarm_actions);

    // The detector was written first, for the volume's metric with the alarm's statistic.
    let detectors = detectors.lock().unwrap();
    assert_eq!(detectors.len(), 1);
    assert!(
        detectors[0].contains("BACKUP_CHANGED_BLOCKS"),
        "{}",
        detectors[0]
    );
    assert!(detectors[0].contains("Maximum"), "{}", detectors[0]);
}
