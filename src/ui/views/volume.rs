//! Volume detail: the change-block chart with its shaded anomaly band (and CloudWatch's band
//! when the account has one), and the volume's snapshots with the change between each pair.

use crate::app::state::AppState;
use crate::theme::Role;
use crate::ui::widgets::band_chart::{self, BandChart};
use crate::ui::{alarm_style, block, scroll_offset, when};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let Some(v) = state.selected_volume() else {
        return;
    };
    let theme = &state.theme;
    let wide = area.width >= 120;
    let (chart_area, list_area) = if wide {
        let [c, l] = Layout::horizontal([Constraint::Min(40), Constraint::Length(52)]).areas(area);
        (c, l)
    } else {
        let list_h = (area.height / 3).max(5);
        let [c, l] = Layout::vertical([Constraint::Min(8), Constraint::Length(list_h)]).areas(area);
        (c, l)
    };
    let title = format!(
        "{} {} — changed blocks per backup — {}",
        v.name,
        v.id,
        crate::app::update::range_label(state.range)
    );
    let outer = block(title, state, true);
    let inner = outer.inner(chart_area);
    f.render_widget(outer, chart_area);
    let [info, legend, chart] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(inner);
    let mut spans = vec![Span::raw(format!(
        "size {}  verdict ",
        v.size_gib
            .map(|s| format!("{s} GiB"))
            .unwrap_or_else(|| "?".into())
    ))];
    let verdict = v.verdict();
    spans.push(Span::styled(
        verdict.label(),
        if verdict == crate::app::state::VolumeVerdict::Anomalous {
            theme.style(Role::Anomaly)
        } else {
            theme.style(Role::Text)
        },
    ));
    spans.push(Span::raw("  alarm "));
    match v.alarm {
        Some(s) => spans.push(Span::styled(s.as_aws(), alarm_style(state, s))),
        None => spans.push(Span::styled("none (a creates one)", theme.style(Role::Dim))),
    }
    if let Some((b, g, p)) = v.last_change() {
        spans.push(Span::raw(format!(
            "  last {b} blocks, {g:.2} GiB, {p:.1} %"
        )));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), info);
    f.render_widget(
        Paragraph::new(band_chart::legend(
            theme,
            !v.changes.cloudwatch_band.is_empty(),
            &[],
        )),
        legend,
    );
    band_chart::render(
        f,
        chart,
        &BandChart {
            series: &v.changes,
            thresholds: vec![],
            unit: "blocks",
            window: state.range,
        },
        theme,
    );
    render_snapshots(f, list_area, state);
}

fn render_snapshots(f: &mut Frame, area: Rect, state: &AppState) {
    let Some(v) = state.selected_volume() else {
        return;
    };
    let theme = &state.theme;
    let height = area.height.saturating_sub(3) as usize;
    let selected = state.detail_row.min(v.snapshots.len().saturating_sub(1));
    let offset = scroll_offset(selected, height);
    let rows = v
        .snapshots
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, s)| {
            let change = match s.changed_blocks {
                Some(b) => Span::styled(
                    format!("{b:>9}"),
                    if s.anomalous {
                        theme.style(Role::Anomaly)
                    } else {
                        theme.style(Role::Text)
                    },
                ),
                None => Span::styled(format!("{:>9}", "first"), theme.style(Role::Dim)),
            };
            let row = Row::new(vec![
                Line::raw(
                    s.created
                        .map(|t| when(&t, &state.now))
                        .unwrap_or_else(|| "earlier".into()),
                ),
                Line::raw(s.id.clone()),
                Line::from(change),
            ]);
            if i == selected {
                row.style(theme.style(Role::Selection))
            } else {
                row
            }
        });
    let table = Table::new(
        rows,
        [
            Constraint::Length(11),
            Constraint::Min(12),
            Constraint::Length(9),
        ],
    )
    .header(Row::new(["Created", "Snapshot", "Changed"]).style(theme.style(Role::Header)))
    .block(block(
        format!("Snapshots ({})", v.snapshots.len()),
        state,
        false,
    ));
    f.render_widget(table, area);
}
