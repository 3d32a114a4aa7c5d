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
            let r = Row::new(vec![
                Line::raw(when(&n.at)),
                Line::raw(truncate(&topic, 28)),
                Line::raw(subject),
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
            Constraint::Length(11),
            Constraint::Length(28),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["Sent", "Topic", "Subject"]).style(theme.style(Role::Header)))
    .block(block(
        format!("SNS notifications ({})", vis.len()),
        state,
        true,
    ));
    f.render_widget(table, list);
    let text = vis
        .get(selected)
        .map(|&i| {
            let n = &state.notifications[i];
            format!("{}\n\n{}", n.topic, n.message)
        })
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(block("Message", state, false)),
        body,
    );
}
