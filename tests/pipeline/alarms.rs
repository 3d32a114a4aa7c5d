//! Alarms against the simulated account: every alarm with its history, creating a seed
//! 001-compatible band alarm, and an acknowledgement that belongs to one ALARM episode, is
//! persisted, survives a restart, is announced on the alarm's topic (and arrives back as a
//! notification) and ends when the alarm leaves ALARM.

use crate::support::pipeline::*;
use crate::support::sim::paused;
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::sim::SimCloud;
use watchband::cloud::{AlarmState, Cloud, ComparisonOperator, MetricId};
use watchband::pipeline::{AlarmView, Command, Event};
use watchband::store::Store;

const HOUR: Duration = Duration::from_secs(3600);

fn alarms_of(e: &Event) -> Option<&Vec<AlarmView>> {
    match e {
        Event::Alarms(a) => Some(a),
        _ => None,
    }
}

fn tick(cloud: Arc<SimCloud>, step: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            cloud.advance(step);
        }
    })
}

#[tokio::test(start_paused = true)]
async fn alarms_history_and_creation() {
    let cloud = paused(7);
    let mut run = start(cloud.clone(), None, config());
    let alarms = run
        .until(Duration::from_secs(30), "the alarms", |e, _| {
            alarms_of(e).cloned()
        })
        .await;
    assert!(
        alarms
            .iter()
            .any(|a| a.definition.name.starts_with("cpu-high-"))
    );
    let backup: Vec<_> = alarms.iter().filter(|a| a.volume_arn.is_some()).collect();
    assert!(backup.len() >= 7, "{} backup alarms", backup.len());
    assert!(
        backup
            .iter()
            .all(|a| a.definition.threshold_metric_id.as_deref() == Some("ad1"))
    );
    run.until(
        Duration::from_secs(30),
        "an alarm history",
        |e, _| match e {
            Event::AlarmHistory { items, .. } if !items.is_empty() => Some(()),
            _ => None,
        },
    )
    .await;

    // The `a` key: a band alarm on an instance's CPU; no topic given, so the backup topic.
    let cpu = cloud
        .list_metrics(Some("AWS/EC2"), Some("CPUUtilization"))
        .await
        .unwrap();
    let metric: MetricId = cpu[0].clone();
    let mut definition = watchband::interop::anomaly_alarm_definition(
        "watchband-cpu-band",
        metric.clone(),
        "Average",
        300,
        2.0,
        1,
        "",
    );
    definition.alarm_actions.clear();
    run.send(Command::CreateAlarm {
        definition: Box::new(definition),
        detector: watchband::cloud::AnomalyDetector {
            metric: metric.clone(),
            stat: "Average".into(),
            excluded: vec![],
            metric_timezone: None,
            periodic_spikes: false,
            state: None,
        },
    })
    .await;
    let created = run
        .until(Duration::from_secs(30), "the new alarm", |e, _| {
            alarms_of(e)?
                .iter()
                .find(|a| a.definition.name == "watchband-cpu-band")
                .cloned()
        })
        .await;
    assert_eq!(
        created.definition.comparison,
        ComparisonOperator::GreaterThanUpperThreshold
    );
    assert!(created.definition.alarm_actions[0].ends_with(watchband::interop::BACKUP_TOPIC_NAME));
    assert_eq!(
        cloud
            .describe_anomaly_detectors(Some(&metric))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn an_acknowledgement_belongs_to_one_episode_and_is_announced() {
    let cloud = paused(7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("watchband.db");
    // The static CloudWatch alarm's alarm fires during the CPU anomaly 30 h after the start.
    cloud.advance(30 * HOUR);
    let mut run = start(
        cloud.clone(),
        Some(Arc::new(Store::open(&path).unwrap())),
        config(),
    );
    let ticker = tick(cloud.clone(), Duration::from_secs(60));
    let firing = run
        .until(
            Duration::from_secs(600),
            "the static CloudWatch alarm's alarm in ALARM",
            |e, _| {
                alarms_of(e)?
                    .iter()
                    .find(|a| {
                        a.definition.name.starts_with("cpu-high-") && a.state == AlarmState::Alarm
                    })
                    .cloned()
            },
        )
        .await;
    ticker.abort();
    assert!(firing.acknowledgement.is_none());
    let name = firing.definition.name.clone();
    run.send(Command::Acknowledge {
        alarm_name: name.clone(),
        note: Some("looking into it".into()),
        who: "alice".into(),
    })
    .await;
    let ack = run
        .until(
            Duration::from_secs(30),
            "the acknowledgement",
            |e, _| match e {
                Event::Acknowledged(a) => Some(a.clone()),
                _ => None,
            },
        )
        .await;
    assert_eq!(
        (ack.who.as_str(), ack.episode),
        ("alice", firing.state_updated)
    );
    run.until(Duration::from_secs(30), "the acknowledged view", |e, _| {
        alarms_of(e)?
            .iter()
            .find(|a| a.definition.name == name && a.acknowledgement.as_ref() == Some(&ack))
            .map(|_| ())
    })
    .await;
    // Announced on the alarm's topic, and delivered back to watchband's queue.
    let topic = &firing.definition.alarm_actions[0];
    assert!(
        cloud
            .published_messages()
            .iter()
            .any(|p| &p.topic_arn == topic && p.message.contains("acknowledged by alice")),
        "the acknowledgement was not published on {topic}"
    );
    run.until(
        Duration::from_secs(60),
        "the announcement as a notification",
        |e, _| match e {
            Event::Notification(n) if n.message.contains("acknowledged by alice") => Some(()),
            _ => None,
        },
    )
    .await;
    drop(run);

    // A restart finds the acknowledgement in the store.
    let mut again = start(
        cloud.clone(),
        Some(Arc::new(Store::open(&path).unwrap())),
        config(),
    );
    again
        .until(
            Duration::from_secs(30),
            "the acknowledgement after a restart",
            |e, _| {
                alarms_of(e)?
                    .iter()
                    .find(|a| a.definition.name == name && a.acknowledgement.as_ref() == Some(&ack))
                    .map(|_| ())
            },
        )
        .await;
    // The anomaly ends, the alarm leaves ALARM, and the acknowledgement with it.
    let ticker = tick(cloud.clone(), Duration::from_secs(120));
    let ok = again
        .until(Duration::from_secs(900), "the alarm back to OK", |e, _| {
            alarms_of(e)?
                .iter()
                .find(|a| a.definition.name == name && a.state != AlarmState::Alarm)
                .cloned()
        })
        .await;
    ticker.abort();
    assert!(ok.acknowledgement.is_none());

    // Acknowledging an alarm that is not in ALARM is refused with the reason.
    again
        .send(Command::Acknowledge {
            alarm_name: name.clone(),
            note: None,
            who: "alice".into(),
        })
        .await;
    let o = again
        .until(Duration::from_secs(30), "the refusal", |e, _| match e {
            Event::Outcome(o) if o.command == "acknowledge" => Some(o.clone()),
            _ => None,
        })
        .await;
    assert!(
        !o.ok && o.message.contains("only an alarm in ALARM"),
        "{o:?}"
    );
}
