//! watchband: a terminal UI with which cloud operators watch for anomalies in their AWS estate
//! and act on them. See docs/ARCHITECTURE.md for the layers; each module's docs say what it owns.

pub mod app;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod detect;
pub mod interop;
pub mod logging;
pub mod pipeline;
pub mod processors;
pub mod recording;
pub mod rng;
pub mod sanitize;
pub mod session;
pub mod store;
pub mod theme;
pub mod ui;
pub mod words;
