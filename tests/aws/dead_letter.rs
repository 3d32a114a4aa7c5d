//! `watchband process stream --dead-letter-queue URL` against moto: every rejected record (a
//! malformed payload, a row DynamoDB can never store) is sent to the queue with its stream,
//! shard, sequence number, reason and original bytes; while the queue cannot take it, the
//! shard waits at that record (nothing after it is stored), and it goes on once the send
//! succeeds.

use crate::support::process::Processor;
use crate::support::{Moto, create_anomaly_table, create_temperature_stream, reading_record};
use base64::Engine;
use std::time::{Duration, Instant};
use watchband::cloud::{AttrValue, Cloud, Item, PutRecord};
use watchband::interop;

async fn row_exists(cloud: &dyn Cloud, timestamp: &str) -> bool {
    let mut key = Item::new();
    key.insert("deviceid".into(), AttrValue::S("DHT_001".into()));
    key.insert("timestamp".into(), AttrValue::S(timestamp.into()));
    cloud
        .get_item(interop::TEMPERATURE_TABLE, key)
        .await
        .unwrap()
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_letter_queue_receives_the_poison_records_with_shard_and_sequence() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 1).await;
    // The queue's URL, with no queue behind it until later: SendMessage fails meanwhile.
    let dlq = cloud.create_queue("stream-dead-letters").await.unwrap();
    aws_sdk_sqs::Client::new(&config)
        .delete_queue()
        .queue_url(&dlq)
        .send()
        .await
        .unwrap();

    let malformed = PutRecord {
        partition_key: "p".into(),
        data: b"{\"deviceid\": \"DHT_001\", \x1b[31m not json".to_vec(),
    };
    let unstorable = reading_record("", "2026-05-28 10:00:00.000002", 150.0);
    let hot = |i: usize| format!("2026-05-28 10:00:{:02}.000000", 10 + i);
    let mut records = vec![malformed.clone()];
    records.extend((0..3).map(|i| reading_record("DHT_001", &hot(i), 120.0)));
    records.push(unstorable.clone());
    records.extend((3..6).map(|i| reading_record("DHT_001", &hot(i), 120.0)));
    let mut sent = Vec::new();
    for r in &records {
        let out = cloud
            .put_records(interop::TEMPERATURE_STREAM, vec![r.clone()])
            .await
            .unwrap();
        sent.push(out.results[0].clone().unwrap());
    }

    let home = tempfile::tempdir().unwrap();
    let mut p = Processor::start(
        &moto.endpoint(),
        home.path(),
        &["process", "stream", "--dead-letter-queue", &dlq],
    );
    let err = || p.stderr();

    // The shard waits at the malformed record while the queue is missing.
    p.wait_for(
        "SendMessage",
        "no failed send reported",
        Duration::from_secs(30),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !row_exists(&cloud, &hot(0)).await,
        "a record after the undelivered dead letter was stored"
    );

    cloud.create_queue("stream-dead-letters").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut letters = Vec::new();
    while letters.len() < 2 || !row_exists(&cloud, &hot(5)).await {
        assert!(
            Instant::now() < deadline,
            "{} dead letters; stderr: {}",
            letters.len(),
            err()
        );
        letters.extend(cloud.receive_messages(&dlq, 10, 1).await.unwrap());
    }
    p.signal("INT");
    let (code, _) = p.wait();
    assert_eq!(code, Some(130), "{}", p.stderr());
    for i in 0..6 {
        assert!(row_exists(&cloud, &hot(i)).await, "reading {i} not stored");
    }
    assert_eq!(letters.len(), 2, "{letters:?}");
    let letters: Vec<serde_json::Value> = letters
        .iter()
        .map(|m| serde_json::from_str(&m.body).unwrap())
        .collect();
    for (letter, (record, (seq, shard))) in letters
        .iter()
        .zip([(&malformed, &sent[0]), (&unstorable, &sent[4])])
    {
        assert_eq!(letter["stream"], interop::TEMPERATURE_STREAM, "{letter}");
        assert_eq!(letter["shard_id"], shard.as_str(), "{letter}");
        assert_eq!(letter["sequence_number"], seq.as_str(), "{letter}");
        assert!(!letter["reason"].as_str().unwrap().is_empty(), "{letter}");
        let data = base64::engine::general_purpose::STANDARD
            .decode(letter["data_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(data, record.data, "{letter}");
    }
    assert!(letters[1]["reason"].as_str().unwrap().contains("the row"));
}
