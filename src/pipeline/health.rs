//! Per-source health: turns the errors the tasks meet into ok / throttled / degraded, and
//! tells the app only when something changed.
//!
//! A task reports every call's outcome here; a success after failures brings the source back
//! to ok while keeping the last error text visible, so the operator can read what happened.

use super::events::{Event, HealthState, Source, SourceHealth};
use crate::cloud::{Cloud, CloudError, ErrorKind, Time};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Shared by every task; cheap to clone.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Mutex<HashMap<Source, SourceHealth>>>,
    events: mpsc::Sender<Event>,
    /// Times are the account's (virtual in the simulator), like every time in events.
    cloud: Arc<dyn Cloud>,
}

impl Health {
    pub fn new(events: mpsc::Sender<Event>, cloud: Arc<dyn Cloud>) -> Self {
        Health {
            inner: Arc::new(Mutex::new(HashMap::new())),
            events,
            cloud,
        }
    }

    /// The current health of a source (ok when nothing was reported yet).
    pub fn get(&self, source: Source) -> SourceHealth {
        self.lock()
            .get(&source)
            .cloned()
            .unwrap_or_else(|| fresh(source, self.cloud.now()))
    }

    /// The source cannot run at all in this session, for a reason that is not an error of a
    /// call (read-only needs no queue of its own): shown degraded with the reason, once.
    pub async fn unavailable(&self, source: Source, reason: &str) {
        let now = self.cloud.now();
        let h = {
            let mut map = self.lock();
            let entry = map.entry(source).or_insert_with(|| fresh(source, now));
            entry.state = HealthState::Degraded;
            entry.since = now;
            entry.last_error = Some(crate::sanitize::clean(reason));
            entry.last_error_at = Some(now);
            entry.clone()
        };
        let _ = self.events.send(Event::Health(h)).await;
    }

    /// A call of this source succeeded.
    pub async fn ok(&self, source: Source) {
        let now = self.cloud.now();
        let changed = {
            let mut map = self.lock();
            let entry = map.entry(source).or_insert_with(|| fresh(source, now));
            if entry.state == HealthState::Ok {
                None
            } else {
                entry.state = HealthState::Ok;
                entry.since = now;
                Some(entry.clone())
            }
        };
        if let Some(h) = changed {
            let _ = self.events.send(Event::Health(h)).await;
        }
    }

    /// A transient error that is being retried: the source keeps its state, but the error is
    /// shown (so the operator sees 5xx or dropped connections that were absorbed).
    pub async fn retrying(&self, source: Source, error: &CloudError) {
        let text = crate::sanitize::clean(&format!("{error} (retrying)"));
        let now = self.cloud.now();
        let changed = {
            let mut map = self.lock();
            let entry = map.entry(source).or_insert_with(|| fresh(source, now));
            let same = entry.last_error.as_deref() == Some(&text);
            entry.last_error = Some(text);
            entry.last_error_resource = error.resource.clone();
            entry.last_error_kind = Some(error.kind);
            entry.last_error_at = Some(now);
            (!same).then(|| entry.clone())
        };
        if let Some(h) = changed {
            let _ = self.events.send(Event::Health(h)).await;
        }
    }

    /// A call failed after its retries, or was throttled (throttled from the first throttle).
    pub async fn error(&self, source: Source, error: &CloudError) {
        let state = match error.kind {
            ErrorKind::Throttling => HealthState::Throttled,
            _ => HealthState::Degraded,
        };
        let text = crate::sanitize::clean(&error.to_string());
        let now = self.cloud.now();
        let changed = {
            let mut map = self.lock();
            let entry = map.entry(source).or_insert_with(|| fresh(source, now));
            let same = entry.state == state && entry.last_error.as_deref() == Some(&text);
            entry.last_error = Some(text);
            entry.last_error_resource = error.resource.clone();
            entry.last_error_kind = Some(error.kind);
            entry.last_error_at = Some(now);
            if entry.state != state {
                entry.state = state;
                entry.since = now;
            }
            (!same).then(|| entry.clone())
        };
        if let Some(h) = changed {
            let _ = self.events.send(Event::Health(h)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Source, SourceHealth>> {
        // A panic in another task while holding this lock leaves plain data behind; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn fresh(source: Source, now: Time) -> SourceHealth {
    SourceHealth {
        source,
        state: HealthState::Ok,
        last_error: None,
        last_error_resource: None,
        last_error_kind: None,
        last_error_at: None,
        since: now,
    }
}
