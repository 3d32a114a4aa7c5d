//! The AWS implementation through the real SDK clients over HTTP: against moto (one server per
//! test on 127.0.0.1), against recorded AWS responses for what moto lacks, and the processors
//! end to end against moto. A missing moto skips these tests, except under `CI=true`.

#[path = "../support/mod.rs"]
mod support;

mod alarm_action;
mod dead_letter;
mod moto;
mod process_backups;
mod process_gate;
mod processors;
mod recovery;
mod replay;
mod stream_processor;
