//! The temperature stream processor: the temperature pipeline's function, done right.
//!
//! Input: a batch of Kinesis records carrying the temperature pipeline's payload. Each record is decoded (a bad
//! record is counted and reported with its raw bytes, never fatal) and judged by the same
//! per-device judge the TUI uses (the temperature pipeline's rule as intended plus a statistical detector).
//! Every anomaly becomes an `m03p02_anomaly_data` item and the temperature pipeline's alert on
//! `m03p02_anomaly_alerts`. When writing or publishing fails, processing stops at that record
//! and its sequence number is reported, so Lambda (ReportBatchItemFailures) retries from there
//! and nothing is lost or alerted twice.

use crate::cloud::{Cloud, CloudError, StreamRecord};
use crate::interop::{
    DecodeError, TEMPERATURE_TABLE, temperature_alert_message, temperature_alert_subject,
    temperature_anomaly_row,
};
use crate::pipeline::events::{RejectedRecord, TemperatureAnomaly};
use crate::pipeline::temperature::{Classified, DeviceJudge, rejected};
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

    /// Decodes and classifies one record (the rule and the device's detector), storing and
    /// announcing nothing: the CPU-bound part of [`Self::handle_batch`], which allocates
    /// nothing for a normal reading.
    pub fn classify<'r>(
        &mut self,
        record: &'r StreamRecord,
    ) -> Result<Classified<'r>, DecodeError> {
        self.judge.classify(record)
    }

    /// Handles records in order; stops at the first record whose anomaly could not be stored
    /// or announced. (`_stream` is the caller's name for the source; records do not need it.)
    pub async fn handle_batch(
        &mut self,
        cloud: &dyn Cloud,
        _stream: &str,
        shard_id: &str,
        records: &[StreamRecord],
    ) -> BatchReport {
        let mut report = BatchReport {
            records: records.len(),
            ..BatchReport::default()
        };
        for record in records {
            let anomaly = match self.classify(record) {
                Err(e) => {
                    report.rejected.push(rejected(shard_id, record, &e));
                    continue;
                }
                Ok(c) => c.anomaly(),
            };
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

/// Running totals of a stream processor (what `process stream` reports when it stops).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StreamTotals {
    pub records: u64,
    pub readings: u64,
    pub anomalies: u64,
    pub rejected: u64,
    /// Batches that stopped at a record whose anomaly could not be stored or announced (the
    /// record and those after it were read again).
    pub interrupted: u64,
}

/// The stream processor as the shared consumer's sink: a batch is checkpointed only up to
/// the last record the processor finished.
pub struct ProcessorSink {
    cloud: std::sync::Arc<dyn Cloud>,
    processor: tokio::sync::Mutex<StreamProcessor>,
    totals: std::sync::Mutex<StreamTotals>,
    /// The newest failure to store or announce an anomaly (the records are read again).
    last_error: std::sync::Mutex<Option<String>>,
}

impl ProcessorSink {
    pub fn new(cloud: std::sync::Arc<dyn Cloud>, config: StreamProcessorConfig) -> Self {
        ProcessorSink {
            cloud,
            processor: tokio::sync::Mutex::new(StreamProcessor::new(config)),
            totals: Default::default(),
            last_error: Default::default(),
        }
    }

    /// The newest failure, taken: each is reported once.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    pub fn totals(&self) -> StreamTotals {
        self.totals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait::async_trait]
impl crate::pipeline::streams::StreamSink for ProcessorSink {
    async fn handle(
        &self,
        stream: &str,
        shard: &str,
        records: &[StreamRecord],
    ) -> crate::pipeline::streams::SinkOutcome {
        let report = self
            .processor
            .lock()
            .await
            .handle_batch(self.cloud.as_ref(), stream, shard, records)
            .await;
        let handled = match report.failed.first() {
            Some(seq) => records
                .iter()
                .position(|r| &r.sequence_number == seq)
                .unwrap_or(records.len()),
            None => records.len(),
        };
        if let Some(e) = &report.error {
            // Not printed here: under the TUI (the demo's deployed function) stderr is the
            // screen. `run_stream` prints it.
            *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(format!("{stream}/{shard}: {e}"));
        }
        let mut t = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        t.records += handled as u64;
        t.readings += report.readings as u64 - report.failed.len().min(1) as u64;
        t.anomalies += report.anomaly_count as u64;
        t.rejected += report.rejected_count as u64;
        t.interrupted += u64::from(handled < records.len());
        crate::pipeline::streams::SinkOutcome {
            handled,
            rejected: report.rejected,
        }
    }
}

/// `watchband process stream`: the processor over a Kinesis stream until Ctrl-C, with
/// checkpoints in the embedded store so a restart loses and repeats nothing.
pub async fn run_stream(
    cloud: std::sync::Arc<dyn Cloud>,
    config: &crate::config::Config,
    stream: &str,
) -> anyhow::Result<std::process::ExitCode> {
    use crate::pipeline::{Event, PipelineConfig, StreamStart};
    let topic = super::topic_arn(cloud.as_ref(), &config.topics.temperature).await?;
    let store = match crate::store::Store::default_path() {
        Some(path) => Some(std::sync::Arc::new(
            crate::store::Store::open(&path)
                .map_err(|e| anyhow::anyhow!("cannot open the store {}: {e}", path.display()))?,
        )),
        None => None,
    };
    let sink = std::sync::Arc::new(ProcessorSink::new(
        cloud.clone(),
        StreamProcessorConfig {
            table: config.tables.temperature.clone(),
            band_width: config.band_width.max(3.0),
            ..StreamProcessorConfig::new(&topic)
        },
    ));
    let pipeline = PipelineConfig {
        streams: vec![stream.to_string()],
        // A processor owes every retained record an answer, not only what arrives from now.
        stream_start: StreamStart::TrimHorizon,
        ..PipelineConfig::default()
    };
    let mut events = crate::pipeline::spawn_stream_consumer(cloud, store, pipeline, sink.clone());
    eprintln!("watchband: processing {stream} (Ctrl-C stops)");
    // An outage repeats the same failure on every poll: once on stderr, then a count.
    let mut repeats = crate::logging::Repeats::default();
    loop {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => break,
            event = events.recv() => match event {
                Some(Event::Health(h)) => {
                    if let Some(line) = h.last_error.as_deref().and_then(|e| repeats.line(e)) {
                        eprintln!("\nwatchband: {line}");
                    }
                }
                Some(_) => {
                    if let Some(line) = sink.last_error().and_then(|e| repeats.line(&e.to_string())) {
                        eprintln!("\nwatchband: {line}");
                    }
                    let t = sink.totals();
                    eprint!(
                        "\r{stream}: {} records, {} anomalies, {} rejected",
                        t.records, t.anomalies, t.rejected
                    );
                }
                None => break,
            },
        }
    }
    let t = sink.totals();
    eprintln!();
    if let Some(count) = repeats.finish() {
        eprintln!("watchband: {count}");
    }
    println!("{}", serde_json::to_string(&t)?);
    Ok(std::process::ExitCode::SUCCESS)
}
