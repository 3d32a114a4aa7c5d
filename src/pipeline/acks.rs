//! Acknowledgements of alarm episodes: who acknowledged which ALARM episode, when, with what
//! note. An episode is identified by the time the alarm entered ALARM (`state_updated`), so an
//! acknowledgement ends by itself when the alarm leaves ALARM: the next episode has another
//! start. Acknowledgements persist in the store (or in memory without one) and are announced
//! on the alarm's SNS action topics.

use super::Ctx;
use super::events::{Acknowledgement, Event, Source};
use crate::cloud::{Alarm, AlarmFilter, AlarmState, Time};
use crate::sanitize::clean;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The OS user running watchband (recorded as the acknowledger).
pub fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|u| clean(&u))
        .unwrap_or_else(|| "unknown".into())
}

/// Where acknowledgements live: the store, or memory when the pipeline runs without one.
#[derive(Default)]
pub(crate) struct AckBook {
    store: Option<Arc<Store>>,
    memory: Mutex<HashMap<(String, Time), Acknowledgement>>,
}

impl AckBook {
    pub fn new(store: Option<Arc<Store>>) -> Self {
        AckBook {
            store,
            memory: Mutex::new(HashMap::new()),
        }
    }

    /// The acknowledgement of the alarm's current episode; `None` unless it is in ALARM.
    pub fn current(&self, alarm: &Alarm) -> Option<Acknowledgement> {
        if alarm.state != AlarmState::Alarm {
            return None;
        }
        let name = &alarm.definition.name;
        match &self.store {
            Some(store) => store
                .acknowledgement(name, alarm.state_updated)
                .ok()
                .flatten()
                .map(|a| Acknowledgement {
                    alarm_name: clean(&a.alarm_name),
                    episode: a.episode_start,
                    who: clean(&a.who),
                    note: (!a.note.is_empty()).then(|| clean(&a.note)),
                    at: a.at,
                }),
            None => self
                .memory
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&(name.clone(), alarm.state_updated))
                .cloned(),
        }
    }

    fn record(&self, ack: &Acknowledgement) -> Result<(), String> {
        match &self.store {
            Some(store) => store
                .acknowledge(&crate::store::Acknowledgement {
                    alarm_name: ack.alarm_name.clone(),
                    episode_start: ack.episode,
                    who: ack.who.clone(),
                    at: ack.at,
                    note: ack.note.clone().unwrap_or_default(),
                })
                .map_err(|e| e.to_string()),
            None => {
                self.memory
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert((ack.alarm_name.clone(), ack.episode), ack.clone());
                Ok(())
            }
        }
    }
}

/// SNS subjects are at most 100 printable ASCII characters.
fn subject(alarm_name: &str) -> String {
    let s: String = format!("Acknowledged: {alarm_name}")
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    s.chars().take(100).collect()
}

/// The message announced on the alarm's topics.
pub fn announcement(ack: &Acknowledgement) -> String {
    let mut m = format!(
        "Alarm {} (in ALARM since {}) was acknowledged by {} at {}.",
        ack.alarm_name,
        ack.episode.to_rfc3339(),
        ack.who,
        ack.at.to_rfc3339()
    );
    if let Some(note) = &ack.note {
        m.push_str(&format!("\nNote: {note}"));
    }
    m
}

/// The `x` key: acknowledge the alarm's current ALARM episode.
pub(crate) async fn acknowledge(
    ctx: &Arc<Ctx>,
    alarm_name: String,
    note: Option<String>,
    who: String,
) {
    const WHAT: &str = "acknowledge";
    let filter = AlarmFilter {
        name_prefix: None,
        names: vec![alarm_name.clone()],
    };
    let alarm = match ctx
        .call(Source::Alarms, || ctx.cloud.describe_alarms(filter.clone()))
        .await
    {
        Ok(found) => match found.into_iter().find(|a| a.definition.name == alarm_name) {
            Some(a) => a,
            None => {
                ctx.fail(
                    WHAT,
                    format!("alarm {alarm_name} does not exist (any more)"),
                )
                .await;
                return;
            }
        },
        Err(e) => {
            ctx.fail(WHAT, format!("cannot read alarm {alarm_name}: {e}"))
                .await;
            return;
        }
    };
    if alarm.state != AlarmState::Alarm {
        ctx.fail(
            WHAT,
            format!(
                "alarm {alarm_name} is {}: only an alarm in ALARM can be acknowledged",
                alarm.state.as_aws()
            ),
        )
        .await;
        return;
    }
    let ack = Acknowledgement {
        alarm_name: clean(&alarm_name),
        episode: alarm.state_updated,
        who: clean(&who),
        note: note.map(|n| clean(&n)).filter(|n| !n.trim().is_empty()),
        at: ctx.cloud.now(),
    };
    if let Err(e) = ctx.acks.record(&ack) {
        ctx.fail(
            WHAT,
            format!("acknowledgement of {alarm_name} not saved: {e}"),
        )
        .await;
        return;
    }
    let topics: Vec<&String> = alarm
        .definition
        .alarm_actions
        .iter()
        .filter(|a| a.starts_with("arn:aws:sns:") || a.contains(":sns:"))
        .collect();
    let message = announcement(&ack);
    let subject = subject(&alarm_name);
    let mut failed = Vec::new();
    for topic in &topics {
        if let Err(e) = ctx
            .call(Source::Alarms, || {
                ctx.cloud.publish(topic, Some(&subject), &message)
            })
            .await
        {
            failed.push(format!("{topic}: {e}"));
        }
    }
    ctx.refresh.all();
    let _ = ctx.emit(Event::Acknowledged(ack.clone())).await;
    if failed.is_empty() {
        ctx.done(
            WHAT,
            format!(
                "{alarm_name} acknowledged by {}; announced on {} topic(s)",
                ack.who,
                topics.len()
            ),
        )
        .await;
    } else {
        ctx.fail(
            WHAT,
            format!(
                "{alarm_name} acknowledged and saved, but the announcement failed on {}",
                failed.join("; ")
            ),
        )
        .await;
    }
}
