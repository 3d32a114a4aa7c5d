//! `watchband generate` against a real Kinesis API (moto): N records put, and a consumer reading
//! the stream back gets exactly those N the Kinesis temperature pipeline payloads, keyed by device.

use crate::support::{Moto, read_shard};
use std::collections::BTreeMap;
use std::sync::Arc;
use watchband::cli::GenerateArgs;
use watchband::cli::generate::publish;
use watchband::cloud::*;
use watchband::interop;

#[tokio::test]
async fn generate_puts_n_records_that_a_consumer_reads_back_exactly() {
    let Some(moto) = Moto::start() else { return };
    let kinesis = aws_sdk_kinesis::Client::new(&moto.sdk_config().await);
    let stream = "generate-test-stream";
    kinesis
        .create_stream()
        .stream_name(stream)
        .shard_count(2)
        .send()
        .await
        .unwrap();
    let cloud: Arc<dyn Cloud> = Arc::new(moto.cloud().await);
    let args = GenerateArgs {
        stream: stream.into(),
        rate: 200.0,
        devices: 4,
        anomalies: 0.1,
        count: Some(137),
    };
    let mut progress = Vec::new();
    let summary = publish(
        cloud.clone(),
        &args,
        3,
        &mut progress,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!((summary.sent, summary.failed), (137, 0));
    assert!(String::from_utf8_lossy(&progress).contains("sent 137 records"));

    // Read every shard from the start until it is caught up.
    let mut read = Vec::new();
    for shard in cloud.list_shards(stream).await.unwrap() {
        read.extend(
            read_shard(
                cloud.as_ref(),
                stream,
                &shard.id,
                ShardPosition::TrimHorizon,
                50,
            )
            .await,
        );
    }
    assert_eq!(read.len(), 137, "every record read back once");
    let mut per_device: BTreeMap<String, usize> = BTreeMap::new();
    let mut anomalies = 0;
    for r in &read {
        let reading =
            interop::decode_reading(&r.data).expect("the Kinesis temperature pipeline payload");
        assert_eq!(
            r.partition_key, reading.deviceid,
            "device id is the partition key"
        );
        assert_eq!((reading.lowest_temp, reading.highest_temp), (96.0, 101.0));
        anomalies += (reading.value < 96.0 || reading.value > 101.0) as u64;
        *per_device.entry(reading.deviceid).or_default() += 1;
    }
    assert_eq!(anomalies, summary.anomalies);
    assert_eq!(per_device.len(), 4);
    assert!(
        per_device.values().all(|n| (34..=35).contains(n)),
        "{per_device:?}"
    );
}
