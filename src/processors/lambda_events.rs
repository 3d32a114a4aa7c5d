//! The shapes AWS Lambda hands the processors and expects back, translated to and from the
//! seam's types. Always compiled (and tested) so the feature-gated Lambda runtime glue stays a
//! thin loop around these functions.

use crate::cloud::{StreamRecord, Time};
use base64::Engine;
use serde_json::{Value, json};

/// One record of a Kinesis event, or why its envelope could not be read (with its sequence
/// number when it had one).
pub type EventRecord = Result<StreamRecord, (Option<String>, String)>;

/// A Kinesis event's records (`Records[].kinesis`), in order. A record whose envelope is
/// unreadable is returned as an error with its sequence number when there is one, so it can
/// be reported as a batch item failure instead of failing the whole batch.
pub fn kinesis_records(event: &Value) -> Result<Vec<EventRecord>, String> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or("not a Kinesis event: no Records array")?;
    Ok(records
        .iter()
        .map(|r| {
            let k = r
                .get("kinesis")
                .ok_or((None, "record has no kinesis field".to_string()))?;
            let seq = k
                .get("sequenceNumber")
                .and_then(Value::as_str)
                .map(str::to_string);
            let fail = |m: &str| (seq.clone(), m.to_string());
            let data = k
                .get("data")
                .and_then(Value::as_str)
                .ok_or_else(|| fail("record has no data"))?;
            let data = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| fail(&format!("data is not base64: {e}")))?;
            let arrival = k
                .get("approximateArrivalTimestamp")
                .and_then(Value::as_f64)
                .and_then(|t| Time::from_timestamp_millis((t * 1000.0) as i64))
                .unwrap_or_default();
            Ok(StreamRecord {
                sequence_number: seq
                    .clone()
                    .ok_or_else(|| fail("record has no sequenceNumber"))?,
                partition_key: k
                    .get("partitionKey")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                data,
                arrival,
            })
        })
        .collect())
}

/// The partial-batch response Lambda's Kinesis event source reads (`ReportBatchItemFailures`):
/// Lambda retries from the lowest sequence number named.
pub fn batch_item_failures(sequence_numbers: &[String]) -> Value {
    json!({
        "batchItemFailures": sequence_numbers
            .iter()
            .map(|s| json!({ "itemIdentifier": s }))
            .collect::<Vec<_>>()
    })
}

/// The SQS event Lambda hands a function subscribed to a queue: the message bodies.
pub fn sqs_bodies(event: &Value) -> Option<Vec<String>> {
    event.get("Records")?.as_array().map(|records| {
        records
            .iter()
            .filter_map(|r| r.get("body").and_then(Value::as_str).map(str::to_string))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_event_records_are_decoded() {
        let event = json!({"Records": [
            {"kinesis": {"partitionKey": "DHT_001", "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
                          "data": base64::engine::general_purpose::STANDARD.encode(b"{\"value\": 97.3}"),
                          "approximateArrivalTimestamp": 1545084650.987}, "eventSource": "aws:kinesis"},
            {"kinesis": {"partitionKey": "DHT_002", "sequenceNumber": "2", "data": "!!!"}}
        ]});
        let records = kinesis_records(&event).unwrap();
        let first = records[0].as_ref().unwrap();
        assert_eq!(first.partition_key, "DHT_001");
        assert_eq!(first.data, b"{\"value\": 97.3}");
        assert_eq!(first.arrival.timestamp_millis(), 1545084650987);
        let (seq, why) = records[1].as_ref().unwrap_err();
        assert_eq!(seq.as_deref(), Some("2"));
        assert!(why.contains("base64"));
        assert!(kinesis_records(&json!({"detail": {}})).is_err());
    }

    #[test]
    fn failures_are_reported_by_sequence_number() {
        assert_eq!(
            batch_item_failures(&["7".into()]),
            json!({"batchItemFailures": [{"itemIdentifier": "7"}]})
        );
        assert_eq!(batch_item_failures(&[]), json!({"batchItemFailures": []}));
    }
}
