//! Change counting over 1,000 snapshot pairs served by a local EBS endpoint that answers
//! every ListChangedBlocks page after 20 ms, through the real SDK client: `ChangeCounter`
//! (bounded concurrency) against a plain sequential loop, the patterns' approach.
//!
//! Every fourth pair has two pages, so the workload is 1.25 pages per pair. The API bound is
//! `concurrency / (1.25 × 20 ms)` pairs per second; the sequential loop's is 40 pairs/s.
//! The sequential loop runs over the first 100 pairs (same page mix) to keep a sample under
//! three seconds; both report pairs per second.

#[path = "../tests/support/http.rs"]
mod http;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::aws::AwsCloud;
use watchband::cloud::{Cloud, ListChangedBlocks};
use watchband::pipeline::changes::{ChangeCounter, SnapshotPair};

const PAIRS: usize = 1_000;
const SEQUENTIAL_PAIRS: usize = 100;
const LATENCY: Duration = Duration::from_millis(20);
/// Entries per page: enough to exercise the SDK's parsing, small enough that a loaded
/// two-core machine measures the API's latency rather than JSON decoding.
const BLOCKS_PER_PAGE: i32 = 100;

/// One recorded ListChangedBlocks page, with or without a NextToken.
fn page_body(next: bool) -> Vec<u8> {
    let mut body = serde_json::json!({
        "ChangedBlocks": (0..BLOCKS_PER_PAGE)
            .map(|i| serde_json::json!({"BlockIndex": i, "FirstBlockToken": "AAAA", "SecondBlockToken": "BBBB"}))
            .collect::<Vec<_>>(),
        "BlockSize": 524288,
        "VolumeSize": 8,
        "ExpiryTime": 1767265200.0
    });
    if next {
        body["NextToken"] = "page-2".into();
    }
    body.to_string().into_bytes()
}

/// ListChangedBlocks as EBS answers it: `snap-N` (hex) has two pages when N % 4 == 0. The
/// bodies are built once so the endpoint spends its time waiting, as the API does.
fn ebs_endpoint() -> http::Server {
    let last = page_body(false);
    let more = page_body(true);
    http::Server::start(move |req| {
        std::thread::sleep(LATENCY);
        let second: usize = req
            .path
            .split('/')
            .nth(2)
            .and_then(|s| s.strip_prefix("snap-"))
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .unwrap_or(1);
        let first_page = !req.path.contains("pageToken=");
        let body = if first_page && second.is_multiple_of(4) {
            &more
        } else {
            &last
        };
        http::Response::new(200, "application/json", body.clone())
    })
}

fn pairs(n: usize) -> Vec<SnapshotPair> {
    (0..n)
        .map(|i| {
            SnapshotPair::new(
                Some(&format!("snap-{:x}", i + 100_000)),
                &format!("snap-{:x}", i),
            )
        })
        .collect()
}

/// The patterns' loop: one pair after another, each paged to the end before the next.
async fn sequential(cloud: &AwsCloud, pairs: &[SnapshotPair]) -> u64 {
    let mut total = 0;
    for p in pairs {
        let mut token = None;
        loop {
            let page = cloud
                .list_changed_blocks(ListChangedBlocks {
                    first_snapshot_id: p.first.clone(),
                    second_snapshot_id: p.second.clone(),
                    next_token: token.take(),
                    max_results: Some(10_000),
                })
                .await
                .expect("page");
            total += page.block_indices.len() as u64;
            match page.next_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
    }
    total
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = ebs_endpoint();
    let config = rt.block_on(async {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(server.endpoint())
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "bench", "bench", None, None, "bench",
            ))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await
    });
    let cloud = AwsCloud::from_sdk_config(&config);
    let all = pairs(PAIRS);
    let expected: u64 = all
        .iter()
        .enumerate()
        .map(|(i, _)| if i.is_multiple_of(4) { 2 } else { 1 } * BLOCKS_PER_PAGE as u64)
        .sum();

    let mut group = c.benchmark_group("changes");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));

    group.throughput(Throughput::Elements(SEQUENTIAL_PAIRS as u64));
    group.bench_function("sequential_loop_pairs", |b| {
        b.iter(|| rt.block_on(sequential(&cloud, &all[..SEQUENTIAL_PAIRS])))
    });

    group.throughput(Throughput::Elements(PAIRS as u64));
    for concurrency in [16, 64] {
        let counter =
            ChangeCounter::new(Arc::new(cloud.clone()), None).with_concurrency(concurrency);
        group.bench_function(format!("change_counter_c{concurrency}_pairs"), |b| {
            b.iter(|| {
                let results = rt.block_on(counter.count_many(&all));
                let total: u64 = results
                    .iter()
                    .map(|r| r.as_ref().expect("count").blocks)
                    .sum();
                assert_eq!(total, expected);
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
