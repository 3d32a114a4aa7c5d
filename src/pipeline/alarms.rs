//! Alarm sync: every alarm of the account (the changed-block pipeline's `Backup-Anomaly-Alarm/<arn>` ones, seed
//! 004's static threshold, anything else) with its state, reason, time in state, the
//! acknowledgement of its current ALARM episode and its history; and alarm creation (anomaly
//! detector first, then the alarm, as the changed-block pipeline's function does).

use super::events::{AlarmView, Event, Source};
use super::{Ctx, pause};
use crate::cloud::{Alarm, AlarmDefinition, AlarmFilter, AnomalyDetector, Time};
use crate::interop;
use crate::sanitize::clean;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// History items loaded per alarm.
const HISTORY_ITEMS: usize = 50;

pub(crate) async fn run(ctx: Arc<Ctx>) {
    let wake = ctx.refresh.subscribe();
    let mut last: Option<Vec<AlarmView>> = None;
    // When each alarm last changed state, to load its history on a transition.
    let mut seen: BTreeMap<String, Time> = BTreeMap::new();
    loop {
        if let Ok(alarms) = ctx
            .call(Source::Alarms, || {
                ctx.cloud.describe_alarms(AlarmFilter::default())
            })
            .await
        {
            let mut views = Vec::with_capacity(alarms.len());
            for a in &alarms {
                views.push(view(&ctx, a).await);
            }
            remember(&ctx, &alarms);
            if last.as_ref() != Some(&views) {
                if !ctx.emit(Event::Alarms(views.clone())).await {
                    return;
                }
                last = Some(views);
            }
            for a in &alarms {
                let name = &a.definition.name;
                if seen.get(name) != Some(&a.state_updated) {
                    seen.insert(name.clone(), a.state_updated);
                    if !history(&ctx, name).await {
                        return;
                    }
                }
            }
            seen.retain(|name, _| alarms.iter().any(|a| &a.definition.name == name));
        }
        if ctx.events.is_closed() {
            return;
        }
        pause(ctx.config.intervals.alarms, &wake).await;
    }
}

/// Keeps the alarm names (the backups inventory links to them) and their SNS action topics
/// (the notifications task subscribes to them).
fn remember(ctx: &Ctx, alarms: &[Alarm]) {
    let names: BTreeSet<String> = alarms.iter().map(|a| a.definition.name.clone()).collect();
    *ctx.alarm_names.lock().unwrap_or_else(|e| e.into_inner()) = names;
    let topics: BTreeSet<String> = alarms
        .iter()
        .flat_map(|a| {
            a.definition
                .alarm_actions
                .iter()
                .chain(&a.definition.ok_actions)
                .chain(&a.definition.insufficient_data_actions)
        })
        .filter(|t| t.contains(":sns:"))
        .cloned()
        .collect();
    *ctx.alarm_topics.lock().unwrap_or_else(|e| e.into_inner()) = topics;
}

/// An alarm with the acknowledgement of its current episode (read from the shared table).
pub(crate) async fn view(ctx: &Ctx, a: &Alarm) -> AlarmView {
    let (acknowledgement, snoozed_until) = super::acks::current(ctx, a).await;
    let mut definition = a.definition.clone();
    definition.name = clean(&definition.name);
    definition.description = definition.description.as_deref().map(clean);
    AlarmView {
        arn: clean(&a.arn),
        volume_arn: interop::volume_arn_of_alarm(&a.definition.name).map(clean),
        state: a.state,
        reason: clean(&a.state_reason),
        state_updated: a.state_updated,
        acknowledgement,
        snoozed_until,
        definition,
    }
}

/// Loads and sends one alarm's history; `false` once the app has gone.
pub(crate) async fn history(ctx: &Ctx, alarm_name: &str) -> bool {
    match ctx
        .call(Source::Alarms, || {
            ctx.cloud.describe_alarm_history(alarm_name, HISTORY_ITEMS)
        })
        .await
    {
        Ok(items) => {
            let items = items
                .into_iter()
                .map(|mut i| {
                    i.alarm_name = clean(&i.alarm_name);
                    i.item_type = clean(&i.item_type);
                    i.summary = clean(&i.summary);
                    i
                })
                .collect();
            ctx.emit(Event::AlarmHistory {
                alarm_name: clean(alarm_name),
                items,
            })
            .await
        }
        Err(_) => !ctx.events.is_closed(),
    }
}

/// The `a` key: writes the anomaly detector, then the alarm. An alarm without actions gets
/// the backup topic (created if needed, with the changed-block pipeline's display name), as the changed-block pipeline does.
pub(crate) async fn create(
    ctx: &Arc<Ctx>,
    mut definition: AlarmDefinition,
    detector: AnomalyDetector,
) {
    const WHAT: &str = "create alarm";
    let name = definition.name.clone();
    if definition.alarm_actions.is_empty() {
        let topic = ctx.config.backup_topic.clone();
        match ctx
            .call(Source::Alarms, || {
                ctx.cloud
                    .create_topic(&topic, Some(interop::BACKUP_TOPIC_DISPLAY_NAME))
            })
            .await
        {
            Ok(arn) => definition.alarm_actions.push(arn),
            Err(e) => {
                ctx.fail(
                    WHAT,
                    format!(
                        "alarm {name} not created: its SNS topic {topic} could not be created: {e}"
                    ),
                )
                .await;
                return;
            }
        }
    }
    if definition.comparison.is_band()
        && let Err(e) = ctx
            .call(Source::Alarms, || {
                ctx.cloud.put_anomaly_detector(detector.clone())
            })
            .await
    {
        ctx.fail(
            WHAT,
            format!(
                "anomaly detector for {} not written, so alarm {name} was not created: {e}",
                detector.metric.display()
            ),
        )
        .await;
        return;
    }
    match ctx
        .call(Source::Alarms, || {
            ctx.cloud.put_metric_alarm(definition.clone())
        })
        .await
    {
        Ok(()) => {
            ctx.refresh.all();
            ctx.done(
                WHAT,
                format!(
                    "alarm {name} created; it notifies {}",
                    definition.alarm_actions.join(", ")
                ),
            )
            .await;
        }
        Err(e) => {
            ctx.fail(WHAT, format!("alarm {name} not created: {e}"))
                .await
        }
    }
}
