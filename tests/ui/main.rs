//! The terminal UI: `update` on keys and events, whole-screen snapshots, the shipped tapes, and
//! the binary in a real terminal (tmux).

mod screens;
mod tapes;
mod tmux;
mod update;
