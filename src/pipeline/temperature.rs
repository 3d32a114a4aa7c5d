//! The temperature pipeline's temperature records, decoded and judged per device — pure and synchronous, so
//! the stream consumer here and the stream processor (`process/`) share it.
//!
//! A reading is judged twice: by the temperature pipeline's rule as intended (Cold below the record's
//! `lowest_temp`, Hot above its `highest_temp`), reported for every reading that breaks it as
//! the original does, and by a per-device statistical detector that catches what the
//! thresholds miss. Its per-reading verdicts are confirmed first (`detect::persist`): a drift
//! or shift inside the thresholds is reported once as "Unusual" when it has lasted, a frozen
//! sensor once as "Stuck" — a lone 3σ reading, which at 1 Hz happens every few minutes by
//! chance, is never an alert.

use super::events::{RejectedRecord, TemperatureAnomaly, TemperaturePoint};
use crate::cloud::{StreamRecord, Time};
use crate::detect::persist::{Confirm, ConfirmConfig, Finding};
use crate::detect::rules::{TempClass, temperature_class};
use crate::detect::{
    Algo, AnyDetector, BandConfig, Detector, DetectorConfig, Seasonality, Verdict,
};
use crate::interop::{DecodeError, ReadingRef, TemperatureReading, decode_reading_ref};
use crate::sanitize::{clean, printable_bytes};
use std::collections::HashMap;

/// The anomaly type of a confirmed shift the rule does not explain.
pub const UNUSUAL: &str = "Unusual";
/// The anomaly type of a sensor repeating one value.
pub const STUCK: &str = "Stuck";

/// Per-device detectors for one stream.
#[derive(Debug)]
pub struct DeviceJudge {
    config: DetectorConfig,
    confirm: ConfirmConfig,
    devices: HashMap<String, Device>,
}

#[derive(Debug)]
struct Device {
    detector: AnyDetector,
    confirm: Confirm,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Judged {
    Reading {
        point: TemperaturePoint,
        anomaly: Option<TemperatureAnomaly>,
    },
    Rejected(RejectedRecord),
}

/// One reading judged, borrowed from its record: the hot path's answer, which allocates
/// nothing. [`Classified::anomaly`] makes the owned table row when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified<'a> {
    /// The decoded payload as sent (not sanitised: see [`ReadingRef`]).
    pub reading: ReadingRef<'a>,
    /// The reading's own timestamp when it parses, else the record's arrival.
    pub time: Time,
    /// The temperature pipeline's rule as intended.
    pub class: Option<TempClass>,
    /// The device's statistical detector.
    pub verdict: Verdict,
    /// "Hot"/"Cold" for a rule hit, else [`UNUSUAL`] or [`STUCK`] for a confirmed finding.
    pub anomaly_type: Option<&'static str>,
}

impl Classified<'_> {
    /// The anomaly of an anomalous reading as people see it (its strings sanitised).
    pub fn anomaly(&self) -> Option<TemperatureAnomaly> {
        self.anomaly_type.map(|t| TemperatureAnomaly {
            deviceid: clean(&self.reading.deviceid),
            anomaly_date: clean(&self.reading.date),
            timestamp: clean(&self.reading.timestamp),
            value: self.reading.value,
            anomaly_type: t.to_string(),
        })
    }

    /// The `m03p02_anomaly_data` row of an anomalous reading, keyed by the device id and
    /// timestamp exactly as sent: cleaning them would merge devices whose ids differ only by
    /// a control character.
    pub fn row(&self) -> Option<crate::cloud::Item> {
        self.anomaly_type.map(|t| {
            crate::interop::temperature_anomaly_row(
                &self.reading.deviceid,
                &self.reading.timestamp,
                &self.reading.date,
                self.reading.value,
                t,
            )
        })
    }

    /// The point the UI plots (without its stream, shard and sequence number).
    fn point(&self) -> TemperaturePoint {
        TemperaturePoint {
            stream: String::new(),
            shard_id: String::new(),
            sequence_number: String::new(),
            device: clean(&self.reading.deviceid),
            time: self.time,
            value: self.reading.value,
            lowest: self.reading.lowest_temp,
            highest: self.reading.highest_temp,
            class: self.class,
            verdict: self.verdict,
        }
    }
}

impl DeviceJudge {
    /// `width` is the band width in standard deviations.
    pub fn new(width: f64) -> Self {
        let width = if width.is_finite() && width > 0.0 {
            width
        } else {
            2.0
        };
        DeviceJudge {
            config: DetectorConfig {
                algo: Algo::Band,
                band: BandConfig {
                    // At one reading per second a 2σ band would call a normal reading unusual
                    // every twenty seconds; the stream needs at least 3σ.
                    width: width.max(3.0),
                    // Readings arrive every second: the band follows the level, no season.
                    seasonality: Seasonality::None,
                    ..BandConfig::default()
                },
                ..DetectorConfig::default()
            },
            confirm: ConfirmConfig::default(),
            devices: HashMap::new(),
        }
    }

    /// Decodes and judges one record; a record that does not decode is kept as rejected.
    pub fn judge(&mut self, stream: &str, shard_id: &str, record: &StreamRecord) -> Judged {
        match self.classify(record) {
            Ok(c) => Judged::Reading {
                point: TemperaturePoint {
                    stream: stream.to_string(),
                    shard_id: shard_id.to_string(),
                    sequence_number: clean(&record.sequence_number),
                    ..c.point()
                },
                anomaly: c.anomaly(),
            },
            Err(e) => Judged::Rejected(rejected(shard_id, record, &e)),
        }
    }

    /// Decodes and judges one record without copying anything out of it: the hot path of the
    /// stream processor, which needs only the anomalies.
    pub fn classify<'r>(
        &mut self,
        record: &'r StreamRecord,
    ) -> Result<Classified<'r>, DecodeError> {
        let reading = decode_reading_ref(&record.data)?;
        let time = reading_time(&reading.timestamp).unwrap_or(record.arrival);
        Ok(self.classify_reading(reading, time))
    }

    /// Judges a decoded reading taken at `time`.
    pub fn judge_reading(
        &mut self,
        reading: &TemperatureReading,
        time: Time,
    ) -> (TemperaturePoint, Option<TemperatureAnomaly>) {
        let c = self.classify_reading(reading.as_ref(), time);
        (c.point(), c.anomaly())
    }

    fn classify_reading<'a>(&mut self, reading: ReadingRef<'a>, time: Time) -> Classified<'a> {
        let class = temperature_class(reading.value, reading.lowest_temp, reading.highest_temp);
        // Looked up by reference: a device is new once, and this runs per record.
        if !self.devices.contains_key(reading.deviceid.as_ref()) {
            let fresh = Device {
                detector: AnyDetector::new(&self.config).expect("the width was checked in new()"),
                confirm: Confirm::default(),
            };
            self.devices.insert(reading.deviceid.to_string(), fresh);
        }
        let device = self
            .devices
            .get_mut(reading.deviceid.as_ref())
            .expect("inserted above");
        let verdict = device
            .detector
            .observe(time.timestamp(), reading.value)
            .expect("decode_reading only yields finite values");
        let finding = device.confirm.step(&self.confirm, reading.value, &verdict);
        let anomaly_type = match (class, finding) {
            (Some(c), _) => Some(c.as_str()),
            (None, Some(Finding::Shift)) => Some(UNUSUAL),
            (None, Some(Finding::Stuck)) => Some(STUCK),
            (None, None) => None,
        };
        Classified {
            reading,
            time,
            class,
            verdict,
            anomaly_type,
        }
    }
}

/// A record that did not decode, kept for inspection with its reason and printable bytes.
pub fn rejected(shard_id: &str, record: &StreamRecord, error: &DecodeError) -> RejectedRecord {
    refused(shard_id, record, &error.to_string())
}

/// A record set aside for `reason` (it did not decode, or its row can never be stored), kept
/// for inspection with its shard, sequence number and printable bytes.
pub fn refused(shard_id: &str, record: &StreamRecord, reason: &str) -> RejectedRecord {
    RejectedRecord {
        shard_id: clean(shard_id),
        sequence_number: clean(&record.sequence_number),
        partition_key: clean(&record.partition_key),
        arrival: record.arrival,
        error: clean(reason),
        raw: printable_bytes(&record.data),
    }
}

/// The temperature pipeline's timestamp (`2024-05-01 10:00:00.123456`, UTC) as a time.
pub fn reading_time(s: &str) -> Option<Time> {
    // The generator's exact layout is read field by field (chrono re-reads the format string
    // on every call, which costs more than the rest of a record's decoding); any other layout
    // goes to chrono, so both paths accept the same strings.
    reading_time_fixed(s.as_bytes()).or_else(|| {
        chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|t| t.and_utc())
    })
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 fraction digits, nothing else.
fn reading_time_fixed(b: &[u8]) -> Option<Time> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            let n = digits(20..b.len())?;
            n * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)?;
    // Seconds stop at 59 here; a leap second (60) is left to chrono.
    let time = chrono::NaiveTime::from_hms_nano_opt(
        digits(11..13)?,
        digits(14..16)?,
        digits(17..19).filter(|s| *s < 60)?,
        nanos,
    )?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rules::TempClass;
    use chrono::TimeZone;

    fn record(seq: u32, data: &str) -> StreamRecord {
        StreamRecord {
            sequence_number: format!("{seq:020}"),
            partition_key: "DHT_001".into(),
            data: data.as_bytes().to_vec(),
            arrival: chrono::Utc
                .timestamp_opt(1_700_000_000 + seq as i64, 0)
                .unwrap(),
        }
    }

    fn payload(value: f64, sec: u32) -> String {
        TemperatureReading {
            timestamp: format!("2024-05-01 10:{:02}:{:02}.000000", sec / 60, sec % 60),
            datatype: "Temperature".into(),
            value,
            deviceid: "DHT_001".into(),
            date: "2024-05-01".into(),
            lowest_temp: 96.0,
            highest_temp: 101.0,
        }
        .to_json()
    }

    #[test]
    fn rule_hits_become_rows_shaped_like_the_table() {
        let mut j = DeviceJudge::new(2.0);
        let Judged::Reading { point, anomaly } =
            j.judge("s", "shard-0", &record(1, &payload(102.5, 1)))
        else {
            panic!("a valid record was rejected")
        };
        assert_eq!(point.class, Some(TempClass::Hot));
        assert_eq!(
            point.time,
            chrono::Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 1).unwrap()
        );
        let row = anomaly.unwrap();
        assert_eq!(row.anomaly_type, "Hot");
        assert_eq!(row.anomaly_date, "2024-05-01");
        assert_eq!(row.timestamp, "2024-05-01 10:00:01.000000");
        let Judged::Reading { anomaly, .. } =
            j.judge("s", "shard-0", &record(2, &payload(95.0, 2)))
        else {
            panic!()
        };
        assert_eq!(anomaly.unwrap().anomaly_type, "Cold");
    }

    #[test]
    fn a_lasting_jump_inside_the_thresholds_is_unusual_once_a_lone_one_is_not() {
        let mut j = DeviceJudge::new(2.0);
        let mut found = Vec::new();
        let feed = |j: &mut DeviceJudge, found: &mut Vec<_>, i: u32, v: f64| {
            if let Judged::Reading {
                anomaly: Some(a),
                point,
            } = j.judge("s", "0", &record(i, &payload(v, i)))
            {
                found.push((i, a.anomaly_type, point.verdict.anomalous));
            }
        };
        for i in 0..200u32 {
            feed(&mut j, &mut found, i, 97.0 + ((i % 5) as f64 - 2.0) * 0.1);
        }
        // One reading far out, then back: the band calls it anomalous, nobody is alerted.
        feed(&mut j, &mut found, 200, 100.5);
        for i in 201..260u32 {
            feed(&mut j, &mut found, i, 97.0 + ((i % 5) as f64 - 2.0) * 0.1);
        }
        assert_eq!(
            found,
            vec![],
            "steady readings and a lone outlier raised anomalies"
        );
        // A jump that stays: one finding, on its third reading.
        for i in 260..320u32 {
            feed(&mut j, &mut found, i, 100.5 + ((i % 3) as f64) * 0.1);
        }
        assert_eq!(found, vec![(262, UNUSUAL.to_string(), true)]);
    }

    #[test]
    fn a_frozen_sensor_is_stuck_once() {
        let mut j = DeviceJudge::new(2.0);
        let mut found = Vec::new();
        for i in 0..400u32 {
            let v = if i < 100 {
                97.0 + ((i % 7) as f64 - 3.0) * 0.1
            } else {
                97.2
            };
            if let Judged::Reading {
                anomaly: Some(a), ..
            } = j.judge("s", "0", &record(i, &payload(v, i)))
            {
                found.push((i, a.anomaly_type));
            }
        }
        // i = 99 reads 97.0 + 1×0.1 = 97.1; the run of 97.2 starts at 100, the 60th is 159.
        assert_eq!(found, vec![(159, STUCK.to_string())]);
    }

    #[test]
    fn the_fixed_layout_reads_timestamps_exactly_as_chrono_does() {
        let chrono_time = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        };
        for s in [
            "2024-05-01 10:00:00.123456",
            "2024-05-01 10:00:00",
            "2024-05-01 23:59:59.9",
            "2024-05-01 23:59:59.999999999",
            "2024-02-29 00:00:00.000001",
            "2023-02-29 00:00:00.000001",
            "2024-13-01 00:00:00",
            "2024-05-01 24:00:00",
            "2024-05-01 10:60:00",
            "2024-05-01 10:00:60",
            "2024-05-01 10:00:00.",
            "2024-05-01 10:00:00.1234567890",
            "2024-05-01T10:00:00",
            " 2024-05-01 10:00:00 ",
            "2024-5-01 10:00:00",
            "+2024-05-01 10:00:0",
            "2024-05-01 10:00:00.12a",
            "",
        ] {
            assert_eq!(reading_time(s), chrono_time(s), "{s:?}");
            if let Some(t) = reading_time_fixed(s.as_bytes()) {
                assert_eq!(Some(t), chrono_time(s), "fixed layout on {s:?}");
            }
        }
        assert!(reading_time_fixed(b"2024-05-01 10:00:00.123456").is_some());
    }

    #[test]
    fn classify_borrows_and_judge_agrees_with_it() {
        let mut a = DeviceJudge::new(2.0);
        let mut b = DeviceJudge::new(2.0);
        for i in 0..100u32 {
            let v = if i == 80 {
                102.0
            } else {
                97.0 + (i % 3) as f64 * 0.1
            };
            let r = record(i, &payload(v, i));
            let c = a.classify(&r).unwrap();
            assert!(matches!(c.reading.deviceid, std::borrow::Cow::Borrowed(_)));
            let Judged::Reading { point, anomaly } = b.judge("s", "0", &r) else {
                panic!()
            };
            assert_eq!(c.anomaly(), anomaly);
            assert_eq!(
                (c.time, c.verdict, c.class),
                (point.time, point.verdict, point.class)
            );
        }
    }

    #[test]
    fn malformed_records_are_kept_with_their_reason_and_bytes() {
        let mut j = DeviceJudge::new(2.0);
        let Judged::Rejected(r) = j.judge("s", "0", &record(7, "{\"value\": \"hot\x1b[2J\""))
        else {
            panic!("a malformed record was accepted")
        };
        assert!(r.error.starts_with("not JSON"));
        assert!(!r.raw.chars().any(|c| c.is_control()));
        assert_eq!(r.sequence_number, format!("{:020}", 7));
    }
}
