//! `watchband generate`: the replacement for the temperature pipeline's `dummy_temp_data.py`.
//!
//! Publishes the temperature pipeline's exact JSON payload to a Kinesis stream (AWS or the demo account) with
//! the device id as partition key, at a steady rate, with a progress line, and stops cleanly on
//! Ctrl-C (or after `--count` records) saying how many records were sent.

use crate::cli::GenerateArgs;
use crate::cloud::{Cloud, CloudError, PutRecord};
use crate::interop::TemperatureReading;
use crate::rng::Rng;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// The temperature pipeline's thresholds and distribution: Normal(97, 2) rounded to 0.1, bounds 96/101.
pub const LOWEST_TEMP: f64 = 96.0;
pub const HIGHEST_TEMP: f64 = 101.0;
const MEAN: f64 = 97.0;
const STD_DEV: f64 = 2.0;
/// Kinesis accepts at most 500 records per PutRecords call.
const MAX_BATCH: usize = 500;
/// How many times a record that PutRecords rejected (throttled shard) is sent again.
const MAX_RESENDS: u32 = 5;

/// What a run sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: u64,
    pub failed: u64,
    pub anomalies: u64,
}

/// Makes temperature readings; deterministic for a seed.
pub struct ReadingSource {
    rng: Rng,
    devices: u32,
    next_device: u32,
    anomaly_probability: f64,
}

impl ReadingSource {
    pub fn new(seed: u64, devices: u32, anomaly_probability: f64) -> Self {
        ReadingSource {
            rng: Rng::from_state(seed ^ 0x5eed_0003_7e47_0001),
            devices: devices.max(1),
            next_device: 0,
            anomaly_probability: anomaly_probability.clamp(0.0, 1.0),
        }
    }

    /// The next reading at `now`, and whether it was made an anomaly on purpose.
    pub fn next(&mut self, now: chrono::DateTime<chrono::Utc>) -> (TemperatureReading, bool) {
        let device = self.next_device % self.devices + 1;
        self.next_device = self.next_device.wrapping_add(1);
        let injected = self.rng.next_f64() < self.anomaly_probability;
        let mut value = MEAN + STD_DEV * self.rng.normal();
        if injected {
            let excess = 0.5 + 3.5 * self.rng.next_f64();
            value = if self.rng.next_f64() < 0.5 {
                HIGHEST_TEMP + excess
            } else {
                LOWEST_TEMP - excess
            };
        } else {
            // Ordinary readings stay inside the thresholds so that every alert the stream
            // processor raises for generated data is one this generator injected.
            value = value.clamp(LOWEST_TEMP, HIGHEST_TEMP);
        }
        let value = (value * 10.0).round() / 10.0;
        let reading = TemperatureReading {
            timestamp: now.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
            datatype: "Temperature".into(),
            value,
            deviceid: format!("DHT_{device:03}"),
            date: now.format("%Y-%m-%d").to_string(),
            lowest_temp: LOWEST_TEMP,
            highest_temp: HIGHEST_TEMP,
        };
        (reading, injected)
    }
}

/// Publishes until `count` records were sent or `stop` resolves; writes a progress line to
/// `progress` (pass `std::io::sink()` to stay quiet).
pub async fn publish(
    cloud: Arc<dyn Cloud>,
    args: &GenerateArgs,
    seed: u64,
    progress: &mut dyn Write,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Summary, CloudError> {
    let rate = if args.rate.is_finite() && args.rate > 0.0 {
        args.rate
    } else {
        1.0
    };
    let mut source = ReadingSource::new(seed, args.devices, args.anomalies);
    let mut summary = Summary::default();
    // Send in ticks of at most 10 per second, so high rates batch and low rates stay smooth.
    let ticks_per_second = rate.min(10.0);
    let per_tick = rate / ticks_per_second;
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / ticks_per_second));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut owed = 0.0;
    tokio::pin!(stop);
    loop {
        if args
            .count
            .is_some_and(|c| summary.sent + summary.failed >= c)
        {
            break;
        }
        tokio::select! {
            biased;
            _ = &mut stop => break,
            _ = interval.tick() => {}
        }
        owed += per_tick;
        let mut n = owed.floor() as u64;
        owed -= n as f64;
        if let Some(c) = args.count {
            n = n.min(c - summary.sent - summary.failed);
        }
        let now = cloud.now();
        let mut batch = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let (reading, injected) = source.next(now);
            summary.anomalies += injected as u64;
            batch.push(PutRecord {
                partition_key: reading.deviceid.clone(),
                data: reading.to_json().into_bytes(),
            });
        }
        for chunk in batch.chunks(MAX_BATCH) {
            let (ok, failed) =
                put_with_resends(cloud.as_ref(), &args.stream, chunk.to_vec()).await?;
            summary.sent += ok;
            summary.failed += failed;
        }
        let _ = write!(
            progress,
            "\r{}: sent {} ({} injected), {} failed",
            args.stream,
            crate::words::count(summary.sent, "record", "records"),
            crate::words::count(summary.anomalies, "anomaly", "anomalies"),
            summary.failed
        );
        let _ = progress.flush();
    }
    let _ = writeln!(progress);
    Ok(summary)
}

/// The `generate` subcommand: the account chosen as the TUI chooses it (`--demo`, or AWS),
/// a progress line on stderr, and the count on stdout when it stops (after `--count`, or on
/// Ctrl-C, which ends the run cleanly rather than killing it mid-batch).
pub fn run_cli(
    args: &GenerateArgs,
    source: &crate::cli::SourceArgs,
) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context;
    if let Some(code) = crate::cli::process::refuse_read_only(source, "generate") {
        return Ok(code);
    }
    if !(args.rate.is_finite() && args.rate > 0.0) {
        anyhow::bail!("--rate must be a positive number of records per second");
    }
    if !(0.0..=1.0).contains(&args.anomalies) {
        anyhow::bail!("--anomalies is a probability from 0 to 1");
    }
    let rt = crate::session::runtime()?;
    let summary = rt.block_on(async {
        let config = crate::config::Config::load(source.config.as_deref())?;
        let cloud = crate::session::open_cloud(&source.options(), &config).await?;
        let stop = async {
            // If the handler cannot be installed, run until --count instead.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let mut progress = std::io::stderr();
        publish(cloud, args, source.seed, &mut progress, stop)
            .await
            .with_context(|| format!("publishing to the Kinesis stream {} failed", args.stream))
    })?;
    rt.shutdown_timeout(Duration::from_millis(200));
    println!(
        "sent {} to {} ({} injected, {} failed)",
        crate::words::count(summary.sent, "record", "records"),
        args.stream,
        crate::words::count(summary.anomalies, "anomaly", "anomalies"),
        summary.failed
    );
    Ok(if summary.failed > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

/// PutRecords, sending again the entries Kinesis rejected (ProvisionedThroughputExceeded) with
/// a growing pause; whole-call errors that are retryable are retried the same way.
async fn put_with_resends(
    cloud: &dyn Cloud,
    stream: &str,
    mut records: Vec<PutRecord>,
) -> Result<(u64, u64), CloudError> {
    let mut sent = 0;
    for attempt in 0..=MAX_RESENDS {
        let pause = Duration::from_millis(100 << attempt.min(6));
        match cloud.put_records(stream, records.clone()).await {
            Ok(outcome) => {
                let mut again = Vec::new();
                for (record, result) in records.into_iter().zip(outcome.results) {
                    match result {
                        Ok(_) => sent += 1,
                        Err(_) => again.push(record),
                    }
                }
                if again.is_empty() {
                    return Ok((sent, 0));
                }
                records = again;
            }
            Err(e) if e.kind.is_retryable() && attempt < MAX_RESENDS => {}
            Err(e) => return Err(e),
        }
        tokio::time::sleep(pause).await;
    }
    Ok((sent, records.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interop::decode_reading;

    #[test]
    fn readings_are_temperature_pipeline_payloads() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let mut src = ReadingSource::new(1, 4, 0.0);
        let devices: Vec<String> = (0..5).map(|_| src.next(now).0.deviceid).collect();
        assert_eq!(
            devices,
            ["DHT_001", "DHT_002", "DHT_003", "DHT_004", "DHT_001"]
        );
        let (r, injected) = src.next(now);
        assert!(!injected);
        assert_eq!(r.timestamp, "2024-05-01 10:00:00.123456");
        assert_eq!(r.date, "2024-05-01");
        assert_eq!(decode_reading(r.to_json().as_bytes()).unwrap(), r);
        assert!((LOWEST_TEMP..=HIGHEST_TEMP).contains(&r.value));
        assert_eq!((r.value * 10.0).round() / 10.0, r.value);
    }

    #[test]
    fn injected_anomalies_leave_the_thresholds_and_only_they_do() {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        let mut src = ReadingSource::new(9, 4, 0.1);
        let (mut injected_n, mut outside_n) = (0, 0);
        for _ in 0..10_000 {
            let (r, injected) = src.next(now);
            let outside = r.value < LOWEST_TEMP || r.value > HIGHEST_TEMP;
            assert_eq!(outside, injected, "{r:?}");
            injected_n += injected as u32;
            outside_n += outside as u32;
        }
        assert_eq!(injected_n, outside_n);
        assert!((800..1200).contains(&injected_n), "{injected_n}");
    }

    #[test]
    fn same_seed_same_readings() {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        let a: Vec<_> = {
            let mut s = ReadingSource::new(3, 2, 0.2);
            (0..50).map(|_| s.next(now)).collect()
        };
        let b: Vec<_> = {
            let mut s = ReadingSource::new(3, 2, 0.2);
            (0..50).map(|_| s.next(now)).collect()
        };
        assert_eq!(a, b);
    }
}
