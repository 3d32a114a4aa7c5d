//! The Kinesis temperature pipeline: devices put JSON readings on a Kinesis stream; a function
//! classifies each against its thresholds, stores anomalies in a DynamoDB table and alerts on
//! SNS. Its names, its record payload (and the hot-path decoder), its table row and its alerts.

use super::format_number;
use crate::cloud::{AttrValue, Item};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub const TEMPERATURE_STREAM: &str = "m03p02_raw_data_stream";
pub const TEMPERATURE_TABLE: &str = "m03p02_anomaly_data";
pub const TEMPERATURE_TOPIC: &str = "m03p02_anomaly_alerts";

/// The temperature pipeline's record payload, field for field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemperatureReading {
    /// `2024-05-01 10:00:00.123456`
    pub timestamp: String,
    pub datatype: String,
    pub value: f64,
    pub deviceid: String,
    pub date: String,
    pub lowest_temp: f64,
    pub highest_temp: f64,
}

impl TemperatureReading {
    /// The JSON payload as the original generator writes it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a reading always serialises")
    }

    /// The reading as a borrowed one (what the judge takes).
    pub fn as_ref(&self) -> ReadingRef<'_> {
        ReadingRef {
            timestamp: Cow::Borrowed(&self.timestamp),
            datatype: Cow::Borrowed(&self.datatype),
            value: self.value,
            deviceid: Cow::Borrowed(&self.deviceid),
            date: Cow::Borrowed(&self.date),
            lowest_temp: self.lowest_temp,
            highest_temp: self.highest_temp,
        }
    }
}

/// The temperature pipeline's record payload borrowed from the record's bytes: what the hot path decodes into.
///
/// Every string is the record's own text (JSON escapes undone, nothing else): it borrows the
/// record's bytes when it holds no JSON escape — every record the generator writes — and is
/// an owned copy otherwise, so decoding allocates nothing for a normal record. The strings are
/// data, not display text: the table row keeps them exactly as sent (two device ids that
/// differ by one control character are two devices), and whatever shows them to a person
/// passes them through `sanitize` first (`pipeline::temperature::Classified::anomaly`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingRef<'a> {
    pub timestamp: Cow<'a, str>,
    pub datatype: Cow<'a, str>,
    pub value: f64,
    pub deviceid: Cow<'a, str>,
    pub date: Cow<'a, str>,
    pub lowest_temp: f64,
    pub highest_temp: f64,
}

impl ReadingRef<'_> {
    pub fn into_owned(self) -> TemperatureReading {
        TemperatureReading {
            timestamp: self.timestamp.into_owned(),
            datatype: self.datatype.into_owned(),
            value: self.value,
            deviceid: self.deviceid.into_owned(),
            date: self.date.into_owned(),
            lowest_temp: self.lowest_temp,
            highest_temp: self.highest_temp,
        }
    }
}

/// Why a stream record was rejected; the raw bytes are kept by the caller for inspection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{0}` is not a number")]
    NotANumber(&'static str),
    #[error("field `{0}` is not a string")]
    NotAString(&'static str),
    #[error("field `{0}` is not finite")]
    NotFinite(&'static str),
    #[error("not a JSON object")]
    NotAnObject,
}

/// The fields of a record as they appear in its JSON, not yet typed: borrowed from the bytes.
#[derive(Deserialize)]
struct RawReading<'a> {
    #[serde(borrow, default)]
    timestamp: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    datatype: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    deviceid: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    date: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    lowest_temp: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    highest_temp: Option<&'a serde_json::value::RawValue>,
}

/// Decodes one temperature record into an owned reading (see [`decode_reading_ref`]).
pub fn decode_reading(bytes: &[u8]) -> Result<TemperatureReading, DecodeError> {
    decode_reading_ref(bytes).map(ReadingRef::into_owned)
}

/// Decodes one temperature record, borrowing its strings from `bytes`. Numbers given as strings
/// (`"97.3"`) are rejected: the original's `float()` would accept them, but its DynamoDB write
/// would not round-trip.
///
/// This is the hot path of stream consumption (one call per record), hence the borrowed,
/// typed parse instead of a `serde_json::Value` tree, and no allocation for a normal record.
pub fn decode_reading_ref(bytes: &[u8]) -> Result<ReadingRef<'_>, DecodeError> {
    // serde's derived visitor also takes a JSON array as the fields in order; a reading is an
    // object and nothing else (`[ts, type, 150, ...]` must not become a Hot row).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => DecodeError::NotAnObject,
                Err(e) => DecodeError::NotJson(e.to_string()),
            },
        );
    }
    let raw: RawReading =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    fn num(
        field: Option<&serde_json::value::RawValue>,
        k: &'static str,
    ) -> Result<f64, DecodeError> {
        let text = field.ok_or(DecodeError::Missing(k))?.get();
        if text.starts_with('"') || text == "null" || text == "true" || text == "false" {
            return Err(DecodeError::NotANumber(k));
        }
        let f: f64 = text.parse().map_err(|_| DecodeError::NotANumber(k))?;
        if f.is_finite() {
            Ok(f)
        } else {
            Err(DecodeError::NotFinite(k))
        }
    }
    fn text<'a>(
        field: Option<&'a serde_json::value::RawValue>,
        k: &'static str,
    ) -> Result<Cow<'a, str>, DecodeError> {
        let raw = field.ok_or(DecodeError::Missing(k))?.get();
        if !raw.starts_with('"') {
            return Err(DecodeError::NotAString(k));
        }
        // A string without escapes is its own text between the quotes (the parser already
        // checked it is valid JSON); only an escaped one needs unescaping.
        let inner = &raw[1..raw.len() - 1];
        if !inner.contains('\\') {
            return Ok(Cow::Borrowed(inner));
        }
        let s: String = serde_json::from_str(raw).map_err(|_| DecodeError::NotAString(k))?;
        Ok(Cow::Owned(s))
    }
    Ok(ReadingRef {
        timestamp: text(raw.timestamp, "timestamp")?,
        datatype: text(raw.datatype, "datatype")?,
        value: num(raw.value, "value")?,
        deviceid: text(raw.deviceid, "deviceid")?,
        date: text(raw.date, "date")?,
        lowest_temp: num(raw.lowest_temp, "lowest_temp")?,
        highest_temp: num(raw.highest_temp, "highest_temp")?,
    })
}

/// The temperature pipeline's SNS subject: `Hot temperature is detected.`
pub fn temperature_alert_subject(anomaly_type: &str) -> String {
    format!("{anomaly_type} temperature is detected.")
}

/// The temperature pipeline's SNS message.
pub fn temperature_alert_message(value: f64, anomaly_type: &str) -> String {
    format!(
        "Anomaly value = {value} is detected. Detected temperature can be categorized as {anomaly_type}"
    )
}

/// The `m03p02_anomaly_data` item for a reading.
pub fn temperature_anomaly_item(reading: &TemperatureReading, anomaly_type: &str) -> Item {
    temperature_anomaly_row(
        &reading.deviceid,
        &reading.timestamp,
        &reading.date,
        reading.value,
        anomaly_type,
    )
}

/// The `m03p02_anomaly_data` item: `deviceid` (hash), `timestamp` (range), `anomalyDate`,
/// `value`, `anomalyType`.
pub fn temperature_anomaly_row(
    deviceid: &str,
    timestamp: &str,
    anomaly_date: &str,
    value: f64,
    anomaly_type: &str,
) -> Item {
    let mut item = Item::new();
    item.insert("deviceid".into(), AttrValue::S(deviceid.to_string()));
    item.insert("timestamp".into(), AttrValue::S(timestamp.to_string()));
    item.insert("anomalyDate".into(), AttrValue::S(anomaly_date.to_string()));
    item.insert("value".into(), AttrValue::N(format_number(value)));
    item.insert("anomalyType".into(), AttrValue::S(anomaly_type.to_string()));
    item
}

/// Why DynamoDB would refuse the `m03p02_anomaly_data` row of a reading, if it would: an
/// empty key, a key longer than DynamoDB allows (hash 2,048 bytes, range 1,024), a number
/// outside DynamoDB's range (magnitude 1E-130 to 9.99…E+125). Such a reading can never be
/// stored, however often it is retried: the processor rejects it like a malformed record.
pub fn temperature_row_problem(deviceid: &str, timestamp: &str, value: f64) -> Option<String> {
    const HASH_MAX: usize = 2048;
    const RANGE_MAX: usize = 1024;
    if deviceid.is_empty() {
        return Some("empty `deviceid` (the table's hash key)".into());
    }
    if deviceid.len() > HASH_MAX {
        return Some(format!(
            "`deviceid` of {} bytes (DynamoDB's hash key allows {HASH_MAX})",
            deviceid.len()
        ));
    }
    if timestamp.is_empty() {
        return Some("empty `timestamp` (the table's range key)".into());
    }
    if timestamp.len() > RANGE_MAX {
        return Some(format!(
            "`timestamp` of {} bytes (DynamoDB's range key allows {RANGE_MAX})",
            timestamp.len()
        ));
    }
    if value != 0.0 && !(1e-130..1e126).contains(&value.abs()) {
        return Some(format!(
            "`value` {value:e} is outside DynamoDB's number range"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_decode_and_malformed_ones_are_named() {
        let ok = br#"{"timestamp": "2024-05-01 10:00:00.123456", "datatype": "Temperature", "value": 97.3, "deviceid": "DHT_001", "date": "2024-05-01", "lowest_temp": 96, "highest_temp": 101}"#;
        let r = decode_reading(ok).unwrap();
        assert_eq!(r.value, 97.3);
        assert_eq!(r.lowest_temp, 96.0);
        assert!(matches!(
            decode_reading(b"{not json"),
            Err(DecodeError::NotJson(_))
        ));
        let missing = br#"{"timestamp": "t", "datatype": "Temperature", "deviceid": "D", "date": "d", "lowest_temp": 96, "highest_temp": 101}"#;
        assert_eq!(decode_reading(missing), Err(DecodeError::Missing("value")));
        let string = br#"{"timestamp": "t", "datatype": "Temperature", "value": "hot", "deviceid": "D", "date": "d", "lowest_temp": 96, "highest_temp": 101}"#;
        assert_eq!(
            decode_reading(string),
            Err(DecodeError::NotANumber("value"))
        );
    }

    #[test]
    fn a_plain_record_is_borrowed_and_an_unclean_one_keeps_its_text() {
        let plain = br#"{"timestamp": "2024-05-01 10:00:00.123456", "datatype": "Temperature", "value": 97.3, "deviceid": "DHT_001", "date": "2024-05-01", "lowest_temp": 96, "highest_temp": 101}"#;
        let r = decode_reading_ref(plain).unwrap();
        for s in [&r.timestamp, &r.datatype, &r.deviceid, &r.date] {
            assert!(matches!(s, Cow::Borrowed(_)), "{s:?} was copied");
        }
        assert_eq!(r.clone().into_owned(), decode_reading(plain).unwrap());
        assert_eq!(r.into_owned().as_ref().deviceid, "DHT_001");
        // Escapes are undone and control characters kept: the row stores the id as sent
        // (display cleans it), so `DHT\x7f_9` and `DHT\x1b_9` stay two devices.
        let evil = "{\"timestamp\": \"t\", \"datatype\": \"T\\u001b[2J\", \"value\": 97.3, \"deviceid\": \"DHT\u{7f}_9\", \"date\": \"d\\n\", \"lowest_temp\": 96, \"highest_temp\": 101}";
        let r = decode_reading_ref(evil.as_bytes()).unwrap();
        assert_eq!(r.datatype, "T\u{1b}[2J");
        assert_eq!(r.deviceid, "DHT\u{7f}_9");
        assert_eq!(r.date, "d\n");
    }

    #[test]
    fn only_an_object_is_a_reading() {
        // The fields in order as an array once decoded as a Hot reading.
        let array =
            br#"["2024-05-01 10:00:00", "Temperature", 150.0, "DHT_001", "2024-05-01", 96, 101]"#;
        assert_eq!(decode_reading(array), Err(DecodeError::NotAnObject));
        assert_eq!(decode_reading(b" 42"), Err(DecodeError::NotAnObject));
        assert_eq!(decode_reading(b"\"x\""), Err(DecodeError::NotAnObject));
        assert!(matches!(
            decode_reading(b"[1,"),
            Err(DecodeError::NotJson(_))
        ));
    }

    #[test]
    fn rows_dynamodb_would_refuse_are_named() {
        assert_eq!(
            temperature_row_problem("DHT_001", "2024-05-01 10:00:00", 102.5),
            None
        );
        assert_eq!(temperature_row_problem("DHT_001", "t", 0.0), None);
        assert!(
            temperature_row_problem("", "t", 1.0)
                .unwrap()
                .contains("deviceid")
        );
        assert!(
            temperature_row_problem(&"d".repeat(3000), "t", 1.0)
                .unwrap()
                .contains("3000")
        );
        assert!(
            temperature_row_problem("d", "", 1.0)
                .unwrap()
                .contains("timestamp")
        );
        assert!(
            temperature_row_problem("d", "t", 1e200)
                .unwrap()
                .contains("number range")
        );
        assert!(temperature_row_problem("d", "t", -1e200).is_some());
        assert!(temperature_row_problem("d", "t", 1e-200).is_some());
    }

    #[test]
    fn alert_texts_match_the_temperature_pipeline() {
        assert_eq!(
            temperature_alert_subject("Hot"),
            "Hot temperature is detected."
        );
        assert_eq!(
            temperature_alert_message(102.5, "Hot"),
            "Anomaly value = 102.5 is detected. Detected temperature can be categorized as Hot"
        );
    }
}
