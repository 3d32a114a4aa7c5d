//! Words for numbers and names for things, shared by the feed (event lines) and the views:
//! `1 anomaly` but `2 anomalies`, and a volume's name where AWS gave its ARN.

use super::state::AppState;

pub use crate::words::count;

impl AppState {
    /// The volume with this ARN.
    pub fn volume_by_arn(&self, arn: &str) -> Option<&super::state::Volume> {
        match self
            .volume_index
            .get(arn)
            .and_then(|&i| self.volumes.get(i))
        {
            Some(v) if v.arn == arn => Some(v),
            // The index is stale (a test or a caller set `volumes` by hand): search.
            _ => self.volumes.iter().find(|v| v.arn == arn),
        }
    }

    /// The name of the volume with this ARN, or the ARN when the volume is not known (yet).
    pub fn volume_name(&self, arn: &str) -> String {
        self.volume_by_arn(arn)
            .map_or_else(|| arn.to_string(), |v| v.name.clone())
    }

    /// The text with every known volume's ARN (alone or inside a backup alarm's name) replaced
    /// by the volume's name, so that the part an operator recognises comes first and survives
    /// truncation.
    pub fn name_things(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("arn:aws:") {
            let (before, from) = rest.split_at(at);
            let len = from
                .find(|c: char| c.is_whitespace() || "\"'(),;<>[]{}".contains(c))
                .unwrap_or(from.len());
            let arn = &from[..len];
            // A trailing full stop or colon belongs to the sentence, not the ARN.
            let arn = arn.trim_end_matches(['.', ':']);
            let after = &from[arn.len()..];
            let prefix = crate::interop::BACKUP_ALARM_PREFIX;
            match self.volume_by_arn(arn) {
                Some(v) if before.ends_with(prefix) => {
                    out.push_str(&before[..before.len() - prefix.len()]);
                    out.push_str(&v.name);
                    out.push_str(" backup alarm");
                }
                Some(v) => {
                    out.push_str(before);
                    out.push_str(&v.name);
                }
                None => {
                    out.push_str(before);
                    out.push_str(arn);
                }
            }
            rest = after;
        }
        out.push_str(rest);
        self.name_volume_ids(out)
    }

    /// The text with every bare id of a known volume (`vol-0ea7…`, as the backup processor's
    /// alert subject gives it) replaced by the volume's name. An id in parentheses stays: it
    /// already follows the name (`web-01 backup alarm (vol-…)`).
    fn name_volume_ids(&self, text: String) -> String {
        if !text.contains("vol-") {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("vol-") {
            let (before, from) = rest.split_at(at);
            out.push_str(before);
            let len = 4 + from[4..]
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(from.len() - 4);
            let id = &from[..len];
            let prev = out.chars().last();
            let word = !prev.is_some_and(|c| c.is_alphanumeric() || "-_/:(".contains(c))
                && !from[len..].starts_with(|c: char| c.is_alphanumeric() || c == '-');
            match self.volumes.iter().find(|v| word && len > 4 && v.id == id) {
                Some(v) => out.push_str(&v.name),
                None => out.push_str(id),
            }
            rest = &from[len..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_become_names() {
        let mut s = crate::app::fixture::state();
        let v = s.volumes[0].clone();
        let alarm = crate::interop::backup_alarm_name(&v.arn);
        assert_eq!(
            s.name_things(&format!("alarm {alarm}: OK → ALARM")),
            format!("alarm {} backup alarm: OK → ALARM", v.name)
        );
        assert_eq!(
            s.name_things(&format!("refused for \"{}\".", v.arn)),
            format!("refused for \"{}\".", v.name)
        );
        assert_eq!(s.name_things("arn:aws:sns:x:1:t"), "arn:aws:sns:x:1:t");
        // The backup processor's subject names the volume by id: the name comes first.
        assert_eq!(
            s.name_things(&format!("Backup anomaly: {} changed 9 blocks", v.id)),
            format!("Backup anomaly: {} changed 9 blocks", v.name)
        );
        let kept = format!("{} backup alarm ({})", v.name, v.id);
        assert_eq!(s.name_things(&kept), kept);
        assert_eq!(
            s.name_things("restored to vol-0123"),
            "restored to vol-0123"
        );
        // A stale index still finds the volume.
        s.volume_index.clear();
        assert_eq!(s.name_things(&v.arn), v.name);
    }

    #[test]
    fn singular_and_plural() {
        assert_eq!(count(1, "anomaly", "anomalies"), "1 anomaly");
        assert_eq!(count(0, "anomaly", "anomalies"), "0 anomalies");
        assert_eq!(count(2, "alarm", "alarms"), "2 alarms");
    }
}
