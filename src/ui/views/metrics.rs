//! Metrics: any CloudWatch metric charted with the local detector's band (band or RCF, `s`
//! switches) and CloudWatch's own band when the account has one; the RCF metric scorer's
//! `<Metric>AnomalyIndicator` points marked when present.

use crate::app::state::{AppState, View};
use crate::pipeline::MetricDetector;
use crate::theme::Role;
use crate::ui::widgets::band_chart::{self, BandChart};
use crate::ui::{block, scroll_offset, truncate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let list_w = if area.width >= 120 { 44 } else { 26 };
    let [list, chart] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(30)]).areas(area);
    let vis = state.visible_metrics();
    let height = list.height.saturating_sub(2) as usize;
    let selected = state.selected[View::Metrics.index()].min(vis.len().saturating_sub(1));
    let offset = scroll_offset(selected, height);
    let mut lines: Vec<Line> = vis
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, &i)| {
            let m = &state.metrics[i];
            let anomalous = m.scored.last().is_some_and(|p| p.anomalous);
            let mark = if anomalous { "● " } else { "  " };
            let l = Line::from(vec![
                Span::styled(mark, theme.style(Role::Anomaly)),
                Span::raw(truncate(&state.metric_label(m), list_w as usize - 4)),
            ]);
            if row == selected {
                l.style(theme.style(Role::Selection))
            } else {
                l
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled(
            "no metrics yet — :metric to pick one",
            theme.style(Role::Dim),
        )));
    }
    f.render_widget(
        Paragraph::new(lines).block(block(
            format!("Metrics{}", state.sort_label(View::Metrics)),
            state,
            true,
        )),
        list,
    );

    let algo = match state.metric_algo {
        MetricDetector::Band => "band",
        MetricDetector::Rcf => "RCF",
    };
    let Some(m) = state.selected_metric() else {
        f.render_widget(
            Paragraph::new("").block(block("Chart", state, false)),
            chart,
        );
        return;
    };
    let chart_of = BandChart {
        series: &m.scored,
        thresholds: vec![],
        unit: "",
        window: state.range,
        zoom: state.zoom,
    };
    let outer = block(
        // The range and the zoom window first: a metric's label (namespace, name, dimensions)
        // can fill a narrow chart's title alone, and the line below names the metric again.
        format!(
            "{}{} — {} {} / {} s, local {algo} (s switches)",
            crate::app::update::range_label(state.range),
            band_chart::window_label(&chart_of),
            state.metric_label(m),
            m.stat,
            m.period,
        ),
        state,
        false,
    );
    let inner = outer.inner(chart);
    f.render_widget(outer, chart);
    let [info, legend, plot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(inner);
    let anomalies = m.scored.anomalies();
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(truncate(&m.id.display(), inner.width as usize / 2)),
            Span::raw(format!(
                "  {}, {anomalies} anomalous",
                crate::words::count(m.scored.points.len(), "point", "points")
            )),
            Span::raw(if m.indicator.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} flagged by {}AnomalyIndicator",
                    m.indicator.len(),
                    m.id.name
                )
            }),
        ])),
        info,
    );
    let mut extra = vec![];
    if !m.indicator.is_empty() {
        extra.push((Role::Hot, "AnomalyIndicator ▲"));
    }
    f.render_widget(
        Paragraph::new(band_chart::legend(
            theme,
            !m.scored.cloudwatch_band.is_empty(),
            &extra,
        )),
        legend,
    );
    band_chart::render(f, plot, &chart_of, theme);
    render_indicator_marks(f, plot, state, m);
}

/// The RCF metric scorer's indicator points, as ▲ on the time axis row under the chart.
fn render_indicator_marks(
    f: &mut Frame,
    plot: Rect,
    state: &AppState,
    m: &crate::app::state::MetricView,
) {
    if m.indicator.is_empty() || plot.width <= 8 {
        return;
    }
    let Some((x, _)) = band_chart::bounds(&BandChart {
        series: &m.scored,
        thresholds: vec![],
        unit: "",
        window: state.range,
        zoom: state.zoom,
    }) else {
        return;
    };
    let left = plot.x + 7;
    let w = plot.width - 7;
    let row = plot.y + plot.height.saturating_sub(2);
    let buf = f.buffer_mut();
    for &t in &m.indicator {
        let t = t as f64;
        if t < x[0] || t > x[1] || x[1] <= x[0] {
            continue;
        }
        let c = ((t - x[0]) / (x[1] - x[0]) * (w as f64 - 1.0)).round() as u16;
        if let Some(cell) = buf.cell_mut((left + c, row)) {
            cell.set_symbol("▲").set_style(state.theme.style(Role::Hot));
        }
    }
}
