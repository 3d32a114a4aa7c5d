//! Scale and speed of the simulated account (issue 3):
//! - building a world of 10,000 volumes × 365 daily snapshots and 100 streams, and answering a
//!   complete dashboard pass over it (bar: under 10 s and under 500 MiB peak RSS);
//! - GetRecords-to-verdict throughput for stream records (bar: ≥ 1 million records/s on one
//!   core): `stream/decode_and_detect` decodes with `interop::decode_reading_ref` (borrowed,
//!   no allocation) and scores with a per-device `detect::AnyDetector` looked up by `&str`;
//!   `stream/judge_classify` runs the consumers' own `DeviceJudge::classify` (the same, plus
//!   the reading's timestamp and the temperature pipeline's rule).
//!
//! Peak RSS is read from /proc/self/status (VmHWM) after one cold build + dashboard pass, before
//! criterion's repetitions, and printed to stderr.

use criterion::{Criterion, Throughput, criterion_group};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use watchband::cloud::sim::{SimCloud, SimOptions, WorldSize};
use watchband::cloud::{
    AlarmFilter, Cloud, GetMetricData, ListChangedBlocks, MetricQuery, ShardPosition, StreamRecord,
    collect_pages,
};
use watchband::detect::{Algo, AnyDetector, BandConfig, Detector, DetectorConfig, Seasonality};
use watchband::interop::decode_reading_ref;
use watchband::pipeline::temperature::DeviceJudge;

fn big_world() -> Arc<SimCloud> {
    SimCloud::new(SimOptions {
        seed: 7,
        paused: true,
        size: WorldSize {
            volumes: Some(10_000),
            history_days: 365,
            streams: 100,
        },
        ..SimOptions::default()
    })
}

/// What the dashboard needs: every protected volume with its newest recovery points and the
/// changed-block count of its latest pair, every alarm with its state, every stream's shards
/// and newest records, and the CPU metrics of the last day.
async fn dashboard_pass(cloud: &SimCloud) -> usize {
    dashboard_pass_timed(cloud, &mut Vec::new()).await
}

/// [`dashboard_pass`], noting how long each part took.
async fn dashboard_pass_timed(
    cloud: &SimCloud,
    phases: &mut Vec<(&'static str, Duration)>,
) -> usize {
    let mut work = 0usize;
    let mut t = Instant::now();
    let mut lap = |name: &'static str, phases: &mut Vec<(&'static str, Duration)>| {
        phases.push((name, t.elapsed()));
        t = Instant::now();
    };
    let resources = collect_pages(|t| cloud.list_protected_resources(t))
        .await
        .unwrap();
    for r in &resources {
        let page = cloud
            .list_recovery_points_by_resource(&r.arn, None)
            .await
            .unwrap();
        if page.items.len() >= 2 {
            let (cur, prev) = (&page.items[0], &page.items[1]);
            let mut token = None;
            loop {
                let p = cloud
                    .list_changed_blocks(ListChangedBlocks {
                        first_snapshot_id: prev.snapshot_id().map(str::to_string),
                        second_snapshot_id: cur.snapshot_id().unwrap().to_string(),
                        next_token: token.take(),
                        max_results: Some(10_000),
                    })
                    .await
                    .unwrap();
                work += p.block_indices.len();
                match p.next_token {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
        }
    }
    lap("volumes, recovery points and changed blocks", phases);
    work += cloud
        .describe_alarms(AlarmFilter::default())
        .await
        .unwrap()
        .len();
    lap("alarms (first evaluation trains 10,000 bands)", phases);
    let since = cloud.now() - chrono::Duration::minutes(5);
    for s in cloud.list_streams().await.unwrap() {
        for shard in cloud.list_shards(&s).await.unwrap() {
            if shard.ending_sequence.is_some() {
                continue;
            }
            let it = cloud
                .get_shard_iterator(&s, &shard.id, ShardPosition::AtTimestamp(since))
                .await
                .unwrap();
            work += cloud.get_records(&it, None).await.unwrap().records.len();
        }
    }
    lap("streams", phases);
    let now = cloud.now();
    for m in cloud.list_metrics(Some("AWS/EC2"), None).await.unwrap() {
        let r = cloud
            .get_metric_data(GetMetricData {
                queries: vec![MetricQuery::stat("m1", m, 300, "Average")],
                start: now - chrono::Duration::days(1),
                end: now,
            })
            .await
            .unwrap();
        work += r[0].values.len();
    }
    lap("metrics", phases);
    work
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn report_cold_run() {
    let rt = runtime();
    let t0 = Instant::now();
    let cloud = big_world();
    let built = t0.elapsed();
    let mut phases = Vec::new();
    let work = rt.block_on(dashboard_pass_timed(&cloud, &mut phases));
    let total = t0.elapsed();
    for (name, d) in &phases {
        eprintln!("  {name}: {:.2} s", d.as_secs_f64());
    }
    eprintln!(
        "sim_world cold run: build {:.2} s, build + dashboard pass {:.2} s ({work} items), peak RSS {:.0} MiB",
        built.as_secs_f64(),
        total.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

fn scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim_world");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("build_10k_volumes_365_days_100_streams", |b| {
        b.iter(|| black_box(big_world()))
    });
    let rt = runtime();
    g.bench_function("build_and_dashboard_pass", |b| {
        b.iter(|| {
            let cloud = big_world();
            black_box(rt.block_on(dashboard_pass(&cloud)))
        })
    });
    g.finish();
}

/// 100,000 records of the default stream, as GetRecords returns them.
fn stream_records() -> Vec<StreamRecord> {
    let rt = runtime();
    let cloud = SimCloud::new(SimOptions {
        seed: 7,
        paused: true,
        // Measures generation and scoring, not Kinesis's five reads per second per shard.
        kinesis_read_limit: false,
        ..SimOptions::default()
    });
    rt.block_on(async {
        let stream = watchband::interop::TEMPERATURE_STREAM;
        let mut out = Vec::new();
        for shard in cloud.list_shards(stream).await.unwrap() {
            let mut it = cloud
                .get_shard_iterator(stream, &shard.id, ShardPosition::TrimHorizon)
                .await
                .unwrap();
            while out.len() < 100_000 {
                let b = cloud.get_records(&it, Some(10_000)).await.unwrap();
                if b.records.is_empty() {
                    break;
                }
                out.extend(b.records);
                it = b.next_iterator.unwrap();
            }
        }
        out.truncate(100_000);
        out
    })
}

/// The per-device detector the stream consumer uses: a 3σ band that follows the level.
fn stream_config() -> DetectorConfig {
    DetectorConfig {
        algo: Algo::Band,
        band: BandConfig {
            width: 3.0,
            seasonality: Seasonality::None,
            ..BandConfig::default()
        },
        ..DetectorConfig::default()
    }
}

fn verdicts(c: &mut Criterion) {
    let records = stream_records();
    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(records.len() as u64));
    g.sample_size(10);
    g.bench_function("decode_and_detect", |b| {
        b.iter(|| {
            let mut detectors: HashMap<String, AnyDetector> = HashMap::new();
            let (mut anomalies, mut bad) = (0usize, 0usize);
            for r in &records {
                match decode_reading_ref(&r.data) {
                    Ok(x) => {
                        let id: &str = &x.deviceid;
                        if !detectors.contains_key(id) {
                            let fresh = AnyDetector::new(&stream_config()).unwrap();
                            detectors.insert(id.to_string(), fresh);
                        }
                        let d = detectors.get_mut(id).unwrap();
                        let v = d.observe(r.arrival.timestamp(), x.value).unwrap();
                        anomalies += usize::from(v.anomalous);
                    }
                    Err(_) => bad += 1,
                }
            }
            black_box((anomalies, bad))
        })
    });
    g.bench_function("judge_classify", |b| {
        b.iter(|| {
            let mut judge = DeviceJudge::new(3.0);
            let (mut anomalies, mut bad) = (0usize, 0usize);
            for r in &records {
                match judge.classify(r) {
                    Ok(c) => anomalies += usize::from(c.anomaly_type.is_some()),
                    Err(_) => bad += 1,
                }
            }
            black_box((anomalies, bad))
        })
    });
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("get_records_generate_10k", |b| {
        let rt = runtime();
        let cloud = SimCloud::new(SimOptions {
            seed: 7,
            paused: true,
            // Measures generation, not Kinesis's five reads per second per shard.
            kinesis_read_limit: false,
            ..SimOptions::default()
        });
        let stream = watchband::interop::TEMPERATURE_STREAM;
        let shard = rt.block_on(cloud.list_shards(stream)).unwrap().remove(0).id;
        b.iter(|| {
            rt.block_on(async {
                let it = cloud
                    .get_shard_iterator(stream, &shard, ShardPosition::TrimHorizon)
                    .await
                    .unwrap();
                black_box(
                    cloud
                        .get_records(&it, Some(10_000))
                        .await
                        .unwrap()
                        .records
                        .len(),
                )
            })
        })
    });
    g.finish();
}

criterion_group!(benches, scale, verdicts);

fn main() {
    report_cold_run();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
