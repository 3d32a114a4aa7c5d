//! Acknowledgements of alarm episodes, shared by a team through the account: one item per
//! episode in a DynamoDB table (`interop::acks`), written with a condition so the first
//! acknowledgement of an episode wins and a second one is refused naming the first.
//!
//! An episode is identified by the time the alarm entered ALARM (`state_updated`), so an
//! acknowledgement ends by itself when the alarm leaves ALARM: the next episode has another
//! start. Who acknowledged is the caller identity ARN from STS, never `$USER`, so two people
//! on two bastions are told apart and one person on two machines is one person.
//!
//! The store caches every acknowledgement seen and keeps working when the table cannot be
//! reached: an acknowledgement made then is kept as "not shared yet" and written to the table
//! by the next poll that reaches it (unless someone else acknowledged the episode meanwhile:
//! the table wins). Every poll of the alarms task reads the table for the alarms in ALARM, so
//! another machine's acknowledgement shows within one alarms interval (3 s by default).

use super::Ctx;
use super::events::{Acknowledgement, Event, Source};
use crate::cloud::{
    Alarm, AlarmFilter, AlarmState, AttrValue, Cloud, CloudError, ErrorKind, Query, Time,
};
use crate::interop::{self, AckItem};
use crate::sanitize::clean;
use crate::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The OS user running watchband (names the notifications queue; acknowledgements carry the
/// STS identity instead).
pub fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .map(|u| clean(&u))
        .unwrap_or_else(|| "unknown".into())
}

/// The shared table's name and the local cache of it.
pub(crate) struct AckBook {
    table: String,
    /// The store, or a private in-memory one when the pipeline runs without a store.
    cache: Arc<Store>,
    /// The caller identity ARN, once STS told it.
    identity: Mutex<Option<String>>,
    /// The table's absence was reported (reported once until it is created).
    missing_reported: AtomicBool,
}

/// How an acknowledgement went.
#[derive(Debug, Clone, PartialEq)]
pub enum AckResult {
    /// Written to the shared table.
    Shared(Acknowledgement),
    /// Kept locally because the table could not be reached (why); shared later.
    NotShared(Acknowledgement, String),
    /// Someone acknowledged this episode first.
    Taken(Acknowledgement),
}

impl AckBook {
    pub fn new(store: Option<Arc<Store>>, table: &str) -> Self {
        let cache = store.unwrap_or_else(|| {
            Arc::new(Store::in_memory().expect("an in-memory SQLite database opens"))
        });
        AckBook {
            table: table.to_string(),
            cache,
            identity: Mutex::new(None),
            missing_reported: AtomicBool::new(false),
        }
    }

    pub fn set_identity(&self, arn: &str) {
        *self.identity.lock().unwrap_or_else(|e| e.into_inner()) = Some(arn.to_string());
    }

    fn known_identity(&self) -> Option<String> {
        self.identity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// An item as the app sees it: sanitised.
fn event_of(a: &AckItem, shared: bool) -> Acknowledgement {
    Acknowledgement {
        alarm_name: clean(&a.alarm_name),
        episode: a.episode,
        who: clean(&a.who),
        note: a.note.as_deref().map(clean).filter(|n| !n.is_empty()),
        at: a.at,
        snooze_until: a.snooze_until,
        shared,
    }
}

/// "3 s", "2 min", "5 h", "2 d".
fn ago(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86400),
    }
}

/// "acknowledged by arn:... 2 min ago: looking at it"
pub fn refusal(first: &Acknowledgement, now: Time) -> String {
    let mut m = format!(
        "acknowledged by {} {} ago",
        first.who,
        ago((now - first.at).num_seconds())
    );
    if let Some(n) = &first.note {
        m.push_str(&format!(": {n}"));
    }
    m
}

/// The newest acknowledgement of an alarm (any episode) in the shared table: the current
/// episode's when there is one, and the snooze that may outlive its episode.
pub async fn newest(
    cloud: &dyn Cloud,
    table: &str,
    alarm_arn: &str,
) -> crate::cloud::CloudResult<Option<AckItem>> {
    let items = cloud
        .query(Query {
            table: table.to_string(),
            hash_key: interop::ACK_HASH_KEY.into(),
            hash_value: AttrValue::S(alarm_arn.to_string()),
            limit: Some(1),
            newest_first: true,
        })
        .await?;
    Ok(items.first().and_then(AckItem::from_item))
}

/// The acknowledgement of the alarm's current episode (none outside ALARM) and the snooze
/// that runs for it, from the shared table, falling back on the cache when the table cannot
/// be read. Also shares what was acknowledged offline, once the table answers.
pub(crate) async fn current(ctx: &Ctx, alarm: &Alarm) -> (Option<Acknowledgement>, Option<Time>) {
    if alarm.state != AlarmState::Alarm {
        return (None, None);
    }
    let book = &ctx.acks;
    let arn = &alarm.arn;
    let episode = alarm.state_updated;
    let now = ctx.cloud.now();
    let snooze = |a: &AckItem| a.snooze_until.filter(|t| *t > now);
    let cached = book.cache.cached_ack(arn, episode).ok().flatten();
    match ctx
        .call(Source::Alarms, || {
            newest(ctx.cloud.as_ref(), &book.table, arn)
        })
        .await
    {
        Ok(newest) => {
            book.missing_reported.store(false, Ordering::Relaxed);
            let snoozed = newest.as_ref().and_then(snooze);
            if let Some(a) = newest.filter(|a| a.episode == episode) {
                let _ = book.cache.cache_ack(&a, true);
                return (Some(event_of(&a, true)), snoozed);
            }
            match cached {
                // Made offline: share it now (the condition keeps a colleague's first).
                Some((mine, false)) if !ctx.config.read_only => {
                    let shared = ctx
                        .call(Source::Alarms, || {
                            ctx.cloud.put_item(
                                &book.table,
                                mine.to_item(),
                                Some(interop::first_ack_wins()),
                            )
                        })
                        .await
                        .is_ok();
                    if shared {
                        let _ = book.cache.cache_ack(&mine, true);
                    }
                    let snoozed = snoozed.or(snooze(&mine));
                    (Some(event_of(&mine, shared)), snoozed)
                }
                Some((mine, false)) => (Some(event_of(&mine, false)), snoozed.or(snooze(&mine))),
                // Shared once and gone from the table: withdrawn on another machine.
                Some((_, true)) => {
                    let _ = book.cache.uncache_ack(arn, episode);
                    (None, snoozed)
                }
                None => (None, snoozed),
            }
        }
        Err(e) => {
            if e.kind == ErrorKind::NotFound {
                report_missing(ctx).await;
            }
            let latest = book.cache.latest_cached_ack(arn).ok().flatten();
            let snoozed = latest.as_ref().and_then(|(a, _)| snooze(a));
            (cached.map(|(a, shared)| event_of(&a, shared)), snoozed)
        }
    }
}

async fn report_missing(ctx: &Ctx) {
    if !ctx.acks.missing_reported.swap(true, Ordering::Relaxed) {
        let _ = ctx
            .emit(Event::AckTableMissing {
                table: clean(&ctx.acks.table),
            })
            .await;
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
    if let Some(t) = ack.snooze_until {
        m.push_str(&format!("\nSnoozed until {}", t.to_rfc3339()));
    }
    m
}

/// The alarm by name, in ALARM.
async fn alarm_in_alarm(ctx: &Ctx, alarm_name: &str, what: &str) -> Result<Alarm, String> {
    let filter = AlarmFilter {
        name_prefix: None,
        names: vec![alarm_name.to_string()],
    };
    let alarm = ctx
        .call(Source::Alarms, || ctx.cloud.describe_alarms(filter.clone()))
        .await
        .map_err(|e| format!("cannot read alarm {alarm_name}: {e}"))?
        .into_iter()
        .find(|a| a.definition.name == alarm_name)
        .ok_or_else(|| format!("alarm {alarm_name} does not exist (any more)"))?;
    if alarm.state != AlarmState::Alarm {
        return Err(format!(
            "alarm {alarm_name} is {}: only an alarm in ALARM can be {what}",
            alarm.state.as_aws()
        ));
    }
    Ok(alarm)
}

/// The caller identity ARN: the one the pipeline learnt, else asked now.
async fn who(ctx: &Ctx) -> Result<String, String> {
    if let Some(w) = ctx.acks.known_identity() {
        return Ok(w);
    }
    let id = ctx
        .call(Source::Alarms, || ctx.cloud.caller_identity())
        .await
        .map_err(|e| format!("cannot tell who you are (STS GetCallerIdentity): {e}"))?;
    ctx.acks.set_identity(&id.arn);
    Ok(id.arn)
}

/// The first acknowledgement of an episode, read back after the condition refused ours.
async fn first_of(ctx: &Ctx, arn: &str, episode: Time) -> Result<AckItem, CloudError> {
    let key = interop::ack_key(arn, episode);
    let item = ctx
        .call(Source::Alarms, || {
            ctx.cloud.get_item(&ctx.acks.table, key.clone())
        })
        .await?;
    item.as_ref().and_then(AckItem::from_item).ok_or_else(|| {
        CloudError::new(
            ErrorKind::Other,
            "dynamodb",
            "GetItem",
            "the episode's acknowledgement vanished after refusing ours (withdrawn meanwhile)",
        )
    })
}

/// Acknowledges the alarm's current ALARM episode in the shared table.
pub(crate) async fn ack(
    ctx: &Ctx,
    alarm_name: &str,
    note: Option<String>,
    snooze_until: Option<Time>,
) -> Result<AckResult, String> {
    if ctx.config.read_only {
        return Err(
            "acknowledgement refused: watchband runs read-only (--read-only, or the profile's \
             read_only; acknowledgements are shown, not made)"
                .into(),
        );
    }
    let alarm = alarm_in_alarm(ctx, alarm_name, "acknowledged").await?;
    // Share what this machine acknowledged offline first, so it is the first.
    let _ = current(ctx, &alarm).await;
    let who = who(ctx).await?;
    // The item keeps the original bytes; what is shown is sanitised.
    let item = AckItem {
        alarm_arn: alarm.arn.clone(),
        alarm_name: alarm_name.to_string(),
        episode: alarm.state_updated,
        who,
        at: ctx.cloud.now(),
        note: note.filter(|n| !n.trim().is_empty()),
        snooze_until,
    };
    let table = &ctx.acks.table;
    let written = ctx
        .call(Source::Alarms, || {
            ctx.cloud
                .put_item(table, item.to_item(), Some(interop::first_ack_wins()))
        })
        .await;
    let cache = &ctx.acks.cache;
    match written {
        Ok(()) => {
            let _ = cache.cache_ack(&item, true);
            Ok(AckResult::Shared(event_of(&item, true)))
        }
        Err(e) if e.kind == ErrorKind::ConditionFailed => {
            let first = first_of(ctx, &alarm.arn, alarm.state_updated)
                .await
                .map_err(|e| format!("{alarm_name} was acknowledged by someone else: {e}"))?;
            let _ = cache.cache_ack(&first, true);
            Ok(AckResult::Taken(event_of(&first, true)))
        }
        Err(e) if e.kind == ErrorKind::AccessDenied => Err(format!(
            "no write access to the acknowledgements table {table}: acknowledgements are \
             shown, not made ({e})"
        )),
        Err(e) => {
            if e.kind == ErrorKind::NotFound {
                report_missing(ctx).await;
            }
            cache
                .cache_ack(&item, false)
                .map_err(|s| format!("acknowledgement of {alarm_name} not saved: {s}"))?;
            Ok(AckResult::NotShared(event_of(&item, false), e.to_string()))
        }
    }
}

/// The `x` key: acknowledge, announce on the alarm's SNS topics, report the outcome.
pub(crate) async fn acknowledge(
    ctx: &Arc<Ctx>,
    alarm_name: String,
    note: Option<String>,
    snooze_until: Option<Time>,
) {
    const WHAT: &str = "acknowledge";
    let ack = match ack(ctx, &alarm_name, note, snooze_until).await {
        Err(e) => return ctx.fail(WHAT, e).await,
        Ok(AckResult::Taken(first)) => {
            let _ = ctx.emit(Event::Acknowledged(first.clone())).await;
            let why = refusal(&first, ctx.cloud.now());
            return ctx
                .fail(WHAT, format!("{alarm_name} is already {why}"))
                .await;
        }
        Ok(AckResult::NotShared(mine, why)) => {
            let _ = ctx.emit(Event::Acknowledged(mine)).await;
            ctx.refresh.all();
            return ctx
                .fail(
                    WHAT,
                    format!(
                        "{alarm_name} acknowledged here, not shared yet ({why}); shared when the \
                         table {} is reachable again",
                        ctx.acks.table
                    ),
                )
                .await;
        }
        Ok(AckResult::Shared(ack)) => ack,
    };
    let failed = announce(ctx, &alarm_name, &ack).await;
    ctx.refresh.all();
    let _ = ctx.emit(Event::Acknowledged(ack.clone())).await;
    match failed {
        Ok(n) => {
            ctx.done(
                WHAT,
                format!(
                    "{alarm_name} acknowledged by {}; announced on {}",
                    ack.who,
                    crate::words::count(n, "topic", "topics")
                ),
            )
            .await
        }
        Err(failed) => {
            ctx.fail(
                WHAT,
                format!(
                    "{alarm_name} acknowledged and shared, but the announcement failed on {failed}"
                ),
            )
            .await
        }
    }
}

/// Publishes the acknowledgement on the alarm's SNS action topics; the number of topics, or
/// which ones failed.
pub(crate) async fn announce(
    ctx: &Ctx,
    alarm_name: &str,
    ack: &Acknowledgement,
) -> Result<usize, String> {
    let filter = AlarmFilter {
        name_prefix: None,
        names: vec![alarm_name.to_string()],
    };
    let actions: Vec<String> = ctx
        .call(Source::Alarms, || ctx.cloud.describe_alarms(filter.clone()))
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .flat_map(|a| a.definition.alarm_actions)
        .filter(|a| a.contains(":sns:"))
        .collect();
    let message = announcement(ack);
    let subject = subject(alarm_name);
    let mut failed = Vec::new();
    for topic in &actions {
        if let Err(e) = ctx
            .call(Source::Alarms, || {
                ctx.cloud.publish(topic, Some(&subject), &message)
            })
            .await
        {
            failed.push(format!("{topic}: {e}"));
        }
    }
    if failed.is_empty() {
        Ok(actions.len())
    } else {
        Err(failed.join("; "))
    }
}

/// Withdraws the acknowledgement of the alarm's current episode: the author's own, or, with
/// `force` (the operator confirmed), anyone's.
pub(crate) async fn withdraw(ctx: &Ctx, alarm_name: &str, force: bool) -> Result<String, String> {
    if ctx.config.read_only {
        return Err("withdrawal refused: watchband runs read-only (--read-only, or the profile's read_only)".into());
    }
    let alarm = alarm_in_alarm(ctx, alarm_name, "un-acknowledged").await?;
    let me = who(ctx).await?;
    let (arn, episode) = (&alarm.arn, alarm.state_updated);
    let cache = &ctx.acks.cache;
    if let Ok(Some((mine, false))) = cache.cached_ack(arn, episode)
        && mine.who == me
    {
        let _ = cache.uncache_ack(arn, episode);
        return Ok(format!(
            "{alarm_name}: acknowledgement withdrawn (it was not shared yet)"
        ));
    }
    let current = match first_of(ctx, arn, episode).await {
        Ok(a) => a,
        Err(e) if e.kind == ErrorKind::Other => {
            let _ = cache.uncache_ack(arn, episode);
            return Err(format!("{alarm_name} has no acknowledgement to withdraw"));
        }
        Err(e) => return Err(format!("cannot read the acknowledgement: {e}")),
    };
    if current.who != me && !force {
        return Err(format!(
            "{alarm_name} was acknowledged by {}, not by you: withdrawing it needs a confirmation",
            clean(&current.who)
        ));
    }
    // Conditional on the author read, so a withdrawal never removes a newer acknowledgement.
    let key = interop::ack_key(arn, episode);
    ctx.call(Source::Alarms, || {
        ctx.cloud.delete_item(
            &ctx.acks.table,
            key.clone(),
            Some(interop::written_by(&current.who)),
        )
    })
    .await
    .map_err(|e| format!("acknowledgement of {alarm_name} not withdrawn: {e}"))?;
    let _ = cache.uncache_ack(arn, episode);
    Ok(format!(
        "{alarm_name}: acknowledgement by {} withdrawn",
        clean(&current.who)
    ))
}

/// Creates the shared table (the operator confirmed it in the TUI).
pub(crate) async fn create_table(ctx: &Ctx) -> Result<String, String> {
    let table = &ctx.acks.table;
    ctx.cloud
        .create_table(table, interop::ACK_HASH_KEY, Some(interop::ACK_RANGE_KEY))
        .await
        .map_err(|e| format!("table {table} not created: {e}"))?;
    ctx.acks.missing_reported.store(false, Ordering::Relaxed);
    ctx.refresh.all();
    Ok(format!(
        "table {table} created: acknowledgements are shared through it"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_who_when_and_the_note() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let first = Acknowledgement {
            alarm_name: "cpu".into(),
            episode: at,
            who: "arn:aws:iam::1:user/alice".into(),
            note: Some("looking at it".into()),
            at,
            snooze_until: None,
            shared: true,
        };
        assert_eq!(
            refusal(&first, at + chrono::Duration::seconds(150)),
            "acknowledged by arn:aws:iam::1:user/alice 2 min ago: looking at it"
        );
        assert_eq!(ago(5), "5 s");
        assert_eq!(ago(7200), "2 h");
    }
}
