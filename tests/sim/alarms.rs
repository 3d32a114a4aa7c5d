//! The simulated account's alarm evaluation against CloudWatch's documented rules: how each
//! TreatMissingData setting treats a metric that stops reporting, the two tables of "How alarm
//! state is evaluated when data is missing", and band alarms creating their anomaly detector.

use crate::support::sim::paused;
use std::time::Duration;
use watchband::cloud::sim::SimCloud;
use watchband::cloud::{
    AlarmDefinition, AlarmFilter, AlarmMetric, AlarmState, Cloud, ComparisonOperator, MetricDatum,
    MetricId, Time, TreatMissingData,
};
use watchband::interop;

const MINUTE: Duration = Duration::from_secs(60);
const NS: &str = "Test";
const TREATMENTS: [TreatMissingData; 4] = [
    TreatMissingData::Missing,
    TreatMissingData::Ignore,
    TreatMissingData::Breaching,
    TreatMissingData::NotBreaching,
];

/// `name > 10` (Sum over 60 s), N evaluation periods, M datapoints to alarm.
fn static_alarm(
    name: &str,
    metric: &str,
    n: i32,
    m: i32,
    treat: TreatMissingData,
) -> AlarmDefinition {
    AlarmDefinition {
        name: name.into(),
        description: None,
        actions_enabled: false,
        alarm_actions: vec![],
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        metric: AlarmMetric::Single {
            metric: MetricId::new(NS, metric, &[]),
            stat: "Sum".into(),
            period: 60,
        },
        comparison: ComparisonOperator::GreaterThanThreshold,
        threshold: Some(10.0),
        threshold_metric_id: None,
        evaluation_periods: n,
        datapoints_to_alarm: Some(m),
        treat_missing_data: treat,
    }
}

async fn put(cloud: &SimCloud, metric: &str, at: Time, value: f64) {
    cloud
        .put_metric_data(
            NS,
            vec![MetricDatum {
                metric_name: metric.into(),
                dimensions: vec![],
                timestamp: at,
                value,
                unit: None,
                storage_resolution: None,
            }],
        )
        .await
        .unwrap();
}

async fn state(cloud: &SimCloud, name: &str) -> (AlarmState, String) {
    let a = cloud
        .describe_alarms(AlarmFilter {
            names: vec![name.into()],
            name_prefix: None,
        })
        .await
        .unwrap()
        .remove(0);
    (a.state, a.state_reason)
}

fn name_of(t: TreatMissingData) -> String {
    format!("heartbeat-{}", t.as_aws())
}

/// One alarm per setting on a metric reported every minute, which then stops: `missing` goes
/// to INSUFFICIENT_DATA, `breaching` to ALARM, `notBreaching` to OK, `ignore` stays where it
/// was — once the last datapoint has left the evaluation range (3 periods for N = 1), not
/// before.
#[tokio::test]
async fn a_metric_that_stops_reporting_under_each_treatment() {
    let cloud = paused(3);
    // Evaluated on creation with nothing in range: the empty range is filled too.
    let created = [
        AlarmState::InsufficientData,
        AlarmState::InsufficientData,
        AlarmState::Alarm,
        AlarmState::Ok,
    ];
    for (t, want) in TREATMENTS.into_iter().zip(created) {
        cloud
            .put_metric_alarm(static_alarm(&name_of(t), "Beats", 1, 1, t))
            .await
            .unwrap();
        assert_eq!(state(&cloud, &name_of(t)).await.0, want, "{t:?}");
    }
    // Phase 1: good values for 5 minutes, then silence. Phase 2: bad values, then silence.
    for (value, settled) in [
        (
            3.0,
            [
                AlarmState::InsufficientData,
                AlarmState::Ok,
                AlarmState::Alarm,
                AlarmState::Ok,
            ],
        ),
        (
            30.0,
            [
                AlarmState::InsufficientData,
                AlarmState::Alarm,
                AlarmState::Alarm,
                AlarmState::Ok,
            ],
        ),
    ] {
        for _ in 0..5 {
            put(&cloud, "Beats", cloud.now(), value).await;
            cloud.advance(MINUTE);
        }
        let reporting = if value > 10.0 {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        for t in TREATMENTS {
            assert_eq!(state(&cloud, &name_of(t)).await.0, reporting, "{t:?}");
        }
        // The last datapoint's period ended one minute ago; it stays in the 3-period range for
        // two more evaluations, during which nothing changes.
        for _ in 0..2 {
            cloud.advance(MINUTE);
            for t in TREATMENTS {
                assert_eq!(
                    state(&cloud, &name_of(t)).await.0,
                    reporting,
                    "{t:?} while the last datapoint is in range"
                );
            }
        }
        cloud.advance(MINUTE);
        for (t, want) in TREATMENTS.into_iter().zip(settled) {
            let (got, reason) = state(&cloud, &name_of(t)).await;
            assert_eq!(got, want, "{t:?} after the metric stopped: {reason}");
            match t {
                TreatMissingData::Missing => {
                    assert_eq!(reason, "Insufficient Data: 1 datapoint was unknown.")
                }
                TreatMissingData::Breaching if value < 10.0 => {
                    assert!(reason.contains("treated as [Breaching]"), "{reason}")
                }
                TreatMissingData::NotBreaching if value > 10.0 => {
                    assert!(reason.contains("treated as [NonBreaching]"), "{reason}")
                }
                _ => {}
            }
        }
        // Silence goes on: nothing changes any more.
        cloud.advance(MINUTE * 30);
        for (t, want) in TREATMENTS.into_iter().zip(settled) {
            assert_eq!(state(&cloud, &name_of(t)).await.0, want, "{t:?} later");
        }
    }
    // `ignore` never left OK in phase 1 nor ALARM in phase 2; `missing` went through
    // INSUFFICIENT_DATA twice.
    let history = cloud
        .describe_alarm_history(&name_of(TreatMissingData::Missing), 50)
        .await
        .unwrap();
    let to_insufficient = history
        .iter()
        .filter(|h| h.summary.ends_with("to INSUFFICIENT_DATA"))
        .count();
    assert_eq!(to_insufficient, 2, "{history:#?}");
}

/// CloudWatch's two example tables: 5 datapoints retrieved (oldest first; `0` not breaching,
/// `X` breaching, `-` missing), the state each treatment leads to. The `ignore` alarms were
/// set to OK beforehand, so "retain current state" shows as OK, not INSUFFICIENT_DATA.
#[tokio::test]
async fn the_documented_missing_data_tables() {
    use AlarmState::{Alarm as A, InsufficientData as I, Ok as O};
    // (M, N, datapoints, [missing, ignore, breaching, notBreaching])
    let rows: [(i32, i32, &str, [AlarmState; 4]); 10] = [
        (3, 3, "0-X-X", [O, O, O, O]),
        (3, 3, "0----", [O, O, O, O]),
        (3, 3, "-----", [I, O, A, O]),
        (3, 3, "0XX-X", [A, A, A, A]),
        (3, 3, "----X", [I, O, A, O]),
        (2, 3, "0-X-X", [A, A, A, A]),
        (2, 3, "00X0X", [A, A, A, A]),
        (2, 3, "0-X--", [O, O, A, O]),
        (2, 3, "----0", [O, O, A, O]),
        (2, 3, "----X", [I, O, A, O]),
    ];
    let cloud = paused(3);
    let name = |r: usize, t: TreatMissingData| format!("table-{r}-{}", t.as_aws());
    let metric = |r: usize, t: TreatMissingData| format!("Row{r}{}", t.as_aws());
    for (r, (m, n, _, _)) in rows.iter().enumerate() {
        for t in TREATMENTS {
            cloud
                .put_metric_alarm(static_alarm(&name(r, t), &metric(r, t), *n, *m, t))
                .await
                .unwrap();
            if t == TreatMissingData::Ignore {
                cloud
                    .set_alarm_state(&name(r, t), AlarmState::Ok, "a known state to retain")
                    .await
                    .unwrap();
            }
        }
    }
    for i in 0..5 {
        for (r, (_, _, points, _)) in rows.iter().enumerate() {
            let value = match points.as_bytes()[i] {
                b'0' => 1.0,
                b'X' => 100.0,
                _ => continue,
            };
            for t in TREATMENTS {
                put(&cloud, &metric(r, t), cloud.now(), value).await;
            }
        }
        cloud.advance(MINUTE);
    }
    for (r, (m, n, points, want)) in rows.iter().enumerate() {
        for (t, want) in TREATMENTS.into_iter().zip(want) {
            let (got, reason) = state(&cloud, &name(r, t)).await;
            assert_eq!(got, *want, "{m} of {n}, {points}, {}: {reason}", t.as_aws());
        }
    }
}

/// The second row of the first table, one step on: once the one good datapoint leaves the
/// range, `breaching` fills all three periods and the alarm goes to ALARM.
#[tokio::test]
async fn breaching_fills_only_once_the_real_datapoints_are_gone() {
    let cloud = paused(3);
    put(&cloud, "Lonely", cloud.now(), 1.0).await;
    cloud
        .put_metric_alarm(static_alarm(
            "lonely",
            "Lonely",
            3,
            3,
            TreatMissingData::Breaching,
        ))
        .await
        .unwrap();
    let mut states = Vec::new();
    for _ in 0..8 {
        cloud.advance(MINUTE);
        states.push(state(&cloud, "lonely").await.0);
    }
    // The datapoint's period ends after 1 minute; it is in the 5-period range until minute 5.
    use AlarmState::{Alarm as A, Ok as O};
    assert_eq!(states, [O, O, O, O, O, A, A, A], "{states:?}");
}

/// PutMetricAlarm on an `ANOMALY_DETECTION_BAND` creates the anomaly detector of the alarm's
/// metric and statistic when there is none (so DescribeAnomalyDetectors lists it and a client
/// that asks for bands only where a detector exists gets one); an existing detector keeps its
/// configuration; deleting the alarm leaves the detector.
#[tokio::test]
async fn a_band_alarm_creates_its_anomaly_detector() {
    let cloud = paused(3);
    let cpu = cloud
        .list_metrics(Some("AWS/EC2"), Some("CPUUtilization"))
        .await
        .unwrap();
    let (a, b) = (cpu[0].clone(), cpu[2].clone());
    assert!(
        cloud
            .describe_anomaly_detectors(Some(&a))
            .await
            .unwrap()
            .is_empty()
    );

    let def = interop::anomaly_alarm_definition(
        "cpu-band-a",
        a.clone(),
        "Average",
        300,
        2.0,
        1,
        "arn:aws:sns:us-east-1:123456789012:cpu-utilization-alerts",
    );
    cloud.put_metric_alarm(def).await.unwrap();
    let dets = cloud.describe_anomaly_detectors(Some(&a)).await.unwrap();
    assert_eq!(dets.len(), 1, "{dets:?}");
    assert_eq!(dets[0].metric, a);
    assert_eq!(dets[0].stat, "Average");
    assert!(dets[0].excluded.is_empty() && !dets[0].periodic_spikes);
    assert_eq!(
        dets[0].state.as_deref(),
        Some("TRAINED"),
        "35 days of history"
    );
    assert!(
        cloud
            .describe_anomaly_detectors(Some(&b))
            .await
            .unwrap()
            .is_empty(),
        "only the alarm's metric"
    );

    // The band a client asks for with the detector's statistic.
    let now = cloud.now();
    let res = cloud
        .get_metric_data(bands_request(&a, &dets[0].stat, now))
        .await
        .unwrap();
    let lower = res
        .iter()
        .find(|r| r.id == "ad1" && r.label.ends_with("Lower"))
        .unwrap();
    assert!(
        lower.values.len() >= 200,
        "a day of 5-minute bands: {}",
        lower.values.len()
    );

    // A detector put before the alarm is not replaced by the alarm's default one.
    let mut own = dets[0].clone();
    own.metric = b.clone();
    own.periodic_spikes = true;
    own.excluded = vec![(
        now - chrono::Duration::days(3),
        now - chrono::Duration::days(2),
    )];
    own.state = None;
    cloud.put_anomaly_detector(own).await.unwrap();
    let def = interop::anomaly_alarm_definition(
        "cpu-band-b",
        b.clone(),
        "Average",
        300,
        2.0,
        1,
        "arn:aws:sns:us-east-1:123456789012:cpu-utilization-alerts",
    );
    cloud.put_metric_alarm(def).await.unwrap();
    let dets_b = cloud.describe_anomaly_detectors(Some(&b)).await.unwrap();
    assert_eq!(dets_b.len(), 1);
    assert!(dets_b[0].periodic_spikes && dets_b[0].excluded.len() == 1);

    // A static alarm creates none; deleting the band alarm keeps its detector.
    assert!(
        cloud
            .describe_anomaly_detectors(Some(&cpu[1]))
            .await
            .unwrap()
            .is_empty(),
        "the static CloudWatch alarm's static alarm watches cpu[1]"
    );
    cloud.delete_alarms(&["cpu-band-a".into()]).await.unwrap();
    assert_eq!(
        cloud
            .describe_anomaly_detectors(Some(&a))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(cloud.describe_anomaly_detectors(None).await.unwrap().len() >= 2);
}

/// The changed-block pipeline's deployed function creates each volume's band alarm, so each backed-up volume's
/// metric has its detector (on AWS the alarm's creation makes it).
#[tokio::test]
async fn backup_pipeline_alarms_have_their_detectors() {
    let cloud = paused(3);
    let alarms = cloud
        .describe_alarms(AlarmFilter {
            names: vec![],
            name_prefix: Some(interop::BACKUP_ALARM_PREFIX.into()),
        })
        .await
        .unwrap();
    assert!(!alarms.is_empty());
    for a in alarms {
        let AlarmMetric::Queries(qs) = &a.definition.metric else {
            panic!("{} is a band alarm", a.definition.name)
        };
        let metric = qs
            .iter()
            .find_map(|q| match &q.kind {
                watchband::cloud::MetricQueryKind::Stat { metric, .. } => Some(metric.clone()),
                _ => None,
            })
            .unwrap();
        let dets = cloud
            .describe_anomaly_detectors(Some(&metric))
            .await
            .unwrap();
        assert_eq!(dets.len(), 1, "{}", a.definition.name);
        assert_eq!(dets[0].stat, "Maximum");
    }
}

fn bands_request(metric: &MetricId, stat: &str, now: Time) -> watchband::cloud::GetMetricData {
    use watchband::cloud::{GetMetricData, MetricQuery};
    GetMetricData {
        queries: vec![
            MetricQuery::stat("m1", metric.clone(), 300, stat),
            MetricQuery::expression("ad1", interop::band_expression("m1", 2.0)),
        ],
        start: now - chrono::Duration::days(1),
        end: now,
    }
}
