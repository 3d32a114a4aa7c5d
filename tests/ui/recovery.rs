//! From detection to recovery through `update`: the last clean recovery point of a slow
//! encryption, `P` (legal hold) and `R` (restore to a new volume) asking first and sending
//! their commands, progress to completion, the new volume copied with `y`, and `--read-only`.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use watchband::app::fixture;
use watchband::app::state::{AppState, Modal};
use watchband::app::{Effect, Input, update};
use watchband::cloud::RestoreJobState;
use watchband::detect::{Band, Verdict};
use watchband::pipeline::{ChangePoint, Command, Event, HoldPlaced, RestoreProgress, VolumeSeries};

fn key(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    update(s, Input::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn keys(s: &mut AppState, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| key(s, KeyCode::Char(c)))
        .collect()
}

fn snap(i: usize) -> String {
    format!("snap-0{i:016x}")
}

/// The fixture with its first volume's history replaced: 20 quiet backups, then a slow
/// encryption over the last four (anomalous, anomalous, one quiet night, anomalous).
fn slow_encryption() -> (AppState, String) {
    let mut s = fixture::state();
    let arn = s.volumes[0].arn.clone();
    let flags = [[false; 20].as_slice(), &[true, true, false, true]].concat();
    let now = s.now;
    let points = flags
        .iter()
        .enumerate()
        .map(|(i, &anomalous)| {
            let time = now - Duration::days((flags.len() - i) as i64);
            let value = if anomalous { 9000.0 } else { 500.0 };
            ChangePoint {
                first_snapshot: snap(i),
                second_snapshot: snap(i + 1),
                time,
                changed_blocks: value as u64,
                block_size: 524_288,
                changed_gib: value / 2048.0,
                percent_of_volume: 1.0,
                verdict: Verdict {
                    timestamp: time.timestamp(),
                    value,
                    band: Some(Band {
                        expected: 500.0,
                        lower: 100.0,
                        upper: 900.0,
                    }),
                    score: if anomalous { 1.0 } else { 0.1 },
                    anomalous,
                },
            }
        })
        .collect();
    update(
        &mut s,
        Input::Event(Event::VolumeSeries(VolumeSeries {
            volume_arn: arn.clone(),
            points,
            cloudwatch_band: vec![],
        })),
    );
    keys(&mut s, "2");
    let row = s
        .visible_volumes()
        .iter()
        .position(|&i| s.volumes[i].arn == arn)
        .unwrap();
    s.selected[1] = row;
    assert_eq!(s.selected_volume().unwrap().arn, arn);
    (s, arn)
}

#[test]
fn the_last_clean_point_is_before_the_first_anomalous_count_of_the_episode() {
    let (s, _) = slow_encryption();
    let v = s.selected_volume().unwrap();
    // Snapshots 0..=24; the counts ending at 21, 22 and 24 are anomalous: 20 is the last clean.
    assert_eq!(v.snapshots.len(), 25);
    assert_eq!(v.last_clean(), Some(20));
    assert_eq!(v.snapshots[20].id, snap(20));
}

#[test]
fn p_asks_first_then_places_a_legal_hold_on_the_last_clean_point() {
    let (mut s, arn) = slow_encryption();
    assert!(keys(&mut s, "P").is_empty(), "P alone must not act");
    let Some(Modal::ConfirmProtect(t)) = &s.modal else {
        panic!("no protect confirmation: {:?}", s.modal);
    };
    assert!(t.last_clean);
    assert_eq!(t.snapshot_id, snap(20));
    let created = t.created;
    let effects = key(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Pipeline(Command::Protect {
            volume_arn: arn.clone(),
            recovery_point_arn: format!("arn:aws:ec2:eu-west-1::snapshot/{}", snap(20)),
            vault: "Default".into(),
            created,
        })]
    );
    assert!(s.modal.is_none());
    update(
        &mut s,
        Input::Event(Event::Hold(HoldPlaced {
            volume_arn: arn,
            recovery_point_arn: format!("arn:aws:ec2:eu-west-1::snapshot/{}", snap(20)),
            hold_id: "hold-1".into(),
            status: "ACTIVE".into(),
        })),
    );
    assert_eq!(s.held.len(), 1);
    // n cancels without a command.
    keys(&mut s, "P");
    assert!(keys(&mut s, "n").is_empty());
    assert!(s.modal.is_none());
}

#[test]
fn r_restores_to_a_new_volume_with_progress_and_y_copies_the_new_volume_id() {
    let (mut s, arn) = slow_encryption();
    keys(&mut s, "R");
    let Some(Modal::ConfirmRestore { target, role }) = &s.modal else {
        panic!("no restore confirmation: {:?}", s.modal);
    };
    assert_eq!(target.snapshot_id, snap(20));
    assert_eq!(
        role,
        "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
    );
    let rp = format!("arn:aws:ec2:eu-west-1::snapshot/{}", snap(20));
    let effects = keys(&mut s, "y");
    assert_eq!(
        effects,
        vec![Effect::Pipeline(Command::Restore {
            volume_arn: arn.clone(),
            recovery_point_arn: rp.clone(),
            vault: "Default".into(),
            iam_role_arn: role_of(&s),
        })]
    );
    assert_eq!(s.restores[0].state, "STARTING");
    let progress = |state, pct, new: Option<&str>| {
        Input::Event(Event::Restore(RestoreProgress {
            job_id: "6A2C1B0E-0000-4000-8000-000000000001".into(),
            volume_arn: arn.clone(),
            recovery_point_arn: rp.clone(),
            availability_zone: "eu-west-1b".into(),
            state,
            percent_done: pct,
            status_message: None,
            new_volume_id: new.map(str::to_string),
            created: s_now(),
            completed: None,
        }))
    };
    update(&mut s, progress(RestoreJobState::Running, 40.0, None));
    assert_eq!(s.restores[0].state, "RUNNING");
    assert_eq!(s.restores[0].percent, 40.0);
    update(
        &mut s,
        progress(
            RestoreJobState::Completed,
            100.0,
            Some("vol-0123456789abcdef0\x1b[2J"),
        ),
    );
    let r = &s.restores[0];
    assert!(r.done);
    // The state boundary cleans what the account said.
    assert!(!r.new_volume_id.as_deref().unwrap().contains('\x1b'));
    let new = r.new_volume_id.clone().unwrap();
    assert!(s.message.as_ref().unwrap().text.contains(&new));
    // In the detail, y on the restored snapshot copies the new volume's id; elsewhere the ARN.
    key(&mut s, KeyCode::Enter);
    assert!(s.detail);
    // The list is worst first: the anomalous 24, 22 and 21, then 23, 20, 19... newest first.
    keys(&mut s, "jjjj");
    assert_eq!(s.selected_snapshot(), Some(20));
    assert_eq!(keys(&mut s, "y"), vec![Effect::CopyToClipboard(new)]);
    keys(&mut s, "j");
    assert_eq!(
        keys(&mut s, "y"),
        vec![Effect::CopyToClipboard(snap_arn(19))]
    );
}

fn role_of(s: &AppState) -> String {
    s.backup_role().unwrap()
}

fn s_now() -> chrono::DateTime<chrono::Utc> {
    fixture::fixture_now()
}

fn snap_arn(i: usize) -> String {
    format!("arn:aws:ec2:eu-west-1::snapshot/{}", snap(i))
}

#[test]
fn in_the_detail_r_restores_the_selected_snapshot_and_says_it_is_not_the_last_clean_one() {
    let (mut s, _) = slow_encryption();
    key(&mut s, KeyCode::Enter);
    // The newest snapshot is selected: the encrypted one.
    keys(&mut s, "R");
    let Some(Modal::ConfirmRestore { target, .. }) = &s.modal else {
        panic!("no restore confirmation");
    };
    assert_eq!(target.snapshot_id, snap(24));
    assert!(!target.last_clean);
    key(&mut s, KeyCode::Esc);
    assert!(s.modal.is_none());
}

#[test]
fn a_volume_without_an_anomalous_count_has_no_last_clean_point_to_act_on() {
    let mut s = fixture::state();
    keys(&mut s, "2");
    let row = s
        .visible_volumes()
        .iter()
        .position(|&i| s.volumes[i].last_clean().is_none())
        .expect("a volume without anomalies in the fixture");
    s.selected[1] = row;
    for k in ["P", "R"] {
        assert!(keys(&mut s, k).is_empty());
        assert!(s.modal.is_none());
        assert!(s.message.as_ref().unwrap().error);
        assert!(
            s.message
                .as_ref()
                .unwrap()
                .text
                .contains("no last clean recovery point")
        );
    }
}

#[test]
fn read_only_refuses_protect_and_restore() {
    let (mut s, _) = slow_encryption();
    s.read_only = true;
    for k in ["P", "R"] {
        assert!(keys(&mut s, k).is_empty());
        assert!(s.modal.is_none());
        let m = s.message.as_ref().unwrap();
        assert!(m.error && m.text.contains("read-only"), "{}", m.text);
    }
}
