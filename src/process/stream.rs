//! The temperature stream processor: seed 003's function, done right.
//!
//! Input: a batch of Kinesis records carrying seed 003's payload. Each record is decoded (a bad
//! record is counted and reported with its raw bytes, never fatal) and judged by the same
//! per-device judge the TUI uses (seed 003's rule as intended plus a statistical detector).
//! Every anomaly becomes an `m03p02_anomaly_data` item and seed 003's alert on
//! `m03p02_anomaly_alerts`. When writing or publishing fails, processing stops at that record
//! and its sequence number is reported, so Lambda (ReportBatchItemFailures) retries from there
//! and nothing is lost or alerted twice.

use crate::cloud::{Cloud, CloudError, StreamRecord};
use crate::originals::{
    TEMPERATURE_TABLE, temperature_alert_message, temperature_alert_subject,
    temperature_anomaly_row,
};
use crate::pipeline::events::{RejectedRecord, TemperatureAnomaly};
use crate::pipeline::temperature::{DeviceJudge, Judged};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct StreamProcessorConfig {
    pub table: String,
    pub topic_arn: String,
    pub band_width: f64,
}

impl StreamProcessorConfig {
    pub fn new(topic_arn: &str) -> Self {
        StreamProcessorConfig {
            table: TEMPERATURE_TABLE.into(),
            topic_arn: topic_arn.into(),
            band_width: 3.0,
        }
    }
}

/// What one batch did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchReport {
    pub records: usize,
    pub readings: usize,
    #[serde(skip)]
    pub anomalies: Vec<TemperatureAnomaly>,
    pub anomaly_count: usize,
    #[serde(skip)]
    pub rejected: Vec<RejectedRecord>,
    pub rejected_count: usize,
    /// Sequence numbers to hand back as batch item failures (at most the first failing one).
    pub failed: Vec<String>,
    /// Why the first failing record failed.
    #[serde(skip)]
    pub error: Option<CloudError>,
}

pub struct StreamProcessor {
    judge: DeviceJudge,
    config: StreamProcessorConfig,
}

impl StreamProcessor {
    pub fn new(config: StreamProcessorConfig) -> Self {
        StreamProcessor {
            judge: DeviceJudge::new(config.band_width),
            config,
        }
    }

    /// Handles records in order; stops at the first record whose anomaly could not be stored
    /// or announced.
    pub async fn handle_batch(
        &mut self,
        cloud: &dyn Cloud,
        stream: &str,
        shard_id: &str,
        records: &[StreamRecord],
    ) -> BatchReport {
        let mut report = BatchReport {
            records: records.len(),
            ..BatchReport::default()
        };
        for record in records {
            match self.judge.judge(stream, shard_id, record) {
                Judged::Rejected(r) => report.rejected.push(r),
                Judged::Reading { anomaly, .. } => {
                    report.readings += 1;
                    if let Some(a) = anomaly {
                        if let Err(e) = self.store_and_alert(cloud, &a).await {
                            report.failed.push(record.sequence_number.clone());
                            report.error = Some(e);
                            break;
                        }
                        report.anomalies.push(a);
                    }
                }
            }
        }
        report.anomaly_count = report.anomalies.len();
        report.rejected_count = report.rejected.len();
        report
    }

    async fn store_and_alert(
        &self,
        cloud: &dyn Cloud,
        a: &TemperatureAnomaly,
    ) -> Result<(), CloudError> {
        // The item goes first: its key (device, timestamp) makes a retried write harmless,
        // whereas an alert sent twice reaches a person twice.
        let item = temperature_anomaly_row(
            &a.deviceid,
            &a.timestamp,
            &a.anomaly_date,
            a.value,
            &a.anomaly_type,
        );
        cloud.put_item(&self.config.table, item, None).await?;
        cloud
            .publish(
                &self.config.topic_arn,
                Some(&temperature_alert_subject(&a.anomaly_type)),
                &temperature_alert_message(a.value, &a.anomaly_type),
            )
            .await?;
        Ok(())
    }
}
