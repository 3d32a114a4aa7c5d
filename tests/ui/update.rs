//! `update` unit tests: keys, dialogs, effects, read-only, the state boundary's cleaning, and
//! the runtime's "no frame when nothing changed".

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use watchband::app::fixture;
use watchband::app::state::{AppState, Modal, View};
use watchband::app::{Effect, Input, update};
use watchband::cloud::{AlarmState, MetricQueryKind};
use watchband::pipeline::{AlarmView, Command, Event, SnsNotification, VolumeInfo};

pub(crate) fn key(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    update(s, Input::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub(crate) fn keys(s: &mut AppState, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| key(s, KeyCode::Char(c)))
        .collect()
}

fn no_control(s: &str) -> bool {
    !s.chars().any(|c| c.is_control())
}

#[test]
fn tab_and_digits_switch_views() {
    let mut s = fixture::state();
    assert_eq!(s.view, View::Overview);
    key(&mut s, KeyCode::Tab);
    assert_eq!(s.view, View::Backups);
    key(&mut s, KeyCode::BackTab);
    key(&mut s, KeyCode::BackTab);
    assert_eq!(s.view, View::Notifications);
    keys(&mut s, "4");
    assert_eq!(s.view, View::Alarms);
}

#[test]
fn movement_is_clamped_to_the_rows() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    keys(&mut s, "G");
    assert_eq!(s.selected_row(), s.volumes.len() - 1);
    keys(&mut s, "j");
    assert_eq!(s.selected_row(), s.volumes.len() - 1);
    keys(&mut s, "g");
    assert_eq!(s.selected_row(), 0);
    keys(&mut s, "k");
    assert_eq!(s.selected_row(), 0);
    key(&mut s, KeyCode::PageDown);
    assert_eq!(s.selected_row(), s.volumes.len() - 1);
}

#[test]
fn backup_asks_first_then_sends_the_command() {
    let mut s = fixture::state();
    keys(&mut s, "2j");
    let vol = s.selected_volume().unwrap().clone();
    assert!(keys(&mut s, "b").is_empty());
    match &s.modal {
        Some(Modal::ConfirmBackup {
            volume_arn,
            vault,
            role,
            ..
        }) => {
            assert_eq!(volume_arn, &vol.arn);
            assert_eq!(vault, "Default");
            assert!(role.contains("123456789012"), "{role}");
        }
        other => panic!("{other:?}"),
    }
    let effects = keys(&mut s, "y");
    assert!(matches!(
        &effects[..],
        [Effect::Pipeline(Command::StartBackup { volume_arn, .. })] if *volume_arn == vol.arn
    ));
    assert!(s.modal.is_none());
    // cancelling sends nothing
    keys(&mut s, "b");
    assert!(key(&mut s, KeyCode::Esc).is_empty());
}

#[test]
fn read_only_refuses_every_mutating_key_and_says_why() {
    let mut s = fixture::state();
    s.read_only = true;
    for (view, k) in [("2", "b"), ("2", "a"), ("4", "x"), ("2", "i")] {
        keys(&mut s, view);
        let effects = keys(&mut s, k);
        assert!(effects.is_empty(), "{k}: {effects:?}");
        assert!(s.modal.is_none());
        let m = s.message.clone().unwrap();
        assert!(m.error && m.text.contains("--read-only"), "{k}: {}", m.text);
    }
}

#[test]
fn acknowledge_with_a_note() {
    let mut s = fixture::state();
    keys(&mut s, "4");
    // the first alarm in ALARM without an acknowledgement
    let row = s
        .visible_alarms()
        .iter()
        .position(|&i| s.alarms[i].needs_attention())
        .unwrap();
    for _ in 0..row {
        keys(&mut s, "j");
    }
    let name = s.selected_alarm().unwrap().name.clone();
    keys(&mut s, "x");
    keys(&mut s, "on it");
    let effects = key(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Pipeline(Command::Acknowledge {
            alarm_name: name,
            note: Some("on it".into()),
            snooze_until: None,
        })]
    );
    // With $USER unset the identity alone attributes it (was `✓ unknown`).
    s.user = "unknown".into();
    assert_eq!(
        s.acknowledger(),
        "arn:aws:sts::123456789012:assumed-role/Operator/alice"
    );
}

#[test]
fn only_an_alarm_in_alarm_can_be_acknowledged() {
    let mut s = fixture::state();
    // Worst first: the last row is an alarm in OK.
    keys(&mut s, "4G");
    assert_eq!(s.selected_alarm().unwrap().state, AlarmState::Ok);
    assert!(keys(&mut s, "x").is_empty());
    assert!(s.modal.is_none());
    assert!(
        s.message
            .as_ref()
            .unwrap()
            .text
            .contains("only an alarm in ALARM")
    );
}

#[test]
fn the_alarm_form_writes_a_backup_pipeline_compatible_alarm() {
    let mut s = fixture::state();
    keys(&mut s, "2j");
    let arn = s.selected_volume().unwrap().arn.clone();
    keys(&mut s, "a");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!("{:?}", s.modal)
    };
    assert_eq!(form.focus, 2, "band width is focused");
    let before = form.preview.anomalies();
    // widen the band to 3.5: fewer points outside
    key(&mut s, KeyCode::Backspace);
    keys(&mut s, "3.5");
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert!(form.preview.anomalies() <= before);
    let replaces = form.existing.is_some();
    let mut effects = key(&mut s, KeyCode::Enter);
    if replaces {
        // The volume has its alarm already: the first Enter warns, the second writes.
        assert!(effects.is_empty());
        effects = key(&mut s, KeyCode::Enter);
    }
    let [
        Effect::Pipeline(Command::CreateAlarm {
            definition,
            detector,
        }),
    ] = &effects[..]
    else {
        panic!("{effects:?}")
    };
    assert_eq!(definition.name, format!("Backup-Anomaly-Alarm/{arn}"));
    assert_eq!(detector.metric, watchband::interop::backup_metric(&arn));
    let watchband::cloud::AlarmMetric::Queries(q) = &definition.metric else {
        panic!()
    };
    assert_eq!(
        q[1].kind,
        MetricQueryKind::Expression("ANOMALY_DETECTION_BAND(m1, 3.5)".into())
    );
    assert_eq!(
        definition.alarm_actions,
        vec!["arn:aws:sns:eu-west-1:123456789012:backup-anomaly-alerts".to_string()]
    );
}

#[test]
fn a_bad_band_width_is_refused_in_the_form() {
    let mut s = fixture::state();
    keys(&mut s, "2a");
    key(&mut s, KeyCode::Backspace);
    keys(&mut s, "-1");
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    let Some(Modal::AlarmForm(form)) = &s.modal else {
        panic!()
    };
    assert!(form.error.as_ref().unwrap().contains("band width"));
}

#[test]
fn hostile_text_is_cleaned_at_the_state_boundary() {
    let mut s = fixture::state();
    let evil = "x\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\u{9b}31m";
    let now = s.now;
    let a = &s.alarms[0];
    let mut alarm = AlarmView {
        arn: a.arn.clone(),
        definition: a.definition.clone(),
        state: AlarmState::Alarm,
        reason: evil.into(),
        state_updated: now,
        acknowledgement: None,
        snoozed_until: None,
        volume_arn: None,
    };
    alarm.definition.name = format!("evil{evil}");
    update(&mut s, Input::Event(Event::Alarms(vec![alarm])));
    update(
        &mut s,
        Input::Event(Event::Notification(SnsNotification {
            message_id: "1".into(),
            topic_arn: format!("arn:aws:sns:eu-west-1:1:t{evil}"),
            subject: Some(evil.into()),
            message: format!("line1\n{evil}"),
            time: now,
        })),
    );
    update(
        &mut s,
        Input::Event(Event::Volumes(vec![VolumeInfo {
            arn: "arn:aws:ec2:eu-west-1:1:volume/vol-0abc".into(),
            volume_id: "vol-0abc".into(),
            name: evil.into(),
            tags: Default::default(),
            size_gib: Some(8),
            last_backup: None,
            last_snapshot: Some(evil.into()),
            alarm_name: None,
        }])),
    );
    assert!(
        s.alarms
            .iter()
            .all(|a| no_control(&a.name) && no_control(&a.reason))
    );
    let n = s.notifications.back().unwrap();
    assert!(no_control(&n.subject) && no_control(&n.topic));
    assert!(n.message.lines().all(no_control));
    assert!(
        s.volumes
            .iter()
            .all(|v| no_control(&v.name) && v.last_snapshot.as_deref().is_none_or(no_control))
    );
    assert!(s.events.iter().all(|e| no_control(&e.text)));
}

#[test]
fn an_acknowledgement_ends_when_the_alarm_leaves_alarm() {
    let mut s = fixture::state();
    let acked = s.alarms.iter().find(|a| a.ack.is_some()).unwrap().clone();
    let now = s.now;
    let view = |state: AlarmState| AlarmView {
        arn: acked.arn.clone(),
        definition: acked.definition.clone(),
        state,
        reason: "r".into(),
        state_updated: now,
        // even if a sender kept it, outside ALARM there is no acknowledgement
        acknowledgement: Some(watchband::pipeline::Acknowledgement {
            alarm_name: acked.name.clone(),
            episode: now,
            who: "bob".into(),
            note: None,
            at: now,
            snooze_until: None,
            shared: true,
        }),
        snoozed_until: None,
        volume_arn: None,
    };
    update(
        &mut s,
        Input::Event(Event::Alarms(vec![view(AlarmState::Ok)])),
    );
    assert!(s.alarms[0].ack.is_none());
    assert!(s.events.back().unwrap().text.contains("ALARM → OK"));
}

#[test]
fn commands_switch_views_load_themes_and_refuse_unknown_ones() {
    let mut s = fixture::state();
    keys(&mut s, ":alarms");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.view, View::Alarms);
    keys(&mut s, ":theme light");
    let e = key(&mut s, KeyCode::Enter);
    assert_eq!(e, vec![Effect::LoadTheme("light".into())]);
    keys(&mut s, ":frobnicate");
    key(&mut s, KeyCode::Enter);
    assert!(s.message.as_ref().unwrap().error);
    keys(&mut s, ":q");
    assert_eq!(key(&mut s, KeyCode::Enter), vec![Effect::Quit]);
    assert!(s.quit);
}

#[test]
fn t_cycles_the_builtin_themes() {
    let mut s = fixture::state();
    let first = s.theme.name.clone();
    keys(&mut s, "t");
    assert_ne!(s.theme.name, first);
    for _ in 0..4 {
        keys(&mut s, "t");
    }
    assert_eq!(s.theme.name, first);
}

#[test]
fn y_copies_the_selected_arn() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    let arn = s.selected_volume().unwrap().arn.clone();
    assert_eq!(keys(&mut s, "y"), vec![Effect::CopyToClipboard(arn)]);
}

#[test]
fn demo_keys_exist_only_on_the_demo_account() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    assert_eq!(keys(&mut s, "p"), vec![Effect::DemoPause(true)]);
    assert!(matches!(&keys(&mut s, "i")[..], [Effect::DemoBurst { .. }]));
    s.demo = None;
    assert!(keys(&mut s, "pi").is_empty());
}

#[test]
fn ctrl_c_quits_even_from_a_dialog() {
    let mut s = fixture::state();
    keys(&mut s, "?");
    let e = update(
        &mut s,
        Input::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert_eq!(e, vec![Effect::Quit]);
}

#[test]
fn help_search_and_filter() {
    let mut s = fixture::state();
    keys(&mut s, "?clip");
    assert!(matches!(&s.modal, Some(Modal::Help { query, .. }) if query == "clip"));
    key(&mut s, KeyCode::Esc);
    key(&mut s, KeyCode::Esc);
    assert!(s.modal.is_none());
    keys(&mut s, "2/web");
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.visible_volumes().len(), 3);
    assert_eq!(s.row_count(), 3);
}

#[test]
fn an_event_that_changes_nothing_does_not_ask_for_a_frame() {
    let mut s = fixture::state();
    let rev = s.revision;
    let same = Event::Alarms(vec![]);
    update(&mut s, Input::Event(same.clone()));
    assert_ne!(s.revision, rev, "alarms removed is a change");
    let rev = s.revision;
    update(&mut s, Input::Event(same));
    assert_eq!(s.revision, rev);
    let now = s.now;
    update(&mut s, Input::Clock(now));
    assert_eq!(s.revision, rev);
}

/// Counts frames.
struct Counting(usize, usize);

impl watchband::app::runtime::Screen for Counting {
    fn draw(&mut self, _: &AppState) -> std::io::Result<()> {
        self.0 += 1;
        Ok(())
    }
    fn write_raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.1 += b.len();
        Ok(())
    }
    fn size(&self) -> std::io::Result<ratatui::layout::Size> {
        Ok(ratatui::layout::Size::new(80, 24))
    }
}

#[tokio::test]
async fn no_frame_is_drawn_when_nothing_changes() {
    use tokio::sync::mpsc;
    let mut s = fixture::state();
    let (tt, terminal) = mpsc::channel(8);
    let (pt, pipeline) = mpsc::channel(8);
    let (kt, ticks) = mpsc::channel(8);
    let (commands, _rx) = mpsc::channel(8);
    let now = s.now;
    let feeder = tokio::spawn(async move {
        for _ in 0..20 {
            kt.send(Input::Clock(now)).await.unwrap();
            pt.send(Event::MetricList(vec![])).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        drop((tt, pt, kt));
    });
    let mut screen = Counting(0, 0);
    let inputs = watchband::app::runtime::Inputs {
        terminal,
        pipeline,
        ticks,
    };
    let outputs = watchband::app::runtime::Outputs {
        commands,
        cloud: None,
        switcher: None,
    };
    watchband::app::runtime::event_loop(&mut screen, &mut s, inputs, outputs)
        .await
        .unwrap();
    feeder.await.unwrap();
    // the first frame, then one for the catalogue that emptied, then nothing
    assert!(screen.0 <= 2, "{} frames", screen.0);
    assert_eq!(screen.1, 0);
}

/// Moves the Alarms selection to the first alarm matching `f`.
fn select_alarm(s: &mut AppState, f: impl Fn(&watchband::app::state::AlarmRow) -> bool) -> String {
    keys(s, "4");
    let row = s
        .visible_alarms()
        .iter()
        .position(|&i| f(&s.alarms[i]))
        .unwrap();
    for _ in 0..row {
        keys(s, "j");
    }
    s.selected_alarm().unwrap().name.clone()
}

#[test]
fn acknowledge_with_a_snooze_and_refuse_a_bad_one() {
    let mut s = fixture::state();
    let name = select_alarm(&mut s, |a| a.needs_attention());
    keys(&mut s, "x");
    keys(&mut s, "on it");
    key(&mut s, KeyCode::Tab);
    keys(&mut s, "3x");
    // Not a number of minutes: refused, the dialog stays with what was typed.
    assert!(key(&mut s, KeyCode::Enter).is_empty());
    assert!(matches!(&s.modal, Some(Modal::Acknowledge { snooze, .. }) if snooze == "3x"));
    key(&mut s, KeyCode::Backspace);
    keys(&mut s, "0");
    let now = s.now;
    assert_eq!(
        key(&mut s, KeyCode::Enter),
        vec![Effect::Pipeline(Command::Acknowledge {
            alarm_name: name,
            note: Some("on it".into()),
            snooze_until: Some(now + chrono::Duration::minutes(30)),
        })]
    );
}

#[test]
fn x_on_someone_elses_acknowledgement_offers_a_confirmed_withdrawal() {
    let mut s = fixture::state();
    let name = select_alarm(&mut s, |a| a.ack.is_some());
    keys(&mut s, "x");
    assert!(
        matches!(&s.modal, Some(Modal::Withdraw { mine: false, by, .. }) if by.ends_with("user/bob"))
    );
    // Esc keeps it.
    assert!(key(&mut s, KeyCode::Esc).is_empty());
    assert!(s.modal.is_none());
    keys(&mut s, "x");
    assert_eq!(
        key(&mut s, KeyCode::Enter),
        vec![Effect::Pipeline(Command::Withdraw {
            alarm_name: name,
            force: true,
        })]
    );
}

#[test]
fn x_on_my_own_acknowledgement_withdraws_it_as_its_author() {
    let mut s = fixture::state();
    let name = select_alarm(&mut s, |a| a.ack.is_some());
    let by = s.selected_alarm().unwrap().ack.clone().unwrap().by;
    s.identity.as_mut().unwrap().arn = by;
    keys(&mut s, "x");
    assert!(matches!(&s.modal, Some(Modal::Withdraw { mine: true, .. })));
    assert_eq!(
        keys(&mut s, "y"),
        vec![Effect::Pipeline(Command::Withdraw {
            alarm_name: name,
            force: false,
        })]
    );
}

#[test]
fn a_missing_table_is_offered_for_creation_unless_read_only() {
    let missing = Event::AckTableMissing {
        table: "watchband-acknowledgements".into(),
    };
    let mut s = fixture::state();
    update(&mut s, Input::Event(missing.clone()));
    assert!(
        matches!(&s.modal, Some(Modal::CreateAckTable { table }) if table == "watchband-acknowledgements")
    );
    assert_eq!(
        key(&mut s, KeyCode::Enter),
        vec![Effect::Pipeline(Command::CreateAckTable)]
    );
    // Declined: nothing is created.
    update(&mut s, Input::Event(missing.clone()));
    assert!(key(&mut s, KeyCode::Esc).is_empty());
    assert!(s.modal.is_none());
    // Read-only: said, never offered.
    let mut ro = fixture::state();
    ro.read_only = true;
    update(&mut ro, Input::Event(missing));
    assert!(ro.modal.is_none());
    assert!(ro.events.back().unwrap().text.contains("does not exist"));
}

#[test]
fn another_machines_acknowledgement_lands_with_who_and_note_and_a_snooze_hides_renotifications() {
    let mut s = fixture::state();
    let row = s
        .alarms
        .iter()
        .find(|a| a.needs_attention())
        .unwrap()
        .clone();
    let now = s.now;
    let view = |ack: Option<watchband::pipeline::Acknowledgement>, snoozed| AlarmView {
        arn: row.arn.clone(),
        definition: row.definition.clone(),
        state: AlarmState::Alarm,
        reason: row.reason.clone(),
        state_updated: row.since,
        acknowledgement: ack,
        snoozed_until: snoozed,
        volume_arn: None,
    };
    // A snooze from an earlier episode: not acknowledged, yet not needing attention.
    update(
        &mut s,
        Input::Event(Event::Alarms(vec![view(
            None,
            Some(now + chrono::Duration::hours(1)),
        )])),
    );
    assert!(!s.alarms[0].needs_attention());
    // ...and its re-notification from CloudWatch is hidden, while other messages are not.
    let shown = s.notifications.len();
    let notify = |s: &mut AppState, subject: String| {
        update(
            s,
            Input::Event(Event::Notification(SnsNotification {
                message_id: subject.clone(),
                topic_arn: "arn:aws:sns:eu-west-1:123456789012:backup-anomaly-alerts".into(),
                subject: Some(subject),
                message: "{}".into(),
                time: now,
            })),
        );
    };
    notify(&mut s, format!("ALARM: \"{}\" in EU (Ireland)", row.name));
    assert_eq!(s.notifications.len(), shown);
    notify(&mut s, "ALARM: \"another-alarm\" in EU (Ireland)".into());
    assert_eq!(s.notifications.len(), shown + 1);
    let ack = watchband::pipeline::Acknowledgement {
        alarm_name: row.name.clone(),
        episode: row.since,
        who: "arn:aws:sts::123456789012:assumed-role/oncall/carol".into(),
        note: Some("rebooting it".into()),
        at: now,
        snooze_until: None,
        shared: true,
    };
    update(
        &mut s,
        Input::Event(Event::Alarms(vec![view(Some(ack), None)])),
    );
    let k = s.alarms[0].ack.clone().unwrap();
    assert_eq!((k.short_by(), k.note.as_str()), ("carol", "rebooting it"));
    let line = &s.events.back().unwrap().text;
    assert!(
        line.starts_with("carol acknowledged: rebooting it"),
        "{line}"
    );
}
