//! The open problems the Overview lists, worst first: what is wrong and where.
//!
//! Computed from the state on every call rather than logged, so that a problem stays on the
//! Overview until it is acknowledged or resolved (an alarm leaves ALARM or is acknowledged, a
//! volume's anomalous backup is a day old and the newest is normal, a sensor reads in range
//! again, a source recovers) instead of scrolling away with the events.

use super::state::{AppState, View, VolumeVerdict};
use crate::cloud::AlarmState;
use crate::pipeline::{HealthState, Source};

/// How long a stream finding keeps its device on the problem list after the last one, in
/// account seconds, when the sensor's latest reading is back in range.
pub const FINDING_HOLD_SECS: i64 = 3_600;

/// How long an anomalous backup keeps its volume on the problem list, in account seconds.
pub const ANOMALY_HOLD_SECS: i64 = 86_400;

/// What a problem is about, and where Enter takes the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Alarm(String),
    Volume(String),
    Device(String),
    Source(Source),
}

/// One open problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 0 is the worst: alarms in ALARM nobody acknowledged, then anomalous volumes, stream
    /// findings, degraded sources, throttled sources.
    pub severity: u8,
    /// What kind, as the Overview's first column shows it.
    pub kind: &'static str,
    /// The name an operator knows it by (a volume's Name tag, not its ARN).
    pub name: String,
    /// The state or the numbers that make it a problem.
    pub what: String,
    /// Account seconds since the problem began (for the age column), when known.
    pub since: Option<i64>,
    pub target: Target,
}

impl AppState {
    /// The open problems, worst first, then oldest first within a severity, then by name.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for a in &self.alarms {
            if a.state != AlarmState::Alarm || a.ack.is_some() {
                continue;
            }
            let (name, what) = match crate::interop::volume_arn_of_alarm(&a.name)
                .and_then(|arn| self.volume_by_arn(arn))
            {
                Some(v) => (
                    v.name.clone(),
                    "backup alarm in ALARM, not acknowledged".to_string(),
                ),
                None => (a.name.clone(), "in ALARM, not acknowledged".to_string()),
            };
            out.push(Problem {
                severity: 0,
                kind: "ALARM",
                name,
                what,
                since: Some(a.since.timestamp()),
                target: Target::Alarm(a.name.clone()),
            });
        }
        let now = self.now.timestamp();
        for v in &self.volumes {
            // The newest backup is anomalous, or one in the last day was: at the demo's speed
            // the next backup comes seconds later and must not erase the burst.
            let recent = v
                .changes
                .points
                .iter()
                .rev()
                .take_while(|p| now - p.t <= ANOMALY_HOLD_SECS)
                .find(|p| p.anomalous);
            let latest = v.verdict() == VolumeVerdict::Anomalous;
            let Some(p) = recent.or(if latest { v.changes.last() } else { None }) else {
                continue;
            };
            let blocks = p.value.max(0.0) as u64;
            let gib = blocks as f64 * v.block_size as f64 / (1u64 << 30) as f64;
            let pct = v
                .size_gib
                .filter(|s| *s > 0)
                .map(|s| format!(", {:.1} % of the volume", 100.0 * gib / s as f64))
                .unwrap_or_default();
            let what = format!(
                "{} changed{pct}{}",
                crate::app::text::count(blocks as usize, "block", "blocks"),
                if latest {
                    ""
                } else {
                    " (the next backup was normal)"
                }
            );
            out.push(Problem {
                severity: 1,
                kind: "ANOMALY",
                name: v.name.clone(),
                what,
                since: Some(p.t),
                target: Target::Volume(v.arn.clone()),
            });
        }
        for d in &self.devices {
            let latest_bad = d.series.last().is_some_and(|p| p.anomalous);
            let findings: Vec<_> = self
                .stream_anomalies
                .iter()
                .filter(|a| a.deviceid == d.id && now - a.seen.timestamp() <= FINDING_HOLD_SECS)
                .collect();
            if !latest_bad && findings.is_empty() {
                continue;
            }
            let last = findings.last();
            let what = match (last, latest_bad) {
                (Some(a), _) => format!(
                    "{} {:.1} °F, {} in the last hour",
                    a.anomaly_type,
                    a.value,
                    crate::app::text::count(findings.len(), "finding", "findings")
                ),
                (None, _) => format!(
                    "reading {:.1} °F outside {:.0}–{:.0}",
                    d.series.last().map(|p| p.value).unwrap_or_default(),
                    d.cold,
                    d.hot
                ),
            };
            out.push(Problem {
                severity: 2,
                kind: "STREAM",
                name: d.id.clone(),
                what,
                since: findings.first().map(|a| a.seen.timestamp()),
                target: Target::Device(d.id.clone()),
            });
        }
        for (source, health, report) in self.sources() {
            let severity = match health {
                HealthState::Ok => continue,
                HealthState::Degraded => 3,
                HealthState::Throttled => 4,
            };
            let what = report
                .and_then(|h| h.last_error.clone())
                .unwrap_or_else(|| health_label(health).to_string());
            out.push(Problem {
                severity,
                kind: if severity == 3 {
                    "DEGRADED"
                } else {
                    "THROTTLED"
                },
                name: source.label().to_string(),
                what,
                since: report.map(|h| h.since.timestamp()),
                target: Target::Source(source),
            });
        }
        out.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(
                    a.since
                        .unwrap_or(i64::MAX)
                        .cmp(&b.since.unwrap_or(i64::MAX)),
                )
                .then(a.name.cmp(&b.name))
        });
        out
    }
}

fn health_label(h: HealthState) -> &'static str {
    match h {
        HealthState::Ok => "ok",
        HealthState::Throttled => "throttled",
        HealthState::Degraded => "degraded",
    }
}

/// The view that shows a source's data.
pub fn view_of_source(s: Source) -> View {
    match s {
        Source::Backups => View::Backups,
        Source::Alarms => View::Alarms,
        Source::Streams => View::Streams,
        Source::Metrics => View::Metrics,
        Source::Notifications => View::Notifications,
    }
}
