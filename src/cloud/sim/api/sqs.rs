//! SQS answered from the world's queues ([`crate::cloud::sim::messaging`]), with long polling on
//! real time.

use super::errors::*;
use crate::cloud::sim::SimCloud;
use crate::cloud::{CloudResult, QueueMessage};
use std::time::Duration;

pub(crate) async fn create_queue(sim: &SimCloud, name: &str) -> CloudResult<String> {
    const OP: &str = "CreateQueue";
    sim.gate("sqs", OP, Some(name)).await?;
    sim.with(|w, _, _| w.msg.create_queue(name).map_err(|e| sqs_err(e, OP, name)))
}

pub(crate) async fn queue_arn(sim: &SimCloud, queue_url: &str) -> CloudResult<String> {
    const OP: &str = "GetQueueAttributes";
    sim.gate("sqs", OP, Some(queue_url)).await?;
    sim.with(|w, _, _| {
        w.msg
            .queue(queue_url)
            .map(|q| q.arn.clone())
            .map_err(|e| sqs_err(e, OP, queue_url))
    })
}

pub(crate) async fn allow_topic_to_queue(
    sim: &SimCloud,
    queue_url: &str,
    topic_arn: &str,
) -> CloudResult<()> {
    const OP: &str = "SetQueueAttributes";
    sim.gate("sqs", OP, Some(queue_url)).await?;
    sim.with(|w, _, _| {
        w.msg
            .queue_mut(queue_url)
            .map(|q| {
                q.allowed_topics.insert(topic_arn.to_string());
            })
            .map_err(|e| sqs_err(e, OP, queue_url))
    })
}

pub(crate) async fn receive_messages(
    sim: &SimCloud,
    queue_url: &str,
    max: i32,
    wait_seconds: i32,
) -> CloudResult<Vec<QueueMessage>> {
    const OP: &str = "ReceiveMessage";
    sim.gate("sqs", OP, Some(queue_url)).await?;
    if !(1..=10).contains(&max) || !(0..=20).contains(&wait_seconds) {
        return Err(invalid(
            "sqs",
            OP,
            queue_url,
            "MaxNumberOfMessages must be 1–10 and WaitTimeSeconds 0–20",
        ));
    }
    // Long polling: wait (real time) until a message is visible or the wait is over.
    let deadline = sim.clock.real_ms() + i64::from(wait_seconds) * 1000;
    loop {
        let got = sim.with(|w, _, real| {
            w.msg
                .receive(queue_url, max as usize, real)
                .map_err(|e| sqs_err(e, OP, queue_url))
        })?;
        if !got.is_empty() || sim.clock.real_ms() >= deadline {
            return Ok(got);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn delete_message(
    sim: &SimCloud,
    queue_url: &str,
    receipt_handle: &str,
) -> CloudResult<()> {
    const OP: &str = "DeleteMessage";
    sim.gate("sqs", OP, Some(queue_url)).await?;
    sim.with(|w, _, _| {
        w.msg
            .delete(queue_url, receipt_handle)
            .map_err(|e| sqs_err(e, OP, queue_url))
    })
}

pub(crate) async fn send_message(
    sim: &SimCloud,
    queue_url: &str,
    body: &str,
) -> CloudResult<String> {
    const OP: &str = "SendMessage";
    sim.gate("sqs", OP, Some(queue_url)).await?;
    sim.with(|w, _, real| {
        w.msg
            .send(queue_url, body.to_string(), real)
            .map_err(|e| sqs_err(e, OP, queue_url))
    })
}
