//! Conversions between the SDK's primitive types and the seam's.

use crate::cloud::Time;
use aws_sdk_sts::primitives::DateTime;

pub fn to_time(t: &DateTime) -> Time {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap_or_default()
}

pub fn opt_time(t: Option<&DateTime>) -> Option<Time> {
    t.map(to_time)
}

pub fn from_time(t: Time) -> DateTime {
    DateTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos())
}

/// A string from AWS, made safe for the terminal.
pub fn clean(s: Option<&str>) -> String {
    crate::sanitize::clean(s.unwrap_or_default())
}

pub fn clean_opt(s: Option<&str>) -> Option<String> {
    s.map(crate::sanitize::clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 123_000_000).unwrap();
        assert_eq!(to_time(&from_time(t)), t);
    }
}
