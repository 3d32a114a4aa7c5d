//! The headless commands end to end (`scan`, `detect`, `generate`) and the detection core
//! behind `detect`: synthetic series, properties on arbitrary input, and a NAB smoke test.

#[path = "../support/mod.rs"]
mod support;

mod detect;
mod detect_nab;
mod detect_props;
mod detect_synthetic;
mod generate;
mod scan;
