//! The change-block / temperature / metric chart with its shaded anomaly band.
//!
//! ratatui's `Chart` cannot fill between two curves, so the band is a custom [`Shape`]
//! ([`BandFill`]) painted on a HalfBlock layer, whose cells carry the band colour as their
//! background; the series ([`SeriesLine`]) and CloudWatch's band outline ([`BandOutline`]) are
//! Braille layers on top, which keep that background. Anomalous points are marked with a label
//! glyph. Both shapes work per grid column, so a 10,000-point series costs one pass over the
//! points plus one over the columns, whatever the terminal size.

use crate::app::state::Series;
use crate::app::zoom::Zoom;
use crate::theme::{Role, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::widgets::canvas::{Canvas, Painter, Shape};

/// The grid resolution of the painter (columns, rows of dots).
fn resolution(p: &Painter) -> Option<(usize, usize)> {
    let (xb, yb) = p.bounds();
    let (x, y) = p.get_point(xb[1], yb[0])?;
    Some((x + 1, y + 1))
}

fn to_col(t: f64, x0: f64, x1: f64, cols: usize) -> usize {
    if x1 <= x0 {
        return 0;
    }
    (((t - x0) / (x1 - x0)) * (cols as f64 - 1.0))
        .round()
        .clamp(0.0, cols as f64 - 1.0) as usize
}

fn to_row(v: f64, y0: f64, y1: f64, rows: usize) -> usize {
    if y1 <= y0 {
        return rows.saturating_sub(1);
    }
    (((y1 - v) / (y1 - y0)) * (rows as f64 - 1.0))
        .round()
        .clamp(0.0, rows as f64 - 1.0) as usize
}

/// Per-column band from `(t, lower, upper)` samples, linearly interpolated between samples so
/// a sparse series (one backup a day) still gets a continuous band.
fn band_columns(
    samples: impl Iterator<Item = (f64, f64, f64)>,
    x: [f64; 2],
    cols: usize,
) -> Vec<Option<(f64, f64)>> {
    let mut out: Vec<Option<(f64, f64)>> = vec![None; cols];
    let mut prev: Option<(usize, f64, f64)> = None;
    for (t, lo, hi) in samples {
        if t < x[0] || t > x[1] {
            prev = None;
            continue;
        }
        let c = to_col(t, x[0], x[1], cols);
        match prev {
            Some((pc, plo, phi)) if c > pc + 1 => {
                for (k, slot) in out.iter_mut().enumerate().take(c).skip(pc + 1) {
                    let f = (k - pc) as f64 / (c - pc) as f64;
                    *slot = Some((plo + (lo - plo) * f, phi + (hi - phi) * f));
                }
            }
            _ => {}
        }
        out[c] = Some(match out[c] {
            Some((a, b)) => (a.min(lo), b.max(hi)),
            None => (lo, hi),
        });
        prev = Some((c, lo, hi));
    }
    out
}

/// The shaded band (fills every dot between lower and upper).
pub struct BandFill<'a> {
    pub series: &'a Series,
    pub x: [f64; 2],
    pub y: [f64; 2],
    pub color: Color,
}

impl Shape for BandFill<'_> {
    fn draw(&self, painter: &mut Painter) {
        let Some((cols, rows)) = resolution(painter) else {
            return;
        };
        let samples = self
            .series
            .points
            .iter()
            .filter_map(|p| p.band.map(|(lo, hi)| (p.t as f64, lo, hi)));
        for (c, band) in band_columns(samples, self.x, cols).into_iter().enumerate() {
            if let Some((lo, hi)) = band {
                let top = to_row(hi, self.y[0], self.y[1], rows);
                let bottom = to_row(lo, self.y[0], self.y[1], rows);
                for r in top..=bottom {
                    painter.paint(c, r, self.color);
                }
            }
        }
    }
}

/// CloudWatch's band drawn as two thin lines (its lower and upper edges).
pub struct BandOutline<'a> {
    pub band: &'a [(i64, f64, f64)],
    pub x: [f64; 2],
    pub y: [f64; 2],
    pub color: Color,
}

impl Shape for BandOutline<'_> {
    fn draw(&self, painter: &mut Painter) {
        let Some((cols, rows)) = resolution(painter) else {
            return;
        };
        let samples = self.band.iter().map(|&(t, lo, hi)| (t as f64, lo, hi));
        let cols_band = band_columns(samples, self.x, cols);
        let mut prev: Option<(usize, usize, usize)> = None;
        for (c, band) in cols_band.into_iter().enumerate() {
            let Some((lo, hi)) = band else {
                prev = None;
                continue;
            };
            let (rl, rh) = (
                to_row(lo, self.y[0], self.y[1], rows),
                to_row(hi, self.y[0], self.y[1], rows),
            );
            if let Some((pc, pl, ph)) = prev {
                line(painter, (pc, pl), (c, rl), self.color);
                line(painter, (pc, ph), (c, rh), self.color);
            } else {
                painter.paint(c, rl, self.color);
                painter.paint(c, rh, self.color);
            }
            prev = Some((c, rl, rh));
        }
    }
}

/// The series itself: per column, a vertical stroke from min to max, joined to the next column.
pub struct SeriesLine<'a> {
    pub series: &'a Series,
    pub x: [f64; 2],
    pub y: [f64; 2],
    pub color: Color,
}

impl Shape for SeriesLine<'_> {
    fn draw(&self, painter: &mut Painter) {
        let Some((cols, rows)) = resolution(painter) else {
            return;
        };
        // (min row, max row, first row, last row) per column
        let mut agg: Vec<Option<(usize, usize, usize, usize)>> = vec![None; cols];
        for p in &self.series.points {
            let t = p.t as f64;
            if t < self.x[0] || t > self.x[1] {
                continue;
            }
            let c = to_col(t, self.x[0], self.x[1], cols);
            let r = to_row(p.value, self.y[0], self.y[1], rows);
            agg[c] = Some(match agg[c] {
                Some((lo, hi, first, _)) => (lo.min(r), hi.max(r), first, r),
                None => (r, r, r, r),
            });
        }
        let mut prev: Option<(usize, usize)> = None;
        for (c, a) in agg.into_iter().enumerate() {
            let Some((lo, hi, first, last)) = a else {
                continue;
            };
            if let Some(pp) = prev {
                line(painter, pp, (c, first), self.color);
            }
            for r in lo..=hi {
                painter.paint(c, r, self.color);
            }
            prev = Some((c, last));
        }
    }
}

/// A horizontal threshold line (hot / cold).
pub struct HLine {
    pub value: f64,
    pub y: [f64; 2],
    pub color: Color,
}

impl Shape for HLine {
    fn draw(&self, painter: &mut Painter) {
        let Some((cols, rows)) = resolution(painter) else {
            return;
        };
        if self.value < self.y[0] || self.value > self.y[1] {
            return;
        }
        let r = to_row(self.value, self.y[0], self.y[1], rows);
        // dotted, so the series stays readable where it crosses
        for c in (0..cols).step_by(3) {
            painter.paint(c, r, self.color);
        }
    }
}

/// Bresenham between two grid points.
fn line(p: &mut Painter, a: (usize, usize), b: (usize, usize), color: Color) {
    let (mut x0, mut y0) = (a.0 as i64, a.1 as i64);
    let (x1, y1) = (b.0 as i64, b.1 as i64);
    let dx = (x1 - x0).abs();
    let dy = -(y1 - y0).abs();
    let sx = if x0 < x1 { 1 } else { -1 };
    let sy = if y0 < y1 { 1 } else { -1 };
    let mut err = dx + dy;
    loop {
        p.paint(x0 as usize, y0 as usize, color);
        if x0 == x1 && y0 == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x0 += sx;
        }
        if e2 <= dx {
            err += dx;
            y0 += sy;
        }
    }
}

/// What to draw in one chart.
pub struct BandChart<'a> {
    pub series: &'a Series,
    /// Extra horizontal lines: (value, role, label).
    pub thresholds: Vec<(f64, Role, &'static str)>,
    /// Unit shown after the y labels ("blk", "°C").
    pub unit: &'a str,
    /// Show at most this many seconds back from the newest point (None: all).
    pub window: Option<i64>,
    /// The slice of that window on screen (`+` `-` `<` `>`).
    pub zoom: Zoom,
}

/// The time range `[first, last]` the chart shows: the window back from the newest point,
/// then the zoom's slice of it.
fn time_window(chart: &BandChart) -> Option<(i64, i64)> {
    let last = chart.series.points.back()?.t;
    let first = chart.series.points.front()?.t;
    let x0 = match chart.window {
        Some(w) => (last - w).max(first),
        None => first,
    };
    Some(chart.zoom.window(x0, last))
}

/// What the title adds about the visible window when the chart is zoomed
/// (`zoom ×4: 03-02 → 03-09`); empty when it shows its whole range.
pub fn window_label(chart: &BandChart) -> String {
    let Some((x0, x1)) = time_window(chart).filter(|_| chart.zoom.level > 0) else {
        return String::new();
    };
    use chrono::Datelike;
    let year = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| d.year());
    // The newest point's year is "this year" of the chart: a window that starts in another
    // year says which.
    let newest = chart.series.points.back().and_then(|p| year(p.t));
    let fmt = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| {
                let day = if Some(d.year()) == newest {
                    d.format("%m-%d")
                } else {
                    d.format("%Y-%m-%d")
                };
                // Days are enough over a week; within it the hour tells slices apart.
                if x1 - x0 > 7 * 86_400 {
                    day.to_string()
                } else {
                    format!("{day} {}", d.format("%H:%M"))
                }
            })
            .unwrap_or_default()
    };
    format!(
        " — zoom ×{}: {} → {}",
        chart.zoom.factor(),
        fmt(x0),
        fmt(x1)
    )
}

/// The x and y ranges that fit the series, its band and the thresholds.
pub fn bounds(chart: &BandChart) -> Option<([f64; 2], [f64; 2])> {
    let (x0, last) = time_window(chart)?;
    let start = chart.series.points.partition_point(|p| p.t < x0);
    let end = chart.series.points.partition_point(|p| p.t <= last);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in chart.series.points.range(start..end) {
        lo = lo.min(p.value);
        hi = hi.max(p.value);
        if let Some((l, h)) = p.band {
            lo = lo.min(l);
            hi = hi.max(h);
        }
    }
    for &(t, l, h) in &chart.series.cloudwatch_band {
        if t >= x0 && t <= last {
            lo = lo.min(l);
            hi = hi.max(h);
        }
    }
    for (v, _, _) in &chart.thresholds {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !lo.is_finite() || !hi.is_finite() {
        return None;
    }
    // Counts never go below zero: a band whose lower edge is negative must not drag the axis
    // to -22.4k.
    let values = || chart.series.points.range(start..end).map(|p| p.value);
    if values().all(|v| v >= 0.0) {
        lo = lo.max(0.0);
    }
    // One burst must not squash the band into a row: when the outliers stretch the axis far
    // past the ordinary points, the axis covers the ordinary ones and the outliers are marked
    // at its edge ([`outliers`]).
    // The thresholds belong to the ordinary range: a reading just past the hot line is not
    // an outlier to clip.
    let core = core_range(chart.series, start..end).map(|(l, h)| {
        chart
            .thresholds
            .iter()
            .fold((l, h), |(l, h), (v, _, _)| (l.min(*v), h.max(*v)))
    });
    if let Some((core_lo, core_hi)) = core
        && hi - lo > CLIP_FACTOR * (core_hi - core_lo)
    {
        let extra = (core_hi - core_lo) * 0.5;
        hi = hi.min(core_hi + extra);
        lo = lo.max(core_lo - extra);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let floor = if lo >= 0.0 && values().all(|v| v >= 0.0) {
        0.0
    } else {
        f64::NEG_INFINITY
    };
    let (lo, hi) = ((lo - pad).max(floor), hi + pad);
    let x1 = if last > x0 { last } else { x0 + 1 };
    Some(([x0 as f64, x1 as f64], [lo, hi]))
}

/// The axis is clipped when the full range is this many times the ordinary points' range.
const CLIP_FACTOR: f64 = 4.0;

/// The range of the points that are not anomalous, with their band, among `points`; None when
/// there are too few of them or they are flat.
fn core_range(series: &Series, points: std::ops::Range<usize>) -> Option<(f64, f64)> {
    let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0);
    for p in series.points.range(points).filter(|p| !p.anomalous) {
        lo = lo.min(p.value);
        hi = hi.max(p.value);
        if let Some((l, h)) = p.band {
            lo = lo.min(l.max(0.0_f64.min(p.value)));
            hi = hi.max(h);
        }
        n += 1;
    }
    (n >= 3 && hi > lo).then_some((lo, hi))
}

/// Points outside the y range (clipped), as (t, value): drawn at the edge with their value.
pub fn outliers(series: &Series, x: [f64; 2], y: [f64; 2]) -> Vec<(f64, f64)> {
    series
        .points
        .iter()
        .filter(|p| (p.t as f64) >= x[0] && (p.t as f64) <= x[1])
        .filter(|p| p.value > y[1] || p.value < y[0])
        .map(|p| (p.t as f64, p.value))
        .collect()
}

/// Points a chart needs before it means anything.
pub const MIN_POINTS: usize = 2;

/// A number in at most 6 characters (1.2k, 35.0M).
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A time label whose precision follows the span shown: days → `MM-DD`, hours → `HH:MM`,
/// minutes → `HH:MM:SS`.
pub fn time_label(t: i64, span: i64) -> String {
    let Some(dt) = chrono::DateTime::from_timestamp(t, 0) else {
        return String::new();
    };
    if span > 3 * 86_400 {
        dt.format("%m-%d").to_string()
    } else if span > 3_600 {
        dt.format("%d %H:%M").to_string()
    } else {
        dt.format("%H:%M:%S").to_string()
    }
}

/// Draws the chart with a y axis (labels on the left) and a time axis (labels below).
/// Width of the y-axis labels left of the plot.
const LABEL_W: u16 = 7;

/// Puts `glyph` on the cell where [`render`] draws the point `(t, value)` of `chart` in
/// `area` (the same area given to `render`); nothing when the point is outside the chart.
pub fn mark(f: &mut Frame, area: Rect, chart: &BandChart, t: i64, value: f64, glyph: Span) {
    let Some((x, y)) = bounds(chart) else {
        return;
    };
    if area.height < 3 || area.width < 16 || (t as f64) < x[0] || (t as f64) > x[1] {
        return;
    }
    // The plot: the area less the time axis row and the y labels, as `render` lays it out.
    let (w, h) = ((area.width - LABEL_W) as usize, (area.height - 1) as usize);
    let col = to_col(t as f64, x[0], x[1], w);
    let frac = if y[1] > y[0] {
        ((y[1] - value) / (y[1] - y[0])).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let row = (frac * (h as f64 - 1.0)).round() as u16;
    let at = Rect::new(area.x + LABEL_W + col as u16, area.y + row, 1, 1);
    f.render_widget(Paragraph::new(Line::from(glyph)), at);
}

pub fn render(f: &mut Frame, area: Rect, chart: &BandChart, theme: &Theme) {
    let dim = theme.style(Role::Dim);
    let Some((x, y)) = bounds(chart) else {
        f.render_widget(Paragraph::new("no data yet").style(dim).centered(), area);
        return;
    };
    let shown = chart
        .series
        .points
        .iter()
        .filter(|p| (p.t as f64) >= x[0] && (p.t as f64) <= x[1])
        .count();
    if shown < MIN_POINTS {
        let text = format!(
            "not enough points for a chart: {shown} in this range{}",
            if chart.zoom.level > 0 {
                " (- zooms out)"
            } else if chart.window.is_some() {
                " (] widens it)"
            } else {
                ""
            }
        );
        f.render_widget(Paragraph::new(text).style(dim).centered(), area);
        return;
    }
    let clipped = outliers(chart.series, x, y);
    if area.height < 3 || area.width < 16 {
        return;
    }
    let [top, bottom] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let label_w = LABEL_W;
    let [axis, plot] =
        Layout::horizontal([Constraint::Length(label_w), Constraint::Min(1)]).areas(top);

    // y axis: top, middle and bottom values
    let mut ylines = vec![Line::raw(""); axis.height as usize];
    let h = axis.height as usize;
    for (row, v) in [(0, y[1]), (h / 2, (y[0] + y[1]) / 2.0), (h - 1, y[0])] {
        if row < h {
            ylines[row] = Line::from(Span::styled(format!("{:>6}┤", short_number(v)), dim));
        }
    }
    if h > 2 && !chart.unit.is_empty() {
        ylines[1] = Line::from(Span::styled(format!("{:>6} ", chart.unit), dim));
    }
    f.render_widget(Paragraph::new(ylines), axis);

    // time axis: start, middle, end
    let span = (x[1] - x[0]) as i64;
    let w = plot.width as usize;
    let l0 = time_label(x[0] as i64, span);
    let lm = time_label(((x[0] + x[1]) / 2.0) as i64, span);
    let l1 = time_label(x[1] as i64, span);
    let mut axis_text = format!("{:width$}", "", width = label_w as usize);
    let mut row = vec![' '; w];
    let mut put = |s: &str, at: usize| {
        for (i, ch) in s.chars().enumerate() {
            if at + i < w {
                row[at + i] = ch;
            }
        }
    };
    put(&l0, 0);
    if w > l0.len() + lm.len() + l1.len() + 4 {
        put(&lm, (w / 2).saturating_sub(lm.len() / 2));
    }
    put(&l1, w.saturating_sub(l1.chars().count()));
    axis_text.extend(row);
    f.render_widget(Paragraph::new(Span::styled(axis_text, dim)), bottom);

    let monochrome = theme.monochrome;
    let band = theme.style(Role::Band);
    let band_color = if monochrome {
        Color::Reset
    } else {
        band.bg.or(band.fg).unwrap_or(Color::Blue)
    };
    let series_color = theme.fg(Role::Series);
    let cw_color = theme.fg(Role::CloudWatchBand);
    let anomaly = theme.style(Role::Anomaly);
    let thresholds: Vec<(f64, Color)> = chart
        .thresholds
        .iter()
        .map(|(v, role, _)| (*v, theme.fg(*role)))
        .collect();
    let anomalies: Vec<(f64, f64)> = anomaly_marks(chart.series, x, plot.width as usize);
    let canvas = Canvas::default()
        .x_bounds(x)
        .y_bounds(y)
        .background_color(theme.style(Role::Text).bg.unwrap_or(Color::Reset))
        .paint(|ctx| {
            // Band: a HalfBlock layer sets the background; monochrome shades it with a glyph.
            ctx.marker(if monochrome {
                Marker::Custom('░')
            } else {
                Marker::HalfBlock
            });
            ctx.draw(&BandFill {
                series: chart.series,
                x,
                y,
                color: band_color,
            });
            ctx.marker(Marker::Braille);
            for &(v, c) in &thresholds {
                ctx.draw(&HLine {
                    value: v,
                    y,
                    color: c,
                });
            }
            if !chart.series.cloudwatch_band.is_empty() {
                ctx.draw(&BandOutline {
                    band: &chart.series.cloudwatch_band,
                    x,
                    y,
                    color: cw_color,
                });
            }
            ctx.layer();
            ctx.draw(&SeriesLine {
                series: chart.series,
                x,
                y,
                color: series_color,
            });
            ctx.layer();
            for &(t, v) in &anomalies {
                if v <= y[1] && v >= y[0] {
                    ctx.print(t, v, Span::styled("●", anomaly));
                }
            }
            // Clipped points: an arrow at the edge with the value, so the outlier is still seen.
            for &(t, v) in &clipped {
                let (edge, mark) = if v > y[1] {
                    (y[1], "▲")
                } else {
                    (y[0], "▼")
                };
                ctx.print(
                    t,
                    edge,
                    Span::styled(format!("{mark}{}", short_number(v)), anomaly),
                );
            }
        });
    f.render_widget(canvas, plot);
}

/// At most one marker per terminal column, so a dense anomalous stretch stays cheap to draw.
fn anomaly_marks(series: &Series, x: [f64; 2], width: usize) -> Vec<(f64, f64)> {
    let mut seen = vec![false; width.max(1)];
    let mut out = Vec::new();
    for p in series.points.iter().filter(|p| p.anomalous) {
        let t = p.t as f64;
        if t < x[0] || t > x[1] {
            continue;
        }
        let c = to_col(t, x[0], x[1], width.max(1));
        if !seen[c] {
            seen[c] = true;
            out.push((t, p.value));
        }
    }
    out
}

/// A one-line legend for a chart.
pub fn legend(theme: &Theme, cloudwatch: bool, extra: &[(Role, &str)]) -> Line<'static> {
    let mut spans = vec![
        Span::styled("━", theme.style(Role::Series)),
        Span::raw(" value  "),
        Span::styled(
            if theme.monochrome { "░" } else { "█" },
            Style::default().fg(theme
                .style(Role::Band)
                .bg
                .or(theme.style(Role::Band).fg)
                .unwrap_or(Color::Reset)),
        ),
        Span::raw(" band  "),
        Span::styled("●", theme.style(Role::Anomaly)),
        Span::raw(" anomaly"),
    ];
    if cloudwatch {
        spans.push(Span::raw("  "));
        spans.push(Span::styled("┈", theme.style(Role::CloudWatchBand)));
        spans.push(Span::raw(" CloudWatch band"));
    }
    for (role, text) in extra {
        spans.push(Span::raw("  "));
        spans.push(Span::styled("┈", theme.style(*role)));
        spans.push(Span::raw(format!(" {text}")));
    }
    Line::from(spans)
}
