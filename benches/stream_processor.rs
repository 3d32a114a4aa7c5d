//! Issue 7's benchmark: the stream processor's throughput (records/s, decode + classify)
//! against a Python function written the way the temperature pipeline's is, on the same records in one run.
//!
//! 100,000 records of the demo account's temperature stream (seed 7: diurnal drift, hot/cold
//! excursions, a stuck sensor, its ~0.5 % malformed records) with every 200th record made
//! malformed as well (≈ 1 % in all), wrapped in a Kinesis Lambda event (base64 `data`) and
//! written to a temporary file. Then, in this order:
//!
//! 1. `python3 benches/seed003_handler.py FILE` times the temperature pipeline's loop (base64, UTF-8,
//!    `json.loads`, the rule, the table item) on the parsed event, best of 5 passes;
//! 2. the Rust processor is timed the same way (best of 5 passes) on the same parsed event:
//!    `kinesis_records` (base64) then `StreamProcessor::classify` (decode, rule, per-device
//!    band) and the table row of each anomaly — the Lambda handler's path without AWS calls;
//!    and once more on the decoded records (`process stream`'s path: GetRecords gives bytes);
//! 3. criterion measures the same two Rust loops (for its confidence intervals).
//!
//! 4. the cost of the alert gate (issue 12): the same records through `handle_batch` (decode,
//!    classify, conditional put `pending`, publish, put `sent` per anomaly) against today's
//!    path before the gate (classify, put, publish per anomaly), both on the demo account in
//!    memory (no network: what is measured is watchband's own work per record; on AWS each
//!    call is a round trip), best of 3 passes each on a fresh account, in one run; and once
//!    more on the account the gate already wrote (a replay: nothing is published again).
//!    Every 100th well-formed record is made Hot for this part, so the gate has anomalies to
//!    pass (≈ 1,000).
//!
//! Both sides must agree on the malformed and Hot/Cold counts, or the bench stops. The ratio
//! printed is Rust's best pass over Python's best pass. Without python3 the Python side is
//! skipped with a message. `cargo bench --bench stream_processor`.

use base64::Engine;
use criterion::{Criterion, Throughput, criterion_group};
use serde_json::{Value, json};
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};
use watchband::cloud::sim::{SimCloud, SimOptions};
use watchband::cloud::{Cloud, ShardPosition, StreamRecord};
use watchband::interop::TEMPERATURE_STREAM;
use watchband::processors::lambda_events::kinesis_records;
use watchband::processors::stream::{StreamProcessor, StreamProcessorConfig};

const RECORDS: usize = 100_000;
const PASSES: usize = 5;

/// What one pass found; both sides must agree on `rejected`, `hot` and `cold`.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counts {
    rejected: usize,
    hot: usize,
    cold: usize,
    unusual: usize,
}

/// The demo stream's records in arrival order per shard, with extra malformed ones.
fn records() -> Vec<StreamRecord> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let cloud = SimCloud::new(SimOptions {
        seed: 7,
        paused: true,
        // Generating the records, not reading them like a consumer: no per-shard read limit.
        kinesis_read_limit: false,
        ..SimOptions::default()
    });
    let mut out = rt.block_on(async {
        let mut out = Vec::new();
        for shard in cloud.list_shards(TEMPERATURE_STREAM).await.unwrap() {
            let mut it = cloud
                .get_shard_iterator(TEMPERATURE_STREAM, &shard.id, ShardPosition::TrimHorizon)
                .await
                .unwrap();
            while out.len() < RECORDS {
                let b = cloud.get_records(&it, Some(10_000)).await.unwrap();
                if b.records.is_empty() {
                    break;
                }
                out.extend(b.records);
                it = b.next_iterator.unwrap();
            }
        }
        out
    });
    out.truncate(RECORDS);
    assert_eq!(out.len(), RECORDS, "the demo stream holds too few records");
    // The three ways the demo's records are malformed, once every 200 records.
    for (i, r) in out.iter_mut().enumerate().filter(|(i, _)| i % 200 == 100) {
        let text = String::from_utf8(r.data.clone()).unwrap();
        r.data = match (i / 200) % 3 {
            0 => text.as_bytes()[..text.len() / 2].to_vec(),
            kind => match serde_json::from_str::<Value>(&text) {
                Ok(mut v) => {
                    if kind == 1 {
                        v.as_object_mut().unwrap().remove("value");
                    } else {
                        v["value"] = "warm".into();
                    }
                    v.to_string().into_bytes()
                }
                Err(_) => r.data.clone(),
            },
        };
    }
    out
}

/// The records as Lambda's Kinesis event source delivers them.
fn lambda_event(records: &[StreamRecord]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({ "Records": records.iter().map(|r| json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r.partition_key,
            "sequenceNumber": r.sequence_number,
            "data": b64.encode(&r.data),
            "approximateArrivalTimestamp": r.arrival.timestamp_millis() as f64 / 1000.0,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{}", r.sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/m03p02-stream-processor",
        "awsRegion": "us-east-1",
        "eventSourceARN": format!("arn:aws:kinesis:us-east-1:123456789012:stream/{TEMPERATURE_STREAM}"),
    })).collect::<Vec<_>>() })
}

fn processor() -> StreamProcessor {
    StreamProcessor::new(StreamProcessorConfig::new(
        "arn:aws:sns:us-east-1:123456789012:m03p02_anomaly_alerts",
    ))
}

/// Decode + classify, and the table row of each anomaly (what `handle_batch` would store).
fn classify_all<'r>(
    p: &mut StreamProcessor,
    records: impl Iterator<Item = &'r StreamRecord>,
) -> Counts {
    let mut c = Counts::default();
    for r in records {
        match p.classify(r) {
            Err(_) => c.rejected += 1,
            Ok(verdict) => {
                if let Some(row) = verdict.anomaly() {
                    match row.anomaly_type.as_str() {
                        "Hot" => c.hot += 1,
                        "Cold" => c.cold += 1,
                        _ => c.unusual += 1,
                    }
                    black_box(row);
                }
            }
        }
    }
    c
}

/// The Lambda handler's path on a parsed event: envelope and base64, then decode + classify.
fn from_event(event: &Value) -> Counts {
    let records: Vec<StreamRecord> = kinesis_records(event)
        .unwrap()
        .into_iter()
        .map(|r| r.expect("every envelope is readable"))
        .collect();
    classify_all(&mut processor(), records.iter())
}

/// `process stream`'s path: the records as GetRecords returns them (bytes).
fn from_records(records: &[StreamRecord]) -> Counts {
    classify_all(&mut processor(), records.iter())
}

/// Best of `PASSES` passes, as records/s, with the counts of the last pass.
fn best_rate(mut pass: impl FnMut() -> Counts) -> (f64, Counts) {
    let mut best = Duration::MAX;
    let mut counts = Counts::default();
    for _ in 0..PASSES {
        let t = Instant::now();
        counts = black_box(pass());
        best = best.min(t.elapsed());
    }
    (RECORDS as f64 / best.as_secs_f64(), counts)
}

struct Python {
    version: String,
    as_written: f64,
    lean: f64,
    counts: Counts,
}

fn run_python(event_file: &std::path::Path) -> Result<Python, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/seed003_handler.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(event_file)
        .arg(PASSES.to_string())
        .output()
        .map_err(|e| format!("python3 could not be started ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "python3 failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("python3 printed no result ({e})"))?;
    let n = |k: &str, f: &str| v[k][f].as_f64().unwrap_or(f64::NAN);
    for variant in ["as_written", "lean"] {
        if n(variant, "rejected") != n("lean", "rejected") {
            return Err("the two Python variants disagree".into());
        }
    }
    Ok(Python {
        version: v["python"].as_str().unwrap_or("?").to_string(),
        as_written: n("as_written", "records_per_sec"),
        lean: n("lean", "records_per_sec"),
        counts: Counts {
            rejected: n("lean", "rejected") as usize,
            hot: n("lean", "Hot") as usize,
            cold: n("lean", "Cold") as usize,
            unusual: 0,
        },
    })
}

fn compare(records: &[StreamRecord], event: &Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kinesis-event.json");
    std::fs::write(&file, serde_json::to_vec(event).unwrap()).unwrap();
    let python = run_python(&file);
    let (rust_event, counts) = best_rate(|| from_event(event));
    let (rust_records, counts_records) = best_rate(|| from_records(records));
    assert_eq!(counts, counts_records);
    eprintln!(
        "stream processor, {RECORDS} temperature records ({} malformed; {} Hot, {} Cold, {} Unusual), best of {PASSES} passes:",
        counts.rejected, counts.hot, counts.cold, counts.unusual
    );
    eprintln!(
        "  rust, Lambda event (base64 + decode + rule + band): {:>12.0} records/s",
        rust_event
    );
    eprintln!(
        "  rust, GetRecords bytes (decode + rule + band):      {:>12.0} records/s",
        rust_records
    );
    match python {
        Ok(p) => {
            let same = Counts {
                unusual: 0,
                ..counts
            };
            assert_eq!(
                p.counts, same,
                "Python and Rust disagree on malformed or Hot/Cold records"
            );
            eprintln!(
                "  python {}, the temperature pipeline's function as written (minus AWS, pprint): {:>12.0} records/s",
                p.version, p.as_written
            );
            eprintln!(
                "  python {}, lean (item only for an anomaly):          {:>12.0} records/s",
                p.version, p.lean
            );
            eprintln!(
                "  ratio, Lambda event: {:.1}× the seed as written, {:.1}× the lean Python",
                rust_event / p.as_written,
                rust_event / p.lean
            );
        }
        Err(why) => eprintln!("  python side skipped: {why}"),
    }
}

/// A fresh demo account (the anomaly table is empty) and its alert topic.
async fn fresh_account() -> (std::sync::Arc<SimCloud>, String) {
    let cloud = SimCloud::new(SimOptions {
        seed: 7,
        paused: true,
        ..SimOptions::default()
    });
    let topic = cloud
        .create_topic(watchband::interop::TEMPERATURE_TOPIC, None)
        .await
        .unwrap();
    (cloud, topic)
}

/// Today's path before the gate: classify, then an unconditional put and a publish for each
/// anomaly. Returns the anomalies announced.
async fn ungated(cloud: &dyn Cloud, topic: &str, records: &[StreamRecord]) -> usize {
    use watchband::interop::{temperature_alert_message, temperature_alert_subject};
    let mut p = StreamProcessor::new(StreamProcessorConfig::new(topic));
    let mut n = 0;
    for r in records {
        let Ok(c) = p.classify(r) else { continue };
        let (Some(row), Some(a)) = (c.row(), c.anomaly()) else {
            continue;
        };
        cloud
            .put_item(watchband::interop::TEMPERATURE_TABLE, row, None)
            .await
            .unwrap();
        cloud
            .publish(
                topic,
                Some(&temperature_alert_subject(&a.anomaly_type)),
                &temperature_alert_message(a.value, &a.anomaly_type),
            )
            .await
            .unwrap();
        n += 1;
    }
    n
}

/// The gate: `handle_batch` as `process stream` runs it. Returns (announced, repeats).
async fn gated(cloud: &dyn Cloud, topic: &str, records: &[StreamRecord]) -> (usize, usize) {
    let mut p = StreamProcessor::new(StreamProcessorConfig::new(topic));
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut announced = 0;
    let mut repeats = 0;
    // In the consumer's slices, so a report's vectors stay small.
    for slice in records.chunks(250) {
        let report = p.handle_batch(cloud, "bench", "shard", slice, &stop).await;
        assert!(report.error.is_none(), "{:?}", report.error);
        announced += report.anomaly_count;
        repeats += report.repeats;
    }
    (announced, repeats)
}

/// The records with every 100th well-formed reading made Hot: the demo's first 100,000
/// records may hold no anomaly at all, and a gate that is never passed costs nothing.
fn with_hot_readings(records: &[StreamRecord]) -> Vec<StreamRecord> {
    let mut out = records.to_vec();
    for (i, r) in out.iter_mut().enumerate().filter(|(i, _)| i % 100 == 50) {
        if let Ok(mut v) = serde_json::from_slice::<Value>(&r.data)
            && v.get("value").is_some_and(Value::is_number)
        {
            v["value"] = json!(150.0 + i as f64 / 1e6);
            r.data = v.to_string().into_bytes();
        }
    }
    out
}

fn gate_cost(records: &[StreamRecord]) {
    let records = &with_hot_readings(records)[..];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    const GATE_PASSES: usize = 3;
    let rate = |d: Duration| RECORDS as f64 / d.as_secs_f64();
    let (mut today, mut gate, mut replay) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut counts = (0, 0, 0);
    rt.block_on(async {
        for _ in 0..GATE_PASSES {
            let (cloud, topic) = fresh_account().await;
            let t = Instant::now();
            let n = ungated(cloud.as_ref(), &topic, records).await;
            today = today.min(t.elapsed());
            let (cloud, topic) = fresh_account().await;
            let t = Instant::now();
            let (a, _) = gated(cloud.as_ref(), &topic, records).await;
            gate = gate.min(t.elapsed());
            let t = Instant::now();
            let (again, repeats) = gated(cloud.as_ref(), &topic, records).await;
            replay = replay.min(t.elapsed());
            assert_eq!(again, 0, "a replay announced again");
            counts = (n, a, repeats);
        }
    });
    let (n, a, repeats) = counts;
    assert_eq!(n, a, "the gate announced another number of anomalies");
    eprintln!(
        "alert gate, same {RECORDS} records on the demo account in memory, best of {GATE_PASSES} passes, one run:"
    );
    eprintln!(
        "  today's path (put + publish per anomaly, {n} anomalies): {:>12.0} records/s  (2 calls per anomaly)",
        rate(today)
    );
    eprintln!(
        "  gate (conditional put, publish, put sent):        {:>12.0} records/s  (3 calls per anomaly)",
        rate(gate)
    );
    eprintln!(
        "  gate on a replay ({repeats} rows already sent, 0 published): {:>12.0} records/s  (2 calls per anomaly, no publish)",
        rate(replay)
    );
    eprintln!(
        "  cost of the gate: {:.1} % fewer records/s than today's path",
        (1.0 - rate(gate) / rate(today)) * 100.0
    );
}

fn bench(c: &mut Criterion) {
    let records = records();
    let event = lambda_event(&records);
    compare(&records, &event);
    gate_cost(&records);
    let mut g = c.benchmark_group("stream_processor");
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.sample_size(10);
    g.bench_function("lambda_event_decode_classify", |b| {
        b.iter(|| black_box(from_event(&event)))
    });
    g.bench_function("records_decode_classify", |b| {
        b.iter(|| black_box(from_records(&records)))
    });
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
