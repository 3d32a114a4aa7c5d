//! Rendering: `render(frame, state)` draws the whole screen from [`AppState`] and nothing else.
//! One function per screen region (tabs, each view, the message line, the status bar, the
//! dialogs); the views and widgets live in their own modules.

pub mod dialogs;
pub mod no_account;
pub mod status;
pub mod terminal;
pub mod views;
pub mod widgets;

use crate::app::state::{AppState, View};
use crate::theme::Role;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

pub use crate::app::layout::{MIN_HEIGHT, MIN_WIDTH, scroll_offset};

/// Draws one frame.
pub fn render(f: &mut Frame, state: &AppState) {
    let area = f.area();
    let theme = &state.theme;
    f.render_widget(Block::default().style(theme.style(Role::Text)), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(f, area, state);
        return;
    }
    let [tabs, body, message, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_tabs(f, tabs, state);
    match state.view {
        View::Overview => views::overview::render(f, body, state),
        View::Backups if state.detail => views::volume::render(f, body, state),
        View::Backups => views::backups::render(f, body, state),
        View::Streams => views::streams::render(f, body, state),
        View::Alarms if state.detail => views::alarms::render_detail(f, body, state),
        View::Alarms => views::alarms::render(f, body, state),
        View::Metrics => views::metrics::render(f, body, state),
        View::Notifications => views::notifications::render(f, body, state),
    }
    let source = match state.view {
        View::Overview => None,
        View::Backups => Some(crate::pipeline::Source::Backups),
        View::Streams => Some(crate::pipeline::Source::Streams),
        View::Alarms => Some(crate::pipeline::Source::Alarms),
        View::Metrics => Some(crate::pipeline::Source::Metrics),
        View::Notifications => Some(crate::pipeline::Source::Notifications),
    };
    if let Some(source) = source {
        mark_stale(f, body, state, source);
    }
    status::render_message_line(f, message, state);
    status::render_status_bar(f, status, state);
    if let Some(modal) = &state.modal {
        dialogs::render(f, area, state, modal);
    }
}

/// Stale is not current: when the view's source fails, everything inside the view is dimmed
/// and its top line says how old the values are (`⚠ backups failing · read 3m ago`), or that
/// nothing was read (`⚠ backups failing · nothing read yet`), so an empty table is not taken for
/// an empty account.
fn mark_stale(f: &mut Frame, body: Rect, state: &AppState, source: crate::pipeline::Source) {
    use crate::app::state::Staleness;
    let Some(stale) = state.source_staleness(source) else {
        return;
    };
    let theme = &state.theme;
    let inner = Rect::new(
        body.x + 1,
        body.y + 1,
        body.width.saturating_sub(2),
        body.height.saturating_sub(2),
    );
    f.buffer_mut().set_style(inner, theme.style(Role::Dim));
    let note = match stale {
        Staleness::NeverRead => format!(" ⚠ {} failing · nothing read yet ", source.label()),
        Staleness::Since(secs) => {
            format!(" ⚠ {} failing · read {} ago ", source.label(), age(secs))
        }
    };
    let width = (unicode_width::UnicodeWidthStr::width(note.as_str()) as u16)
        .min(body.width.saturating_sub(4));
    let at = Rect::new(
        body.x + body.width.saturating_sub(width + 2),
        body.y,
        width,
        1.min(body.height),
    );
    f.render_widget(
        Paragraph::new(Span::styled(note, theme.style(Role::HealthDegraded))),
        at,
    );
}

fn render_too_small(f: &mut Frame, area: Rect, state: &AppState) {
    let text = vec![
        Line::from(Span::styled(
            "terminal too small",
            state.theme.style(Role::Error),
        )),
        Line::raw(format!(
            "{}×{} — watchband needs at least {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::raw("enlarge the window, or press q to quit"),
    ];
    let y = area.height.saturating_sub(3) / 2;
    let r = Rect::new(area.x, area.y + y, area.width, 3.min(area.height));
    f.render_widget(
        Paragraph::new(text)
            .centered()
            .wrap(ratatui::widgets::Wrap { trim: true }),
        r,
    );
}

fn render_tabs(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let mut spans = vec![Span::styled(
        crate::app::layout::TAB_TITLE,
        theme.style(Role::Title),
    )];
    for (i, v) in View::ALL.iter().enumerate() {
        let label = v.tab_label(i, area.width);
        let style = if *v == state.view {
            theme.style(Role::TabActive)
        } else {
            theme.style(Role::Dim)
        };
        spans.push(Span::styled(label, style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A bordered block with a title, in the theme's border colours.
pub fn block<'a>(title: impl Into<String>, state: &AppState, focused: bool) -> Block<'a> {
    let theme = &state.theme;
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.style(Role::BorderFocus)
        } else {
            theme.style(Role::Border)
        })
        .title(Span::styled(
            format!(" {} ", title.into()),
            theme.style(Role::Title),
        ))
}

/// "42s", "5m", "3h", "12d", "2y": how long ago, always with its unit, at the resolution
/// that matters.
pub fn age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 60 {
        format!("{s}s")
    } else if s < 3_600 {
        format!("{}m", s / 60)
    } else if s < 86_400 * 2 {
        format!("{}h", s / 3_600)
    } else if s < 86_400 * 730 {
        format!("{}d", s / 86_400)
    } else {
        format!("{}y", s / (86_400 * 365))
    }
}

/// A duration from milliseconds, at the resolution that matters: `850 ms`, `42s`, `5m07s`,
/// `21h13m`, `2d03h` (an iterator age of 76,400,485 ms reads `21h13m`).
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    if ms < 1000 {
        format!("{ms} ms")
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3_600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3_600, s % 3_600 / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, s % 86_400 / 3_600)
    }
}

/// `MM-DD HH:MM` in UTC, with the year in front when it is not the year of `now`.
pub fn when(t: &crate::cloud::Time, now: &crate::cloud::Time) -> String {
    use chrono::Datelike;
    if t.year() == now.year() {
        t.format("%m-%d %H:%M").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Cuts a string to `n` characters with an ellipsis.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The style of an alarm state.
pub fn alarm_style(state: &AppState, s: crate::cloud::AlarmState) -> Style {
    use crate::cloud::AlarmState::*;
    state.theme.style(match s {
        Ok => Role::AlarmOk,
        Alarm => Role::AlarmAlarm,
        InsufficientData => Role::AlarmInsufficient,
    })
}

/// A short label for an alarm state in tables (the detail spells it as AWS does).
pub fn alarm_label(s: crate::cloud::AlarmState) -> &'static str {
    match s {
        crate::cloud::AlarmState::Ok => "OK",
        crate::cloud::AlarmState::Alarm => "ALARM",
        crate::cloud::AlarmState::InsufficientData => "INSUFFICIENT",
    }
}

/// An alarm name as a table shows it: `Backup-Anomaly-Alarm/<arn>` becomes
/// `web-01 backup alarm (vol-…)`, so the volume's name comes first and survives truncation.
pub fn alarm_display_name(state: &AppState, name: &str) -> String {
    let Some(arn) = crate::interop::volume_arn_of_alarm(name) else {
        return name.to_string();
    };
    let id = crate::interop::volume_id_in(arn).unwrap_or(arn);
    match state.volume_by_arn(arn) {
        Some(v) if v.name != v.id => format!("{} backup alarm ({id})", v.name),
        _ => format!("{id} backup alarm"),
    }
}
