//! `watchband process backups` as a child process against moto, fed hostile and disordered
//! events on its queue. moto 5.2 has no ListRecoveryPointsByResource: the recovery points the
//! processor checks each snapshot against are served by a stand-in in front of moto
//! (`support::backup`); everything else (table, queue, alarms, metrics, STS, EBS) is moto's.
//!
//! - an event whose volume ARN hides an escape sequence and a bidi override, one whose
//!   snapshot ARN hides one, and one without `time` are refused and write nothing;
//! - snapshots arriving newest first (S4, S2, S1) never move the table's item backwards nor
//!   publish a count, and the next newer snapshot is counted from S4;
//! - a volume of another account is refused until allow-listed, one of another region is
//!   refused, a snapshot of volume B presented as volume A's is refused; refused events go to
//!   the dead-letter queue with the reason.

use crate::support::process::{Processor, queue_count};
use crate::support::{self, Moto, backup::RecoveryPoints};
use std::time::{Duration, Instant};
use watchband::cloud::{AlarmFilter, AttrValue, Cloud, GetMetricData, Item, MetricQuery, Time};
use watchband::interop;

const ACCOUNT: &str = "123456789012";

fn event(volume_arn: &str, snapshot_arn: &str, time: Option<Time>) -> String {
    let time = time.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let mut v: serde_json::Value = serde_json::from_str(&interop::backup_event_json(
        ACCOUNT,
        "us-east-1",
        &format!(
            "job-{}",
            snapshot_arn.rsplit('/').next().unwrap_or_default()
        ),
        volume_arn,
        snapshot_arn,
        time.as_deref().unwrap_or(""),
    ))
    .unwrap();
    if time.is_none() {
        v.as_object_mut().unwrap().remove("time");
    }
    v.to_string()
}

fn snap_arn(snapshot: &str) -> String {
    format!("arn:aws:ec2:us-east-1::snapshot/{snapshot}")
}

/// moto behind the recovery-point stand-in, with the backup table and the events queue.
struct World {
    // Kept alive for the proxy.
    _moto: Moto,
    proxy: support::http::Server,
    points: RecoveryPoints,
    config: aws_config::SdkConfig,
    cloud: watchband::cloud::aws::AwsCloud,
    queue: String,
}

impl World {
    async fn start() -> Option<World> {
        let moto = Moto::start()?;
        let points = RecoveryPoints::default();
        let proxy = support::backup::moto_proxy(moto.port, points.clone());
        let config = support::sdk_config_for(&proxy.endpoint()).await;
        let cloud = watchband::cloud::aws::AwsCloud::from_sdk_config(&config);
        aws_sdk_dynamodb::Client::new(&config)
            .create_table()
            .table_name(interop::BACKUP_TABLE)
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .attribute_definitions(
                aws_sdk_dynamodb::types::AttributeDefinition::builder()
                    .attribute_name("arn")
                    .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                aws_sdk_dynamodb::types::KeySchemaElement::builder()
                    .attribute_name("arn")
                    .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let queue = cloud.create_queue("backup-events").await.unwrap();
        Some(World {
            _moto: moto,
            proxy,
            points,
            config,
            cloud,
            queue,
        })
    }

    async fn send(&self, queue: &str, bodies: &[String]) {
        let sqs = aws_sdk_sqs::Client::new(&self.config);
        for body in bodies {
            sqs.send_message()
                .queue_url(queue)
                .message_body(body)
                .send()
                .await
                .unwrap();
        }
    }

    /// Runs `process backups` on the queue until it is empty, then stops it with SIGINT;
    /// returns stdout and stderr after checking the exit and that nothing unsafe was printed.
    async fn process(&self, extra: &[&str]) -> (String, String) {
        let home = tempfile::tempdir().unwrap();
        let mut args = vec!["process", "backups", "--queue", &self.queue];
        args.extend(extra);
        let mut p = Processor::start(&self.proxy.endpoint(), home.path(), &args);
        let deadline = Instant::now() + Duration::from_secs(60);
        while queue_count(&self.config, &self.queue).await > 0 {
            assert!(
                Instant::now() < deadline,
                "the queue was not emptied within 60 s: {}",
                p.stderr()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        p.signal("INT");
        let (code, stdout) = p.wait();
        let stderr = p.stderr();
        assert_eq!(code, Some(0), "{stderr}");
        let unsafe_char = |c: char| c != '\n' && watchband::sanitize::is_unsafe(c);
        assert!(!stdout.chars().any(unsafe_char), "stdout: {stdout:?}");
        assert!(!stderr.chars().any(unsafe_char), "stderr: {stderr:?}");
        (stdout, stderr)
    }

    async fn alarm_names(&self) -> Vec<String> {
        self.cloud
            .describe_alarms(AlarmFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.definition.name)
            .collect()
    }

    async fn item(&self, volume_arn: &str) -> Option<Item> {
        let mut key = Item::new();
        key.insert("arn".into(), AttrValue::S(volume_arn.into()));
        self.cloud
            .get_item(interop::BACKUP_TABLE, key)
            .await
            .unwrap()
    }

    /// How many changed-block counts were published for the volume in the last day.
    async fn published_counts(&self, volume_arn: &str) -> usize {
        let now = self.cloud.now();
        let results = self
            .cloud
            .get_metric_data(GetMetricData {
                queries: vec![MetricQuery::stat(
                    "m1",
                    interop::backup_metric(volume_arn),
                    60,
                    "SampleCount",
                )],
                start: now - chrono::Duration::days(1),
                end: now + chrono::Duration::minutes(5),
            })
            .await
            .unwrap();
        results
            .into_iter()
            .flat_map(|r| r.values)
            .map(|v| v as usize)
            .sum()
    }
}

/// The `result.outcome` of each stdout line.
fn outcomes(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["result"]["outcome"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_backup_events_are_refused_and_nothing_unsafe_is_printed() {
    let Some(w) = World::start().await else {
        return;
    };
    let now = w.cloud.now();
    let good = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0aaa";
    // The JSON escapes arrive as ESC, BEL and U+202E once the body is parsed.
    let hostile = "arn:aws:ec2:us-east-1:123456789012:volume/\u{1b}]0;pwned\u{7}\u{202e}vol-0bbb";
    let untimed = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0ccc";
    let hidden = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0ddd";
    w.points.add(good, "snap-03", now);
    w.points.add(untimed, "snap-02", now);
    w.points.add(hidden, "snap-04", now);
    w.send(
        &w.queue,
        &[
            event(hostile, &snap_arn("snap-01"), Some(now)),
            event(untimed, &snap_arn("snap-02"), None),
            // An escape sequence before the snapshot id (the volume ARN is clean).
            event(
                hidden,
                "arn:aws:ec2:us-east-1::snapshot/\u{1b}]0;pwned\u{7}snap-04",
                Some(now),
            ),
            event(good, &snap_arn("snap-03"), Some(now)),
        ],
    )
    .await;
    let (stdout, stderr) = w.process(&[]).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the good event has a result: {stdout}");
    assert!(lines[0].contains("vol-0aaa"), "{stdout}");
    assert!(stderr.contains("not an EC2 volume ARN"), "{stderr}");
    assert!(stderr.contains("no usable `time`"), "{stderr}");
    assert!(
        stderr.contains("resources[0] is not a snapshot"),
        "{stderr}"
    );
    // Nothing was written for the refused events.
    assert_eq!(
        w.alarm_names().await,
        vec![interop::backup_alarm_name(good)]
    );
    assert!(w.item(hidden).await.is_none());
    assert!(w.item(untimed).await.is_none());
}

/// Snapshots S1 < S2 < S4 (by their recovery points' creation dates) whose events arrive S4,
/// S2, S1, each event's `time` later than the one before (late jobs, redeliveries): the item
/// stays at S4 and no count is published for S2 or S1; S5 is then counted from S4.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrival_order_s4_s2_s1_never_moves_the_item_backwards_nor_publishes() {
    let Some(w) = World::start().await else {
        return;
    };
    let ebs = aws_sdk_ebs::Client::new(&w.config);
    let s1 = support::ebs::snapshot(&ebs, &[(0, 1), (1, 1)]).await;
    let s2 = support::ebs::snapshot(&ebs, &[(0, 1), (1, 2)]).await;
    let s4 = support::ebs::snapshot(&ebs, &[(0, 2), (1, 2), (2, 1)]).await;
    let s5 = support::ebs::snapshot(&ebs, &[(0, 3), (1, 2), (2, 1)]).await;
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0";
    let now = w.cloud.now();
    let hours = chrono::Duration::hours;
    w.points.add(volume, &s1, now - hours(4));
    w.points.add(volume, &s2, now - hours(3));
    w.points.add(volume, &s4, now - hours(1));
    let minutes = chrono::Duration::minutes;
    w.send(
        &w.queue,
        &[
            event(volume, &snap_arn(&s4), Some(now - minutes(30))),
            event(volume, &snap_arn(&s2), Some(now - minutes(20))),
            event(volume, &snap_arn(&s1), Some(now - minutes(10))),
        ],
    )
    .await;
    let (stdout, stderr) = w.process(&[]).await;
    assert_eq!(
        outcomes(&stdout),
        vec!["first_sighting", "out_of_order", "out_of_order"],
        "{stdout}\n{stderr}"
    );
    let item = w.item(volume).await.expect("the item");
    assert_eq!(item["snapshot"], AttrValue::S(s4.clone()), "{item:?}");
    assert_eq!(w.published_counts(volume).await, 0, "no count for S2 or S1");

    // The next snapshot is counted from S4, not from S2 or S1.
    w.points.add(volume, &s5, now - minutes(5));
    w.send(&w.queue, &[event(volume, &snap_arn(&s5), Some(now))])
        .await;
    let (stdout, stderr) = w.process(&[]).await;
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).expect(&stderr);
    assert_eq!(line["result"]["outcome"], "counted", "{stdout}");
    assert_eq!(line["result"]["previous"], s4.as_str(), "{stdout}");
    assert_eq!(w.item(volume).await.unwrap()["snapshot"], AttrValue::S(s5));
    assert_eq!(w.published_counts(volume).await, 1);
}

/// A volume of another account is refused (and dead-lettered with the reason) until that
/// account is allow-listed; a volume of another region is refused even then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_account_is_refused_until_allow_listed_and_a_foreign_region_always() {
    let Some(w) = World::start().await else {
        return;
    };
    let now = w.cloud.now();
    let foreign = "arn:aws:ec2:us-east-1:210987654321:volume/vol-0f0f";
    let west = "arn:aws:ec2:us-west-2:123456789012:volume/vol-0e0e";
    w.points.add(foreign, "snap-0a", now);
    w.points.add(west, "snap-0b", now);
    let dlq = w.cloud.create_queue("backup-dead-letters").await.unwrap();
    let bodies = [
        event(foreign, &snap_arn("snap-0a"), Some(now)),
        event(west, "arn:aws:ec2:us-west-2::snapshot/snap-0b", Some(now)),
    ];
    w.send(&w.queue, &bodies).await;
    let (stdout, stderr) = w.process(&["--dead-letter-queue", &dlq]).await;
    assert!(stdout.trim().is_empty(), "{stdout}");
    assert!(
        stderr.contains("belongs to account 210987654321"),
        "{stderr}"
    );
    assert!(stderr.contains("in region us-west-2"), "{stderr}");
    assert_eq!(stderr.matches("dead-lettered").count(), 2, "{stderr}");
    assert!(w.alarm_names().await.is_empty());
    assert!(w.item(foreign).await.is_none() && w.item(west).await.is_none());
    // Both are in the dead-letter queue, as they came, with the reason.
    let letters = w.cloud.receive_messages(&dlq, 10, 1).await.unwrap();
    assert_eq!(letters.len(), 2, "{letters:?}");
    for (letter, body) in letters.iter().zip(&bodies) {
        let v: serde_json::Value = serde_json::from_str(&letter.body).unwrap();
        assert_eq!(v["body"].as_str(), Some(body.as_str()));
        assert!(
            v["reason"]
                .as_str()
                .unwrap()
                .contains("nothing was written")
        );
    }

    w.send(&w.queue, &bodies).await;
    let (stdout, stderr) = w.process(&["--allow-account", "210987654321"]).await;
    assert_eq!(outcomes(&stdout), vec!["first_sighting"], "{stderr}");
    assert!(stderr.contains("in region us-west-2"), "{stderr}");
    assert_eq!(
        w.alarm_names().await,
        vec![interop::backup_alarm_name(foreign)]
    );
    assert!(w.item(west).await.is_none());
}

/// A snapshot of volume B (one of B's recovery points) presented as volume A's next backup
/// is refused: A's item stays where it was and nothing is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_volume_b_presented_as_volume_as_is_refused() {
    let Some(w) = World::start().await else {
        return;
    };
    let ebs = aws_sdk_ebs::Client::new(&w.config);
    let a1 = support::ebs::snapshot(&ebs, &[(0, 1)]).await;
    let b1 = support::ebs::snapshot(&ebs, &[(0, 2), (1, 2)]).await;
    let a = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0aa0";
    let b = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0bb0";
    let now = w.cloud.now();
    w.points.add(a, &a1, now - chrono::Duration::hours(2));
    w.points.add(b, &b1, now - chrono::Duration::hours(1));
    w.send(
        &w.queue,
        &[
            event(a, &snap_arn(&a1), Some(now - chrono::Duration::minutes(2))),
            // Sent longer ago than the listing grace: not a listing that lags.
            event(a, &snap_arn(&b1), Some(now - chrono::Duration::minutes(20))),
        ],
    )
    .await;
    let (stdout, stderr) = w.process(&[]).await;
    assert_eq!(outcomes(&stdout), vec!["first_sighting"], "{stdout}");
    assert!(
        stderr.contains("not a recovery point of this volume"),
        "{stderr}"
    );
    assert_eq!(w.item(a).await.unwrap()["snapshot"], AttrValue::S(a1));
    assert_eq!(w.published_counts(a).await, 0);
}

/// A snapshot that AWS Backup does not list yet when its fresh event arrives (its listings
/// are eventually consistent) is kept on the queue and counted once it is listed, not
/// refused for good as a snapshot of another volume would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_listed_late_is_retried_then_counted() {
    let Some(w) = World::start().await else {
        return;
    };
    // Redelivered 1 s after a receive that did not delete it (SQS's default is 30 s).
    aws_sdk_sqs::Client::new(&w.config)
        .set_queue_attributes()
        .queue_url(&w.queue)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "1",
        )
        .send()
        .await
        .unwrap();
    let ebs = aws_sdk_ebs::Client::new(&w.config);
    let s1 = support::ebs::snapshot(&ebs, &[(0, 1)]).await;
    let s2 = support::ebs::snapshot(&ebs, &[(0, 2), (1, 2)]).await;
    let volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0cc0";
    let now = w.cloud.now();
    w.points.add(volume, &s1, now - chrono::Duration::hours(2));
    w.send(
        &w.queue,
        &[
            event(
                volume,
                &snap_arn(&s1),
                Some(now - chrono::Duration::minutes(3)),
            ),
            event(volume, &snap_arn(&s2), Some(now)),
        ],
    )
    .await;
    // S2's recovery point shows up in the listing a few seconds after its event.
    let points = w.points.clone();
    let (late, s2_id) = (volume.to_string(), s2.clone());
    let listed = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(4)).await;
        points.add(&late, &s2_id, now - chrono::Duration::minutes(1));
    });
    let (stdout, stderr) = w.process(&[]).await;
    listed.await.unwrap();
    assert!(
        stderr.contains("not listed among the volume's recovery points yet"),
        "{stderr}"
    );
    assert!(!stderr.contains("refused"), "{stderr}");
    let done = outcomes(&stdout);
    assert_eq!(
        done.first().map(String::as_str),
        Some("first_sighting"),
        "{stdout}"
    );
    assert_eq!(
        done.last().map(String::as_str),
        Some("counted"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(w.item(volume).await.unwrap()["snapshot"], AttrValue::S(s2));
    assert_eq!(w.published_counts(volume).await, 1);
}
