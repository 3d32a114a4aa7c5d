//! SNS and SQS in the simulated account: topics, subscriptions, publish, and delivery to SQS
//! queues in SNS's real JSON envelope (so a consumer reads notifications exactly as on AWS).
//! Every publication is also kept, with where it was delivered, for the UI and for tests.

use super::clock::to_time;
use super::rng::Rng;
use crate::cloud::{QueueMessage, Subscription};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// SQS's default visibility timeout, in real milliseconds.
const VISIBILITY_MS: i64 = 30_000;
/// Publications kept for inspection; the oldest are dropped beyond this.
pub const KEPT_PUBLICATIONS: usize = 100_000;

/// One message published to a topic, and where it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    pub message: String,
    pub time: crate::cloud::Time,
    /// (protocol, endpoint) of each subscription it was delivered to.
    pub deliveries: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone)]
struct QueuedMessage {
    id: String,
    body: String,
    visible_at_real: i64,
    receipt: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Queue {
    pub name: String,
    pub url: String,
    pub arn: String,
    /// Topics the queue policy allows to send.
    pub allowed_topics: BTreeSet<String>,
    messages: VecDeque<QueuedMessage>,
}

#[derive(Debug, Clone)]
pub struct Messaging {
    pub account: String,
    pub region: String,
    pub topics: BTreeMap<String, Topic>,
    pub subscriptions: Vec<Subscription>,
    pub queues: BTreeMap<String, Queue>,
    pub published: VecDeque<Publication>,
    /// Messages a queue refused because its policy did not allow the topic.
    pub undeliverable: u64,
    /// FIFO topics: (topic, deduplication id) → (simulated ms, message id) of its publish.
    deduplication: BTreeMap<(String, String), (i64, String)>,
    ids: Rng,
}

/// How long a FIFO topic remembers a deduplication id (SNS: 5 minutes).
const DEDUPLICATION_MS: i64 = 5 * 60 * 1000;

pub enum MsgError {
    NotFound(String),
    Invalid(String),
}

impl Messaging {
    pub fn new(account: &str, region: &str, seed: u64) -> Self {
        Messaging {
            account: account.to_string(),
            region: region.to_string(),
            topics: BTreeMap::new(),
            subscriptions: Vec::new(),
            queues: BTreeMap::new(),
            published: VecDeque::new(),
            undeliverable: 0,
            deduplication: BTreeMap::new(),
            ids: Rng::from_state(seed ^ 0x5e55_a9e5),
        }
    }

    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{name}", self.region, self.account)
    }

    pub fn create_topic(&mut self, name: &str, display: Option<&str>) -> Result<String, MsgError> {
        // A FIFO topic's name ends in `.fifo`, the one place SNS allows a dot.
        let base = name.strip_suffix(".fifo").unwrap_or(name);
        if base.is_empty()
            || name.len() > 256
            || !base
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(MsgError::Invalid(format!(
                "Invalid parameter: Topic Name {name:?} (1–256 letters, digits, '-' or '_')"
            )));
        }
        let arn = self.topic_arn(name);
        let t = self.topics.entry(arn.clone()).or_insert_with(|| Topic {
            arn: arn.clone(),
            name: name.to_string(),
            display_name: None,
        });
        if let Some(d) = display {
            t.display_name = Some(d.to_string());
        }
        Ok(arn)
    }

    pub fn subscribe(
        &mut self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
    ) -> Result<String, MsgError> {
        if !self.topics.contains_key(topic_arn) {
            return Err(MsgError::NotFound(format!(
                "Topic does not exist: {topic_arn}"
            )));
        }
        match protocol {
            "email" | "email-json" if !endpoint.contains('@') => {
                return Err(MsgError::Invalid(format!(
                    "Invalid email address {endpoint:?}"
                )));
            }
            "sqs" if !endpoint.starts_with("arn:aws:sqs:") => {
                return Err(MsgError::Invalid(format!(
                    "Invalid SQS endpoint {endpoint:?}: give the queue ARN"
                )));
            }
            "email" | "email-json" | "sqs" | "lambda" | "http" | "https" | "sms" => {}
            other => return Err(MsgError::Invalid(format!("Invalid protocol {other:?}"))),
        }
        if let Some(s) = self
            .subscriptions
            .iter()
            .find(|s| s.topic_arn == topic_arn && s.protocol == protocol && s.endpoint == endpoint)
        {
            return Ok(s.arn.clone());
        }
        let arn = format!("{topic_arn}:{}", self.ids.uuid());
        self.subscriptions.push(Subscription {
            arn: arn.clone(),
            topic_arn: topic_arn.to_string(),
            protocol: protocol.to_string(),
            endpoint: endpoint.to_string(),
        });
        Ok(arn)
    }

    /// Publishes to a FIFO topic: a deduplication id seen within the last 5 minutes is
    /// accepted (its first message id returned) and delivered to no one, as SNS does.
    pub fn publish_fifo(
        &mut self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
        (group_id, dedup_id): (&str, &str),
        now: i64,
        real: i64,
    ) -> Result<String, MsgError> {
        if !topic_arn.ends_with(".fifo") {
            return Err(MsgError::Invalid(
                "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type".into(),
            ));
        }
        let valid = |id: &str| {
            !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_graphic())
        };
        if !valid(group_id) || !valid(dedup_id) {
            return Err(MsgError::Invalid(
                "Invalid parameter: MessageGroupId and MessageDeduplicationId take 1-128 printable ASCII characters".into(),
            ));
        }
        self.deduplication
            .retain(|_, (at, _)| now - *at < DEDUPLICATION_MS);
        let key = (topic_arn.to_string(), dedup_id.to_string());
        if let Some((_, id)) = self.deduplication.get(&key) {
            return Ok(id.clone());
        }
        let id = self.publish(topic_arn, subject, message, now, real)?;
        self.deduplication.insert(key, (now, id.clone()));
        Ok(id)
    }

    /// Publishes and delivers; `now` is simulated time, `real` the real clock (for SQS).
    pub fn publish(
        &mut self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
        now: i64,
        real: i64,
    ) -> Result<String, MsgError> {
        if !self.topics.contains_key(topic_arn) {
            return Err(MsgError::NotFound(format!(
                "Topic does not exist: {topic_arn}"
            )));
        }
        if message.is_empty() || message.len() > 262_144 {
            return Err(MsgError::Invalid(
                "Invalid parameter: Message must be 1 byte to 256 KiB".into(),
            ));
        }
        if let Some(s) = subject
            && (s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control))
        {
            return Err(MsgError::Invalid(
                "Invalid parameter: Subject must be 1–100 printable characters".into(),
            ));
        }
        let id = self.ids.uuid();
        let time = to_time(now);
        let mut deliveries = Vec::new();
        let subs: Vec<Subscription> = self
            .subscriptions
            .iter()
            .filter(|s| s.topic_arn == topic_arn)
            .cloned()
            .collect();
        for s in subs {
            if s.protocol == "sqs" {
                let Some(q) = self.queues.values_mut().find(|q| q.arn == s.endpoint) else {
                    self.undeliverable += 1;
                    continue;
                };
                if !q.allowed_topics.contains(topic_arn) {
                    // AWS drops the delivery silently when the queue policy refuses the topic.
                    self.undeliverable += 1;
                    continue;
                }
                let envelope =
                    envelope(&id, topic_arn, subject, message, time, &s.arn, &self.region);
                let qid = self.ids.uuid();
                q.messages.push_back(QueuedMessage {
                    id: qid,
                    body: envelope,
                    visible_at_real: real,
                    receipt: None,
                });
            }
            deliveries.push((s.protocol.clone(), s.endpoint.clone()));
        }
        self.published.push_back(Publication {
            message_id: id.clone(),
            topic_arn: topic_arn.to_string(),
            subject: subject.map(str::to_string),
            message: message.to_string(),
            time,
            deliveries,
        });
        if self.published.len() > KEPT_PUBLICATIONS {
            self.published.pop_front();
        }
        Ok(id)
    }

    // ------------------------------------------------------------ SQS

    pub fn queue_url(&self, name: &str) -> String {
        format!(
            "https://sqs.{}.amazonaws.com/{}/{name}",
            self.region, self.account
        )
    }

    pub fn create_queue(&mut self, name: &str) -> Result<String, MsgError> {
        if name.is_empty()
            || name.len() > 80
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(MsgError::Invalid(format!(
                "Invalid queue name {name:?} (1–80 letters, digits, '-' or '_')"
            )));
        }
        let url = self.queue_url(name);
        let arn = format!("arn:aws:sqs:{}:{}:{name}", self.region, self.account);
        self.queues.entry(url.clone()).or_insert_with(|| Queue {
            name: name.to_string(),
            url: url.clone(),
            arn,
            allowed_topics: BTreeSet::new(),
            messages: VecDeque::new(),
        });
        Ok(url)
    }

    /// SendMessage, as an EventBridge rule's SQS target does it: the body as it is.
    pub fn send(&mut self, url: &str, body: String, real: i64) -> Result<String, MsgError> {
        let id = self.ids.uuid();
        let q = self.queue_mut(url)?;
        q.messages.push_back(QueuedMessage {
            id: id.clone(),
            body,
            visible_at_real: real,
            receipt: None,
        });
        Ok(id)
    }

    pub fn queue(&self, url: &str) -> Result<&Queue, MsgError> {
        self.queues
            .get(url)
            .ok_or_else(|| MsgError::NotFound(format!("The specified queue does not exist: {url}")))
    }

    pub fn queue_mut(&mut self, url: &str) -> Result<&mut Queue, MsgError> {
        self.queues
            .get_mut(url)
            .ok_or_else(|| MsgError::NotFound(format!("The specified queue does not exist: {url}")))
    }

    /// Receives up to `max` visible messages, hiding them for the visibility timeout.
    pub fn receive(
        &mut self,
        url: &str,
        max: usize,
        real: i64,
    ) -> Result<Vec<QueueMessage>, MsgError> {
        let q = self.queue_mut(url)?;
        let mut out = Vec::new();
        let mut counter = 0u64;
        for m in q.messages.iter_mut() {
            if out.len() >= max {
                break;
            }
            if m.visible_at_real > real {
                continue;
            }
            counter += 1;
            let receipt = format!("{}#{real}#{counter}", m.id);
            m.receipt = Some(receipt.clone());
            m.visible_at_real = real + VISIBILITY_MS;
            out.push(QueueMessage {
                message_id: m.id.clone(),
                receipt_handle: receipt,
                body: m.body.clone(),
            });
        }
        Ok(out)
    }

    pub fn has_visible(&self, url: &str, real: i64) -> bool {
        self.queues
            .get(url)
            .is_some_and(|q| q.messages.iter().any(|m| m.visible_at_real <= real))
    }

    pub fn delete(&mut self, url: &str, receipt: &str) -> Result<(), MsgError> {
        let q = self.queue_mut(url)?;
        let before = q.messages.len();
        q.messages.retain(|m| m.receipt.as_deref() != Some(receipt));
        if q.messages.len() == before {
            return Err(MsgError::Invalid(format!(
                "ReceiptHandleIsInvalid: the receipt handle {receipt:?} is not valid for this queue"
            )));
        }
        Ok(())
    }
}

/// SNS's JSON envelope for a delivery to SQS.
fn envelope(
    id: &str,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
    time: crate::cloud::Time,
    sub_arn: &str,
    region: &str,
) -> String {
    let mut v = serde_json::json!({
        "Type": "Notification",
        "MessageId": id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "SignatureVersion": "1",
        "Signature": "c2ltdWxhdGVk",
        "SigningCertURL": format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-sim.pem"),
        "UnsubscribeURL": format!("https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub_arn}"),
    });
    if let Some(s) = subject {
        v["Subject"] = serde_json::Value::String(s.to_string());
    }
    v.to_string()
}
