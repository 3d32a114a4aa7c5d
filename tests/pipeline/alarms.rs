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
/// The simulated account's caller identity.
const DEMO_CALLER: &str = "arn:aws:iam::123456789012:user/demo";

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
        snooze_until: None,
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
    // Who is the caller identity (STS), not $USER.
    assert_eq!(
        (ack.who.as_str(), ack.episode, ack.shared),
        (DEMO_CALLER, firing.state_updated, true)
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
            .any(|p| &p.topic_arn == topic
                && p.message
                    .contains(&format!("acknowledged by {DEMO_CALLER}"))),
        "the acknowledgement was not published on {topic}"
    );
    run.until(
        Duration::from_secs(60),
        "the announcement as a notification",
        |e, _| match e {
            Event::Notification(n) if n.message.contains(DEMO_CALLER) => Some(()),
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
            snooze_until: None,
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

/// The acknowledgement of `name` in an `Alarms` event, when the alarm is listed.
fn ack_in(e: &Event, name: &str) -> Option<Option<watchband::pipeline::Acknowledgement>> {
    alarms_of(e)?
        .iter()
        .find(|a| a.definition.name == name)
        .map(|a| a.acknowledgement.clone())
}

#[tokio::test(start_paused = true)]
async fn another_watchbands_acknowledgement_and_its_withdrawal_show_within_10_s() {
    let cloud = paused(7);
    cloud.advance(30 * HOUR);
    // Two watchbands on one account, each with its own store (two machines).
    let dir = tempfile::tempdir().unwrap();
    let store = |n: &str| Some(Arc::new(Store::open(dir.path().join(n)).unwrap()));
    let mut a = start(cloud.clone(), store("a.db"), config());
    let mut b = start(cloud.clone(), store("b.db"), config());
    // The clock runs until the static alarm fires, then stands still (an episode at an hour
    // per second lasts seconds).
    let ticker = tick(cloud.clone(), Duration::from_secs(60));
    let firing = a
        .until(Duration::from_secs(600), "an alarm in ALARM", |e, _| {
            alarms_of(e)?
                .iter()
                .find(|x| {
                    x.definition.name.starts_with("cpu-high-") && x.state == AlarmState::Alarm
                })
                .cloned()
        })
        .await;
    ticker.abort();
    let name = firing.definition.name.clone();
    b.until(Duration::from_secs(30), "B's first list", |e, _| {
        ack_in(e, &name)
    })
    .await;
    let snooze = cloud.now() + chrono::Duration::hours(2);
    a.send(Command::Acknowledge {
        alarm_name: name.clone(),
        note: Some("looking at it".into()),
        snooze_until: Some(snooze),
    })
    .await;
    // B, which never acknowledged anything, shows A's acknowledgement within 10 s.
    let seen = b
        .until(
            Duration::from_secs(10),
            "A's acknowledgement on B",
            |e, _| ack_in(e, &name).flatten(),
        )
        .await;
    assert_eq!(seen.who, DEMO_CALLER);
    assert_eq!(seen.note.as_deref(), Some("looking at it"));
    assert_eq!(seen.snooze_until, Some(snooze));
    assert_eq!(seen.episode, firing.state_updated);

    // A second acknowledgement of the episode is refused, naming the first.
    b.send(Command::Acknowledge {
        alarm_name: name.clone(),
        note: Some("me too".into()),
        snooze_until: None,
    })
    .await;
    let refused = b
        .until(Duration::from_secs(10), "the refusal", |e, _| match e {
            Event::Outcome(o) if o.command == "acknowledge" => Some(o.clone()),
            _ => None,
        })
        .await;
    assert!(!refused.ok, "{refused:?}");
    assert!(
        refused
            .message
            .contains(&format!("acknowledged by {DEMO_CALLER}"))
            && refused.message.contains("looking at it"),
        "{refused:?}"
    );

    // The author (the same identity on B) withdraws it; A shows that within 10 s.
    b.send(Command::Withdraw {
        alarm_name: name.clone(),
        force: false,
    })
    .await;
    let o = b
        .until(Duration::from_secs(10), "the withdrawal", |e, _| match e {
            Event::Outcome(o) if o.command == "withdraw acknowledgement" => Some(o.clone()),
            _ => None,
        })
        .await;
    assert!(o.ok, "{o:?}");
    a.until(Duration::from_secs(10), "the withdrawal on A", |e, _| {
        ack_in(e, &name).filter(Option::is_none)
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn read_only_shows_acknowledgements_and_makes_none() {
    let cloud = paused(7);
    cloud.advance(30 * HOUR);
    let mut rw = start(cloud.clone(), None, config());
    let mut ro = start(
        cloud.clone(),
        None,
        watchband::pipeline::PipelineConfig {
            read_only: true,
            ..config()
        },
    );
    let ticker = tick(cloud.clone(), Duration::from_secs(60));
    let name = rw
        .until(Duration::from_secs(600), "an alarm in ALARM", |e, _| {
            alarms_of(e)?
                .iter()
                .find(|x| {
                    x.definition.name.starts_with("cpu-high-") && x.state == AlarmState::Alarm
                })
                .map(|x| x.definition.name.clone())
        })
        .await;
    ticker.abort();
    for c in [
        Command::Acknowledge {
            alarm_name: name.clone(),
            note: None,
            snooze_until: None,
        },
        Command::Withdraw {
            alarm_name: name.clone(),
            force: true,
        },
        Command::CreateAckTable,
    ] {
        ro.send(c).await;
        let o = ro
            .until(Duration::from_secs(10), "the refusal", |e, _| match e {
                Event::Outcome(o) => Some(o.clone()),
                _ => None,
            })
            .await;
        assert!(!o.ok && o.message.contains("--read-only"), "{o:?}");
    }
    rw.send(Command::Acknowledge {
        alarm_name: name.clone(),
        note: Some("mine".into()),
        snooze_until: None,
    })
    .await;
    let seen = ro
        .until(
            Duration::from_secs(10),
            "the acknowledgement, shown",
            |e, _| ack_in(e, &name).flatten(),
        )
        .await;
    assert_eq!(seen.note.as_deref(), Some("mine"));
}
