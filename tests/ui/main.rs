//! The terminal UI: `update` on keys and events, whole-screen snapshots, the shipped tapes, and
//! the binary in a real terminal (tmux).

#[path = "../support/mod.rs"]
mod support;

mod cockpit;
mod mouse;
mod profiles;
mod recovery;
mod screens;
mod signals;
mod staleness;
mod tapes;
mod tmux;
mod update;
