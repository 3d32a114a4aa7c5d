//! Kinesis in the simulated account: streams of temperature records generated lazily
//! from the clock, shards with hash-key ranges (records routed by the MD5 of the partition key,
//! as Kinesis does), a split of one shard, iterators of every type, 24 h retention.
//!
//! Generated records are never stored: the record of device d in second s is a function of
//! (seed, stream, d, s), and its sequence number encodes its arrival time, so any position can
//! be read again. Records written with PutRecords are kept per shard for the retention window.

use super::clock::{DAY_MS, HOUR_MS, to_time};
use super::md5::hash_key;
use super::rng::{Rng, hash, unit};
use crate::cloud::{RecordBatch, Shard, StreamRecord};
use crate::interop::TemperatureReading;
use base64::Engine;
use std::collections::BTreeMap;

pub const RETENTION_MS: i64 = DAY_MS;
/// Iterators expire after five minutes of real time, as on AWS.
pub const ITERATOR_TTL_REAL_MS: i64 = 5 * 60 * 1000;
pub const MAX_GET_LIMIT: i32 = 10_000;
/// GetRecords calls allowed per shard in any second of real time, as on AWS.
pub const READS_PER_SHARD_PER_SECOND: usize = 5;
/// Share of generated records that are malformed (bad JSON, no value, a string value).
pub const MALFORMED_PER_MILLE: u64 = 5;
const FIRST_PUT_SLOT: u32 = 16;

/// One temperature sensor writing once per simulated second.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub hash: u128,
    pub slot: u32,
    /// Millisecond within each second at which its record arrives.
    pub offset_ms: i64,
    pub phase: f64,
    pub bias: f64,
}

#[derive(Debug, Clone)]
pub struct ShardDef {
    pub num: u32,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    pub lo: u128,
    pub hi: u128,
    pub created: i64,
    pub closed: Option<i64>,
}

impl ShardDef {
    pub fn id(&self) -> String {
        shard_id(self.num)
    }

    fn open_at(&self, t: i64) -> bool {
        t >= self.created && self.closed.is_none_or(|c| t < c)
    }
}

pub fn shard_id(num: u32) -> String {
    format!("shardId-{num:012}")
}

fn parse_shard_id(id: &str) -> Option<u32> {
    id.strip_prefix("shardId-")?.parse().ok()
}

#[derive(Debug, Clone)]
struct PutRec {
    key: String,
    data: Vec<u8>,
    arrival: i64,
}

#[derive(Debug, Clone)]
pub struct Stream {
    pub name: String,
    pub idx: u32,
    pub created: i64,
    pub shards: Vec<ShardDef>,
    pub devices: Vec<Device>,
    /// (device index, from, to): the sensor repeats one value in this window.
    pub stuck: Option<(usize, i64, i64)>,
    puts: BTreeMap<u32, BTreeMap<u128, PutRec>>,
    put_slots: BTreeMap<u32, (i64, u32)>,
}

#[derive(Debug, Clone)]
pub struct Kinesis {
    pub seed: u64,
    pub streams: Vec<Stream>,
    /// Enforce [`READS_PER_SHARD_PER_SECOND`] (on unless a benchmark of record generation
    /// turns it off).
    pub read_limit: bool,
    /// GetRecords calls per (stream index, shard number).
    reads: BTreeMap<(u32, u32), ShardReads>,
}

/// GetRecords calls on one shard: the real times of the accepted calls of the last second,
/// and counts since the start.
#[derive(Debug, Clone, Default)]
pub struct ShardReads {
    recent: std::collections::VecDeque<i64>,
    pub accepted: u64,
    pub throttled: u64,
}

/// One PutRecords entry: (shard id, sequence number) or the error code.
pub type PutResult = Result<(String, String), String>;

pub enum KinError {
    NotFound(String),
    Invalid(String),
    Expired(String),
    /// ProvisionedThroughputExceededException.
    Throttled(String),
}

fn seq_string(shard: u32, value: u128) -> String {
    format!("49{shard:06}{value:048}")
}

fn parse_seq(s: &str) -> Option<(u32, u128)> {
    if s.len() != 56 || !s.starts_with("49") || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((s[2..8].parse().ok()?, s[8..].parse().ok()?))
}

fn value_of(arrival_ms: i64, slot: u32) -> u128 {
    (arrival_ms.max(0) as u128) * 1000 + u128::from(slot)
}

fn arrival_of(value: u128) -> i64 {
    (value / 1000) as i64
}

impl Stream {
    /// A stream of `devices` sensors over `shards` shards, created at `created`; when
    /// `split_at` is given, the busier shard splits in two at that time.
    pub fn new(
        seed: u64,
        idx: u32,
        name: &str,
        devices: usize,
        created: i64,
        split_at: Option<i64>,
        stuck: Option<(usize, i64, i64)>,
    ) -> Stream {
        let n_shards = 2u32;
        let step = u128::MAX / u128::from(n_shards);
        let mut shards: Vec<ShardDef> = (0..n_shards)
            .map(|i| ShardDef {
                num: i,
                parent: None,
                adjacent_parent: None,
                lo: step * u128::from(i) + u128::from(i),
                hi: if i + 1 == n_shards {
                    u128::MAX
                } else {
                    step * u128::from(i + 1) + u128::from(i)
                },
                created,
                closed: None,
            })
            .collect();
        let devices: Vec<Device> = (0..devices)
            .map(|i| {
                let id = format!("DHT_{:03}", i + 1);
                let h = hash(&[seed, 0xde7, u64::from(idx), i as u64]);
                Device {
                    hash: hash_key(&id),
                    id,
                    slot: i as u32 % FIRST_PUT_SLOT,
                    offset_ms: 37 + (h % 900) as i64,
                    phase: 0.55 + 0.1 * unit(h >> 8),
                    bias: -0.4 + 0.8 * unit(h >> 16),
                }
            })
            .collect();
        if let Some(at) = split_at {
            let count = |s: &ShardDef| {
                devices
                    .iter()
                    .filter(|d| (s.lo..=s.hi).contains(&d.hash))
                    .count()
            };
            let target = if count(&shards[1]) > count(&shards[0]) {
                1
            } else {
                0
            };
            let (lo, hi) = (shards[target].lo, shards[target].hi);
            let mut inside: Vec<u128> = devices
                .iter()
                .map(|d| d.hash)
                .filter(|h| (lo..=hi).contains(h))
                .collect();
            inside.sort_unstable();
            // Split between the devices when there are two or more, so both children get data.
            let mid = if inside.len() >= 2 {
                inside[inside.len() / 2 - 1] / 2 + inside[inside.len() / 2] / 2 + 1
            } else {
                lo / 2 + hi / 2
            };
            shards[target].closed = Some(at);
            let parent = shards[target].num;
            for (num, (a, b)) in [(n_shards, (lo, mid - 1)), (n_shards + 1, (mid, hi))] {
                shards.push(ShardDef {
                    num,
                    parent: Some(parent),
                    adjacent_parent: None,
                    lo: a,
                    hi: b,
                    created: at,
                    closed: None,
                });
            }
        }
        Stream {
            name: name.to_string(),
            idx,
            created,
            shards,
            devices,
            stuck,
            puts: BTreeMap::new(),
            put_slots: BTreeMap::new(),
        }
    }

    fn shard(&self, num: u32) -> Option<&ShardDef> {
        self.shards.iter().find(|s| s.num == num)
    }

    pub fn shard_views(&self) -> Vec<Shard> {
        self.shards
            .iter()
            .map(|s| Shard {
                id: s.id(),
                parent: s.parent.map(shard_id),
                adjacent_parent: s.adjacent_parent.map(shard_id),
                starting_hash_key: s.lo.to_string(),
                ending_hash_key: s.hi.to_string(),
                starting_sequence: seq_string(s.num, value_of(s.created, 0)),
                ending_sequence: s.closed.map(|c| seq_string(s.num, value_of(c, 0) - 1)),
            })
            .collect()
    }

    fn open_shard_for(&self, h: u128, t: i64) -> Option<&ShardDef> {
        self.shards
            .iter()
            .find(|s| (s.lo..=s.hi).contains(&h) && s.open_at(t))
    }

    fn devices_of(&self, shard: &ShardDef) -> Vec<usize> {
        let mut d: Vec<usize> = (0..self.devices.len())
            .filter(|i| (shard.lo..=shard.hi).contains(&self.devices[*i].hash))
            .collect();
        d.sort_by_key(|i| (self.devices[*i].offset_ms, self.devices[*i].slot));
        d
    }

    /// The temperature a device reports in second `s` (before malformation).
    fn temperature(&self, seed: u64, d: usize, s: i64) -> f64 {
        let dev = &self.devices[d];
        if let Some((sd, from, to)) = self.stuck
            && sd == d
            && (from..to).contains(&(s * 1000))
        {
            return self.temperature_free(seed, d, from.div_euclid(1000), dev);
        }
        self.temperature_free(seed, d, s, dev)
    }

    fn temperature_free(&self, seed: u64, d: usize, s: i64, dev: &Device) -> f64 {
        let mut r = Rng::from_state(hash(&[seed, 0x7e, u64::from(self.idx), d as u64, s as u64]));
        let hod = s.rem_euclid(86_400) as f64 / 86_400.0;
        // Centred between the temperature pipeline's thresholds (96 and 101): with the drift and 0.35° of noise
        // a normal reading stays over 4σ inside them, so Hot and Cold are the excursions.
        // (The temperature pipeline's own generator draws Normal(97, 2): a third of its readings are "Cold".)
        let mut v = 98.5 + dev.bias + 0.8 * (std::f64::consts::TAU * (hod - dev.phase)).sin();
        v += 0.35 * r.normal();
        // Rare excursions: about 1 % of device-hours have a few hot or cold minutes.
        let hour = s.div_euclid(3600);
        let eh = hash(&[seed, 0xe4, u64::from(self.idx), d as u64, hour as u64]);
        if unit(eh) < 0.01 {
            let m0 = ((eh >> 20) % 55) as i64;
            let minute = s.rem_euclid(3600) / 60;
            if (m0..m0 + 4).contains(&minute) {
                v += if (eh >> 40) & 1 == 0 { 5.5 } else { -4.5 };
            }
        }
        (v * 10.0).round() / 10.0
    }

    /// The payload of device `d` for second `s`, arriving at `arrival`.
    pub fn payload(&self, seed: u64, d: usize, s: i64, arrival: i64) -> Vec<u8> {
        let dev = &self.devices[d];
        let h = hash(&[seed, 0xa1, u64::from(self.idx), d as u64, s as u64]);
        let t = to_time(arrival);
        let micros = (arrival.rem_euclid(1000)) * 1000 + ((h >> 30) % 1000) as i64;
        let reading = TemperatureReading {
            timestamp: format!("{}.{micros:06}", t.format("%Y-%m-%d %H:%M:%S")),
            datatype: "Temperature".into(),
            value: self.temperature(seed, d, s),
            deviceid: dev.id.clone(),
            date: t.format("%Y-%m-%d").to_string(),
            lowest_temp: 96.0,
            highest_temp: 101.0,
        };
        if h % 1000 >= MALFORMED_PER_MILLE {
            return reading.to_json().into_bytes();
        }
        match (h >> 10) % 3 {
            0 => {
                let j = reading.to_json();
                j.as_bytes()[..j.len() / 2].to_vec()
            }
            1 => serde_json::json!({
                "timestamp": reading.timestamp,
                "datatype": reading.datatype,
                "deviceid": reading.deviceid,
                "date": reading.date,
                "lowest_temp": 96,
                "highest_temp": 101,
            })
            .to_string()
            .into_bytes(),
            _ => serde_json::json!({
                "timestamp": reading.timestamp,
                "datatype": reading.datatype,
                "value": format!("{}", reading.value),
                "deviceid": reading.deviceid,
                "date": reading.date,
                "lowest_temp": 96,
                "highest_temp": 101,
            })
            .to_string()
            .into_bytes(),
        }
    }

    /// Records of shard `num` with value > `after`, arrived by `now`, at most `limit`.
    /// Returns the records and whether the limit cut the read short.
    fn read(
        &self,
        seed: u64,
        num: u32,
        after: u128,
        now: i64,
        limit: usize,
    ) -> (Vec<StreamRecord>, bool) {
        let Some(shard) = self.shard(num) else {
            return (Vec::new(), false);
        };
        let end = shard.closed.map_or(now, |c| (c - 1).min(now));
        let devs = self.devices_of(shard);
        let puts = self.puts.get(&num);
        let mut out = Vec::new();
        let start_ms = arrival_of(after).max(shard.created).max(now - RETENTION_MS);
        let mut s = start_ms.div_euclid(1000);
        let last_s = end.div_euclid(1000);
        let mut batch: Vec<(u128, StreamRecord)> = Vec::new();
        while s <= last_s {
            if devs.is_empty() {
                // Nothing generated here: jump to the next put, if any.
                let lo = value_of(s * 1000, 0).max(after + 1);
                match puts.and_then(|p| p.range(lo..).next()) {
                    Some((v, _)) if arrival_of(*v) <= end => s = arrival_of(*v).div_euclid(1000),
                    _ => break,
                }
            }
            batch.clear();
            for &d in &devs {
                let dev = &self.devices[d];
                let arrival = s * 1000 + dev.offset_ms;
                let v = value_of(arrival, dev.slot);
                if v > after && arrival <= end && shard.open_at(arrival) && arrival >= self.created
                {
                    batch.push((
                        v,
                        StreamRecord {
                            sequence_number: seq_string(num, v),
                            partition_key: dev.id.clone(),
                            data: self.payload(seed, d, s, arrival),
                            arrival: to_time(arrival),
                        },
                    ));
                }
            }
            if let Some(p) = puts {
                let lo = value_of(s * 1000, 0).max(after + 1);
                let hi = value_of((s + 1) * 1000, 0);
                for (v, r) in p.range(lo..hi) {
                    if r.arrival <= end {
                        batch.push((
                            *v,
                            StreamRecord {
                                sequence_number: seq_string(num, *v),
                                partition_key: r.key.clone(),
                                data: r.data.clone(),
                                arrival: to_time(r.arrival),
                            },
                        ));
                    }
                }
            }
            batch.sort_by_key(|b| b.0);
            for (_, r) in batch.drain(..) {
                if out.len() == limit {
                    return (out, true);
                }
                out.push(r);
            }
            s += 1;
        }
        (out, false)
    }
}

impl Kinesis {
    pub fn new(seed: u64) -> Kinesis {
        Kinesis {
            seed,
            streams: Vec::new(),
            read_limit: true,
            reads: BTreeMap::new(),
        }
    }

    /// GetRecords calls so far per (stream, shard id): accepted and throttled.
    pub fn read_counts(&self) -> Vec<(String, String, u64, u64)> {
        self.reads
            .iter()
            .filter_map(|((st, num), r)| {
                let name = self.streams.iter().find(|s| s.idx == *st)?.name.clone();
                Some((name, shard_id(*num), r.accepted, r.throttled))
            })
            .collect()
    }

    /// Counts one GetRecords call on a shard at real time `real`, or refuses it when the shard
    /// already had its five calls in the last second (a refused call does not count).
    fn admit_read(&mut self, stream: u32, num: u32, real: i64) -> Result<(), KinError> {
        let log = self.reads.entry((stream, num)).or_default();
        while log.recent.front().is_some_and(|t| real - t >= 1000) {
            log.recent.pop_front();
        }
        if self.read_limit && log.recent.len() >= READS_PER_SHARD_PER_SECOND {
            log.throttled += 1;
            let name = self
                .streams
                .iter()
                .find(|s| s.idx == stream)
                .map_or("", |s| &s.name);
            return Err(KinError::Throttled(format!(
                "Rate exceeded for shard {} in stream {name} under account {}.",
                shard_id(num),
                super::world::ACCOUNT
            )));
        }
        log.recent.push_back(real);
        log.accepted += 1;
        Ok(())
    }

    pub fn stream(&self, name: &str) -> Result<&Stream, KinError> {
        self.streams
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| KinError::NotFound(format!("Stream {name} under account not found.")))
    }

    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.streams.iter().map(|s| s.name.clone()).collect();
        v.sort();
        v
    }

    fn trim_value(st: &Stream, shard: &ShardDef, now: i64) -> u128 {
        value_of((now - RETENTION_MS).max(shard.created).max(st.created), 0).saturating_sub(1)
    }

    pub fn iterator(
        &self,
        stream: &str,
        shard_id: &str,
        position: &crate::cloud::ShardPosition,
        now: i64,
        real: i64,
    ) -> Result<String, KinError> {
        use crate::cloud::ShardPosition as P;
        let st = self.stream(stream)?;
        let num = parse_shard_id(shard_id)
            .and_then(|n| st.shard(n).map(|s| s.num))
            .ok_or_else(|| {
                KinError::NotFound(format!(
                    "Shard {shard_id} in stream {stream} does not exist"
                ))
            })?;
        let shard = st.shard(num).expect("checked above");
        let trim = Self::trim_value(st, shard, now);
        let seq = |s: &str| -> Result<u128, KinError> {
            match parse_seq(s) {
                Some((n, v)) if n == num => Ok(v),
                _ => Err(KinError::Invalid(format!(
                    "StartingSequenceNumber {s} used in GetShardIterator on shard {shard_id} in stream {stream} is invalid because it did not come from this stream"
                ))),
            }
        };
        let after = match position {
            P::TrimHorizon => trim,
            P::Latest => value_of(now, 999),
            P::AtSequence(s) => seq(s)?.saturating_sub(1),
            P::AfterSequence(s) => seq(s)?,
            P::AtTimestamp(t) => value_of(t.timestamp_millis(), 0).saturating_sub(1),
        }
        .max(trim);
        Ok(encode_iterator(stream, num, after, real))
    }

    pub fn get_records(
        &mut self,
        iterator: &str,
        limit: Option<i32>,
        now: i64,
        real: i64,
    ) -> Result<RecordBatch, KinError> {
        let limit = limit.unwrap_or(MAX_GET_LIMIT);
        if !(1..=MAX_GET_LIMIT).contains(&limit) {
            return Err(KinError::Invalid(format!(
                "Limit {limit} must be between 1 and {MAX_GET_LIMIT}"
            )));
        }
        let (stream, num, after, issued) = decode_iterator(iterator)
            .ok_or_else(|| KinError::Invalid("ShardIterator is not a valid iterator".into()))?;
        if real - issued > ITERATOR_TTL_REAL_MS {
            return Err(KinError::Expired(format!(
                "Iterator expired. The iterator was created {} s ago and is valid for 300 s",
                (real - issued) / 1000
            )));
        }
        let st = self.stream(&stream)?;
        st.shard(num)
            .ok_or_else(|| KinError::NotFound(format!("Shard {} not found", shard_id(num))))?;
        // The limit is on real time, as AWS counts it: simulated speed does not change it.
        self.admit_read(st.idx, num, real)?;
        let st = self.stream(&stream)?;
        let shard = st
            .shard(num)
            .ok_or_else(|| KinError::NotFound(format!("Shard {} not found", shard_id(num))))?;
        let after = after.max(Self::trim_value(st, shard, now));
        let (records, limited) = st.read(self.seed, num, after, now, limit as usize);
        let last = records
            .last()
            .and_then(|r| parse_seq(&r.sequence_number))
            .map(|x| x.1);
        let millis_behind = match (&records.last(), limited) {
            (Some(r), true) => (now - r.arrival.timestamp_millis()).max(0),
            _ => 0,
        };
        let caught_up_to = value_of(now, 0).saturating_sub(1);
        let next_after = match last {
            Some(v) if limited => v,
            Some(v) => v.max(caught_up_to),
            None => after.max(caught_up_to),
        };
        let finished = !limited && shard.closed.is_some_and(|c| now >= c);
        let child_shards = if finished {
            st.shards
                .iter()
                .filter(|s| s.parent == Some(num) || s.adjacent_parent == Some(num))
                .map(|s| s.id())
                .collect()
        } else {
            Vec::new()
        };
        Ok(RecordBatch {
            records,
            next_iterator: (!finished).then(|| encode_iterator(&stream, num, next_after, real)),
            millis_behind_latest: millis_behind,
            child_shards,
        })
    }

    /// PutRecords: routes each record by the MD5 of its partition key to the open shard.
    pub fn put(
        &mut self,
        stream: &str,
        records: Vec<crate::cloud::PutRecord>,
        now: i64,
    ) -> Result<Vec<PutResult>, KinError> {
        if records.is_empty() || records.len() > 500 {
            return Err(KinError::Invalid(format!(
                "PutRecords takes 1 to 500 records, not {}",
                records.len()
            )));
        }
        for r in &records {
            if r.partition_key.is_empty() || r.partition_key.len() > 256 {
                return Err(KinError::Invalid(
                    "PartitionKey must be 1 to 256 characters".into(),
                ));
            }
            if r.data.len() > 1 << 20 {
                return Err(KinError::Invalid(
                    "a record's data must be at most 1 MiB".into(),
                ));
            }
        }
        let idx = self
            .streams
            .iter()
            .position(|s| s.name == stream)
            .ok_or_else(|| {
                KinError::NotFound(format!("Stream {stream} under account not found."))
            })?;
        let st = &mut self.streams[idx];
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let h = hash_key(&r.partition_key);
            let Some(num) = st.open_shard_for(h, now).map(|s| s.num) else {
                out.push(Err("InternalFailure".to_string()));
                continue;
            };
            let slot = match st.put_slots.get(&num) {
                Some((ms, slot)) if *ms == now => slot + 1,
                _ => FIRST_PUT_SLOT,
            };
            if slot > 999 {
                out.push(Err("ProvisionedThroughputExceededException".to_string()));
                continue;
            }
            st.put_slots.insert(num, (now, slot));
            let v = value_of(now, slot);
            st.puts.entry(num).or_default().insert(
                v,
                PutRec {
                    key: r.partition_key,
                    data: r.data,
                    arrival: now,
                },
            );
            out.push(Ok((shard_id(num), seq_string(num, v))));
        }
        Ok(out)
    }

    /// Drops put records older than the retention window.
    pub fn prune(&mut self, now: i64) {
        let keep_from = value_of(now - RETENTION_MS - HOUR_MS, 0);
        for st in &mut self.streams {
            for p in st.puts.values_mut() {
                *p = p.split_off(&keep_from);
            }
        }
    }
}

fn encode_iterator(stream: &str, num: u32, after: u128, real: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("sim1|{stream}|{num}|{after}|{real}"))
}

fn decode_iterator(s: &str) -> Option<(String, u32, u128, i64)> {
    let raw = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut p = text.split('|');
    if p.next()? != "sim1" {
        return None;
    }
    let stream = p.next()?.to_string();
    let num = p.next()?.parse().ok()?;
    let after = p.next()?.parse().ok()?;
    let real = p.next()?.parse().ok()?;
    Some((stream, num, after, real))
}
