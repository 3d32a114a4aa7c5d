//! Volume detail: the change-block chart with its shaded anomaly band (and CloudWatch's band
//! when the account has one), and the volume's snapshots with the change between each pair.
//! The last clean recovery point is marked `◆` on both, with its legal hold and the restore
//! started from it on the recovery line.

use crate::app::layout;
use crate::app::state::{AppState, Volume};
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
    // The recovery line spans both panels: the last clean point, its hold, the restore.
    let [recovery, area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(4)]).areas(area);
    f.render_widget(Paragraph::new(recovery_line(state, v)), recovery);
    let wide = area.width >= layout::SNAPSHOTS_BESIDE_FROM;
    let (chart_area, list_area) = if wide {
        let [c, l] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(layout::SNAPSHOTS_W)])
                .areas(area);
        (c, l)
    } else {
        let list_h = layout::snapshots_below_h(area.height);
        let [c, l] = Layout::vertical([Constraint::Min(8), Constraint::Length(list_h)]).areas(area);
        (c, l)
    };
    let band = BandChart {
        series: &v.changes,
        thresholds: vec![],
        unit: "blocks",
        window: state.range,
        zoom: state.zoom,
    };
    // What the operator steers (range, zoom window) before the id, which a narrow chart cuts.
    let title = format!(
        "{} changed blocks — {}{} — {}",
        v.name,
        crate::app::update::range_label(state.range),
        band_chart::window_label(&band),
        v.id,
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
    let mut legend_line = band_chart::legend(theme, !v.changes.cloudwatch_band.is_empty(), &[]);
    let clean = v.last_clean().and_then(|i| v.snapshots.get(i));
    if clean.is_some() {
        legend_line.spans.push(Span::raw("  "));
        legend_line
            .spans
            .push(Span::styled("◆", theme.style(Role::AlarmOk)));
        legend_line.spans.push(Span::raw(" last clean"));
    }
    f.render_widget(Paragraph::new(legend_line), legend);
    band_chart::render(f, chart, &band, theme);
    // The count that ends at the last clean point is where it sits on the chart.
    if let Some(s) = clean
        && let Some(p) = v
            .changes
            .points
            .iter()
            .find(|p| Some(p.t) == s.created.map(|c| c.timestamp()))
    {
        band_chart::mark(
            f,
            chart,
            &band,
            p.t,
            p.value,
            Span::styled("◆", theme.style(Role::AlarmOk)),
        );
    }
    render_snapshots(f, list_area, state);
}

/// "◆ last clean snap-… 03-02 05:06 held │ restore job 1A2B3C4D… RUNNING 40 %", and the keys.
fn recovery_line(state: &AppState, v: &Volume) -> Line<'static> {
    let theme = &state.theme;
    let mut spans = Vec::new();
    let restore = state.restores.iter().find(|r| r.volume_arn == v.arn);
    match v.last_clean().and_then(|i| v.snapshots.get(i)) {
        Some(s) => {
            spans.push(Span::styled("◆ last clean ", theme.style(Role::AlarmOk)));
            spans.push(Span::raw(s.id.clone()));
            // The date is on the snapshot's row; the line keeps room for the restore.
            if restore.is_none()
                && let Some(c) = &s.created
            {
                spans.push(Span::raw(format!(" {}", when(c, &state.now))));
            }
            if state.held.contains(&v.snapshot_arn(&s.id)) {
                spans.push(Span::styled(" held", theme.style(Role::Acknowledged)));
            }
        }
        None => spans.push(Span::styled(
            "no anomalous count: no last clean recovery point to single out",
            theme.style(Role::Dim),
        )),
    }
    if let Some(r) = restore {
        // Job ids are UUIDs: the first block tells jobs apart here, the log has the whole id.
        let job = r
            .job_id
            .as_deref()
            .map(|j| match j.split_once('-') {
                Some((head, _)) => format!("{head}…"),
                None => j.to_string(),
            })
            .unwrap_or_else(|| "…".into());
        spans.push(Span::raw(format!(" │ restore job {job} {}", r.state)));
        match (&r.new_volume_id, &r.message) {
            (Some(new), _) => spans.push(Span::styled(
                format!(" → {new} in {}", r.zone.as_deref().unwrap_or("?")),
                theme.style(Role::AlarmOk),
            )),
            (None, Some(m)) => spans.push(Span::styled(format!(": {m}"), theme.style(Role::Error))),
            (None, None) => spans.push(Span::raw(format!(" {:.0} %", r.percent))),
        }
    } else if !state.read_only {
        spans.push(Span::styled(
            "  P protect  R restore",
            theme.style(Role::Dim),
        ));
    }
    Line::from(spans)
}

fn render_snapshots(f: &mut Frame, area: Rect, state: &AppState) {
    let Some(v) = state.selected_volume() else {
        return;
    };
    let theme = &state.theme;
    let height = area.height.saturating_sub(3) as usize;
    let order = state.snapshot_order(v);
    let selected = state.detail_row.min(order.len().saturating_sub(1));
    let clean = v.last_clean();
    let offset = scroll_offset(selected, height);
    let rows = order
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, &i)| {
            let s = &v.snapshots[i];
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
            let line = Row::new(vec![
                Line::raw(
                    s.created
                        .map(|t| when(&t, &state.now))
                        .unwrap_or_else(|| "earlier".into()),
                ),
                if clean == Some(i) {
                    Line::from(vec![
                        Span::styled("◆ ", theme.style(Role::AlarmOk)),
                        Span::raw(s.id.clone()),
                    ])
                } else {
                    Line::raw(format!("  {}", s.id))
                },
                Line::from(change),
            ]);
            if row == selected {
                line.style(theme.style(Role::Selection))
            } else {
                line
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
        format!(
            "Snapshots ({}){}",
            v.snapshots.len(),
            state.snapshot_sort_label()
        ),
        state,
        false,
    ));
    f.render_widget(table, area);
}
