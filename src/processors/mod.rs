//! The patterns' processors on the shared core, runnable as AWS Lambda handlers, as local
//! processes (`watchband process ...`) and inside the demo account, from one code path each:
//! the backup-event processor (the changed-block pipeline), the temperature stream processor (the Kinesis temperature pipeline) and the
//! Random Cut Forest metric scorer (the RCF metric scorer). [`deployed`] runs all three as the functions of
//! an account (the demo account's).

pub mod changed_blocks;
pub mod deployed;
pub mod detector_state;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod lambda_events;
pub mod metric_scorer;
pub mod stream;

use crate::cloud::Cloud;

/// A topic given by name is created (idempotent) to learn its ARN; an ARN is used as it is.
pub async fn topic_arn(cloud: &dyn Cloud, name_or_arn: &str) -> anyhow::Result<String> {
    if name_or_arn.starts_with("arn:") {
        return Ok(name_or_arn.to_string());
    }
    Ok(cloud.create_topic(name_or_arn, None).await?)
}
