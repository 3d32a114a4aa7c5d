//! The two bottom lines: the message / input line, and the status bar with the caller identity,
//! the account kind, the sources' health and the account clock.

use crate::app::state::AppState;
use crate::pipeline::HealthState;
use crate::theme::Role;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// What happened last, the filter being typed, or a hint of the main keys.
pub fn render_message_line(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let line = if state.filter_editing {
        Line::from(vec![
            Span::styled("/", theme.style(Role::Title)),
            Span::styled(format!("{}▏", state.filter), theme.style(Role::Input)),
            Span::styled("  Enter keep · Esc clear", theme.style(Role::Dim)),
        ])
    } else if let Some(m) = &state.message {
        Line::from(Span::styled(
            m.text.clone(),
            theme.style(if m.error { Role::Error } else { Role::Message }),
        ))
    } else if !state.filter.is_empty() {
        Line::from(vec![
            Span::styled(
                format!("filter: {}", state.filter),
                theme.style(Role::Message),
            ),
            Span::styled("  (Esc clears)", theme.style(Role::Dim)),
        ])
    } else {
        let mut hint = String::from("? help  Tab view  j/k move  Enter open");
        if !state.read_only {
            hint.push_str("  b backup  a alarm  x ack");
        }
        hint.push_str("  / filter  : command  q quit");
        if state.demo.is_some() {
            hint.push_str("  p pause  i burst");
        }
        if state.read_only {
            hint.push_str("  [read-only]");
        }
        Line::from(Span::styled(hint, theme.style(Role::Dim)))
    };
    f.render_widget(Paragraph::new(line), area);
}

/// `demo · arn… · region │ backups ok · streams throttled │ 2026-11-21 15:00 UTC`
pub fn render_status_bar(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let bar = theme.style(Role::StatusBar);
    let mut spans = vec![Span::styled(format!(" {} ", state.cloud_kind), bar)];
    if let Some(d) = state.demo {
        let s = if d.paused {
            " PAUSED ".to_string()
        } else {
            format!(" ×{} ", d.speed)
        };
        spans.push(Span::styled(s, bar));
    }
    let narrow = area.width < 120;
    let who = match &state.identity {
        // Narrow: the role/user part of the ARN and the account are what tell accounts apart.
        Some(id) if narrow => {
            let tail = id.arn.split(['/', ':']).rev().take(2).collect::<Vec<_>>();
            let tail = tail.into_iter().rev().collect::<Vec<_>>().join("/");
            format!("│ {tail}@{} {} ", id.account, id.region)
        }
        Some(id) => format!("│ {} {} ", id.arn, id.region),
        None => "│ identity unknown ".into(),
    };
    spans.push(Span::styled(who, bar));
    spans.push(Span::styled("│", bar));
    for (source, health, _) in state.sources() {
        let role = match health {
            HealthState::Ok => Role::HealthOk,
            HealthState::Throttled => Role::HealthThrottled,
            HealthState::Degraded => Role::HealthDegraded,
        };
        let mark = match health {
            HealthState::Ok => "●",
            HealthState::Throttled => "◐",
            HealthState::Degraded => "✖",
        };
        let style = bar.patch(theme.style(role));
        if narrow {
            // One mark per source, in Source order; the overview names them.
            spans.push(Span::styled(mark, style));
        } else {
            spans.push(Span::styled(format!(" {mark}"), style));
            spans.push(Span::styled(source.label().to_string(), bar));
        }
    }
    let clock = if narrow {
        format!(" │ {} ", state.now.format("%m-%d %H:%M"))
    } else {
        format!(" │ {} UTC ", state.now.format("%Y-%m-%d %H:%M"))
    };
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used + clock.chars().count());
    spans.push(Span::styled(" ".repeat(room), bar));
    spans.push(Span::styled(clock, bar));
    f.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}
