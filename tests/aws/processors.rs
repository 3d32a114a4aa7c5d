//! The patterns' processors end to end against moto: EventBridge → SQS → backup processor,
//! and the metric scorer writing the RCF metric scorer's indicator series.

use crate::support::{self, Moto};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use std::sync::Arc;
use watchband::cloud::{
    AlarmFilter, AttrValue, Cloud, GetMetricData, Item, MetricDatum, MetricQuery, Time,
};
use watchband::interop;
use watchband::pipeline::changes::ChangeCounter;
use watchband::processors::changed_blocks::{
    BackupOutcome, BackupProcessor, BackupProcessorConfig, drain_queue,
};

async fn create_table(config: &aws_config::SdkConfig, name: &str, hash: &str) {
    aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(hash)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(hash)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// Puts a `Backup Job State Change` event on the default bus, as AWS Backup does.
async fn put_backup_event(
    events: &aws_sdk_eventbridge::Client,
    volume_arn: &str,
    snapshot_id: &str,
    at: Time,
) {
    let detail = serde_json::json!({
        "backupJobId": format!("job-{snapshot_id}"),
        "state": "COMPLETED",
        "resourceType": "EBS",
        "resourceArn": volume_arn,
    });
    let out = events
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .source("aws.backup")
                .detail_type("Backup Job State Change")
                .detail(detail.to_string())
                .resources(format!("arn:aws:ec2:us-east-1::snapshot/{snapshot_id}"))
                .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(
                    at.timestamp(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_entry_count(), 0);
}

async fn sample_count(cloud: &dyn Cloud, volume_arn: &str, around: Time) -> Vec<f64> {
    let results = cloud
        .get_metric_data(GetMetricData {
            queries: vec![MetricQuery::stat(
                "m1",
                interop::backup_metric(volume_arn),
                60,
                "SampleCount",
            )],
            start: around - chrono::Duration::minutes(5),
            end: around + chrono::Duration::minutes(5),
        })
        .await
        .unwrap();
    results.into_iter().flat_map(|r| r.values).collect()
}

#[tokio::test]
async fn a_backup_event_on_eventbridge_is_counted_published_and_alarmed_once() {
    let Some(moto) = Moto::start() else { return };
    // moto lists no recovery points: the stand-in serves the ones registered below.
    let points = support::backup::RecoveryPoints::default();
    let proxy = support::backup::moto_proxy(moto.port, points.clone());
    let config = support::sdk_config_for(&proxy.endpoint()).await;
    let cloud: Arc<dyn Cloud> = Arc::new(watchband::cloud::aws::AwsCloud::from_sdk_config(&config));
    create_table(&config, interop::BACKUP_TABLE, "arn").await;
    let topic = cloud
        .create_topic(
            interop::BACKUP_TOPIC_NAME,
            Some(interop::BACKUP_TOPIC_DISPLAY_NAME),
        )
        .await
        .unwrap();
    let queue = cloud.create_queue("backup-events").await.unwrap();
    let queue_arn = cloud.queue_arn(&queue).await.unwrap();
    let events = aws_sdk_eventbridge::Client::new(&config);
    events
        .put_rule()
        .name("backup-job-completed")
        .event_pattern(
            serde_json::json!({
                "source": ["aws.backup"],
                "detail-type": ["Backup Job State Change"],
                "detail": {"resourceType": ["EBS"], "state": ["COMPLETED"]}
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("backup-job-completed")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(&queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let ebs = aws_sdk_ebs::Client::new(&config);
    let first = support::ebs::snapshot(&ebs, &[(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]).await;
    let second = support::ebs::snapshot(&ebs, &[(0, 1), (1, 2), (2, 1), (3, 2), (5, 1)]).await;
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0";
    let t1 = cloud.now() - chrono::Duration::days(1);
    let t2 = cloud.now() - chrono::Duration::minutes(1);
    points.add(volume, &first, t1);
    points.add(volume, &second, t2);

    let counter = ChangeCounter::new(cloud.clone(), None);
    let processor =
        BackupProcessor::new(cloud.as_ref(), counter, BackupProcessorConfig::new(&topic));

    // A running job's event is not for us; the rule filters it before the queue.
    put_backup_event(&events, volume, &first, t1).await;
    let done = drain_queue(&processor, &queue, 10, 2).await.unwrap();
    assert_eq!(
        done.len(),
        1,
        "the event reached the queue through the rule"
    );
    assert!(done[0].deleted);
    assert_eq!(
        done[0].outcome.as_ref().unwrap(),
        &BackupOutcome::FirstSighting {
            volume_arn: volume.into(),
            snapshot_id: first.clone()
        }
    );
    let alarm_name = interop::backup_alarm_name(volume);
    let alarms = cloud
        .describe_alarms(AlarmFilter {
            names: vec![alarm_name.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alarms.len(), 1, "the alarm was created on first sight");
    let expected = interop::backup_alarm_definition(volume, &topic, 2.0);
    let got = &alarms[0].definition;
    assert_eq!(got.name, expected.name);
    assert_eq!(got.description, expected.description);
    assert_eq!(got.comparison, expected.comparison);
    assert_eq!(got.threshold_metric_id, expected.threshold_metric_id);
    assert_eq!(got.evaluation_periods, 1);
    assert_eq!(got.treat_missing_data, expected.treat_missing_data);
    assert_eq!(got.alarm_actions, vec![topic.clone()]);
    assert_eq!(got.metric, expected.metric);

    put_backup_event(&events, volume, &second, t2).await;
    let done = drain_queue(&processor, &queue, 10, 2).await.unwrap();
    assert_eq!(done.len(), 1);
    let BackupOutcome::Counted {
        blocks, previous, ..
    } = done[0].outcome.as_ref().unwrap()
    else {
        panic!("expected a count, got {:?}", done[0].outcome);
    };
    // moto reports the blocks of the first snapshot that differ or are gone: 1, 3 and 4.
    assert_eq!(*blocks, 3);
    assert_eq!(previous, &first);
    let mut key = Item::new();
    key.insert("arn".into(), AttrValue::S(volume.into()));
    let item = cloud
        .get_item(interop::BACKUP_TABLE, key.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item["snapshot"], AttrValue::S(second.clone()));
    assert_eq!(sample_count(cloud.as_ref(), volume, t2).await, vec![1.0]);

    // Redelivered (EventBridge is at-least-once): nothing changes.
    put_backup_event(&events, volume, &second, t2).await;
    let done = drain_queue(&processor, &queue, 10, 2).await.unwrap();
    assert_eq!(
        done[0].outcome.as_ref().unwrap(),
        &BackupOutcome::Duplicate {
            snapshot_id: second.clone()
        }
    );
    assert_eq!(sample_count(cloud.as_ref(), volume, t2).await, vec![1.0]);
    // An older event arriving late does not move the table backwards.
    put_backup_event(&events, volume, &first, t1).await;
    let done = drain_queue(&processor, &queue, 10, 2).await.unwrap();
    assert!(matches!(
        done[0].outcome.as_ref().unwrap(),
        BackupOutcome::OutOfOrder { .. }
    ));
    let item = cloud
        .get_item(interop::BACKUP_TABLE, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item["snapshot"], AttrValue::S(second));
}

#[tokio::test]
async fn the_metric_scorer_writes_indicators_exactly_where_the_cutoff_says() {
    use watchband::detect::rcf::{RandomCutForest, RcfConfig, anomaly_indicators};
    use watchband::processors::metric_scorer::{MetricScorerConfig, run};

    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_table(
        &config,
        watchband::processors::detector_state::DEFAULT_STATE_TABLE,
        "key",
    )
    .await;
    let metric = watchband::cloud::MetricId::new("Custom/App", "Latency", &[("Service", "api")]);

    // Ten days of five-minute points: a daily wave with noise, and one injected spike in the
    // last three days (the first run learns from the whole window and scores its end, as seed
    // 002 does with 30 and 7 days; shorter here to keep the test quick on moto).
    let now = cloud.now();
    let end = now.timestamp() - now.timestamp() % 300;
    // An hour short of ten days, so the scorer's window (ten days back from its own `now`, a
    // little later than ours) holds every point however long the puts take.
    let n = 10 * 288 - 12;
    let spike_at = n - 100;
    let mut points = Vec::new();
    let mut seed = 42u64;
    for i in 0..n {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let noise = ((seed >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 4.0;
        let t = end - (n - 1 - i) * 300;
        let wave = 50.0 + 20.0 * ((t % 86400) as f64 / 86400.0 * std::f64::consts::TAU).sin();
        let v = if i == spike_at { 400.0 } else { wave + noise };
        points.push((t, v));
    }
    for chunk in points.chunks(1000) {
        cloud
            .put_metric_data(
                &metric.namespace,
                chunk
                    .iter()
                    .map(|(t, v)| MetricDatum {
                        metric_name: metric.name.clone(),
                        dimensions: metric.dimensions.clone(),
                        timestamp: Time::from_timestamp(*t, 0).unwrap(),
                        value: *v,
                        unit: None,
                        storage_resolution: None,
                    })
                    .collect(),
            )
            .await
            .unwrap();
    }

    let scorer = MetricScorerConfig {
        train_days: 10,
        score_days: 3,
        ..MetricScorerConfig::new(metric.clone())
    };
    let report = run(&cloud, &scorer).await.unwrap();
    assert!(report.scored > 0);
    assert!(
        report.anomalous_at.contains(&points[spike_at as usize].0),
        "the injected spike is flagged: {report:?}"
    );

    // The same forest, fed the same points, must flag exactly the same timestamps. The scored
    // points are the newest `report.scored` (three days back from the scorer's own clock).
    let score_from = points[points.len() - report.scored].0;
    let mut forest = RandomCutForest::new(&RcfConfig::default(), 1).unwrap();
    let (mut ts, mut scores) = (vec![], vec![]);
    for (t, v) in &points {
        if *t >= score_from && forest.sampled() >= 100 {
            scores.push(forest.score(&[*v]));
            ts.push(*t);
        }
        forest.update(&[*v]);
    }
    let expected: Vec<i64> = ts
        .iter()
        .zip(anomaly_indicators(&scores, 2.0))
        .filter(|(_, x)| *x == 1.0)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(report.anomalous_at, expected);

    // And CloudWatch holds the indicator series: 1.0 there, 0.0 everywhere else scored.
    let indicator = interop::indicator_metric(&metric);
    let results = cloud
        .get_metric_data(GetMetricData {
            queries: vec![MetricQuery::stat("i", indicator, 300, "Maximum")],
            // Period-aligned, as the scorer writes its points.
            start: Time::from_timestamp(score_from - score_from % 300, 0).unwrap(),
            end: now + chrono::Duration::minutes(5),
        })
        .await
        .unwrap();
    let series: Vec<(i64, f64)> = results
        .iter()
        .flat_map(|r| {
            r.timestamps
                .iter()
                .map(|t| t.timestamp())
                .zip(r.values.iter().copied())
        })
        .collect();
    assert_eq!(series.len(), report.scored);
    for (t, v) in series {
        assert_eq!(v == 1.0, expected.contains(&t), "indicator at {t} is {v}");
    }

    // The forest was kept: a second run scores only what is new (nothing here).
    let again = run(&cloud, &scorer).await.unwrap();
    assert_eq!(again.trained, 0);
    assert_eq!(again.scored, 0);
}
