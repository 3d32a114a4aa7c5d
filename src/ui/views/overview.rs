//! Overview: the counts that say whether something is wrong, the sources' health and the
//! latest events.

use crate::app::state::{AppState, EventKind};
use crate::pipeline::HealthState;
use crate::theme::Role;
use crate::ui::{age, block, scroll_offset, truncate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let [top, events] = Layout::vertical([Constraint::Length(7), Constraint::Min(3)]).areas(area);
    let [counts, health] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
    render_counts(f, counts, state);
    render_health(f, health, state);
    render_events(f, events, state);
}

fn render_counts(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let anomalies = state.anomalies_last_24h();
    let attention = state.alarms_needing_attention();
    let in_alarm = state
        .alarms
        .iter()
        .filter(|a| a.state == crate::cloud::AlarmState::Alarm)
        .count();
    let streams: std::collections::BTreeSet<&str> =
        state.shards.iter().map(|s| s.stream.as_str()).collect();
    let value = |n: usize, bad: bool| {
        Span::styled(
            format!("{n:>6}"),
            if bad && n > 0 {
                theme.style(Role::AlarmAlarm)
            } else {
                theme.style(Role::Text)
            },
        )
    };
    let lines = vec![
        Line::from(vec![
            value(state.volumes.len(), false),
            Span::raw("  protected volumes"),
        ]),
        Line::from(vec![
            value(anomalies, true),
            Span::raw("  anomalies in the last 24 h"),
        ]),
        Line::from(vec![
            value(streams.len(), false),
            Span::raw(format!(
                "  streams, {} shards, {:.1} records/s",
                state.shards.len(),
                state.records_per_sec()
            )),
        ]),
        Line::from(vec![
            value(attention, true),
            Span::raw(format!(
                "  alarms in ALARM not acknowledged ({in_alarm} in ALARM)"
            )),
        ]),
        Line::from(vec![
            value(state.notifications.len(), false),
            Span::raw("  notifications sent"),
        ]),
    ];
    f.render_widget(
        Paragraph::new(lines).block(block("Estate", state, false)),
        area,
    );
}

fn render_health(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let mut lines = Vec::new();
    let width = area.width.saturating_sub(2) as usize;
    for (source, health, report) in state.sources() {
        let role = match health {
            HealthState::Ok => Role::HealthOk,
            HealthState::Throttled => Role::HealthThrottled,
            HealthState::Degraded => Role::HealthDegraded,
        };
        let label = match health {
            HealthState::Ok => "ok",
            HealthState::Throttled => "throttled",
            HealthState::Degraded => "degraded",
        };
        let mut spans = vec![
            Span::raw(format!("{:<14}", source.label())),
            Span::styled(format!("{label:<10}"), theme.style(role)),
        ];
        if let Some((e, at)) = report.and_then(|h| Some((h.last_error.as_ref()?, h.last_error_at?)))
        {
            let ago = age((state.now - at).num_seconds());
            let text = format!("{ago} ago: {e}");
            spans.push(Span::styled(
                truncate(&text, width.saturating_sub(24)),
                theme.style(Role::Dim),
            ));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(
        Paragraph::new(lines).block(block("Sources", state, false)),
        area,
    );
}

fn render_events(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    // Newest first; the selection scrolls through them.
    let newest_first: Vec<_> = state
        .visible_events()
        .into_iter()
        .map(|i| &state.events[i])
        .collect();
    let selected = state
        .selected_row()
        .min(newest_first.len().saturating_sub(1));
    let offset = scroll_offset(selected, height);
    let mut lines = Vec::new();
    for (i, e) in newest_first.iter().enumerate().skip(offset).take(height) {
        let (mark, role) = match e.kind {
            EventKind::Backup => ("backup ", Role::AlarmOk),
            EventKind::Anomaly => ("ANOMALY", Role::Anomaly),
            EventKind::Alarm => ("alarm  ", Role::AlarmAlarm),
            EventKind::Notification => ("notify ", Role::Message),
            EventKind::Action => ("action ", Role::Title),
            EventKind::Error => ("error  ", Role::Error),
        };
        let mut line = Line::from(vec![
            Span::styled(
                format!("{} ", e.at.format("%m-%d %H:%M")),
                theme.style(Role::Dim),
            ),
            Span::styled(mark, theme.style(role)),
            Span::raw(" "),
            Span::raw(truncate(&e.text, width.saturating_sub(20))),
        ]);
        if i == selected {
            line = line.style(theme.style(Role::Selection));
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "no events yet",
            theme.style(Role::Dim),
        )));
    }
    f.render_widget(
        Paragraph::new(lines).block(block("Latest events", state, true)),
        area,
    );
}
