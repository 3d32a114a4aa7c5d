//! Overview: what is wrong and where. A one-line summary of the estate; the open problems by
//! name, worst first (Enter goes to the thing); the latest events, selectable, with the
//! selected line in full underneath. Sources' health is on the status bar and, when a source
//! is not ok, among the problems.

use crate::app::layout::{OVERVIEW_DETAIL_H, overview_problem_rows};
use crate::app::problems::Problem;
use crate::app::state::{AppState, EventKind, LogEvent, Staleness, View};
use crate::app::text::count;
use crate::pipeline::Source;
use crate::theme::Role;
use crate::ui::{age, block, scroll_offset, truncate, when};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let problems = state.problems();
    let prows = overview_problem_rows(problems.len(), area.height);
    let [summary, list, events, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(prows + 2),
        Constraint::Min(3),
        Constraint::Length(OVERVIEW_DETAIL_H),
    ])
    .areas(area);
    render_summary(f, summary, state);
    let row = state.selected[View::Overview.index()];
    render_problems(f, list, state, &problems, row);
    let events_list: Vec<&LogEvent> = state
        .visible_events()
        .into_iter()
        .map(|i| &state.events[i])
        .collect();
    let event_row = row.checked_sub(problems.len());
    render_events(f, events, state, &events_list, event_row);
    render_detail(f, detail, state, &problems, &events_list, row);
}

/// `10 volumes · 1 anomaly in 24 h · 1 stream (2 shards, 5.0 rec/s) · 1 alarm in ALARM · …`
fn render_summary(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let in_alarm = state
        .alarms
        .iter()
        .filter(|a| a.state == crate::cloud::AlarmState::Alarm)
        .count();
    let streams: std::collections::BTreeSet<&str> =
        state.shards.iter().map(|s| s.stream.as_str()).collect();
    let anomalies = state.anomalies_last_24h();
    let sep = Span::styled(" · ", theme.style(Role::Dim));
    let bad = |n: usize, text: String| {
        Span::styled(
            text,
            if n > 0 {
                theme.style(Role::AlarmAlarm)
            } else {
                theme.style(Role::Text)
            },
        )
    };
    // Stale is not current: a counter whose source fails is dimmed with its age, and one
    // whose source never answered is unknown (`—`), not zero.
    let known = |source: Source, span: Span<'static>, unknown: &str| -> Span<'static> {
        match state.source_staleness(source) {
            None => span,
            // The Problems list names the failing source; the view says nothing was read.
            Some(Staleness::NeverRead) => {
                Span::styled(format!("— {unknown}"), theme.style(Role::Dim))
            }
            Some(Staleness::Since(secs)) => Span::styled(
                format!("{} ({} ago)", span.content, age(secs)),
                theme.style(Role::Dim),
            ),
        }
    };
    let streams_text = match state.source_staleness(Source::Streams) {
        // The rate is now, and nothing is known of now.
        Some(Staleness::Since(_)) => {
            format!("{} (? rec/s)", count(streams.len(), "stream", "streams"))
        }
        _ => format!(
            "{} ({:.1} rec/s)",
            count(streams.len(), "stream", "streams"),
            state.records_per_sec()
        ),
    };
    let spans = vec![
        known(
            Source::Backups,
            Span::raw(count(state.volumes.len(), "volume", "volumes")),
            "volumes",
        ),
        sep.clone(),
        bad(
            anomalies,
            format!("{} in 24 h", count(anomalies, "anomaly", "anomalies")),
        ),
        sep.clone(),
        known(Source::Streams, Span::raw(streams_text), "streams"),
        sep.clone(),
        known(
            Source::Alarms,
            bad(
                in_alarm,
                format!("{} in ALARM", count(in_alarm, "alarm", "alarms")),
            ),
            "alarms in ALARM",
        ),
        sep,
        known(
            Source::Notifications,
            Span::raw(count(
                state
                    .notifications
                    .iter()
                    .map(|n| n.count as usize)
                    .sum::<usize>(),
                "notification",
                "notifications",
            )),
            "notifications",
        ),
    ];
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn problem_role(p: &Problem) -> Role {
    match p.severity {
        0 => Role::AlarmAlarm,
        1 | 2 => Role::Anomaly,
        3 => Role::HealthDegraded,
        _ => Role::HealthThrottled,
    }
}

fn render_problems(f: &mut Frame, area: Rect, state: &AppState, problems: &[Problem], row: usize) {
    let theme = &state.theme;
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let name_w = (width / 4).clamp(12, 28);
    let selected = (row < problems.len()).then_some(row);
    let offset = scroll_offset(selected.unwrap_or(0), height);
    let now = state.now.timestamp();
    let mut lines = Vec::new();
    for (i, p) in problems.iter().enumerate().skip(offset).take(height) {
        let ago = p.since.map(|t| age(now - t)).unwrap_or_default();
        let what_w = width.saturating_sub(10 + name_w + 1 + 5);
        let mut line = Line::from(vec![
            Span::styled(format!("{:<10}", p.kind), theme.style(problem_role(p))),
            Span::styled(
                format!("{:<name_w$} ", truncate(&p.name, name_w)),
                theme.style(Role::Title),
            ),
            Span::raw(format!("{:<what_w$}", truncate(&p.what, what_w))),
            Span::styled(format!("{ago:>5}"), theme.style(Role::Dim)),
        ]);
        if selected == Some(i) {
            line = line.style(theme.style(Role::Selection));
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing wrong: no alarm in ALARM, no anomalous volume or sensor, every source ok",
            theme.style(Role::AlarmOk),
        )));
    }
    let title = if problems.is_empty() {
        "Problems".to_string()
    } else {
        format!(
            "Problems ({}) — worst first, Enter goes there",
            problems.len()
        )
    };
    f.render_widget(
        Paragraph::new(lines).block(block(title, state, selected.is_some())),
        area,
    );
}

fn event_mark(kind: EventKind) -> (&'static str, Role) {
    match kind {
        EventKind::Backup => ("backup ", Role::AlarmOk),
        EventKind::Anomaly => ("ANOMALY", Role::Anomaly),
        EventKind::Alarm => ("alarm  ", Role::AlarmAlarm),
        EventKind::Notification => ("notify ", Role::Message),
        EventKind::Action => ("action ", Role::Title),
        EventKind::Error => ("error  ", Role::Error),
    }
}

fn render_events(
    f: &mut Frame,
    area: Rect,
    state: &AppState,
    events: &[&LogEvent],
    selected: Option<usize>,
) {
    let theme = &state.theme;
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let offset = scroll_offset(selected.unwrap_or(0), height);
    let mut lines = Vec::new();
    for (i, e) in events.iter().enumerate().skip(offset).take(height) {
        let (mark, role) = event_mark(e.kind);
        let stamp = when(&e.at, &state.now);
        let times = if e.count > 1 {
            format!(" ×{}", e.count)
        } else {
            String::new()
        };
        let room = width.saturating_sub(stamp.chars().count() + 9 + times.chars().count());
        let mut line = Line::from(vec![
            Span::styled(format!("{stamp} "), theme.style(Role::Dim)),
            Span::styled(mark, theme.style(role)),
            Span::raw(" "),
            Span::raw(truncate(&e.text, room)),
            Span::styled(times, theme.style(Role::Message)),
        ]);
        if selected == Some(i) {
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
        Paragraph::new(lines).block(block("Latest events", state, selected.is_some())),
        area,
    );
}

/// The selected problem or event in full: nothing is cut here.
fn render_detail(
    f: &mut Frame,
    area: Rect,
    state: &AppState,
    problems: &[Problem],
    events: &[&LogEvent],
    row: usize,
) {
    let theme = &state.theme;
    let text: Vec<Line> = if let Some(p) = problems.get(row) {
        vec![Line::from(vec![
            Span::styled(format!("{} ", p.kind), theme.style(problem_role(p))),
            Span::styled(format!("{}: ", p.name), theme.style(Role::Title)),
            Span::raw(p.what.clone()),
        ])]
    } else if let Some(e) = events.get(row - problems.len()) {
        let (mark, role) = event_mark(e.kind);
        let mut spans = vec![
            Span::styled(
                format!("{} ", e.at.format("%Y-%m-%d %H:%M:%S UTC")),
                theme.style(Role::Dim),
            ),
            Span::styled(format!("{} ", mark.trim_end()), theme.style(role)),
            Span::raw(e.text.clone()),
        ];
        if e.count > 1 {
            spans.push(Span::styled(
                format!(" (×{}, the last at this time)", e.count),
                theme.style(Role::Message),
            ));
        }
        vec![Line::from(spans)]
    } else {
        vec![Line::from(Span::styled(
            "j/k select a problem or an event",
            theme.style(Role::Dim),
        ))]
    };
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(block("Selected", state, false)),
        area,
    );
}
