//! Recording sessions and playing scripted walkthroughs: the asciicast v2 writer, the tape
//! format (a VHS subset) that headless walkthroughs are written in, and the runner that plays
//! a tape on the demo account with a virtual clock.

pub mod asciicast;
pub mod live;
pub mod runner;
pub mod tape;
