//! The pipeline: everything that runs between the `Cloud` seam and the UI.

pub mod changes;
pub mod retry;
