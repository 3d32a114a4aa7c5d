//! Notifications: the SNS messages sent (time, topic, subject), the selected one in full.

use crate::app::state::{AppState, View};
use crate::theme::Role;
use crate::ui::{block, scroll_offset, truncate, when};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, Wrap};

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let [list, body] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
    let vis = state.visible_notifications();
    let height = list.height.saturating_sub(3) as usize;
    let selected = state.selected[View::Notifications.index()].min(vis.len().saturating_sub(1));
    let offset = scroll_offset(selected, height);
    // A date from another year carries its year.
    let sent_w = if vis.iter().any(|&i| {
        use chrono::Datelike;
        state.notifications[i].at.year() != state.now.year()
    }) {
        16
    } else {
        11
    };
    let rows = vis
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, &i)| {
            let n = &state.notifications[i];
            let topic = n.topic.rsplit(':').next().unwrap_or("").to_string();
            let subject = if n.subject.is_empty() {
                n.message.lines().next().unwrap_or("").to_string()
            } else {
                n.subject.clone()
            };
            let times = if n.count > 1 {
                format!("×{}", n.count)
            } else {
                String::new()
            };
            let r = Row::new(vec![
                Line::raw(when(&n.at, &state.now)),
                Line::raw(times).right_aligned(),
                Line::raw(truncate(&topic, 28)),
                Line::raw(state.name_things(&subject)),
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
            Constraint::Length(sent_w),
            Constraint::Length(6),
            Constraint::Length(28),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["Sent", "Times", "Topic", "Subject"]).style(theme.style(Role::Header)))
    .block(block(
        format!(
            "SNS notifications ({}){}",
            vis.len(),
            state.sort_label(View::Notifications)
        ),
        state,
        true,
    ));
    f.render_widget(table, list);
    let text = vis
        .get(selected)
        .map(|&i| {
            let n = &state.notifications[i];
            let times = if n.count > 1 {
                format!(
                    " — sent {}, the last at {}",
                    crate::words::count(n.count, "time", "times"),
                    when(&n.at, &state.now)
                )
            } else {
                String::new()
            };
            format!("{}{times}\n\n{}", n.topic, n.message)
        })
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(block("Message", state, false)),
        body,
    );
}
