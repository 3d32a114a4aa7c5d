//! The contracts of the four AWS patterns watchband interoperates with, in one place, so that
//! every part of watchband reads and writes them exactly as those deployments do: names,
//! payloads, table items, alarm definitions and events. docs/patterns.md cites each pattern's
//! public source.
//!
//! - [`changed_blocks`]: the AWS Backup changed-block pipeline (ransomware shows up as a burst of
//!   changed blocks between consecutive EBS snapshots).
//! - [`indicator`]: the RCF metric scorer (`<Metric>AnomalyIndicator`).
//! - [`temperature`]: the Kinesis temperature pipeline (record payload, table row, SNS alert).
//! - [`alarm`]: CloudWatch alarms: the anomaly-band alarm; the static-threshold alarm is a plain
//!   [`AlarmDefinition`](crate::cloud::AlarmDefinition).
//!
//! - [`acks`]: watchband's own shared acknowledgements table (not a pattern: the contract every
//!   watchband of a team shares).
//!
//! Everything is re-exported here, so callers write `interop::TEMPERATURE_STREAM`.

pub mod acks;
pub mod alarm;
pub mod changed_blocks;
pub mod indicator;
pub mod temperature;

pub use acks::*;
pub use alarm::*;
pub use changed_blocks::*;
pub use indicator::*;
pub use temperature::*;

/// A number as DynamoDB and the patterns print it (`97.3`, `101`).
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
