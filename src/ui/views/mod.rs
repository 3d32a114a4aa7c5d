//! One module per view; each has one `render(f, area, state)` per region it owns.

pub mod alarms;
pub mod backups;
pub mod metrics;
pub mod notifications;
pub mod overview;
pub mod streams;
pub mod volume;
