//! Checkpoints belong to a stream's identity (ARN and creation time), and a checkpoint a
//! shard refuses is reported, not retried for ever. On the demo account: moto takes any
//! number as a sequence number (a malformed one fails with a 500), where Kinesis and the
//! simulated account answer InvalidArgumentException.

use crate::support::pipeline::*;
use crate::support::sim::paused;
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::Cloud;
use watchband::interop::TEMPERATURE_STREAM;
use watchband::pipeline::{Event, StreamStart};
use watchband::processors::stream::{ProcessorSink, StreamProcessorConfig};
use watchband::store::Store;

#[tokio::test(start_paused = true)]
async fn a_malformed_checkpoint_is_reported_and_the_shard_read_from_its_start() {
    let cloud = paused(7);
    let dyn_cloud: Arc<dyn Cloud> = cloud.clone();
    let identity = cloud.stream_identity(TEMPERATURE_STREAM).await.unwrap();
    assert!(identity.arn.starts_with("arn:aws:kinesis:"), "{identity:?}");
    let shards = cloud.list_shards(TEMPERATURE_STREAM).await.unwrap();
    let store = Arc::new(Store::in_memory().unwrap());
    // A checkpoint that belongs to no shard of this stream, under its identity; and one
    // under the bare name, which must not be used at all.
    store
        .set_checkpoint(&identity.key(), &shards[0].id, "not-a-sequence-number")
        .unwrap();
    store
        .set_checkpoint(
            TEMPERATURE_STREAM,
            &shards[1].id,
            "99999999999999999999999999",
        )
        .unwrap();
    let topic = cloud
        .create_topic(watchband::interop::TEMPERATURE_TOPIC, None)
        .await
        .unwrap();
    let sink = Arc::new(ProcessorSink::new(
        dyn_cloud.clone(),
        StreamProcessorConfig::new(&topic),
    ));
    let mut config = config();
    config.streams = vec![TEMPERATURE_STREAM.into()];
    config.stream_start = StreamStart::TrimHorizon;
    let mut events = watchband::pipeline::spawn_stream_consumer(
        dyn_cloud,
        Some(store.clone()),
        config,
        sink.clone(),
    );
    let mut reported = Vec::new();
    for _ in 0..30 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Some(e)) = tokio::time::timeout_at(deadline, events.recv()).await {
            if let Event::Health(h) = e
                && let Some(text) = h.last_error
            {
                reported.push(text);
            }
        }
        let moved = store.checkpoint(&identity.key(), &shards[0].id).unwrap();
        if moved.is_some_and(|c| c != "not-a-sequence-number") {
            break;
        }
    }
    assert!(
        reported
            .iter()
            .any(|r| r.contains("not-a-sequence-number") && r.contains("TRIM_HORIZON")),
        "the bad checkpoint was not reported: {reported:?}"
    );
    let moved = store.checkpoint(&identity.key(), &shards[0].id).unwrap();
    assert_ne!(
        moved.as_deref(),
        Some("not-a-sequence-number"),
        "the shard was not read from its start"
    );
    // The name's checkpoint was left alone: the stream is not known by its name.
    assert_eq!(
        store
            .checkpoint(TEMPERATURE_STREAM, &shards[1].id)
            .unwrap()
            .as_deref(),
        Some("99999999999999999999999999")
    );
}
