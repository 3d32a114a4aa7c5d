//! Words for numbers and names for things, shared by the feed (event lines) and the views:
//! `1 anomaly` but `2 anomalies`, and a volume's name where AWS gave its ARN.

use super::state::AppState;

/// `1 block`, `2 blocks`, `0 blocks`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl AppState {
    /// The text with every known volume's ARN (alone or inside a backup alarm's name) replaced
    /// by the volume's name, so that the part an operator recognises comes first and survives
    /// truncation.
    pub fn name_things(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.volumes {
            if !out.contains(&v.arn) {
                continue;
            }
            let alarm = crate::interop::backup_alarm_name(&v.arn);
            out = out.replace(&alarm, &format!("{} backup alarm", v.name));
            out = out.replace(&v.arn, &v.name);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_and_plural() {
        assert_eq!(count(1, "anomaly", "anomalies"), "1 anomaly");
        assert_eq!(count(0, "anomaly", "anomalies"), "0 anomalies");
        assert_eq!(count(2, "alarm", "alarms"), "2 alarms");
    }
}
