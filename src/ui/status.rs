//! The two bottom lines: the message / input line, and the status bar with the account kind,
//! the profile, account and region (on AWS), the caller identity, the sources' health and the
//! account clock.

use super::truncate;
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
        // Read-only first: at 80 columns the end of the hint is cut.
        let mut hint = String::from(if state.read_only { "[read-only]  " } else { "" });
        hint.push_str("? help  Tab view  j/k move  Enter open");
        if !state.read_only {
            hint.push_str("  b backup  a alarm  x ack");
        }
        hint.push_str("  / filter  o sort  ! problems  : command  q quit");
        if state.demo.is_some() {
            hint.push_str("  p pause");
            // The burst writes to the demo account: a mutating key, hidden like b, a and x.
            if !state.read_only {
                hint.push_str("  i burst");
            }
        }
        Line::from(Span::styled(hint, theme.style(Role::Dim)))
    };
    f.render_widget(Paragraph::new(line), area);
}

/// One part of the status bar: its text at full width and shortened, and how readily it gives
/// way when the line is too short (higher drops first). The clock never drops.
struct Part {
    full: Vec<Span<'static>>,
    short: Vec<Span<'static>>,
    drop_rank: u8,
}

fn width(spans: &[Span]) -> usize {
    spans.iter().map(|s| s.width()).sum()
}

/// `demo ×3600 │ Operator/alice@123456789012 eu-west-1 │ ● backups ● alarms … │ 2026-11-21 15:00 UTC`
/// on the demo; on AWS
/// `aws │ prod@123456789012 eu-west-1 │ arn:aws:sts::…/alice │ ● backups … │ 2026-11-21 15:00 UTC`.
///
/// The parts are laid out at full width when they fit; otherwise each, in drop order, is
/// shortened, then removed, until the line fits, so the clock is never cut.
pub fn render_status_bar(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let bar = theme.style(Role::StatusBar);
    let mut parts = Vec::new();
    let mut kind = vec![Span::styled(format!(" {} ", state.cloud_kind), bar)];
    if let Some(d) = state.demo {
        kind.push(Span::styled(
            if d.paused {
                " PAUSED ".to_string()
            } else {
                format!("×{} ", d.speed)
            },
            bar,
        ));
    }
    parts.push(Part {
        full: kind.clone(),
        short: kind,
        drop_rank: 0,
    });
    // On AWS: which profile, account and region, never dropped (which account a key acts on
    // matters most once `:profile` and `:region` can change it); the caller's role/user
    // beside it gives way first. The demo has one account and region, shown with the caller.
    if state.demo.is_none() {
        let profile = state.profile.as_deref().unwrap_or("default");
        let account = state
            .identity
            .as_ref()
            .map_or("?", |id| id.account.as_str());
        let region = state
            .identity
            .as_ref()
            .map(|id| id.region.as_str())
            .or(state.region.as_deref())
            .unwrap_or("?");
        // A long profile name is cut (to 20, then 10 columns) so that this part and the clock
        // fit at the 64-column minimum.
        let place = |n| {
            vec![Span::styled(
                format!("│ {}@{account} {region} ", truncate(profile, n)),
                bar,
            )]
        };
        parts.push(Part {
            full: place(20),
            short: place(10),
            drop_rank: 0,
        });
    }
    let (who_full, who_short) = match &state.identity {
        Some(id) => {
            // Short: the role/user part of the ARN and the account tell accounts apart.
            let tail = id.arn.split(['/', ':']).rev().take(2).collect::<Vec<_>>();
            let tail = tail.into_iter().rev().collect::<Vec<_>>().join("/");
            if state.demo.is_none() {
                (format!("│ {} ", id.arn), format!("│ {tail} "))
            } else {
                (
                    format!("│ {} {} ", id.arn, id.region),
                    format!("│ {tail}@{} {} ", id.account, id.region),
                )
            }
        }
        None if state.switching.is_some() => ("│ switching… ".into(), "│ … ".into()),
        None => ("│ identity unknown ".into(), "│ ? ".into()),
    };
    parts.push(Part {
        full: vec![Span::styled(who_full, bar)],
        short: vec![Span::styled(who_short, bar)],
        drop_rank: 2,
    });
    let mut health_full = vec![Span::styled("│", bar)];
    let mut health_short = vec![Span::styled("│", bar)];
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
        health_full.push(Span::styled(format!(" {mark}"), style));
        health_full.push(Span::styled(source.label().to_string(), bar));
        // One mark per source, in Source order; the Problems list names a source that is not ok.
        health_short.push(Span::styled(mark, style));
    }
    health_full.push(Span::styled(" ", bar));
    health_short.push(Span::styled(" ", bar));
    parts.push(Part {
        full: health_full,
        short: health_short,
        drop_rank: 1,
    });
    let clock_full = format!("│ {} UTC ", state.now.format("%Y-%m-%d %H:%M"));
    let clock_short = format!("│ {} ", state.now.format("%m-%d %H:%M"));

    let room = area.width as usize;
    let mut short = vec![false; parts.len()];
    let mut shown = vec![true; parts.len()];
    let mut clock = clock_full;
    let total = |parts: &[Part], short: &[bool], shown: &[bool], clock: &str| -> usize {
        parts
            .iter()
            .enumerate()
            .filter(|(i, _)| shown[*i])
            .map(|(i, p)| width(if short[i] { &p.short } else { &p.full }))
            .sum::<usize>()
            + clock.chars().count()
    };
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(parts[i].drop_rank));
    // Shorten every part before removing any; the clock shortens last but one.
    for &i in &order {
        if total(&parts, &short, &shown, &clock) <= room {
            break;
        }
        short[i] = true;
    }
    if total(&parts, &short, &shown, &clock) > room {
        clock = clock_short;
    }
    for &i in &order {
        if total(&parts, &short, &shown, &clock) <= room || parts[i].drop_rank == 0 {
            break;
        }
        shown[i] = false;
    }
    let mut spans: Vec<Span> = Vec::new();
    for (i, p) in parts.into_iter().enumerate() {
        if shown[i] {
            spans.extend(if short[i] { p.short } else { p.full });
        }
    }
    let used = width(&spans);
    let pad = room.saturating_sub(used + clock.chars().count());
    spans.push(Span::styled(" ".repeat(pad), bar));
    spans.push(Span::styled(clock, bar));
    f.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}
