//! SNS: topics, subscriptions and publishing (alerts, acknowledgements).

use super::convert::clean;
use super::errors::map_sdk_error;
use crate::cloud::{CloudError, CloudResult, ErrorKind, Subscription};
use aws_sdk_sns::Client;

const SERVICE: &str = "sns";

pub async fn create_topic(
    c: &Client,
    name: &str,
    display_name: Option<&str>,
) -> CloudResult<String> {
    let mut req = c.create_topic().name(name);
    // SNS makes a FIFO topic only when asked to, and refuses a `.fifo` name otherwise.
    if name.ends_with(".fifo") {
        req = req.attributes("FifoTopic", "true");
    }
    if let Some(d) = display_name {
        req = req.attributes("DisplayName", d);
    }
    let out = req
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "CreateTopic", Some(name), e))?;
    out.topic_arn().map(crate::sanitize::clean).ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            SERVICE,
            "CreateTopic",
            "no topic ARN in the answer",
        )
        .with_resource(name)
    })
}

pub async fn list_topics(c: &Client) -> CloudResult<Vec<String>> {
    let mut topics = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .list_topics()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListTopics", None, e))?;
        topics.extend(
            out.topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .map(crate::sanitize::clean),
        );
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(topics),
        }
    }
}

pub async fn subscribe(
    c: &Client,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
) -> CloudResult<String> {
    let out = c
        .subscribe()
        .topic_arn(topic_arn)
        .protocol(protocol)
        .endpoint(endpoint)
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "Subscribe", Some(topic_arn), e))?;
    Ok(clean(out.subscription_arn()))
}

pub async fn list_subscriptions(c: &Client, topic_arn: &str) -> CloudResult<Vec<Subscription>> {
    let mut subs = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListSubscriptionsByTopic", Some(topic_arn), e))?;
        subs.extend(out.subscriptions().iter().map(|s| Subscription {
            arn: clean(s.subscription_arn()),
            topic_arn: clean(s.topic_arn()),
            protocol: clean(s.protocol()),
            endpoint: clean(s.endpoint()),
        }));
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(subs),
        }
    }
}

/// Publish; to a FIFO topic with its `(group, deduplication)` ids, which a standard topic
/// refuses.
pub async fn publish(
    c: &Client,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
    fifo_ids: Option<(&str, &str)>,
) -> CloudResult<String> {
    let (group_id, dedup_id) = fifo_ids.unzip();
    let out = c
        .publish()
        .topic_arn(topic_arn)
        .set_subject(subject.map(str::to_string))
        .message(message)
        .set_message_group_id(group_id.map(str::to_string))
        .set_message_deduplication_id(dedup_id.map(str::to_string))
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "Publish", Some(topic_arn), e))?;
    Ok(clean(out.message_id()))
}
