//! Shard leases in a DynamoDB table, the way the Kinesis Client Library shares a stream
//! between workers: `process stream --lease-table NAME` on many machines splits the shards.
//!
//! One item per (stream identity, shard): `stream` (hash key, [`crate::cloud::StreamIdentity::key`]),
//! `shard` (range key), `owner`, `counter`, `checkpoint`, `owner_switches`.
//!
//! - Every write of a lease bumps its `counter` and is conditional on the counter this worker
//!   last saw (and, for a lease it holds, on being its owner): of two writers one wins, and a
//!   worker whose write fails has lost the lease — it stops reading that shard at once and
//!   never checkpoints it again.
//! - The holder renews its leases every third of the lease period; checkpoints live in the
//!   lease and are written the same way, so a checkpoint never lands on a lease someone else
//!   took.
//! - Expiry is observed, not computed from clocks: a lease whose counter this worker has not
//!   seen move for a whole lease period is expired (its holder died or is cut off) and may be
//!   taken. A worker that could not renew for a lease period stops reading on its own.
//! - Balance: live workers are the distinct owners of unexpired leases plus this one; each
//!   takes unowned or expired leases up to its fair share, ceil(shards / live workers), and,
//!   when none is free and it is below its share, steals one lease per cycle from the most
//!   loaded worker if that one holds more than the share.
//! - A shard read to its end is checkpointed [`SHARD_END`]: it counts for no one's share, and
//!   its children may start on whichever worker holds them.

use crate::cloud::{AttrValue, Cloud, CloudError, Condition, ErrorKind, Item, Query};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The checkpoint of a shard read to its end.
pub const SHARD_END: &str = "SHARD_END";
/// The lease period when none is given: a dead worker's shards are taken over within about
/// this plus one renew interval.
pub const DEFAULT_LEASE_PERIOD: Duration = Duration::from_secs(10);

const HASH_KEY: &str = "stream";
const RANGE_KEY: &str = "shard";
const OWNER: &str = "owner";
const COUNTER: &str = "counter";
const CHECKPOINT: &str = "checkpoint";
const SWITCHES: &str = "owner_switches";

/// Where the leases are and how long one lasts unrenewed.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseSettings {
    pub table: String,
    pub period: Duration,
    /// This worker's name in the `owner` attribute (one per process run).
    pub worker: String,
}

impl LeaseSettings {
    /// Renewals (and the balancing that goes with them) happen this often.
    pub fn renew_interval(&self) -> Duration {
        self.period / ROUNDS_PER_PERIOD
    }
}

/// One lease as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub shard: String,
    pub owner: Option<String>,
    pub counter: u64,
    pub checkpoint: Option<String>,
    pub owner_switches: u64,
}

impl Lease {
    fn finished(&self) -> bool {
        self.checkpoint.as_deref() == Some(SHARD_END)
    }

    fn item(&self, stream: &str) -> Item {
        let mut item = Item::new();
        item.insert(HASH_KEY.into(), AttrValue::S(stream.into()));
        item.insert(RANGE_KEY.into(), AttrValue::S(self.shard.clone()));
        item.insert(COUNTER.into(), AttrValue::N(self.counter.to_string()));
        item.insert(
            SWITCHES.into(),
            AttrValue::N(self.owner_switches.to_string()),
        );
        if let Some(o) = &self.owner {
            item.insert(OWNER.into(), AttrValue::S(o.clone()));
        }
        if let Some(c) = &self.checkpoint {
            item.insert(CHECKPOINT.into(), AttrValue::S(c.clone()));
        }
        item
    }

    fn from_item(item: &Item) -> Option<Lease> {
        let s = |k: &str| match item.get(k) {
            Some(AttrValue::S(v)) if !v.is_empty() => Some(v.clone()),
            _ => None,
        };
        let n = |k: &str| match item.get(k) {
            Some(AttrValue::N(v)) => v.parse::<u64>().ok(),
            _ => None,
        };
        Some(Lease {
            shard: s(RANGE_KEY)?,
            owner: s(OWNER),
            counter: n(COUNTER).unwrap_or(0),
            checkpoint: s(CHECKPOINT),
            owner_switches: n(SWITCHES).unwrap_or(0),
        })
    }
}

/// A lease this worker holds.
#[derive(Debug, Clone)]
struct Held {
    lease: Lease,
    /// Told to the reader started for it: a lease lost and taken again gets a new epoch,
    /// so the old reader cannot go on under the new one.
    epoch: u64,
    /// The last write that succeeded; unrenewed for a lease period, the lease is treated as
    /// lost, since another worker may already have taken it.
    renewed_at: Instant,
}

/// What another lease looked like, and since when (this worker's clock and rounds).
#[derive(Debug, Clone)]
struct Seen {
    lease: Lease,
    moved_at: Instant,
    /// This worker's rounds that found the counter where it was.
    still: u32,
}

/// Rounds (each a third of the lease period) a counter must stay still for its lease to
/// expire: the period itself. Counted in rounds rather than compared with the clock alone,
/// because three rounds of a third are a few nanoseconds short of a period and a clock-only
/// test would wait for a fourth round half of the time.
const ROUNDS_PER_PERIOD: u32 = 3;

/// Why a checkpoint did not land.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckpointError {
    /// The lease is no longer this worker's (taken, or unrenewed for a lease period): stop
    /// reading the shard.
    Lost,
    /// The write failed for another reason (network, throttling); the lease may still be held.
    Failed(String),
}

/// A change the last cycle made, for the operator's log.
#[derive(Debug, Clone, PartialEq)]
pub enum LeaseChange {
    Taken { shard: String, from: Option<String> },
    Lost { shard: String },
}

/// The leases of one stream identity, as this worker sees and holds them.
pub struct Leases {
    cloud: Arc<dyn Cloud>,
    settings: LeaseSettings,
    /// The stream identity's key: the hash key of every lease.
    stream: String,
    /// Serialises this worker's writes: a renewal and a checkpoint of one lease must not race
    /// on the counter.
    held: tokio::sync::Mutex<BTreeMap<String, Held>>,
    seen: std::sync::Mutex<BTreeMap<String, Seen>>,
    shards: std::sync::Mutex<BTreeSet<String>>,
    epochs: AtomicU64,
    /// Signalled when this worker takes or loses a lease (the supervisor starts readers).
    pub changed: tokio::sync::Notify,
}

impl Leases {
    pub fn new(cloud: Arc<dyn Cloud>, settings: LeaseSettings, stream: &str) -> Leases {
        Leases {
            cloud,
            settings,
            stream: stream.to_string(),
            held: tokio::sync::Mutex::new(BTreeMap::new()),
            seen: std::sync::Mutex::new(BTreeMap::new()),
            shards: std::sync::Mutex::new(BTreeSet::new()),
            epochs: AtomicU64::new(0),
            changed: tokio::sync::Notify::new(),
        }
    }

    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    /// The shards the stream has now (the supervisor's listing): each gets a lease.
    pub fn set_shards(&self, shards: impl IntoIterator<Item = String>) {
        *self.shards.lock().unwrap_or_else(|e| e.into_inner()) = shards.into_iter().collect();
    }

    /// The shards this worker holds, with the epoch of each.
    pub async fn held(&self) -> BTreeMap<String, u64> {
        let held = self.held.lock().await;
        held.iter()
            .filter(|(_, h)| h.renewed_at.elapsed() < self.settings.period)
            .map(|(s, h)| (s.clone(), h.epoch))
            .collect()
    }

    /// Shards some worker read to their end (their children may start).
    pub fn finished(&self) -> BTreeSet<String> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|s| s.lease.finished())
            .map(|s| s.lease.shard.clone())
            .collect()
    }

    /// Whether this worker still holds the shard under `epoch` (a reader asks before each
    /// batch).
    pub async fn holds(&self, shard: &str, epoch: u64) -> bool {
        let held = self.held.lock().await;
        held.get(shard)
            .is_some_and(|h| h.epoch == epoch && h.renewed_at.elapsed() < self.settings.period)
    }

    /// The checkpoint stored in the lease this worker holds.
    pub async fn checkpoint_of(
        &self,
        shard: &str,
        epoch: u64,
    ) -> Result<Option<String>, CheckpointError> {
        let held = self.held.lock().await;
        match held.get(shard) {
            Some(h) if h.epoch == epoch => Ok(h.lease.checkpoint.clone()),
            _ => Err(CheckpointError::Lost),
        }
    }

    /// Renews one lease now, conditional like every write: a reader calls it before it hands
    /// records to the processor, so a lease stolen since the last renewal is noticed before a
    /// record is handled under it, not after. `false`: lost (the reader stops).
    pub async fn confirm(&self, shard: &str, epoch: u64) -> bool {
        let mut held = self.held.lock().await;
        let Some(h) = held.get(shard).filter(|h| h.epoch == epoch) else {
            return false;
        };
        if h.renewed_at.elapsed() >= self.settings.period {
            held.remove(shard);
            self.changed.notify_one();
            return false;
        }
        let lease = h.lease.clone();
        match self.write_held(&lease).await {
            Ok(written) => {
                self.remember(&written, false);
                if let Some(h) = held.get_mut(shard) {
                    h.lease = written;
                    h.renewed_at = Instant::now();
                }
                true
            }
            Err(e) if e.kind == ErrorKind::ConditionFailed => {
                held.remove(shard);
                self.changed.notify_one();
                false
            }
            // The table did not answer: the lease stands until it lapses (a period unrenewed).
            Err(_) => true,
        }
    }

    /// Writes the checkpoint into the lease, on condition that this worker still owns it
    /// with the counter it last wrote. A failed condition means the lease was taken: it is
    /// dropped and the shard must not be read on.
    pub async fn checkpoint(
        &self,
        shard: &str,
        epoch: u64,
        seq: &str,
    ) -> Result<(), CheckpointError> {
        let mut held = self.held.lock().await;
        let Some(h) = held.get(shard).filter(|h| h.epoch == epoch) else {
            return Err(CheckpointError::Lost);
        };
        if h.renewed_at.elapsed() >= self.settings.period {
            held.remove(shard);
            self.changed.notify_one();
            return Err(CheckpointError::Lost);
        }
        let mut next = h.lease.clone();
        next.checkpoint = Some(seq.to_string());
        let finished = seq == SHARD_END;
        match self.write_held(&next).await {
            Ok(written) => {
                if finished {
                    // A finished shard needs no renewing; its lease stays as the record of
                    // the end, which other workers read to start the children.
                    held.remove(shard);
                    self.remember(&written, false);
                } else if let Some(h) = held.get_mut(shard) {
                    h.lease = written;
                    h.renewed_at = Instant::now();
                }
                Ok(())
            }
            Err(e) if e.kind == ErrorKind::ConditionFailed => {
                held.remove(shard);
                self.changed.notify_one();
                Err(CheckpointError::Lost)
            }
            Err(e) => Err(CheckpointError::Failed(e.to_string())),
        }
    }

    /// The lease written with its counter bumped, on condition that it is still ours as we
    /// last wrote it.
    async fn write_held(&self, lease: &Lease) -> Result<Lease, CloudError> {
        let mut next = lease.clone();
        next.counter = lease.counter + 1;
        let condition = Condition::And(
            Box::new(Condition::Equals(
                COUNTER.into(),
                AttrValue::N(lease.counter.to_string()),
            )),
            Box::new(Condition::Equals(
                OWNER.into(),
                AttrValue::S(self.settings.worker.clone()),
            )),
        );
        self.cloud
            .put_item(
                &self.settings.table,
                next.item(&self.stream),
                Some(condition),
            )
            .await?;
        Ok(next)
    }

    /// Notes a lease as this worker wrote it or read it; `round`: read by a round of
    /// [`Self::cycle`], which counts towards its expiry when the counter has not moved.
    fn remember(&self, lease: &Lease, round: bool) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match seen.get_mut(&lease.shard) {
            Some(s) if s.lease.counter == lease.counter => {
                s.lease = lease.clone();
                if round {
                    s.still += 1;
                }
            }
            _ => {
                seen.insert(
                    lease.shard.clone(),
                    Seen {
                        lease: lease.clone(),
                        moved_at: now,
                        still: 0,
                    },
                );
            }
        }
    }

    /// One round of the lease protocol: renew what we hold, read every lease, create the
    /// missing ones, take free or expired ones up to our share, steal one if still short.
    /// Errors of the table (a read that failed) end the round early; the next round tries
    /// again.
    pub async fn cycle(&self) -> Result<Vec<LeaseChange>, CloudError> {
        let mut changes = Vec::new();
        self.renew(&mut changes).await;
        let mut leases = list(self.cloud.as_ref(), &self.settings.table, &self.stream).await?;
        let known: BTreeSet<String> = leases.iter().map(|l| l.shard.clone()).collect();
        let missing: Vec<String> = self
            .shards
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .difference(&known)
            .cloned()
            .collect();
        for shard in missing {
            let lease = Lease {
                shard: shard.clone(),
                owner: None,
                counter: 0,
                checkpoint: None,
                owner_switches: 0,
            };
            match self
                .cloud
                .put_item(
                    &self.settings.table,
                    lease.item(&self.stream),
                    Some(Condition::AttributeNotExists(RANGE_KEY.into())),
                )
                .await
            {
                Ok(()) => leases.push(lease),
                // Another worker created it first: seen at the next round.
                Err(e) if e.kind == ErrorKind::ConditionFailed => {}
                Err(e) => return Err(e),
            }
        }
        for l in &leases {
            self.remember(l, true);
        }
        self.balance(&leases, &mut changes).await;
        Ok(changes)
    }

    async fn renew(&self, changes: &mut Vec<LeaseChange>) {
        let mut held = self.held.lock().await;
        let shards: Vec<String> = held.keys().cloned().collect();
        for shard in shards {
            let Some((lease, renewed_at)) =
                held.get(&shard).map(|h| (h.lease.clone(), h.renewed_at))
            else {
                continue;
            };
            match self.write_held(&lease).await {
                Ok(written) => {
                    self.remember(&written, false);
                    if let Some(h) = held.get_mut(&shard) {
                        h.lease = written;
                        h.renewed_at = Instant::now();
                    }
                }
                Err(e) if e.kind == ErrorKind::ConditionFailed => {
                    held.remove(&shard);
                    changes.push(LeaseChange::Lost { shard });
                }
                Err(_) => {
                    // Unreachable table: the lease lapses on its own after a period.
                    if renewed_at.elapsed() >= self.settings.period {
                        held.remove(&shard);
                        changes.push(LeaseChange::Lost { shard });
                    }
                }
            }
        }
        if !changes.is_empty() {
            self.changed.notify_one();
        }
    }

    /// Takes unowned or expired leases up to the fair share, else steals one.
    async fn balance(&self, leases: &[Lease], changes: &mut Vec<LeaseChange>) {
        let me = &self.settings.worker;
        let period = self.settings.period;
        let mine: BTreeSet<String> = self.held.lock().await.keys().cloned().collect();
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        // Still for a period's worth of rounds, and (should rounds come faster than a third
        // of the period) for most of a period on the clock.
        let expired = |l: &Lease| {
            l.owner.is_none()
                || seen.get(&l.shard).is_none_or(|s| {
                    s.still >= ROUNDS_PER_PERIOD
                        && s.moved_at.elapsed() + self.settings.renew_interval() / 2 >= period
                })
        };
        let active: Vec<&Lease> = leases.iter().filter(|l| !l.finished()).collect();
        if active.is_empty() {
            return;
        }
        let mut load: BTreeMap<&str, Vec<&Lease>> = BTreeMap::new();
        for l in &active {
            if mine.contains(&l.shard) {
                continue;
            }
            if let Some(owner) = l.owner.as_deref().filter(|_| !expired(l)) {
                load.entry(owner).or_default().push(l);
            }
        }
        load.remove(me.as_str());
        let workers = load.len() + 1;
        let target = active.len().div_ceil(workers);
        let holding = active.iter().filter(|l| mine.contains(&l.shard)).count();
        if holding >= target {
            return;
        }
        let free: Vec<&Lease> = active
            .iter()
            .copied()
            .filter(|l| !mine.contains(&l.shard) && (expired(l) || l.owner.as_deref() == Some(me)))
            .collect();
        let mut wanted = target - holding;
        if !free.is_empty() {
            for l in free {
                if wanted == 0 {
                    break;
                }
                if self.take(l, changes).await {
                    wanted -= 1;
                }
            }
            return;
        }
        // Nothing free: one lease from the most loaded worker, if it holds more than its share.
        let busiest = load
            .iter()
            .max_by_key(|(owner, ls)| (ls.len(), std::cmp::Reverse(*owner)))
            .filter(|(_, ls)| ls.len() > target);
        if let Some((_, ls)) = busiest
            && let Some(l) = ls.last()
        {
            self.take(l, changes).await;
        }
    }

    /// Takes a lease as last seen (conditional on its counter): `true` when it is ours.
    async fn take(&self, seen: &Lease, changes: &mut Vec<LeaseChange>) -> bool {
        let me = self.settings.worker.clone();
        let mut next = seen.clone();
        next.counter = seen.counter + 1;
        if seen.owner.as_deref() != Some(me.as_str()) {
            next.owner_switches = seen.owner_switches + 1;
        }
        next.owner = Some(me);
        let condition = Condition::Equals(COUNTER.into(), AttrValue::N(seen.counter.to_string()));
        let mut held = self.held.lock().await;
        match self
            .cloud
            .put_item(
                &self.settings.table,
                next.item(&self.stream),
                Some(condition),
            )
            .await
        {
            Ok(()) => {
                self.remember(&next, false);
                held.insert(
                    next.shard.clone(),
                    Held {
                        lease: next,
                        epoch: self.epochs.fetch_add(1, Ordering::SeqCst) + 1,
                        renewed_at: Instant::now(),
                    },
                );
                changes.push(LeaseChange::Taken {
                    shard: seen.shard.clone(),
                    from: seen.owner.clone(),
                });
                self.changed.notify_one();
                true
            }
            Err(_) => false,
        }
    }
}

/// Hands back the leases `worker` holds on a stream (`stream`: its identity key) when a worker
/// stops cleanly: each unfinished one loses its owner (conditional on the owner and the counter
/// just read, the checkpoint kept), so the others take it at their next round instead of after
/// a lease period. A lease whose counter moved meanwhile (a last renewal of the stopping
/// worker) is read again, up to three times. Returns how many were handed back.
pub async fn release_all(
    cloud: &dyn Cloud,
    table: &str,
    stream: &str,
    worker: &str,
) -> Result<usize, CloudError> {
    let mut released = 0;
    for _ in 0..3 {
        let mine: Vec<Lease> = list(cloud, table, stream)
            .await?
            .into_iter()
            .filter(|l| l.owner.as_deref() == Some(worker) && !l.finished())
            .collect();
        if mine.is_empty() {
            break;
        }
        for lease in mine {
            let mut next = lease.clone();
            next.owner = None;
            next.counter = lease.counter + 1;
            let condition = Condition::And(
                Box::new(Condition::Equals(
                    COUNTER.into(),
                    AttrValue::N(lease.counter.to_string()),
                )),
                Box::new(Condition::Equals(OWNER.into(), AttrValue::S(worker.into()))),
            );
            match cloud
                .put_item(table, next.item(stream), Some(condition))
                .await
            {
                Ok(()) => released += 1,
                Err(e) if e.kind == ErrorKind::ConditionFailed => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(released)
}

/// Every lease of a stream (`stream`: its identity key) as the table holds it now.
async fn list(cloud: &dyn Cloud, table: &str, stream: &str) -> Result<Vec<Lease>, CloudError> {
    let items = cloud
        .query(Query {
            table: table.to_string(),
            hash_key: HASH_KEY.into(),
            hash_value: AttrValue::S(stream.to_string()),
            limit: None,
            newest_first: false,
        })
        .await?;
    Ok(items.iter().filter_map(Lease::from_item).collect())
}

/// Creates the lease table when it does not exist (and waits until it is ACTIVE).
pub async fn ensure_table(cloud: &dyn Cloud, table: &str) -> Result<(), CloudError> {
    // One item of a key no lease has: answers once the table exists and is ACTIVE.
    let probe = || {
        cloud.query(Query {
            table: table.to_string(),
            hash_key: HASH_KEY.into(),
            hash_value: AttrValue::S("-".into()),
            limit: Some(1),
            newest_first: false,
        })
    };
    match probe().await {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::NotFound => {
            match cloud.create_table(table, HASH_KEY, Some(RANGE_KEY)).await {
                Ok(()) => Ok(()),
                // Another worker created it meanwhile (ResourceInUseException): wait for it.
                Err(e) if e.kind == ErrorKind::InvalidRequest => {
                    for _ in 0..120 {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        if probe().await.is_ok() {
                            return Ok(());
                        }
                    }
                    Err(e)
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::sim::{SimCloud, SimOptions};

    const TABLE: &str = "leases";
    const PERIOD: Duration = Duration::from_secs(10);

    const STREAM: &str = "arn:aws:kinesis:us-east-1:1:stream/s@2026-01-01T00:00:00Z";

    /// A paused demo account with the lease table, and workers `a` and `b` on `shards`: every
    /// test's setup (the one-worker test leaves `b` alone).
    async fn two_workers(shards: &[&str]) -> (Arc<dyn Cloud>, Leases, Leases) {
        let cloud: Arc<dyn Cloud> = SimCloud::new(SimOptions {
            paused: true,
            ..SimOptions::default()
        });
        ensure_table(cloud.as_ref(), TABLE).await.unwrap();
        // A second call finds the table and leaves it.
        ensure_table(cloud.as_ref(), TABLE).await.unwrap();
        let worker = |name: &str| {
            let l = Leases::new(
                cloud.clone(),
                LeaseSettings {
                    table: TABLE.into(),
                    period: PERIOD,
                    worker: name.into(),
                },
                STREAM,
            );
            l.set_shards(shards.iter().map(|s| s.to_string()));
            l
        };
        let (a, b) = (worker("a"), worker("b"));
        (cloud, a, b)
    }

    async fn stored(cloud: &Arc<dyn Cloud>, shard: &str) -> Lease {
        list(cloud.as_ref(), TABLE, STREAM)
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.shard == shard)
            .unwrap()
    }

    async fn holding(l: &Leases) -> Vec<String> {
        l.held().await.into_keys().collect()
    }

    const FOUR: [&str; 4] = ["s0", "s1", "s2", "s3"];

    /// A lone worker takes every lease; a second one steals one per round from it until each
    /// holds its fair share, and then nothing moves any more.
    #[tokio::test(start_paused = true)]
    async fn two_workers_split_the_shards_evenly() {
        let (cloud, a, b) = two_workers(&FOUR).await;
        a.cycle().await.unwrap();
        assert_eq!(holding(&a).await, FOUR);
        b.cycle().await.unwrap();
        assert_eq!(holding(&b).await.len(), 1, "one steal per round");
        for _ in 0..4 {
            tokio::time::advance(PERIOD / 3).await;
            a.cycle().await.unwrap();
            b.cycle().await.unwrap();
        }
        let (ha, hb) = (holding(&a).await, holding(&b).await);
        assert_eq!((ha.len(), hb.len()), (2, 2), "{ha:?} {hb:?}");
        assert!(ha.iter().all(|s| !hb.contains(s)), "{ha:?} {hb:?}");
        for s in &ha {
            assert_eq!(stored(&cloud, s).await.owner.as_deref(), Some("a"));
        }
        for s in &hb {
            let l = stored(&cloud, s).await;
            assert_eq!(l.owner.as_deref(), Some("b"));
            assert_eq!(l.owner_switches, 2, "nobody -> a -> b");
        }
        // Balanced: further rounds change no owner.
        for _ in 0..6 {
            tokio::time::advance(PERIOD / 3).await;
            a.cycle().await.unwrap();
            b.cycle().await.unwrap();
        }
        assert_eq!((holding(&a).await, holding(&b).await), (ha, hb));
    }

    /// A worker that stops renewing (killed) keeps its leases for one lease period as seen by
    /// the survivor, which then takes all of them, checkpoints included.
    #[tokio::test(start_paused = true)]
    async fn a_dead_workers_leases_are_taken_after_one_period() {
        let (_, a, b) = two_workers(&["s0", "s1"]).await;
        a.cycle().await.unwrap();
        b.cycle().await.unwrap();
        a.cycle().await.unwrap();
        let ha = holding(&a).await;
        assert_eq!(ha.len(), 1);
        let epoch = a.held().await[&ha[0]];
        a.checkpoint(&ha[0], epoch, "0042").await.unwrap();
        // `a` dies here: no more rounds.
        let mut waited = Duration::ZERO;
        while holding(&b).await.len() < 2 {
            tokio::time::advance(PERIOD / 3).await;
            waited += PERIOD / 3;
            b.cycle().await.unwrap();
            assert!(waited <= PERIOD * 2, "not taken over after {waited:?}");
        }
        // `b` sees a's last write (the checkpoint) at its next round, and the lease expires
        // three rounds (one period) after that.
        assert_eq!(waited, PERIOD / 3 * 4, "taken over after {waited:?}");
        let epoch = b.held().await[&ha[0]];
        assert_eq!(
            b.checkpoint_of(&ha[0], epoch).await.unwrap().as_deref(),
            Some("0042"),
            "the dead worker's checkpoint comes with its lease"
        );
    }

    /// The lease state machine with a stolen lease: the old holder's checkpoint is refused,
    /// it no longer holds the shard, and the checkpoint in the table stays the new holder's.
    #[tokio::test(start_paused = true)]
    async fn a_worker_that_lost_its_lease_never_moves_the_checkpoint() {
        let (cloud, a, b) = two_workers(&["s0", "s1"]).await;
        a.cycle().await.unwrap();
        let before = a.held().await;
        for (shard, epoch) in &before {
            a.checkpoint(shard, *epoch, "0100").await.unwrap();
        }
        b.cycle().await.unwrap();
        let stolen = holding(&b).await;
        assert_eq!(stolen.len(), 1);
        let shard = &stolen[0];
        let b_epoch = b.held().await[shard];
        b.checkpoint(shard, b_epoch, "0150").await.unwrap();
        // `a` has not renewed since: it still believes it holds the shard.
        let a_epoch = before[shard];
        assert!(a.holds(shard, a_epoch).await);
        assert_eq!(
            a.checkpoint(shard, a_epoch, "0200").await,
            Err(CheckpointError::Lost)
        );
        assert!(!a.holds(shard, a_epoch).await, "a reader must stop at once");
        assert_eq!(
            a.checkpoint(shard, a_epoch, "0300").await,
            Err(CheckpointError::Lost)
        );
        let l = stored(&cloud, shard).await;
        assert_eq!(l.checkpoint.as_deref(), Some("0150"));
        assert_eq!(l.owner.as_deref(), Some("b"));
        // The other shard is still `a`'s, and its renewals go on.
        tokio::time::advance(PERIOD / 3).await;
        assert!(a.cycle().await.unwrap().is_empty());
        assert_eq!(holding(&a).await.len(), 1);
    }

    /// A renewal finds the lease stolen: it is reported lost and no longer held.
    #[tokio::test(start_paused = true)]
    async fn a_renewal_notices_a_stolen_lease() {
        let (_, a, b) = two_workers(&["s0", "s1"]).await;
        a.cycle().await.unwrap();
        b.cycle().await.unwrap();
        let stolen = holding(&b).await[0].clone();
        let changes = a.cycle().await.unwrap();
        assert_eq!(
            changes,
            vec![LeaseChange::Lost {
                shard: stolen.clone()
            }]
        );
        assert!(!holding(&a).await.contains(&stolen));
    }

    /// A worker cut off from the table stops reading by itself after one lease period, since
    /// by then another worker may hold the shard.
    #[tokio::test(start_paused = true)]
    async fn an_unrenewed_lease_is_not_held_after_a_period() {
        let (_, a, _) = two_workers(&["s0"]).await;
        a.cycle().await.unwrap();
        let epoch = a.held().await["s0"];
        tokio::time::advance(PERIOD).await;
        assert!(!a.holds("s0", epoch).await);
        assert_eq!(
            a.checkpoint("s0", epoch, "9").await,
            Err(CheckpointError::Lost)
        );
    }

    /// A worker that stops cleanly hands its leases back with their checkpoints: another
    /// worker takes them at its next round, without waiting for a lease period.
    #[tokio::test(start_paused = true)]
    async fn handed_back_leases_are_taken_at_the_next_round() {
        let (cloud, a, b) = two_workers(&["s0", "s1"]).await;
        a.cycle().await.unwrap();
        for (shard, epoch) in a.held().await {
            a.checkpoint(&shard, epoch, "0007").await.unwrap();
        }
        b.cycle().await.unwrap();
        assert_eq!(holding(&b).await.len(), 1);
        assert_eq!(
            release_all(cloud.as_ref(), TABLE, STREAM, "a")
                .await
                .unwrap(),
            1
        );
        // Nothing of a's is left to hand back, and b's lease was not touched.
        assert_eq!(
            release_all(cloud.as_ref(), TABLE, STREAM, "a")
                .await
                .unwrap(),
            0
        );
        tokio::time::advance(PERIOD / 3).await;
        b.cycle().await.unwrap();
        assert_eq!(holding(&b).await.len(), 2, "taken at the next round");
        for s in ["s0", "s1"] {
            let l = stored(&cloud, s).await;
            assert_eq!(l.owner.as_deref(), Some("b"));
            assert_eq!(l.checkpoint.as_deref(), Some("0007"), "{s}");
        }
    }

    /// A shard read to its end is marked in its lease: every worker sees it finished, it
    /// counts for no one's share, and nobody takes it.
    #[tokio::test(start_paused = true)]
    async fn a_finished_shard_counts_for_no_one() {
        let (cloud, a, b) = two_workers(&["parent", "c1", "c2"]).await;
        a.cycle().await.unwrap();
        let epoch = a.held().await["parent"];
        a.checkpoint("parent", epoch, SHARD_END).await.unwrap();
        assert!(!holding(&a).await.contains(&"parent".to_string()));
        for _ in 0..3 {
            tokio::time::advance(PERIOD * 2).await;
            b.cycle().await.unwrap();
            a.cycle().await.unwrap();
        }
        assert!(b.finished().contains("parent"));
        let (ha, hb) = (holding(&a).await, holding(&b).await);
        assert_eq!((ha.len(), hb.len()), (1, 1), "{ha:?} {hb:?}");
        assert!(!hb.contains(&"parent".to_string()));
        assert_eq!(stored(&cloud, "parent").await.owner.as_deref(), Some("a"));
    }
}
