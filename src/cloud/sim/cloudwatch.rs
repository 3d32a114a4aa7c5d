//! CloudWatch in the simulated account: metric sources, GetMetricData (statistics and
//! `ANOMALY_DETECTION_BAND` computed by `crate::detect`), anomaly detectors, and metric alarms
//! evaluated on the simulator's clock (INSUFFICIENT_DATA → OK ⇄ ALARM) with history and SNS
//! notifications. Evaluation follows CloudWatch's documented rules for missing data (an
//! evaluation range of N + 2 periods, TreatMissingData filling or leaving out the gaps); see
//! `AlarmRec::decide` and `evaluate_one`.
//!
//! Three kinds of metric data exist: the deployed backup function's `BACKUP_CHANGED_BLOCKS`
//! series (derived from the snapshot model, never stored), `AWS/EC2 CPUUtilization` of the
//! fleet (a function of time), and datapoints sent with PutMetricData (stored).

use super::backup::BackupState;
use super::clock::{DAY_MS, MINUTE_MS, to_time};
use super::ebs::{StepKind, step_count, step_of};
use super::rng::{Rng, hash};
use crate::cloud::{
    AlarmDefinition, AlarmHistoryItem, AlarmMetric, AlarmState, AnomalyDetector,
    ComparisonOperator, MetricId, MetricQueryKind, TreatMissingData,
};
use crate::detect::{AnyDetector, BandConfig, Detector, DetectorConfig, ValueRange, Verdict};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub const CPU_PERIOD_MS: i64 = 5 * MINUTE_MS;
/// How far back a band is trained before the first point it scores (CloudWatch uses up to two
/// weeks); sparse series reach further back for enough points.
const TRAIN_LOOKBACK_MS: i64 = 14 * DAY_MS;
const SPARSE_LOOKBACK_MS: i64 = 60 * DAY_MS;
const MIN_TRAINING_POINTS: usize = 42;

/// One EC2 instance of the CPU fleet.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub base: f64,
    pub amplitude: f64,
    /// A coming CPU anomaly `[start, end)`.
    pub anomaly: Option<(i64, i64)>,
}

/// `AWS/EC2 CPUUtilization` at 5-minute resolution, generated from the clock.
#[derive(Debug, Clone)]
pub struct CpuFleet {
    pub seed: u64,
    pub instances: Vec<Instance>,
    pub history_start: i64,
}

impl CpuFleet {
    pub fn metric(&self, i: usize) -> MetricId {
        MetricId::new(
            "AWS/EC2",
            "CPUUtilization",
            &[("InstanceId", &self.instances[i].id)],
        )
    }

    fn index_of(&self, m: &MetricId) -> Option<usize> {
        if m.namespace != "AWS/EC2" || m.name != "CPUUtilization" || m.dimensions.len() != 1 {
            return None;
        }
        let (k, v) = &m.dimensions[0];
        if k != "InstanceId" {
            return None;
        }
        self.instances.iter().position(|x| &x.id == v)
    }

    pub fn value(&self, i: usize, t: i64) -> f64 {
        let inst = &self.instances[i];
        let mut r = Rng::from_state(hash(&[
            self.seed,
            0xc9,
            i as u64,
            (t / CPU_PERIOD_MS) as u64,
        ]));
        if let Some((a, b)) = inst.anomaly
            && (a..b).contains(&t)
        {
            return (88.0 + 9.0 * r.next_f64()).min(100.0);
        }
        let day = t.div_euclid(DAY_MS);
        let weekday = (day + 3).rem_euclid(7);
        let hod = t.rem_euclid(DAY_MS) as f64 / DAY_MS as f64;
        let daily = 0.5 + 0.5 * (std::f64::consts::TAU * (hod - 0.375)).sin();
        let week = if weekday >= 5 { 0.55 } else { 1.0 };
        let v = inst.base + inst.amplitude * daily * week + 2.5 * r.normal();
        (v.clamp(0.5, 100.0) * 1e4).round() / 1e4
    }

    fn points(&self, i: usize, from: i64, to: i64, now: i64) -> Vec<(i64, f64)> {
        let start = from.max(self.history_start);
        let first = (start + CPU_PERIOD_MS - 1).div_euclid(CPU_PERIOD_MS) * CPU_PERIOD_MS;
        let end = to.min(now + 1);
        (0..)
            .map(|k| first + k * CPU_PERIOD_MS)
            .take_while(|t| *t < end)
            .map(|t| (t, self.value(i, t)))
            .collect()
    }
}

/// Read access to every metric source at one moment.
pub struct Sources<'a> {
    pub backup: &'a BackupState,
    pub cpu: &'a CpuFleet,
    pub stored: &'a BTreeMap<MetricId, Vec<(i64, f64)>>,
    /// `BACKUP_CHANGED_BLOCKS` is derived from the volume model for backups completed up to
    /// here (what the changed-block pipeline's function published before the demo began); later points exist
    /// only if a processor publishes them, as in AWS.
    pub derived_until: i64,
    pub now: i64,
}

impl Sources<'_> {
    fn backup_volume(&self, m: &MetricId) -> Option<u32> {
        use crate::interop::{BACKUP_DIMENSION, BACKUP_METRIC, BACKUP_NAMESPACE};
        if m.namespace != BACKUP_NAMESPACE || m.name != BACKUP_METRIC || m.dimensions.len() != 1 {
            return None;
        }
        let (k, v) = &m.dimensions[0];
        if k != BACKUP_DIMENSION {
            return None;
        }
        self.backup.volume_by_arn(v).map(|v| v.idx)
    }

    /// Raw datapoints of a metric with timestamps in `[from, to)` that exist by now.
    pub fn raw(&self, m: &MetricId, from: i64, to: i64) -> Vec<(i64, f64)> {
        let mut out = Vec::new();
        if let Some(v) = self.backup_volume(m) {
            let vol = &self.backup.volumes[v as usize];
            let mut prev = None;
            let until = self.now.min(self.derived_until);
            for s in self.backup.timeline(v, to.min(until)) {
                if s.completed >= from && s.completed < to && s.completed <= until {
                    let step = step_of(self.backup.seed, vol, s, prev);
                    // The function counts against the previous snapshot: none on first sight.
                    if step.kind != StepKind::Full {
                        out.push((s.completed, step_count(self.backup.seed, vol, &step) as f64));
                    }
                }
                prev = Some(s);
            }
            out.sort_by_key(|p| p.0);
        } else if let Some(i) = self.cpu.index_of(m) {
            out = self.cpu.points(i, from, to, self.now);
        }
        if let Some(pts) = self.stored.get(m) {
            let lo = pts.partition_point(|p| p.0 < from);
            out.extend(
                pts[lo..]
                    .iter()
                    .take_while(|p| p.0 < to)
                    .filter(|p| p.0 <= self.now),
            );
            out.sort_by_key(|p| p.0);
        }
        out
    }

    /// The time of the next datapoint after `t` that the clock will produce, if known.
    pub fn next_after(&self, m: &MetricId, t: i64) -> Option<i64> {
        let mut best: Option<i64> = None;
        if let Some(v) = self.backup_volume(m) {
            let next = self.backup.next_completion_after(v, t);
            best = (next <= self.derived_until).then_some(next);
        } else if self.cpu.index_of(m).is_some() {
            best = Some((t.div_euclid(CPU_PERIOD_MS) + 1) * CPU_PERIOD_MS);
        }
        if let Some(pts) = self.stored.get(m) {
            let i = pts.partition_point(|p| p.0 <= t);
            if let Some(p) = pts.get(i) {
                best = Some(best.map_or(p.0, |b| b.min(p.0)));
            }
        }
        best
    }

    /// Every metric that has data or is generated.
    pub fn all_metrics(&self) -> BTreeSet<MetricId> {
        let mut s: BTreeSet<MetricId> = self.stored.keys().cloned().collect();
        for v in &self.backup.volumes {
            if v.seen {
                s.insert(crate::interop::backup_metric(&v.arn));
            }
        }
        for i in 0..self.cpu.instances.len() {
            s.insert(self.cpu.metric(i));
        }
        s
    }
}

/// Aggregates raw points into period buckets (bucket start, value); `None` for an unknown stat.
pub fn aggregate(points: &[(i64, f64)], period_ms: i64, stat: &str) -> Option<Vec<(i64, f64)>> {
    let kind = StatKind::parse(stat)?;
    let mut out = Vec::new();
    let mut i = 0;
    while i < points.len() {
        let b = points[i].0.div_euclid(period_ms) * period_ms;
        let mut j = i;
        while j < points.len() && points[j].0 < b + period_ms {
            j += 1;
        }
        out.push((b, kind.apply(&points[i..j])));
        i = j;
    }
    Some(out)
}

#[derive(Debug, Clone, Copy)]
enum StatKind {
    Average,
    Sum,
    Minimum,
    Maximum,
    SampleCount,
    Percentile(f64),
}

impl StatKind {
    fn parse(s: &str) -> Option<StatKind> {
        Some(match s {
            "Average" => StatKind::Average,
            "Sum" => StatKind::Sum,
            "Minimum" => StatKind::Minimum,
            "Maximum" => StatKind::Maximum,
            "SampleCount" => StatKind::SampleCount,
            p => {
                let q: f64 = p.strip_prefix('p')?.parse().ok()?;
                if !(0.0..=100.0).contains(&q) {
                    return None;
                }
                StatKind::Percentile(q)
            }
        })
    }

    fn apply(self, pts: &[(i64, f64)]) -> f64 {
        let n = pts.len() as f64;
        let vals = pts.iter().map(|p| p.1);
        match self {
            StatKind::Average => vals.sum::<f64>() / n,
            StatKind::Sum => vals.sum(),
            StatKind::Minimum => vals.fold(f64::INFINITY, f64::min),
            StatKind::Maximum => vals.fold(f64::NEG_INFINITY, f64::max),
            StatKind::SampleCount => n,
            StatKind::Percentile(q) => {
                let mut v: Vec<f64> = vals.collect();
                v.sort_by(f64::total_cmp);
                let idx = ((q / 100.0) * (v.len() - 1) as f64).round() as usize;
                v[idx.min(v.len() - 1)]
            }
        }
    }
}

pub fn stat_is_valid(stat: &str) -> bool {
    StatKind::parse(stat).is_some()
}

/// The value range a metric's band is clamped to.
pub fn value_range(m: &MetricId) -> ValueRange {
    if m.namespace == crate::interop::BACKUP_NAMESPACE {
        ValueRange::NonNegative
    } else if m.name.contains("Utilization") || m.name.ends_with("Percent") {
        ValueRange::Percent
    } else {
        ValueRange::Unbounded
    }
}

/// The band configuration of a metric: width from the expression, exclusions and spikes from
/// its anomaly detector when one was put.
pub fn band_config(m: &MetricId, width: f64, detector: Option<&AnomalyDetector>) -> BandConfig {
    BandConfig {
        width,
        range: value_range(m),
        excluded: detector
            .map(|d| {
                d.excluded
                    .iter()
                    .map(|(a, b)| (a.timestamp(), b.timestamp()))
                    .collect()
            })
            .unwrap_or_default(),
        periodic_spikes: detector.is_some_and(|d| d.periodic_spikes),
        ..BandConfig::default()
    }
}

/// Bucketed history of a metric before `before`, long enough to train a band.
pub fn training_history(
    src: &Sources<'_>,
    m: &MetricId,
    stat: &str,
    period_ms: i64,
    before: i64,
) -> Vec<(i64, f64)> {
    let near = aggregate(
        &src.raw(m, before - TRAIN_LOOKBACK_MS, before),
        period_ms,
        stat,
    )
    .unwrap_or_default();
    if near.len() >= MIN_TRAINING_POINTS {
        return near;
    }
    aggregate(
        &src.raw(m, before - SPARSE_LOOKBACK_MS, before),
        period_ms,
        stat,
    )
    .unwrap_or_default()
}

/// Scores `points` with a band trained first on `history`: one verdict per point.
pub fn band_verdicts(
    config: &BandConfig,
    history: &[(i64, f64)],
    points: &[(i64, f64)],
) -> Result<Vec<Verdict>, String> {
    let mut det = AnyDetector::new(&DetectorConfig {
        algo: crate::detect::Algo::Band,
        band: config.clone(),
        ..DetectorConfig::default()
    })
    .map_err(|e| e.to_string())?;
    for (t, v) in history {
        det.observe(t / 1000, *v).map_err(|e| e.to_string())?;
    }
    points
        .iter()
        .map(|(t, v)| det.observe(t / 1000, *v).map_err(|e| e.to_string()))
        .collect()
}

// ---------------------------------------------------------------- alarms

/// What an alarm watches, resolved from its definition.
#[derive(Debug, Clone)]
pub struct Watch {
    pub metric: MetricId,
    pub stat: String,
    pub period_ms: i64,
    /// Band width when the alarm compares against `ANOMALY_DETECTION_BAND`.
    pub band: Option<f64>,
}

/// Resolves an alarm definition, or says why it is not valid (PutMetricAlarm's validation).
pub fn watch_of(def: &AlarmDefinition) -> Result<Watch, String> {
    if def.evaluation_periods < 1 {
        return Err("EvaluationPeriods must be at least 1".into());
    }
    if let Some(m) = def.datapoints_to_alarm
        && (m < 1 || m > def.evaluation_periods)
    {
        return Err("DatapointsToAlarm must be between 1 and EvaluationPeriods".into());
    }
    for a in def
        .alarm_actions
        .iter()
        .chain(&def.ok_actions)
        .chain(&def.insufficient_data_actions)
    {
        if !a.starts_with("arn:aws:") {
            return Err(format!("Invalid action ARN {a:?}"));
        }
    }
    let check = |stat: &str, period: i32| -> Result<(), String> {
        if !stat_is_valid(stat) {
            return Err(format!("Invalid statistic {stat:?}"));
        }
        if !(period == 10 || period == 30 || (period >= 60 && period % 60 == 0)) {
            return Err(format!(
                "Period {period} must be 10, 30 or a multiple of 60 seconds"
            ));
        }
        Ok(())
    };
    match &def.metric {
        AlarmMetric::Single {
            metric,
            stat,
            period,
        } => {
            check(stat, *period)?;
            if def.comparison.is_band() {
                return Err(format!(
                    "ComparisonOperator {} needs ThresholdMetricId with an anomaly detection band",
                    def.comparison.as_aws()
                ));
            }
            if def.threshold.is_none() {
                return Err("Threshold is required for a static-threshold alarm".into());
            }
            Ok(Watch {
                metric: metric.clone(),
                stat: stat.clone(),
                period_ms: i64::from(*period) * 1000,
                band: None,
            })
        }
        AlarmMetric::Queries(qs) => {
            let tid = def
                .threshold_metric_id
                .as_deref()
                .ok_or("ThresholdMetricId is required with metric queries")?;
            if !def.comparison.is_band() {
                return Err(format!(
                    "ComparisonOperator {} cannot be used with ThresholdMetricId",
                    def.comparison.as_aws()
                ));
            }
            let band_q = qs
                .iter()
                .find(|q| q.id == tid)
                .ok_or_else(|| format!("ThresholdMetricId {tid} is not one of the queries"))?;
            let MetricQueryKind::Expression(expr) = &band_q.kind else {
                return Err(format!("query {tid} is not an expression"));
            };
            let (mid, width) = crate::interop::parse_band_expression(expr)
                .ok_or_else(|| format!("unsupported expression {expr:?}"))?;
            let mq = qs
                .iter()
                .find(|q| q.id == mid)
                .ok_or_else(|| format!("{expr} refers to an unknown id {mid}"))?;
            let MetricQueryKind::Stat {
                metric,
                period,
                stat,
            } = &mq.kind
            else {
                return Err(format!("query {mid} is not a metric"));
            };
            check(stat, *period)?;
            Ok(Watch {
                metric: metric.clone(),
                stat: stat.clone(),
                period_ms: i64::from(*period) * 1000,
                band: Some(width),
            })
        }
    }
}

/// One alarm with its evaluation state.
#[derive(Debug, Clone)]
pub struct AlarmRec {
    pub arn: String,
    pub def: AlarmDefinition,
    pub watch: Watch,
    pub state: AlarmState,
    pub reason: String,
    pub updated: i64,
    /// Newest last.
    pub history: Vec<AlarmHistoryItem>,
    /// Buckets before this time have been read into `points`, and every evaluation up to this
    /// time has run.
    pub evaluated_until: i64,
    /// When the alarm next needs evaluating.
    pub next_due: i64,
    /// The datapoints (period buckets that had data) still inside the evaluation range, oldest
    /// first, each judged once as it arrived (a band alarm's detector sees each point once).
    points: VecDeque<Judged>,
    /// No evaluation before this time (creation or the last update); earlier periods only feed
    /// `points`.
    first_eval: i64,
    /// An evaluation due at this time whatever the data: the first one after creation or an
    /// update, and the comparison after SetAlarmState.
    recheck: Option<i64>,
    /// When the alarm was created or last updated (no transition is stamped earlier).
    put_at: i64,
    detector: Option<AnyDetector>,
}

/// One period's datapoint as the alarm judged it.
#[derive(Debug, Clone)]
struct Judged {
    /// Start of the period bucket.
    start: i64,
    /// Breaching or not, and the reason text; `None` while the band's model is still training.
    verdict: Option<(bool, String)>,
}

/// How many periods an evaluation looks back over (AWS's *evaluation range*): CloudWatch
/// retrieves more datapoints than EvaluationPeriods and does not say exactly how many; its
/// documented example retrieves 5 for 3 evaluation periods, so the range here is N + 2.
pub fn evaluation_range_periods(evaluation_periods: i32) -> i64 {
    i64::from(evaluation_periods.max(1)) + 2
}

/// A state change that the world turns into SNS publications.
#[derive(Debug, Clone)]
pub struct AlarmPublication {
    pub topics: Vec<String>,
    pub subject: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Alarms {
    pub map: BTreeMap<String, AlarmRec>,
    pub by_metric: BTreeMap<MetricId, BTreeSet<String>>,
}

const HISTORY_LIMIT: usize = 200;

impl AlarmRec {
    fn push_history(&mut self, at: i64, item_type: &str, summary: String) {
        self.history.push(AlarmHistoryItem {
            alarm_name: self.def.name.clone(),
            timestamp: to_time(at),
            item_type: item_type.to_string(),
            summary,
        });
        if self.history.len() > HISTORY_LIMIT {
            self.history.remove(0);
        }
    }

    /// Moves to `state`; returns the notification to send when actions are enabled.
    pub fn transition(
        &mut self,
        state: AlarmState,
        reason: String,
        at: i64,
        account: &str,
        region: &str,
    ) -> Option<AlarmPublication> {
        if state == self.state {
            return None;
        }
        let old = self.state;
        self.state = state;
        self.reason = reason;
        self.updated = at;
        self.push_history(
            at,
            "StateUpdate",
            format!("Alarm updated from {} to {}", old.as_aws(), state.as_aws()),
        );
        let topics = match state {
            AlarmState::Alarm => &self.def.alarm_actions,
            AlarmState::Ok => &self.def.ok_actions,
            AlarmState::InsufficientData => &self.def.insufficient_data_actions,
        }
        .clone();
        if !self.def.actions_enabled || topics.is_empty() {
            return None;
        }
        for t in &topics {
            self.push_history(at, "Action", format!("Successfully executed action {t}"));
        }
        Some(AlarmPublication {
            subject: alarm_subject(&self.def.name, state),
            message: self.notification_json(old, account, region),
            topics,
        })
    }

    fn notification_json(&self, old: AlarmState, account: &str, region: &str) -> String {
        let w = &self.watch;
        let dims: Vec<serde_json::Value> = w
            .metric
            .dimensions
            .iter()
            .map(|(k, v)| serde_json::json!({"value": v, "name": k}))
            .collect();
        serde_json::json!({
            "AlarmName": self.def.name,
            "AlarmDescription": self.def.description,
            "AWSAccountId": account,
            "NewStateValue": self.state.as_aws(),
            "NewStateReason": self.reason,
            "StateChangeTime": to_time(self.updated).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
            "Region": region_name(region),
            "AlarmArn": self.arn,
            "OldStateValue": old.as_aws(),
            "OKActions": self.def.ok_actions,
            "AlarmActions": self.def.alarm_actions,
            "InsufficientDataActions": self.def.insufficient_data_actions,
            "Trigger": {
                "MetricName": w.metric.name,
                "Namespace": w.metric.namespace,
                "Statistic": w.stat.to_uppercase(),
                "Dimensions": dims,
                "Period": w.period_ms / 1000,
                "EvaluationPeriods": self.def.evaluation_periods,
                "ComparisonOperator": self.def.comparison.as_aws(),
                "Threshold": self.def.threshold,
                "ThresholdMetricId": self.def.threshold_metric_id,
                "TreatMissingData": self.def.treat_missing_data.as_aws(),
            }
        })
        .to_string()
    }
}

/// `ALARM: "name" in US East (N. Virginia)`, cut to SNS's 100-character subject limit.
pub fn alarm_subject(name: &str, state: AlarmState) -> String {
    let s = format!(
        "{}: \"{name}\" in {}",
        state.as_aws(),
        region_name("us-east-1")
    );
    if s.chars().count() <= 100 {
        s
    } else {
        s.chars().take(100).collect()
    }
}

fn region_name(region: &str) -> &'static str {
    match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-west-2" => "US West (Oregon)",
        "eu-west-1" => "EU (Ireland)",
        _ => "AWS Region",
    }
}

fn compare_static(op: ComparisonOperator, v: f64, t: f64) -> bool {
    match op {
        ComparisonOperator::GreaterThanOrEqualToThreshold => v >= t,
        ComparisonOperator::GreaterThanThreshold => v > t,
        ComparisonOperator::LessThanThreshold => v < t,
        ComparisonOperator::LessThanOrEqualToThreshold => v <= t,
        _ => false,
    }
}

fn compare_band(op: ComparisonOperator, v: f64, lower: f64, upper: f64) -> bool {
    match op {
        ComparisonOperator::GreaterThanUpperThreshold => v > upper,
        ComparisonOperator::LessThanLowerThreshold => v < lower,
        ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold => v < lower || v > upper,
        _ => false,
    }
}

impl Alarms {
    pub fn next_due(&self) -> i64 {
        self.map
            .values()
            .map(|a| a.next_due)
            .min()
            .unwrap_or(i64::MAX)
    }

    /// PutMetricAlarm: creates (INSUFFICIENT_DATA, evaluated soon) or updates (state kept).
    pub fn put(&mut self, def: AlarmDefinition, watch: Watch, arn: String, now: i64) {
        let name = def.name.clone();
        if let Some(old) = self.map.get(&name)
            && let Some(set) = self.by_metric.get_mut(&old.watch.metric)
        {
            set.remove(&name);
        }
        self.by_metric
            .entry(watch.metric.clone())
            .or_default()
            .insert(name.clone());
        // The first evaluation runs at once over the periods already complete, with the range
        // filled from data sent before the alarm existed (as CloudWatch does).
        let period = watch.period_ms;
        let first_eval = now.div_euclid(period) * period;
        let from = first_eval - period * evaluation_range_periods(def.evaluation_periods);
        match self.map.get_mut(&name) {
            Some(rec) => {
                rec.def = def;
                rec.watch = watch;
                rec.detector = None;
                rec.points.clear();
                rec.evaluated_until = from;
                rec.first_eval = first_eval;
                rec.recheck = Some(first_eval);
                rec.put_at = now;
                rec.next_due = now;
                rec.push_history(
                    now,
                    "ConfigurationUpdate",
                    format!("Alarm \"{name}\" updated"),
                );
            }
            None => {
                let mut rec = AlarmRec {
                    arn,
                    def,
                    watch,
                    state: AlarmState::InsufficientData,
                    reason: "Unchecked: Initial alarm creation".into(),
                    updated: now,
                    history: Vec::new(),
                    evaluated_until: from,
                    next_due: now,
                    points: VecDeque::new(),
                    first_eval,
                    recheck: Some(first_eval),
                    put_at: now,
                    detector: None,
                };
                rec.push_history(
                    now,
                    "ConfigurationUpdate",
                    format!("Alarm \"{name}\" created"),
                );
                self.map.insert(name, rec);
            }
        }
    }

    pub fn delete(&mut self, name: &str) {
        if let Some(rec) = self.map.remove(name)
            && let Some(set) = self.by_metric.get_mut(&rec.watch.metric)
        {
            set.remove(name);
        }
    }

    /// Marks the alarms on `metric` as due from `at` (new datapoints were put).
    pub fn touch(&mut self, metric: &MetricId, at: i64) {
        if let Some(names) = self.by_metric.get(metric) {
            for n in names {
                if let Some(a) = self.map.get_mut(n) {
                    a.next_due = a.next_due.min(at);
                }
            }
        }
    }

    /// Evaluates every due alarm up to `src.now`; returns the notifications to publish.
    pub fn evaluate(
        &mut self,
        src: &Sources<'_>,
        detectors: &BTreeMap<(MetricId, String), AnomalyDetector>,
        account: &str,
        region: &str,
    ) -> Vec<AlarmPublication> {
        let now = src.now;
        let mut out = Vec::new();
        for rec in self.map.values_mut() {
            if rec.next_due > now {
                continue;
            }
            out.extend(evaluate_one(rec, src, detectors, account, region));
            // The state is a function of what the evaluation range holds, so the alarm is due
            // again only when that changes: at the end of the bucket holding the next
            // datapoint, or when the oldest datapoint leaves the range (or at a recheck).
            let next_point = src
                .next_after(&rec.watch.metric, rec.evaluated_until - 1)
                .map(|t| (t.div_euclid(rec.watch.period_ms) + 1) * rec.watch.period_ms);
            rec.next_due = [next_point, rec.next_leave(), rec.recheck]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(i64::MAX);
            if rec.next_due <= now {
                rec.next_due = now + 1;
            }
        }
        out
    }
}

impl AlarmRec {
    fn range_ms(&self) -> i64 {
        self.watch.period_ms * evaluation_range_periods(self.def.evaluation_periods)
    }

    /// When the oldest datapoint leaves the evaluation range.
    fn next_leave(&self) -> Option<i64> {
        self.points
            .front()
            .map(|p| p.start + self.range_ms() + self.watch.period_ms)
    }

    /// Asks for a comparison at the end of the current period (SetAlarmState's state lasts
    /// until the next comparison).
    pub fn recheck_after(&mut self, now: i64) {
        let p = self.watch.period_ms;
        let at = (now.div_euclid(p) + 1) * p;
        self.recheck = Some(self.recheck.map_or(at, |r| r.min(at)));
        self.next_due = self.next_due.min(at);
    }

    /// Judges one period's datapoint: against the threshold, or against the band (the
    /// detector is trained on the history before the first point it sees).
    fn judge(
        &mut self,
        src: &Sources<'_>,
        detectors: &BTreeMap<(MetricId, String), AnomalyDetector>,
        t: i64,
        v: f64,
    ) -> Option<(bool, String)> {
        let w = &self.watch;
        let stamp = to_time(t).format("%d/%m/%y %H:%M:%S");
        let Some(width) = w.band else {
            let thr = self.def.threshold.unwrap_or(f64::INFINITY);
            let b = compare_static(self.def.comparison, v, thr);
            return Some((
                b,
                format!(
                    "Threshold Crossed: 1 datapoint [{v} ({stamp})] was {}the threshold ({thr}).",
                    if b { "" } else { "not " }
                ),
            ));
        };
        if self.detector.is_none() {
            let cfg = band_config(
                &w.metric,
                width,
                detectors.get(&(w.metric.clone(), w.stat.clone())),
            );
            let mut det = AnyDetector::new(&DetectorConfig {
                algo: crate::detect::Algo::Band,
                band: cfg,
                ..DetectorConfig::default()
            })
            .ok();
            if let Some(d) = det.as_mut() {
                for (ht, hv) in training_history(src, &w.metric, &w.stat, w.period_ms, t) {
                    let _ = d.observe(ht / 1000, hv);
                }
            }
            self.detector = det;
        }
        let comparison = self.def.comparison;
        self.detector
            .as_mut()
            .and_then(|d| d.observe(t / 1000, v).ok())
            .and_then(|vd| vd.band)
            .map(|b| {
                let br = compare_band(comparison, v, b.lower, b.upper);
                (
                    br,
                    format!(
                        "Thresholds Crossed: 1 datapoint [{v} ({stamp})] was {}outside the band ({:.1} to {:.1}).",
                        if br { "" } else { "not " },
                        b.lower,
                        b.upper
                    ),
                )
            })
    }

    /// The state the evaluation range leads to, by CloudWatch's rules for missing data
    /// ("How alarm state is evaluated when data is missing"): the newest EvaluationPeriods
    /// datapoints are evaluated; when the range holds fewer, the gap is filled as the alarm's
    /// TreatMissingData says (`breaching`, `notBreaching`), or left out (`missing`, `ignore`),
    /// in which case an outcome the real datapoints cannot settle is INSUFFICIENT_DATA
    /// (`missing`) or the current state (`ignore`). `None`: keep the current state.
    fn decide(&self) -> Option<(AlarmState, String)> {
        if self.points.back().is_some_and(|p| p.verdict.is_none()) {
            return Some((
                AlarmState::InsufficientData,
                "Insufficient Data: the anomaly detection model is still training.".to_string(),
            ));
        }
        let n = self.def.evaluation_periods.max(1) as usize;
        let m = self
            .def
            .datapoints_to_alarm
            .unwrap_or(self.def.evaluation_periods)
            .max(1) as usize;
        // Newest first; points scored while the model was training count as missing.
        let judged: Vec<&(bool, String)> = self
            .points
            .iter()
            .rev()
            .filter_map(|p| p.verdict.as_ref())
            .take(n)
            .collect();
        let hits = judged.iter().filter(|j| j.0).count();
        let missing = n - judged.len();
        let newest = judged.first().map(|j| j.1.clone());
        let outcome = |alarm: bool| {
            if alarm {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            }
        };
        if missing == 0 {
            return Some((outcome(hits >= m), newest.unwrap_or_default()));
        }
        // CloudWatch always ignores missing data for AWS/DynamoDB metrics.
        let treat = if self.watch.metric.namespace == "AWS/DynamoDB" {
            TreatMissingData::Ignore
        } else {
            self.def.treat_missing_data
        };
        let periods = |k: usize| if k == 1 { "period" } else { "periods" };
        let datapoints = |k: usize| {
            if k == 1 {
                "1 missing datapoint was".to_string()
            } else {
                format!("{k} missing datapoints were")
            }
        };
        let filled = |as_what: &str| match &newest {
            None => format!(
                "Threshold Crossed: no datapoints were received for {missing} {} and {} treated as [{as_what}].",
                periods(missing),
                datapoints(missing)
            ),
            Some(r) => format!("{r} {} treated as [{as_what}].", datapoints(missing)),
        };
        match treat {
            TreatMissingData::Breaching => {
                Some((outcome(hits + missing >= m), filled("Breaching")))
            }
            TreatMissingData::NotBreaching => Some((outcome(hits >= m), filled("NonBreaching"))),
            TreatMissingData::Missing | TreatMissingData::Ignore => {
                if hits >= m || hits < judged.len() {
                    // Settled by the real datapoints whatever the missing ones would be.
                    Some((outcome(hits >= m), newest.unwrap_or_default()))
                } else if treat == TreatMissingData::Missing {
                    Some((
                        AlarmState::InsufficientData,
                        if missing == 1 {
                            "Insufficient Data: 1 datapoint was unknown.".to_string()
                        } else {
                            format!("Insufficient Data: {missing} datapoints were unknown.")
                        },
                    ))
                } else {
                    None
                }
            }
        }
    }
}

/// Brings one alarm up to `src.now`: each period's datapoint is judged once when its period
/// ends, and the state is decided at every time the evaluation range changes (a datapoint
/// enters or leaves it) or a comparison is asked for. Between those times CloudWatch's
/// per-period evaluations would see the same range and reach the same state, so skipping them
/// changes nothing and keeps a day of one-minute periods cheap.
fn evaluate_one(
    rec: &mut AlarmRec,
    src: &Sources<'_>,
    detectors: &BTreeMap<(MetricId, String), AnomalyDetector>,
    account: &str,
    region: &str,
) -> Vec<AlarmPublication> {
    let now = src.now;
    let p = rec.watch.period_ms;
    let range = rec.range_ms();
    let from = rec.evaluated_until;
    let complete_until = now.div_euclid(p) * p;
    if complete_until <= from {
        return Vec::new();
    }
    let raw = src.raw(&rec.watch.metric, from, complete_until);
    let buckets = aggregate(&raw, p, &rec.watch.stat).unwrap_or_default();
    let mut buckets = buckets.into_iter().peekable();
    let mut notes = Vec::new();
    if rec.recheck.is_some_and(|r| r <= from) {
        // Passed over (the evaluation point was moved on by whoever made the alarm).
        rec.recheck = None;
    }
    let mut t = from;
    loop {
        let enter = buckets.peek().map(|(b, _)| b + p);
        let recheck = rec.recheck.filter(|r| *r > t);
        let Some(at) = [enter, rec.next_leave(), recheck]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        if at > complete_until {
            break;
        }
        while let Some(&(b, v)) = buckets.peek()
            && b < at
        {
            buckets.next();
            let verdict = rec.judge(src, detectors, b, v);
            rec.points.push_back(Judged { start: b, verdict });
        }
        while rec.points.front().is_some_and(|pt| pt.start < at - range) {
            rec.points.pop_front();
        }
        if rec.recheck.is_some_and(|r| r <= at) {
            rec.recheck = None;
        }
        if at >= rec.first_eval
            && let Some((state, reason)) = rec.decide()
            && let Some(note) = rec.transition(state, reason, at.max(rec.put_at), account, region)
        {
            notes.push(note);
        }
        t = at;
    }
    // Every bucket before `complete_until` has ended and was read; a datapoint in the bucket
    // still open is picked up at its end (see `next_due`).
    rec.evaluated_until = complete_until;
    notes
}
