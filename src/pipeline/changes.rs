//! Counting changed blocks between two EBS snapshots — the number the changed-block pipeline publishes as
//! `BACKUP_CHANGED_BLOCKS` — through the `Cloud` seam, so it runs the same on AWS and on the
//! simulated account.
//!
//! A count is the number of entries EBS ListChangedBlocks returns for the pair, paged with
//! MaxResults 10,000 to the end: the loop stops when NextToken is absent *or empty* (the
//! original tested `!== null` and could spin). Pages are retried with back-off through
//! [`super::retry`], many pairs are counted with bounded concurrency, and results are cached
//! in the store by (first, second): snapshots are immutable, so a pair's count never changes.
//! A volume's first snapshot (no previous one) counts every block written in it
//! (ListSnapshotBlocks).

// CloudError is the seam's shared error type; its size is a given here, not a choice.
#![allow(clippy::result_large_err)]

use super::retry::{AdaptiveLimiter, RetryPolicy, retry};
use crate::cloud::{
    BlockPage, Cloud, CloudError, CloudResult, ErrorKind, ListChangedBlocks, ListSnapshotBlocks,
};
use crate::store::Store;
use async_trait::async_trait;
use std::sync::Arc;

pub use crate::store::ChangeCount;

/// The largest page EBS serves, and what the original asks for.
pub const MAX_RESULTS: i32 = 10_000;

/// Pairs counted at once by default: enough to hide the per-page latency, well below the
/// EBS direct API's per-account request rate.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// One pair to count: `first` is `None` for a volume's first snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SnapshotPair {
    pub first: Option<String>,
    pub second: String,
}

impl SnapshotPair {
    pub fn new(first: Option<&str>, second: &str) -> Self {
        SnapshotPair {
            first: first.map(str::to_string),
            second: second.to_string(),
        }
    }
}

/// The two EBS listings change counting needs. Every `Cloud` is one (through
/// [`ChangeCounter::new`]); tests can supply a narrower source.
#[async_trait]
pub trait BlockSource: Send + Sync + 'static {
    async fn list_changed_blocks(&self, request: ListChangedBlocks) -> CloudResult<BlockPage>;
    async fn list_snapshot_blocks(&self, request: ListSnapshotBlocks) -> CloudResult<BlockPage>;
}

struct CloudBlocks(Arc<dyn Cloud>);

#[async_trait]
impl BlockSource for CloudBlocks {
    async fn list_changed_blocks(&self, request: ListChangedBlocks) -> CloudResult<BlockPage> {
        self.0.list_changed_blocks(request).await
    }
    async fn list_snapshot_blocks(&self, request: ListSnapshotBlocks) -> CloudResult<BlockPage> {
        self.0.list_snapshot_blocks(request).await
    }
}

/// Counts changed blocks; cheap to clone (everything inside is shared).
#[derive(Clone)]
pub struct ChangeCounter {
    source: Arc<dyn BlockSource>,
    store: Option<Arc<Store>>,
    policy: RetryPolicy,
    limiter: Arc<AdaptiveLimiter>,
    concurrency: usize,
}

impl ChangeCounter {
    /// A counter over a cloud, caching in `store` when one is given.
    pub fn new(cloud: Arc<dyn Cloud>, store: Option<Arc<Store>>) -> Self {
        Self::with_source(Arc::new(CloudBlocks(cloud)), store)
    }

    pub fn with_source(source: Arc<dyn BlockSource>, store: Option<Arc<Store>>) -> Self {
        ChangeCounter {
            source,
            store,
            policy: RetryPolicy::default(),
            limiter: Arc::new(AdaptiveLimiter::default()),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Shares a limiter with other EBS callers, so throttling seen by one slows all.
    pub fn with_limiter(mut self, limiter: Arc<AdaptiveLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// How many pairs [`count_many`](Self::count_many) counts at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    pub fn limiter(&self) -> &Arc<AdaptiveLimiter> {
        &self.limiter
    }

    /// The count for one pair, from the cache when it was counted before.
    pub async fn count(&self, first: Option<&str>, second: &str) -> CloudResult<ChangeCount> {
        if let Some(store) = &self.store
            && let Ok(Some(hit)) = store.change_count(first, second)
        {
            return Ok(hit);
        }
        let counted = match first {
            Some(first) => self.count_changed(first, second).await?,
            None => self.count_written(second).await?,
        };
        if let Some(store) = &self.store {
            // A cache that cannot be written only costs a recount later; the count stands.
            let _ = store.put_change_count(first, second, &counted);
        }
        Ok(counted)
    }

    /// Counts many pairs, at most `concurrency` at once; results come back in input order.
    pub async fn count_many(&self, pairs: &[SnapshotPair]) -> Vec<CloudResult<ChangeCount>> {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, pair) in pairs.iter().cloned().enumerate() {
            let counter = self.clone();
            let semaphore = semaphore.clone();
            tasks.spawn(async move {
                // The semaphore is never closed, so acquiring only fails if it were.
                let _permit = semaphore.acquire_owned().await;
                (i, counter.count(pair.first.as_deref(), &pair.second).await)
            });
        }
        let mut out: Vec<Option<CloudResult<ChangeCount>>> = vec![None; pairs.len()];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, r)) => out[i] = Some(r),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        out.into_iter()
            .map(|r| r.expect("every spawned pair reports once"))
            .collect()
    }

    async fn count_changed(&self, first: &str, second: &str) -> CloudResult<ChangeCount> {
        let mut total = Tally::default();
        let mut token: Option<String> = None;
        loop {
            let request = ListChangedBlocks {
                first_snapshot_id: Some(first.to_string()),
                second_snapshot_id: second.to_string(),
                next_token: token.clone(),
                max_results: Some(MAX_RESULTS),
            };
            let page = retry(&self.policy, Some(&self.limiter), || {
                self.source.list_changed_blocks(request.clone())
            })
            .await?;
            match total.add(page, token.as_deref(), "ListChangedBlocks", second)? {
                Some(next) => token = Some(next),
                None => return Ok(total.finish()),
            }
        }
    }

    async fn count_written(&self, snapshot: &str) -> CloudResult<ChangeCount> {
        let mut total = Tally::default();
        let mut token: Option<String> = None;
        loop {
            let request = ListSnapshotBlocks {
                snapshot_id: snapshot.to_string(),
                next_token: token.clone(),
                max_results: Some(MAX_RESULTS),
            };
            let page = retry(&self.policy, Some(&self.limiter), || {
                self.source.list_snapshot_blocks(request.clone())
            })
            .await?;
            match total.add(page, token.as_deref(), "ListSnapshotBlocks", snapshot)? {
                Some(next) => token = Some(next),
                None => return Ok(total.finish()),
            }
        }
    }
}

/// Running totals over the pages of one listing.
#[derive(Default)]
struct Tally {
    blocks: u64,
    block_size: i32,
    volume_size_gib: i64,
}

impl Tally {
    /// Adds a page; returns the token of the next page, or `None` at the end.
    fn add(
        &mut self,
        page: BlockPage,
        previous_token: Option<&str>,
        operation: &str,
        snapshot: &str,
    ) -> CloudResult<Option<String>> {
        self.blocks += page.block_indices.len() as u64;
        if page.block_size > 0 {
            self.block_size = page.block_size;
        }
        if page.volume_size_gib > 0 {
            self.volume_size_gib = page.volume_size_gib;
        }
        match page.next_token {
            Some(t) if !t.is_empty() => {
                // A service that hands back the token it was given would keep us paging forever.
                if previous_token == Some(t.as_str()) {
                    return Err(CloudError::new(
                        ErrorKind::Other,
                        "ebs",
                        operation,
                        "the service returned the same NextToken twice; stopped paging",
                    )
                    .with_resource(snapshot));
                }
                Ok(Some(t))
            }
            _ => Ok(None),
        }
    }

    fn finish(self) -> ChangeCount {
        ChangeCount {
            blocks: self.blocks,
            block_size: self.block_size,
            volume_size_gib: self.volume_size_gib,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Serves `pages` pages of `per_page` blocks for any pair, optionally failing the first
    /// calls with a retryable error, and records the requests it saw.
    struct Pages {
        pages: usize,
        per_page: usize,
        /// What the last page carries as its token: `None` (absent) or `Some("")` (empty).
        last_token: Option<String>,
        fail_first: AtomicUsize,
        calls: AtomicUsize,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
        requests: Mutex<Vec<ListChangedBlocks>>,
    }

    impl Pages {
        fn new(pages: usize, per_page: usize) -> Self {
            Pages {
                pages,
                per_page,
                last_token: None,
                fail_first: AtomicUsize::new(0),
                calls: AtomicUsize::new(0),
                in_flight: AtomicUsize::new(0),
                max_in_flight: AtomicUsize::new(0),
                requests: Mutex::new(Vec::new()),
            }
        }
    }

    #[async_trait]
    impl BlockSource for Pages {
        async fn list_changed_blocks(&self, r: ListChangedBlocks) -> CloudResult<BlockPage> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(2)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.requests.lock().unwrap().push(r.clone());
            if self
                .fail_first
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(CloudError::new(
                    ErrorKind::Throttling,
                    "ebs",
                    "ListChangedBlocks",
                    "slow down",
                ));
            }
            let index: usize = r.next_token.as_deref().map_or(0, |t| t.parse().unwrap());
            let next = if index + 1 < self.pages {
                Some((index + 1).to_string())
            } else {
                self.last_token.clone()
            };
            Ok(BlockPage {
                block_indices: (0..self.per_page as i32).collect(),
                block_size: 524288,
                volume_size_gib: 8,
                next_token: next,
            })
        }

        async fn list_snapshot_blocks(&self, r: ListSnapshotBlocks) -> CloudResult<BlockPage> {
            assert!(r.next_token.is_none());
            Ok(BlockPage {
                block_indices: vec![1, 2, 3],
                block_size: 524288,
                volume_size_gib: 4,
                next_token: None,
            })
        }
    }

    fn quick() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn pages_to_the_end_with_max_results() {
        let src = Arc::new(Pages::new(3, 10_000));
        let counter = ChangeCounter::with_source(src.clone(), None);
        let c = counter.count(Some("snap-a"), "snap-b").await.unwrap();
        assert_eq!(c.blocks, 30_000);
        assert_eq!((c.block_size, c.volume_size_gib), (524288, 8));
        let reqs = src.requests.lock().unwrap();
        assert_eq!(reqs.len(), 3);
        assert!(reqs.iter().all(|r| r.max_results == Some(MAX_RESULTS)));
        assert_eq!(reqs[0].next_token, None);
        assert_eq!(reqs[2].next_token.as_deref(), Some("2"));
    }

    #[tokio::test]
    async fn an_empty_token_ends_the_listing() {
        let mut pages = Pages::new(2, 5);
        pages.last_token = Some(String::new());
        let src = Arc::new(pages);
        let counter = ChangeCounter::with_source(src.clone(), None);
        assert_eq!(counter.count(Some("a"), "b").await.unwrap().blocks, 10);
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_repeated_token_is_an_error_not_a_spin() {
        let mut pages = Pages::new(1, 5);
        pages.last_token = Some("0".into());
        let counter = ChangeCounter::with_source(Arc::new(pages), None);
        let err = counter.count(Some("a"), "snap-b").await.unwrap_err();
        assert_eq!(err.resource.as_deref(), Some("snap-b"));
    }

    #[tokio::test]
    async fn throttled_pages_are_retried() {
        let pages = Pages::new(2, 7);
        pages.fail_first.store(2, Ordering::SeqCst);
        let src = Arc::new(pages);
        let counter = ChangeCounter::with_source(src.clone(), None).with_policy(quick());
        assert_eq!(counter.count(Some("a"), "b").await.unwrap().blocks, 14);
        assert_eq!(src.calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn counts_are_cached_by_pair() {
        let src = Arc::new(Pages::new(1, 3));
        let store = Arc::new(Store::in_memory().unwrap());
        let counter = ChangeCounter::with_source(src.clone(), Some(store.clone()));
        counter.count(Some("a"), "b").await.unwrap();
        counter.count(Some("a"), "b").await.unwrap();
        assert_eq!(src.calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            store.change_count(Some("a"), "b").unwrap().unwrap().blocks,
            3
        );
        counter.count(Some("b"), "a").await.unwrap();
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_first_snapshot_counts_its_written_blocks() {
        let counter = ChangeCounter::with_source(Arc::new(Pages::new(1, 1)), None);
        let c = counter.count(None, "snap-1").await.unwrap();
        assert_eq!((c.blocks, c.volume_size_gib), (3, 4));
    }

    #[tokio::test]
    async fn many_pairs_run_with_bounded_concurrency_in_order() {
        let src = Arc::new(Pages::new(1, 1));
        let counter = ChangeCounter::with_source(src.clone(), None).with_concurrency(4);
        let pairs: Vec<SnapshotPair> = (0..40)
            .map(|i| SnapshotPair::new(Some(&format!("s{i}")), &format!("s{}", i + 1)))
            .collect();
        let out = counter.count_many(&pairs).await;
        assert_eq!(out.len(), 40);
        assert!(out.iter().all(|r| r.as_ref().unwrap().blocks == 1));
        let max = src.max_in_flight.load(Ordering::SeqCst);
        assert!((2..=4).contains(&max), "max in flight {max}");
    }
}
