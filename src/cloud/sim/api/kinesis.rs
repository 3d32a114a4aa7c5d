//! Kinesis answered from the world's streams ([`crate::cloud::sim::kinesis`]): streams, shards,
//! iterators, records.

use super::errors::*;
use crate::cloud::sim::SimCloud;
use crate::cloud::sim::kinesis;
use crate::cloud::{CloudResult, PutRecord, PutRecordsOutcome, RecordBatch, Shard, ShardPosition};

pub(crate) async fn list_streams(sim: &SimCloud) -> CloudResult<Vec<String>> {
    sim.gate("kinesis", "ListStreams", None).await?;
    sim.with(|w, _, _| Ok(w.kinesis.names()))
}

pub(crate) async fn stream_identity(
    sim: &SimCloud,
    stream: &str,
) -> CloudResult<crate::cloud::StreamIdentity> {
    const OP: &str = "DescribeStreamSummary";
    sim.gate("kinesis", OP, Some(stream)).await?;
    sim.with(|w, _, _| {
        let st = w
            .kinesis
            .stream(stream)
            .map_err(|e| kin_err(e, OP, stream))?;
        Ok(crate::cloud::StreamIdentity {
            arn: format!(
                "arn:aws:kinesis:{}:{}:stream/{}",
                crate::cloud::sim::world::REGION,
                crate::cloud::sim::world::ACCOUNT,
                st.name
            ),
            created: crate::cloud::sim::clock::to_time(st.created),
        })
    })
}

pub(crate) async fn list_shards(sim: &SimCloud, stream: &str) -> CloudResult<Vec<Shard>> {
    const OP: &str = "ListShards";
    sim.gate("kinesis", OP, Some(stream)).await?;
    sim.with(|w, now, _| {
        let st = w
            .kinesis
            .stream(stream)
            .map_err(|e| kin_err(e, OP, stream))?;
        // A shard exists once created; closed shards stay listed through the retention.
        let mut shards: Vec<Shard> = st
            .shard_views()
            .into_iter()
            .zip(&st.shards)
            .filter(|(_, d)| d.created <= now)
            .filter(|(_, d)| d.closed.is_none_or(|c| now - c < kinesis::RETENTION_MS))
            .map(|(s, d)| {
                if d.closed.is_some_and(|c| c > now) {
                    Shard {
                        ending_sequence: None,
                        ..s
                    }
                } else {
                    s
                }
            })
            .collect();
        shards.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(shards)
    })
}

pub(crate) async fn get_shard_iterator(
    sim: &SimCloud,
    stream: &str,
    shard_id: &str,
    position: ShardPosition,
) -> CloudResult<String> {
    const OP: &str = "GetShardIterator";
    let res = format!("{stream}/{shard_id}");
    sim.gate("kinesis", OP, Some(&res)).await?;
    sim.with(|w, now, real| {
        let st = w.kinesis.stream(stream).map_err(|e| kin_err(e, OP, &res))?;
        if let Some(s) = st.shards.iter().find(|s| s.id() == shard_id)
            && s.created > now
        {
            return Err(not_found(
                "kinesis",
                OP,
                &res,
                format!("Shard {shard_id} does not exist yet"),
            ));
        }
        w.kinesis
            .iterator(stream, shard_id, &position, now, real)
            .map_err(|e| kin_err(e, OP, &res))
    })
}

pub(crate) async fn get_records(
    sim: &SimCloud,
    iterator: &str,
    limit: Option<i32>,
) -> CloudResult<RecordBatch> {
    const OP: &str = "GetRecords";
    let res = kinesis_iterator_resource(iterator);
    sim.gate("kinesis", OP, Some(&res)).await?;
    sim.with(|w, now, real| {
        w.kinesis
            .get_records(iterator, limit, now, real)
            .map_err(|e| kin_err(e, OP, &res))
    })
}

pub(crate) async fn put_records(
    sim: &SimCloud,
    stream: &str,
    records: Vec<PutRecord>,
) -> CloudResult<PutRecordsOutcome> {
    const OP: &str = "PutRecords";
    sim.gate("kinesis", OP, Some(stream)).await?;
    sim.with(|w, now, _| {
        w.kinesis
            .put(stream, records, now)
            .map(|results| PutRecordsOutcome { results })
            .map_err(|e| kin_err(e, OP, stream))
    })
}

/// "stream/shard" named by an iterator, for error messages (the iterator itself is opaque).
fn kinesis_iterator_resource(iterator: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(iterator)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let mut p = s.split('|').skip(1);
            let stream = p.next()?.to_string();
            let num: u32 = p.next()?.parse().ok()?;
            Some(format!("{stream}/{}", kinesis::shard_id(num)))
        })
        .unwrap_or_else(|| "shard iterator".to_string())
}
