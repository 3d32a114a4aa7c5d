//! The async tasks between the `Cloud` seam and the app: collectors per source, backup jobs,
//! alarm sync and acknowledgements, stream consumers, metric series, SNS notifications.
//!
//! [`spawn`] starts them on the current tokio runtime and returns the two channel ends the app
//! holds: [`Event`]s up, [`Command`]s down. The tasks are written once against
//! [`crate::cloud::Cloud`]; they never ask whether the account is simulated. Every call goes
//! through [`Ctx::call`] (retry with back-off, health reporting), so the simulator's injected
//! faults run the same paths as AWS errors. The tasks stop when the app drops its event
//! receiver.

pub mod acks;
pub mod alarms;
pub mod backups;
pub mod bands;
pub mod changes;
pub mod config;
pub mod events;
pub mod health;
pub mod jobs;
pub mod leases;
pub mod metrics;
pub mod notifications;
pub mod recovery;
pub mod retry;
pub mod streams;
pub mod temperature;

pub use config::{PipelineConfig, PollIntervals, StreamStart, WatchedMetric};
pub use events::*;

use crate::cloud::{Cloud, CloudResult};
use crate::store::Store;
use health::Health;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// Capacity of the event channel: enough for a burst of stream batches while the app draws.
const EVENT_CAPACITY: usize = 1024;
const COMMAND_CAPACITY: usize = 64;

/// What every task shares.
pub(crate) struct Ctx {
    pub cloud: Arc<dyn Cloud>,
    pub config: PipelineConfig,
    pub events: mpsc::Sender<Event>,
    pub health: Health,
    /// Wakes the periodic collectors early (the `r` key).
    pub refresh: Refresh,
    /// One pacer per source, so throttling of one service does not slow the others.
    pub limiters: [retry::AdaptiveLimiter; 5],
    /// Change counts, checkpoints, acknowledgements; `None` runs without persistence.
    pub store: Option<Arc<Store>>,
    pub counter: changes::ChangeCounter,
    /// Names of every alarm the alarms task saw last (the backups inventory links to them).
    pub alarm_names: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// SNS topics the alarms notify (the notifications task subscribes to them).
    pub alarm_topics: std::sync::Mutex<std::collections::BTreeSet<String>>,
    pub acks: acks::AckBook,
    pub checkpoints: streams::Checkpoints,
    /// The metrics task's inbox (metric selection, detector switch, ListMetrics).
    pub metric_requests: mpsc::Sender<metrics::MetricRequest>,
    /// Where stream records go before they are checkpointed, when a processor consumes the
    /// streams (`watchband process stream`); `None` in the TUI.
    pub stream_sink: Option<Arc<dyn streams::StreamSink>>,
}

impl Ctx {
    /// Sends an event; `false` once the app has gone (the task should end).
    pub async fn emit(&self, event: Event) -> bool {
        self.events.send(event).await.is_ok()
    }

    /// Runs one Cloud call through [`retry::retry`] (back-off on retryable errors, paced by
    /// the shared limiter), reporting the source's health: throttled as soon as a throttle is
    /// seen, degraded when the call finally fails, ok when it succeeds.
    pub async fn call<T, F, Fut>(&self, source: Source, mut op: F) -> CloudResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = CloudResult<T>>,
    {
        let result = retry::retry(
            &self.config.retry,
            Some(&self.limiters[source as usize]),
            || {
                let fut = op();
                async move {
                    let r = fut.await;
                    match &r {
                        Err(e) if e.kind == crate::cloud::ErrorKind::Throttling => {
                            self.health.error(source, e).await
                        }
                        Err(e) if e.kind.is_retryable() => self.health.retrying(source, e).await,
                        _ => {}
                    }
                    r
                }
            },
        )
        .await;
        match &result {
            Ok(_) => self.health.ok(source).await,
            // An expired shard iterator is routine: the consumer re-opens it.
            Err(e) if e.kind == crate::cloud::ErrorKind::ExpiredIterator => {}
            Err(e) => self.health.error(source, e).await,
        }
        result
    }

    pub fn known_alarms(&self) -> std::collections::BTreeSet<String> {
        self.alarm_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends an error outcome for a command.
    pub async fn fail(&self, command: &str, error: impl std::fmt::Display) {
        let _ = self
            .emit(Event::Outcome(Outcome {
                command: command.to_string(),
                ok: false,
                message: crate::sanitize::clean(&error.to_string()),
            }))
            .await;
    }

    pub async fn done(&self, command: &str, message: impl Into<String>) {
        let _ = self
            .emit(Event::Outcome(Outcome {
                command: command.to_string(),
                ok: true,
                message: crate::sanitize::clean(&message.into()),
            }))
            .await;
    }
}

/// Wake-ups for the periodic collectors.
#[derive(Clone, Default)]
pub(crate) struct Refresh {
    notifies: Arc<std::sync::Mutex<Vec<Arc<Notify>>>>,
}

impl Refresh {
    /// A handle a collector waits on between polls.
    pub fn subscribe(&self) -> Arc<Notify> {
        let n = Arc::new(Notify::new());
        self.notifies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(n.clone());
        n
    }

    pub fn all(&self) {
        for n in self
            .notifies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            // notify_one keeps a permit, so a refresh during a poll is not lost.
            n.notify_one();
        }
    }
}

/// Waits for the interval or a refresh, whichever comes first.
pub(crate) async fn pause(interval: Duration, wake: &Notify) {
    tokio::select! {
        _ = tokio::time::sleep(interval) => {}
        _ = wake.notified() => {}
    }
}

/// Starts the pipeline on the current tokio runtime.
///
/// `store` keeps change counts, stream checkpoints and acknowledgements across restarts
/// (`None` runs without persistence). Returns the event receiver and the command sender the
/// app holds. Dropping the receiver stops every task.
pub fn spawn(
    cloud: Arc<dyn Cloud>,
    store: Option<Arc<Store>>,
    config: PipelineConfig,
) -> (mpsc::Receiver<Event>, mpsc::Sender<Command>) {
    let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (metric_tx, metric_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (ctx, event_rx) = context(cloud, store, config, metric_tx, None);
    tokio::spawn(identity(ctx.clone()));
    tokio::spawn(backups::run(ctx.clone()));
    tokio::spawn(alarms::run(ctx.clone()));
    tokio::spawn(metrics::run(ctx.clone(), metric_rx));
    tokio::spawn(notifications::run(ctx.clone()));
    for stream in &ctx.config.streams {
        tokio::spawn(streams::run(ctx.clone(), stream.clone()));
    }
    tokio::spawn(commands(ctx, command_rx));
    (event_rx, command_tx)
}

/// Only the stream consumers, handing every batch to `sink` before it is checkpointed: the
/// stream processor's consumer, with the same checkpoints, limits and resharding as the TUI's.
/// The events report progress (stream stats, health).
pub fn spawn_stream_consumer(
    cloud: Arc<dyn Cloud>,
    store: Option<Arc<Store>>,
    config: PipelineConfig,
    sink: Arc<dyn streams::StreamSink>,
) -> mpsc::Receiver<Event> {
    let (metric_tx, _) = mpsc::channel(1);
    let (ctx, event_rx) = context(cloud, store, config, metric_tx, Some(sink));
    for stream in &ctx.config.streams {
        tokio::spawn(streams::run(ctx.clone(), stream.clone()));
    }
    event_rx
}

/// The pipeline's shared context without its tasks, for a headless command that runs one
/// operation (`watchband ack`, `watchband alarms`); its events are dropped.
pub(crate) fn headless(
    cloud: Arc<dyn Cloud>,
    store: Option<Arc<Store>>,
    config: PipelineConfig,
) -> Arc<Ctx> {
    let (metric_tx, _) = mpsc::channel(1);
    let (ctx, events) = context(cloud, store, config, metric_tx, None);
    drop(events);
    ctx
}

fn context(
    cloud: Arc<dyn Cloud>,
    store: Option<Arc<Store>>,
    config: PipelineConfig,
    metric_requests: mpsc::Sender<metrics::MetricRequest>,
    stream_sink: Option<Arc<dyn streams::StreamSink>>,
) -> (Arc<Ctx>, mpsc::Receiver<Event>) {
    let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
    let ctx = Arc::new(Ctx {
        cloud: cloud.clone(),
        health: Health::new(event_tx.clone(), cloud.clone()),
        events: event_tx,
        refresh: Refresh::default(),
        limiters: Default::default(),
        counter: changes::ChangeCounter::new(cloud.clone(), store.clone())
            .with_policy(config.retry),
        acks: acks::AckBook::new(store.clone(), &config.ack_table),
        store,
        config,
        alarm_names: Default::default(),
        alarm_topics: Default::default(),
        checkpoints: Default::default(),
        metric_requests,
        stream_sink,
    });
    (ctx, event_rx)
}

/// The caller identity for the status bar, retried until it is known.
async fn identity(ctx: Arc<Ctx>) {
    let wake = ctx.refresh.subscribe();
    loop {
        match ctx
            .call(Source::Alarms, || ctx.cloud.caller_identity())
            .await
        {
            Ok(id) => {
                let id = crate::cloud::Identity {
                    account: crate::sanitize::clean(&id.account),
                    arn: crate::sanitize::clean(&id.arn),
                    region: crate::sanitize::clean(&id.region),
                };
                ctx.acks.set_identity(&id.arn);
                let _ = ctx.emit(Event::Identity(id)).await;
                return;
            }
            Err(_) => pause(Duration::from_secs(10), &wake).await,
        }
        if ctx.events.is_closed() {
            return;
        }
    }
}

/// Executes the app's commands, one at a time, in the order given; long work (a backup job)
/// runs in its own task so the next command is not held up.
async fn commands(ctx: Arc<Ctx>, mut rx: mpsc::Receiver<Command>) {
    while let Some(command) = rx.recv().await {
        if command.is_mutating() && ctx.config.read_only {
            ctx.fail(
                command.label(),
                format!(
                    "{} refused: watchband runs read-only (--read-only, or the profile's read_only); restart without it to change the account",
                    command.label()
                ),
            )
            .await;
            continue;
        }
        run_command(&ctx, command).await;
    }
}

async fn run_command(ctx: &Arc<Ctx>, command: Command) {
    let label = command.label();
    match command {
        Command::Refresh => ctx.refresh.all(),
        Command::StartBackup {
            volume_arn,
            vault,
            iam_role_arn,
        } => jobs::start_backup(ctx, volume_arn, vault, iam_role_arn).await,
        Command::Protect {
            volume_arn,
            recovery_point_arn,
            vault,
            created,
        } => recovery::protect(ctx, volume_arn, recovery_point_arn, vault, created).await,
        Command::Restore {
            volume_arn,
            recovery_point_arn,
            vault,
            iam_role_arn,
        } => recovery::restore(ctx, volume_arn, recovery_point_arn, vault, iam_role_arn).await,
        Command::CreateAlarm {
            definition,
            detector,
        } => alarms::create(ctx, *definition, detector).await,
        Command::Acknowledge {
            alarm_name,
            note,
            snooze_until,
        } => acks::acknowledge(ctx, alarm_name, note, snooze_until).await,
        Command::Withdraw { alarm_name, force } => {
            let outcome = acks::withdraw(ctx, &alarm_name, force).await;
            ctx.refresh.all();
            match outcome {
                Ok(m) => ctx.done(label, m).await,
                Err(e) => ctx.fail(label, e).await,
            }
        }
        Command::CreateAckTable => match acks::create_table(ctx).await {
            Ok(m) => ctx.done(label, m).await,
            Err(e) => ctx.fail(label, e).await,
        },
        Command::LoadAlarmHistory { alarm_name } => {
            alarms::history(ctx, &alarm_name).await;
        }
        Command::SelectMetric(metric) => {
            let _ = ctx
                .metric_requests
                .send(metrics::MetricRequest::Select(metric))
                .await;
        }
        Command::SetMetricDetector(d) => {
            let _ = ctx
                .metric_requests
                .send(metrics::MetricRequest::Detector(d))
                .await;
        }
        Command::ListMetrics { namespace } => {
            let _ = ctx
                .metric_requests
                .send(metrics::MetricRequest::List(namespace))
                .await;
        }
    }
}
