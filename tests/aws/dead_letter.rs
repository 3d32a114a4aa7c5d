//! `watchband process stream --dead-letter-queue URL` against moto: every rejected record (a
//! malformed payload, a row DynamoDB can never store) is sent to the queue with its stream,
//! shard, sequence number, reason and original bytes; while the queue cannot take it, the
//! shard waits at that record (nothing after it is stored), and it goes on once the send
//! succeeds.

use crate::support::{Moto, create_anomaly_table};
use base64::Engine;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use watchband::cloud::{AttrValue, Cloud, Item, PutRecord};
use watchband::interop;

fn reading(deviceid: &str, timestamp: &str, value: f64) -> PutRecord {
    let r = interop::TemperatureReading {
        timestamp: timestamp.into(),
        datatype: "Temperature".into(),
        value,
        deviceid: deviceid.into(),
        date: "2026-05-28".into(),
        lowest_temp: 96.0,
        highest_temp: 101.0,
    };
    PutRecord {
        partition_key: "p".into(),
        data: r.to_json().into_bytes(),
    }
}

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
    aws_sdk_kinesis::Client::new(&config)
        .create_stream()
        .stream_name(interop::TEMPERATURE_STREAM)
        .shard_count(1)
        .send()
        .await
        .unwrap();
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
    let unstorable = reading("", "2026-05-28 10:00:00.000002", 150.0);
    let hot = |i: usize| format!("2026-05-28 10:00:{:02}.000000", 10 + i);
    let mut records = vec![malformed.clone()];
    records.extend((0..3).map(|i| reading("DHT_001", &hot(i), 120.0)));
    records.push(unstorable.clone());
    records.extend((3..6).map(|i| reading("DHT_001", &hot(i), 120.0)));
    let mut sent = Vec::new();
    for r in &records {
        let out = cloud
            .put_records(interop::TEMPERATURE_STREAM, vec![r.clone()])
            .await
            .unwrap();
        sent.push(out.results[0].clone().unwrap());
    }

    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchband"))
        .args(["--endpoint-url", &moto.endpoint()])
        .args(["process", "stream", "--dead-letter-queue", &dlq])
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.path().join("aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("aws-credentials"),
        )
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let err = || stderr.lock().unwrap().clone();

    // The shard waits at the malformed record while the queue is missing.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !err().contains("SendMessage") {
        assert!(
            Instant::now() < deadline,
            "no failed send reported: {}",
            err()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
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
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{}", err());
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
