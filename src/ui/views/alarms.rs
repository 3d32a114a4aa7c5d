//! Alarms: every relevant alarm with its state, reason, time in state and acknowledgement;
//! the detail shows the definition and the history.

use crate::app::state::{AppState, View};
use crate::cloud::{AlarmMetric, MetricQueryKind};
use crate::theme::Role;
use crate::ui::{
    age, alarm_display_name, alarm_label, alarm_style, block, scroll_offset, truncate, when,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let vis = state.visible_alarms();
    let height = area.height.saturating_sub(3) as usize;
    let selected = state.selected[View::Alarms.index()].min(vis.len().saturating_sub(1));
    let offset = scroll_offset(selected, height);
    let wide = area.width >= 120;
    let ack_width: usize = if wide { 28 } else { 16 };
    let rows = vis
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, &i)| {
            let a = &state.alarms[i];
            // who, how long ago, the note; "⇡" marks one not shared yet.
            let ack = match (&a.ack, a.snoozed_until) {
                (Some(k), _) => Span::styled(
                    truncate(
                        &format!(
                            "✓{} {} {}{}",
                            if k.shared { "" } else { "⇡" },
                            k.short_by(),
                            age((state.now - k.at).num_seconds()),
                            if k.note.is_empty() {
                                String::new()
                            } else {
                                format!(" {}", k.note)
                            }
                        ),
                        ack_width,
                    ),
                    theme.style(Role::Acknowledged),
                ),
                (None, Some(until)) => Span::styled(
                    // The hour alone is enough today; another day needs its date.
                    if until.date_naive() == state.now.date_naive() {
                        format!("snoozed {}", until.format("%H:%M"))
                    } else {
                        format!("snoozed {}", crate::ui::when(&until, &state.now))
                    },
                    theme.style(Role::Dim),
                ),
                (None, None) if a.state == crate::cloud::AlarmState::Alarm => {
                    Span::styled("needs ack", theme.style(Role::AlarmAlarm))
                }
                (None, None) => Span::raw(""),
            };
            let r = Row::new(vec![
                Line::from(Span::styled(
                    alarm_label(a.state),
                    alarm_style(state, a.state),
                )),
                Line::raw(alarm_display_name(state, &a.name)),
                Line::raw(age((state.now - a.since).num_seconds())).right_aligned(),
                Line::from(ack),
                Line::raw(truncate(&a.reason, 200)),
            ]);
            if row == selected {
                r.style(theme.style(Role::Selection))
            } else {
                r
            }
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Length(if wide { 56 } else { 32 }),
            Constraint::Length(5),
            Constraint::Length(ack_width as u16),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["State", "Name", "For", "Ack", "Reason"]).style(theme.style(Role::Header)))
    .block(block(
        format!(
            "Alarms ({}){}{}",
            vis.len(),
            if state.problems_only {
                " · problems only"
            } else {
                ""
            },
            state.sort_label(View::Alarms)
        ),
        state,
        true,
    ));
    f.render_widget(table, area);
}

pub fn render_detail(f: &mut Frame, area: Rect, state: &AppState) {
    let Some(a) = state.selected_alarm() else {
        return;
    };
    let theme = &state.theme;
    let [def, hist] = crate::app::layout::alarm_detail_areas(area);
    let d = &a.definition;
    let key = |k: &str| Span::styled(format!("{k:<20}"), theme.style(Role::Header));
    let mut lines = vec![
        Line::from(vec![
            key("state"),
            Span::styled(a.state.as_aws(), alarm_style(state, a.state)),
            Span::raw(format!(
                " since {} ({})",
                when(&a.since, &state.now),
                age((state.now - a.since).num_seconds())
            )),
        ]),
        Line::from(vec![key("reason"), Span::raw(a.reason.clone())]),
    ];
    match &a.ack {
        Some(k) => lines.push(Line::from(vec![
            key("acknowledged"),
            Span::styled(
                format!(
                    "by {} at {} ({} ago){}{}{}",
                    k.by,
                    when(&k.at, &state.now),
                    age((state.now - k.at).num_seconds()),
                    if k.note.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", k.note)
                    },
                    k.snooze_until
                        .map(|t| format!(", snoozed until {}", when(&t, &state.now)))
                        .unwrap_or_default(),
                    if k.shared { "" } else { " — not shared yet" },
                ),
                theme.style(Role::Acknowledged),
            ),
        ])),
        None => lines.push(Line::from(vec![
            key("acknowledged"),
            Span::raw(match a.snoozed_until {
                Some(t) => format!(
                    "no (re-notifications snoozed until {})",
                    when(&t, &state.now)
                ),
                None => "no".into(),
            }),
        ])),
    }
    match &d.metric {
        AlarmMetric::Single {
            metric,
            stat,
            period,
        } => {
            lines.push(Line::from(vec![key("metric"), Span::raw(metric.display())]));
            lines.push(Line::from(vec![
                key("statistic / period"),
                Span::raw(format!("{stat} / {period} s")),
            ]));
        }
        AlarmMetric::Queries(qs) => {
            for q in qs {
                let text = match &q.kind {
                    MetricQueryKind::Stat {
                        metric,
                        period,
                        stat,
                    } => {
                        format!("{} {stat} / {period} s", metric.display())
                    }
                    MetricQueryKind::Expression(e) => e.clone(),
                };
                lines.push(Line::from(vec![
                    key(&format!("query {}", q.id)),
                    Span::raw(text),
                ]));
            }
        }
    }
    let threshold = match (d.threshold, &d.threshold_metric_id) {
        (Some(t), _) => format!("{t}"),
        (None, Some(id)) => format!("band {id}"),
        _ => "—".into(),
    };
    lines.push(Line::from(vec![
        key("comparison"),
        Span::raw(format!("{} {threshold}", d.comparison.as_aws())),
    ]));
    lines.push(Line::from(vec![
        key("evaluation"),
        Span::raw(format!(
            "{}{}, missing data: {}",
            crate::words::count(d.evaluation_periods, "period", "periods"),
            d.datapoints_to_alarm
                .map(|n| format!(", {n} to alarm"))
                .unwrap_or_default(),
            d.treat_missing_data.as_aws()
        )),
    ]));
    lines.push(Line::from(vec![
        key("actions"),
        Span::raw(format!(
            "{}{}",
            if d.actions_enabled { "" } else { "(disabled) " },
            d.alarm_actions.join(", ")
        )),
    ]));
    lines.push(Line::from(vec![key("ARN"), Span::raw(a.arn.clone())]));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block(a.name.clone(), state, true)),
        def,
    );
    let height = hist.height.saturating_sub(2) as usize;
    let offset = scroll_offset(state.detail_row, height);
    let width = hist.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = a
        .history
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, h)| {
            let l = Line::from(vec![
                Span::styled(
                    format!("{} ", when(&h.timestamp, &state.now)),
                    theme.style(Role::Dim),
                ),
                Span::raw(format!("{:<20} ", h.item_type)),
                Span::raw(truncate(&h.summary, width.saturating_sub(33))),
            ]);
            if i == state.detail_row {
                l.style(theme.style(Role::Selection))
            } else {
                l
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "loading history…",
            theme.style(Role::Dim),
        )));
    }
    f.render_widget(
        Paragraph::new(lines).block(block("History", state, false)),
        hist,
    );
}
