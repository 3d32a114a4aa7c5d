//! `update(&mut state, input) -> Vec<Effect>`: the only code that changes [`AppState`].
//!
//! Pure: no I/O, no clock, no terminal. What needs the outside world (start a backup, write an
//! alarm, copy to the clipboard, read a theme file) is returned as an [`Effect`] value that the
//! runtime executes, and its outcome comes back later as an [`Input`].

use super::feed;
use super::keymap::{Action, action_for};
use super::state::*;
use crate::cloud::{AnomalyDetector, MetricId, Time};
use crate::detect::{Algo, AnyDetector, BandConfig, Detector, DetectorConfig};
use crate::pipeline::{Command, Event, MetricDetector};
use crate::theme::{Theme, next_builtin};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Everything that can happen to the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Key(KeyEvent),
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
        Input::Resize(..) => true,
        Input::ThemeLoaded(Ok(theme)) => {
            state.say(format!("theme {}", theme.name));
            state.theme = theme;
            true
        }
        Input::ThemeLoaded(Err(e)) => {
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
            "read-only: watchband was started with --read-only, so backups, alarms and \
             acknowledgements are refused",
        );
        return;
    }
    let rows = state.row_count();
    let row = state.selected_row();
    let set_row = |state: &mut AppState, r: usize| {
        let r = r.min(rows.saturating_sub(1));
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
        Action::CreateAlarm => open_alarm_form(state),
        Action::Acknowledge => match state.selected_alarm() {
            Some(a) if state.view == View::Alarms && a.state == crate::cloud::AlarmState::Alarm => {
                if a.ack.is_some() {
                    state.refuse(format!("{} is already acknowledged", a.name));
                } else {
                    state.modal = Some(Modal::Acknowledge {
                        alarm_name: a.name.clone(),
                        note: String::new(),
                    });
                }
            }
            Some(a) if state.view == View::Alarms => state.refuse(format!(
                "{} is {}: only an alarm in ALARM can be acknowledged",
                a.name,
                a.state.as_aws()
            )),
            _ => state.refuse("x acknowledges an alarm: select one on the Alarms view"),
        },
        Action::Filter => {
            state.filter_editing = true;
        }
        Action::Command => {
            state.modal = Some(Modal::Command {
                input: String::new(),
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

fn switch_view(state: &mut AppState, i: usize) {
    state.view = View::ALL[i % View::ALL.len()];
    state.detail = false;
    state.filter.clear();
    state.filter_editing = false;
}

fn open_detail(state: &mut AppState, effects: &mut Vec<Effect>) {
    state.detail = true;
    state.detail_row = state.row_count().saturating_sub(1);
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
                && let Some(s) = v.snapshots.get(state.detail_row)
            {
                let region = v.arn.split(':').nth(3).unwrap_or("");
                return Some(format!("arn:aws:ec2:{region}::snapshot/{}", s.id));
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

/// The series `a` would put an alarm on, with its data for the preview.
/// Metric, statistic, period and the data the band preview is computed on.
type AlarmTarget = (MetricId, String, i32, Vec<(i64, f64)>);

fn alarm_target(state: &AppState) -> Option<AlarmTarget> {
    match state.view {
        View::Backups => {
            let v = state.selected_volume()?;
            let data = v.changes.points.iter().map(|p| (p.t, p.value)).collect();
            Some((
                crate::interop::backup_metric(&v.arn),
                "Maximum".into(),
                60,
                data,
            ))
        }
        View::Metrics => {
            let m = state.selected_metric()?;
            let data = m.scored.points.iter().map(|p| (p.t, p.value)).collect();
            Some((m.id.clone(), m.stat.clone(), m.period, data))
        }
        _ => None,
    }
}

fn open_alarm_form(state: &mut AppState) {
    let Some((metric, stat, period, data)) = alarm_target(state) else {
        state.refuse(
            "a creates an alarm on a series: select a volume (Backups) or a metric (Metrics)",
        );
        return;
    };
    let topic = state.topic_arn().unwrap_or_default();
    let mut form = AlarmForm {
        metric,
        fields: [stat, period.to_string(), "2".into(), "1".into(), topic],
        focus: 2,
        data,
        preview: Series::default(),
        error: None,
    };
    refresh_preview(&mut form);
    state.modal = Some(Modal::AlarmForm(Box::new(form)));
}

/// Recomputes the band preview with the width typed in the form.
fn refresh_preview(form: &mut AlarmForm) {
    match form.fields[2].trim().parse::<f64>() {
        Ok(w) if w.is_finite() && w > 0.0 => {
            form.preview = score(&form.data, Algo::Band, w);
            form.error = None;
        }
        _ => form.error = Some("band width must be a positive number".into()),
    }
}

/// Scores a series with the local detector (the Metrics view's band, the form's preview).
pub fn score(data: &[(i64, f64)], algo: Algo, width: f64) -> Series {
    let config = DetectorConfig {
        algo,
        band: BandConfig {
            width,
            ..BandConfig::default()
        },
        ..DetectorConfig::default()
    };
    let mut series = Series::default();
    let Ok(mut det) = AnyDetector::new(&config) else {
        return series;
    };
    for &(t, v) in data {
        if let Ok(verdict) = det.observe(t, v) {
            series.push(Point {
                t,
                value: v,
                band: verdict.band.map(|b| (b.lower, b.upper)),
                anomalous: verdict.anomalous,
            });
        }
    }
    series
}

/// Validates the form and builds the detector and alarm it writes.
fn submit_alarm_form(form: &AlarmForm) -> Result<Effect, String> {
    let stat = form.fields[0].trim();
    if stat.is_empty() {
        return Err("statistic is empty (Average, Maximum, Sum, p99 ...)".into());
    }
    let period: i32 = form.fields[1]
        .trim()
        .parse()
        .ok()
        .filter(|p: &i32| *p == 10 || *p == 30 || (*p > 0 && p % 60 == 0))
        .ok_or("period must be 10, 30 or a multiple of 60 seconds")?;
    let width: f64 = form.fields[2]
        .trim()
        .parse()
        .ok()
        .filter(|w: &f64| w.is_finite() && *w > 0.0)
        .ok_or("band width must be a positive number")?;
    let evals: i32 = form.fields[3]
        .trim()
        .parse()
        .ok()
        .filter(|e| *e >= 1)
        .ok_or("evaluation periods must be a whole number ≥ 1")?;
    let topic = form.fields[4].trim();
    if !topic.starts_with("arn:") {
        return Err("SNS topic must be a topic ARN (arn:aws:sns:...)".into());
    }
    let volume = form
        .metric
        .dimensions
        .iter()
        .find(|(k, _)| k == crate::interop::BACKUP_DIMENSION)
        .map(|(_, v)| v.clone());
    let name = match &volume {
        Some(arn) => crate::interop::backup_alarm_name(arn),
        None => format!("watchband/{}", form.metric.display()),
    };
    let alarm = crate::interop::anomaly_alarm_definition(
        &name,
        form.metric.clone(),
        stat,
        period,
        width,
        evals,
        topic,
    );
    Ok(Effect::Pipeline(Command::CreateAlarm {
        detector: AnomalyDetector {
            metric: form.metric.clone(),
            stat: stat.to_string(),
            excluded: Vec::new(),
            metric_timezone: None,
            periodic_spikes: false,
            state: None,
        },
        definition: Box::new(alarm),
    }))
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
        Modal::AlarmForm(form) => match key.code {
            KeyCode::Esc => keep = false,
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
                if edit_text(&mut form.fields[focus], key) && focus == 2 {
                    refresh_preview(form);
                }
            }
        },
        Modal::Acknowledge { alarm_name, note } => match key.code {
            KeyCode::Esc => keep = false,
            KeyCode::Enter => {
                let note = note.trim();
                effects.push(Effect::Pipeline(Command::Acknowledge {
                    alarm_name: alarm_name.clone(),
                    note: (!note.is_empty()).then(|| note.to_string()),
                    who: state.acknowledger(),
                }));
                state.say(format!("acknowledging {alarm_name}…"));
                keep = false;
            }
            _ => {
                edit_text(note, key);
            }
        },
        Modal::Command { input } => match key.code {
            KeyCode::Esc => keep = false,
            KeyCode::Enter => {
                let line = input.trim().to_string();
                run_command(state, &line, effects);
                return;
            }
            _ => {
                edit_text(input, key);
            }
        },
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

/// Runs a `:` command line.
fn run_command(state: &mut AppState, line: &str, effects: &mut Vec<Effect>) {
    let (cmd, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, a.trim()),
        None => (line, ""),
    };
    match cmd {
        "" => {}
        "q" | "quit" => {
            state.quit = true;
            effects.push(Effect::Quit);
        }
        "theme" if arg.is_empty() => state.refuse(format!(
            "usage: :theme NAME|PATH (built-in: {})",
            crate::theme::BUILTIN.map(|(n, _)| n).join(", ")
        )),
        "theme" => effects.push(Effect::LoadTheme(arg.to_string())),
        "metric" | "metrics" if cmd == "metric" || !arg.is_empty() => {
            effects.push(Effect::Pipeline(Command::ListMetrics { namespace: None }));
            state.modal = Some(Modal::MetricBrowser {
                query: arg.to_string(),
                selected: 0,
            });
        }
        "refresh" => {
            effects.push(Effect::Pipeline(Command::Refresh));
            state.say("refreshing…");
        }
        "help" => {
            state.modal = Some(Modal::Help {
                query: arg.to_string(),
                scroll: 0,
            })
        }
        "filter" => state.filter = arg.to_string(),
        other => match View::from_command(other) {
            Some(v) => switch_view(state, v.index()),
            None => state.refuse(format!(
                "unknown command :{other} (try :backups :streams :alarms :metrics :metric \
                 :notifications :overview :theme NAME :refresh :quit)"
            )),
        },
    }
}
