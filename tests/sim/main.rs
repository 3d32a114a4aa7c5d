//! The simulated account against the AWS behaviour it models: backups and the EBS direct API,
//! CloudWatch alarms, SNS and SQS, Kinesis and its read limit, injected faults, and the
//! processors deployed as the account's functions.

#[path = "../support/mod.rs"]
mod support;

mod alarms;
mod backup;
mod cloudwatch;
mod deployed;
mod faults;
mod kinesis;
mod kinesis_limits;
