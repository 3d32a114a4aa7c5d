//! Dialogs drawn over the view: the searchable help, the backup confirmation, the legal hold
//! and restore confirmations (what each does, creates and costs), the alarm form
//! with its band preview, the acknowledgement with a note, the `:` command line and the
//! `:metric` browser.

use super::widgets::band_chart::{self, BandChart};
use super::{scroll_offset, truncate};
use crate::app::keymap::visible_bindings;
use crate::app::state::{AccountField, AlarmForm, AppState, Modal, RecoveryTarget};
use crate::theme::Role;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub fn render(f: &mut Frame, area: Rect, state: &AppState, modal: &Modal) {
    match modal {
        Modal::Help { query, scroll } => render_help(f, area, state, query, *scroll),
        Modal::ConfirmBackup {
            volume_name,
            volume_arn,
            vault,
            role,
        } => render_confirm(f, area, state, volume_name, volume_arn, vault, role),
        Modal::ConfirmProtect(t) => render_protect(f, area, state, t),
        Modal::ConfirmRestore { target, role } => render_restore(f, area, state, target, role),
        Modal::AlarmForm(form) => render_alarm_form(f, area, state, form),
        Modal::Acknowledge {
            alarm_name,
            note,
            snooze,
            on_snooze,
        } => render_ack(f, area, state, alarm_name, note, snooze, *on_snooze),
        Modal::Withdraw {
            alarm_name,
            by,
            mine,
        } => {
            let question = if *mine {
                "Withdraw your acknowledgement of this ALARM episode?".to_string()
            } else {
                format!("Acknowledged by {by}, not by you. Withdraw it anyway?")
            };
            render_question(
                f, area, state, "Withdraw", &question, alarm_name, "withdraw",
            )
        }
        Modal::CreateAckTable { table } => render_question(
            f,
            area,
            state,
            "Shared acknowledgements",
            "The acknowledgements table does not exist, so acknowledgements stay on this \
             machine. Create it (DynamoDB, on demand) so the team shares them?",
            table,
            "create",
        ),
        Modal::Command { input, .. } => render_command(f, area, state, input),
        Modal::MetricBrowser { query, selected } => {
            render_metric_browser(f, area, state, query, *selected)
        }
        Modal::AccountPicker {
            field,
            query,
            selected,
        } => render_account_picker(f, area, state, *field, query, *selected),
    }
}

/// A centred rectangle of at most `w`×`h` inside `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn dialog_block<'a>(title: &str, state: &AppState) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.style(Role::DialogBorder))
        .style(state.theme.style(Role::Dialog))
        .title(Span::styled(
            format!(" {title} "),
            state.theme.style(Role::Title),
        ))
}

/// A dialog of text in `r` (wrapped), over what is behind it.
fn text_dialog(f: &mut Frame, r: Rect, state: &AppState, title: &str, lines: Vec<Line>) {
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(dialog_block(title, state)),
        r,
    );
}

/// The keys a dialog answers to, each with what it does: `y/Enter start   n/Esc cancel`.
fn key_hints(state: &AppState, hints: &[(&str, &str)]) -> Line<'static> {
    let title = state.theme.style(Role::Title);
    let mut spans = Vec::new();
    for (i, (key, what)) in hints.iter().enumerate() {
        let gap = if i + 1 < hints.len() { "   " } else { "" };
        spans.push(Span::styled(key.to_string(), title));
        spans.push(Span::raw(format!(" {what}{gap}")));
    }
    Line::from(spans)
}

/// The rows of a picker's list in `list`: from the scroll offset that keeps `selected` in
/// sight, cut to the width, the selected one highlighted.
fn picker_rows(
    state: &AppState,
    items: &[String],
    selected: usize,
    list: Rect,
) -> Vec<Line<'static>> {
    let height = list.height as usize;
    items
        .iter()
        .enumerate()
        .skip(scroll_offset(selected, height))
        .take(height)
        .map(|(i, m)| {
            let l = Line::raw(truncate(m, list.width as usize));
            if i == selected {
                l.style(state.theme.style(Role::Selection))
            } else {
                l
            }
        })
        .collect()
}

/// A dialog whose first line is a search field: draws the frame and the field, and returns
/// the area left for the list.
fn search_dialog(f: &mut Frame, r: Rect, state: &AppState, title: &str, query: &str) -> Rect {
    let theme = &state.theme;
    f.render_widget(Clear, r);
    let outer = dialog_block(title, state);
    let inner = outer.inner(r);
    f.render_widget(outer, r);
    let [search, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("search: ", theme.style(Role::Dim)),
            Span::styled(format!("{query}▏"), theme.style(Role::Input)),
        ])),
        search,
    );
    list
}

fn render_help(f: &mut Frame, area: Rect, state: &AppState, query: &str, scroll: usize) {
    let theme = &state.theme;
    let r = centered(area, 86, area.height.saturating_sub(2));
    let list = search_dialog(f, r, state, "Help — type to search, Esc closes", query);
    let q = query.to_lowercase();
    let mut lines: Vec<Line> = visible_bindings(state.read_only, state.demo.is_some())
        .filter(|b| {
            q.is_empty() || b.keys.to_lowercase().contains(&q) || b.what.to_lowercase().contains(&q)
        })
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("{:>12}  ", b.keys), theme.style(Role::Header)),
                Span::raw(b.what),
            ])
        })
        .collect();
    // First, so a short screen cannot scroll it out of sight.
    if state.read_only && q.is_empty() {
        lines.insert(
            0,
            Line::from(Span::styled(
                "read-only: the keys that change the account (b, a, x, i) are off",
                theme.style(Role::Dim),
            )),
        );
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("no key matches “{query}”"),
            theme.style(Role::Dim),
        )));
    }
    let skip = scroll.min(lines.len().saturating_sub(1));
    f.render_widget(Paragraph::new(lines).scroll((skip as u16, 0)), list);
}

fn render_confirm(
    f: &mut Frame,
    area: Rect,
    state: &AppState,
    name: &str,
    arn: &str,
    vault: &str,
    role: &str,
) {
    let theme = &state.theme;
    let r = centered(area, 76, 10);
    let key = |k: &str| Span::styled(format!("{k:<8}"), theme.style(Role::Header));
    let w = r.width.saturating_sub(12) as usize;
    let lines = vec![
        Line::raw("Start an on-demand backup (AWS Backup StartBackupJob)?"),
        Line::raw(""),
        Line::from(vec![key("volume"), Span::raw(name.to_string())]),
        Line::from(vec![
            key(""),
            Span::styled(truncate(arn, w), theme.style(Role::Dim)),
        ]),
        Line::from(vec![key("vault"), Span::raw(vault.to_string())]),
        Line::from(vec![key("role"), Span::raw(truncate(role, w))]),
        Line::raw(""),
        key_hints(state, &[("y/Enter", "start"), ("n/Esc", "cancel")]),
    ];
    text_dialog(f, r, state, "Back up now", lines);
}

/// "snap-… (created …, the last clean recovery point)" or "(…, chosen: not the last clean point)".
fn point_line(state: &AppState, t: &RecoveryTarget) -> Line<'static> {
    let theme = &state.theme;
    let mut spans = vec![
        Span::styled(format!("{:<10}", "point"), theme.style(Role::Header)),
        Span::raw(format!(
            "{} (created {}",
            t.snapshot_id,
            super::when(&t.created, &state.now)
        )),
    ];
    if t.last_clean {
        spans.push(Span::raw(", "));
        spans.push(Span::styled(
            "the last clean recovery point",
            theme.style(Role::AlarmOk),
        ));
    } else {
        spans.push(Span::raw(", "));
        spans.push(Span::styled(
            "selected: not the last clean point",
            theme.style(Role::AlarmInsufficient),
        ));
    }
    spans.push(Span::raw(")"));
    Line::from(spans)
}

fn render_protect(f: &mut Frame, area: Rect, state: &AppState, t: &RecoveryTarget) {
    let theme = &state.theme;
    let r = centered(area, 92, 12);
    let key = |k: &str| Span::styled(format!("{k:<10}"), theme.style(Role::Header));
    let lines = vec![
        Line::raw(format!(
            "Place a legal hold on a recovery point of {} (AWS Backup CreateLegalHold)?",
            t.volume_name
        )),
        Line::raw(""),
        point_line(state, t),
        Line::from(vec![
            key("volume"),
            Span::raw(format!("{}, vault {}", t.volume_id, t.vault)),
        ]),
        Line::from(vec![
            key("does"),
            Span::raw(
                "nobody can delete the point, and its lifecycle cannot expire it, until the hold is cancelled",
            ),
        ]),
        Line::from(vec![
            key("costs"),
            Span::raw(
                "the hold is free; the held snapshot stays billed as EBS snapshot storage while held",
            ),
        ]),
        Line::from(vec![
            key("ends"),
            Span::raw("CancelLegalHold when the incident is closed (console or CLI)"),
        ]),
        Line::raw(""),
        key_hints(state, &[("y/Enter", "place the hold"), ("n/Esc", "cancel")]),
    ];
    text_dialog(f, r, state, "Protect the recovery point", lines);
}

fn render_restore(f: &mut Frame, area: Rect, state: &AppState, t: &RecoveryTarget, role: &str) {
    let theme = &state.theme;
    let r = centered(area, 92, 13);
    let key = |k: &str| Span::styled(format!("{k:<10}"), theme.style(Role::Header));
    let w = r.width.saturating_sub(14) as usize;
    let size = t.size_gib.map(|s| format!("{s} GiB ")).unwrap_or_default();
    let lines = vec![
        Line::raw(format!(
            "Restore a recovery point of {} to a NEW volume (AWS Backup StartRestoreJob)?",
            t.volume_name
        )),
        Line::raw(""),
        point_line(state, t),
        Line::from(vec![
            key("creates"),
            Span::raw(format!(
                "a new {size}EBS volume in {}'s availability zone (the point's restore metadata)",
                t.volume_id
            )),
        ]),
        Line::from(vec![
            key("keeps"),
            Span::raw(format!(
                "{} as it is: the restore never touches the original",
                t.volume_id
            )),
        ]),
        Line::from(vec![key("role"), Span::raw(truncate(role, w))]),
        Line::from(vec![
            key("costs"),
            Span::raw("the new volume is billed as EBS storage until you delete it; a few minutes"),
        ]),
        Line::raw(""),
        key_hints(
            state,
            &[("y/Enter", "start the restore"), ("n/Esc", "cancel")],
        ),
    ];
    text_dialog(f, r, state, "Restore to a new volume", lines);
}

fn render_alarm_form(f: &mut Frame, area: Rect, state: &AppState, form: &AlarmForm) {
    let theme = &state.theme;
    let r = centered(area, 100, area.height.saturating_sub(2).max(18));
    f.render_widget(Clear, r);
    let outer = dialog_block(
        "Create anomaly alarm — Tab next field, Enter create, Esc cancel",
        state,
    );
    let inner = outer.inner(r);
    f.render_widget(outer, r);
    let [fields, legend, preview] = Layout::vertical([
        Constraint::Length(if form.existing.is_some() { 9 } else { 8 }),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(inner);
    let w = inner.width.saturating_sub(22) as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("{:>19}  ", "alarm on"), theme.style(Role::Header)),
        Span::styled(truncate(&form.target, w), theme.style(Role::Title)),
    ])];
    for (i, label) in AlarmForm::LABELS.iter().enumerate() {
        let focused = i == form.focus;
        let value = match (i, focused) {
            (0, true) => format!("◀ {} ▶  (← → pick)", form.fields[0]),
            (_, true) => format!("{}▏", form.fields[i]),
            _ => form.fields[i].clone(),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{label:>19}  "), theme.style(Role::Header)),
            Span::styled(
                truncate(&value, w),
                if focused {
                    theme.style(Role::Input)
                } else {
                    theme.style(Role::Text)
                },
            ),
        ]));
    }
    if let Some(existing) = &form.existing {
        lines.insert(
            1,
            Line::from(vec![
                Span::styled(format!("{:>19}  ", "replaces"), theme.style(Role::Header)),
                Span::styled(
                    truncate(&format!("{existing} (Enter asks again)"), w),
                    theme.style(Role::Error),
                ),
            ]),
        );
    }
    match &form.error {
        Some(e) => lines.push(Line::from(Span::styled(
            e.clone(),
            theme.style(Role::Error),
        ))),
        None => lines.push(Line::from(Span::styled(
            format!(
                "writes the anomaly detector and the alarm; band preview: {} of {} outside",
                form.preview.anomalies(),
                crate::words::count(form.preview.points.len(), "point", "points")
            ),
            theme.style(Role::Dim),
        ))),
    }
    f.render_widget(Paragraph::new(lines), fields);
    f.render_widget(
        Paragraph::new(band_chart::legend(theme, false, &[])),
        legend,
    );
    band_chart::render(
        f,
        preview,
        &BandChart {
            series: &form.preview,
            thresholds: vec![],
            unit: "",
            window: None,
            zoom: Default::default(),
        },
        theme,
    );
}

fn render_ack(
    f: &mut Frame,
    area: Rect,
    state: &AppState,
    alarm: &str,
    note: &str,
    snooze: &str,
    on_snooze: bool,
) {
    let theme = &state.theme;
    let r = centered(area, 76, 10);
    let w = r.width.saturating_sub(4) as usize;
    let cursor = |on: bool| if on { "▏" } else { "" };
    let lines = vec![
        Line::raw("Acknowledge this ALARM episode for the team (announced on its SNS topic):"),
        Line::from(Span::styled(
            truncate(&state.name_things(alarm), w),
            theme.style(Role::AlarmAlarm),
        )),
        Line::from(Span::styled(truncate(alarm, w), theme.style(Role::Dim))),
        Line::from(vec![
            Span::styled("note:            ", theme.style(Role::Header)),
            Span::styled(
                format!("{note}{}", cursor(!on_snooze)),
                theme.style(Role::Input),
            ),
        ]),
        Line::from(vec![
            Span::styled("snooze (minutes): ", theme.style(Role::Header)),
            Span::styled(
                format!("{snooze}{}", cursor(on_snooze)),
                theme.style(Role::Input),
            ),
        ]),
        Line::raw(""),
        key_hints(
            state,
            &[
                ("Enter", "acknowledge"),
                ("Tab", "note/snooze"),
                ("Esc", "cancel"),
            ],
        ),
    ];
    text_dialog(f, r, state, "Acknowledge", lines);
}

/// A yes/no dialog: the question, what it is about, Enter/y to do it, Esc/n not to.
fn render_question(
    f: &mut Frame,
    area: Rect,
    state: &AppState,
    title: &str,
    question: &str,
    subject: &str,
    verb: &str,
) {
    let theme = &state.theme;
    let r = centered(area, 76, 9);
    let w = r.width.saturating_sub(4) as usize;
    let lines = vec![
        Line::raw(question.to_string()),
        Line::from(Span::styled(
            truncate(subject, w),
            theme.style(Role::Header),
        )),
        Line::raw(""),
        key_hints(state, &[("Enter/y", verb), ("Esc/n", "cancel")]),
    ];
    text_dialog(f, r, state, title, lines);
}

fn render_command(f: &mut Frame, area: Rect, state: &AppState, input: &str) {
    let theme = &state.theme;
    let r = Rect::new(area.x, area.bottom().saturating_sub(2), area.width, 1);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(":", theme.style(Role::Title)),
            Span::styled(format!("{input}▏"), theme.style(Role::Input)),
            // The command line covers the message line: Tab's candidates are shown here.
            match &state.message {
                Some(m) => Span::styled(
                    format!("   {}", m.text),
                    theme.style(if m.error { Role::Error } else { Role::Message }),
                ),
                None => Span::styled(
                    "   Tab completes · ↑↓ history · backups alarms metric range theme refresh quit",
                    theme.style(Role::Dim),
                ),
            },
        ])),
        r,
    );
}

fn render_metric_browser(
    f: &mut Frame,
    area: Rect,
    state: &AppState,
    query: &str,
    selected: usize,
) {
    let theme = &state.theme;
    let r = centered(area, 90, area.height.saturating_sub(4));
    let list = search_dialog(
        f,
        r,
        state,
        "Pick a metric (ListMetrics) — type to search, Enter watch",
        query,
    );
    let q = query.to_lowercase();
    let matches: Vec<String> = state
        .metric_catalog
        .iter()
        .map(|m| m.display())
        .filter(|d| d.to_lowercase().contains(&q))
        .collect();
    let mut lines = picker_rows(state, &matches, selected, list);
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            if state.metric_catalog.is_empty() {
                "listing metrics…"
            } else {
                "no metric matches"
            },
            theme.style(Role::Dim),
        )));
    }
    f.render_widget(Paragraph::new(lines), list);
}

/// `:profile` / `:region` without a name: the profiles of the shared AWS files or the regions,
/// narrowed by what is typed; the current one is marked.
fn render_account_picker(
    f: &mut Frame,
    area: Rect,
    state: &AppState,
    field: AccountField,
    query: &str,
    selected: usize,
) {
    let theme = &state.theme;
    let (title, current, none) = match field {
        AccountField::Profile => (
            "Switch profile — type to search, Enter switch, Esc cancel",
            state.profile.as_deref().unwrap_or("default"),
            "no profile in ~/.aws/config or ~/.aws/credentials matches",
        ),
        AccountField::Region => (
            "Switch region — type to search, Enter switch, Esc cancel",
            state.region.as_deref().unwrap_or(""),
            "no region matches (a new one can be typed: :region NAME)",
        ),
    };
    let r = centered(area, 64, area.height.saturating_sub(4));
    let list = search_dialog(f, r, state, title, query);
    let marked: Vec<String> = crate::app::command::picker_matches(state, field, query)
        .into_iter()
        .map(|m| {
            let mark = if m == current { "● " } else { "  " };
            format!("{mark}{m}")
        })
        .collect();
    let mut lines = picker_rows(state, &marked, selected, list);
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(none, theme.style(Role::Dim))));
    }
    f.render_widget(Paragraph::new(lines), list);
}
