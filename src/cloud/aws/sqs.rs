//! SQS: the queue an SNS topic or EventBridge rule delivers to, so watchband can receive
//! notifications without a public endpoint.

use super::convert::clean;
use super::errors::map_sdk_error;
use crate::cloud::{CloudError, CloudResult, ErrorKind, QueueMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;

const SERVICE: &str = "sqs";

pub async fn create_queue(c: &Client, name: &str) -> CloudResult<String> {
    let out = c
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "CreateQueue", Some(name), e))?;
    out.queue_url().map(crate::sanitize::clean).ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            SERVICE,
            "CreateQueue",
            "no queue URL in the answer",
        )
        .with_resource(name)
    })
}

pub async fn queue_arn(c: &Client, queue_url: &str) -> CloudResult<String> {
    let out = c
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "GetQueueAttributes", Some(queue_url), e))?;
    out.attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .map(|s| crate::sanitize::clean(s))
        .ok_or_else(|| {
            CloudError::new(
                ErrorKind::Other,
                SERVICE,
                "GetQueueAttributes",
                "no QueueArn in the answer",
            )
            .with_resource(queue_url)
        })
}

/// The queue policy AWS requires before SNS may deliver to a queue.
pub fn topic_to_queue_policy(queue_arn: &str, topic_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "watchband-sns-delivery",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}
        }]
    })
    .to_string()
}

pub async fn allow_topic_to_queue(c: &Client, queue_url: &str, topic_arn: &str) -> CloudResult<()> {
    let arn = queue_arn(c, queue_url).await?;
    c.set_queue_attributes()
        .queue_url(queue_url)
        .attributes(
            QueueAttributeName::Policy,
            topic_to_queue_policy(&arn, topic_arn),
        )
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "SetQueueAttributes", Some(queue_url), e))?;
    Ok(())
}

pub async fn receive_messages(
    c: &Client,
    queue_url: &str,
    max: i32,
    wait_seconds: i32,
) -> CloudResult<Vec<QueueMessage>> {
    let out = c
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(max.clamp(1, 10))
        .wait_time_seconds(wait_seconds.clamp(0, 20))
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "ReceiveMessage", Some(queue_url), e))?;
    Ok(out
        .messages()
        .iter()
        .map(|m| QueueMessage {
            message_id: clean(m.message_id()),
            // The receipt handle goes back to AWS verbatim; it is never rendered.
            receipt_handle: m.receipt_handle().unwrap_or_default().to_string(),
            // Bodies are JSON (SNS envelopes, events) parsed above; newlines are meaningful.
            body: crate::sanitize::clean_multiline(m.body().unwrap_or_default()),
        })
        .collect())
}

pub async fn delete_message(c: &Client, queue_url: &str, receipt_handle: &str) -> CloudResult<()> {
    c.delete_message()
        .queue_url(queue_url)
        .receipt_handle(receipt_handle)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "DeleteMessage", Some(queue_url), e))?;
    Ok(())
}

pub async fn send_message(c: &Client, queue_url: &str, body: &str) -> CloudResult<String> {
    let out = c
        .send_message()
        .queue_url(queue_url)
        .message_body(body)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "SendMessage", Some(queue_url), e))?;
    Ok(clean(out.message_id()))
}
