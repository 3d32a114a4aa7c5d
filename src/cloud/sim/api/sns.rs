//! SNS answered from the world's topics and subscriptions ([`crate::cloud::sim::messaging`]).

use super::errors::*;
use crate::cloud::sim::SimCloud;
use crate::cloud::{CloudResult, Subscription};

pub(crate) async fn create_topic(
    sim: &SimCloud,
    name: &str,
    display_name: Option<&str>,
) -> CloudResult<String> {
    const OP: &str = "CreateTopic";
    sim.gate("sns", OP, Some(name)).await?;
    sim.with(|w, _, _| {
        w.msg
            .create_topic(name, display_name)
            .map_err(|e| msg_err(e, OP, name))
    })
}

pub(crate) async fn list_topics(sim: &SimCloud) -> CloudResult<Vec<String>> {
    sim.gate("sns", "ListTopics", None).await?;
    sim.with(|w, _, _| Ok(w.msg.topics.keys().cloned().collect()))
}

pub(crate) async fn subscribe(
    sim: &SimCloud,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
) -> CloudResult<String> {
    const OP: &str = "Subscribe";
    sim.gate("sns", OP, Some(topic_arn)).await?;
    sim.with(|w, _, _| {
        w.msg
            .subscribe(topic_arn, protocol, endpoint)
            .map_err(|e| msg_err(e, OP, topic_arn))
    })
}

pub(crate) async fn list_subscriptions(
    sim: &SimCloud,
    topic_arn: &str,
) -> CloudResult<Vec<Subscription>> {
    const OP: &str = "ListSubscriptionsByTopic";
    sim.gate("sns", OP, Some(topic_arn)).await?;
    sim.with(|w, _, _| {
        if !w.msg.topics.contains_key(topic_arn) {
            return Err(not_found("sns", OP, topic_arn, "Topic does not exist"));
        }
        Ok(w.msg
            .subscriptions
            .iter()
            .filter(|s| s.topic_arn == topic_arn)
            .cloned()
            .collect())
    })
}

/// Publish; to a FIFO topic with its `(group, deduplication)` ids.
pub(crate) async fn publish(
    sim: &SimCloud,
    topic_arn: &str,
    subject: Option<&str>,
    message: &str,
    fifo_ids: Option<(&str, &str)>,
) -> CloudResult<String> {
    const OP: &str = "Publish";
    sim.gate("sns", OP, Some(topic_arn)).await?;
    sim.with(|w, now, real| {
        match fifo_ids {
            Some(ids) => w
                .msg
                .publish_fifo(topic_arn, subject, message, ids, now, real),
            None => w.msg.publish(topic_arn, subject, message, now, real),
        }
        .map_err(|e| msg_err(e, OP, topic_arn))
    })
}
