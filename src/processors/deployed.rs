//! The three processors as deployed functions in an account: what `deploy/template.yaml` sets
//! up in AWS, run as tasks against any [`Cloud`] — the demo account runs them this way, so its
//! alarms, anomaly table, alerts and indicator series come from the same code as production.
//!
//! - backup: long-polls the queue the EventBridge rule for completed backup jobs targets
//!   ([`interop::BACKUP_EVENTS_QUEUE`]) and hands each event to [`BackupProcessor`]; a
//!   failed event stays on the queue and comes back after its visibility timeout, as with an
//!   SQS-triggered Lambda function.
//! - stream: the shared Kinesis consumer with the [`ProcessorSink`], from `LATEST` (an event
//!   source mapping created now), checkpointed in memory.
//! - metric: the scorer on a schedule of the account's clock, for every metric that matches.
//!
//! Nothing is printed: the tasks run under the TUI. What they did is kept in
//! [`DeployedStats`], and their errors in it too (Lambda would write them to its log).

use super::changed_blocks::{BackupOutcome, BackupProcessor, BackupProcessorConfig, drain_queue};
use super::metric_scorer::MetricScorerConfig;
use super::stream::{ProcessorSink, StreamProcessorConfig, StreamTotals};
use crate::cloud::{Cloud, CloudResult, MetricId};
use crate::interop;
use crate::pipeline::changes::ChangeCounter;
use crate::pipeline::{PipelineConfig, StreamStart};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::task::JoinHandle;

/// What is deployed, by name (the template's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub backup_queue: String,
    pub backup_topic: String,
    pub backup_table: String,
    /// The stream the stream function is mapped to; none: not deployed.
    pub stream: Option<String>,
    pub temperature_topic: String,
    pub temperature_table: String,
    /// Metrics the scorer runs on: (namespace, metric name), every dimension set found; none:
    /// the scorer is not deployed.
    pub scored_metrics: Vec<(String, String)>,
    /// Simulated (account clock) time between scorer runs; the original runs weekly.
    pub score_every: chrono::Duration,
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            backup_queue: interop::BACKUP_EVENTS_QUEUE.into(),
            backup_topic: interop::BACKUP_TOPIC_NAME.into(),
            backup_table: interop::BACKUP_TABLE.into(),
            stream: Some(interop::TEMPERATURE_STREAM.into()),
            temperature_topic: interop::TEMPERATURE_TOPIC.into(),
            temperature_table: interop::TEMPERATURE_TABLE.into(),
            scored_metrics: vec![("AWS/EC2".into(), "CPUUtilization".into())],
            // Shorter than the original's week, so the demo shows a run within minutes.
            score_every: chrono::Duration::hours(6),
        }
    }
}

/// What the deployed functions have done so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployedStats {
    /// Backup events handled, by outcome.
    pub backup_counted: u64,
    pub backup_first_sightings: u64,
    pub backup_anomalous: u64,
    pub backup_other: u64,
    /// Events left on the queue after a failure (they are delivered again).
    pub backup_retried: u64,
    pub stream: StreamTotals,
    pub metric_runs: u64,
    pub metric_anomalies: u64,
    /// The newest error any function met, as its log would show it.
    pub last_error: Option<String>,
}

/// The running functions; dropping it stops them.
pub struct Functions {
    stats: Arc<Mutex<DeployedStats>>,
    /// Set once the stream function has found its topic.
    sink: Arc<OnceLock<Arc<ProcessorSink>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Functions {
    pub fn stats(&self) -> DeployedStats {
        let mut s = lock(&self.stats).clone();
        if let Some(sink) = self.sink.get() {
            s.stream = sink.totals();
            if let Some(e) = sink.last_error() {
                s.last_error.get_or_insert(e);
            }
        }
        s
    }
}

impl Drop for Functions {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn lock(m: &Mutex<DeployedStats>) -> std::sync::MutexGuard<'_, DeployedStats> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the three functions on the current tokio runtime.
pub fn spawn(cloud: Arc<dyn Cloud>, deployment: Deployment) -> Functions {
    let stats = Arc::new(Mutex::new(DeployedStats::default()));
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(backup_function(
        cloud.clone(),
        deployment.clone(),
        stats.clone(),
    )));
    tasks.push(tokio::spawn(metric_function(
        cloud.clone(),
        deployment.clone(),
        stats.clone(),
    )));
    let sink = Arc::new(OnceLock::new());
    if let Some(stream) = deployment.stream.clone() {
        tasks.push(tokio::spawn(stream_function(
            cloud,
            deployment,
            stream,
            stats.clone(),
            sink.clone(),
        )));
    }
    Functions { stats, sink, tasks }
}

/// Retries a set-up call until it succeeds: a function that cannot find its topic or queue
/// waits as Lambda's retries would, instead of dying.
async fn resolve<T, F, Fut>(stats: &Mutex<DeployedStats>, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = CloudResult<T>>,
{
    loop {
        match call().await {
            Ok(v) => return v,
            Err(e) => {
                lock(stats).last_error = Some(e.to_string());
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn backup_function(
    cloud: Arc<dyn Cloud>,
    deployment: Deployment,
    stats: Arc<Mutex<DeployedStats>>,
) {
    let topic = resolve(&stats, || {
        cloud.create_topic(&deployment.backup_topic, None)
    })
    .await;
    let queue = resolve(&stats, || cloud.create_queue(&deployment.backup_queue)).await;
    let processor = BackupProcessor::new(
        cloud.as_ref(),
        ChangeCounter::new(cloud.clone(), None),
        BackupProcessorConfig {
            table: deployment.backup_table.clone(),
            ..BackupProcessorConfig::new(&topic)
        },
    );
    loop {
        match drain_queue(&processor, &queue, 10, 20).await {
            Ok(outcomes) => {
                let mut s = lock(&stats);
                for o in outcomes {
                    match o.outcome {
                        Ok(BackupOutcome::Counted { anomalous, .. }) => {
                            s.backup_counted += 1;
                            s.backup_anomalous += u64::from(anomalous);
                        }
                        Ok(BackupOutcome::FirstSighting { .. }) => s.backup_first_sightings += 1,
                        Ok(_) => s.backup_other += 1,
                        Err(e) => {
                            s.backup_retried += u64::from(!o.deleted);
                            s.last_error = Some(format!("backup event {}: {e}", o.message_id));
                        }
                    }
                }
            }
            Err(e) => {
                lock(&stats).last_error = Some(e.to_string());
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn stream_function(
    cloud: Arc<dyn Cloud>,
    deployment: Deployment,
    stream: String,
    stats: Arc<Mutex<DeployedStats>>,
    slot: Arc<OnceLock<Arc<ProcessorSink>>>,
) {
    let topic = resolve(&stats, || {
        cloud.create_topic(&deployment.temperature_topic, None)
    })
    .await;
    let sink = slot
        .get_or_init(|| {
            Arc::new(ProcessorSink::new(
                cloud.clone(),
                StreamProcessorConfig {
                    table: deployment.temperature_table.clone(),
                    ..StreamProcessorConfig::new(&topic)
                },
            ))
        })
        .clone();
    let config = PipelineConfig {
        streams: vec![stream],
        stream_start: StreamStart::Latest,
        ..PipelineConfig::default()
    };
    let mut events = crate::pipeline::spawn_stream_consumer(cloud, None, config, sink);
    // The consumer's events (progress, health) are for a watcher; a function has none.
    while let Some(event) = events.recv().await {
        if let crate::pipeline::Event::Health(h) = event
            && let Some(e) = h.last_error
        {
            lock(&stats).last_error = Some(e);
        }
    }
}

async fn metric_function(
    cloud: Arc<dyn Cloud>,
    deployment: Deployment,
    stats: Arc<Mutex<DeployedStats>>,
) {
    let mut next = cloud.now();
    loop {
        if cloud.now() >= next {
            next = cloud.now() + deployment.score_every;
            for (namespace, name) in &deployment.scored_metrics {
                let metrics: Vec<MetricId> =
                    resolve(&stats, || cloud.list_metrics(Some(namespace), Some(name))).await;
                for metric in metrics {
                    match super::metric_scorer::run(
                        cloud.as_ref(),
                        &MetricScorerConfig::new(metric),
                    )
                    .await
                    {
                        Ok(report) => {
                            let mut s = lock(&stats);
                            s.metric_runs += 1;
                            s.metric_anomalies += report.anomalies as u64;
                        }
                        Err(e) => lock(&stats).last_error = Some(e.to_string()),
                    }
                }
            }
        }
        // The schedule is on the account's clock, which the demo can pause or speed up.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
