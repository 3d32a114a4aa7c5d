//! The `aws` implementation against a real AWS-compatible server: moto, one server per test,
//! driven over HTTP by the real SDK clients through the `Cloud` seam.

use crate::support::{self, Moto, read_shard};
use std::collections::BTreeSet;
use std::sync::Arc;
use watchband::cloud::*;
use watchband::interop;
use watchband::pipeline::changes::ChangeCounter;
use watchband::store::Store;

/// The temperature pipeline's generator: one reading per second from device DHT_001, Normal(97, 2)-ish values
/// (a fixed sequence here), with the original's bounds 96 and 101.
fn temperature_readings(n: usize) -> Vec<interop::TemperatureReading> {
    (0..n)
        .map(|i| {
            // Deterministic spread around 97 with a few excursions beyond both bounds.
            let value = match i % 17 {
                3 => 102.4,
                11 => 94.8,
                k => 95.5 + (k as f64) * 0.3,
            };
            let value = (value * 10.0f64).round() / 10.0;
            interop::TemperatureReading {
                timestamp: format!("2024-05-01 10:{:02}:{:02}.123456", i / 60, i % 60),
                datatype: "Temperature".into(),
                value,
                deviceid: "DHT_001".into(),
                date: "2024-05-01".into(),
                lowest_temp: 96.0,
                highest_temp: 101.0,
            }
        })
        .collect()
}

#[tokio::test]
async fn a_temperature_stream_is_read_completely_and_resumes_from_checkpoints() {
    let Some(moto) = Moto::start() else { return };
    let cloud = moto.cloud().await;
    let kinesis = aws_sdk_kinesis::Client::new(&moto.sdk_config().await);
    let stream = interop::TEMPERATURE_STREAM;
    kinesis
        .create_stream()
        .stream_name(stream)
        .shard_count(2)
        .send()
        .await
        .unwrap();
    assert!(
        cloud
            .list_streams()
            .await
            .unwrap()
            .contains(&stream.to_string())
    );

    let readings = temperature_readings(120);
    for chunk in readings.chunks(50) {
        let outcome = cloud
            .put_records(
                stream,
                chunk
                    .iter()
                    .enumerate()
                    .map(|(i, r)| PutRecord {
                        // Several keys so both shards receive records.
                        partition_key: format!("{}-{}", r.deviceid, i % 5),
                        data: r.to_json().into_bytes(),
                    })
                    .collect(),
            )
            .await
            .unwrap();
        assert_eq!(outcome.failed(), 0);
    }

    let shards = cloud.list_shards(stream).await.unwrap();
    assert_eq!(shards.len(), 2);
    let mut got = Vec::new();
    for s in &shards {
        got.extend(read_shard(&cloud, stream, &s.id, ShardPosition::TrimHorizon, 7).await);
    }
    let decoded: Vec<_> = got
        .iter()
        .map(|r| interop::decode_reading(&r.data).unwrap())
        .collect();
    assert_eq!(
        decoded.len(),
        readings.len(),
        "every record read, none twice"
    );
    let want: BTreeSet<String> = readings.iter().map(|r| r.to_json()).collect();
    let have: BTreeSet<String> = decoded.iter().map(|r| r.to_json()).collect();
    assert_eq!(have, want);

    // A consumer that checkpointed part-way through a shard resumes after its checkpoint and
    // neither loses nor repeats a record.
    let store = Store::in_memory().unwrap();
    let shard = &shards[0].id;
    let all = read_shard(&cloud, stream, shard, ShardPosition::TrimHorizon, 7).await;
    assert!(all.len() > 3);
    store
        .set_checkpoint(stream, shard, &all[2].sequence_number)
        .unwrap();
    let resume = store.checkpoint(stream, shard).unwrap().unwrap();
    let rest = read_shard(
        &cloud,
        stream,
        shard,
        ShardPosition::AfterSequence(resume),
        7,
    )
    .await;
    let seqs: Vec<_> = rest.iter().map(|r| r.sequence_number.clone()).collect();
    let expected: Vec<_> = all[3..].iter().map(|r| r.sequence_number.clone()).collect();
    assert_eq!(seqs, expected);
}

#[tokio::test]
async fn anomalies_are_written_to_the_table_and_alerts_published() {
    let Some(moto) = Moto::start() else { return };
    let cloud = moto.cloud().await;
    let ddb = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    ddb.create_table()
        .table_name(interop::TEMPERATURE_TABLE)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("deviceid")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("timestamp")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("deviceid")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("timestamp")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();

    let topic = cloud
        .create_topic(interop::TEMPERATURE_TOPIC, None)
        .await
        .unwrap();
    let queue = cloud.create_queue("watchband-alerts").await.unwrap();
    cloud.allow_topic_to_queue(&queue, &topic).await.unwrap();
    let queue_arn = cloud.queue_arn(&queue).await.unwrap();
    cloud.subscribe(&topic, "sqs", &queue_arn).await.unwrap();
    let subs = cloud.list_subscriptions(&topic).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(
        (subs[0].protocol.as_str(), subs[0].endpoint.as_str()),
        ("sqs", queue_arn.as_str())
    );

    // The intended rule of the Kinesis temperature pipeline: Cold below lowest_temp, Hot above highest_temp.
    let readings = temperature_readings(40);
    let mut anomalies = Vec::new();
    for r in &readings {
        let kind = if r.value < r.lowest_temp {
            "Cold"
        } else if r.value > r.highest_temp {
            "Hot"
        } else {
            continue;
        };
        let condition = Condition::AttributeNotExists("timestamp".into());
        cloud
            .put_item(
                interop::TEMPERATURE_TABLE,
                interop::temperature_anomaly_item(r, kind),
                Some(condition.clone()),
            )
            .await
            .unwrap();
        // The same anomaly written twice is refused, not duplicated.
        let again = cloud
            .put_item(
                interop::TEMPERATURE_TABLE,
                interop::temperature_anomaly_item(r, kind),
                Some(condition),
            )
            .await
            .unwrap_err();
        assert_eq!(again.kind, ErrorKind::ConditionFailed, "{again}");
        cloud
            .publish(
                &topic,
                Some(&interop::temperature_alert_subject(kind)),
                &interop::temperature_alert_message(r.value, kind),
            )
            .await
            .unwrap();
        anomalies.push((r.clone(), kind));
    }
    assert!(anomalies.len() >= 4, "the fixture has excursions both ways");

    let items = cloud
        .query(Query {
            table: interop::TEMPERATURE_TABLE.into(),
            hash_key: "deviceid".into(),
            hash_value: AttrValue::S("DHT_001".into()),
            limit: None,
            newest_first: true,
        })
        .await
        .unwrap();
    assert_eq!(items.len(), anomalies.len());
    assert_eq!(
        items[0]["timestamp"],
        AttrValue::S(anomalies.last().unwrap().0.timestamp.clone())
    );
    let (first, kind) = &anomalies[0];
    let key = [
        ("deviceid".to_string(), AttrValue::S(first.deviceid.clone())),
        (
            "timestamp".to_string(),
            AttrValue::S(first.timestamp.clone()),
        ),
    ]
    .into_iter()
    .collect();
    let stored = cloud
        .get_item(interop::TEMPERATURE_TABLE, key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, interop::temperature_anomaly_item(first, kind));

    // Visible in moto's record of sent notifications...
    let data = moto.data();
    let sent = sent_notifications(&data, &topic);
    assert_eq!(sent.len(), anomalies.len());
    let expected_msg = interop::temperature_alert_message(first.value, kind);
    assert!(sent.iter().any(|m| m == &expected_msg), "{sent:?}");
    // ...and delivered through the SQS subscription.
    let mut bodies = Vec::new();
    for _ in 0..20 {
        let msgs = cloud.receive_messages(&queue, 10, 0).await.unwrap();
        if msgs.is_empty() {
            break;
        }
        for m in msgs {
            cloud
                .delete_message(&queue, &m.receipt_handle)
                .await
                .unwrap();
            bodies.push(m.body);
        }
    }
    assert_eq!(bodies.len(), anomalies.len());
    let envelope: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(envelope["TopicArn"], topic.as_str());
    assert!(
        envelope["Subject"]
            .as_str()
            .unwrap()
            .ends_with("temperature is detected.")
    );
}

/// The messages moto recorded as published to a topic.
fn sent_notifications(data: &serde_json::Value, topic_arn: &str) -> Vec<String> {
    let mut out = Vec::new();
    // data.json: {"sns": {"Topic": [ {..., "arn": ..., "sent_notifications": [[id, message, subject, attrs, group], ...]} ]}}
    let topics = data["sns"]["Topic"].as_array().cloned().unwrap_or_default();
    for t in topics {
        if t["arn"] == topic_arn {
            for n in t["sent_notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                if let Some(m) = n.get(1).and_then(|m| m.as_str()) {
                    out.push(m.to_string());
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn a_backup_alarm_appears_with_the_backup_pipeline_definition_and_acks_are_published() {
    let Some(moto) = Moto::start() else { return };
    let cloud = moto.cloud().await;
    let identity = cloud.caller_identity().await.unwrap();
    assert_eq!(identity.account, "123456789012");
    assert_eq!(identity.region, "us-east-1");

    let topic = cloud
        .create_topic(
            interop::BACKUP_TOPIC_NAME,
            Some(interop::BACKUP_TOPIC_DISPLAY_NAME),
        )
        .await
        .unwrap();
    assert!(cloud.list_topics().await.unwrap().contains(&topic));
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0abc1234def567890";
    let definition = interop::backup_alarm_definition(volume, &topic, 2.0);
    cloud.put_metric_alarm(definition.clone()).await.unwrap();

    let alarms = cloud
        .describe_alarms(AlarmFilter {
            name_prefix: Some(interop::BACKUP_ALARM_PREFIX.into()),
            names: vec![],
        })
        .await
        .unwrap();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].definition, definition);
    assert_eq!(
        interop::volume_arn_of_alarm(&alarms[0].definition.name),
        Some(volume)
    );
    let by_name = cloud
        .describe_alarms(AlarmFilter {
            name_prefix: None,
            names: vec![definition.name.clone()],
        })
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);

    cloud
        .set_alarm_state(
            &definition.name,
            AlarmState::Alarm,
            "burst of changed blocks",
        )
        .await
        .unwrap();
    let now = cloud
        .describe_alarms(AlarmFilter {
            name_prefix: None,
            names: vec![definition.name.clone()],
        })
        .await
        .unwrap();
    assert_eq!(now[0].state, AlarmState::Alarm);
    assert_eq!(now[0].state_reason, "burst of changed blocks");

    // The acknowledgement the TUI publishes reaches the topic.
    let ack = format!(
        "Acknowledged {} by operator: investigating",
        definition.name
    );
    cloud
        .publish(&topic, Some("watchband acknowledgement"), &ack)
        .await
        .unwrap();
    assert_eq!(sent_notifications(&moto.data(), &topic), vec![ack]);

    // The metric itself: published, listed and read back oldest first.
    let t0 = chrono::DateTime::from_timestamp(
        chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).timestamp() / 60 * 60
            - 600,
        0,
    )
    .unwrap();
    let data: Vec<MetricDatum> = (0..5)
        .map(|i| MetricDatum {
            metric_name: interop::BACKUP_METRIC.into(),
            dimensions: vec![(interop::BACKUP_DIMENSION.into(), volume.into())],
            timestamp: t0 + chrono::Duration::minutes(i),
            value: 100.0 + i as f64,
            unit: None,
            storage_resolution: None,
        })
        .collect();
    cloud
        .put_metric_data(interop::BACKUP_NAMESPACE, data)
        .await
        .unwrap();
    let metrics = cloud
        .list_metrics(Some(interop::BACKUP_NAMESPACE), None)
        .await
        .unwrap();
    assert_eq!(metrics, vec![interop::backup_metric(volume)]);
    let series = cloud
        .get_metric_data(GetMetricData {
            queries: vec![MetricQuery::stat(
                "m1",
                interop::backup_metric(volume),
                60,
                "Maximum",
            )],
            start: t0 - chrono::Duration::minutes(1),
            end: t0 + chrono::Duration::minutes(10),
        })
        .await
        .unwrap();
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].values, vec![100.0, 101.0, 102.0, 103.0, 104.0]);
    assert!(series[0].timestamps.windows(2).all(|w| w[0] < w[1]));

    cloud
        .delete_alarms(std::slice::from_ref(&definition.name))
        .await
        .unwrap();
    assert!(
        cloud
            .describe_alarms(AlarmFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn changed_blocks_between_two_snapshots_are_counted_as_moto_reports_them() {
    let Some(moto) = Moto::start() else { return };
    // moto 5.2 writes BlockIndex as a JSON string ("1"), which the Rust SDK rightly refuses;
    // a pass-through proxy turns it back into the number the EBS API defines.
    let proxy = support::ebs::moto_proxy(moto.port);
    let config = support::sdk_config_for(&proxy.endpoint()).await;
    let cloud: Arc<dyn Cloud> = Arc::new(watchband::cloud::aws::AwsCloud::from_sdk_config(&config));
    let ebs = aws_sdk_ebs::Client::new(&config);
    let first = support::ebs::snapshot(&ebs, &[(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]).await;
    // Blocks 1 and 3 rewritten, block 4 gone, blocks 5 and 6 new.
    let second =
        support::ebs::snapshot(&ebs, &[(0, 1), (1, 2), (2, 1), (3, 2), (5, 1), (6, 1)]).await;

    let raw = cloud
        .list_changed_blocks(ListChangedBlocks {
            first_snapshot_id: Some(first.clone()),
            second_snapshot_id: second.clone(),
            next_token: None,
            max_results: Some(10_000),
        })
        .await
        .unwrap();
    let mut indices = raw.block_indices.clone();
    indices.sort();
    // moto 5.2 reports blocks of the first snapshot that differ or are missing in the second,
    // and omits blocks present only in the second (AWS would also list 5 and 6).
    assert_eq!(indices, vec![1, 3, 4]);

    let store = Arc::new(Store::in_memory().unwrap());
    let counter = ChangeCounter::new(cloud.clone(), Some(store.clone()));
    let count = counter.count(Some(&first), &second).await.unwrap();
    assert_eq!(count.blocks, raw.block_indices.len() as u64);
    assert_eq!(count.block_size, raw.block_size);
    assert_eq!(
        store.change_count(Some(&first), &second).unwrap(),
        Some(count)
    );
    // The first snapshot of a volume counts every block written in it.
    assert_eq!(counter.count(None, &first).await.unwrap().blocks, 5);
    // A snapshot that does not exist is an error naming it, not a hang.
    let missing = counter
        .count(Some(&first), "snap-0000000000000000f")
        .await
        .unwrap_err();
    assert_eq!(missing.service, "ebs");
}

/// Two regions of one account, each with a stream of the same name and the same shard ids:
/// the store kept for one (scoped by its caller identity) never gives the other its
/// checkpoint, so a consumer switched to the other region starts from that stream's own
/// position instead of skipping to a sequence number of another stream.
#[tokio::test]
async fn the_same_stream_name_in_two_regions_never_shares_a_checkpoint() {
    let Some(moto) = Moto::start() else { return };
    let us_config = moto.sdk_config().await;
    let eu_config = us_config
        .to_builder()
        .region(aws_config::Region::new("eu-west-1"))
        .build();
    let mut regions = Vec::new();
    for config in [&us_config, &eu_config] {
        let kinesis = aws_sdk_kinesis::Client::new(config);
        kinesis
            .create_stream()
            .stream_name("temps")
            .shard_count(1)
            .send()
            .await
            .unwrap();
        let cloud = aws::AwsCloud::from_sdk_config(config);
        let records = temperature_readings(5)
            .iter()
            .map(|r| PutRecord {
                partition_key: r.deviceid.clone(),
                data: r.to_json().into_bytes(),
            })
            .collect();
        assert_eq!(
            cloud.put_records("temps", records).await.unwrap().failed(),
            0
        );
        regions.push(cloud);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchband.db");
    let mut stores = Vec::new();
    for cloud in &regions {
        let scope = watchband::store::Scope::of(cloud).await.unwrap();
        stores.push(Store::open(&path).unwrap().scoped(scope));
    }
    assert_eq!(stores[0].scope().region, "us-east-1");
    assert_eq!(stores[1].scope().region, "eu-west-1");
    assert_eq!(stores[0].scope().account, stores[1].scope().account);

    let shard = regions[0].list_shards("temps").await.unwrap()[0].id.clone();
    assert_eq!(regions[1].list_shards("temps").await.unwrap()[0].id, shard);
    let us_records = read_shard(&regions[0], "temps", &shard, ShardPosition::TrimHorizon, 10).await;
    stores[0]
        .set_checkpoint("temps", &shard, &us_records[2].sequence_number)
        .unwrap();

    // eu-west-1 has no checkpoint: it reads its own stream from the start.
    assert_eq!(stores[1].checkpoint("temps", &shard).unwrap(), None);
    let eu_records = read_shard(&regions[1], "temps", &shard, ShardPosition::TrimHorizon, 10).await;
    assert_eq!(eu_records.len(), 5);
    stores[1]
        .set_checkpoint("temps", &shard, &eu_records[4].sequence_number)
        .unwrap();
    // us-east-1 resumes after its own checkpoint, untouched by eu-west-1's.
    let resume = stores[0].checkpoint("temps", &shard).unwrap().unwrap();
    assert_eq!(resume, us_records[2].sequence_number);
    let rest = read_shard(
        &regions[0],
        "temps",
        &shard,
        ShardPosition::AfterSequence(resume),
        10,
    )
    .await;
    assert_eq!(rest.len(), 2);
}
