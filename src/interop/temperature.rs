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
/// Every string is already sanitised (`sanitize::cleaned`): it borrows the record's bytes when
/// it holds neither a JSON escape nor a control character — every record the generator
/// writes — and is an owned, cleaned copy otherwise. So decoding allocates nothing for a
/// normal record, and nothing unclean can leave it for the terminal or a table.
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
            return Ok(crate::sanitize::cleaned(inner));
        }
        let s: Cow<str> = serde_json::from_str(raw).map_err(|_| DecodeError::NotAString(k))?;
        Ok(Cow::Owned(crate::sanitize::clean(&s)))
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
    fn a_plain_record_is_borrowed_and_an_unclean_one_is_cleaned() {
        let plain = br#"{"timestamp": "2024-05-01 10:00:00.123456", "datatype": "Temperature", "value": 97.3, "deviceid": "DHT_001", "date": "2024-05-01", "lowest_temp": 96, "highest_temp": 101}"#;
        let r = decode_reading_ref(plain).unwrap();
        for s in [&r.timestamp, &r.datatype, &r.deviceid, &r.date] {
            assert!(matches!(s, Cow::Borrowed(_)), "{s:?} was copied");
        }
        assert_eq!(r.clone().into_owned(), decode_reading(plain).unwrap());
        assert_eq!(r.into_owned().as_ref().deviceid, "DHT_001");
        // An escaped control character and a raw DEL never leave the decoder.
        let evil = "{\"timestamp\": \"t\", \"datatype\": \"T\\u001b[2J\", \"value\": 97.3, \"deviceid\": \"DHT\u{7f}_9\", \"date\": \"d\\n\", \"lowest_temp\": 96, \"highest_temp\": 101}";
        let r = decode_reading_ref(evil.as_bytes()).unwrap();
        assert_eq!(r.datatype, "T\u{FFFD}[2J");
        assert_eq!(r.deviceid, "DHT\u{FFFD}_9");
        assert_eq!(r.date, "d ");
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
