//! The Lambda handlers: thin loops around the processors, which are the same code the local
//! `watchband process ...` commands and the tests run. Built only with `--features lambda`.
//!
//! Configuration comes from the environment the CloudFormation template sets:
//! `WATCHBAND_PROCESSOR` (backup | stream | metric), `BACKUP_TABLE`, `BACKUP_TOPIC_ARN`,
//! `BAND_WIDTH`, `ACK_TABLE` (default `watchband-acknowledgements`), `ANOMALY_TABLE`, `ALERT_TOPIC_ARN`, `METRIC_NAMESPACE`, `METRIC_NAME`,
//! `METRIC_DIMENSIONS` (comma-separated K=V), `STATE_TABLE`.

use super::changed_blocks::{BackupProcessor, BackupProcessorConfig};
use super::lambda_events::{batch_item_failures, kinesis_records};
use super::metric_scorer::MetricScorerConfig;
use super::stream::{StreamProcessor, StreamProcessorConfig};
use crate::cloud::aws::{AwsCloud, AwsOptions};
use crate::cloud::{Cloud, MetricId};
use crate::pipeline::changes::ChangeCounter;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Mutex;

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}

pub async fn run() -> Result<(), Error> {
    let which = env("WATCHBAND_PROCESSOR")?;
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud::connect(&AwsOptions::default()).await?);
    match which.as_str() {
        "backup" => {
            let config = BackupProcessorConfig {
                table: env("BACKUP_TABLE")?,
                band_width: env("BAND_WIDTH")
                    .ok()
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(2.0),
                ack_table: env("ACK_TABLE").unwrap_or_else(|_| crate::interop::ACK_TABLE.into()),
                // Comma-separated account ids, for cross-account backup.
                allow_accounts: env("ALLOW_ACCOUNTS")
                    .map(|a| {
                        a.split(',')
                            .map(|a| a.trim().to_string())
                            .filter(|a| !a.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                ..BackupProcessorConfig::new(&env("BACKUP_TOPIC_ARN")?)
            };
            let counter = ChangeCounter::new(cloud.clone(), None);
            lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
                let (cloud, config, counter) = (cloud.clone(), config.clone(), counter.clone());
                async move {
                    let processor = BackupProcessor::new(cloud.as_ref(), counter, config);
                    // An error makes Lambda retry the asynchronous invocation; the processor's
                    // conditional writes make the retry safe.
                    let outcome = processor.handle_json(&event.payload.to_string()).await?;
                    Ok::<Value, Error>(serde_json::to_value(outcome)?)
                }
            }))
            .await
        }
        "stream" => {
            let config = StreamProcessorConfig {
                table: env("ANOMALY_TABLE")?,
                ..StreamProcessorConfig::new(&env("ALERT_TOPIC_ARN")?)
            };
            // A warm container keeps its per-device detectors between batches.
            let processor = Arc::new(Mutex::new(StreamProcessor::new(config)));
            lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
                let (cloud, processor) = (cloud.clone(), processor.clone());
                async move {
                    let mut records = Vec::new();
                    let mut unreadable = 0usize;
                    for r in kinesis_records(&event.payload)? {
                        match r {
                            Ok(record) => records.push(record),
                            // Retrying cannot mend an envelope Lambda built; count and go on.
                            Err((seq, why)) => {
                                unreadable += 1;
                                eprintln!("unreadable record {}: {why}", seq.unwrap_or_default());
                            }
                        }
                    }
                    let report = processor
                        .lock()
                        .await
                        .handle_batch(
                            cloud.as_ref(),
                            "kinesis",
                            "lambda",
                            &records,
                            &std::sync::atomic::AtomicBool::new(false),
                        )
                        .await;
                    // Poison records are not retried: their sequence numbers go to the log.
                    for r in &report.rejected {
                        eprintln!("rejected record {}: {}", r.sequence_number, r.error);
                    }
                    eprintln!(
                        "{}: {}, {} rejected, {} unreadable, {} failed",
                        crate::words::count(report.records, "record", "records"),
                        crate::words::count(report.anomaly_count, "anomaly", "anomalies"),
                        report.rejected_count,
                        unreadable,
                        report.failed.len()
                    );
                    if let Some(e) = &report.error {
                        eprintln!("first failure: {e}");
                    }
                    Ok::<Value, Error>(batch_item_failures(&report.failed))
                }
            }))
            .await
        }
        "metric" => {
            let dims = env("METRIC_DIMENSIONS").unwrap_or_default();
            let dims: Vec<(String, String)> = dims
                .split(',')
                .filter(|d| !d.trim().is_empty())
                .filter_map(|d| {
                    d.split_once('=')
                        .map(|(k, v)| (k.trim().into(), v.trim().into()))
                })
                .collect();
            let dims_ref: Vec<(&str, &str)> =
                dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let config = MetricScorerConfig {
                state_table: env("STATE_TABLE")?,
                ..MetricScorerConfig::new(MetricId::new(
                    &env("METRIC_NAMESPACE")?,
                    &env("METRIC_NAME")?,
                    &dims_ref,
                ))
            };
            lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| {
                let (cloud, config) = (cloud.clone(), config.clone());
                async move {
                    let report = super::metric_scorer::run(cloud.as_ref(), &config).await?;
                    Ok::<Value, Error>(serde_json::to_value(report)?)
                }
            }))
            .await
        }
        other => Err(format!(
            "WATCHBAND_PROCESSOR must be backup, stream or metric, not {other:?}"
        )
        .into()),
    }
}
