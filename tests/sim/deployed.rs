//! The demo account with watchband's processors deployed as its functions: AWS Backup's events
//! reach the EventBridge rule's queue, the backup processor counts, publishes, alarms and
//! judges; the stream processor fills the anomaly table and the alert topic; the metric scorer
//! writes its indicator series. Nothing is emulated: without the functions, nothing happens.
//!
//! The tokio clock is paused and the account runs at 3,600×, so a test second is a simulated
//! hour and `sleep` moves both.

use crate::support;
use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::sim::{SimCloud, SimOptions};
use watchband::cloud::{AlarmFilter, AlarmState, AttrValue, Cloud, MetricId, Query};
use watchband::interop;
use watchband::processors::deployed::{self, Deployment, Functions};

fn account() -> (Arc<SimCloud>, Arc<dyn Cloud>) {
    let sim = SimCloud::new(SimOptions {
        seed: 7,
        ..SimOptions::default()
    });
    let cloud: Arc<dyn Cloud> = sim.clone();
    (sim, cloud)
}

fn backup_only() -> Deployment {
    Deployment {
        stream: None,
        scored_metrics: Vec::new(),
        ..Deployment::default()
    }
}

/// Sleeps in steps until `done` holds or `limit` simulated hours pass.
async fn wait_for(functions: &Functions, hours: u64, mut done: impl FnMut(&Functions) -> bool) {
    for _ in 0..hours * 4 {
        if done(functions) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "not done after {hours} simulated hours: {:?}",
        functions.stats()
    );
}

async fn alarm(cloud: &dyn Cloud, name: &str) -> Option<watchband::cloud::Alarm> {
    cloud
        .describe_alarms(AlarmFilter {
            names: vec![name.to_string()],
            name_prefix: None,
        })
        .await
        .unwrap()
        .pop()
}

#[tokio::test(start_paused = true)]
async fn without_functions_backups_only_queue_their_events() {
    let (sim, cloud) = account();
    tokio::time::sleep(Duration::from_secs(40)).await;
    let newest = interop::backup_alarm_name(sim.volume_arns().last().unwrap());
    assert!(
        alarm(cloud.as_ref(), &newest).await.is_none(),
        "no function: nobody creates the alarm"
    );
    let queue = cloud
        .create_queue(interop::BACKUP_EVENTS_QUEUE)
        .await
        .unwrap();
    let msgs = cloud.receive_messages(&queue, 10, 0).await.unwrap();
    assert!(!msgs.is_empty(), "the rule delivered the completed jobs");
    let event = interop::parse_backup_event(&msgs[0].body)
        .unwrap()
        .expect("a Backup Job State Change event for a completed EBS job");
    assert!(sim.volume_arns().contains(&event.volume_arn));
    assert!(event.snapshot_id.starts_with("snap-"));
}

#[tokio::test(start_paused = true)]
async fn backup_function_creates_alarms_counts_and_catches_the_burst() {
    let (sim, cloud) = account();
    let functions = deployed::spawn(cloud.clone(), backup_only());
    let arns = sim.volume_arns();
    let volumes = arns.len() as u64;

    // The newest volume's first backup (about 36 simulated hours in): first sighting.
    wait_for(&functions, 48, |f| {
        let s = f.stats();
        s.backup_first_sightings == 1 && s.backup_counted >= 2 * (volumes - 1)
    })
    .await;
    let stats = functions.stats();
    assert!(
        stats.backup_counted >= volumes - 1,
        "every other volume's daily backup was counted: {stats:?}"
    );

    // The table keeps each volume's newest snapshot.
    let item = cloud
        .get_item(interop::BACKUP_TABLE, {
            let mut k = watchband::cloud::Item::new();
            k.insert("arn".into(), AttrValue::S(arns[0].clone()));
            k
        })
        .await
        .unwrap()
        .expect("row");
    assert!(item.get("snapshot").and_then(AttrValue::as_s).is_some());

    // The encryption burst's backup: counted, judged anomalous, announced, alarmed. (Seed
    // 001's band is 2σ wide, so ordinary days are sometimes flagged as well; the burst must be.)
    let (burst_arn, _) = sim.bursts()[0].clone();
    let volume_id = interop::volume_id_in(&burst_arn).unwrap().to_string();
    let verdict = |p: &watchband::cloud::sim::Publication| {
        p.subject
            .as_deref()
            .is_some_and(|s| s.starts_with("Backup anomaly:") && s.contains(&volume_id))
    };
    wait_for(&functions, 40, |_| {
        sim.published_messages().iter().any(verdict)
    })
    .await;
    let name = interop::backup_alarm_name(&burst_arn);
    let mut state = AlarmState::InsufficientData;
    for _ in 0..20 {
        state = alarm(cloud.as_ref(), &name).await.unwrap().state;
        if state == AlarmState::Alarm {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, AlarmState::Alarm, "CloudWatch's band agrees");
    let topic = alarm(cloud.as_ref(), &name)
        .await
        .unwrap()
        .definition
        .alarm_actions[0]
        .clone();
    let published = sim.published_messages();
    let mine = published.iter().find(|p| verdict(p)).unwrap();
    assert_eq!(
        mine.topic_arn, topic,
        "the verdict goes to the backup topic"
    );
    assert!(
        published.iter().any(|p| p.topic_arn == topic
            && p.subject.as_deref().is_some_and(|s| s.starts_with("ALARM"))
            && p.message.contains(&volume_id)),
        "and CloudWatch's alarm notification"
    );
    let stats = functions.stats();
    assert_eq!(stats.backup_retried, 0, "{stats:?}");
    assert_eq!(stats.last_error, None);
}

#[tokio::test(start_paused = true)]
async fn stream_function_stores_and_announces_the_anomalies_it_reads() {
    let (sim, cloud) = account();
    let functions = deployed::spawn(
        cloud.clone(),
        Deployment {
            scored_metrics: Vec::new(),
            ..Deployment::default()
        },
    );
    // A producer's hot reading among the world's, a simulated hour after the mapping started.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let hot = support::pipeline::put_reading(cloud.as_ref(), "DHT_002", 104.2).await;
    // Three simulated hours of four devices at 1 Hz in all.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats = functions.stats();
    assert!(
        stats.stream.records > 20_000,
        "read from LATEST on: {stats:?}"
    );
    assert!(stats.stream.rejected > 0, "malformed records are counted");
    assert!(stats.stream.anomalies >= 1, "the hot reading: {stats:?}");
    let mut rows = 0;
    for d in 1..=4 {
        rows += cloud
            .query(Query {
                table: interop::TEMPERATURE_TABLE.into(),
                hash_key: "deviceid".into(),
                hash_value: AttrValue::S(format!("DHT_{d:03}")),
                limit: None,
                newest_first: false,
            })
            .await
            .unwrap()
            .len() as u64;
    }
    assert_eq!(
        rows, stats.stream.anomalies,
        "one row per anomaly: {stats:?}"
    );
    let alerts = sim
        .published_messages()
        .iter()
        .filter(|p| p.topic_arn.ends_with(interop::TEMPERATURE_TOPIC))
        .count() as u64;
    assert_eq!(alerts, stats.stream.anomalies, "one alert per anomaly");
    let row = cloud
        .query(Query {
            table: interop::TEMPERATURE_TABLE.into(),
            hash_key: "deviceid".into(),
            hash_value: AttrValue::S("DHT_002".into()),
            limit: None,
            newest_first: false,
        })
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.get("timestamp").and_then(AttrValue::as_s) == Some(hot.timestamp.as_str()))
        .expect("the hot reading's row");
    assert_eq!(
        row.get("anomalyType").and_then(AttrValue::as_s),
        Some("Hot")
    );
}

#[tokio::test(start_paused = true)]
async fn metric_function_writes_the_indicator_series() {
    let (_sim, cloud) = account();
    let functions = deployed::spawn(
        cloud.clone(),
        Deployment {
            stream: None,
            ..Deployment::default()
        },
    );
    wait_for(&functions, 2, |f| f.stats().metric_runs >= 3).await;
    let indicators: Vec<MetricId> = cloud
        .list_metrics(
            Some("Watchband/AWS/EC2"),
            Some("CPUUtilizationAnomalyIndicator"),
        )
        .await
        .unwrap();
    assert_eq!(indicators.len(), 3, "one per instance: {indicators:?}");
}
