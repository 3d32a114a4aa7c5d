//! `update(&mut state, input) -> Vec<Effect>`: the only code that changes [`AppState`] (with its
//! helpers [`super::alarm_form`], the `a` form, and [`super::command`], the `:` line).
//!
//! Pure: no I/O, no clock, no terminal. What needs the outside world (start a backup, write an
//! alarm, copy to the clipboard, read a theme file) is returned as an [`Effect`] value that the
//! runtime executes, and its outcome comes back later as an [`Input`].

pub use super::alarm_form::score;
use super::alarm_form::{open_alarm_form, refresh_preview, submit_alarm_form, validate};
use super::command::run_command;
pub use super::command::{COMMANDS, RANGES, complete, range_label};
use super::feed;
use super::keymap::{Action, action_for};
use super::state::*;
use crate::cloud::Time;
use crate::pipeline::{Command, Event, MetricDetector};
use crate::theme::{Theme, next_builtin};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

/// Everything that can happen to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Key(KeyEvent),
    /// A click or the wheel (only with `--mouse`).
    Mouse(MouseEvent),
    /// The terminal changed size: everything must be drawn again.
    Resize(u16, u16),
    /// Something the pipeline found.
    Event(Event),
    /// The account's clock (virtual in the demo).
    Clock(Time),
    /// The demo account's controls as they are now.
    Demo(DemoState),
    /// The answer to [`Effect::LoadTheme`].
    ThemeLoaded(Result<Theme, String>),
    /// The answer to [`Effect::SwitchAccount`]: the account now watched, or why the switch
    /// failed (one line; the account watched before goes on).
    AccountSwitched(Result<AccountInfo, String>),
}

/// Work for the runtime; `update` never does it itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Sent to the pipeline, which talks to the account.
    Pipeline(Command),
    /// OSC 52 to the terminal.
    CopyToClipboard(String),
    /// Read a theme by name or path (user theme files are I/O).
    LoadTheme(String),
    /// Open another profile's or region's account and watch it instead (`:profile`,
    /// `:region`); the runtime does it off the UI thread.
    SwitchAccount(AccountChoice),
    DemoPause(bool),
    DemoBurst {
        volume_arn: String,
    },
    Quit,
}

const PAGE: usize = 10;

/// Applies one input; returns the effects to run.
pub fn update(state: &mut AppState, input: Input) -> Vec<Effect> {
    let before = state.clone_marker();
    let mut effects = Vec::new();
    let changed = match input {
        Input::Event(e) => feed::apply(state, e),
        Input::Clock(t) => {
            // Ages on screen have a resolution of a second at best.
            let changed = t.timestamp() != state.now.timestamp();
            state.now = t;
            changed
        }
        Input::Demo(d) => {
            let changed = state.demo != Some(d);
            state.demo = Some(d);
            changed
        }
        Input::Resize(w, h) => {
            state.size = (w, h);
            true
        }
        Input::Mouse(m) => {
            on_mouse(state, m, &mut effects);
            true
        }
        Input::ThemeLoaded(Ok(theme)) => {
            state.say(format!("theme {}", theme.name));
            state.theme = theme;
            true
        }
        Input::ThemeLoaded(Err(e)) => {
            state.refuse(e);
            true
        }
        Input::AccountSwitched(Ok(info)) => {
            state.clear_account_data();
            // A dialog about the old account's resources (a backup, an acknowledgement, an
            // alarm form) would act on the new account: it goes with the old data.
            if !matches!(
                state.modal,
                None | Some(Modal::Help { .. }) | Some(Modal::Command { .. })
            ) {
                state.modal = None;
            }
            state.switching = None;
            state.read_only = info.read_only;
            state.region = info.region.clone();
            state.profile = info.profile.clone();
            if !info.profiles.is_empty() {
                state.profiles = info.profiles;
            }
            if let Some(theme) = info.theme {
                state.theme = theme;
            }
            let what = format!(
                "now watching profile {} in {}{}",
                info.profile.as_deref().unwrap_or("default"),
                info.region.as_deref().unwrap_or("the default region"),
                if info.read_only { " (read-only)" } else { "" }
            );
            state.log(EventKind::Action, what.clone());
            match info.warning {
                Some(w) => state.say(format!("{what}; {w}")),
                None => state.say(what),
            }
            true
        }
        Input::AccountSwitched(Err(e)) => {
            state.switching = None;
            state.refuse(e);
            true
        }
        Input::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return effects;
            }
            on_key(state, key, &mut effects);
            true
        }
    };
    if changed || before != state.clone_marker() {
        state.revision += 1;
    }
    effects
}

impl AppState {
    /// A cheap fingerprint of what keys change (for the revision counter).
    fn clone_marker(&self) -> (usize, bool, bool, [usize; View::COUNT], usize) {
        (
            self.view.index(),
            self.detail,
            self.modal.is_some(),
            self.selected,
            self.detail_row,
        )
    }
}

fn on_key(state: &mut AppState, key: KeyEvent, effects: &mut Vec<Effect>) {
    // Ctrl-C quits from anywhere, even from a dialog.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        effects.push(Effect::Quit);
        return;
    }
    // While the screen says it is too small, nothing else is drawn: a key must not land in
    // a form or a filter the operator cannot see. Only quitting works.
    if state.too_small() {
        if key.code == KeyCode::Char('q') {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        return;
    }
    if state.modal.is_some() {
        on_modal_key(state, key, effects);
        return;
    }
    if state.filter_editing {
        match key.code {
            KeyCode::Esc => {
                state.filter.clear();
                state.filter_editing = false;
            }
            KeyCode::Enter => state.filter_editing = false,
            KeyCode::Backspace => {
                state.filter.pop();
            }
            KeyCode::Char(c) => state.filter.push(c),
            _ => {}
        }
        state.selected[state.view.index()] = 0;
        return;
    }
    state.message = None;
    let Some(action) = action_for(key) else {
        return;
    };
    on_action(state, action, effects);
}

/// Carries out an action in the normal mode.
pub fn on_action(state: &mut AppState, action: Action, effects: &mut Vec<Effect>) {
    if action.is_demo_only() && state.demo.is_none() {
        return;
    }
    if action.is_mutating() && state.read_only {
        state.refuse(
            "read-only (--read-only, or the profile's read_only in the configuration file): \
             backups, alarms, acknowledgements, legal holds and restores are refused",
        );
        return;
    }
    let row = state.selected_row();
    // Counting the rows filters and sorts the whole table: only the moves need it, so a sort
    // key on 10,000 volumes does not pay for it twice.
    let set_row = |state: &mut AppState, r: usize| {
        let r = r.min(state.row_count().saturating_sub(1));
        if state.detail {
            state.detail_row = r;
        } else {
            state.selected[state.view.index()] = r;
        }
    };
    match action {
        Action::NextView => switch_view(state, (state.view.index() + 1) % View::ALL.len()),
        Action::PrevView => switch_view(
            state,
            (state.view.index() + View::ALL.len() - 1) % View::ALL.len(),
        ),
        Action::GoView(i) => switch_view(state, i),
        Action::Down => set_row(state, row + 1),
        Action::Up => set_row(state, row.saturating_sub(1)),
        Action::Top => set_row(state, 0),
        Action::Bottom => set_row(state, usize::MAX),
        Action::PageDown => set_row(state, row + PAGE),
        Action::PageUp => set_row(state, row.saturating_sub(PAGE)),
        Action::Open => match state.view {
            View::Overview => open_overview_row(state, effects),
            View::Backups if state.selected_volume().is_some() => open_detail(state, effects),
            View::Alarms if state.selected_alarm().is_some() => open_detail(state, effects),
            _ => {}
        },
        Action::Back => {
            if state.detail {
                state.detail = false;
            } else if !state.filter.is_empty() {
                state.filter.clear();
            }
        }
        Action::Backup => match state.selected_volume() {
            Some(v) if state.view == View::Backups => {
                let Some(role) = state.backup_role() else {
                    state.refuse(
                        "no backup role yet: the caller identity is unknown; set backup_role in \
                         the config file or wait for the account to answer",
                    );
                    return;
                };
                state.modal = Some(Modal::ConfirmBackup {
                    volume_arn: v.arn.clone(),
                    volume_name: v.name.clone(),
                    vault: state.actions.vault.clone(),
                    role,
                });
            }
            _ => state.refuse("b backs up a volume: select one on the Backups view"),
        },
        Action::Protect => match recovery_target(state, "P protects") {
            Ok(target) => state.modal = Some(Modal::ConfirmProtect(Box::new(target))),
            Err(why) => state.refuse(why),
        },
        Action::Restore => match recovery_target(state, "R restores") {
            Ok(target) => match state.backup_role() {
                Some(role) => {
                    state.modal = Some(Modal::ConfirmRestore {
                        target: Box::new(target),
                        role,
                    })
                }
                None => state.refuse(
                    "no restore role yet: the caller identity is unknown; set backup_role in \
                     the config file or wait for the account to answer",
                ),
            },
            Err(why) => state.refuse(why),
        },
        Action::CreateAlarm => open_alarm_form(state),
        Action::Acknowledge => match state.selected_alarm() {
            Some(a) if state.view == View::Alarms && a.state == crate::cloud::AlarmState::Alarm => {
                state.modal = Some(match &a.ack {
                    // x on an acknowledged alarm offers to withdraw it.
                    Some(k) => Modal::Withdraw {
                        alarm_name: a.name.clone(),
                        by: k.by.clone(),
                        mine: state.identity.as_ref().is_some_and(|i| i.arn == k.by),
                    },
                    None => Modal::Acknowledge {
                        alarm_name: a.name.clone(),
                        note: String::new(),
                        snooze: String::new(),
                        on_snooze: false,
                    },
                });
            }
            Some(a) if state.view == View::Alarms => state.refuse(format!(
                "only an alarm in ALARM can be acknowledged: {} is {}",
                state.name_things(&a.name),
                a.state.as_aws()
            )),
            _ => state.refuse("x acknowledges an alarm: select one on the Alarms view"),
        },
        // The filter and `!` choose the rows of the list behind an open detail: changing them
        // there would swap the volume or alarm the detail shows.
        Action::Filter | Action::ProblemsOnly if state.detail => {
            state.refuse("the filter and ! choose the list's rows: Esc returns to the list");
        }
        Action::Filter => {
            state.filter_editing = true;
        }
        Action::Command => {
            state.modal = Some(Modal::Command {
                input: String::new(),
                recall: None,
            })
        }
        Action::Refresh => {
            state.say("refreshing…");
            effects.push(Effect::Pipeline(Command::Refresh));
        }
        Action::Copy => match selected_arn(state) {
            Some(arn) => {
                state.say(format!("copied {arn}"));
                effects.push(Effect::CopyToClipboard(arn));
            }
            None => state.refuse("nothing with an ARN is selected"),
        },
        Action::NextTheme => {
            let name = next_builtin(&state.theme.name);
            if let Some(t) = Theme::builtin(name) {
                state.theme = t;
                state.say(format!("theme {name}"));
            }
        }
        Action::SwitchAlgo => {
            if state.view != View::Metrics {
                return;
            }
            let algo = match state.metric_algo {
                MetricDetector::Rcf => MetricDetector::Band,
                MetricDetector::Band => MetricDetector::Rcf,
            };
            state.metric_algo = algo;
            effects.push(Effect::Pipeline(Command::SetMetricDetector(algo)));
            state.say(match algo {
                MetricDetector::Rcf => "local detector: Random Cut Forest",
                MetricDetector::Band => "local detector: band",
            });
        }
        Action::Help => {
            state.modal = Some(Modal::Help {
                query: String::new(),
                scroll: 0,
            })
        }
        Action::Quit => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        Action::DemoPause => {
            let paused = !state.demo.map(|d| d.paused).unwrap_or(false);
            if let Some(d) = &mut state.demo {
                d.paused = paused;
            }
            state.say(if paused {
                "demo paused"
            } else {
                "demo resumed"
            });
            effects.push(Effect::DemoPause(paused));
        }
        Action::SortNext | Action::SortReverse => {
            // In the volume detail the keys sort its snapshots, not the volumes behind it
            // (which would change the volume the detail shows).
            let snapshots = state.detail && state.view == View::Backups;
            let cols = if snapshots {
                crate::app::table::SNAPSHOT_COLUMNS
            } else {
                crate::app::table::sort_columns(state.view)
            };
            if state.detail && !snapshots {
                state.refuse("the history is in time order; Esc returns to the sortable table");
                return;
            }
            if cols.is_empty() {
                state.refuse(
                    "this view is already in order: problems worst first, events newest first",
                );
                return;
            }
            let sort = if snapshots {
                &mut state.snapshot_sort
            } else {
                &mut state.sort[state.view.index()]
            };
            if action == Action::SortNext {
                sort.column = (sort.column + 1) % cols.len();
                sort.reverse = false;
            } else {
                sort.reverse = !sort.reverse;
            }
            let text = format!(
                "sorted by {}{}",
                cols[sort.column],
                if sort.reverse { ", reversed" } else { "" }
            );
            state.say(text);
            if snapshots {
                state.detail_row = 0;
            } else {
                state.selected[state.view.index()] = 0;
            }
        }
        Action::ProblemsOnly => {
            state.problems_only = !state.problems_only;
            state.say(if state.problems_only {
                "showing only problems (! shows everything)"
            } else {
                "showing every row"
            });
            state.selected[state.view.index()] = 0;
        }
        Action::RangeShorter | Action::RangeLonger => {
            let i = RANGES
                .iter()
                .position(|(_, r)| *r == state.range)
                .unwrap_or(RANGES.len() - 1);
            let j = if action == Action::RangeShorter {
                i.saturating_sub(1)
            } else {
                (i + 1).min(RANGES.len() - 1)
            };
            state.range = RANGES[j].1;
            // A zoom is a slice of one range; on another range it would show another place.
            state.zoom = Default::default();
            state.say(format!("charts: {}", range_label(state.range)));
        }
        Action::ZoomIn | Action::ZoomOut => {
            state.zoom = if action == Action::ZoomIn {
                state.zoom.zoom_in()
            } else {
                state.zoom.zoom_out()
            };
            state.say(match state.zoom.level {
                0 => format!("charts: {}, whole range", range_label(state.range)),
                _ => format!(
                    "charts: {}, zoom ×{} (< > pan, - zooms out)",
                    range_label(state.range),
                    state.zoom.factor()
                ),
            });
        }
        Action::PanOlder | Action::PanNewer => {
            if state.zoom.level == 0 {
                state.refuse("the chart shows its whole range: + zooms in, then < > pan");
            } else {
                state.zoom = state.zoom.pan(action == Action::PanOlder);
            }
        }
        Action::PaneDown => state.pane_scroll += 1,
        Action::PaneUp => state.pane_scroll = state.pane_scroll.saturating_sub(1),
        Action::DemoBurst => match state.selected_volume() {
            Some(v) if state.view == View::Backups => {
                let text = format!("the next backup of {} will see an encryption burst", v.name);
                effects.push(Effect::DemoBurst {
                    volume_arn: v.arn.clone(),
                });
                state.say(text);
            }
            _ => state.refuse("i injects a burst into a volume: select one on the Backups view"),
        },
    }
}

/// The recovery point `P` and `R` act on: the snapshot selected in the open volume detail, else
/// the selected volume's last clean recovery point.
fn recovery_target(state: &AppState, what: &str) -> Result<RecoveryTarget, String> {
    let v = match state.selected_volume() {
        Some(v) if state.view == View::Backups => v,
        _ => {
            return Err(format!(
                "{what} a recovery point: select a volume on the Backups view"
            ));
        }
    };
    let clean = v.last_clean();
    let index = if state.detail {
        state.selected_snapshot().unwrap_or(0)
    } else {
        clean.ok_or_else(|| {
            format!(
                "{} has no anomalous count, so no last clean recovery point; open it (Enter) and \
                 select a snapshot to act on that one",
                v.name
            )
        })?
    };
    let s = v
        .snapshots
        .get(index)
        .ok_or_else(|| format!("{} has no snapshot yet", v.name))?;
    Ok(RecoveryTarget {
        volume_arn: v.arn.clone(),
        volume_id: v.id.clone(),
        volume_name: v.name.clone(),
        size_gib: v.size_gib,
        snapshot_id: s.id.clone(),
        recovery_point_arn: v.snapshot_arn(&s.id),
        created: s
            .created
            .ok_or_else(|| format!("{} has no creation time for {}", v.name, s.id))?,
        last_clean: clean == Some(index),
        vault: state.actions.vault.clone(),
    })
}

/// Enter on the Overview: a problem jumps to its thing; an event shows its full text below.
fn open_overview_row(state: &mut AppState, effects: &mut Vec<Effect>) {
    use crate::app::problems::{Target, view_of_source};
    let row = state.selected[View::Overview.index()];
    let problems = state.problems();
    let Some(p) = problems.get(row) else {
        return;
    };
    state.filter.clear();
    state.problems_only = false;
    // The view to go to and the thing's row there (None: the view is the destination).
    let (view, row) = match &p.target {
        Target::Alarm(name) => (
            View::Alarms,
            state
                .visible_alarms()
                .iter()
                .position(|&i| state.alarms[i].name == *name),
        ),
        Target::Volume(arn) => (
            View::Backups,
            state
                .visible_volumes()
                .iter()
                .position(|&i| state.volumes[i].arn == *arn),
        ),
        Target::Device(id) => (
            View::Streams,
            state
                .visible_devices()
                .iter()
                .position(|&i| state.devices[i].id == *id),
        ),
        Target::Source(s) => (view_of_source(*s), None),
    };
    switch_view(state, view.index());
    if let Some(r) = row {
        state.selected[view.index()] = r;
        // An alarm or a volume opens its detail; a device's chart is on the view itself.
        if matches!(view, View::Alarms | View::Backups) {
            open_detail(state, effects);
        }
    }
}

/// Clicks select tabs and rows; the wheel moves the selection.
fn on_mouse(state: &mut AppState, m: MouseEvent, effects: &mut Vec<Effect>) {
    if state.too_small() || state.modal.is_some() {
        return;
    }
    match m.kind {
        MouseEventKind::ScrollDown => on_action(state, Action::Down, effects),
        MouseEventKind::ScrollUp => on_action(state, Action::Up, effects),
        MouseEventKind::Down(MouseButton::Left) => {
            if m.row == 0 {
                if let Some(i) = View::tab_at(m.column, state.size.0) {
                    switch_view(state, i);
                }
                return;
            }
            if let Some(i) = state.shard_at(m.row) {
                let s = &state.shards[i];
                state.selected_shard = Some((s.stream.clone(), s.shard.clone()));
                return;
            }
            if let Some(r) = state.row_at(m.column, m.row) {
                let rows = state.row_count();
                if r < rows {
                    if state.detail {
                        state.detail_row = r;
                    } else {
                        state.selected[state.view.index()] = r;
                    }
                }
            }
        }
        _ => {}
    }
}

pub(super) fn switch_view(state: &mut AppState, i: usize) {
    state.view = View::ALL[i % View::ALL.len()];
    state.pane_scroll = 0;
    state.detail = false;
    state.filter.clear();
    state.filter_editing = false;
}

fn open_detail(state: &mut AppState, effects: &mut Vec<Effect>) {
    state.detail = true;
    // The newest snapshot is selected, wherever the sort puts it: `R` and `P` then act on the
    // latest state, as they did before the list could be sorted.
    let newest = state
        .selected_volume()
        .map(|v| v.snapshots.len().saturating_sub(1));
    state.detail_row = state
        .visible_snapshots()
        .iter()
        .position(|&i| Some(i) == newest)
        .unwrap_or(0);
    if state.view == View::Alarms {
        state.detail_row = 0;
        if let Some(a) = state.selected_alarm() {
            effects.push(Effect::Pipeline(Command::LoadAlarmHistory {
                alarm_name: a.name.clone(),
            }));
        }
    }
}

/// The ARN of what is selected in the current view.
fn selected_arn(state: &AppState) -> Option<String> {
    match state.view {
        View::Backups => {
            let v = state.selected_volume()?;
            if state.detail
                && let Some(s) = state.selected_snapshot().and_then(|i| v.snapshots.get(i))
            {
                // The snapshot a restore came from: what the operator needs next is the new
                // volume's id (to attach it), not the snapshot's ARN.
                if let Some(new) = state
                    .restores
                    .iter()
                    .find(|r| r.volume_arn == v.arn && r.snapshot_id == s.id)
                    .and_then(|r| r.new_volume_id.clone())
                {
                    return Some(new);
                }
                return Some(v.snapshot_arn(&s.id));
            }
            Some(v.arn.clone())
        }
        View::Alarms => state.selected_alarm().map(|a| a.arn.clone()),
        View::Notifications => {
            let vis = state.visible_notifications();
            vis.get(state.selected_row())
                .map(|&i| state.notifications[i].topic.clone())
        }
        _ => None,
    }
}

fn edit_text(buf: &mut String, key: KeyEvent) -> bool {
    match key.code {
        KeyCode::Backspace => {
            buf.pop();
            true
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            buf.push(c);
            true
        }
        _ => false,
    }
}

fn on_modal_key(state: &mut AppState, key: KeyEvent, effects: &mut Vec<Effect>) {
    let Some(mut modal) = state.modal.take() else {
        return;
    };
    let mut keep = true;
    match &mut modal {
        Modal::Help { query, scroll } => match key.code {
            KeyCode::Esc => {
                if query.is_empty() {
                    keep = false
                } else {
                    query.clear()
                }
            }
            KeyCode::Char('?') if query.is_empty() => keep = false,
            KeyCode::Down => *scroll += 1,
            KeyCode::Up => *scroll = scroll.saturating_sub(1),
            _ => {
                if edit_text(query, key) {
                    *scroll = 0;
                }
            }
        },
        Modal::ConfirmBackup {
            volume_arn,
            vault,
            role,
            volume_name,
        } => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => {
                effects.push(Effect::Pipeline(Command::StartBackup {
                    volume_arn: volume_arn.clone(),
                    vault: vault.clone(),
                    iam_role_arn: role.clone(),
                }));
                let vname = volume_name.clone();
                state.jobs.retain(|j| &j.volume_arn != volume_arn);
                state.jobs.push(BackupJobView {
                    volume_arn: volume_arn.clone(),
                    vault: vault.clone(),
                    job_id: None,
                    percent: 0.0,
                    state: "STARTING".into(),
                    message: None,
                    done: false,
                });
                state.say(format!("starting a backup of {vname}…"));
                keep = false;
            }
            KeyCode::Char('n') | KeyCode::Esc => {
                state.say("backup cancelled");
                keep = false
            }
            _ => {}
        },
        Modal::ConfirmProtect(t) => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => {
                effects.push(Effect::Pipeline(Command::Protect {
                    volume_arn: t.volume_arn.clone(),
                    recovery_point_arn: t.recovery_point_arn.clone(),
                    vault: t.vault.clone(),
                    created: t.created,
                }));
                state.say(format!(
                    "placing a legal hold on {} of {}…",
                    t.snapshot_id, t.volume_name
                ));
                keep = false;
            }
            KeyCode::Char('n') | KeyCode::Esc => {
                state.say("legal hold cancelled");
                keep = false
            }
            _ => {}
        },
        Modal::ConfirmRestore { target: t, role } => match key.code {
            KeyCode::Char('y') | KeyCode::Enter => {
                effects.push(Effect::Pipeline(Command::Restore {
                    volume_arn: t.volume_arn.clone(),
                    recovery_point_arn: t.recovery_point_arn.clone(),
                    vault: t.vault.clone(),
                    iam_role_arn: role.clone(),
                }));
                state.restores.retain(|r| r.volume_arn != t.volume_arn);
                state.restores.push(RestoreView {
                    volume_arn: t.volume_arn.clone(),
                    snapshot_id: t.snapshot_id.clone(),
                    job_id: None,
                    zone: None,
                    percent: 0.0,
                    state: "STARTING".into(),
                    message: None,
                    new_volume_id: None,
                    done: false,
                });
                state.say(format!(
                    "restoring {} of {} to a new volume…",
                    t.snapshot_id, t.volume_name
                ));
                keep = false;
            }
            KeyCode::Char('n') | KeyCode::Esc => {
                state.say("restore cancelled");
                keep = false
            }
            _ => {}
        },
        Modal::AlarmForm(form) => match key.code {
            KeyCode::Esc => keep = false,
            KeyCode::Left | KeyCode::Right if form.focus == 0 => {
                let all = AlarmForm::STATISTICS;
                let i = all.iter().position(|s| *s == form.fields[0]).unwrap_or(0);
                let j = if key.code == KeyCode::Right {
                    (i + 1) % all.len()
                } else {
                    (i + all.len() - 1) % all.len()
                };
                form.fields[0] = all[j].to_string();
                form.error = validate(form).err();
            }
            // The statistic is picked, never typed: `Maxi0` cannot reach AWS.
            _ if form.focus == 0 && matches!(key.code, KeyCode::Char(_) | KeyCode::Backspace) => {}
            KeyCode::Enter
                if form.existing.is_some()
                    && !form.overwrite_confirmed
                    && validate(form).is_ok() =>
            {
                form.overwrite_confirmed = true;
                form.error = Some(
                    "it exists and will be replaced: Enter again to overwrite, Esc to keep it"
                        .into(),
                );
            }
            KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % form.fields.len(),
            KeyCode::BackTab | KeyCode::Up => {
                form.focus = (form.focus + form.fields.len() - 1) % form.fields.len()
            }
            KeyCode::Enter => match submit_alarm_form(form) {
                Ok(effect) => {
                    if let Effect::Pipeline(Command::CreateAlarm { definition, .. }) = &effect {
                        state.say(format!("creating alarm {}…", definition.name));
                    }
                    effects.push(effect);
                    keep = false;
                }
                Err(e) => form.error = Some(e),
            },
            _ => {
                let focus = form.focus;
                if edit_text(&mut form.fields[focus], key) {
                    if focus == 2 {
                        refresh_preview(form);
                    }
                    form.overwrite_confirmed = false;
                    form.error = validate(form).err();
                }
            }
        },
        Modal::Acknowledge {
            alarm_name,
            note,
            snooze,
            on_snooze,
        } => match key.code {
            KeyCode::Esc => keep = false,
            KeyCode::Tab | KeyCode::BackTab => *on_snooze = !*on_snooze,
            KeyCode::Enter => {
                let minutes = snooze.trim();
                let snooze_until = match minutes.parse::<u32>() {
                    _ if minutes.is_empty() => None,
                    Ok(m) if m > 0 => Some(state.now + chrono::Duration::minutes(m.into())),
                    _ => {
                        state.refuse("snooze: a whole number of minutes, or empty for none");
                        state.modal = Some(modal);
                        return;
                    }
                };
                let note = note.trim();
                effects.push(Effect::Pipeline(Command::Acknowledge {
                    alarm_name: alarm_name.clone(),
                    note: (!note.is_empty()).then(|| note.to_string()),
                    snooze_until,
                }));
                state.say(format!("acknowledging {alarm_name}…"));
                keep = false;
            }
            _ => {
                edit_text(if *on_snooze { snooze } else { note }, key);
            }
        },
        Modal::Withdraw {
            alarm_name, mine, ..
        } => match key.code {
            KeyCode::Esc | KeyCode::Char('n') => keep = false,
            KeyCode::Enter | KeyCode::Char('y') => {
                effects.push(Effect::Pipeline(Command::Withdraw {
                    alarm_name: alarm_name.clone(),
                    force: !*mine,
                }));
                state.say(format!("withdrawing the acknowledgement of {alarm_name}…"));
                keep = false;
            }
            _ => {}
        },
        Modal::CreateAckTable { table } => match key.code {
            KeyCode::Esc | KeyCode::Char('n') => {
                state.say(format!(
                    "not created: acknowledgements stay on this machine until {table} exists"
                ));
                keep = false;
            }
            KeyCode::Enter | KeyCode::Char('y') => {
                effects.push(Effect::Pipeline(Command::CreateAckTable));
                state.say(format!("creating the table {table}…"));
                keep = false;
            }
            _ => {}
        },
        Modal::Command { input, recall } => match key.code {
            KeyCode::Esc => keep = false,
            KeyCode::Enter => {
                let line = input.trim().to_string();
                if !line.is_empty() && state.command_history.last() != Some(&line) {
                    state.command_history.push(line.clone());
                }
                run_command(state, &line, effects);
                return;
            }
            KeyCode::Tab => {
                let (done, options) = complete(input, &state.profiles);
                *input = done;
                if options.len() > 1 {
                    state.say(options.join("  "));
                } else if options.is_empty() {
                    state.refuse(format!("no command starts with :{input}"));
                } else {
                    state.message = None;
                }
            }
            KeyCode::Up | KeyCode::Down => {
                let n = state.command_history.len();
                if n > 0 {
                    let i = match (*recall, key.code) {
                        (None, KeyCode::Up) => Some(n - 1),
                        (None, _) => None,
                        (Some(i), KeyCode::Up) => Some(i.saturating_sub(1)),
                        (Some(i), _) if i + 1 < n => Some(i + 1),
                        (Some(_), _) => None,
                    };
                    *recall = i;
                    *input = i
                        .map(|i| state.command_history[i].clone())
                        .unwrap_or_default();
                }
            }
            _ => {
                if edit_text(input, key) {
                    state.message = None;
                }
            }
        },
        Modal::AccountPicker {
            field,
            query,
            selected,
        } => {
            let matches = super::command::picker_matches(state, *field, query);
            match key.code {
                KeyCode::Esc => keep = false,
                KeyCode::Down => *selected = (*selected + 1).min(matches.len().saturating_sub(1)),
                KeyCode::Up => *selected = selected.saturating_sub(1),
                KeyCode::Enter => {
                    if let Some(name) = matches.get(*selected) {
                        let choice = match field {
                            AccountField::Profile => AccountChoice::Profile(name.clone()),
                            AccountField::Region => AccountChoice::Region(name.clone()),
                        };
                        super::command::switch_account(state, choice, effects);
                        keep = false;
                    }
                }
                _ => {
                    if edit_text(query, key) {
                        *selected = 0;
                    }
                }
            }
        }
        Modal::MetricBrowser { query, selected } => {
            let matches: Vec<usize> = state
                .metric_catalog
                .iter()
                .enumerate()
                .filter(|(_, m)| m.display().to_lowercase().contains(&query.to_lowercase()))
                .map(|(i, _)| i)
                .collect();
            match key.code {
                KeyCode::Esc => keep = false,
                KeyCode::Down => *selected = (*selected + 1).min(matches.len().saturating_sub(1)),
                KeyCode::Up => *selected = selected.saturating_sub(1),
                KeyCode::Enter => {
                    if let Some(&i) = matches.get(*selected) {
                        let id = state.metric_catalog[i].clone();
                        state.say(format!("watching {}", id.display()));
                        effects.push(Effect::Pipeline(Command::SelectMetric(id)));
                        state.view = View::Metrics;
                        state.detail = false;
                        keep = false;
                    }
                }
                _ => {
                    if edit_text(query, key) {
                        *selected = 0;
                    }
                }
            }
        }
    }
    if keep {
        state.modal = Some(modal);
    }
}
