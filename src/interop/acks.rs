//! watchband's own shared contract: the acknowledgements table every watchband of a team reads
//! and writes (`watchband-acknowledgements` unless the configuration names another). Not one
//! of the four patterns, but kept here beside them because the simulated account creates the
//! table with this key schema and `deploy/template.yaml` declares the same one.
//!
//! One item per alarm episode: the alarm's ARN (hash key) and the time the alarm entered ALARM
//! (range key, RFC 3339 with nanoseconds, so items sort by episode), who acknowledged it (the
//! caller identity ARN from STS), when, the note and an optional snooze-until.

use crate::cloud::{AttrValue, Condition, Item, Time};
use chrono::SecondsFormat;

/// The table's default name.
pub const ACK_TABLE: &str = "watchband-acknowledgements";
/// Hash key: the alarm's ARN.
pub const ACK_HASH_KEY: &str = "alarm_arn";
/// Range key: when the alarm entered ALARM (the episode).
pub const ACK_RANGE_KEY: &str = "episode";

/// One acknowledgement item, as stored (strings keep their original bytes; whoever shows them
/// sanitises them).
#[derive(Debug, Clone, PartialEq)]
pub struct AckItem {
    pub alarm_arn: String,
    pub alarm_name: String,
    pub episode: Time,
    /// The caller identity ARN of whoever acknowledged.
    pub who: String,
    pub at: Time,
    pub note: Option<String>,
    /// Until when the alarm's re-notifications are hidden.
    pub snooze_until: Option<Time>,
}

/// A time as the table stores it: RFC 3339, UTC, nanoseconds: fixed width, so items sort as
/// they read, and exact, so an episode read back equals the alarm's `state_updated`
/// (CloudWatch reports microseconds).
pub fn ack_time(t: Time) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse_time(s: &str) -> Option<Time> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The key of an episode's item.
pub fn ack_key(alarm_arn: &str, episode: Time) -> Item {
    Item::from([
        (
            ACK_HASH_KEY.to_string(),
            AttrValue::S(alarm_arn.to_string()),
        ),
        (ACK_RANGE_KEY.to_string(), AttrValue::S(ack_time(episode))),
    ])
}

/// The condition that makes the first acknowledgement of an episode win.
pub fn first_ack_wins() -> Condition {
    Condition::AttributeNotExists(ACK_HASH_KEY.to_string())
}

/// The condition that lets only the author withdraw without confirmation.
pub fn written_by(who: &str) -> Condition {
    Condition::Equals("who".into(), AttrValue::S(who.to_string()))
}

impl AckItem {
    pub fn to_item(&self) -> Item {
        let mut item = ack_key(&self.alarm_arn, self.episode);
        let mut s = |k: &str, v: String| {
            item.insert(k.to_string(), AttrValue::S(v));
        };
        s("alarm_name", self.alarm_name.clone());
        s("who", self.who.clone());
        s("at", ack_time(self.at));
        if let Some(n) = &self.note {
            s("note", n.clone());
        }
        if let Some(t) = self.snooze_until {
            s("snooze_until", ack_time(t));
        }
        item
    }

    /// Reads an item; `None` when a required attribute is missing or malformed (an item some
    /// other tool wrote), so one bad item hides one acknowledgement and nothing else.
    pub fn from_item(item: &Item) -> Option<AckItem> {
        let s = |k: &str| item.get(k).and_then(AttrValue::as_s);
        Some(AckItem {
            alarm_arn: s(ACK_HASH_KEY)?.to_string(),
            episode: parse_time(s(ACK_RANGE_KEY)?)?,
            alarm_name: s("alarm_name").unwrap_or_default().to_string(),
            who: s("who")?.to_string(),
            at: parse_time(s("at")?)?,
            note: s("note").filter(|n| !n.is_empty()).map(str::to_string),
            snooze_until: s("snooze_until").and_then(parse_time),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn items_round_trip_and_sort_by_episode() {
        let t = |h, ms| {
            chrono::Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap()
                + chrono::Duration::milliseconds(ms)
        };
        let a = AckItem {
            alarm_arn: "arn:aws:cloudwatch:us-east-1:1:alarm:cpu".into(),
            alarm_name: "cpu".into(),
            episode: t(3, 250),
            who: "arn:aws:iam::1:user/alice".into(),
            at: t(4, 0),
            note: Some("looking at it".into()),
            snooze_until: Some(t(5, 0)),
        };
        assert_eq!(AckItem::from_item(&a.to_item()), Some(a.clone()));
        let bare = AckItem {
            note: None,
            snooze_until: None,
            ..a.clone()
        };
        assert_eq!(AckItem::from_item(&bare.to_item()), Some(bare));
        assert!(ack_time(t(10, 0)) > ack_time(t(9, 999)));
        let mut broken = a.to_item();
        broken.remove("who");
        assert_eq!(AckItem::from_item(&broken), None);
    }
}
