//! The simulated account as the tests build it: on a paused clock, so a test moves simulated
//! time itself (`SimCloud::advance`, or tokio's paused `sleep`) and every run sees the same world.

use std::sync::Arc;
use watchband::cloud::sim::{FaultProfile, SimCloud, SimOptions};

/// The account of `seed` with default options, its clock paused.
pub fn paused(seed: u64) -> Arc<SimCloud> {
    paused_with(SimOptions {
        seed,
        ..SimOptions::default()
    })
}

/// The demo's account (seed 7) with `faults` injected, its clock paused.
pub fn faulty(faults: FaultProfile) -> Arc<SimCloud> {
    paused_with(SimOptions {
        seed: 7,
        faults,
        ..SimOptions::default()
    })
}

/// Any options (speed, read limit...), with the clock paused whatever they say.
pub fn paused_with(options: SimOptions) -> Arc<SimCloud> {
    SimCloud::new(SimOptions {
        paused: true,
        ..options
    })
}
