//! A sparkline as text, for a table cell: one block glyph per sample, scaled to the cell's own
//! range, the anomalous samples in the anomaly style.

use crate::app::state::Series;
use crate::theme::{Role, Theme};
use ratatui::text::{Line, Span};

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` points of a series as a line of bars. On the selected row the bars take
/// the selection's own foreground: the sparkline colour can be the selection's background in
/// a theme, and the bars would vanish into it.
pub fn line(series: &Series, width: usize, theme: &Theme, selected: bool) -> Line<'static> {
    let n = series.points.len();
    let start = n.saturating_sub(width);
    let points: Vec<_> = series.points.range(start..).collect();
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.value), h.max(p.value))
        });
    let (normal, anomaly) = if selected {
        let sel = theme.style(Role::Selection);
        let anomaly = match (theme.fg(Role::Anomaly), sel.bg) {
            (a, Some(bg)) if a == bg => sel,
            (a, _) => sel.fg(a),
        };
        (sel, anomaly)
    } else {
        (theme.style(Role::Sparkline), theme.style(Role::Anomaly))
    };
    let mut spans: Vec<Span> = Vec::with_capacity(points.len());
    let mut run = String::new();
    for p in &points {
        let f = if hi > lo {
            (p.value - lo) / (hi - lo)
        } else {
            0.5
        };
        let c = BARS[((f * 7.0).round() as usize).min(7)];
        if p.anomalous {
            if !run.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut run), normal));
            }
            spans.push(Span::styled(c.to_string(), anomaly));
        } else {
            run.push(c);
        }
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, normal));
    }
    Line::from(spans)
}
