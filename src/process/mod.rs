//! The originals' processors on the shared core, runnable as AWS Lambda handlers, as local
//! processes (`watchband process ...`) and inside the demo account, from one code path each:
//! the backup-event processor (seed 001), the temperature stream processor (seed 003) and the
//! Random Cut Forest metric scorer (seed 002). [`deployed`] runs all three as the functions of
//! an account (the demo account's).

pub mod backup;
pub mod deployed;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod lambda_events;
pub mod metric;
pub mod state;
pub mod stream;
