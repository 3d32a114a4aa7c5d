//! The simulated account's alarm evaluation against CloudWatch's documented rules: how each
//! TreatMissingData setting treats a metric that stops reporting, the two tables of "How alarm
//! state is evaluated when data is missing", and band alarms creating their anomaly detector.

use std::sync::Arc;
use std::time::Duration;
use watchband::cloud::sim::{SimCloud, SimOptions};
use watchband::cloud::{
    AlarmDefinition, AlarmFilter, AlarmMetric, AlarmState, Cloud, ComparisonOperator, MetricDatum,
    MetricId, Time, TreatMissingData,
};

const MINUTE: Duration = Duration::from_secs(60);
const NS: &str = "Test";
const TREATMENTS: [TreatMissingData; 4] = [
    TreatMissingData::Missing,
    TreatMissingData::Ignore,
    TreatMissingData::Breaching,
    TreatMissingData::NotBreaching,
];

fn paused() -> Arc<SimCloud> {
    SimCloud::new(SimOptions {
        seed: 3,
        paused: true,
        ..SimOptions::default()
    })
}

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
    let cloud = paused();
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
    let cloud = paused();
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
    let cloud = paused();
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
