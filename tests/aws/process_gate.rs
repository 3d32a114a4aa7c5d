//! `watchband process stream` as a real child process against moto, under the faults an
//! unattended processor meets: poison records that DynamoDB refuses, `kill -9` in the middle
//! of a run, SIGINT and SIGTERM, and several workers sharing a stream through shard leases
//! (`--lease-table`). What must hold: no anomaly lost; none alerted twice, except on a
//! standard topic at most the one record a `kill -9` catches between SNS accepting its alert
//! and its row being marked `sent` (a FIFO topic's subscriber gets none twice); leased workers
//! split the shards and a survivor takes over a killed worker's shards; the poison records
//! reported with their shard and sequence number; the documented exit codes.
//!
//! Every anomaly injected here is a Hot reading with a value no other reading has
//! (110.001, 110.002, ...), so the alert text (`Anomaly value = 110.002 is detected ...`)
//! names its record and a duplicate is seen as a value alerted twice.

use crate::support::process::{Processor, watchband};
use crate::support::{
    Moto, create_anomaly_table, create_temperature_stream, put_all, reading_record,
};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::{Duration, Instant};
use watchband::cli::generate::ReadingSource;
use watchband::cloud::{Cloud, PutRecord, Time};
use watchband::interop;

/// `n` readings of 8 devices, 1 % of them Hot with a unique value; returns the records and
/// the injected values. Readings of different seeds have different timestamps (the row key).
fn readings(n: usize, seed: u64, first_value: usize) -> (Vec<PutRecord>, BTreeSet<String>) {
    let start = Time::from_timestamp(1_780_000_000 + seed as i64 * 86_400, 0).unwrap();
    let mut source = ReadingSource::new(seed, 8, 0.0);
    let mut injected = BTreeSet::new();
    let mut records = Vec::with_capacity(n);
    for i in 0..n {
        let (mut reading, _) = source.next(start + chrono::Duration::milliseconds(i as i64 * 100));
        if i % 100 == 50 {
            reading.value = 110.0 + (first_value + injected.len() + 1) as f64 / 1000.0;
            injected.insert(interop::format_number(reading.value));
        }
        records.push(PutRecord {
            partition_key: reading.deviceid.clone(),
            data: reading.to_json().into_bytes(),
        });
    }
    (records, injected)
}

/// The value of every alert published on the topic, with how often it was alerted.
fn alerts(moto: &Moto) -> BTreeMap<String, usize> {
    let data = moto.data();
    let mut out = BTreeMap::new();
    for topic in data["sns"]["Topic"].as_array().into_iter().flatten() {
        for n in topic["sent_notifications"].as_array().into_iter().flatten() {
            let message = n[1].as_str().unwrap_or_default();
            let value = message
                .strip_prefix("Anomaly value = ")
                .and_then(|m| m.split_once(' '))
                .map_or(message, |(v, _)| v);
            *out.entry(value.to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// Every row of the anomaly table: (value, alert marker).
async fn rows(config: &aws_config::SdkConfig) -> Vec<(String, String)> {
    let client = aws_sdk_dynamodb::Client::new(config);
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(interop::TEMPERATURE_TABLE)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let n = |k: &str| match item.get(k) {
                Some(aws_sdk_dynamodb::types::AttributeValue::N(v)) => v.clone(),
                Some(aws_sdk_dynamodb::types::AttributeValue::S(v)) => v.clone(),
                _ => String::new(),
            };
            out.push((n("value"), n("alert")));
        }
        match page.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return out,
        }
    }
}

/// `watchband process stream ARGS...` against moto, with its own data directory (the store
/// with the checkpoints) and no configuration of the developer's.
fn process_stream(moto: &Moto, home: &std::path::Path, args: &[&str]) -> Processor {
    let args: Vec<&str> = ["process", "stream"].iter().chain(args).copied().collect();
    Processor::start(&moto.endpoint(), home, &args)
}

/// Waits for the worker name the processor announces for its leases (the lease table exists
/// by then).
async fn wait_worker(p: &Processor) -> String {
    let line = p
        .wait_for(
            "shard leases in",
            "no lease worker announced",
            Duration::from_secs(30),
        )
        .await;
    let (_, worker) = line
        .rsplit_once("worker ")
        .unwrap_or_else(|| panic!("no worker name in {line:?}"));
    worker.trim().to_string()
}

/// Starts `process stream` three times, each killed with SIGKILL once it has stored 40 more
/// rows than the run before it left; the row counts at each kill.
async fn kill_three_times_mid_run(
    moto: &Moto,
    config: &aws_config::SdkConfig,
    home: &std::path::Path,
) -> Vec<usize> {
    let mut killed_at = Vec::new();
    for _ in 0..3 {
        let before = rows(config).await.len();
        let p = process_stream(moto, home, &[]);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let now = rows(config).await.len();
            if now >= before + 40 {
                killed_at.push(now);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no progress in 60 s; stderr: {}",
                p.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(p); // SIGKILL
    }
    killed_at
}

/// Waits until every injected value has a row marked `sent`, then until nothing moves for
/// two seconds (replays finished).
async fn wait_until_done(
    config: &aws_config::SdkConfig,
    injected: &BTreeSet<String>,
    p: &Processor,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    let mut last = (0, Instant::now());
    loop {
        let rows = rows(config).await;
        let sent: BTreeSet<&String> = rows
            .iter()
            .filter(|(_, a)| a == "sent")
            .map(|(v, _)| v)
            .collect();
        let all = injected.iter().all(|v| sent.contains(v));
        if rows.len() != last.0 {
            last = (rows.len(), Instant::now());
        }
        if all && last.1.elapsed() > Duration::from_secs(2) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} injected anomalies stored and announced after {within:?}; stderr: {}",
            injected.iter().filter(|v| sent.contains(v)).count(),
            injected.len(),
            p.stderr()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// 20,000 records on 2 shards; the processor is killed with SIGKILL three times while it
/// writes rows and alerts, restarted each time, and stopped with SIGTERM at the end: every
/// injected anomaly is stored and alerted exactly once, every row is marked sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_kill_nines_lose_nothing_and_page_once() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let (records, injected) = readings(20_000, 21, 0);
    assert_eq!(injected.len(), 200);
    put_all(&cloud, records).await;
    let home = tempfile::tempdir().unwrap();

    let killed_at = kill_three_times_mid_run(&moto, &config, home.path()).await;
    assert!(
        killed_at.last().is_some_and(|&n| n < injected.len()),
        "every kill must land mid-run (rows at each kill: {killed_at:?})"
    );

    let mut p = process_stream(&moto, home.path(), &[]);
    wait_until_done(&config, &injected, &p, Duration::from_secs(120)).await;
    p.signal("TERM");
    let (code, stdout) = p.wait();
    assert_eq!(code, Some(143), "SIGTERM exits 143");
    let totals: serde_json::Value = serde_json::from_str(stdout.trim()).expect("totals JSON");

    let rows = rows(&config).await;
    let alerted = alerts(&moto);
    // The one window the gate cannot close: a kill after SNS took the alert and before the
    // row was marked `sent`. That record is announced again, once; nothing else is.
    let twice: Vec<_> = alerted.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.len() <= killed_at.len() && twice.iter().all(|(_, n)| **n == 2),
        "alerted more than once beyond one record per kill: {twice:?}"
    );
    eprintln!(
        "{} of {} anomalies alerted twice after {} kills",
        twice.len(),
        injected.len(),
        killed_at.len()
    );
    let lost: Vec<_> = injected
        .iter()
        .filter(|v| !alerted.contains_key(*v))
        .collect();
    assert!(lost.is_empty(), "never alerted: {lost:?}");
    let unsent: Vec<_> = rows.iter().filter(|(_, a)| a != "sent").collect();
    assert!(unsent.is_empty(), "rows not marked sent: {unsent:?}");
    // Every row was announced (once, but for the kills' windows), and nothing was announced
    // without a row.
    assert_eq!(
        alerted.values().sum::<usize>() - twice.len(),
        rows.len(),
        "alerts vs rows (final run: {totals})"
    );
}

/// Poison records first on a one-shard stream (an empty device id, a 3,000-byte one, a
/// value beyond DynamoDB's number range, an empty timestamp), then 3,000 good records: each
/// poison record is reported with its shard and sequence number, every later anomaly is
/// stored and alerted, and SIGINT exits 130 with the totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_are_rejected_and_the_shard_goes_on() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 1).await;
    let long = "D".repeat(3000);
    let poisons = vec![
        reading_record("", "2026-05-28 10:00:00.000001", 150.0),
        reading_record(&long, "2026-05-28 10:00:00.000002", 150.0),
        reading_record("DHT_001", "2026-05-28 10:00:00.000003", 1e200),
        reading_record("DHT_001", "", 150.0),
    ];
    let mut sequences = Vec::new();
    for p in &poisons {
        let out = cloud
            .put_records(interop::TEMPERATURE_STREAM, vec![p.clone()])
            .await
            .unwrap();
        sequences.push(out.results[0].clone().unwrap().0);
    }
    let (records, injected) = readings(3_000, 5, 0);
    put_all(&cloud, records).await;

    let home = tempfile::tempdir().unwrap();
    let mut p = process_stream(&moto, home.path(), &[]);
    wait_until_done(&config, &injected, &p, Duration::from_secs(90)).await;
    p.signal("INT");
    let (code, stdout) = p.wait();
    let stderr = p.stderr();
    assert_eq!(code, Some(130), "SIGINT exits 130; stderr: {stderr}");
    let totals: serde_json::Value = serde_json::from_str(stdout.trim()).expect("totals JSON");
    assert_eq!(totals["refused"], 4, "{totals}");
    assert_eq!(totals["records"], 3_004, "{totals}");
    for seq in &sequences {
        assert!(
            stderr.contains(&format!(
                "rejected {}/shardId-000000000000 record {seq}",
                interop::TEMPERATURE_STREAM
            )),
            "poison record {seq} not reported: {stderr}"
        );
    }
    let alerted = alerts(&moto);
    let lost: Vec<_> = injected
        .iter()
        .filter(|v| alerted.get(*v) != Some(&1))
        .collect();
    assert!(lost.is_empty(), "not alerted exactly once: {lost:?}");
}

/// The stream is deleted and created again under its name while the processor runs: the
/// disappearance is reported and watched for, and every anomaly of the new stream is stored
/// and alerted (the old stream's checkpoint is not used on the new one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_stream_is_read_again_from_its_start() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 1).await;
    let (records, first) = readings(1_000, 3, 0);
    put_all(&cloud, records).await;
    let home = tempfile::tempdir().unwrap();
    let mut p = process_stream(&moto, home.path(), &[]);
    wait_until_done(&config, &first, &p, Duration::from_secs(60)).await;

    let kinesis = aws_sdk_kinesis::Client::new(&config);
    kinesis
        .delete_stream()
        .stream_name(interop::TEMPERATURE_STREAM)
        .send()
        .await
        .unwrap();
    p.wait_for(
        "the stream is gone",
        "the deletion was not reported",
        Duration::from_secs(30),
    )
    .await;
    create_temperature_stream(&config, 1).await;
    // Other values than the first stream's, so its anomalies are told apart.
    let (records, second) = readings(2_000, 4, first.len());
    assert!(second.is_disjoint(&first));
    put_all(&cloud, records).await;
    wait_until_done(&config, &second, &p, Duration::from_secs(60)).await;
    assert!(
        p.stderr().contains("the stream was created again"),
        "{}",
        p.stderr()
    );
    p.signal("INT");
    let (code, _) = p.wait();
    assert_eq!(code, Some(130));
    let alerted = alerts(&moto);
    let wrong: Vec<_> = first
        .iter()
        .chain(&second)
        .filter(|v| alerted.get(*v) != Some(&1))
        .collect();
    assert!(wrong.is_empty(), "not alerted exactly once: {wrong:?}");
}

/// Two workers with `--lease-table` on one stream (each with its own store, as on two
/// machines) split the shards; one is killed with SIGKILL mid-run, at a moment chosen by the
/// clock and not by an alert: the survivor takes its shard over within about a lease period
/// (the time from the kill to the survivor's first checkpoint on that shard is printed),
/// finishes the stream, and no anomaly is lost or delivered twice to the subscriber of the
/// FIFO alert topic. (On a standard topic the kill can land between a Publish and its `sent`
/// mark: see `kill_nines_at_clock_chosen_moments_repeat_at_most_one_alert_each`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_stream_page_once_and_the_survivor_finishes() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let queue = fifo_alerts(&config, &[home_a.path(), home_b.path()]).await;
    let (a, wa, mut b, wb) =
        two_leased_workers(&moto, &config, (home_a.path(), home_b.path())).await;
    let (records, injected) = readings(20_000, 8, 0);
    put_all(&cloud, records).await;
    // Both shards under way, then a kill 700 ms later: the moment is not tied to an alert.
    wait_leases(
        &config,
        "a checkpoint on each shard",
        Duration::from_secs(60),
        |l| l.values().all(|r| !r.checkpoint.is_empty()),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let at_kill = leases(&config).await;
    drop(a); // SIGKILL
    let killed = Instant::now();
    let orphan = at_kill
        .values()
        .find(|r| r.owner == wa)
        .expect("a lease of the killed worker")
        .clone();
    assert!(
        rows(&config).await.len() < injected.len(),
        "the kill must land mid-run"
    );
    wait_leases(
        &config,
        "the killed worker's lease taken by the survivor",
        Duration::from_secs(60),
        |l| l.get(&orphan.shard).is_some_and(|r| r.owner == wb),
    )
    .await;
    let lease_taken = killed.elapsed();
    let taken = wait_leases(
        &config,
        "the survivor's checkpoint on the killed worker's shard",
        Duration::from_secs(60),
        |l| {
            l.get(&orphan.shard)
                .is_some_and(|r| r.owner == wb && r.checkpoint != orphan.checkpoint)
        },
    )
    .await;
    let takeover = killed.elapsed();
    eprintln!(
        "take-over of {}: lease taken {:.1} s after the kill, first checkpoint by the survivor {:.1} s after it (lease period 10 s, renewals every 3.3 s)",
        orphan.shard,
        lease_taken.as_secs_f64(),
        takeover.as_secs_f64(),
    );
    // The survivor takes the lease three of its rounds (10 s) after the round that saw the
    // dead worker's last write; that write was up to one renew interval (3.3 s) before the
    // kill, and the round up to 3.3 s after it: 6.7 to 13.3 s, plus the table's answers.
    assert!(
        lease_taken >= Duration::from_secs(5) && lease_taken < Duration::from_secs(16),
        "lease taken after {lease_taken:?}"
    );
    assert!(
        takeover < Duration::from_secs(45),
        "first checkpoint after {takeover:?}"
    );
    assert_eq!(taken[&orphan.shard].switches, orphan.switches + 1);
    wait_until_done(&config, &injected, &b, Duration::from_secs(120)).await;
    assert!(leases(&config).await.values().all(|r| r.owner == wb));
    b.signal("INT");
    let (code, _) = b.wait();
    assert_eq!(code, Some(130));
    let published = alerts(&moto);
    let received = delivered(&config, &queue).await;
    eprintln!(
        "two workers, one killed: {} of {} anomalies published twice, {} delivered twice",
        published.values().filter(|n| **n > 1).count(),
        injected.len(),
        received.values().filter(|n| **n > 1).count()
    );
    let lost: Vec<_> = injected
        .iter()
        .filter(|v| !received.contains_key(*v))
        .collect();
    assert!(lost.is_empty(), "never delivered: {lost:?}");
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    // A survivor's detectors start cold on the shard it takes over, so a reading that was
    // not injected may be judged an anomaly as well: a verdict, not a duplicate (checked above).
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    let rows = rows(&config).await;
    assert!(rows.iter().all(|(_, a)| a == "sent"), "{rows:?}");
}

/// Under `--read-only` the commands that exist to write (`process stream`, `process
/// backups`, `process metric`, `generate`) are refused with exit 64 and touch nothing: moto's
/// resources are the same before and after, and no store file is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_commands_are_refused_under_read_only_and_change_nothing() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 1).await;
    let (records, _) = readings(300, 9, 0);
    put_all(&cloud, records).await;
    let queue = cloud.create_queue("backup-events").await.unwrap();
    let before = moto.data();
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec!["--read-only", "process", "stream"],
        vec!["--read-only", "process", "backups", "--queue", &queue],
        vec![
            "--read-only",
            "process",
            "metric",
            "--namespace",
            "AWS/EC2",
            "--metric",
            "CPUUtilization",
        ],
        vec!["--read-only", "generate", "--count", "10", "--rate", "100"],
    ] {
        let out = watchband(&moto.endpoint(), home.path(), &args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {stderr}");
        assert!(stderr.contains("--read-only"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed a result");
    }
    assert_eq!(moto.data(), before, "moto's resources changed");
    assert!(!home.path().join("data").exists(), "a store was created");
    // The refusal is documented where the operator looks for it.
    for args in [
        vec!["process", "stream", "--help"],
        vec!["process", "backups", "--help"],
        vec!["generate", "--help"],
    ] {
        let out = watchband(&moto.endpoint(), home.path(), &args)
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Refused under --read-only (exit 64)"),
            "{args:?}: {help}"
        );
    }
}

const LEASES: &str = "watchband-leases";

/// One lease as the table holds it.
#[derive(Debug, Clone, PartialEq)]
struct LeaseRow {
    shard: String,
    owner: String,
    checkpoint: String,
    switches: u64,
}

/// Every lease of the lease table (empty while it does not exist), by shard.
async fn leases(config: &aws_config::SdkConfig) -> BTreeMap<String, LeaseRow> {
    let client = aws_sdk_dynamodb::Client::new(config);
    let mut out = BTreeMap::new();
    let Ok(page) = client.scan().table_name(LEASES).send().await else {
        return out;
    };
    for item in page.items() {
        let s = |k: &str| match item.get(k) {
            Some(aws_sdk_dynamodb::types::AttributeValue::S(v))
            | Some(aws_sdk_dynamodb::types::AttributeValue::N(v)) => v.clone(),
            _ => String::new(),
        };
        out.insert(
            s("shard"),
            LeaseRow {
                shard: s("shard"),
                owner: s("owner"),
                checkpoint: s("checkpoint"),
                switches: s("owner_switches").parse().unwrap_or(0),
            },
        );
    }
    out
}

/// Waits until `until` holds of the lease table.
async fn wait_leases(
    config: &aws_config::SdkConfig,
    what: &str,
    within: Duration,
    until: impl Fn(&BTreeMap<String, LeaseRow>) -> bool,
) -> BTreeMap<String, LeaseRow> {
    let deadline = Instant::now() + within;
    loop {
        let l = leases(config).await;
        if until(&l) {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not seen after {within:?}: {l:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts two workers with `--lease-table` on the 2-shard stream and waits until each holds
/// one lease: (first, its worker name, second, its worker name).
async fn two_leased_workers(
    moto: &Moto,
    config: &aws_config::SdkConfig,
    homes: (&std::path::Path, &std::path::Path),
) -> (Processor, String, Processor, String) {
    let args = ["--lease-table", LEASES];
    let a = process_stream(moto, homes.0, &args);
    let wa = wait_worker(&a).await;
    wait_leases(
        config,
        "both leases taken by the first worker",
        Duration::from_secs(30),
        |l| l.len() == 2 && l.values().all(|r| r.owner == wa),
    )
    .await;
    let b = process_stream(moto, homes.1, &args);
    let wb = wait_worker(&b).await;
    assert_ne!(wa, wb);
    wait_leases(
        config,
        "one lease stolen by the second worker",
        Duration::from_secs(30),
        |l| {
            l.values().filter(|r| r.owner == wa).count() == 1
                && l.values().filter(|r| r.owner == wb).count() == 1
        },
    )
    .await;
    (a, wa, b, wb)
}

/// Two workers with `--lease-table` on a 2-shard stream split the shards: the lease table
/// gives each one shard, each worker's totals show records of its shard only, and every
/// anomaly is stored and alerted exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_leased_workers_split_the_shards_and_page_once() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, wa, mut b, wb) =
        two_leased_workers(&moto, &config, (home_a.path(), home_b.path())).await;
    let split = leases(&config).await;
    // Records only now, so that each worker reads under the split from its first record.
    let (records, injected) = readings(6_000, 12, 0);
    put_all(&cloud, records).await;
    wait_until_done(&config, &injected, &b, Duration::from_secs(120)).await;
    // Nothing moved after the split.
    let end = leases(&config).await;
    for (shard, r) in &end {
        assert_eq!(
            r.owner, split[shard].owner,
            "{shard} changed hands: {end:?}"
        );
        assert!(!r.checkpoint.is_empty(), "{shard} never checkpointed");
    }
    a.signal("INT");
    b.signal("INT");
    let (code_a, out_a) = a.wait();
    let (code_b, out_b) = b.wait();
    assert_eq!((code_a, code_b), (Some(130), Some(130)));
    let shards = |out: &str| -> BTreeSet<String> {
        let t: serde_json::Value = serde_json::from_str(out.trim()).expect("totals JSON");
        t["shards"].as_object().unwrap().keys().cloned().collect()
    };
    let held = |w: &str| -> BTreeSet<String> {
        split
            .values()
            .filter(|r| r.owner == w)
            .map(|r| r.shard.clone())
            .collect()
    };
    assert_eq!(shards(&out_a), held(&wa), "first worker read: {out_a}");
    assert_eq!(shards(&out_b), held(&wb), "second worker read: {out_b}");
    // Both stopped cleanly: the leases were handed back, their checkpoints kept.
    let after = leases(&config).await;
    for (shard, r) in &after {
        assert_eq!(r.owner, "", "{shard} not handed back: {after:?}");
        assert_eq!(r.checkpoint, end[shard].checkpoint, "{shard}");
    }
    let alerted = alerts(&moto);
    let wrong: Vec<_> = injected
        .iter()
        .filter(|v| alerted.get(*v) != Some(&1))
        .collect();
    assert!(wrong.is_empty(), "not alerted exactly once: {wrong:?}");
    assert_eq!(alerted.values().sum::<usize>(), injected.len());
}

/// The temperature topic as a FIFO topic (`topics.temperature` in the configuration), with a
/// FIFO SQS queue subscribed: the subscriber's view of the alerts.
async fn fifo_alerts(config: &aws_config::SdkConfig, homes: &[&std::path::Path]) -> String {
    let name = format!("{}.fifo", interop::TEMPERATURE_TOPIC);
    let sns = aws_sdk_sns::Client::new(config);
    let topic = sns
        .create_topic()
        .name(&name)
        .attributes("FifoTopic", "true")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let sqs = aws_sdk_sqs::Client::new(config);
    let queue = sqs
        .create_queue()
        .queue_name("alerts-subscriber.fifo")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .unwrap();
    for home in homes {
        let dir = home.join("config").join("watchband");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.toml"),
            format!("[topics]\ntemperature = \"{name}\"\n"),
        )
        .unwrap();
    }
    queue
}

/// Every alert the subscribed queue received (received and deleted), value → count.
async fn delivered(config: &aws_config::SdkConfig, queue: &str) -> BTreeMap<String, usize> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut out = BTreeMap::new();
    let mut empty = 0;
    while empty < 3 {
        let got = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            empty += 1;
            continue;
        }
        empty = 0;
        for m in got.messages() {
            let envelope: serde_json::Value =
                serde_json::from_str(m.body().unwrap_or_default()).unwrap();
            let message = envelope["Message"].as_str().unwrap_or_default();
            let value = message
                .strip_prefix("Anomaly value = ")
                .and_then(|m| m.split_once(' '))
                .map_or(message, |(v, _)| v);
            *out.entry(value.to_string()).or_insert(0) += 1;
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    out
}

/// The 3 × `kill -9` run of [`three_kill_nines_lose_nothing_and_page_once`], each kill aimed at
/// the gate's window (right after a new row appeared), on a FIFO topic: the publishes a
/// replay repeats carry the row's deduplication id, and the subscriber receives every
/// anomaly exactly once. (moto drops the repeat at the FIFO queue, where SNS drops it at the
/// topic; the count of repeated publishes at the topic is printed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_kill_nines_on_a_fifo_topic_deliver_each_alert_once() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let home = tempfile::tempdir().unwrap();
    let queue = fifo_alerts(&config, &[home.path()]).await;
    let (records, injected) = readings(20_000, 22, 0);
    put_all(&cloud, records).await;
    let killed_at = kill_three_times_mid_run(&moto, &config, home.path()).await;
    assert!(
        killed_at.last().is_some_and(|&n| n < injected.len()),
        "every kill must land mid-run (rows at each kill: {killed_at:?})"
    );
    let mut p = process_stream(&moto, home.path(), &[]);
    wait_until_done(&config, &injected, &p, Duration::from_secs(120)).await;
    p.signal("TERM");
    let (code, _) = p.wait();
    assert_eq!(code, Some(143), "SIGTERM exits 143");
    let published = alerts(&moto);
    let republished = published.values().filter(|n| **n > 1).count();
    let received = delivered(&config, &queue).await;
    eprintln!(
        "FIFO topic: {republished} of {} anomalies published twice after {} kills, {} delivered twice",
        injected.len(),
        killed_at.len(),
        received.values().filter(|n| **n > 1).count()
    );
    let wrong: Vec<_> = injected
        .iter()
        .filter(|v| received.get(*v) != Some(&1))
        .collect();
    assert!(wrong.is_empty(), "not delivered exactly once: {wrong:?}");
    // A restarted run's detectors warm up again, so a reading near the band's edge that was
    // not injected may be judged an anomaly too: that is a verdict, not a duplicate. What
    // must hold is that nothing, injected or not, is delivered twice.
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
}

/// 3 × `kill -9` on a standard topic at moments chosen by the clock (250, 400 and 550 ms
/// after a run first stored a row), not by an alert: how often a kill lands in the gate's
/// window (after Publish, before `sent`) when nothing aims at it. At most one anomaly per
/// kill is alerted twice, none lost; the count is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nines_at_clock_chosen_moments_repeat_at_most_one_alert_each() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let (records, injected) = readings(20_000, 23, 0);
    put_all(&cloud, records).await;
    let home = tempfile::tempdir().unwrap();
    let mut kills = 0;
    for after in [250, 400, 550] {
        let before = rows(&config).await.len();
        let p = process_stream(&moto, home.path(), &[]);
        let deadline = Instant::now() + Duration::from_secs(60);
        while rows(&config).await.len() == before {
            assert!(Instant::now() < deadline, "no progress: {}", p.stderr());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(after)).await;
        drop(p); // SIGKILL
        kills += 1;
    }
    assert!(
        rows(&config).await.len() < injected.len(),
        "every kill must land mid-run"
    );
    let mut p = process_stream(&moto, home.path(), &[]);
    wait_until_done(&config, &injected, &p, Duration::from_secs(120)).await;
    p.signal("TERM");
    let (code, _) = p.wait();
    assert_eq!(code, Some(143));
    let alerted = alerts(&moto);
    let twice: Vec<_> = alerted.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "standard topic, clock-chosen kills: {} of {} anomalies alerted twice after {kills} kills",
        twice.len(),
        injected.len()
    );
    assert!(
        twice.len() <= kills && twice.iter().all(|(_, n)| **n == 2),
        "{twice:?}"
    );
    let lost: Vec<_> = injected
        .iter()
        .filter(|v| !alerted.contains_key(*v))
        .collect();
    assert!(lost.is_empty(), "never alerted: {lost:?}");
}

/// A leased worker stopped by SIGTERM hands its leases back: the other worker takes its
/// shard at its next round (well before a lease period), and reads it from the checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_by_sigterm_hands_its_leases_back() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (mut a, wa, b, wb) =
        two_leased_workers(&moto, &config, (home_a.path(), home_b.path())).await;
    let (records, injected) = readings(2_000, 31, 0);
    put_all(&cloud, records).await;
    wait_until_done(&config, &injected, &b, Duration::from_secs(60)).await;
    let shard = leases(&config)
        .await
        .values()
        .find(|r| r.owner == wa)
        .expect("a lease of the first worker")
        .shard
        .clone();
    a.signal("TERM");
    let (code, _) = a.wait();
    let stopped = Instant::now();
    assert_eq!(code, Some(143));
    assert!(
        a.stderr().contains("1 shard leases handed back"),
        "{}",
        a.stderr()
    );
    wait_leases(
        &config,
        "the handed-back lease taken by the other worker",
        Duration::from_secs(30),
        |l| l.get(&shard).is_some_and(|r| r.owner == wb),
    )
    .await;
    let taken = stopped.elapsed();
    eprintln!(
        "handed-back lease taken {:.1} s after the exit",
        taken.as_secs_f64()
    );
    // At the other worker's next round (every 3.3 s), not after a 10 s lease period.
    assert!(taken < Duration::from_secs(6), "taken after {taken:?}");
    // And it goes on from the checkpoint: records put now are all handled.
    let (records, more) = readings(2_000, 32, injected.len());
    put_all(&cloud, records).await;
    wait_until_done(&config, &more, &b, Duration::from_secs(60)).await;
    let alerted = alerts(&moto);
    let wrong: Vec<_> = injected
        .iter()
        .chain(&more)
        .filter(|v| alerted.get(*v) != Some(&1))
        .collect();
    assert!(wrong.is_empty(), "not alerted exactly once: {wrong:?}");
}

/// The server goes away under a running `process stream` on two shards (moto killed, so
/// every call is refused): the failure is printed once and then counted, not once per call
/// or per shard; the output of a 12 s outage stays small, and SIGINT still exits 130 with
/// the count of repeats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_reported_once_then_counted() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
    create_anomaly_table(&config).await;
    create_temperature_stream(&config, 2).await;
    let (records, injected) = readings(400, 5, 0);
    put_all(&cloud, records).await;
    let home = tempfile::tempdir().unwrap();
    let mut p = process_stream(&moto, home.path(), &[]);
    wait_until_done(&config, &injected, &p, Duration::from_secs(60)).await;
    let before = p.stderr().len();
    drop(moto); // every call from now on: connection refused
    tokio::time::sleep(Duration::from_secs(12)).await;
    p.signal("INT");
    let (code, _) = p.wait();
    let stderr = p.stderr();
    assert_eq!(code, Some(130), "{stderr}");
    let outage = &stderr[before..];
    // The progress line is redrawn with `\r`; the failures are whole lines.
    let failures: Vec<_> = outage
        .split(['\n', '\r'])
        .filter(|l| l.starts_with("watchband: ") && !l.contains("repeated"))
        .collect();
    assert!(
        !failures.is_empty(),
        "the outage was not reported: {outage:?}"
    );
    assert!(
        failures.len() <= 6,
        "{} failure lines in 12 s (once, then a count): {outage}",
        failures.len()
    );
    assert!(
        failures
            .iter()
            .all(|l| !l.contains("DispatchFailure") && !l.contains("{")),
        "a debug dump reached stderr: {outage}"
    );
    assert!(
        outage.len() < 4096,
        "{} bytes in 12 s: {outage}",
        outage.len()
    );
    eprintln!(
        "a 12 s outage on 2 shards: {} failure lines, {} bytes on stderr:\n{outage}",
        failures.len(),
        outage.len()
    );
    assert!(
        outage.contains("repeated"),
        "no count of the repeats: {outage}"
    );
}
