//! The pipeline's real tasks against the simulated account on a paused tokio clock: backups,
//! alarms, metrics, streams, faults, and what the stream judge reports on the demo stream.

#[path = "../support/mod.rs"]
mod support;

mod alarms;
mod backups;
mod faults;
mod metrics;
mod recovery;
mod stream_findings;
mod stream_identity;
mod streams;
