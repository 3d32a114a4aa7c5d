//! `watchband process backups` as a child process against moto, fed hostile events on its
//! queue: an event whose volume ARN hides an escape sequence and a bidi override before the
//! id, and an event with no `time`. Both are refused with a message; neither writes anything;
//! nothing unsafe reaches stdout or stderr; the good event beside them is handled.

use crate::support::Moto;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use watchband::cloud::{AlarmFilter, Cloud};
use watchband::interop;

fn event(volume_arn: &str, snapshot: &str, time: Option<&str>) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&interop::backup_event_json(
        "123456789012",
        "us-east-1",
        &format!("job-{snapshot}"),
        volume_arn,
        &format!("arn:aws:ec2:us-east-1::snapshot/{snapshot}"),
        time.unwrap_or(""),
    ))
    .unwrap();
    if time.is_none() {
        v.as_object_mut().unwrap().remove("time");
    }
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_backup_events_are_refused_and_nothing_unsafe_is_printed() {
    let Some(moto) = Moto::start() else { return };
    let config = moto.sdk_config().await;
    let cloud = moto.cloud().await;
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
    let sqs = aws_sdk_sqs::Client::new(&config);
    let good = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0aaa";
    // The JSON escapes arrive as ESC, BEL and U+202E once the body is parsed.
    let hostile = "arn:aws:ec2:us-east-1:123456789012:volume/\u{1b}]0;pwned\u{7}\u{202e}vol-0bbb";
    let untimed = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0ccc";
    for body in [
        event(hostile, "snap-01", Some("2026-05-01T05:00:00Z")),
        event(untimed, "snap-02", None),
        event(good, "snap-03", Some("2026-05-01T05:00:00Z")),
    ] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_watchband"))
        .args(["--endpoint-url", &moto.endpoint()])
        .args(["process", "backups", "--queue", &queue])
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Done once the good volume's alarm exists and the queue is empty.
    let alarm = interop::backup_alarm_name(good);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let alarms = cloud
            .describe_alarms(AlarmFilter {
                names: vec![alarm.clone()],
                ..Default::default()
            })
            .await
            .unwrap();
        let left = sqs
            .get_queue_attributes()
            .queue_url(&queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let left = left
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .cloned()
            .unwrap_or_default();
        if !alarms.is_empty() && left == "0" {
            break;
        }
        assert!(Instant::now() < deadline, "the good event was not handled");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    let unsafe_char = |c: char| c != '\n' && watchband::sanitize::is_unsafe(c);
    assert!(!stdout.chars().any(unsafe_char), "stdout: {stdout:?}");
    assert!(!stderr.chars().any(unsafe_char), "stderr: {stderr:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the good event has a result: {stdout}");
    assert!(lines[0].contains("vol-0aaa"), "{stdout}");
    assert!(stderr.contains("not an EC2 volume ARN"), "{stderr}");
    assert!(stderr.contains("no usable `time`"), "{stderr}");
    // Nothing was written for the refused events.
    let all = cloud.describe_alarms(AlarmFilter::default()).await.unwrap();
    let names: Vec<&str> = all.iter().map(|a| a.definition.name.as_str()).collect();
    assert_eq!(names, vec![alarm.as_str()], "alarms: {names:?}");
}
