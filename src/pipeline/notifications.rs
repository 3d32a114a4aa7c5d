//! SNS notifications as the operator's mailbox: watchband subscribes its own SQS queue
//! (`watchband-notifications-<id>`, stable across restarts) to the watched topics — the backup
//! topic, the temperature pipeline's `m03p02_anomaly_alerts`, any configured topic and every alarm's action
//! topics — then receives, shows and deletes what SNS delivers. The same calls on the
//! simulated account and on AWS.
//!
//! Read-only writes nothing to AWS, and receiving needs exactly such writes (a queue, a
//! subscription, a delete per message): in read-only the source says it needs write access
//! and stops, and the alarms' states and histories (read-only calls) remain the record.

use super::events::{Event, SnsNotification, Source};
use super::{Ctx, pause};
use crate::cloud::Time;
use crate::sanitize::{clean, clean_multiline};
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Messages per ReceiveMessage (the SQS maximum).
const RECEIVE_MAX: i32 = 10;
/// Long-poll wait; short enough that a refresh or a shutdown is not held up for long.
const RECEIVE_WAIT_SECONDS: i32 = 2;
/// How often the topic list is re-read (alarm topics appear as alarms are created).
const TOPICS_EVERY: Duration = Duration::from_secs(30);
/// Message ids remembered to drop SQS's at-least-once duplicates.
const DEDUP: usize = 512;

pub fn queue_name(queue_id: &str) -> String {
    // SQS queue names: up to 80 characters of alphanumerics, hyphens and underscores.
    let mut name = format!("watchband-notifications-{queue_id}");
    name.truncate(80);
    name
}

/// What the notifications source says in read-only.
pub const NEEDS_WRITE: &str = "read-only: notifications need write access (watchband \
    receives them through its own SQS queue subscribed to the topics); the Alarms view shows \
    states and history without it";

pub(crate) async fn run(ctx: Arc<Ctx>) {
    if ctx.config.read_only {
        ctx.health
            .unavailable(Source::Notifications, NEEDS_WRITE)
            .await;
        return;
    }
    let wake = ctx.refresh.subscribe();
    let name = queue_name(&ctx.config.queue_id);
    // The queue first: without it nothing can be delivered.
    let (queue_url, queue_arn) = loop {
        let made = async {
            let url = ctx
                .call(Source::Notifications, || ctx.cloud.create_queue(&name))
                .await?;
            let arn = ctx
                .call(Source::Notifications, || ctx.cloud.queue_arn(&url))
                .await?;
            Ok::<_, crate::cloud::CloudError>((url, arn))
        }
        .await;
        match made {
            Ok(q) => break q,
            Err(_) => {
                if ctx.events.is_closed() {
                    return;
                }
                pause(Duration::from_secs(10), &wake).await;
            }
        }
    };
    let mut subscribed: BTreeSet<String> = BTreeSet::new();
    let mut seen: VecDeque<String> = VecDeque::new();
    let mut topics_checked: Option<tokio::time::Instant> = None;
    loop {
        if ctx.events.is_closed() {
            return;
        }
        if topics_checked.is_none_or(|t| t.elapsed() >= TOPICS_EVERY) {
            subscribe_all(&ctx, &queue_url, &queue_arn, &mut subscribed).await;
            topics_checked = Some(tokio::time::Instant::now());
        }
        let received = ctx
            .call(Source::Notifications, || {
                ctx.cloud
                    .receive_messages(&queue_url, RECEIVE_MAX, RECEIVE_WAIT_SECONDS)
            })
            .await;
        let messages = match received {
            Ok(m) => m,
            Err(_) => {
                pause(ctx.config.intervals.notifications, &wake).await;
                continue;
            }
        };
        let empty = messages.is_empty();
        for m in messages {
            let n = parse_envelope(&m.message_id, &m.body, ctx.cloud.now());
            if !seen.contains(&n.message_id) {
                seen.push_back(n.message_id.clone());
                if seen.len() > DEDUP {
                    seen.pop_front();
                }
                if !ctx.emit(Event::Notification(n)).await {
                    return;
                }
            }
            // Shown first, deleted after: a failed delete only means a duplicate, dropped above.
            let _ = ctx
                .call(Source::Notifications, || {
                    ctx.cloud.delete_message(&queue_url, &m.receipt_handle)
                })
                .await;
        }
        if empty {
            pause(ctx.config.intervals.notifications, &wake).await;
        }
    }
}

/// Topic ARNs to watch: configured names or ARNs, the backup topic and alarm action topics.
async fn wanted_topics(ctx: &Ctx) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ctx.config.topics.iter().cloned().collect();
    names.insert(ctx.config.backup_topic.clone());
    let mut arns: BTreeSet<String> = ctx
        .alarm_topics
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let needs_listing = names.iter().any(|n| !n.starts_with("arn:"));
    let existing = if needs_listing {
        ctx.call(Source::Notifications, || ctx.cloud.list_topics())
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    for n in names {
        if n.starts_with("arn:") {
            arns.insert(n);
        } else if let Some(arn) = existing
            .iter()
            .find(|a| a.rsplit(':').next() == Some(n.as_str()))
        {
            arns.insert(arn.clone());
        }
        // A topic that does not exist yet is looked for again at the next check.
    }
    arns
}

async fn subscribe_all(
    ctx: &Ctx,
    queue_url: &str,
    queue_arn: &str,
    subscribed: &mut BTreeSet<String>,
) {
    for topic in wanted_topics(ctx).await {
        if subscribed.contains(&topic) {
            continue;
        }
        let done = async {
            ctx.call(Source::Notifications, || {
                ctx.cloud.allow_topic_to_queue(queue_url, &topic)
            })
            .await?;
            let subs = ctx
                .call(Source::Notifications, || {
                    ctx.cloud.list_subscriptions(&topic)
                })
                .await?;
            // A restart finds its subscription and does not subscribe twice.
            if !subs
                .iter()
                .any(|s| s.protocol == "sqs" && s.endpoint == queue_arn)
            {
                ctx.call(Source::Notifications, || {
                    ctx.cloud.subscribe(&topic, "sqs", queue_arn)
                })
                .await?;
            }
            Ok::<_, crate::cloud::CloudError>(())
        }
        .await;
        if done.is_ok() {
            subscribed.insert(topic);
        }
    }
}

/// Reads SNS's JSON envelope (`Type`, `MessageId`, `TopicArn`, `Subject`, `Message`,
/// `Timestamp`); a body that is not one (raw message delivery) is shown as it is.
pub fn parse_envelope(sqs_message_id: &str, body: &str, received: Time) -> SnsNotification {
    let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(|x| x.as_str())
            .map(str::to_string)
    };
    match field("Message") {
        Some(message) if field("TopicArn").is_some() => SnsNotification {
            message_id: clean(&field("MessageId").unwrap_or_else(|| sqs_message_id.into())),
            topic_arn: clean(&field("TopicArn").unwrap_or_default()),
            subject: field("Subject")
                .filter(|s| !s.is_empty())
                .map(|s| clean(&s)),
            message: clean_multiline(&message),
            time: field("Timestamp")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or(received),
        },
        _ => SnsNotification {
            message_id: clean(sqs_message_id),
            topic_arn: String::new(),
            subject: None,
            message: clean_multiline(body),
            time: received,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_sns_envelope_is_unwrapped_and_cleaned() {
        let body = serde_json::json!({
            "Type": "Notification",
            "MessageId": "m-1",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:m03p02_anomaly_alerts",
            "Subject": "Hot temperature is detected.",
            "Message": "Anomaly value = 102.5 is detected.\x1b[2J\nline two",
            "Timestamp": "2026-01-02T03:04:05.000Z"
        })
        .to_string();
        let now = chrono::Utc.timestamp_opt(0, 0).unwrap();
        let n = parse_envelope("sqs-1", &body, now);
        assert_eq!(n.message_id, "m-1");
        assert!(n.topic_arn.ends_with(":m03p02_anomaly_alerts"));
        assert_eq!(n.subject.as_deref(), Some("Hot temperature is detected."));
        assert_eq!(n.message.lines().count(), 2);
        assert!(!n.message.contains('\x1b'));
        assert_eq!(
            n.time,
            chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
        );
    }

    #[test]
    fn a_raw_body_is_shown_as_it_is() {
        let now = chrono::Utc.timestamp_opt(5, 0).unwrap();
        let n = parse_envelope("sqs-2", "plain text", now);
        assert_eq!((n.message.as_str(), n.time), ("plain text", now));
        assert_eq!(queue_name("u-h").len(), "watchband-notifications-u-h".len());
        assert!(queue_name(&"x".repeat(100)).len() <= 80);
    }
}
