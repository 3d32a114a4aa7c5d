//! The temperature stream processor: the temperature pipeline's function, done right.
//!
//! Input: a batch of Kinesis records carrying the temperature pipeline's payload. Each record is decoded (a bad
//! record is counted and reported with its raw bytes, never fatal) and judged by the same
//! per-device judge the TUI uses (the temperature pipeline's rule as intended plus a statistical detector).
//! Every anomaly becomes an `m03p02_anomaly_data` item and the temperature pipeline's alert on
//! `m03p02_anomaly_alerts`.
//!
//! - **A record that can never be stored** (an empty or over-long key, a number outside
//!   DynamoDB's range, any other request DynamoDB refuses as invalid) is rejected like a
//!   malformed one, with its shard and sequence number, and the shard goes on. With a
//!   dead-letter queue, every rejected record is sent there first (stream, shard, sequence
//!   number, reason, its bytes in base64); a failed send stops the batch at that record like
//!   an error that can heal, so no record is checkpointed past before it is dead-lettered.
//! - **Errors that can heal** (throttling, network, 5xx — and anything that is not the
//!   record's fault) stop the batch at that record; its sequence number is reported so the
//!   consumer (or Lambda's ReportBatchItemFailures) retries from there with back-off.
//! - **The row write is the gate of the alert.** The row is put only if it does not exist,
//!   marked `alert = pending`; only the writer that created it publishes, then marks it
//!   `sent`. A replay (after a crash, a retry, a restart from an older checkpoint) finds the
//!   row and publishes nothing — unless it is still `pending`, i.e. its writer died between
//!   the put and the publish: then the replay finishes the announcement (at once for its own
//!   rows, after [`PENDING_GRACE`] for another worker's, which may still be publishing). The
//!   one duplicate left is a crash after Publish returned and before the `sent` mark: that
//!   record is announced again, once (see docs/pipeline.md, "Delivery guarantee").

use crate::cloud::{AttrValue, Cloud, CloudError, Condition, ErrorKind, Item, StreamRecord};
use crate::interop::{
    DecodeError, TEMPERATURE_TABLE, temperature_alert_message, temperature_alert_subject,
    temperature_row_problem,
};
use crate::pipeline::events::{RejectedRecord, TemperatureAnomaly};
use crate::pipeline::temperature::{Classified, DeviceJudge, refused, rejected};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// The row's announcement marker: `pending` from the put until the alert was published,
/// `sent` after. A row without it was written before the gate existed and was announced.
pub const ALERT: &str = "alert";
/// Who wrote the `pending` marker (a worker id, one per process run).
pub const ALERT_BY: &str = "alert_by";
/// When the `pending` marker was written, in milliseconds since the epoch.
pub const ALERT_AT: &str = "alert_at";
const PENDING: &str = "pending";
const SENT: &str = "sent";
/// How long another worker's `pending` row is left to its writer before a replay finishes
/// it: far longer than a Publish takes, so a live writer is never doubled.
pub const PENDING_GRACE: chrono::Duration = chrono::Duration::seconds(10);

#[derive(Debug, Clone, PartialEq)]
pub struct StreamProcessorConfig {
    pub table: String,
    pub topic_arn: String,
    pub band_width: f64,
    /// The SQS queue rejected records are sent to (`--dead-letter-queue`).
    pub dead_letter_queue: Option<String>,
}

impl StreamProcessorConfig {
    pub fn new(topic_arn: &str) -> Self {
        StreamProcessorConfig {
            table: TEMPERATURE_TABLE.into(),
            topic_arn: topic_arn.into(),
            band_width: 3.0,
            dead_letter_queue: None,
        }
    }
}

/// What one batch did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BatchReport {
    pub records: usize,
    /// Records finished, counted from the first (the rest is read again).
    pub handled: usize,
    pub readings: usize,
    #[serde(skip)]
    pub anomalies: Vec<TemperatureAnomaly>,
    pub anomaly_count: usize,
    /// Anomalies whose row was already there and announced (a replay): not alerted again.
    pub repeats: usize,
    #[serde(skip)]
    pub rejected: Vec<RejectedRecord>,
    pub rejected_count: usize,
    /// Of the rejected, those whose row DynamoDB would never store.
    pub refused: usize,
    /// Sequence numbers to hand back as batch item failures (at most the first failing one).
    pub failed: Vec<String>,
    /// Why the first failing record failed.
    #[serde(skip)]
    pub error: Option<CloudError>,
}

/// What the gate did with an anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// This writer created the row (or finished a dead writer's) and published the alert.
    Announced,
    /// The row was there and announced already.
    Repeat,
}

pub struct StreamProcessor {
    judge: DeviceJudge,
    config: StreamProcessorConfig,
    /// This process run's name on the rows it marks `pending`.
    worker: String,
    /// Rows whose alert went out but whose `sent` mark failed: retried without publishing.
    published_unmarked: HashSet<(String, String)>,
}

impl StreamProcessor {
    pub fn new(config: StreamProcessorConfig) -> Self {
        StreamProcessor {
            judge: DeviceJudge::new(config.band_width),
            config,
            worker: worker_id(),
            published_unmarked: HashSet::new(),
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
    /// or announced for a reason that may heal, and before the next record once `stop` is
    /// set. (`stream` is the caller's name for the source, written into dead letters.)
    pub async fn handle_batch(
        &mut self,
        cloud: &dyn Cloud,
        stream: &str,
        shard_id: &str,
        records: &[StreamRecord],
        stop: &AtomicBool,
    ) -> BatchReport {
        let mut report = BatchReport {
            records: records.len(),
            ..BatchReport::default()
        };
        for record in records {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let c = match self.classify(record) {
                Err(e) => {
                    let r = rejected(shard_id, record, &e);
                    if let Err(e) = self.dead_letter(cloud, stream, record, &r).await {
                        report.failed.push(record.sequence_number.clone());
                        report.error = Some(e);
                        break;
                    }
                    report.rejected.push(r);
                    report.handled += 1;
                    continue;
                }
                Ok(c) => c,
            };
            let (Some(row), Some(anomaly)) = (c.row(), c.anomaly()) else {
                report.readings += 1;
                report.handled += 1;
                continue;
            };
            // A poison record: set aside with its reason, and the shard goes on.
            let mut poison = None;
            if let Some(problem) =
                temperature_row_problem(&c.reading.deviceid, &c.reading.timestamp, c.reading.value)
            {
                poison = Some(format!("the row cannot be stored: {problem}"));
            } else {
                match self.store_and_alert(cloud, row, &anomaly).await {
                    Ok(Gate::Announced) => report.anomalies.push(anomaly),
                    Ok(Gate::Repeat) => report.repeats += 1,
                    // DynamoDB refused this row as invalid: no retry will store it.
                    Err(e) if e.kind == ErrorKind::InvalidRequest && e.operation == "PutItem" => {
                        poison = Some(format!("the row was refused: {e}"));
                    }
                    Err(e) => {
                        report.failed.push(record.sequence_number.clone());
                        report.error = Some(e);
                        break;
                    }
                }
            }
            if let Some(why) = poison {
                let r = refused(shard_id, record, &why);
                if let Err(e) = self.dead_letter(cloud, stream, record, &r).await {
                    report.failed.push(record.sequence_number.clone());
                    report.error = Some(e);
                    break;
                }
                report.rejected.push(r);
                report.refused += 1;
                report.handled += 1;
                continue;
            }
            report.readings += 1;
            report.handled += 1;
        }
        report.anomaly_count = report.anomalies.len();
        report.rejected_count = report.rejected.len();
        report
    }

    /// Sends a rejected record to the dead-letter queue, when there is one: the record's
    /// stream, shard, sequence number, partition key, reason and original bytes (base64).
    async fn dead_letter(
        &self,
        cloud: &dyn Cloud,
        stream: &str,
        record: &StreamRecord,
        r: &RejectedRecord,
    ) -> Result<(), CloudError> {
        use base64::Engine;
        let Some(queue) = &self.config.dead_letter_queue else {
            return Ok(());
        };
        let letter = serde_json::json!({
            "stream": stream,
            "shard_id": r.shard_id,
            "sequence_number": r.sequence_number,
            "partition_key": r.partition_key,
            "reason": r.error,
            "data_base64": base64::engine::general_purpose::STANDARD.encode(&record.data),
        });
        cloud
            .send_message(queue, &letter.to_string())
            .await
            .map(|_| ())
    }

    /// The gate: create the row or find it, and publish only for a row this writer created
    /// (or a dead writer's `pending` one).
    async fn store_and_alert(
        &mut self,
        cloud: &dyn Cloud,
        row: Item,
        a: &TemperatureAnomaly,
    ) -> Result<Gate, CloudError> {
        let table = &self.config.table;
        let key_of = |item: &Item| -> (String, String) {
            let s = |k: &str| {
                item.get(k)
                    .and_then(AttrValue::as_s)
                    .unwrap_or("")
                    .to_string()
            };
            (s("deviceid"), s("timestamp"))
        };
        let key = key_of(&row);
        if !self.published_unmarked.contains(&key) {
            let pending = |by: &str| {
                let mut item = row.clone();
                item.insert(ALERT.into(), AttrValue::S(PENDING.into()));
                item.insert(ALERT_BY.into(), AttrValue::S(by.into()));
                item.insert(
                    ALERT_AT.into(),
                    AttrValue::N(cloud.now().timestamp_millis().to_string()),
                );
                item
            };
            let created = cloud
                .put_item(
                    table,
                    pending(&self.worker),
                    Some(Condition::AttributeNotExists("deviceid".into())),
                )
                .await;
            match created {
                Ok(()) => {}
                Err(e) if e.kind == ErrorKind::ConditionFailed => {
                    let mut k = Item::new();
                    k.insert("deviceid".into(), AttrValue::S(key.0.clone()));
                    k.insert("timestamp".into(), AttrValue::S(key.1.clone()));
                    let Some(existing) = cloud.get_item(table, k).await? else {
                        // Deleted between our put and our read: try again from the start.
                        return Err(CloudError::new(
                            ErrorKind::ServiceUnavailable,
                            "dynamodb",
                            "GetItem",
                            "the row vanished between PutItem and GetItem",
                        )
                        .with_resource(table.clone()));
                    };
                    if existing.get(ALERT).and_then(AttrValue::as_s) != Some(PENDING) {
                        return Ok(Gate::Repeat);
                    }
                    let by = existing
                        .get(ALERT_BY)
                        .and_then(AttrValue::as_s)
                        .unwrap_or("")
                        .to_string();
                    let at = existing
                        .get(ALERT_AT)
                        .and_then(AttrValue::as_f64)
                        .map(|n| n as i64)
                        .unwrap_or(0);
                    let age = cloud.now().timestamp_millis() - at;
                    if by != self.worker && age < PENDING_GRACE.num_milliseconds() {
                        // Another worker may be publishing it right now.
                        return Err(CloudError::new(
                            ErrorKind::ServiceUnavailable,
                            "dynamodb",
                            "PutItem",
                            format!(
                                "the row is being announced by {by} ({age} ms ago); taken over after {} s",
                                PENDING_GRACE.num_seconds()
                            ),
                        )
                        .with_resource(table.clone()));
                    }
                    // Take the pending row over; of two replays only one wins.
                    let claim = Condition::And(
                        Box::new(Condition::Equals(
                            ALERT.into(),
                            AttrValue::S(PENDING.into()),
                        )),
                        Box::new(Condition::Equals(ALERT_BY.into(), AttrValue::S(by))),
                    );
                    match cloud
                        .put_item(table, pending(&self.worker), Some(claim))
                        .await
                    {
                        Ok(()) => {}
                        Err(e) if e.kind == ErrorKind::ConditionFailed => return Ok(Gate::Repeat),
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
            let (topic, subject, message) = (
                &self.config.topic_arn,
                temperature_alert_subject(&a.anomaly_type),
                temperature_alert_message(a.value, &a.anomaly_type),
            );
            if topic.ends_with(".fifo") {
                // A FIFO topic drops a replay's publish (same row key) within 5 minutes: the
                // one window the gate leaves open, a crash between Publish and `sent`.
                let (group, dedup) = fifo_ids(&key.0, &key.1);
                cloud
                    .publish_fifo(topic, Some(&subject), &message, &group, &dedup)
                    .await?;
            } else {
                cloud.publish(topic, Some(&subject), &message).await?;
            }
            self.published_unmarked.insert(key.clone());
        }
        let mut sent = row;
        sent.insert(ALERT.into(), AttrValue::S(SENT.into()));
        cloud.put_item(table, sent, None).await?;
        self.published_unmarked.remove(&key);
        Ok(Gate::Announced)
    }
}

/// A FIFO publish's ids for a row: the group is the device (its alerts stay in order), the
/// deduplication id the MD5 of the row key (a name, not a secret), so every replay of a row
/// carries the same id. SNS takes 1-128 printable ASCII characters for either: a device id
/// outside that is hashed too.
pub fn fifo_ids(deviceid: &str, timestamp: &str) -> (String, String) {
    use md5::{Digest, Md5};
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut h = Md5::new();
    h.update(deviceid.as_bytes());
    h.update([0u8]);
    h.update(timestamp.as_bytes());
    let dedup = hex(&h.finalize());
    let group = if !deviceid.is_empty()
        && deviceid.len() <= 128
        && deviceid.chars().all(|c| c.is_ascii_graphic())
    {
        deviceid.to_string()
    } else {
        hex(&Md5::digest(deviceid.as_bytes()))
    };
    (group, dedup)
}

/// A name for this process run: host, process id and start time, so a restarted process is
/// another worker (its predecessor's `pending` rows wait out [`PENDING_GRACE`]).
pub(crate) fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}{}{}-{nanos:x}",
        crate::sanitize::clean(&host),
        if host.is_empty() { "" } else { "-" },
        std::process::id()
    )
}

/// Running totals of a stream processor (what `process stream` reports when it stops).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StreamTotals {
    pub records: u64,
    pub readings: u64,
    /// Anomalies stored and announced by this run.
    pub anomalies: u64,
    /// Anomalies met again (a replay) whose row was already announced: not alerted twice.
    pub repeats: u64,
    /// Records set aside: malformed, or with a row DynamoDB would never store.
    pub rejected: u64,
    /// Of the rejected, those whose row DynamoDB would never store (poison records).
    pub refused: u64,
    /// Batches that stopped at a record whose anomaly could not be stored or announced yet
    /// (the record and those after it were read again, after a back-off).
    pub interrupted: u64,
    /// Records handled per shard: with shard leases, the shards this run held.
    pub shards: std::collections::BTreeMap<String, u64>,
}

/// The stream processor as the shared consumer's sink: a batch is checkpointed only up to
/// the last record the processor finished.
pub struct ProcessorSink {
    cloud: std::sync::Arc<dyn Cloud>,
    processor: tokio::sync::Mutex<StreamProcessor>,
    totals: std::sync::Mutex<StreamTotals>,
    /// The newest failure to store or announce an anomaly (the records are read again).
    last_error: std::sync::Mutex<Option<String>>,
    /// Poison records not yet reported (each is reported once, with shard and sequence).
    refused: std::sync::Mutex<Vec<RejectedRecord>>,
    /// Set by [`Self::stop`]: the batch in hand ends after its current record.
    stopping: AtomicBool,
    /// Held by the consumer from a batch's start to its checkpoint; [`Self::stop`] takes it
    /// for writing, which waits for those in flight and lets no new one start.
    in_flight: std::sync::Arc<tokio::sync::RwLock<()>>,
}

impl ProcessorSink {
    pub fn new(cloud: std::sync::Arc<dyn Cloud>, config: StreamProcessorConfig) -> Self {
        ProcessorSink {
            cloud,
            processor: tokio::sync::Mutex::new(StreamProcessor::new(config)),
            totals: Default::default(),
            last_error: Default::default(),
            refused: Default::default(),
            stopping: AtomicBool::new(false),
            in_flight: Default::default(),
        }
    }

    /// The newest failure, taken: each is reported once.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Poison records since the last call, taken: each is reported once.
    pub fn take_refused(&self) -> Vec<RejectedRecord> {
        std::mem::take(&mut *self.refused.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn totals(&self) -> StreamTotals {
        self.totals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Finishes the record in hand, lets its batch be checkpointed and starts no other:
    /// returns once every batch in flight is checkpointed. The guard keeps the consumer
    /// stopped for as long as it is held.
    pub async fn stop(&self) -> tokio::sync::OwnedRwLockWriteGuard<()> {
        self.stopping.store(true, Ordering::SeqCst);
        self.in_flight.clone().write_owned().await
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
            .handle_batch(self.cloud.as_ref(), stream, shard, records, &self.stopping)
            .await;
        let handled = report.handled.min(records.len());
        if let Some(e) = &report.error {
            // Not printed here: under the TUI (the demo's deployed function) stderr is the
            // screen. `run_stream` prints it.
            *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!(
                "{stream}/{shard}: record {}: {e}; retried with back-off",
                crate::sanitize::clean(report.failed.first().map_or("", String::as_str))
            ));
        }
        if report.refused > 0 {
            self.refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(
                    report
                        .rejected
                        .iter()
                        .filter(|r| r.error.starts_with("the row "))
                        .cloned(),
                );
        }
        let mut t = self.totals.lock().unwrap_or_else(|e| e.into_inner());
        t.records += handled as u64;
        t.readings += report.readings as u64;
        t.anomalies += report.anomaly_count as u64;
        t.repeats += report.repeats as u64;
        t.rejected += report.rejected_count as u64;
        t.refused += report.refused as u64;
        t.interrupted += u64::from(report.error.is_some());
        if handled > 0 {
            *t.shards.entry(crate::sanitize::clean(shard)).or_insert(0) += handled as u64;
        }
        crate::pipeline::streams::SinkOutcome {
            handled,
            rejected: report.rejected,
        }
    }

    fn in_flight(&self) -> Option<std::sync::Arc<tokio::sync::RwLock<()>>> {
        Some(self.in_flight.clone())
    }
}

/// `watchband process stream`: the processor over a Kinesis stream until SIGINT or SIGTERM,
/// with checkpoints in the embedded store so a restart loses nothing and re-announces
/// nothing. On a signal it finishes the record in hand, checkpoints, prints its totals and
/// exits 130 (SIGINT) or 143 (SIGTERM).
pub async fn run_stream(
    cloud: std::sync::Arc<dyn Cloud>,
    config: &crate::config::Config,
    stream: &str,
    leases: Option<(String, std::time::Duration)>,
    dead_letter_queue: Option<&str>,
) -> anyhow::Result<std::process::ExitCode> {
    use crate::pipeline::{Event, PipelineConfig, StreamStart};
    let topic = super::topic_arn(cloud.as_ref(), &config.topics.temperature).await?;
    let leases = match leases {
        Some((table, period)) => {
            crate::pipeline::leases::ensure_table(cloud.as_ref(), &table)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot use the lease table {}: {e}",
                        crate::sanitize::clean(&table)
                    )
                })?;
            let worker = worker_id();
            eprintln!(
                "watchband: shard leases in {} (lease period {} s), worker {worker}",
                crate::sanitize::clean(&table),
                period.as_secs_f64()
            );
            Some(crate::pipeline::leases::LeaseSettings {
                table,
                period,
                worker,
            })
        }
        None => None,
    };
    let store = match crate::store::Store::default_path() {
        Some(path) => Some(std::sync::Arc::new(
            crate::store::Store::open(&path)
                .map_err(|e| anyhow::anyhow!("cannot open the store {}: {e}", path.display()))?
                // Checkpoints are the account's and region's: another's stream of the same
                // name starts from its own.
                .scoped(crate::store::Scope::of(cloud.as_ref()).await?),
        )),
        None => None,
    };
    let sink = std::sync::Arc::new(ProcessorSink::new(
        cloud.clone(),
        StreamProcessorConfig {
            table: config.tables.temperature.clone(),
            band_width: config.band_width.max(3.0),
            dead_letter_queue: dead_letter_queue.map(str::to_string),
            ..StreamProcessorConfig::new(&topic)
        },
    ));
    let release = leases.as_ref().map(|l| (l.table.clone(), l.worker.clone()));
    let pipeline = PipelineConfig {
        streams: vec![stream.to_string()],
        // A processor owes every retained record an answer, not only what arrives from now.
        stream_start: StreamStart::TrimHorizon,
        leases,
        ..PipelineConfig::default()
    };
    let mut events =
        crate::pipeline::spawn_stream_consumer(cloud.clone(), store, pipeline, sink.clone());
    let mut terminate = terminate_signal()?;
    eprintln!("watchband: processing {stream} (Ctrl-C or SIGTERM stops)");
    // An outage repeats the same failure on every poll: once on stderr, then a count.
    let mut repeats = crate::logging::Repeats::default();
    let report = |sink: &ProcessorSink, repeats: &mut crate::logging::Repeats| {
        for r in sink.take_refused() {
            eprintln!(
                "\nwatchband: rejected {}/{} record {}: {}",
                crate::sanitize::clean(stream),
                r.shard_id,
                r.sequence_number,
                r.error
            );
        }
        if let Some(line) = sink.last_error().and_then(|e| repeats.line(&e.to_string())) {
            eprintln!("\n{}", crate::logging::prefixed(&line));
        }
    };
    // A shard stopped at a record it cannot finish emits no event while it waits: the
    // failures are printed on a tick too.
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let code = loop {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => break 130u8,
            _ = terminate.recv() => break 143u8,
            _ = tick.tick() => report(&sink, &mut repeats),
            event = events.recv() => match event {
                Some(Event::Health(h)) => {
                    if let Some(line) = h.last_error.as_deref().and_then(|e| repeats.line(e)) {
                        eprintln!("\n{}", crate::logging::prefixed(&line));
                    }
                }
                Some(_) => {
                    report(&sink, &mut repeats);
                    let t = sink.totals();
                    eprint!(
                        "\r{}: {}, {}, {} rejected",
                        crate::sanitize::clean(stream),
                        crate::words::count(t.records, "record", "records"),
                        crate::words::count(t.anomalies, "anomaly", "anomalies"),
                        t.rejected
                    );
                }
                None => break 1u8,
            },
        }
    };
    // Finish the record in hand and checkpoint its batch before the summary.
    let _stopped = sink.stop().await;
    // No reader goes on, and no lease is taken any more: then the leases go back, so the
    // other workers take them at their next round rather than after a lease period.
    drop(events);
    if let Some((table, worker)) = &release {
        let handed = match cloud.stream_identity(stream).await {
            Ok(id) => {
                crate::pipeline::leases::release_all(cloud.as_ref(), table, &id.key(), worker).await
            }
            Err(e) => Err(e),
        };
        match handed {
            Ok(n) => eprintln!("\nwatchband: {n} shard leases handed back"),
            Err(e) => eprintln!(
                "\nwatchband: shard leases not handed back (the others take them after the lease period): {e}"
            ),
        }
    }
    report(&sink, &mut repeats);
    let t = sink.totals();
    eprintln!();
    if let Some(count) = repeats.finish() {
        eprintln!("{}", crate::logging::prefixed(&count));
    }
    println!("{}", serde_json::to_string(&t)?);
    Ok(std::process::ExitCode::from(code))
}

/// SIGTERM (what `kill`, systemd and container runtimes send), handled like Ctrl-C.
#[cfg(unix)]
fn terminate_signal() -> anyhow::Result<tokio::signal::unix::Signal> {
    Ok(tokio::signal::unix::signal(
        tokio::signal::unix::SignalKind::terminate(),
    )?)
}

#[cfg(not(unix))]
fn terminate_signal() -> anyhow::Result<NeverSignal> {
    Ok(NeverSignal)
}

#[cfg(not(unix))]
struct NeverSignal;

#[cfg(not(unix))]
impl NeverSignal {
    async fn recv(&mut self) -> Option<()> {
        std::future::pending().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::sim::{SimCloud, SimOptions};
    use crate::cloud::{Query, Time};

    pub(super) fn record(seq: u32, deviceid: &str, value: f64) -> StreamRecord {
        let reading = crate::interop::TemperatureReading {
            timestamp: "2026-05-01 10:00:00.000001".into(),
            datatype: "Temperature".into(),
            value,
            deviceid: deviceid.into(),
            date: "2026-05-01".into(),
            lowest_temp: 96.0,
            highest_temp: 101.0,
        };
        StreamRecord {
            sequence_number: format!("{seq:020}"),
            partition_key: "p".into(),
            data: reading.to_json().into_bytes(),
            arrival: Time::from_timestamp(1_780_000_000, 0).unwrap(),
        }
    }

    async fn rows_of(cloud: &dyn Cloud, deviceid: &str) -> Vec<Item> {
        cloud
            .query(Query {
                table: TEMPERATURE_TABLE.into(),
                hash_key: "deviceid".into(),
                hash_value: AttrValue::S(deviceid.into()),
                limit: None,
                newest_first: false,
            })
            .await
            .unwrap()
    }

    /// Two device ids that differ only by a control character are two rows, each keyed by
    /// the id as sent; the report (what people see) shows them cleaned.
    #[tokio::test(start_paused = true)]
    async fn the_row_keeps_the_original_device_id() {
        let cloud = SimCloud::new(SimOptions {
            paused: true,
            ..SimOptions::default()
        });
        let topic = cloud.create_topic("alerts", None).await.unwrap();
        let mut p = StreamProcessor::new(StreamProcessorConfig::new(&topic));
        let records = [
            record(1, "DHT\u{1b}7", 150.0),
            record(2, "DHT\u{7f}7", 151.0),
        ];
        let report = p
            .handle_batch(cloud.as_ref(), "s", "0", &records, &AtomicBool::new(false))
            .await;
        assert_eq!(report.anomaly_count, 2, "{report:?}");
        for (id, value) in [("DHT\u{1b}7", "150"), ("DHT\u{7f}7", "151")] {
            let rows = rows_of(cloud.as_ref(), id).await;
            assert_eq!(rows.len(), 1, "{id:?}");
            assert_eq!(rows[0]["value"], AttrValue::N(value.into()));
            assert_eq!(rows[0][ALERT], AttrValue::S(SENT.into()));
        }
        assert!(
            report
                .anomalies
                .iter()
                .all(|a| !a.deviceid.chars().any(crate::sanitize::is_unsafe))
        );
        // A replay announces nothing.
        let again = p
            .handle_batch(cloud.as_ref(), "s", "0", &records, &AtomicBool::new(false))
            .await;
        assert_eq!((again.anomaly_count, again.repeats), (0, 2));
    }
}

#[cfg(test)]
mod fifo_tests {
    use super::*;
    use crate::cloud::sim::{SimCloud, SimOptions};

    fn hot(deviceid: &str, value: f64) -> StreamRecord {
        super::tests::record(1, deviceid, value)
    }

    /// The window the gate leaves open: a worker dies after SNS took its alert and before the
    /// row was marked `sent`, and another worker replays the record after the grace. On a
    /// standard topic the alert goes out twice; on a FIFO topic the replay carries the same
    /// deduplication id and SNS delivers it once.
    #[tokio::test(start_paused = true)]
    async fn a_fifo_topic_drops_the_replay_of_a_crashed_alert() {
        let cloud = SimCloud::new(SimOptions {
            paused: true,
            ..SimOptions::default()
        });
        for (name, deliveries) in [("alerts.fifo", 1), ("alerts", 2)] {
            let topic = cloud.create_topic(name, None).await.unwrap();
            let record = hot(&format!("DHT_{name}"), 150.0);
            let stop = AtomicBool::new(false);
            let mut first = StreamProcessor::new(StreamProcessorConfig::new(&topic));
            let report = first
                .handle_batch(
                    cloud.as_ref(),
                    "s",
                    "0",
                    std::slice::from_ref(&record),
                    &stop,
                )
                .await;
            assert_eq!(report.anomaly_count, 1, "{report:?}");
            // Undo the `sent` mark, as if the first worker had died right after Publish.
            let mut key = Item::new();
            key.insert("deviceid".into(), AttrValue::S(format!("DHT_{name}")));
            key.insert(
                "timestamp".into(),
                AttrValue::S("2026-05-01 10:00:00.000001".into()),
            );
            let mut row = cloud
                .get_item(TEMPERATURE_TABLE, key)
                .await
                .unwrap()
                .unwrap();
            row.insert(ALERT.into(), AttrValue::S(PENDING.into()));
            row.insert(ALERT_BY.into(), AttrValue::S("dead-worker".into()));
            let long_ago = cloud.now() - PENDING_GRACE - chrono::Duration::seconds(1);
            row.insert(
                ALERT_AT.into(),
                AttrValue::N(long_ago.timestamp_millis().to_string()),
            );
            cloud.put_item(TEMPERATURE_TABLE, row, None).await.unwrap();
            let mut second = StreamProcessor::new(StreamProcessorConfig::new(&topic));
            let report = second
                .handle_batch(
                    cloud.as_ref(),
                    "s",
                    "0",
                    std::slice::from_ref(&record),
                    &stop,
                )
                .await;
            assert_eq!(
                report.anomaly_count, 1,
                "the replay finishes the announcement"
            );
            let published = cloud
                .published_messages()
                .into_iter()
                .filter(|p| p.topic_arn == topic)
                .count();
            assert_eq!(published, deliveries, "{name}");
        }
    }

    #[test]
    fn fifo_ids_are_stable_per_row_and_valid_for_sns() {
        let (g, d) = fifo_ids("DHT_001", "2026-05-01 10:00:00.000001");
        assert_eq!(g, "DHT_001");
        assert_eq!(d, fifo_ids("DHT_001", "2026-05-01 10:00:00.000001").1);
        assert_ne!(d, fifo_ids("DHT_001", "2026-05-01 10:00:00.000002").1);
        // The key's parts are kept apart: ("a", "bc") is not ("ab", "c").
        assert_ne!(fifo_ids("a", "bc").1, fifo_ids("ab", "c").1);
        let (g, _) = fifo_ids("DHT \u{1b}[31m", "t");
        assert!(
            g.len() <= 128 && g.chars().all(|c| c.is_ascii_graphic()),
            "{g}"
        );
    }
}
