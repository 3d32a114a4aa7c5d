//! Recording sessions and playing scripted walkthroughs: the asciicast v2 writer and the tape
//! format (a VHS subset) that headless walkthroughs are written in.

pub mod asciicast;
pub mod tape;
