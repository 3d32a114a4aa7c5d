//! The `a` key's alarm form: what series it watches (a volume's changed blocks or a metric),
//! the name, statistic, topic and band it proposes, the preview of the band over the series'
//! own data, validation as typed, and the `Command::CreateAlarm` it submits.

use super::state::*;
use super::update::Effect;
use crate::cloud::{AnomalyDetector, MetricId};
use crate::detect::{Algo, AnyDetector, BandConfig, Detector, DetectorConfig};
use crate::pipeline::Command;

/// The series `a` would put an alarm on, with its data for the preview.
/// Metric, statistic, period and the data the band preview is computed on.
pub(super) type AlarmTarget = (MetricId, String, i32, Vec<(i64, f64)>);

pub(super) fn alarm_target(state: &AppState) -> Option<AlarmTarget> {
    match state.view {
        View::Backups => {
            let v = state.selected_volume()?;
            let data = v.changes.points.iter().map(|p| (p.t, p.value)).collect();
            Some((
                crate::interop::backup_metric(&v.arn),
                "Maximum".into(),
                60,
                data,
            ))
        }
        View::Metrics => {
            let m = state.selected_metric()?;
            let data = m.scored.points.iter().map(|p| (p.t, p.value)).collect();
            Some((m.id.clone(), m.stat.clone(), m.period, data))
        }
        _ => None,
    }
}

pub(super) fn open_alarm_form(state: &mut AppState) {
    let Some((metric, stat, period, data)) = alarm_target(state) else {
        state.refuse(
            "a creates an alarm on a series: select a volume (Backups) or a metric (Metrics)",
        );
        return;
    };
    let topic = proposed_topic(state, &metric).unwrap_or_default();
    let name = alarm_name_for(&metric);
    let existing = state
        .alarms
        .iter()
        .any(|a| a.name == name)
        .then(|| state.name_things(&name));
    let stat = AlarmForm::STATISTICS
        .iter()
        .find(|s| s.eq_ignore_ascii_case(&stat))
        .map(|s| s.to_string())
        .unwrap_or(stat);
    let mut form = AlarmForm {
        target: state.metric_name(&metric),
        metric,
        fields: [stat, period.to_string(), "2".into(), "1".into(), topic],
        focus: 2,
        data,
        preview: Series::default(),
        error: None,
        existing,
        overwrite_confirmed: false,
    };
    refresh_preview(&mut form);
    form.error = validate(&form).err();
    state.modal = Some(Modal::AlarmForm(Box::new(form)));
}

/// The alarm name the form writes for a metric: the changed-block pipeline's name for a
/// volume's metric, else one named for the metric.
pub(super) fn alarm_name_for(metric: &MetricId) -> String {
    match backup_volume_of(metric) {
        Some(arn) => crate::interop::backup_alarm_name(&arn),
        None => format!("watchband/{}", metric.display()),
    }
}

pub(super) fn backup_volume_of(metric: &MetricId) -> Option<String> {
    metric
        .dimensions
        .iter()
        .find(|(k, _)| k == crate::interop::BACKUP_DIMENSION)
        .map(|(_, v)| v.clone())
}

/// A topic that fits the metric: the backup topic for a volume's changed blocks; for any other
/// metric the topic an existing alarm on the same metric, else the same namespace, notifies.
/// None when nothing fits: the form then asks for one rather than sending a CPU alarm to the
/// backup topic.
pub(super) fn proposed_topic(state: &AppState, metric: &MetricId) -> Option<String> {
    if backup_volume_of(metric).is_some() {
        return state.topic_arn();
    }
    let backup_topic = format!(
        ":{}",
        state.actions.topic.rsplit(':').next().unwrap_or_default()
    );
    let action_of = |pred: &dyn Fn(&MetricId) -> bool| {
        state.alarms.iter().find_map(|a| {
            let watched = match &a.definition.metric {
                crate::cloud::AlarmMetric::Single { metric, .. } => Some(metric),
                crate::cloud::AlarmMetric::Queries(qs) => qs.iter().find_map(|q| match &q.kind {
                    crate::cloud::MetricQueryKind::Stat { metric, .. } => Some(metric),
                    _ => None,
                }),
            }?;
            if !pred(watched) {
                return None;
            }
            // The backup topic is for backup alarms, whatever an alarm on this metric uses.
            a.definition
                .alarm_actions
                .iter()
                .find(|t| t.starts_with("arn:aws:sns:") && !t.ends_with(&backup_topic))
                .cloned()
        })
    };
    action_of(&|m| m == metric).or_else(|| action_of(&|m| m.namespace == metric.namespace))
}

/// Recomputes the band preview with the width typed in the form (the previous preview stays
/// while the width does not parse; `validate` says why).
pub(super) fn refresh_preview(form: &mut AlarmForm) {
    if let Ok(w) = form.fields[2].trim().parse::<f64>()
        && w.is_finite()
        && w > 0.0
    {
        form.preview = score(&form.data, Algo::Band, w);
    }
}

/// Scores a series with the local detector (the Metrics view's band, the form's preview).
pub fn score(data: &[(i64, f64)], algo: Algo, width: f64) -> Series {
    let config = DetectorConfig {
        algo,
        band: BandConfig {
            width,
            ..BandConfig::default()
        },
        ..DetectorConfig::default()
    };
    let mut series = Series::default();
    let Ok(mut det) = AnyDetector::new(&config) else {
        return series;
    };
    for &(t, v) in data {
        if let Ok(verdict) = det.observe(t, v) {
            series.push(Point {
                t,
                value: v,
                band: verdict.band.map(|b| (b.lower, b.upper)),
                anomalous: verdict.anomalous,
            });
        }
    }
    series
}

/// Checks every field as typed; the first problem, if any.
pub(super) fn validate(form: &AlarmForm) -> Result<(), String> {
    submit_alarm_form(form).map(|_| ())
}

/// Validates the form and builds the detector and alarm it writes.
pub(super) fn submit_alarm_form(form: &AlarmForm) -> Result<Effect, String> {
    let stat = form.fields[0].trim();
    if !AlarmForm::STATISTICS.contains(&stat) {
        return Err(format!(
            "statistic: pick one with ← → ({})",
            AlarmForm::STATISTICS.join(" ")
        ));
    }
    let period: i32 = form.fields[1]
        .trim()
        .parse()
        .ok()
        .filter(|p: &i32| *p == 10 || *p == 30 || (*p > 0 && p % 60 == 0))
        .ok_or("period must be 10, 30 or a multiple of 60 seconds")?;
    let width: f64 = form.fields[2]
        .trim()
        .parse()
        .ok()
        .filter(|w: &f64| w.is_finite() && *w > 0.0)
        .ok_or("band width must be a positive number")?;
    let evals: i32 = form.fields[3]
        .trim()
        .parse()
        .ok()
        .filter(|e| *e >= 1)
        .ok_or("evaluation periods must be a whole number ≥ 1")?;
    let topic = form.fields[4].trim();
    if !topic.starts_with("arn:aws:sns:") || topic.split(':').count() != 6 {
        return Err(format!(
            "SNS topic: the ARN of the topic {} alarms notify (arn:aws:sns:REGION:ACCOUNT:NAME)",
            form.metric.namespace
        ));
    }
    let name = alarm_name_for(&form.metric);
    let alarm = crate::interop::anomaly_alarm_definition(
        &name,
        form.metric.clone(),
        stat,
        period,
        width,
        evals,
        topic,
    );
    Ok(Effect::Pipeline(Command::CreateAlarm {
        detector: AnomalyDetector {
            metric: form.metric.clone(),
            stat: stat.to_string(),
            excluded: Vec::new(),
            metric_timezone: None,
            periodic_spikes: false,
            state: None,
        },
        definition: Box::new(alarm),
    }))
}
