//! The simulated account's answers to the [`Cloud`](crate::cloud::Cloud) operations, one
//! module per service as in `cloud::aws`: each function takes the [`SimCloud`](super::SimCloud),
//! passes the call through the fault gate, then reads or changes the world under its lock.
//! The service *models* (volumes, blocks, metrics, streams…) live beside this module, in
//! `sim/backup.rs`, `sim/ebs.rs`, `sim/cloudwatch.rs` and so on; these modules only translate
//! between them and the seam's types, with AWS's validation, paging and error codes
//! ([`errors`]).

pub(super) mod backup;
pub(super) mod cloudwatch;
pub(super) mod dynamodb;
pub(super) mod ebs;
mod errors;
pub(super) mod kinesis;
pub(super) mod sns;
pub(super) mod sqs;
pub(super) mod sts;
