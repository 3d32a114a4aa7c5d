//! The Kinesis polling consumer: one supervisor per stream, one reader per shard.
//!
//! - A reader opens its shard after its checkpoint (`AFTER_SEQUENCE_NUMBER`), or at the
//!   configured start (TRIM_HORIZON / LATEST) when there is none, and loops on GetRecords at
//!   most five calls per second, slowing down at the tip of the shard.
//! - Each batch is decoded and judged ([`super::temperature`]), sent to the app, and only then
//!   checkpointed, so a restart neither loses nor repeats a record. With a [`StreamSink`] (the
//!   stream processor) the sink decodes and judges instead, and the consumer only counts what
//!   the sink reports: a record is judged once.
//! - An expired iterator (or any failure that outlived its retries) is re-opened from the
//!   checkpoint, which is safe for the same reason.
//! - Resharding: a child shard is read only once its parents were read to their end (GetRecords
//!   returns no next iterator), so per-device order survives splits and merges.
//! - With shard leases ([`super::leases`], `process stream --lease-table`) the supervisor reads
//!   only the shards this worker holds, checkpoints go into the lease, and a reader whose lease
//!   was taken stops at once without checkpointing; a parent read to its end by another worker
//!   frees its children here too.

use super::events::{Event, RejectedRecord, ShardStats, Source, StreamStats};
use super::leases::{CheckpointError, LeaseChange, Leases, SHARD_END};
use super::temperature::{DeviceJudge, Judged};
use super::{Ctx, StreamStart, pause};
use crate::cloud::{CloudError, ErrorKind, Shard, ShardPosition, StreamIdentity};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Records asked for per GetRecords call (the Kinesis maximum).
const BATCH_LIMIT: i32 = 10_000;
/// Rejected records kept per shard for inspection.
const KEEP_REJECTED: usize = 8;
/// Window of the records-per-second figure.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// How often the shard list is re-read to notice a reshard of shards we are not reading.
const RELIST_EVERY: Duration = Duration::from_secs(30);
/// How often a stream that vanished is looked for again.
const VANISHED_RECHECK: Duration = Duration::from_secs(5);

/// A consumer of stream batches that must be done before a record is checkpointed (the
/// stream processor). It handles the records in order and says how many it handled: fewer
/// than all means the rest is read again, from the checkpoint after the last handled one.
/// The sink owns the decoding and judging; the consumer does neither again.
#[async_trait::async_trait]
pub trait StreamSink: Send + Sync {
    async fn handle(
        &self,
        stream: &str,
        shard: &str,
        records: &[crate::cloud::StreamRecord],
    ) -> SinkOutcome;

    /// A lock the consumer holds (for reading) from the start of a batch to its checkpoint,
    /// so a sink that stops (taking it for writing) knows every finished record is
    /// checkpointed. `None`: the sink never stops on its own.
    fn in_flight(&self) -> Option<Arc<tokio::sync::RwLock<()>>> {
        None
    }
}

/// Records handed to a sink at a time: the batch is checkpointed after each slice, so a
/// crash replays at most this many records (GetRecords returns up to 10,000).
const SINK_SLICE: usize = 250;
/// The longest wait before a batch the sink could not finish is tried again.
const SINK_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What a [`StreamSink`] did with a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinkOutcome {
    /// Records handled, counted from the first of the batch.
    pub handled: usize,
    /// Those of the handled records that did not decode (the shard's counters keep them).
    pub rejected: Vec<RejectedRecord>,
}

/// Checkpoints per (stream identity key, shard): the store when there is one, memory
/// otherwise. The key is [`StreamIdentity::key`], never the bare name.
#[derive(Default)]
pub(crate) struct Checkpoints {
    memory: Mutex<HashMap<(String, String), String>>,
}

impl Checkpoints {
    fn get(&self, ctx: &Ctx, stream: &str, shard: &str) -> Result<Option<String>, String> {
        match &ctx.store {
            Some(store) => store.checkpoint(stream, shard).map_err(|e| e.to_string()),
            None => Ok(self
                .memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(stream.to_string(), shard.to_string()))
                .cloned()),
        }
    }

    fn set(&self, ctx: &Ctx, stream: &str, shard: &str, seq: &str) -> Result<(), String> {
        match &ctx.store {
            Some(store) => store
                .set_checkpoint(stream, shard, seq)
                .map_err(|e| e.to_string()),
            None => {
                self.memory
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((stream.to_string(), shard.to_string()), seq.to_string());
                Ok(())
            }
        }
    }
}

/// What the readers of one stream share.
struct StreamShared {
    stream: String,
    /// `None` when a sink judges the records.
    judge: Option<Mutex<DeviceJudge>>,
    stats: Mutex<BTreeMap<String, ShardStats>>,
}

impl StreamShared {
    fn snapshot(&self) -> StreamStats {
        StreamStats {
            stream: self.stream.clone(),
            shards: self
                .stats
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .cloned()
                .collect(),
        }
    }

    fn update(&self, shard: &str, f: impl FnOnce(&mut ShardStats)) {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = stats.get_mut(shard) {
            f(s);
        }
    }
}

/// The supervisor of one stream: starts a reader for every shard whose parents are done.
///
/// The stream is known by its identity (ARN and creation time), not its name: its readers
/// and checkpoints belong to one identity. When the stream vanishes it is reported and
/// watched for; when a stream of the same name appears with another identity (deleted and
/// created again, or a server that lost its state) the old readers end and the new stream is
/// read from TRIM_HORIZON under its own checkpoints.
pub(crate) async fn run(ctx: Arc<Ctx>, stream: String) {
    let wake = ctx.refresh.subscribe();
    let shared = Arc::new(StreamShared {
        stream: stream.clone(),
        judge: ctx
            .stream_sink
            .is_none()
            .then(|| Mutex::new(DeviceJudge::new(ctx.config.band_width))),
        stats: Mutex::new(BTreeMap::new()),
    });
    // Readers end when this moves on (a new identity of the stream).
    let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
    // (generation, shard, read to its end): a reader that lost its lease ends unfinished.
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(u64, String, bool)>();
    let mut identity: Option<StreamIdentity> = None;
    // The leases of the current identity and the task that renews and balances them.
    let mut leases: Option<(Arc<Leases>, tokio::task::JoinHandle<()>)> = None;
    let mut vanished = false;
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut finished: BTreeSet<String> = BTreeSet::new();
    // Shards present at the first listing start where the configuration says; shards born
    // later (children of a reshard) hold only new records and are read from their start.
    let mut initial: Option<BTreeSet<String>> = None;
    let mut skipped: BTreeSet<String> = BTreeSet::new();
    loop {
        let found = ctx
            .call(Source::Streams, || ctx.cloud.stream_identity(&stream))
            .await;
        let mut relist = RELIST_EVERY;
        match found {
            Err(e) if e.kind == ErrorKind::NotFound => {
                if !vanished {
                    vanished = true;
                    let err = CloudError::new(
                        ErrorKind::NotFound,
                        "kinesis",
                        "DescribeStreamSummary",
                        "the stream is gone (deleted?); watching for it to come back",
                    )
                    .with_resource(stream.clone());
                    ctx.health.error(Source::Streams, &err).await;
                }
                relist = VANISHED_RECHECK;
            }
            Err(_) => {}
            Ok(found) => {
                vanished = false;
                if identity.as_ref() != Some(&found) {
                    if let Some(old) = &identity {
                        let err = CloudError::new(
                            ErrorKind::Other,
                            "kinesis",
                            "DescribeStreamSummary",
                            format!(
                                "the stream was created again (created {}, was {}): reading the new one from TRIM_HORIZON",
                                found.created.to_rfc3339(),
                                old.created.to_rfc3339()
                            ),
                        )
                        .with_resource(stream.clone());
                        ctx.health.error(Source::Streams, &err).await;
                        // The old stream's readers and state are of no use for the new one.
                        generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        started.clear();
                        finished.clear();
                        skipped.clear();
                        // Everything on a new stream is new: nothing to skip to LATEST.
                        initial = Some(BTreeSet::new());
                        shared
                            .stats
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .clear();
                    }
                    if let Some((_, task)) = leases.take() {
                        task.abort();
                    }
                    if let Some(settings) = &ctx.config.leases {
                        let l = Arc::new(Leases::new(
                            ctx.cloud.clone(),
                            settings.clone(),
                            &found.key(),
                        ));
                        let task =
                            tokio::spawn(keep_leases(ctx.clone(), l.clone(), stream.clone()));
                        leases = Some((l, task));
                    }
                    identity = Some(found);
                }
            }
        }
        let listed = match &identity {
            Some(_) if !vanished => {
                ctx.call(Source::Streams, || ctx.cloud.list_shards(&stream))
                    .await
            }
            _ => Err(CloudError::new(
                ErrorKind::NotFound,
                "kinesis",
                "ListShards",
                "no stream",
            )),
        };
        if let (Ok(shards), Some(id)) = (listed, &identity) {
            let key = id.key();
            let this_generation = generation.load(std::sync::atomic::Ordering::SeqCst);
            let initial =
                initial.get_or_insert_with(|| shards.iter().map(|s| s.id.clone()).collect());
            let ids: BTreeSet<&str> = shards.iter().map(|s| s.id.as_str()).collect();
            // With leases: only the shards this worker holds are read; shards another worker
            // read to their end count as finished.
            let held = match &leases {
                Some((l, _)) => {
                    l.set_shards(shards.iter().map(|s| s.id.clone()));
                    finished.extend(l.finished());
                    Some((l.clone(), l.held().await))
                }
                None => None,
            };
            for shard in &shards {
                if started.contains(&shard.id)
                    || finished.contains(&shard.id)
                    || !parents_done(shard, &ids, &finished)
                {
                    continue;
                }
                let lease = match &held {
                    Some((l, held)) => match held.get(&shard.id) {
                        Some(epoch) => Some((l.clone(), *epoch)),
                        None => continue,
                    },
                    None => None,
                };
                started.insert(shard.id.clone());
                let mut stats = new_stats(shard);
                // A child whose parent is being read continues exactly where the parent
                // ended, so it is read from its start too.
                let parent_read = [&shard.parent, &shard.adjacent_parent]
                    .into_iter()
                    .flatten()
                    .any(|p| ids.contains(p.as_str()) && !skipped.contains(p));
                let start = if initial.contains(&shard.id) && !parent_read {
                    ctx.config.stream_start
                } else {
                    StreamStart::TrimHorizon
                };
                // Starting at LATEST, a shard that was already closed holds nothing new.
                let skip = start == StreamStart::Latest
                    && lease.is_none()
                    && shard.ending_sequence.is_some()
                    && matches!(ctx.checkpoints.get(&ctx, &key, &shard.id), Ok(None));
                stats.finished = skip;
                shared
                    .stats
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(shard.id.clone(), stats);
                if skip {
                    skipped.insert(shard.id.clone());
                    let _ = done_tx.send((this_generation, shard.id.clone(), true));
                    continue;
                }
                tokio::spawn(read_shard(
                    ctx.clone(),
                    shared.clone(),
                    Reader {
                        shard: shard.id.clone(),
                        checkpoint_key: key.clone(),
                        start,
                        generation: (generation.clone(), this_generation),
                        lease,
                    },
                    done_tx.clone(),
                ));
            }
            if !ctx.emit(Event::Stream(shared.snapshot())).await {
                return;
            }
        }
        // With leases the list is read every renew interval: another worker may have
        // finished a parent, and a lease taken or lost changes what this worker reads.
        if let (Some(settings), false) = (&ctx.config.leases, vanished) {
            relist = relist.min(settings.renew_interval());
        }
        let lease_change = async {
            match &leases {
                Some((l, _)) => l.changed.notified().await,
                None => std::future::pending().await,
            }
        };
        // A finished shard may free its children: list again at once.
        tokio::select! {
            Some((g, id, done)) = done_rx.recv() => {
                let now = generation.load(std::sync::atomic::Ordering::SeqCst);
                let mut ended = vec![(g, id, done)];
                while let Ok(e) = done_rx.try_recv() {
                    ended.push(e);
                }
                for (g, id, done) in ended {
                    // A reader of a former identity of the stream frees nothing.
                    if g != now {
                        continue;
                    }
                    if done {
                        finished.insert(id);
                    } else {
                        // Its lease was lost: read again if it is taken back.
                        started.remove(&id);
                    }
                }
            }
            _ = lease_change => {}
            _ = pause(relist, &wake) => {}
        }
        if ctx.events.is_closed() {
            if let Some((_, task)) = leases.take() {
                task.abort();
            }
            return;
        }
    }
}

/// Renews, reads and balances the leases every renew interval, until the supervisor aborts
/// it (a new identity of the stream) or the app has gone. A failure of the table is reported
/// and tried again at the next round; held leases lapse on their own after a lease period.
async fn keep_leases(ctx: Arc<Ctx>, leases: Arc<Leases>, stream: String) {
    let every = leases.settings().renew_interval();
    let mut next = Instant::now();
    loop {
        if ctx.events.is_closed() {
            return;
        }
        match leases.cycle().await {
            Ok(changes) => {
                for c in changes {
                    match c {
                        LeaseChange::Taken { shard, from } => tracing::info!(
                            stream = %crate::sanitize::clean(&stream),
                            shard = %crate::sanitize::clean(&shard),
                            from = %crate::sanitize::clean(from.as_deref().unwrap_or("nobody")),
                            "lease taken"
                        ),
                        LeaseChange::Lost { shard } => tracing::info!(
                            stream = %crate::sanitize::clean(&stream),
                            shard = %crate::sanitize::clean(&shard),
                            "lease lost"
                        ),
                    }
                }
            }
            Err(e) => {
                let e = e.with_resource(leases.settings().table.clone());
                ctx.health.error(Source::Streams, &e).await;
            }
        }
        next += every;
        let now = Instant::now();
        if next < now {
            next = now;
        }
        tokio::time::sleep_until(next).await;
    }
}

/// What a shard reader reads, and under which identity of its stream.
struct Reader {
    shard: String,
    /// The stream identity's key ([`StreamIdentity::key`]): its checkpoints are stored there.
    checkpoint_key: String,
    start: StreamStart,
    /// The supervisor's generation counter and the generation this reader belongs to: the
    /// reader ends once they differ (the stream was created again).
    generation: (Arc<std::sync::atomic::AtomicU64>, u64),
    /// The lease this reader reads under and its epoch: the checkpoints go there, and the
    /// reader stops once it is no longer held.
    lease: Option<(Arc<Leases>, u64)>,
}

impl Reader {
    fn outdated(&self) -> bool {
        self.generation.0.load(std::sync::atomic::Ordering::SeqCst) != self.generation.1
    }

    /// Whether the reader may go on reading: always without leases, with one only while
    /// this worker holds it under the reader's epoch.
    async fn holds(&self) -> bool {
        match &self.lease {
            Some((l, epoch)) => l.holds(&self.shard, *epoch).await,
            None => true,
        }
    }

    /// Like [`Self::holds`], but asks the lease table (a conditional renewal): before records
    /// are handed to the sink, whose work (rows, alerts) no checkpoint can take back.
    async fn confirm(&self) -> bool {
        match &self.lease {
            Some((l, epoch)) => l.confirm(&self.shard, *epoch).await,
            None => true,
        }
    }
}

/// A shard may be read once each parent that still exists has been read to its end.
fn parents_done(shard: &Shard, existing: &BTreeSet<&str>, finished: &BTreeSet<String>) -> bool {
    [&shard.parent, &shard.adjacent_parent]
        .into_iter()
        .flatten()
        .all(|p| !existing.contains(p.as_str()) || finished.contains(p))
}

fn new_stats(shard: &Shard) -> ShardStats {
    ShardStats {
        shard_id: shard.id.clone(),
        parent: shard.parent.clone(),
        finished: false,
        records_per_sec: 0.0,
        millis_behind: 0,
        records_total: 0,
        rejected_total: 0,
        last_rejected: Vec::new(),
        checkpoint: None,
        read_at: None,
    }
}

/// Reads one shard to its end (closed shards) or forever (open ones).
async fn read_shard(
    ctx: Arc<Ctx>,
    shared: Arc<StreamShared>,
    reader: Reader,
    done: mpsc::UnboundedSender<(u64, String, bool)>,
) {
    let stream = shared.stream.clone();
    let shard = reader.shard.clone();
    let key = reader.checkpoint_key.clone();
    let start = reader.start;
    let mut rate: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut last_call: Option<Instant> = None;
    let mut iterator: Option<String> = None;
    // When the shard was first opened at LATEST: re-opening before the first checkpoint must
    // go back to that moment, not to a new LATEST that would skip what arrived meanwhile.
    let mut latest_at: Option<crate::cloud::Time> = None;
    // Consecutive batches the sink could not finish (the back-off grows with them).
    let mut sink_failures: u32 = 0;
    loop {
        if ctx.events.is_closed() || reader.outdated() {
            return;
        }
        if !reader.holds().await {
            let _ = done.send((reader.generation.1, shard, false));
            return;
        }
        let it = match iterator.take() {
            Some(it) => it,
            None => match open(&ctx, &reader, &stream, &key, start, &mut latest_at).await {
                Ok(Some(it)) => it,
                // The shard is gone (trimmed away, or the stream deleted): nothing left to
                // read; the supervisor looks at the stream again at once.
                Ok(None) => break,
                Err(_) => {
                    tokio::time::sleep(ctx.config.intervals.shard_idle).await;
                    continue;
                }
            },
        };
        // Kinesis allows five GetRecords calls per second per shard.
        if let Some(t) = last_call {
            tokio::time::sleep_until(t + ctx.config.intervals.shard_min_gap).await;
        }
        last_call = Some(Instant::now());
        let batch = match ctx
            .call(Source::Streams, || {
                ctx.cloud.get_records(&it, Some(BATCH_LIMIT))
            })
            .await
        {
            Ok(b) => b,
            // Expired or failed: re-open from the checkpoint (nothing lost, nothing repeated).
            Err(e) => {
                if e.kind != ErrorKind::ExpiredIterator {
                    tokio::time::sleep(ctx.config.intervals.shard_idle).await;
                }
                continue;
            }
        };
        let mut n = batch.records.len();
        let mut complete = true;
        // Whether the lease is still ours after the batch's checkpoints.
        let mut holding = true;
        if let Some(sink) = &ctx.stream_sink {
            // Slice by slice, each checkpointed before the next is handed over.
            n = 0;
            for slice in batch.records.chunks(SINK_SLICE) {
                let _held = match sink.in_flight() {
                    Some(lock) => Some(lock.read_owned().await),
                    None => None,
                };
                // A lease taken meanwhile: not one more record under it.
                if !reader.confirm().await {
                    holding = false;
                    break;
                }
                let outcome = sink.handle(&stream, &shard, slice).await;
                let handled = outcome.handled.min(slice.len());
                count_batch(&shared, &shard, handled, outcome.rejected);
                if handled > 0
                    && !checkpoint(&ctx, &reader, &key, &slice[handled - 1].sequence_number).await
                {
                    holding = false;
                    break;
                }
                n += handled;
                if handled < slice.len() {
                    complete = false;
                    break;
                }
            }
            sink_failures = if complete { 0 } else { sink_failures + 1 };
        } else if !handle_batch(&ctx, &shared, &shard, &batch.records).await {
            return;
        } else if let Some(last) = batch.records.last() {
            holding = checkpoint(&ctx, &reader, &key, &last.sequence_number).await;
        }
        if !holding {
            let _ = done.send((reader.generation.1, shard, false));
            return;
        }
        let records = &batch.records[..n];
        let now = Instant::now();
        rate.push_back((now, n));
        while rate.front().is_some_and(|(t, _)| now - *t > RATE_WINDOW) {
            rate.pop_front();
        }
        let per_sec =
            rate.iter().map(|(_, n)| *n).sum::<usize>() as f64 / RATE_WINDOW.as_secs_f64();
        let newest = records.last().map(|r| r.sequence_number.clone());
        let read_at = ctx.cloud.now();
        shared.update(&shard, |s| {
            s.read_at = Some(read_at);
            s.records_per_sec = per_sec;
            s.millis_behind = batch.millis_behind_latest;
            if newest.is_some() {
                s.checkpoint = newest;
            }
        });
        if !complete {
            // The rest of the batch is read again from the checkpoint once the sink recovers,
            // after a back-off that doubles up to SINK_BACKOFF_MAX (the sink said why).
            let wait = ctx
                .config
                .intervals
                .shard_idle
                .saturating_mul(1 << sink_failures.min(6))
                .min(SINK_BACKOFF_MAX);
            tokio::time::sleep(wait).await;
            continue;
        }
        match batch.next_iterator {
            Some(next) => iterator = Some(next),
            // Closed and read to the end: the children may start.
            None => break,
        }
        if !ctx.emit(Event::Stream(shared.snapshot())).await {
            return;
        }
        // Caught up: rest, even if the batch had records. A busy stream always has a few new
        // ones, and polling it at the full 5 reads/s per shard would leave no room for a second
        // consumer (the demo runs the stream processor beside the TUI, as AWS would).
        if batch.millis_behind_latest == 0 {
            tokio::time::sleep(ctx.config.intervals.shard_idle).await;
        }
    }
    if reader.outdated() {
        return;
    }
    // With a lease, the end is recorded in it, for the worker that holds a child; a lease
    // lost just now leaves the end to its new holder.
    if reader.lease.is_some() && !checkpoint(&ctx, &reader, &key, SHARD_END).await {
        let _ = done.send((reader.generation.1, shard, false));
        return;
    }
    shared.update(&shard, |s| {
        s.finished = true;
        s.records_per_sec = 0.0;
        s.millis_behind = 0;
    });
    let _ = ctx.emit(Event::Stream(shared.snapshot())).await;
    let _ = done.send((reader.generation.1, shard, true));
}

/// Moves the shard's checkpoint (`key`: the stream's identity), in the reader's lease when it
/// has one; a store that fails is reported (the records are then read again after a restart,
/// which the processor's gate makes harmless). `false` when the lease was lost: the reader
/// must stop, and the checkpoint did not move.
async fn checkpoint(ctx: &Ctx, reader: &Reader, key: &str, seq: &str) -> bool {
    let shard = &reader.shard;
    let failed = match &reader.lease {
        Some((l, epoch)) => match l.checkpoint(shard, *epoch, seq).await {
            Ok(()) => None,
            Err(CheckpointError::Lost) => return false,
            Err(CheckpointError::Failed(e)) => Some(("dynamodb", e)),
        },
        None => ctx
            .checkpoints
            .set(ctx, key, shard, seq)
            .err()
            .map(|e| ("store", e)),
    };
    if let Some((service, e)) = failed {
        let err = CloudError::new(ErrorKind::Other, service, "SetCheckpoint", e)
            .with_resource(format!("{key}/{shard}"));
        ctx.health.error(Source::Streams, &err).await;
    }
    true
}

/// A fresh iterator after the checkpoint (stored under `key`, the stream's identity), or at
/// the configured start. `Ok(None)` when the shard no longer exists. A checkpoint the shard
/// refuses (malformed, or beyond the shard's end) is reported and the shard read from
/// TRIM_HORIZON: skipping to LATEST could lose records, and retrying it would never end.
async fn open(
    ctx: &Ctx,
    reader: &Reader,
    stream: &str,
    key: &str,
    start: StreamStart,
    latest_at: &mut Option<crate::cloud::Time>,
) -> Result<Option<String>, ()> {
    let shard = reader.shard.as_str();
    let stored = match &reader.lease {
        Some((l, epoch)) => l
            .checkpoint_of(shard, *epoch)
            .await
            .map_err(|_| "the lease was lost".to_string()),
        None => ctx.checkpoints.get(ctx, key, shard),
    };
    let position = match stored {
        Ok(Some(seq)) => ShardPosition::AfterSequence(seq),
        Ok(None) => match (start, *latest_at) {
            (StreamStart::TrimHorizon, _) => ShardPosition::TrimHorizon,
            (StreamStart::At(t), _) => ShardPosition::AtTimestamp(t),
            (StreamStart::Latest, Some(t)) => ShardPosition::AtTimestamp(t),
            (StreamStart::Latest, None) => {
                // Everything that arrives after this moment is new.
                *latest_at = Some(ctx.cloud.now() + chrono::Duration::milliseconds(1));
                ShardPosition::Latest
            }
        },
        Err(e) => {
            // Without the checkpoint we could repeat or skip records: wait for the store.
            let err = CloudError::new(ErrorKind::Other, "store", "GetCheckpoint", e)
                .with_resource(format!("{stream}/{shard}"));
            ctx.health.error(Source::Streams, &err).await;
            return Err(());
        }
    };
    let opened = ctx
        .call(Source::Streams, || {
            ctx.cloud
                .get_shard_iterator(stream, shard, position.clone())
        })
        .await;
    match opened {
        Ok(it) => Ok(Some(it)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind == ErrorKind::InvalidRequest => {
            let ShardPosition::AfterSequence(seq) = &position else {
                return Err(());
            };
            let err = CloudError::new(
                ErrorKind::InvalidRequest,
                "kinesis",
                "GetShardIterator",
                format!(
                    "the checkpoint {} is not a position of this shard (malformed, or beyond its end): reading the shard from TRIM_HORIZON ({})",
                    crate::sanitize::clean(seq),
                    e.message
                ),
            )
            .with_resource(format!("{stream}/{shard}"));
            ctx.health.error(Source::Streams, &err).await;
            match ctx
                .call(Source::Streams, || {
                    ctx.cloud
                        .get_shard_iterator(stream, shard, ShardPosition::TrimHorizon)
                })
                .await
            {
                Ok(it) => Ok(Some(it)),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                Err(_) => Err(()),
            }
        }
        Err(_) => Err(()),
    }
}

/// Judges a batch and sends its points, anomalies and rejects; `false` once the app has gone.
async fn handle_batch(
    ctx: &Ctx,
    shared: &StreamShared,
    shard: &str,
    records: &[crate::cloud::StreamRecord],
) -> bool {
    let Some(judge) = &shared.judge else {
        return true;
    };
    if records.is_empty() {
        return true;
    }
    let mut points = Vec::with_capacity(records.len());
    let mut anomalies = Vec::new();
    let mut rejected: Vec<RejectedRecord> = Vec::new();
    {
        let mut judge = judge.lock().unwrap_or_else(|e| e.into_inner());
        for r in records {
            match judge.judge(&shared.stream, shard, r) {
                Judged::Reading { point, anomaly } => {
                    points.push(point);
                    anomalies.extend(anomaly);
                }
                Judged::Rejected(r) => rejected.push(r),
            }
        }
    }
    count_batch(shared, shard, records.len(), rejected);
    if !points.is_empty() && !ctx.emit(Event::Temperatures(points)).await {
        return false;
    }
    if !anomalies.is_empty() && !ctx.emit(Event::TemperatureAnomalies(anomalies)).await {
        return false;
    }
    true
}

/// Adds a batch to its shard's counters and keeps the newest rejects for inspection.
fn count_batch(shared: &StreamShared, shard: &str, records: usize, rejected: Vec<RejectedRecord>) {
    shared.update(shard, |s| {
        s.records_total += records as u64;
        s.rejected_total += rejected.len() as u64;
        s.last_rejected.extend(rejected);
        let excess = s.last_rejected.len().saturating_sub(KEEP_REJECTED);
        s.last_rejected.drain(..excess);
    });
}
