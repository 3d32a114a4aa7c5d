//! The temperature stream processor end to end against moto: 10,000 temperature records, 1 %
//! malformed and known injected anomalies, read through the shared consumer; every anomaly
//! lands in the table, every alert is published, the malformed records are counted.

use crate::support::{Moto, create_anomaly_table, create_temperature_stream, put_all};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use watchband::cli::generate::ReadingSource;
use watchband::cloud::{AttrValue, Cloud, PutRecord, Query, Time};
use watchband::interop;
use watchband::pipeline::{PipelineConfig, StreamStart};
use watchband::processors::stream::{ProcessorSink, StreamProcessorConfig};

const RECORDS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_records_every_anomaly_stored_and_alerted_none_lost() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud: Arc<dyn Cloud> = Arc::new(moto.cloud().await);
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let topic = cloud
        .create_topic(interop::TEMPERATURE_TOPIC, None)
        .await
        .unwrap();

    // The records: the Kinesis temperature pipeline payloads with 2 % injected hot/cold readings, and every 100th
    // record malformed in one of the three ways the demo account produces.
    let start = Time::from_timestamp(1_780_000_000, 0).unwrap();
    let mut source = ReadingSource::new(11, 4, 0.02);
    let mut injected = BTreeSet::new();
    let mut records = Vec::with_capacity(RECORDS);
    for i in 0..RECORDS {
        let (reading, is_anomaly) =
            source.next(start + chrono::Duration::milliseconds(i as i64 * 250));
        let data = match (i % 100, (i / 100) % 3) {
            (37, 0) => b"{\"timestamp\": \"2026-01-01 00:00:00\", \"value\": 97.1".to_vec(),
            (37, kind) => {
                let mut v = serde_json::to_value(&reading).unwrap();
                if kind == 1 {
                    v.as_object_mut().unwrap().remove("value");
                } else {
                    v["value"] = "warm".into();
                }
                v.to_string().into_bytes()
            }
            _ => {
                if is_anomaly {
                    injected.insert((reading.deviceid.clone(), reading.timestamp.clone()));
                }
                reading.to_json().into_bytes()
            }
        };
        records.push(PutRecord {
            partition_key: reading.deviceid.clone(),
            data,
        });
    }
    put_all(cloud.as_ref(), records).await;
    assert!(
        injected.len() > 100,
        "{} anomalies injected",
        injected.len()
    );

    let sink = Arc::new(ProcessorSink::new(
        cloud.clone(),
        StreamProcessorConfig::new(&topic),
    ));
    let pipeline = PipelineConfig {
        streams: vec![interop::TEMPERATURE_STREAM.into()],
        stream_start: StreamStart::TrimHorizon,
        ..PipelineConfig::default()
    };
    let mut events =
        watchband::pipeline::spawn_stream_consumer(cloud.clone(), None, pipeline, sink.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    while sink.totals().records < RECORDS as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {:?} after 240 s",
            sink.totals()
        );
        let _ = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
    }
    drop(events);
    let totals = sink.totals();
    assert_eq!(totals.records, RECORDS as u64, "every record read once");
    assert_eq!(totals.rejected, 100, "the malformed records are counted");
    assert_eq!(totals.readings, (RECORDS - 100) as u64);

    // Every injected anomaly is in the table with the temperature pipeline's type, and every row was alerted.
    let mut rows = Vec::new();
    for d in 1..=4 {
        rows.extend(
            cloud
                .query(Query {
                    table: interop::TEMPERATURE_TABLE.into(),
                    hash_key: "deviceid".into(),
                    hash_value: AttrValue::S(format!("DHT_{d:03}")),
                    limit: None,
                    newest_first: false,
                })
                .await
                .unwrap(),
        );
    }
    let stored: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["deviceid"].as_s().unwrap().to_string(),
                r["timestamp"].as_s().unwrap().to_string(),
            )
        })
        .collect();
    let missing: Vec<_> = injected.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "anomalies missing from the table: {missing:?}"
    );
    for r in &rows {
        let kind = r["anomalyType"].as_s().unwrap();
        let value = r["value"].as_f64().unwrap();
        match kind {
            "Hot" => assert!(value > 101.0),
            "Cold" => assert!(value < 96.0),
            "Unusual" => assert!((96.0..=101.0).contains(&value)),
            other => panic!("unexpected anomaly type {other}"),
        }
    }
    assert_eq!(rows.len() as u64, totals.anomalies);
    let data = moto.data();
    let sent = data["sns"]["Topic"]
        .as_array()
        .map(|topics| {
            topics
                .iter()
                .filter(|t| t["arn"].as_str() == Some(topic.as_str()))
                .map(|t| t["sent_notifications"].as_array().map_or(0, |n| n.len()))
                .sum::<usize>()
        })
        .unwrap_or(0);
    assert_eq!(
        sent as u64, totals.anomalies,
        "one alert per stored anomaly"
    );
}
