//! The backup-event processor: the changed-block pipeline's function, done right.
//!
//! Input: an EventBridge `Backup Job State Change` event (COMPLETED, EBS). The previous snapshot
//! of the volume comes from the `anomaly-detection` table (key `arn`); the changed blocks
//! between the two are counted through EBS ListChangedBlocks paged to the end; the count is
//! published as `BACKUP/BACKUP_CHANGED_BLOCKS` with dimension `BACKUP_RESOURCE`; on a volume's
//! first sighting the `Backup-Anomaly-Alarm/<arn>` alarm is created as the original creates it.
//!
//! What the original lacks: the event is checked before anything is written — the volume ARN
//! must be an EC2 volume ARN of the processor's own region and of its own account (or one
//! allow-listed for cross-account backup), and the snapshot must be one of that volume's
//! recovery points in AWS Backup, whose creation date orders the table (never the event's
//! arrival or its `time`, which a redelivery or a late job does not keep in snapshot order).
//! The table write is conditional (the item advances only from the snapshot it was read at,
//! and only to a snapshot started later), so a redelivered or out-of-order event neither
//! double-counts nor goes backwards; a count whose publish failed is published on the
//! redelivery; and the count is scored by the shared detection core against the volume's own
//! history, with a verdict notification on the backup topic when it is anomalous — the
//! deployments wait weeks for CloudWatch's band to train. An event refused for good can be
//! sent to a dead-letter queue with the reason before it is deleted.

use crate::cloud::{
    AlarmFilter, AlarmState, AttrValue, Cloud, CloudError, CloudResult, Condition, ErrorKind,
    GetMetricData, Identity, Item, MetricDatum, MetricQuery, Time, collect_pages,
};
use crate::detect::Verdict;
use crate::interop::{self, BackupJobEvent};
use crate::pipeline::changes::ChangeCounter;
use chrono::Duration;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct BackupProcessorConfig {
    /// The `anomaly-detection` table.
    pub table: String,
    /// Where alarms send and verdicts are published.
    pub topic_arn: String,
    pub band_width: f64,
    /// How much of the volume's metric history the verdict is scored against.
    pub history_days: i64,
    /// The team's shared acknowledgements: an alert on a volume whose alarm is snoozed is not
    /// sent, and one whose alarm episode is acknowledged says by whom.
    pub ack_table: String,
    /// Accounts whose volumes are accepted besides the processor's own (cross-account
    /// backup: a vault in this account holding other accounts' recovery points).
    pub allow_accounts: Vec<String>,
    /// Where an event refused for good goes (with the reason) before it is deleted.
    pub dead_letter_queue: Option<String>,
}

impl BackupProcessorConfig {
    pub fn new(topic_arn: &str) -> Self {
        BackupProcessorConfig {
            table: interop::BACKUP_TABLE.into(),
            topic_arn: topic_arn.into(),
            band_width: 2.0,
            history_days: 90,
            ack_table: interop::ACK_TABLE.into(),
            allow_accounts: Vec::new(),
            dead_letter_queue: None,
        }
    }
}

/// What handling one event did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BackupOutcome {
    /// The volume was new: its item and its alarm were created; nothing to count yet.
    FirstSighting {
        volume_arn: String,
        snapshot_id: String,
    },
    /// Counted and published.
    Counted {
        volume_arn: String,
        previous: String,
        snapshot_id: String,
        blocks: u64,
        changed_bytes: u64,
        anomalous: bool,
        /// The band the count was judged against, once the history is long enough.
        expected: Option<(f64, f64)>,
    },
    /// The same event again: the count had been published already.
    Duplicate { snapshot_id: String },
    /// The same event again after a failed publish: the stored count was published now.
    Republished { snapshot_id: String, blocks: u64 },
    /// A snapshot started before the one the table already holds: nothing written or
    /// published (the table's latest never moves backwards).
    OutOfOrder { snapshot_id: String, stored: String },
    /// Not a completed EBS backup job.
    Ignored,
}

pub struct BackupProcessor<'a> {
    cloud: &'a dyn Cloud,
    counter: ChangeCounter,
    config: BackupProcessorConfig,
    /// The processor's own account and region (STS), read once.
    identity: tokio::sync::OnceCell<Identity>,
}

impl<'a> BackupProcessor<'a> {
    pub fn new(
        cloud: &'a dyn Cloud,
        counter: ChangeCounter,
        config: BackupProcessorConfig,
    ) -> Self {
        BackupProcessor {
            cloud,
            counter,
            config,
            identity: tokio::sync::OnceCell::new(),
        }
    }

    /// Handles one EventBridge event given as JSON (from Lambda or an SQS queue).
    pub async fn handle_json(&self, json: &str) -> CloudResult<BackupOutcome> {
        match interop::parse_backup_event(json) {
            Ok(Some(event)) => self.handle(&event).await,
            Ok(None) => Ok(BackupOutcome::Ignored),
            Err(e) => Err(CloudError::new(
                ErrorKind::InvalidRequest,
                "watchband",
                "ProcessBackupEvent",
                format!(
                    "{e}; the event is not a Backup Job State Change event as AWS Backup sends it"
                ),
            )),
        }
    }

    pub async fn handle(&self, event: &BackupJobEvent) -> CloudResult<BackupOutcome> {
        // An event without a usable time is not one AWS Backup sent: refused. (The table is
        // ordered by the snapshot's own creation date below, not by this time.)
        let sent = event
            .time
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| {
                CloudError::new(
                    ErrorKind::InvalidRequest,
                    "watchband",
                    "ProcessBackupEvent",
                    format!(
                        "the event for snapshot {} has no usable `time` ({}): refused",
                        crate::sanitize::clean(&event.snapshot_id),
                        match &event.time {
                            Some(t) => format!("{:?} is not RFC 3339", crate::sanitize::clean(t)),
                            None => "none given".to_string(),
                        }
                    ),
                )
            })?;
        let at = self.check(event, sent.with_timezone(&chrono::Utc)).await?;
        let at_text = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let arn = &event.volume_arn;
        let current = &event.snapshot_id;

        let mut key = Item::new();
        key.insert("arn".into(), AttrValue::S(arn.clone()));
        let stored = self.cloud.get_item(&self.config.table, key).await?;

        let Some(stored) = stored else {
            return self.first_sighting(arn, current, &at_text).await;
        };
        let previous = stored
            .get("snapshot")
            .and_then(AttrValue::as_s)
            .unwrap_or_default()
            .to_string();
        let stored_time = stored
            .get("time")
            .and_then(AttrValue::as_s)
            .unwrap_or_default();

        if previous == *current {
            let published = matches!(stored.get("published"), Some(AttrValue::Bool(true)) | None);
            let blocks = stored.get("blocks").and_then(AttrValue::as_f64);
            return match (published, blocks) {
                (false, Some(blocks)) => {
                    self.publish_count(arn, blocks, at).await?;
                    self.mark_published(&stored).await?;
                    Ok(BackupOutcome::Republished {
                        snapshot_id: current.clone(),
                        blocks: blocks as u64,
                    })
                }
                _ => Ok(BackupOutcome::Duplicate {
                    snapshot_id: current.clone(),
                }),
            };
        }
        // Items written by the changed-block pipeline's own function have no time; any snapshot
        // is newer then. A snapshot started at or before the stored one never replaces it.
        let stored_at = chrono::DateTime::parse_from_rfc3339(stored_time)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc));
        if stored_at.is_some_and(|stored_at| at <= stored_at) {
            return Ok(BackupOutcome::OutOfOrder {
                snapshot_id: current.clone(),
                stored: previous,
            });
        }

        let count = self.counter.count(Some(&previous), current).await?;
        let mut item = interop::backup_table_item(arn, current);
        item.insert("time".into(), AttrValue::S(at_text.clone()));
        item.insert("previous".into(), AttrValue::S(previous.clone()));
        item.insert("blocks".into(), AttrValue::N(count.blocks.to_string()));
        item.insert("published".into(), AttrValue::Bool(false));
        // Advance only from the snapshot we read: a concurrent delivery of the same event
        // loses here instead of counting twice.
        let condition = Condition::Equals("snapshot".into(), AttrValue::S(previous.clone()));
        match self
            .cloud
            .put_item(&self.config.table, item.clone(), Some(condition))
            .await
        {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::ConditionFailed => {
                return Ok(BackupOutcome::Duplicate {
                    snapshot_id: current.clone(),
                });
            }
            Err(e) => return Err(e),
        }

        let verdict = self.score(arn, count.blocks as f64, at).await?;
        self.publish_count(arn, count.blocks as f64, at).await?;
        self.mark_published(&item).await?;
        // Only a burst counts, as with the changed-block pipeline's alarm (GreaterThanUpperThreshold): fewer
        // changed blocks than expected (an extra on-demand backup split the day) is no threat.
        let anomalous = verdict
            .as_ref()
            .is_some_and(|v| v.anomalous && v.band.is_some_and(|b| count.blocks as f64 > b.upper));
        if anomalous && let Some(v) = &verdict {
            self.notify(
                arn,
                current,
                &previous,
                count.blocks,
                count.changed_bytes(),
                count.volume_size_gib,
                v,
                at,
            )
            .await?;
        }
        Ok(BackupOutcome::Counted {
            volume_arn: arn.clone(),
            previous,
            snapshot_id: current.clone(),
            blocks: count.blocks,
            changed_bytes: count.changed_bytes(),
            anomalous,
            expected: verdict.and_then(|v| v.band).map(|b| (b.lower, b.upper)),
        })
    }

    /// Checks the event before anything is written and returns the snapshot's start time
    /// (its recovery point's creation date), which orders the table. Refused
    /// (`InvalidRequest`, for good): a volume of another region, or of an account that is
    /// neither the processor's nor allow-listed; a snapshot that is not one of the volume's
    /// recovery points (a snapshot of volume B presented as volume A's) — once the event is
    /// older than [`LISTING_GRACE`]: before that the snapshot may be listed late (Backup's
    /// listings are eventually consistent), so the event is kept for a retry (`NotFound`,
    /// which leaves the queue message to be delivered again) rather than dropped.
    async fn check(&self, event: &BackupJobEvent, sent: Time) -> CloudResult<Time> {
        let arn = &event.volume_arn;
        let refuse = |why: String| {
            CloudError::new(
                ErrorKind::InvalidRequest,
                "watchband",
                "ProcessBackupEvent",
                format!(
                    "refused the event for {} (snapshot {}): {why}; nothing was written",
                    crate::sanitize::clean(arn),
                    crate::sanitize::clean(&event.snapshot_id)
                ),
            )
        };
        let Some((region, account, _)) = crate::cloud::arn::volume_arn_parts(arn) else {
            return Err(refuse("not an EC2 volume ARN".into()));
        };
        let me = self
            .identity
            .get_or_try_init(|| self.cloud.caller_identity())
            .await?;
        if let Some(why) = foreign_volume(region, account, me, &self.config.allow_accounts) {
            return Err(refuse(why));
        }
        let points = collect_pages(|t| self.cloud.list_recovery_points_by_resource(arn, t)).await?;
        let Some(point) = points
            .iter()
            .find(|p| p.snapshot_id() == Some(event.snapshot_id.as_str()))
        else {
            if self.cloud.now() - sent < LISTING_GRACE {
                return Err(CloudError::new(
                    ErrorKind::NotFound,
                    "backup",
                    "ListRecoveryPointsByResource",
                    format!(
                        "snapshot {} of {} is not listed among the volume's recovery points yet \
                         ({} listed); the event is kept and retried until {} after it was sent",
                        crate::sanitize::clean(&event.snapshot_id),
                        crate::sanitize::clean(arn),
                        points.len(),
                        crate::words::count(
                            LISTING_GRACE.num_minutes() as usize,
                            "minute",
                            "minutes"
                        )
                    ),
                ));
            }
            return Err(refuse(format!(
                "the snapshot is not a recovery point of this volume in AWS Backup ({} listed)",
                points.len()
            )));
        };
        Ok(point.created)
    }

    async fn first_sighting(
        &self,
        arn: &str,
        current: &str,
        at: &str,
    ) -> CloudResult<BackupOutcome> {
        // As the changed-block pipeline does, only the alarm is written: an alarm on ANOMALY_DETECTION_BAND
        // makes CloudWatch create and train the band's model itself.
        self.cloud
            .put_metric_alarm(interop::backup_alarm_definition(
                arn,
                &self.config.topic_arn,
                self.config.band_width,
            ))
            .await?;
        let mut item = interop::backup_table_item(arn, current);
        item.insert("time".into(), AttrValue::S(at.to_string()));
        item.insert("published".into(), AttrValue::Bool(true));
        match self
            .cloud
            .put_item(
                &self.config.table,
                item,
                Some(Condition::AttributeNotExists("arn".into())),
            )
            .await
        {
            Ok(()) => Ok(BackupOutcome::FirstSighting {
                volume_arn: arn.to_string(),
                snapshot_id: current.to_string(),
            }),
            Err(e) if e.kind == ErrorKind::ConditionFailed => Ok(BackupOutcome::Duplicate {
                snapshot_id: current.to_string(),
            }),
            Err(e) => Err(e),
        }
    }

    async fn publish_count(&self, arn: &str, blocks: f64, at: Time) -> CloudResult<()> {
        let metric = interop::backup_metric(arn);
        self.cloud
            .put_metric_data(
                &metric.namespace,
                vec![MetricDatum {
                    metric_name: metric.name.clone(),
                    dimensions: metric.dimensions.clone(),
                    timestamp: at,
                    value: blocks,
                    unit: None,
                    storage_resolution: None,
                }],
            )
            .await
    }

    async fn mark_published(&self, item: &Item) -> CloudResult<()> {
        let mut item = item.clone();
        let snapshot = item.get("snapshot").cloned().unwrap_or(AttrValue::Null);
        item.insert("published".into(), AttrValue::Bool(true));
        match self
            .cloud
            .put_item(
                &self.config.table,
                item,
                Some(Condition::Equals("snapshot".into(), snapshot)),
            )
            .await
        {
            // A newer event has moved the item on; its own flag is what matters now.
            Err(e) if e.kind == ErrorKind::ConditionFailed => Ok(()),
            other => other,
        }
    }

    /// Scores the new count against the volume's published history (before `at`).
    async fn score(&self, arn: &str, blocks: f64, at: Time) -> CloudResult<Option<Verdict>> {
        let metric = interop::backup_metric(arn);
        let results = self
            .cloud
            .get_metric_data(GetMetricData {
                queries: vec![MetricQuery::stat("m1", metric, 3600, "Maximum")],
                start: at - Duration::days(self.config.history_days),
                end: at,
            })
            .await?;
        let mut history: Vec<(i64, f64)> = results
            .into_iter()
            .filter(|r| r.id == "m1")
            .flat_map(|r| {
                r.timestamps
                    .into_iter()
                    .map(|t| t.timestamp())
                    .zip(r.values)
                    .collect::<Vec<_>>()
            })
            .filter(|(t, v)| *t < at.timestamp() && v.is_finite())
            .collect();
        history.sort_by_key(|(t, _)| *t);
        let width = self.config.band_width;
        let verdict =
            crate::pipeline::backups::judge_count(width, &history, at.timestamp(), blocks)
                .map_err(|e| {
                    CloudError::new(
                        ErrorKind::InvalidRequest,
                        "watchband",
                        "ScoreBackup",
                        e.to_string(),
                    )
                })?;
        Ok(verdict.is_ready().then_some(verdict))
    }

    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        arn: &str,
        snapshot: &str,
        previous: &str,
        blocks: u64,
        bytes: u64,
        volume_gib: i64,
        verdict: &Verdict,
        at: Time,
    ) -> CloudResult<()> {
        let volume = interop::volume_id_in(arn).unwrap_or(arn);
        let band = verdict.band.expect("only ready verdicts are notified");
        let pct = if volume_gib > 0 {
            bytes as f64 / (volume_gib as f64 * 1024.0 * 1024.0 * 1024.0) * 100.0
        } else {
            0.0
        };
        let subject = format!("Backup anomaly: {volume} changed {blocks} blocks");
        // The alert still goes out when the recovery points cannot be read.
        let last_clean = match crate::pipeline::recovery::last_clean_for_alert(
            self.cloud,
            arn,
            at,
            self.config.history_days,
            self.config.band_width,
        )
        .await
        {
            Ok(Some(p)) => format!(
                "Last clean recovery point: {} (created {}).",
                p.arn,
                p.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Ok(None) => "Last clean recovery point: none listed for the volume.".to_string(),
            Err(e) => format!("Last clean recovery point: unknown ({e})."),
        };
        let mut message = format!(
            "Changed blocks between {previous} and {snapshot} on {arn}: {blocks} ({:.2} GiB, {pct:.1} % of the volume).\n\
             Expected between {:.0} and {:.0} (anomaly score {:.2}).\n\
             {last_clean}\n\
             A burst of changed blocks is how ransomware encryption shows up in backups: check the volume's workload.",
            bytes as f64 / 1024f64.powi(3),
            band.lower,
            band.upper,
            verdict.score,
        );
        match self.acknowledgement(arn).await {
            Acked::Snoozed => return Ok(()),
            Acked::Episode(line) => message.push_str(&format!("\n{line}")),
            Acked::No => {}
        }
        self.cloud
            .publish(&self.config.topic_arn, Some(&subject), &message)
            .await
            .map(|_| ())
    }

    /// What the team said about the volume's alarm in the shared acknowledgements table. Any
    /// failure to read it (no alarm yet, no table, no permission) counts as nothing said: an
    /// alert is never lost for want of an acknowledgement.
    async fn acknowledgement(&self, volume_arn: &str) -> Acked {
        let name = interop::backup_alarm_name(volume_arn);
        let filter = AlarmFilter {
            name_prefix: None,
            names: vec![name.clone()],
        };
        let Some(alarm) = self
            .cloud
            .describe_alarms(filter)
            .await
            .ok()
            .and_then(|a| a.into_iter().find(|a| a.definition.name == name))
        else {
            return Acked::No;
        };
        let Ok(Some(ack)) =
            crate::pipeline::acks::newest(self.cloud, &self.config.ack_table, &alarm.arn).await
        else {
            return Acked::No;
        };
        if ack.snooze_until.is_some_and(|t| t > self.cloud.now()) {
            return Acked::Snoozed;
        }
        if alarm.state == AlarmState::Alarm && ack.episode == alarm.state_updated {
            let note = ack.note.map(|n| format!(": {n}")).unwrap_or_default();
            return Acked::Episode(format!(
                "Acknowledged by {} at {}{note}",
                ack.who,
                ack.at.to_rfc3339()
            ));
        }
        Acked::No
    }
}

/// The team's word on a volume's alarm when an alert is due.
enum Acked {
    No,
    /// The alarm's current episode is acknowledged: this line goes into the alert.
    Episode(String),
    /// Re-notifications are snoozed: no alert.
    Snoozed,
}

/// Why a volume of `region` and `account` is not the processor's to count, or `None` when it
/// is: the processor's own region, and its own account or one of `allowed`.
pub fn foreign_volume(
    region: &str,
    account: &str,
    me: &Identity,
    allowed: &[String],
) -> Option<String> {
    if region != me.region {
        return Some(format!(
            "the volume is in region {region}, this processor counts {}",
            me.region
        ));
    }
    if account != me.account && !allowed.iter().any(|a| a == account) {
        return Some(format!(
            "the volume belongs to account {account}, not this one ({}) nor an allowed one \
             (--allow-account or backup_allow_accounts)",
            me.account
        ));
    }
    None
}

/// How long after an event was sent a snapshot missing from the volume's recovery points is
/// taken for a listing that lags (kept for a retry) rather than for a snapshot of another
/// volume (refused for good). AWS Backup emits the job's COMPLETED event once its recovery
/// point exists; the grace covers the listing catching up, not a job still running.
pub const LISTING_GRACE: chrono::Duration = chrono::Duration::minutes(15);

/// What became of one queued event.
#[derive(Debug)]
pub struct QueuedOutcome {
    pub message_id: String,
    pub outcome: CloudResult<BackupOutcome>,
    /// Whether the message was deleted (handled, or unreadable for good).
    pub deleted: bool,
}

/// Receives what is waiting on the queue an EventBridge rule feeds (at most `max` messages,
/// waiting up to `wait_seconds` for the first) and handles each event. A message is deleted
/// once handled, or when it can never be handled (not an event, or refused) — after it was
/// sent to the dead-letter queue when there is one; after a retryable failure, or a failed
/// dead-letter send, it stays, and SQS delivers it again after its visibility timeout.
pub async fn drain_queue(
    processor: &BackupProcessor<'_>,
    queue_url: &str,
    max: usize,
    wait_seconds: i32,
) -> CloudResult<Vec<QueuedOutcome>> {
    let mut done = Vec::new();
    while done.len() < max {
        let wait = if done.is_empty() { wait_seconds } else { 0 };
        let want = (max - done.len()).min(10) as i32;
        let messages = processor
            .cloud
            .receive_messages(queue_url, want, wait)
            .await?;
        if messages.is_empty() {
            break;
        }
        for m in messages {
            let mut outcome = processor.handle_json(&m.body).await;
            let mut permanent = matches!(&outcome, Err(e) if e.kind == ErrorKind::InvalidRequest);
            if permanent
                && let (Err(why), Some(dlq)) = (&outcome, &processor.config.dead_letter_queue)
            {
                let letter = serde_json::json!({
                    "queue": queue_url,
                    "message_id": m.message_id,
                    "reason": why.message,
                    "body": m.body,
                })
                .to_string();
                if let Err(e) = processor.cloud.send_message(dlq, &letter).await {
                    // Kept on the source queue: redelivered, refused and dead-lettered again.
                    outcome = Err(e);
                    permanent = false;
                }
            }
            let deleted = outcome.is_ok() || permanent;
            if deleted {
                processor
                    .cloud
                    .delete_message(queue_url, &m.receipt_handle)
                    .await?;
            }
            done.push(QueuedOutcome {
                message_id: m.message_id,
                outcome,
                deleted,
            });
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_own_region_and_own_or_allowed_accounts_are_counted() {
        let me = Identity {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/op".into(),
            region: "us-east-1".into(),
        };
        let allowed = vec!["210987654321".to_string()];
        assert_eq!(foreign_volume("us-east-1", "123456789012", &me, &[]), None);
        assert_eq!(
            foreign_volume("us-east-1", "210987654321", &me, &allowed),
            None
        );
        let other = foreign_volume("us-east-1", "210987654321", &me, &[]).unwrap();
        assert!(other.contains("account 210987654321"), "{other}");
        let west = foreign_volume("us-west-2", "123456789012", &me, &allowed).unwrap();
        assert!(west.contains("region us-west-2"), "{west}");
    }
}
