//! The names, shapes and definitions of the four original setups (see ORIGINALS.md), in one
//! place, so that every part of watchband reads and writes them exactly as the originals do.
//!
//! A. Backup changed-block pipeline (seeds 000/001): metric, dimension, table, alarm definition,
//!    the EventBridge `Backup Job State Change` event.
//! B. Random Cut Forest on CloudWatch metrics (seed 002): the `<Metric>AnomalyIndicator` series.
//! C. Kinesis temperature stream (seed 003): the record payload, table item, SNS subject/message.
//! D. CloudWatch alarm → SNS (seed 004): a static-threshold alarm.

use crate::cloud::{
    AlarmDefinition, AlarmMetric, AttrValue, ComparisonOperator, Item, MetricId, MetricQuery,
    TreatMissingData,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

// ---------------------------------------------------------------- A: backups

pub const BACKUP_NAMESPACE: &str = "BACKUP";
pub const BACKUP_METRIC: &str = "BACKUP_CHANGED_BLOCKS";
pub const BACKUP_DIMENSION: &str = "BACKUP_RESOURCE";
/// DynamoDB table keeping the previous snapshot per volume: `{arn (S, hash key), snapshot}`.
pub const BACKUP_TABLE: &str = "anomaly-detection";
pub const BACKUP_ALARM_PREFIX: &str = "Backup-Anomaly-Alarm/";
pub const BACKUP_TOPIC_DISPLAY_NAME: &str = "AWS Backup AnomalyDetection Topic";
/// The topic watchband creates or looks for when none is configured.
pub const BACKUP_TOPIC_NAME: &str = "backup-anomaly-alerts";
/// The tag key seed 001's backup plan selects volumes by when none is configured.
/// The SQS queue an EventBridge rule fills with `Backup Job State Change` events for the backup
/// processor run as a process (`watchband process backups`) and inside the demo account.
/// Seed 001 targets its Lambda function with the rule directly; a queue lets a process (or a
/// paused function) catch up on what it missed.
pub const BACKUP_EVENTS_QUEUE: &str = "watchband-backup-events";
/// The table the processors keep detector state in (the metric scorer's forests).
pub const DETECTOR_STATE_TABLE: &str = "watchband-detector-state";
pub const DEFAULT_BACKUP_TAG_KEY: &str = "backup";
/// Seed 001's daily rule.
pub const DAILY_BACKUP_SCHEDULE: &str = "cron(0 5 * * ? *)";
pub const MONTHLY_BACKUP_SCHEDULE: &str = "cron(0 5 1 * ? *)";

/// The metric a volume's changed-block counts are published under.
pub fn backup_metric(volume_arn: &str) -> MetricId {
    MetricId::new(
        BACKUP_NAMESPACE,
        BACKUP_METRIC,
        &[(BACKUP_DIMENSION, volume_arn)],
    )
}

pub fn backup_alarm_name(volume_arn: &str) -> String {
    format!("{BACKUP_ALARM_PREFIX}{volume_arn}")
}

/// The volume ARN inside a `Backup-Anomaly-Alarm/<arn>` alarm name.
pub fn volume_arn_of_alarm(alarm_name: &str) -> Option<&str> {
    alarm_name.strip_prefix(BACKUP_ALARM_PREFIX)
}

/// Seed 001's alarm, exactly as its function creates it on the first sighting of a volume:
/// `m1` = Maximum over 60 s, `ad1 = ANOMALY_DETECTION_BAND(m1, width)`, upper-threshold
/// comparison, one evaluation period, missing data ignored, actions to the topic.
pub fn backup_alarm_definition(
    volume_arn: &str,
    topic_arn: &str,
    band_width: f64,
) -> AlarmDefinition {
    anomaly_alarm_definition(
        &backup_alarm_name(volume_arn),
        backup_metric(volume_arn),
        "Maximum",
        60,
        band_width,
        1,
        topic_arn,
    )
}

/// A band alarm of seed 001's shape on any metric (what the TUI's `a` key writes).
pub fn anomaly_alarm_definition(
    name: &str,
    metric: MetricId,
    stat: &str,
    period: i32,
    band_width: f64,
    evaluation_periods: i32,
    topic_arn: &str,
) -> AlarmDefinition {
    AlarmDefinition {
        name: name.to_string(),
        description: Some(name.to_string()),
        actions_enabled: true,
        alarm_actions: vec![topic_arn.to_string()],
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        metric: AlarmMetric::Queries(vec![
            MetricQuery::stat("m1", metric, period, stat),
            MetricQuery::expression("ad1", band_expression("m1", band_width)),
        ]),
        comparison: ComparisonOperator::GreaterThanUpperThreshold,
        threshold: None,
        threshold_metric_id: Some("ad1".into()),
        evaluation_periods,
        datapoints_to_alarm: None,
        treat_missing_data: TreatMissingData::Ignore,
    }
}

/// `ANOMALY_DETECTION_BAND(m1, 2)`; a fractional width keeps its fraction.
pub fn band_expression(metric_id: &str, width: f64) -> String {
    if width.fract() == 0.0 {
        format!("ANOMALY_DETECTION_BAND({metric_id}, {})", width as i64)
    } else {
        format!("ANOMALY_DETECTION_BAND({metric_id}, {width})")
    }
}

/// Parses `ANOMALY_DETECTION_BAND(m1)` or `ANOMALY_DETECTION_BAND(m1, 2.5)` into the metric id
/// and the band width (2 when not given, as CloudWatch does).
pub fn parse_band_expression(expr: &str) -> Option<(String, f64)> {
    let inner = expr
        .trim()
        .strip_prefix("ANOMALY_DETECTION_BAND(")?
        .strip_suffix(')')?;
    let mut parts = inner.split(',').map(str::trim);
    let id = parts.next().filter(|s| !s.is_empty())?.to_string();
    let width = match parts.next() {
        Some(w) => w
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && *w > 0.0)?,
        None => 2.0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some((id, width))
}

/// The `snap-...` id at the end of a snapshot ARN or event resource.
pub fn snapshot_id_in(s: &str) -> Option<&str> {
    id_with_prefix(s, "snap-")
}

/// The `vol-...` id at the end of a volume ARN.
pub fn volume_id_in(s: &str) -> Option<&str> {
    id_with_prefix(s, "vol-")
}

fn id_with_prefix<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let start = s.rfind(prefix)?;
    let id = &s[start..];
    let hex = &id[prefix.len()..];
    (!hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// The `anomaly-detection` table's item for a volume.
pub fn backup_table_item(volume_arn: &str, snapshot_id: &str) -> Item {
    let mut item = Item::new();
    item.insert("arn".into(), AttrValue::S(volume_arn.to_string()));
    item.insert("snapshot".into(), AttrValue::S(snapshot_id.to_string()));
    item
}

/// The parts of an EventBridge `Backup Job State Change` event the backup processor uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupJobEvent {
    pub job_id: String,
    pub state: String,
    pub resource_type: String,
    pub volume_arn: String,
    pub snapshot_id: String,
    pub time: Option<String>,
}

/// Reads an EventBridge event (the JSON EventBridge delivers to Lambda or to an SQS queue).
/// Returns `Ok(None)` for events that are not a completed EBS backup job.
pub fn parse_backup_event(json: &str) -> Result<Option<BackupJobEvent>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not a JSON event: {e}"))?;
    if v.get("detail-type").and_then(|d| d.as_str()) != Some("Backup Job State Change") {
        return Ok(None);
    }
    let detail = v.get("detail").ok_or("event has no detail")?;
    let s = |k: &str| detail.get(k).and_then(|x| x.as_str()).unwrap_or_default();
    if s("resourceType") != "EBS" || s("state") != "COMPLETED" {
        return Ok(None);
    }
    let volume_arn = s("resourceArn");
    if volume_id_in(volume_arn).is_none() {
        return Err(format!(
            "detail.resourceArn is not a volume ARN: {volume_arn:?}"
        ));
    }
    let resource0 = v
        .get("resources")
        .and_then(|r| r.get(0))
        .and_then(|r| r.as_str())
        .unwrap_or_default();
    let snapshot_id = snapshot_id_in(resource0)
        .ok_or_else(|| format!("resources[0] is not a snapshot: {resource0:?}"))?;
    Ok(Some(BackupJobEvent {
        job_id: s("backupJobId").to_string(),
        state: s("state").to_string(),
        resource_type: s("resourceType").to_string(),
        volume_arn: volume_arn.to_string(),
        snapshot_id: snapshot_id.to_string(),
        time: v.get("time").and_then(|t| t.as_str()).map(str::to_string),
    }))
}

/// Builds the event AWS Backup sends when a job completes (the simulator and tests use it).
pub fn backup_event_json(
    account: &str,
    region: &str,
    job_id: &str,
    volume_arn: &str,
    snapshot_arn: &str,
    time: &str,
) -> String {
    serde_json::json!({
        "version": "0",
        "id": format!("evt-{job_id}"),
        "detail-type": "Backup Job State Change",
        "source": "aws.backup",
        "account": account,
        "time": time,
        "region": region,
        "resources": [snapshot_arn],
        "detail": {
            "backupJobId": job_id,
            "state": "COMPLETED",
            "resourceType": "EBS",
            "resourceArn": volume_arn,
        }
    })
    .to_string()
}

// ---------------------------------------------------------------- B: RCF indicator

pub const INDICATOR_SUFFIX: &str = "AnomalyIndicator";

/// Where the indicator of an AWS-owned metric (`AWS/EC2` …) is written: `Watchband/AWS/EC2`.
pub const INDICATOR_NAMESPACE_PREFIX: &str = "Watchband/";

/// `CPUUtilization` → `CPUUtilizationAnomalyIndicator` (same namespace, except for AWS's own
/// namespaces, and same dimensions).
pub fn indicator_metric(metric: &MetricId) -> MetricId {
    // CloudWatch refuses PutMetricData to namespaces starting with "AWS/", so seed 002's
    // write-back ("same namespace") cannot work for AWS's own metrics; those get theirs under
    // a custom namespace of the same name.
    let namespace = if metric.namespace.starts_with("AWS/") {
        format!("{INDICATOR_NAMESPACE_PREFIX}{}", metric.namespace)
    } else {
        metric.namespace.clone()
    };
    MetricId {
        namespace,
        name: format!("{}{INDICATOR_SUFFIX}", metric.name),
        dimensions: metric.dimensions.clone(),
    }
}

// ---------------------------------------------------------------- C: temperature stream

pub const TEMPERATURE_STREAM: &str = "m03p02_raw_data_stream";
pub const TEMPERATURE_TABLE: &str = "m03p02_anomaly_data";
pub const TEMPERATURE_TOPIC: &str = "m03p02_anomaly_alerts";

/// Seed 003's record payload, field for field.
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

/// Seed 003's record payload borrowed from the record's bytes: what the hot path decodes into.
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

/// Decodes one seed 003 record into an owned reading (see [`decode_reading_ref`]).
pub fn decode_reading(bytes: &[u8]) -> Result<TemperatureReading, DecodeError> {
    decode_reading_ref(bytes).map(ReadingRef::into_owned)
}

/// Decodes one seed 003 record, borrowing its strings from `bytes`. Numbers given as strings
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

/// Seed 003's SNS subject: `Hot temperature is detected.`
pub fn temperature_alert_subject(anomaly_type: &str) -> String {
    format!("{anomaly_type} temperature is detected.")
}

/// Seed 003's SNS message.
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

/// A number as DynamoDB and the originals print it (`97.3`, `101`).
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::MetricQueryKind;

    #[test]
    fn band_expressions_round_trip() {
        assert_eq!(band_expression("m1", 2.0), "ANOMALY_DETECTION_BAND(m1, 2)");
        assert_eq!(
            parse_band_expression("ANOMALY_DETECTION_BAND(m1, 2.5)"),
            Some(("m1".into(), 2.5))
        );
        assert_eq!(
            parse_band_expression("ANOMALY_DETECTION_BAND(m1)"),
            Some(("m1".into(), 2.0))
        );
        assert_eq!(
            parse_band_expression("ANOMALY_DETECTION_BAND(m1, -1)"),
            None
        );
        assert_eq!(parse_band_expression("SUM(m1)"), None);
    }

    #[test]
    fn ids_are_found_at_the_end_of_arns() {
        assert_eq!(
            snapshot_id_in("arn:aws:ec2:us-east-1::snapshot/snap-0abc12"),
            Some("snap-0abc12")
        );
        assert_eq!(
            volume_id_in("arn:aws:ec2:us-east-1:123456789012:volume/vol-0ff"),
            Some("vol-0ff")
        );
        assert_eq!(volume_id_in("arn:aws:ec2:us-east-1:1:volume/vol-xyz"), None);
    }

    #[test]
    fn backup_event_is_parsed_and_filtered() {
        let json = backup_event_json(
            "123456789012",
            "us-east-1",
            "job-1",
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1",
            "arn:aws:ec2:us-east-1::snapshot/snap-0b2",
            "2026-01-01T05:10:00Z",
        );
        let ev = parse_backup_event(&json).unwrap().unwrap();
        assert_eq!(ev.snapshot_id, "snap-0b2");
        assert_eq!(
            ev.volume_arn,
            "arn:aws:ec2:us-east-1:123456789012:volume/vol-0a1"
        );
        let running = json.replace("COMPLETED", "RUNNING");
        assert_eq!(parse_backup_event(&running).unwrap(), None);
    }

    #[test]
    fn seed_001_alarm_definition() {
        let def = backup_alarm_definition("arn:aws:ec2:r:1:volume/vol-1", "arn:aws:sns:r:1:t", 2.0);
        assert_eq!(
            def.name,
            "Backup-Anomaly-Alarm/arn:aws:ec2:r:1:volume/vol-1"
        );
        assert_eq!(def.description.as_deref(), Some(def.name.as_str()));
        assert_eq!(
            def.comparison,
            ComparisonOperator::GreaterThanUpperThreshold
        );
        assert_eq!(def.threshold_metric_id.as_deref(), Some("ad1"));
        assert_eq!(def.evaluation_periods, 1);
        assert_eq!(def.treat_missing_data, TreatMissingData::Ignore);
        let AlarmMetric::Queries(q) = &def.metric else {
            panic!()
        };
        assert!(
            matches!(&q[0].kind, MetricQueryKind::Stat { period: 60, stat, .. } if stat == "Maximum")
        );
        assert_eq!(
            q[1].kind,
            MetricQueryKind::Expression("ANOMALY_DETECTION_BAND(m1, 2)".into())
        );
    }

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
    fn alert_texts_match_seed_003() {
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
