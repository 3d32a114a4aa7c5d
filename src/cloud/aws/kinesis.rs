//! Kinesis: listing streams and shards, iterators, GetRecords and PutRecords. The polling
//! consumer (limits, splits and merges, checkpoints) lives above the seam; this module only
//! translates. Record payloads stay bytes: they are decoded, and cleaned, by the consumer.

use super::convert::{clean, from_time, to_time};
use super::errors::map_sdk_error;
use crate::cloud::{
    CloudError, CloudResult, ErrorKind, PutRecord, PutRecordsOutcome, RecordBatch, Shard,
    ShardPosition, StreamIdentity, StreamRecord,
};
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};

const SERVICE: &str = "kinesis";

pub async fn list_streams(c: &Client) -> CloudResult<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c
            .list_streams()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListStreams", None, e))?;
        names.extend(out.stream_names().iter().map(|s| crate::sanitize::clean(s)));
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) if out.has_more_streams() => token = Some(t.to_string()),
            _ => return Ok(names),
        }
    }
}

pub async fn stream_identity(c: &Client, stream: &str) -> CloudResult<StreamIdentity> {
    const OP: &str = "DescribeStreamSummary";
    let out = c
        .describe_stream_summary()
        .stream_name(stream)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, OP, Some(stream), e))?;
    let summary = out.stream_description_summary().ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            SERVICE,
            OP,
            "no stream description in the answer",
        )
        .with_resource(stream)
    })?;
    Ok(StreamIdentity {
        arn: crate::sanitize::clean(summary.stream_arn()),
        created: to_time(summary.stream_creation_timestamp()),
    })
}

pub async fn list_shards(c: &Client, stream: &str) -> CloudResult<Vec<Shard>> {
    let mut shards = Vec::new();
    let mut token: Option<String> = None;
    loop {
        // With a NextToken, ListShards refuses the stream name.
        let req = match &token {
            Some(t) => c.list_shards().next_token(t),
            None => c.list_shards().stream_name(stream),
        };
        let out = req
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "ListShards", Some(stream), e))?;
        shards.extend(out.shards().iter().map(|s| {
            Shard {
                id: crate::sanitize::clean(s.shard_id()),
                parent: s.parent_shard_id().map(crate::sanitize::clean),
                adjacent_parent: s.adjacent_parent_shard_id().map(crate::sanitize::clean),
                starting_hash_key: s
                    .hash_key_range()
                    .map(|h| crate::sanitize::clean(h.starting_hash_key()))
                    .unwrap_or_default(),
                ending_hash_key: s
                    .hash_key_range()
                    .map(|h| crate::sanitize::clean(h.ending_hash_key()))
                    .unwrap_or_default(),
                starting_sequence: s
                    .sequence_number_range()
                    .map(|r| crate::sanitize::clean(r.starting_sequence_number()))
                    .unwrap_or_default(),
                ending_sequence: s
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .map(str::to_string),
            }
        }));
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(shards),
        }
    }
}

pub async fn get_shard_iterator(
    c: &Client,
    stream: &str,
    shard_id: &str,
    position: ShardPosition,
) -> CloudResult<String> {
    let req = c
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard_id);
    let req = match position {
        ShardPosition::TrimHorizon => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
        ShardPosition::Latest => req.shard_iterator_type(ShardIteratorType::Latest),
        ShardPosition::AtSequence(s) => req
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(s),
        ShardPosition::AfterSequence(s) => req
            .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
            .starting_sequence_number(s),
        ShardPosition::AtTimestamp(t) => req
            .shard_iterator_type(ShardIteratorType::AtTimestamp)
            .timestamp(from_time(t)),
    };
    let resource = format!("{stream}/{shard_id}");
    let out = req
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "GetShardIterator", Some(&resource), e))?;
    out.shard_iterator().map(str::to_string).ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            SERVICE,
            "GetShardIterator",
            "no iterator in the answer",
        )
        .with_resource(resource)
    })
}

pub async fn get_records(
    c: &Client,
    iterator: &str,
    limit: Option<i32>,
) -> CloudResult<RecordBatch> {
    let out = c
        .get_records()
        .shard_iterator(iterator)
        .set_limit(limit)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "GetRecords", None, e))?;
    Ok(RecordBatch {
        records: out
            .records()
            .iter()
            .map(|r| StreamRecord {
                sequence_number: crate::sanitize::clean(r.sequence_number()),
                partition_key: crate::sanitize::clean(r.partition_key()),
                data: r.data().as_ref().to_vec(),
                arrival: r
                    .approximate_arrival_timestamp()
                    .map(to_time)
                    .unwrap_or_default(),
            })
            .collect(),
        next_iterator: out.next_shard_iterator().map(str::to_string),
        millis_behind_latest: out.millis_behind_latest().unwrap_or_default(),
        child_shards: out
            .child_shards()
            .iter()
            .map(|s| crate::sanitize::clean(s.shard_id()))
            .collect(),
    })
}

pub async fn put_records(
    c: &Client,
    stream: &str,
    records: Vec<PutRecord>,
) -> CloudResult<PutRecordsOutcome> {
    let entries = records
        .into_iter()
        .map(|r| {
            PutRecordsRequestEntry::builder()
                .data(Blob::new(r.data))
                .partition_key(r.partition_key)
                .build()
                .map_err(|e| {
                    CloudError::new(
                        ErrorKind::InvalidRequest,
                        SERVICE,
                        "PutRecords",
                        e.to_string(),
                    )
                    .with_resource(stream)
                })
        })
        .collect::<CloudResult<Vec<_>>>()?;
    let out = c
        .put_records()
        .stream_name(stream)
        .set_records(Some(entries))
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "PutRecords", Some(stream), e))?;
    Ok(PutRecordsOutcome {
        results: out
            .records()
            .iter()
            .map(|r| match r.error_code() {
                Some(code) => Err(crate::sanitize::clean(code)),
                None => Ok((clean(r.sequence_number()), clean(r.shard_id()))),
            })
            .collect(),
    })
}
