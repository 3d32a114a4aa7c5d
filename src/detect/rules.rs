//! Rules: seed 003's temperature rule as intended and static thresholds (seed 004).

use serde::{Deserialize, Serialize};

/// Seed 003's categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TempClass {
    Cold,
    Hot,
}

impl TempClass {
    /// As seed 003 writes it in the table and the SNS subject.
    pub fn as_str(self) -> &'static str {
        match self {
            TempClass::Cold => "Cold",
            TempClass::Hot => "Hot",
        }
    }
}

/// Cold strictly below `lowest`, Hot strictly above `highest` (the original's intent; its code
/// compared with `1.1 × lowest` and read a misspelt key).
pub fn temperature_class(value: f64, lowest: f64, highest: f64) -> Option<TempClass> {
    if value < lowest {
        Some(TempClass::Cold)
    } else if value > highest {
        Some(TempClass::Hot)
    } else {
        None
    }
}
