//! `watchband scan`: one pass over the protected volumes and the streams, for cron, CI and
//! monitoring agents.
//!
//! It runs the same pipeline as the TUI and collects its events until the first complete pass:
//! the inventory, a change series for every volume, the alarms, and every watched stream read
//! up to its tip. Volumes are judged on their latest change (the detector's verdict and the
//! volume's alarm); streams on the anomalies of their last minute of readings.
//!
//! Bounded: streams are read from the start of that minute (`AT_TIMESTAMP`), so a shard that
//! receives nothing is done as soon as GetRecords says it is at the tip; a failure no retry
//! can cure (access denied, no or expired credentials, a missing stream) ends the scan at
//! once with its one line; and the whole pass has [`PASS_TIMEOUT`].
//!
//! Exit codes: 0 nothing anomalous, 2 something anomalous, 1 error (message on stderr).

use crate::cli::{ScanArgs, SourceArgs};
use crate::cloud::{AlarmState, Cloud, Time};
use crate::pipeline::{Event, PipelineConfig};
use crate::session;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How long a pass may take before scan gives up (real time).
pub const PASS_TIMEOUT: Duration = Duration::from_secs(120);
/// The window of stream readings a scan judges.
pub const STREAM_WINDOW_SECS: i64 = 60;

/// What a scan found; `docs/scan.schema.json` describes its JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    /// "demo" (the simulated account) or "aws".
    pub account: String,
    /// Account time at the end of the pass.
    pub scanned_at: Time,
    pub anomalous: bool,
    pub volumes: Vec<VolumeScan>,
    pub streams: Vec<StreamScan>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeScan {
    pub name: String,
    pub volume_id: String,
    pub arn: String,
    pub size_gib: Option<i64>,
    pub last_snapshot: Option<String>,
    pub last_backup: Option<Time>,
    /// The latest change (between the two newest snapshots); None with fewer than two.
    pub changed_blocks: Option<u64>,
    pub changed_gib: Option<f64>,
    pub percent_of_volume: Option<f64>,
    /// "anomaly", "normal", "learning" (insufficient data) or "unknown" (no change yet).
    pub verdict: String,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// "OK", "ALARM", "INSUFFICIENT_DATA", or None without a `Backup-Anomaly-Alarm`.
    pub alarm_state: Option<String>,
    /// The team's acknowledgement of the alarm's current ALARM episode (shared table).
    pub alarm_acknowledgement: Option<ScanAck>,
    pub anomalous: bool,
    /// The recovery point to restore from ([`crate::detect::last_clean`]); None without an
    /// anomalous count.
    pub last_clean: Option<LastClean>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastClean {
    pub recovery_point_arn: String,
    pub snapshot_id: String,
    /// Its creation time; None when it is the oldest snapshot of the series (whose time the
    /// series does not carry).
    pub created: Option<Time>,
}

/// The last clean point of a volume's change series (oldest first).
fn last_clean(volume_arn: &str, points: &[crate::pipeline::ChangePoint]) -> Option<LastClean> {
    // Recovery point 0 is the first count's first snapshot; point i ends count i - 1.
    let flags: Vec<bool> = std::iter::once(false)
        .chain(points.iter().map(|p| p.verdict.anomalous))
        .collect();
    let (snapshot_id, created) = match crate::detect::last_clean::last_clean(&flags)? {
        0 => (points.first()?.first_snapshot.clone(), None),
        i => (
            points[i - 1].second_snapshot.clone(),
            Some(points[i - 1].time),
        ),
    };
    Some(LastClean {
        recovery_point_arn: crate::cloud::arn::snapshot_arn_for(volume_arn, &snapshot_id),
        snapshot_id,
        created,
    })
}

/// Who acknowledged an alarm's episode, when, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanAck {
    /// The caller identity ARN.
    pub who: String,
    pub at: Time,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamScan {
    pub stream: String,
    pub shards: usize,
    /// Readings of the last minute and the records refused by the decoder in the pass.
    pub readings: usize,
    pub rejected: u64,
    pub anomalies: Vec<StreamAnomaly>,
    pub anomalous: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamAnomaly {
    pub device: String,
    pub time: Time,
    pub value: f64,
    /// "Hot", "Cold" or "Statistical".
    pub kind: String,
}

/// The exit code a report asks for.
pub fn exit_code(report: &ScanReport) -> ExitCode {
    if report.anomalous {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn run(args: &ScanArgs, source: &SourceArgs) -> anyhow::Result<ExitCode> {
    let file = crate::config::Config::load(source.config.as_deref())?;
    let mut source = source.options();
    if session::wants_demo(&source) {
        // Real time in the demo, so "the last minute" is a minute.
        source.speed = 1.0;
    }
    let rt = session::runtime()?;
    let report = rt.block_on(async {
        let cloud = session::open_cloud(&source, &file).await?;
        let config = file.pipeline_config(&source.overrides);
        session::restore_demo_acks(cloud.as_ref(), &config.ack_table).await?;
        scan(cloud, config, PASS_TIMEOUT).await
    })?;
    rt.shutdown_timeout(Duration::from_millis(200));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(exit_code(&report))
}

/// Runs the pipeline until its first complete pass and judges what it saw.
pub async fn scan(
    cloud: Arc<dyn Cloud>,
    config: PipelineConfig,
    timeout: Duration,
) -> anyhow::Result<ScanReport> {
    // A scan only looks, and only at the last window of each stream.
    let config = PipelineConfig {
        read_only: true,
        stream_start: crate::pipeline::config::StreamStart::At(
            cloud.now() - chrono::Duration::seconds(STREAM_WINDOW_SECS),
        ),
        ..config
    };
    let watched: BTreeSet<String> = config.streams.iter().cloned().collect();
    let (mut events, _commands) = crate::pipeline::spawn(cloud.clone(), None, config);
    let mut pass = Pass::default();
    let deadline = tokio::time::Instant::now() + timeout;
    while !pass.complete(&watched) {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .map_err(|_| anyhow::anyhow!("{}", pass.missing(&watched)))?
            .ok_or_else(|| anyhow::anyhow!("the pipeline stopped before the pass completed"))?;
        pass.take(event);
        if let Some(fatal) = pass.fatal.take() {
            anyhow::bail!("{fatal}");
        }
    }
    Ok(pass.report(cloud.kind(), cloud.now()))
}

/// What the pipeline has said so far.
#[derive(Default)]
struct Pass {
    inventory: Option<Vec<crate::pipeline::events::VolumeInfo>>,
    series: BTreeMap<String, Vec<crate::pipeline::events::ChangePoint>>,
    alarms: Option<Vec<crate::pipeline::events::AlarmView>>,
    streams: BTreeMap<String, crate::pipeline::events::StreamStats>,
    readings: Vec<crate::pipeline::events::TemperaturePoint>,
    /// A source the pipeline reported as failing, and why.
    failure: Option<String>,
    /// A failure that waiting cannot cure: the scan ends with it.
    fatal: Option<String>,
}

impl Pass {
    fn take(&mut self, event: Event) {
        match event {
            Event::Volumes(v) => self.inventory = Some(v),
            Event::VolumeSeries(s) => {
                self.series.insert(s.volume_arn, s.points);
            }
            Event::Alarms(a) => self.alarms = Some(a),
            Event::Stream(s) => {
                self.streams.insert(s.stream.clone(), s);
            }
            Event::Temperatures(points) => self.readings.extend(points),
            Event::Health(h) => {
                if let Some(e) = h.last_error
                    && matches!(h.state, crate::pipeline::events::HealthState::Degraded)
                {
                    // A 404 that names nothing is an operation the endpoint lacks, not a
                    // missing resource of ours: it is waited out like any other failure.
                    if h.last_error_kind.is_some_and(incurable)
                        && (h.last_error_kind != Some(crate::cloud::ErrorKind::NotFound)
                            || h.last_error_resource.is_some())
                    {
                        self.fatal = Some(e.clone());
                    }
                    self.failure = Some(e);
                }
            }
            _ => {}
        }
    }

    fn complete(&self, watched: &BTreeSet<String>) -> bool {
        // The pipeline sends the inventory before it lists each volume's recovery points
        // (`last_snapshot` still unknown) and again after: a backed-up volume is done once it
        // has been listed and its change series has arrived.
        let volumes_done = self.inventory.as_ref().is_some_and(|inv| {
            inv.iter().all(|v| {
                v.last_backup.is_none()
                    || v.last_snapshot.is_some() && self.series.contains_key(&v.arn)
            })
        });
        let streams_done = watched.iter().all(|name| {
            self.streams.get(name).is_some_and(|s| {
                !s.shards.is_empty()
                    && s.shards
                        .iter()
                        .all(|sh| sh.finished || sh.read_at.is_some() && sh.millis_behind == 0)
            })
        });
        volumes_done && self.alarms.is_some() && streams_done
    }

    fn missing(&self, watched: &BTreeSet<String>) -> String {
        let mut parts = Vec::new();
        match &self.inventory {
            None => parts.push("the backup inventory".to_string()),
            Some(inv) => {
                let n = inv
                    .iter()
                    .filter(|v| v.last_snapshot.is_some() && !self.series.contains_key(&v.arn))
                    .count();
                if n > 0 {
                    parts.push(format!(
                        "the changes of {}",
                        crate::words::count(n, "volume", "volumes")
                    ));
                }
            }
        }
        if self.alarms.is_none() {
            parts.push("the alarms".into());
        }
        for name in watched {
            if !self.streams.contains_key(name) {
                parts.push(format!("the stream {name}"));
            }
        }
        let why = self
            .failure
            .as_ref()
            .map(|e| format!(" (last error: {e})"))
            .unwrap_or_default();
        format!(
            "the scan did not complete within {} s: still waiting for {}{why}; check the \
             account's permissions and connectivity",
            PASS_TIMEOUT.as_secs(),
            if parts.is_empty() {
                "the streams to catch up".to_string()
            } else {
                parts.join(", ")
            }
        )
    }

    fn report(self, kind: &str, now: Time) -> ScanReport {
        let alarms: BTreeMap<String, (AlarmState, Option<ScanAck>)> = self
            .alarms
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| {
                let ack = a.acknowledgement.map(|k| ScanAck {
                    who: k.who,
                    at: k.at,
                    note: k.note,
                });
                Some((a.volume_arn?, (a.state, ack)))
            })
            .collect();
        let mut volumes: Vec<VolumeScan> = self
            .inventory
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let latest = self.series.get(&v.arn).and_then(|s| s.last());
                let last_clean = self.series.get(&v.arn).and_then(|s| last_clean(&v.arn, s));
                let (alarm, ack) = match alarms.get(&v.arn) {
                    Some((state, ack)) => (Some(*state), ack.clone()),
                    None => (None, None),
                };
                let verdict = match latest {
                    None => "unknown",
                    Some(p) if p.verdict.band.is_none() => "learning",
                    Some(p) if p.verdict.anomalous => "anomaly",
                    Some(_) => "normal",
                };
                VolumeScan {
                    anomalous: verdict == "anomaly" || alarm == Some(AlarmState::Alarm),
                    name: v.name,
                    volume_id: v.volume_id,
                    size_gib: v.size_gib,
                    last_snapshot: v.last_snapshot,
                    last_backup: v.last_backup,
                    changed_blocks: latest.map(|p| p.changed_blocks),
                    changed_gib: latest.map(|p| p.changed_gib),
                    percent_of_volume: latest.map(|p| p.percent_of_volume),
                    verdict: verdict.into(),
                    lower: latest.and_then(|p| p.verdict.band.map(|b| b.lower)),
                    upper: latest.and_then(|p| p.verdict.band.map(|b| b.upper)),
                    alarm_state: alarm.map(|s| alarm_name(s).to_string()),
                    last_clean,
                    alarm_acknowledgement: ack,
                    arn: v.arn,
                }
            })
            .collect();
        volumes.sort_by(|a, b| a.name.cmp(&b.name).then(a.arn.cmp(&b.arn)));

        let since = now - chrono::Duration::seconds(STREAM_WINDOW_SECS);
        let streams: Vec<StreamScan> = self
            .streams
            .into_values()
            .map(|s| {
                let recent: Vec<_> = self
                    .readings
                    .iter()
                    .filter(|p| p.stream == s.stream && p.time >= since)
                    .collect();
                let anomalies: Vec<StreamAnomaly> = recent
                    .iter()
                    .filter_map(|p| {
                        let kind = match p.class {
                            Some(c) => format!("{c:?}"),
                            None if p.verdict.anomalous => "Statistical".into(),
                            None => return None,
                        };
                        Some(StreamAnomaly {
                            device: p.device.clone(),
                            time: p.time,
                            value: p.value,
                            kind,
                        })
                    })
                    .collect();
                StreamScan {
                    shards: s.shards.len(),
                    readings: recent.len(),
                    rejected: s.shards.iter().map(|sh| sh.rejected_total).sum(),
                    anomalous: !anomalies.is_empty(),
                    anomalies,
                    stream: s.stream,
                }
            })
            .collect();
        ScanReport {
            account: kind.to_string(),
            scanned_at: now,
            anomalous: volumes.iter().any(|v| v.anomalous) || streams.iter().any(|s| s.anomalous),
            volumes,
            streams,
        }
    }
}

/// Errors a scan does not wait out: only the operator can fix them.
fn incurable(kind: crate::cloud::ErrorKind) -> bool {
    use crate::cloud::ErrorKind::*;
    matches!(
        kind,
        AccessDenied | NoCredentials | ExpiredCredentials | NotFound | InvalidRequest
    )
}

fn alarm_name(s: AlarmState) -> &'static str {
    match s {
        AlarmState::Ok => "OK",
        AlarmState::Alarm => "ALARM",
        AlarmState::InsufficientData => "INSUFFICIENT_DATA",
    }
}

/// The human form: one row per volume, one per stream, then the verdict.
pub fn table(r: &ScanReport) -> String {
    let mut out = String::new();
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    out.push_str(&format!(
        "{:<16} {:<22} {:>9} {:>10} {:>8} {:<9} {:<17} ACKNOWLEDGED\n",
        "VOLUME", "ID", "SIZE GiB", "BLOCKS", "%", "VERDICT", "ALARM"
    ));
    for v in &r.volumes {
        out.push_str(&format!(
            "{:<16} {:<22} {:>9} {:>10} {:>8} {:<9} {:<17} {}\n",
            crate::sanitize::clean(&v.name),
            v.volume_id,
            opt(v.size_gib.map(|s| s.to_string())),
            opt(v.changed_blocks.map(|b| b.to_string())),
            opt(v.percent_of_volume.map(|p| format!("{p:.1}"))),
            v.verdict,
            opt(v.alarm_state.clone()),
            v.alarm_acknowledgement
                .as_ref()
                .map(|k| format!(
                    "{}{}",
                    k.who,
                    k.note
                        .as_ref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ))
                .unwrap_or_default(),
        ));
        if v.anomalous
            && let Some(c) = &v.last_clean
        {
            out.push_str(&format!(
                "{:<16} last clean recovery point {}{}\n",
                "",
                c.snapshot_id,
                c.created
                    .map(|t| format!(" ({})", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            ));
        }
    }
    out.push('\n');
    out.push_str(&format!(
        "{:<28} {:>6} {:>9} {:>9} {:>10}\n",
        "STREAM (last minute)", "SHARDS", "READINGS", "REJECTED", "ANOMALIES"
    ));
    for s in &r.streams {
        out.push_str(&format!(
            "{:<28} {:>6} {:>9} {:>9} {:>10}\n",
            s.stream,
            s.shards,
            s.readings,
            s.rejected,
            s.anomalies.len()
        ));
        for a in &s.anomalies {
            out.push_str(&format!(
                "  {} {} {:.1} {}\n",
                a.time.format("%Y-%m-%d %H:%M:%S"),
                a.device,
                a.value,
                a.kind
            ));
        }
    }
    let n = r.volumes.iter().filter(|v| v.anomalous).count()
        + r.streams.iter().filter(|s| s.anomalous).count();
    out.push('\n');
    out.push_str(&if r.anomalous {
        format!(
            "ANOMALOUS: {} {} attention (exit 2)\n",
            crate::words::count(n, "source", "sources"),
            crate::words::agree(n, "needs", "need")
        )
    } else {
        "ok: nothing anomalous (exit 0)\n".to_string()
    });
    out
}
