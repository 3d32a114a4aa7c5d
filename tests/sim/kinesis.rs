//! The simulated account's Kinesis stream and DynamoDB tables: the temperature pipeline's records, malformed
//! records at the expected rate, iterator types, the split and its child shards, PutRecords.

use crate::support::sim::paused;
use std::time::Duration;
use watchband::cloud::sim::SimCloud;
use watchband::cloud::{
    AttrValue, Cloud, CloudResult, Condition, ErrorKind, PutRecord, Query, RecordBatch,
    ShardPosition,
};
use watchband::interop::{self, decode_reading};

/// GetRecords as a well-behaved client calls it: at most five calls per second per shard
/// (Kinesis's limit). The tests run on paused tokio time, so the pause costs nothing.
async fn read(cloud: &SimCloud, iterator: &str, limit: Option<i32>) -> CloudResult<RecordBatch> {
    tokio::time::sleep(Duration::from_millis(200)).await;
    cloud.get_records(iterator, limit).await
}

#[tokio::test(start_paused = true)]
async fn stream_carries_temperature_readings_with_about_half_a_percent_malformed() {
    let cloud = paused(7);
    assert_eq!(
        cloud.list_streams().await.unwrap(),
        vec![interop::TEMPERATURE_STREAM.to_string()]
    );
    let shards = cloud
        .list_shards(interop::TEMPERATURE_STREAM)
        .await
        .unwrap();
    assert_eq!(shards.len(), 2);
    let (mut ok, mut bad, mut devices) = (0usize, 0usize, std::collections::BTreeSet::new());
    for s in &shards {
        let mut it = cloud
            .get_shard_iterator(
                interop::TEMPERATURE_STREAM,
                &s.id,
                ShardPosition::TrimHorizon,
            )
            .await
            .unwrap();
        for _ in 0..4 {
            let b = read(&cloud, &it, Some(10_000)).await.unwrap();
            for r in &b.records {
                match decode_reading(&r.data) {
                    Ok(x) => {
                        assert_eq!(x.deviceid, r.partition_key);
                        assert_eq!(x.datatype, "Temperature");
                        assert!((85.0..110.0).contains(&x.value), "{}", x.value);
                        devices.insert(x.deviceid);
                        ok += 1;
                    }
                    Err(_) => bad += 1,
                }
            }
            it = b.next_iterator.unwrap();
        }
    }
    let rate = bad as f64 / (ok + bad) as f64;
    assert!(ok + bad > 50_000);
    assert!((0.003..0.008).contains(&rate), "malformed rate {rate}");
    assert_eq!(devices.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn iterators_follow_the_clock_and_the_split() {
    let cloud = paused(7);
    let stream = interop::TEMPERATURE_STREAM;
    let shard = cloud.list_shards(stream).await.unwrap()[0].id.clone();
    // LATEST sees nothing until time passes, then about 1 record per device-second.
    let it = cloud
        .get_shard_iterator(stream, &shard, ShardPosition::Latest)
        .await
        .unwrap();
    let b = read(&cloud, &it, None).await.unwrap();
    assert!(b.records.is_empty());
    cloud.advance(Duration::from_secs(10));
    let b = read(&cloud, &b.next_iterator.unwrap(), None).await.unwrap();
    assert!(
        !b.records.is_empty() && b.records.len() <= 40,
        "{}",
        b.records.len()
    );
    assert_eq!(b.millis_behind_latest, 0);
    // AT/AFTER_SEQUENCE_NUMBER and AT_TIMESTAMP.
    let first = &b.records[0];
    let at = cloud
        .get_shard_iterator(
            stream,
            &shard,
            ShardPosition::AtSequence(first.sequence_number.clone()),
        )
        .await
        .unwrap();
    assert_eq!(read(&cloud, &at, Some(1)).await.unwrap().records[0], *first);
    let after = cloud
        .get_shard_iterator(
            stream,
            &shard,
            ShardPosition::AfterSequence(first.sequence_number.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        read(&cloud, &after, Some(1)).await.unwrap().records[0],
        b.records[1]
    );
    let ts = cloud
        .get_shard_iterator(stream, &shard, ShardPosition::AtTimestamp(first.arrival))
        .await
        .unwrap();
    assert_eq!(read(&cloud, &ts, Some(1)).await.unwrap().records[0], *first);
    // A limited read reports how far behind it is.
    let th = cloud
        .get_shard_iterator(stream, &shard, ShardPosition::TrimHorizon)
        .await
        .unwrap();
    let b = read(&cloud, &th, Some(5)).await.unwrap();
    assert_eq!(b.records.len(), 5);
    assert!(b.millis_behind_latest > 23 * 3600 * 1000);
    assert_eq!(
        read(&cloud, &th, Some(0)).await.unwrap_err().kind,
        ErrorKind::InvalidRequest
    );

    // After the split a parent is closed; reading it to the end names its children.
    cloud.advance(Duration::from_secs(41 * 3600));
    let shards = cloud.list_shards(stream).await.unwrap();
    assert_eq!(shards.len(), 4);
    let parent = shards.iter().find(|s| s.ending_sequence.is_some()).unwrap();
    let children: Vec<_> = shards
        .iter()
        .filter(|s| s.parent.as_ref() == Some(&parent.id))
        .collect();
    assert_eq!(children.len(), 2);
    let mut it = cloud
        .get_shard_iterator(
            stream,
            &parent.id,
            ShardPosition::AtTimestamp(cloud.now() - chrono::Duration::hours(2)),
        )
        .await
        .unwrap();
    loop {
        let b = read(&cloud, &it, Some(10_000)).await.unwrap();
        match b.next_iterator {
            Some(n) => it = n,
            None => {
                let mut kids = b.child_shards.clone();
                kids.sort();
                assert_eq!(
                    kids,
                    children.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
                );
                break;
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn put_records_are_read_back_in_order() {
    let cloud = paused(2);
    let stream = interop::TEMPERATURE_STREAM;
    let recs: Vec<PutRecord> = (0..5)
        .map(|i| PutRecord {
            partition_key: format!("key-{i}"),
            data: format!("r{i}").into_bytes(),
        })
        .collect();
    let out = cloud.put_records(stream, recs).await.unwrap();
    assert_eq!(out.failed(), 0);
    let (shard, seq) = out.results[0].clone().unwrap();
    let it = cloud
        .get_shard_iterator(stream, &shard, ShardPosition::AtSequence(seq))
        .await
        .unwrap();
    let b = read(&cloud, &it, None).await.unwrap();
    assert_eq!(b.records[0].data, b"r0");
    let e = cloud
        .put_records(
            "nope",
            vec![PutRecord {
                partition_key: "k".into(),
                data: vec![1],
            }],
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.resource.as_deref(), Some("nope"));
}

#[tokio::test(start_paused = true)]
async fn tables_of_the_patterns() {
    let cloud = paused(7);
    let arn = cloud.volume_arns()[0].clone();
    let mut key = watchband::cloud::Item::new();
    key.insert("arn".into(), AttrValue::S(arn.clone()));
    let row = cloud
        .get_item(interop::BACKUP_TABLE, key)
        .await
        .unwrap()
        .unwrap();
    assert!(row["snapshot"].as_s().unwrap().starts_with("snap-"));
    let item = interop::temperature_anomaly_item(
        &decode_reading(br#"{"timestamp": "2026-03-02 17:00:00.000001", "datatype": "Temperature", "value": 102.5, "deviceid": "DHT_001", "date": "2026-03-02", "lowest_temp": 96, "highest_temp": 101}"#).unwrap(),
        "Hot",
    );
    let cond = Condition::AttributeNotExists("deviceid".into());
    cloud
        .put_item(interop::TEMPERATURE_TABLE, item.clone(), Some(cond.clone()))
        .await
        .unwrap();
    let e = cloud
        .put_item(interop::TEMPERATURE_TABLE, item, Some(cond))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ConditionFailed);
    let rows = cloud
        .query(Query {
            table: interop::TEMPERATURE_TABLE.into(),
            hash_key: "deviceid".into(),
            hash_value: AttrValue::S("DHT_001".into()),
            limit: None,
            newest_first: true,
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let e = cloud
        .get_item("missing", Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_records_and_one_sensor_gets_stuck() {
    let read = |seed: u64| async move {
        let cloud = paused(seed);
        cloud.advance(Duration::from_secs(25 * 3600));
        let stream = interop::TEMPERATURE_STREAM;
        let since = cloud.now() - chrono::Duration::hours(1);
        let mut all = Vec::new();
        for s in cloud.list_shards(stream).await.unwrap() {
            let it = cloud
                .get_shard_iterator(stream, &s.id, ShardPosition::AtTimestamp(since))
                .await
                .unwrap();
            all.extend(read(&cloud, &it, Some(10_000)).await.unwrap().records);
        }
        all
    };
    let a = read(7).await;
    assert_eq!(a, read(7).await);
    assert_ne!(a, read(8).await);
    let values = |dev: &str| -> Vec<f64> {
        a.iter()
            .filter(|r| r.partition_key == dev)
            .filter_map(|r| decode_reading(&r.data).ok())
            .map(|x| x.value)
            .collect()
    };
    let stuck = values("DHT_003");
    assert!(stuck.len() > 3000);
    assert!(stuck.iter().all(|v| *v == stuck[0]), "DHT_003 is stuck");
    let live = values("DHT_001");
    assert!(live.iter().any(|v| *v != live[0]));
}
