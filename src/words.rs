//! Words for numbers: the one place a count meets its noun, so no message says `1 alarms`,
//! `topic(s)` or `0 anomaly`. The TUI, the pipeline's messages and the CLI all use it; it sits
//! at the bottom of the layers so each of them can.

/// `1 alarm`, `2 alarms`, `0 alarms`: the noun agrees with the number. Both forms are given
/// because English plurals are irregular (`anomaly` / `anomalies`).
pub fn count<N>(n: N, one: &str, many: &str) -> String
where
    N: TryInto<u64> + std::fmt::Display + Copy,
{
    if n.try_into().ok() == Some(1) {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The verb that follows a count as its subject: `needs` after one, `need` after many.
pub fn agree<'a, N: TryInto<u64>>(n: N, one: &'a str, many: &'a str) -> &'a str {
    if n.try_into().ok() == Some(1) {
        one
    } else {
        many
    }
}
