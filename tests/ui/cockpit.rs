//! The operator's cockpit (issue 15): the Overview's problems, readable and selectable events,
//! sort and filter, charts' range and axis, the alarm form's safety, small screens, the mouse,
//! units and words. Each test drives `update` on the fixture and reads the state or the screen.

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::{Terminal, backend::TestBackend};
use watchband::app::fixture;
use watchband::app::state::{AppState, Modal, View};
use watchband::app::{Effect, Input, update};
use watchband::cloud::AlarmState;
use watchband::pipeline::{AlarmView, Command, Event, SnsNotification};

use super::screens::screen;
use super::update::{key, keys};

fn click(s: &mut AppState, column: u16, row: u16) {
    update(
        s,
        Input::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }),
    );
}

/// The `n`th (from 0) line of a drawn screen that `pred` holds of, with its row: where a
/// click must land to hit it.
fn nth_row<'a>(
    screen: &'a str,
    n: usize,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> (u16, &'a str) {
    let (y, line) = screen
        .lines()
        .enumerate()
        .filter(|(_, l)| pred(l))
        .nth(n)
        .unwrap_or_else(|| panic!("no {what} on the screen:\n{screen}"));
    (y as u16, line)
}

/// The rows of a table in the order a `visible_*` list gives (indices into `all`: a `Vec` or
/// a `VecDeque`).
fn in_order<T: Clone>(order: &[usize], all: &impl std::ops::Index<usize, Output = T>) -> Vec<T> {
    order.iter().map(|&i| all[i].clone()).collect()
}

// ---------------------------------------------------------------- 1. problems

#[test]
fn the_overview_lists_problems_by_name_worst_first_and_enter_goes_there() {
    let mut s = fixture::state();
    let problems = s.problems();
    assert!(problems.len() >= 2, "{problems:?}");
    assert_eq!(problems[0].kind, "ALARM", "{problems:?}");
    assert!(problems.windows(2).all(|w| w[0].severity <= w[1].severity));
    // by name, not by ARN
    for p in &problems {
        assert!(!p.name.contains("arn:"), "{p:?}");
    }
    let text = screen(&s, 80, 24);
    assert!(text.contains(&problems[0].name), "{text}");
    let alarm = match &problems[0].target {
        watchband::app::problems::Target::Alarm(name) => name.clone(),
        other => panic!("{other:?}"),
    };
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.view, View::Alarms);
    assert!(s.detail);
    assert_eq!(s.selected_alarm().unwrap().name, alarm);
}

#[test]
fn a_volume_problem_jumps_to_the_volume() {
    let mut s = fixture::state();
    let i = s
        .problems()
        .iter()
        .position(|p| p.kind == "ANOMALY")
        .expect("the fixture has an anomalous volume");
    for _ in 0..i {
        keys(&mut s, "j");
    }
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.view, View::Backups);
    assert!(s.detail);
    assert_eq!(
        s.selected_volume().unwrap().verdict(),
        watchband::app::state::VolumeVerdict::Anomalous
    );
}

#[test]
fn problems_stay_until_acknowledged_not_until_they_scroll_away() {
    let mut s = fixture::state();
    let before = s.problems().len();
    for i in 0..1_000 {
        s.log(
            watchband::app::state::EventKind::Backup,
            format!("backup {i}"),
        );
    }
    assert_eq!(
        s.problems().len(),
        before,
        "events do not push problems out"
    );
    // Acknowledging the alarm resolves its problem.
    let a = s
        .alarms
        .iter()
        .find(|a| a.needs_attention())
        .unwrap()
        .clone();
    let now = s.now;
    update(
        &mut s,
        Input::Event(Event::Acknowledged(watchband::pipeline::Acknowledgement {
            alarm_name: a.name.clone(),
            episode: a.since,
            who: "alice".into(),
            note: None,
            at: now,
            snooze_until: None,
            shared: true,
        })),
    );
    assert_eq!(s.problems().len(), before - 1);
    assert!(s.problems().iter().all(|p| p.kind != "ALARM"));
}

// ---------------------------------------------------------------- 2. events

#[test]
fn events_are_selectable_with_their_full_text_and_name_the_volume_first() {
    let mut s = fixture::state();
    let a = s
        .alarms
        .iter()
        .find(|a| a.state == AlarmState::Ok && a.name.starts_with("Backup-Anomaly-Alarm/"))
        .unwrap()
        .clone();
    let vol = s
        .volumes
        .iter()
        .find(|v| a.name.ends_with(&v.arn))
        .unwrap()
        .clone();
    let view = AlarmView {
        arn: a.arn.clone(),
        definition: a.definition.clone(),
        state: AlarmState::Alarm,
        reason: "Threshold Crossed: 1 datapoint was greater than the band".into(),
        state_updated: s.now,
        acknowledgement: None,
        volume_arn: None,
        snoozed_until: None,
    };
    let others: Vec<AlarmView> = vec![view];
    update(&mut s, Input::Event(Event::Alarms(others)));
    let last = s.events.back().unwrap().clone();
    assert!(
        last.text.starts_with(&vol.name),
        "the volume's name first: {}",
        last.text
    );
    assert!(!last.text.contains("arn:"), "{}", last.text);
    // Select the newest event (after the problems) and see it in full.
    let problems = s.problems().len();
    for _ in 0..problems {
        keys(&mut s, "j");
    }
    assert_eq!(s.selected_row(), problems);
    let text = screen(&s, 120, 40);
    assert!(text.contains("Selected"), "{text}");
    assert!(
        text.contains(&last.text),
        "full text in the detail pane:\n{text}"
    );
}

#[test]
fn outcomes_say_the_outcome_first_and_dialogs_name_the_volume() {
    let mut s = fixture::state();
    let v = s.volumes[0].clone();
    update(
        &mut s,
        Input::Event(Event::Outcome(watchband::pipeline::Outcome {
            command: "create alarm".into(),
            ok: false,
            message: format!("anomaly detector for BACKUP on {} refused", v.arn),
        })),
    );
    let text = &s.events.back().unwrap().text;
    assert!(text.starts_with("FAILED: create alarm"), "{text}");
    assert!(text.contains(&v.name) && !text.contains("arn:"), "{text}");
    // The acknowledge dialog names the volume.
    keys(&mut s, "4");
    let row = s
        .visible_alarms()
        .iter()
        .position(|&i| s.alarms[i].needs_attention())
        .unwrap();
    s.selected[View::Alarms.index()] = row;
    keys(&mut s, "x");
    assert!(matches!(s.modal, Some(Modal::Acknowledge { .. })));
    let alarm = s.selected_alarm().unwrap().name.clone();
    let named = s.name_things(&alarm);
    assert_ne!(named, alarm);
    assert!(screen(&s, 80, 24).contains(named.split(' ').next().unwrap()));
}

// ---------------------------------------------------------------- 3. sort and filter

#[test]
fn tables_sort_by_any_column_reverse_and_default_worst_first() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    let first = s.selected_volume().unwrap().clone();
    assert_eq!(
        first.verdict(),
        watchband::app::state::VolumeVerdict::Anomalous,
        "worst first by default"
    );
    keys(&mut s, "o"); // by name
    let names: Vec<String> = s
        .visible_volumes()
        .iter()
        .map(|&i| s.volumes[i].name.clone())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    keys(&mut s, "O");
    let rev: Vec<String> = s
        .visible_volumes()
        .iter()
        .map(|&i| s.volumes[i].name.clone())
        .collect();
    sorted.reverse();
    assert_eq!(rev, sorted);
    assert!(screen(&s, 160, 48).contains("by name ↑"));
}

#[test]
fn every_column_of_backups_and_alarms_sorts() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    keys(&mut s, "ooooooo"); // name … % , then snapshot
    assert!(screen(&s, 160, 48).contains("by snapshot"));
    let snaps: Vec<Option<String>> = s
        .visible_volumes()
        .iter()
        .map(|&i| s.volumes[i].last_snapshot.clone())
        .collect();
    assert!(snaps.windows(2).all(|w| w[0] <= w[1]), "{snaps:?}");
    keys(&mut s, "o"); // GiB, biggest first
    let gib: Vec<f64> = s
        .visible_volumes()
        .iter()
        .map(|&i| s.volumes[i].last_change().map(|c| c.1).unwrap_or(-1.0))
        .collect();
    assert!(gib.windows(2).all(|w| w[0] >= w[1]), "{gib:?}");
    keys(&mut s, "o"); // verdict
    let verdicts: Vec<&str> = s
        .visible_volumes()
        .iter()
        .map(|&i| s.volumes[i].verdict().label())
        .collect();
    assert!(verdicts.windows(2).all(|w| w[0] <= w[1]), "{verdicts:?}");
    keys(&mut s, "o"); // alarm state
    assert!(screen(&s, 160, 48).contains("by alarm"));
    let alarms: Vec<&str> = s
        .visible_volumes()
        .iter()
        .map(|&i| s.volumes[i].alarm.map(|a| a.as_aws()).unwrap_or("~"))
        .collect();
    assert!(alarms.windows(2).all(|w| w[0] <= w[1]), "{alarms:?}");
    keys(&mut s, "o");
    assert_eq!(
        s.sort_label(View::Backups),
        "",
        "the cycle comes back to worst first"
    );

    keys(&mut s, "4oooo"); // name, state, for, then ack
    let acked: Vec<bool> = s
        .visible_alarms()
        .iter()
        .map(|&i| s.alarms[i].ack.is_some())
        .collect();
    assert!(acked.contains(&true) && acked.contains(&false), "{acked:?}");
    assert!(
        acked.windows(2).all(|w| w[0] >= w[1]),
        "acknowledged first: {acked:?}"
    );
    keys(&mut s, "o"); // reason
    let reasons: Vec<String> = s
        .visible_alarms()
        .iter()
        .map(|&i| s.alarms[i].reason.clone())
        .collect();
    assert!(reasons.windows(2).all(|w| w[0] <= w[1]), "{reasons:?}");
    assert!(screen(&s, 160, 48).contains("by reason"));
}

#[test]
fn the_shards_and_the_snapshots_sort_like_the_other_tables() {
    let mut s = fixture::state();
    // Shards: worst first (rejected records or an old iterator), then any column.
    keys(&mut s, "3");
    let shards = |s: &AppState| in_order(&s.visible_shards(), &s.shards);
    let worst = shards(&s);
    assert!(worst.len() >= 2, "{worst:?}");
    assert!(
        worst
            .windows(2)
            .all(|w| (w[0].rejected > 0) >= (w[1].rejected > 0)),
        "{worst:?}"
    );
    let devices = s.visible_devices();
    keys(&mut s, "oooo"); // device, value, shard, rec/s
    let rate: Vec<f64> = shards(&s).iter().map(|x| x.records_per_sec).collect();
    assert!(rate.windows(2).all(|w| w[0] >= w[1]), "{rate:?}");
    assert_eq!(
        s.visible_devices(),
        devices,
        "a shard column leaves the devices alone"
    );
    keys(&mut s, "O");
    let rate: Vec<f64> = shards(&s).iter().map(|x| x.records_per_sec).collect();
    assert!(rate.windows(2).all(|w| w[0] <= w[1]), "{rate:?}");
    let text = screen(&s, 160, 48);
    assert!(text.contains("Shards · by rec/s ↑"), "{text}");
    assert!(!text.contains("Devices · by"), "{text}");
    keys(&mut s, "oo"); // iter. age, rejected
    let rejected: Vec<u64> = shards(&s).iter().map(|x| x.rejected).collect();
    assert!(rejected.windows(2).all(|w| w[0] >= w[1]), "{rejected:?}");

    // The anomaly pane: newest first by default, then by its own columns.
    let rows = (0..6)
        .map(|i| watchband::pipeline::TemperatureAnomaly {
            deviceid: format!("DHT_00{}", 3 - i % 3),
            anomaly_date: "2026-11-21".into(),
            timestamp: format!("2026-11-21 14:{i:02}:00"),
            value: 101.5 + ((i * 7) % 5) as f64,
            anomaly_type: if i % 2 == 0 { "Hot" } else { "Unusual" }.into(),
        })
        .collect();
    update(&mut s, Input::Event(Event::TemperatureAnomalies(rows)));
    let pane = |s: &AppState| -> Vec<watchband::app::state::StreamAnomaly> {
        s.visible_stream_anomalies()
            .iter()
            .map(|&i| s.stream_anomalies[i].clone())
            .collect()
    };
    keys(&mut s, "o"); // deviceid
    let ids: Vec<String> = pane(&s).iter().map(|a| a.deviceid.clone()).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "{ids:?}");
    assert_eq!(
        shards(&s),
        worst,
        "a pane column leaves the shards worst first"
    );
    keys(&mut s, "oo"); // timestamp, °F
    let values: Vec<f64> = pane(&s).iter().map(|a| a.value).collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    let text = screen(&s, 160, 48);
    assert!(text.contains("· by °F"), "{text}");
    keys(&mut s, "o"); // anomalyType
    keys(&mut s, "ooo"); // the rejected records' time and reason, then worst first again
    let arrived: Vec<usize> = (0..s.stream_anomalies.len()).rev().collect();
    assert_eq!(
        s.visible_stream_anomalies(),
        arrived,
        "newest arrived first"
    );

    // Snapshots, in the open volume: worst (anomalous) first, the newest selected on opening,
    // and `o` sorts the snapshots, not the volumes behind the detail.
    keys(&mut s, "2");
    key(&mut s, KeyCode::Enter);
    let v = s.selected_volume().unwrap().clone();
    let order = s.visible_snapshots();
    assert_eq!(order.len(), v.snapshots.len());
    let flags: Vec<bool> = order.iter().map(|&i| v.snapshots[i].anomalous).collect();
    assert!(
        flags.contains(&true),
        "the fixture's first volume has an anomaly"
    );
    assert!(flags.windows(2).all(|w| w[0] >= w[1]), "{flags:?}");
    assert_eq!(s.selected_snapshot(), Some(v.snapshots.len() - 1));
    keys(&mut s, "ooo"); // created, snapshot, changed
    assert_eq!(s.selected_volume().unwrap().arn, v.arn);
    let changed: Vec<Option<u64>> = s
        .visible_snapshots()
        .iter()
        .map(|&i| v.snapshots[i].changed_blocks)
        .collect();
    assert!(changed.windows(2).all(|w| w[0] >= w[1]), "{changed:?}");
    keys(&mut s, "O");
    let text = screen(&s, 160, 48);
    assert!(text.contains("· by changed ↑"), "{text}");
    // Neither the filter nor `!` re-chooses the volumes behind the open detail.
    keys(&mut s, "!/");
    assert!(!s.problems_only && !s.filter_editing);
    assert_eq!(s.selected_volume().unwrap().arn, v.arn);
    assert!(s.message.as_ref().unwrap().error);
    // The row selected is the snapshot `y` copies.
    let first = v.snapshots[s.visible_snapshots()[0]].id.clone();
    match keys(&mut s, "gy").as_slice() {
        [Effect::CopyToClipboard(arn)] => assert!(arn.ends_with(&first), "{arn} {first}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn problems_only_and_a_filter_over_every_column() {
    let mut s = fixture::state();
    keys(&mut s, "2!");
    let shown = s.visible_volumes();
    assert!(!shown.is_empty() && shown.len() < s.volumes.len());
    keys(&mut s, "!");
    assert_eq!(s.visible_volumes().len(), s.volumes.len());
    // The verdict column is matched, not only name and id.
    keys(&mut s, "/ANOMALY");
    key(&mut s, KeyCode::Enter);
    let vis = s.visible_volumes();
    assert_eq!(vis.len(), 1, "{vis:?}");
    // The alarm's reason is matched on Alarms.
    let mut s = fixture::state();
    keys(&mut s, "4/threshold");
    assert!(!s.visible_alarms().is_empty());
}

#[test]
fn the_command_line_completes_with_tab_and_remembers() {
    let mut s = fixture::state();
    keys(&mut s, ":ran");
    key(&mut s, KeyCode::Tab);
    keys(&mut s, "3");
    key(&mut s, KeyCode::Tab);
    match &s.modal {
        Some(Modal::Command { input, .. }) => assert_eq!(input, "range 30d"),
        other => panic!("{other:?}"),
    }
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.range, Some(30 * 86_400));
    // Several candidates: listed where they can be seen, beside the command line.
    keys(&mut s, ":me");
    key(&mut s, KeyCode::Tab);
    let text = screen(&s, 120, 40);
    assert!(text.contains(":metric▏   metric  metrics"), "{text}");
    key(&mut s, KeyCode::Esc);
    keys(&mut s, ":");
    key(&mut s, KeyCode::Up);
    match &s.modal {
        Some(Modal::Command { input, .. }) => assert_eq!(input, "range 30d"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn identical_notifications_are_one_row_with_a_count() {
    let mut s = fixture::state();
    let before = s.notifications.len();
    let now = s.now;
    for i in 0..230 {
        update(
            &mut s,
            Input::Event(Event::Notification(SnsNotification {
                message_id: format!("m{i}"),
                topic_arn: "arn:aws:sns:eu-west-1:123456789012:m03p02_anomaly_alerts".into(),
                subject: None,
                message: "Hot temperature is detected.".into(),
                time: now + chrono::Duration::seconds(i),
            })),
        );
    }
    assert_eq!(s.notifications.len(), before + 1);
    assert_eq!(s.notifications.back().unwrap().count, 230);
    assert_eq!(s.events.back().unwrap().count, 230);
    keys(&mut s, "6");
    assert!(screen(&s, 120, 40).contains("×230"));
}

#[test]
fn the_stream_panes_scroll_and_filter() {
    let mut s = fixture::state();
    let rows = (0..30)
        .map(|i| watchband::pipeline::TemperatureAnomaly {
            deviceid: format!("DHT_00{}", 1 + i % 3),
            anomaly_date: "2026-11-21".into(),
            timestamp: format!("2026-11-21 14:{i:02}:00"),
            value: 101.5 + i as f64,
            anomaly_type: "Hot".into(),
        })
        .collect();
    update(&mut s, Input::Event(Event::TemperatureAnomalies(rows)));
    keys(&mut s, "3");
    let top = screen(&s, 160, 48);
    keys(&mut s, "JJ");
    assert_eq!(s.pane_scroll, 2);
    let scrolled = screen(&s, 160, 48);
    assert_ne!(top, scrolled);
    assert!(scrolled.contains("2 above, K"), "{scrolled}");
    // `/` filters the panes too.
    keys(&mut s, "/DHT_002");
    let filtered = screen(&s, 160, 48);
    assert!(
        filtered.contains("DHT_002") && !filtered.contains("DHT_003   2026"),
        "{filtered}"
    );
}

#[test]
fn the_rejected_records_pane_sorts_like_the_other_tables() {
    let mut s = fixture::state();
    let now = s.now;
    // A second stream's rejected records, arrived after the fixture's but older than it.
    let rejected = |minutes: i64, error: &str| watchband::pipeline::RejectedRecord {
        shard_id: "shardId-000000000000".into(),
        sequence_number: format!("{minutes}"),
        partition_key: "p".into(),
        arrival: now - chrono::Duration::minutes(minutes),
        error: error.into(),
        raw: "{".into(),
    };
    let records = vec![
        rejected(9, "not JSON: EOF while parsing"),
        rejected(5, "a row DynamoDB refuses"),
        rejected(7, "missing field `value`"),
    ];
    update(
        &mut s,
        Input::Event(Event::Stream(watchband::pipeline::StreamStats {
            stream: "other-stream".into(),
            shards: vec![watchband::pipeline::ShardStats {
                shard_id: "shardId-000000000000".into(),
                parent: None,
                finished: false,
                records_per_sec: 1.0,
                millis_behind: 0,
                records_total: 10,
                rejected_total: 3,
                last_rejected: records,
                checkpoint: None,
                read_at: Some(now),
            }],
        })),
    );
    keys(&mut s, "3");
    let pane = |s: &AppState| in_order(&s.visible_rejected(), &s.rejected);
    // Newest arrived first by default, whatever their own times.
    let arrived: Vec<usize> = (0..s.rejected.len()).rev().collect();
    assert_eq!(s.visible_rejected(), arrived);
    keys(&mut s, "ooooooooooo"); // past the devices', shards' and anomalies' columns: time
    let times: Vec<_> = pane(&s).iter().map(|r| r.at).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_ne!(
        s.visible_rejected(),
        arrived,
        "the fixture's record is newest"
    );
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("Rejected records (raw, 4) · by time"),
        "{text}"
    );
    keys(&mut s, "o"); // reason
    let reasons: Vec<String> = pane(&s).iter().map(|r| r.reason.clone()).collect();
    assert!(reasons.windows(2).all(|w| w[0] <= w[1]), "{reasons:?}");
    keys(&mut s, "O");
    let reasons: Vec<String> = pane(&s).iter().map(|r| r.reason.clone()).collect();
    assert!(reasons.windows(2).all(|w| w[0] >= w[1]), "{reasons:?}");
    let text = screen(&s, 160, 48);
    assert!(text.contains("· by reason ↑"), "{text}");
    assert_eq!(
        text.matches("· by").count(),
        1,
        "only the pane says its sort: {text}"
    );
    // The filter still applies.
    keys(&mut s, "/DynamoDB");
    assert_eq!(pane(&s).len(), 1);
    assert_eq!(pane(&s)[0].reason, "a row DynamoDB refuses");
}

// ---------------------------------------------------------------- 4. charts

#[test]
fn the_time_range_steps_and_a_single_point_is_not_a_chart() {
    let mut s = fixture::state();
    assert_eq!(s.range, None);
    keys(&mut s, "[");
    assert_eq!(s.range, Some(365 * 86_400));
    keys(&mut s, "[[[[[[");
    assert_eq!(s.range, Some(86_400));
    keys(&mut s, "]");
    assert_eq!(s.range, Some(7 * 86_400));
    // A single point: say so instead of `1198/1198/1198`.
    use watchband::app::state::{Point, Series};
    use watchband::ui::widgets::band_chart::{BandChart, render};
    let mut one = Series::default();
    one.push(Point {
        t: 0,
        value: 1198.0,
        band: None,
        anomalous: false,
    });
    let mut t = Terminal::new(TestBackend::new(60, 10)).unwrap();
    t.draw(|f| {
        let chart = BandChart {
            series: &one,
            thresholds: vec![],
            unit: "",
            window: Some(86_400),
            zoom: Default::default(),
        };
        render(f, f.area(), &chart, &s.theme)
    })
    .unwrap();
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("not enough points"), "{text}");
    assert!(!text.contains("1198"), "{text}");
}

#[test]
fn charts_zoom_and_pan_inside_the_range_and_the_title_shows_the_window() {
    use watchband::ui::widgets::band_chart::{BandChart, bounds};
    let mut s = fixture::state();
    keys(&mut s, "2");
    key(&mut s, KeyCode::Enter);
    let v = s.selected_volume().unwrap().clone();
    let x_of = |s: &AppState| {
        bounds(&BandChart {
            series: &v.changes,
            thresholds: vec![],
            unit: "blocks",
            window: s.range,
            zoom: s.zoom,
        })
        .unwrap()
        .0
    };
    let whole = x_of(&s);
    assert!(!screen(&s, 160, 48).contains("zoom ×"));
    keys(&mut s, "++");
    let zoomed = x_of(&s);
    let span = |x: [f64; 2]| x[1] - x[0];
    assert!(
        (span(zoomed) - span(whole) / 4.0).abs() <= 1.0,
        "{whole:?} {zoomed:?}"
    );
    assert_eq!(zoomed[1], whole[1], "zooming keeps the newest edge");
    // The window is in the title before anything a narrow chart cuts.
    let text = screen(&s, 120, 40);
    assert!(text.contains("zoom ×4: "), "{text}");
    keys(&mut s, "5");
    let metrics = screen(&s, 80, 24);
    assert!(metrics.contains("zoom ×4: "), "{metrics}");
    keys(&mut s, "2");
    key(&mut s, KeyCode::Enter);
    // `<` goes back half a window, `>` returns; neither passes the range's ends.
    keys(&mut s, "<");
    let older = x_of(&s);
    assert!((older[1] - (zoomed[1] - span(zoomed) / 2.0)).abs() <= 1.0);
    keys(&mut s, "<<<<<<<<<<");
    assert_eq!(x_of(&s)[0], whole[0], "panning stops at the range's start");
    keys(&mut s, ">>>>>>>>>>>>");
    assert_eq!(x_of(&s), zoomed);
    // `-` zooms back out; a new range shows that range whole.
    keys(&mut s, "-");
    assert_eq!(s.zoom.factor(), 2);
    keys(&mut s, "[");
    assert_eq!(s.zoom, Default::default());
    // Panning a chart that is not zoomed says how to zoom.
    keys(&mut s, "<");
    assert!(s.message.as_ref().unwrap().text.contains("+ zooms in"));
    // A window that starts in an earlier year than the newest point says which year.
    use watchband::app::state::{Point, Series};
    use watchband::ui::widgets::band_chart::window_label;
    let mut years = Series::default();
    let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    for d in 0..366 {
        years.push(Point {
            t: start + d * 86_400,
            value: 10.0,
            band: None,
            anomalous: false,
        });
    }
    let label = |zoom| {
        window_label(&BandChart {
            series: &years,
            thresholds: vec![],
            unit: "",
            window: None,
            zoom,
        })
    };
    let half = watchband::app::zoom::Zoom { level: 1, pan: 0 };
    assert_eq!(label(half), " — zoom ×2: 2025-08-30 → 03-01");
    assert_eq!(label(Default::default()), "");
    // Both keys are in the help.
    let help = watchband::app::keymap::BINDINGS;
    assert!(help.iter().any(|b| b.keys == "+ -") && help.iter().any(|b| b.keys == "< >"));
}

#[test]
fn an_outlier_is_marked_at_the_edge_of_a_clipped_axis() {
    use watchband::app::state::{Point, Series};
    use watchband::ui::widgets::band_chart::{BandChart, bounds, outliers};
    let mut series = Series::default();
    for i in 0..50 {
        series.push(Point {
            t: i * 86_400,
            value: 1_000.0 + (i % 5) as f64 * 10.0,
            band: Some((-22_400.0_f64.max(900.0 - i as f64), 1_100.0)),
            anomalous: false,
        });
    }
    series.push(Point {
        t: 50 * 86_400,
        value: 400_000.0,
        band: Some((900.0, 1_100.0)),
        anomalous: true,
    });
    let chart = BandChart {
        series: &series,
        thresholds: vec![],
        unit: "blocks",
        window: None,
        zoom: Default::default(),
    };
    let (x, y) = bounds(&chart).unwrap();
    assert!(y[0] >= 0.0, "counts never below 0: {y:?}");
    assert!(y[1] < 10_000.0, "the axis stays on the band: {y:?}");
    assert_eq!(outliers(&series, x, y), vec![(50.0 * 86_400.0, 400_000.0)]);
}

// ---------------------------------------------------------------- 5. units and words

#[test]
fn temperatures_are_fahrenheit_and_words_agree_with_numbers() {
    let mut s = fixture::state();
    keys(&mut s, "3");
    let text = screen(&s, 160, 48);
    assert!(text.contains("°F") && !text.contains("°C"), "{text}");
    // The readings are Fahrenheit like the thresholds they are judged by (96 and 101): inside
    // them but for the fixture's one hot excursion, which the rule calls Hot exactly once.
    let readings: Vec<f64> = s
        .devices
        .iter()
        .flat_map(|d| d.series.points.iter().map(|p| p.value))
        .collect();
    assert_eq!(readings.iter().filter(|&&v| v > 101.0).count(), 1);
    assert!(readings.iter().all(|&v| v >= 96.0), "{readings:?}");
    assert!(s.devices.iter().all(|d| d.hot == 101.0 && d.cold == 96.0));
    let hot: Vec<_> = s
        .stream_anomalies
        .iter()
        .filter(|a| a.anomaly_type == "Hot")
        .collect();
    assert_eq!(hot.len(), 1, "{hot:?}");
    let overview = screen(&fixture::state(), 160, 48);
    assert!(!overview.contains("1 alarms") && !overview.contains("1 anomalies"));
    let now = s.now;
    let last_year = now - chrono::Duration::days(400);
    assert!(
        watchband::ui::when(&last_year, &now)
            .starts_with(&(now.format("%Y").to_string().parse::<i32>().unwrap() - 1).to_string())
    );
    assert_eq!(watchband::ui::age(3 * 365 * 86_400), "3y");
    // A snooze that ends on another day says which day.
    let mut s = fixture::state();
    let i = s
        .alarms
        .iter()
        .position(|a| a.ack.is_none())
        .expect("an unacknowledged alarm");
    let until = s.now + chrono::Duration::days(2);
    s.alarms[i].snoozed_until = Some(until);
    keys(&mut s, "4");
    let text = screen(&s, 160, 48);
    let shown = format!("snoozed {}", until.format("%m-%d %H:%M"));
    assert!(text.contains(&shown), "{shown}\n{text}");
}

#[test]
fn a_count_agrees_with_its_noun_in_the_tui_and_the_cli() {
    use watchband::words::{agree, count};
    assert_eq!(count(1usize, "alarm", "alarms"), "1 alarm");
    assert_eq!(count(0u64, "anomaly", "anomalies"), "0 anomalies");
    assert_eq!(count(2u32, "topic", "topics"), "2 topics");
    assert_eq!(agree(1usize, "needs", "need"), "needs");
    // The fixture's alarm evaluates one period.
    let mut s = fixture::state();
    keys(&mut s, "4");
    key(&mut s, KeyCode::Enter);
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("1 period,") && !text.contains("(s)"),
        "{text}"
    );
    // The CLI's repeat counter.
    let mut r = watchband::logging::Repeats::default();
    r.line("throttled");
    r.line("throttled");
    assert_eq!(
        r.finish().as_deref(),
        Some("(the message above repeated 1 more time)")
    );
    // No message anywhere says `noun(s)`: every count goes through `words::count`.
    let mut offenders = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.trim_start();
                    if code.starts_with("//") {
                        continue;
                    }
                    for literal in string_literals(line) {
                        let bad = literal.match_indices("(s)").any(|(at, _)| {
                            at > 0
                                && literal.as_bytes()[at - 1].is_ascii_alphabetic()
                                && !literal[..at].ends_with("http")
                        });
                        if bad {
                            offenders.push(format!("{}:{}: {line}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// The contents of the string literals on one line of Rust (escapes kept as written).
fn string_literals(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut escaped = false;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match start {
            Some(s) => {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    out.push(&line[s..i]);
                    start = None;
                }
            }
            // A `'"'` char literal opens no string.
            None if b == b'"'
                && !(i > 0 && bytes[i - 1] == b'\'' && bytes.get(i + 1) == Some(&b'\'')) =>
            {
                start = Some(i + 1)
            }
            None => {}
        }
    }
    out
}

// ---------------------------------------------------------------- 6. alarm form

#[test]
fn the_statistic_is_picked_not_typed() {
    let mut s = fixture::state();
    keys(&mut s, "2ja");
    key(&mut s, KeyCode::BackTab);
    key(&mut s, KeyCode::BackTab);
    keys(&mut s, "Maxi0");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert_eq!(
        form.fields[0], "Maximum",
        "typing does not reach the statistic"
    );
    key(&mut s, KeyCode::Right);
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert_eq!(form.fields[0], "Minimum");
}

#[test]
fn every_field_is_checked_as_typed_and_the_error_clears_when_fixed() {
    let mut s = fixture::state();
    keys(&mut s, "2ja");
    key(&mut s, KeyCode::Tab); // evaluation periods
    key(&mut s, KeyCode::Backspace);
    keys(&mut s, "x");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert!(
        form.error
            .as_deref()
            .unwrap()
            .contains("evaluation periods")
    );
    key(&mut s, KeyCode::Backspace);
    keys(&mut s, "2");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert_eq!(form.error, None);
}

#[test]
fn overwriting_an_alarm_is_warned_first() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    // a volume that has an alarm
    let row = s
        .visible_volumes()
        .iter()
        .position(|&i| s.alarm_for_volume(&s.volumes[i].arn).is_some())
        .unwrap();
    s.selected[View::Backups.index()] = row;
    keys(&mut s, "a");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert!(form.existing.is_some());
    assert!(
        key(&mut s, KeyCode::Enter).is_empty(),
        "first Enter only warns"
    );
    assert!(screen(&s, 120, 40).contains("Enter again to overwrite"));
    let effects = key(&mut s, KeyCode::Enter);
    assert!(matches!(
        &effects[..],
        [Effect::Pipeline(Command::CreateAlarm { .. })]
    ));
}

#[test]
fn a_cpu_alarm_is_not_proposed_the_backup_topic() {
    let mut s = fixture::state();
    keys(&mut s, "5");
    let row = s
        .visible_metrics()
        .iter()
        .position(|&i| s.metrics[i].id.name == "CPUUtilization")
        .expect("the fixture charts CPU");
    s.selected[View::Metrics.index()] = row;
    keys(&mut s, "a");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert!(
        !form.fields[4].contains("backup-anomaly-alerts"),
        "{:?}",
        form.fields
    );
    // With no topic that fits, the form asks for one rather than guessing.
    assert!(
        form.error.as_deref().unwrap_or("").contains("SNS topic"),
        "{:?}",
        form.error
    );
}

// ---------------------------------------------------------------- 7. small screens

#[test]
fn keys_never_reach_a_hidden_form_while_the_screen_is_too_small() {
    let mut s = fixture::state();
    keys(&mut s, "2ja");
    update(&mut s, Input::Resize(50, 12));
    keys(&mut s, "7");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert_eq!(form.fields[2], "2", "the band width did not take the key");
    let effects = keys(&mut s, "q");
    assert_eq!(effects, vec![Effect::Quit]);
}

#[test]
fn read_only_hides_every_mutating_hint() {
    let mut s = fixture::state();
    s.read_only = true;
    let text = screen(&s, 160, 48);
    let hint = text.lines().nth(46).unwrap();
    assert!(hint.contains("[read-only]"), "{hint}");
    for k in [" b backup", " a alarm", " x ack", " i burst"] {
        assert!(!hint.contains(k), "{k} in {hint}");
    }
}

#[test]
fn the_status_bar_keeps_the_clock_whole() {
    let s = fixture::state();
    for w in [80u16, 100, 120, 140, 160] {
        let text = screen(&s, w, 24);
        let bar = text.lines().nth(23).unwrap();
        assert!(
            bar.trim_end().ends_with(&s.now.format("%H:%M").to_string())
                || bar.trim_end().ends_with("UTC"),
            "{w}: {bar}"
        );
    }
}

#[test]
fn the_selected_sparkline_is_visible_in_every_theme() {
    for theme in ["default", "dark", "light"] {
        let mut s = fixture::state_with(fixture::FixtureSize::default(), theme);
        keys(&mut s, "2");
        let mut t = Terminal::new(TestBackend::new(160, 48)).unwrap();
        t.draw(|f| watchband::ui::render(f, &s)).unwrap();
        let buf = t.backend().buffer();
        // The selected row is the first table row (y = 3); its bar glyphs must show.
        let bars: Vec<_> = (0..160u16)
            .map(|x| &buf[(x, 3)])
            .filter(|c| ('▁'..='█').contains(&c.symbol().chars().next().unwrap_or(' ')))
            .collect();
        assert!(!bars.is_empty(), "{theme}");
        for c in bars {
            assert_ne!(c.fg, c.bg, "{theme}: {c:?}");
        }
    }
}

#[test]
fn clicks_select_tabs_and_rows_and_the_wheel_scrolls() {
    let mut s = fixture::state();
    update(&mut s, Input::Resize(120, 40));
    // " watchband " then " 1 Overview " " 2 Backups "...
    click(&mut s, 25, 0);
    assert_eq!(s.view, View::Backups);
    click(&mut s, 5, 3 + 4);
    assert_eq!(s.selected_row(), 4);
    update(
        &mut s,
        Input::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 5,
            row: 10,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(s.selected_row(), 5);
    // The row clicked is the row drawn there.
    let text = screen(&s, 120, 40);
    let line = text.lines().nth(3 + 5).unwrap();
    assert!(line.contains(&s.selected_volume().unwrap().name), "{line}");
}

#[test]
fn clicks_select_streams_devices_and_a_volumes_snapshots() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = fixture::state();
        update(&mut s, Input::Resize(w, h));
        // Streams: the device list left of the chart.
        keys(&mut s, "3");
        let before = screen(&s, w, h);
        let (y, line) = nth_row(&before, 2, "third device row", |l| l.starts_with("│DHT_"));
        let device = line[3..].split_whitespace().next().unwrap().to_string();
        click(&mut s, 3, y);
        assert_eq!(s.selected_device().unwrap().id, device, "{w}x{h}");
        // A click on the chart beside it selects nothing.
        click(&mut s, 40, y - 1);
        assert_eq!(s.selected_device().unwrap().id, device, "{w}x{h}");

        // A volume's snapshots, under the chart at 80 columns, beside it at 160.
        keys(&mut s, "2");
        key(&mut s, KeyCode::Enter);
        let before = screen(&s, w, h);
        let v = s.selected_volume().unwrap().clone();
        let (y, x, id) = before
            .lines()
            .enumerate()
            // Below the recovery line (row 1), which names the last clean snapshot too.
            .skip(2)
            .find_map(|(y, l)| {
                let at = l.find("snap-")?;
                let id: String = l[at..].split_whitespace().next()?.to_string();
                let x = l[..at].chars().count() as u16;
                (s.selected_snapshot().map(|i| v.snapshots[i].id.clone()) != Some(id.clone()))
                    .then_some((y, x, id))
            })
            .expect("a snapshot row that is not selected");
        click(&mut s, x, y as u16);
        let chosen = s.selected_snapshot().map(|i| v.snapshots[i].id.clone());
        assert_eq!(chosen, Some(id), "{w}x{h} at {x},{y}:\n{before}");
        assert_eq!(s.selected_volume().unwrap().arn, v.arn);
    }
}

#[test]
fn clicks_select_a_shard_and_it_stays_selected_when_the_table_reorders() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = fixture::state();
        update(&mut s, Input::Resize(w, h));
        keys(&mut s, "3");
        let device = s.selected_device().unwrap().id.clone();
        let before = screen(&s, w, h);
        let (y, line) = nth_row(&before, 0, "row of shard 0", |l| {
            l.contains("shardId-000000000000")
        });
        click(&mut s, 30, y);
        // Worst first puts the rejecting shard 1 above it: the click maps through the order.
        assert_eq!(
            s.selected_shard,
            Some((
                watchband::interop::TEMPERATURE_STREAM.to_string(),
                "shardId-000000000000".to_string()
            )),
            "{w}x{h} at row {y} ({line}):\n{before}"
        );
        assert_eq!(
            s.selected_device().unwrap().id,
            device,
            "a shard's click leaves the device alone"
        );
        // By name: reordering the table (`o` to the shard columns) keeps the same shard.
        keys(&mut s, "ooo");
        assert_eq!(
            s.selected_shard.as_ref().map(|(_, id)| id.as_str()),
            Some("shardId-000000000000")
        );
        // The header and the border select nothing.
        click(&mut s, 30, 1);
        click(&mut s, 30, 2);
        assert_eq!(
            s.selected_shard.as_ref().map(|(_, id)| id.as_str()),
            Some("shardId-000000000000")
        );
    }
}

#[test]
fn clicks_select_a_row_of_the_alarm_history() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = fixture::state();
        update(&mut s, Input::Resize(w, h));
        keys(&mut s, "4");
        key(&mut s, KeyCode::Enter);
        let name = s.selected_alarm().unwrap().name.clone();
        let items = (0..8)
            .map(|i| watchband::cloud::AlarmHistoryItem {
                alarm_name: name.clone(),
                timestamp: s.now - chrono::Duration::minutes(10 * i),
                item_type: "StateUpdate".into(),
                summary: format!("history item {i}"),
            })
            .collect();
        update(
            &mut s,
            Input::Event(Event::AlarmHistory {
                alarm_name: name,
                items,
            }),
        );
        assert_eq!(s.detail_row, 0);
        let before = screen(&s, w, h);
        let (y, line) = nth_row(&before, 2, "third history row", |l| {
            l.contains("history item ")
        });
        let item = s
            .selected_alarm()
            .unwrap()
            .history
            .iter()
            .position(|h| line.contains(&h.summary))
            .unwrap();
        click(&mut s, 10, y);
        assert_eq!(s.detail_row, item, "{w}x{h} at row {y}:\n{before}");
        // A click on the definition above it selects nothing.
        click(&mut s, 10, 3);
        assert_eq!(s.detail_row, item, "{w}x{h}");
        assert!(s.detail, "the detail stays open");
    }
}

#[test]
fn the_metric_list_names_the_volume() {
    let mut s = fixture::state();
    // Twelve volumes' metrics share namespace and name: only the volume tells them apart.
    for v in s.volumes.clone().iter().take(3) {
        s.metrics.push(watchband::app::state::MetricView {
            id: watchband::interop::backup_metric(&v.arn),
            stat: "Maximum".into(),
            period: 3600,
            scored: v.changes.clone(),
            indicator: vec![],
        });
    }
    keys(&mut s, "5");
    let text = screen(&s, 80, 24);
    for v in s.volumes.iter().take(3) {
        assert!(text.contains(&v.name), "{} missing:\n{text}", v.name);
    }
    assert!(
        !text.contains("BACKUP BACKUP_CHANGED_BLOCKS BACKUP_RES"),
        "{text}"
    );
}

// ---------------------------------------------------------------- 5. times

fn change_point(
    first: &str,
    second: &str,
    time: watchband::cloud::Time,
    blocks: u64,
) -> watchband::pipeline::ChangePoint {
    watchband::pipeline::ChangePoint {
        first_snapshot: first.into(),
        second_snapshot: second.into(),
        time,
        changed_blocks: blocks,
        block_size: 524_288,
        changed_gib: 0.0,
        percent_of_volume: 0.0,
        verdict: watchband::detect::Verdict {
            timestamp: time.timestamp(),
            value: blocks as f64,
            band: None,
            score: 0.0,
            anomalous: false,
        },
    }
}

#[test]
fn an_event_has_its_own_time_and_snapshots_their_own() {
    let mut s = fixture::state();
    let v = s.volumes[0].clone();
    let now = s.now;
    let t1 = now - chrono::Duration::days(1);
    // Created three minutes before the tick that reports it.
    let t2 = now - chrono::Duration::minutes(3);
    let series = |points| {
        Input::Event(Event::VolumeSeries(watchband::pipeline::VolumeSeries {
            volume_arn: v.arn.clone(),
            points,
            cloudwatch_band: vec![],
        }))
    };
    update(
        &mut s,
        series(vec![change_point("snap-a", "snap-b", t1, 10)]),
    );
    update(
        &mut s,
        series(vec![
            change_point("snap-a", "snap-b", t1, 10),
            change_point("snap-b", "snap-c", t2, 1),
        ]),
    );
    let e = s.events.back().unwrap();
    assert_eq!(e.at, t2, "{e:?}");
    assert!(e.text.contains("1 block changed"), "singular: {}", e.text);
    let v = s.volumes.iter().find(|x| x.arn == v.arn).unwrap();
    assert_eq!(
        v.snapshots[0].created, None,
        "the first snapshot's time is unknown"
    );
    assert_eq!(v.snapshots[1].created, Some(t1));
    assert_eq!(v.snapshots[2].created, Some(t2));
}

#[test]
fn a_burst_stays_a_problem_when_the_next_backup_is_normal() {
    let mut s = fixture::state();
    let v = s.volumes[0].clone();
    let now = s.now;
    let mut burst = change_point(
        "snap-a",
        "snap-b",
        now - chrono::Duration::hours(2),
        900_000,
    );
    burst.verdict.anomalous = true;
    let normal = change_point("snap-b", "snap-c", now - chrono::Duration::hours(1), 10);
    update(
        &mut s,
        Input::Event(Event::VolumeSeries(watchband::pipeline::VolumeSeries {
            volume_arn: v.arn.clone(),
            points: vec![burst, normal],
            cloudwatch_band: vec![],
        })),
    );
    let p = s
        .problems()
        .into_iter()
        .find(|p| p.name == v.name)
        .expect("the burst is still a problem");
    assert!(p.what.contains("900000 blocks changed"), "{p:?}");
    assert!(p.what.contains("next backup was normal"), "{p:?}");
    // A day later it is over.
    update(&mut s, Input::Clock(now + chrono::Duration::hours(25)));
    assert!(s.problems().iter().all(|p| p.name != v.name));
}
