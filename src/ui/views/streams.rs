//! Streams: per shard records/s, iterator age and rejected records (with the raw bytes of the
//! last few); per device a live temperature chart with its band, hot/cold thresholds and
//! anomaly markers; the detected anomalies shaped like `m03p02_anomaly_data`.

use crate::app::state::{AppState, DEFAULT_RETENTION_MS, Staleness, View};
use crate::app::table::StreamsTable;
use crate::theme::Role;
use crate::ui::widgets::band_chart::{self, BandChart};
use crate::ui::{block, duration_ms, scroll_offset, truncate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

/// The live chart shows the last 10 minutes of readings.
const WINDOW: i64 = 600;

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let (shards_h, bottom_h) = crate::app::layout::streams_heights(state.shards.len(), area.height);
    let [shards, middle, bottom] = Layout::vertical([
        Constraint::Length(shards_h),
        Constraint::Min(6),
        Constraint::Length(bottom_h),
    ])
    .areas(area);
    render_shards(f, shards, state);
    let [devices, chart] = Layout::horizontal([
        Constraint::Length(crate::app::layout::DEVICES_W),
        Constraint::Min(20),
    ])
    .areas(middle);
    render_devices(f, devices, state);
    render_chart(f, chart, state);
    let [anoms, rejected] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
    render_anomalies(f, anoms, state);
    render_rejected(f, rejected, state);
}

fn render_shards(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let rows = state.visible_shards().into_iter().map(|i| {
        let s = &state.shards[i];
        let rejected = if s.rejected > 0 {
            Span::styled(s.rejected.to_string(), theme.style(Role::Error))
        } else {
            Span::raw("0")
        };
        // Stale is not current: a failing source's numbers are dimmed with their age, and a
        // rate that cannot be known says so; an iterator age near the retention warns.
        let stale = state.shard_staleness(s);
        let near_retention = s.iterator_age_ms >= DEFAULT_RETENTION_MS * 8 / 10;
        let (rate, age) = match stale {
            Some(Staleness::NeverRead) => ("?".to_string(), "not read".to_string()),
            // The rate is unknown; the age is the last one read, `secs` ago.
            Some(Staleness::Since(secs)) => (
                format!("? {} ago", crate::ui::age(secs)),
                duration_ms(s.iterator_age_ms),
            ),
            None if near_retention => (
                format!("{:.1}", s.records_per_sec),
                format!("⚠ {}", duration_ms(s.iterator_age_ms)),
            ),
            None => (
                format!("{:.1}", s.records_per_sec),
                duration_ms(s.iterator_age_ms),
            ),
        };
        let style = match stale {
            Some(_) => theme.style(Role::Dim),
            None if near_retention => theme.style(Role::Error),
            None => theme.style(Role::Text),
        };
        let row = Row::new(vec![
            Line::raw(truncate(&s.stream, 24)),
            Line::raw(s.shard.clone()),
            Line::styled(rate, style).right_aligned(),
            Line::styled(age, style).right_aligned(),
            Line::from(rejected).right_aligned(),
        ]);
        let selected = state
            .selected_shard
            .as_ref()
            .is_some_and(|(stream, shard)| *stream == s.stream && *shard == s.shard);
        if selected {
            row.style(theme.style(Role::Selection))
        } else {
            row
        }
    });
    let table = Table::new(
        rows,
        [
            Constraint::Min(12),
            Constraint::Length(22),
            Constraint::Length(9),
            Constraint::Length(12),
            Constraint::Length(8),
        ],
    )
    .header(
        Row::new(["Stream", "Shard", "rec/s", "Iter. age", "Rejected"])
            .style(theme.style(Role::Header)),
    )
    .block(block(
        format!("Shards{}", state.streams_sort_label(StreamsTable::Shards)),
        state,
        false,
    ));
    f.render_widget(table, area);
}

fn render_devices(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let vis = state.visible_devices();
    let height = area.height.saturating_sub(2) as usize;
    let selected = state.selected[View::Streams.index()].min(vis.len().saturating_sub(1));
    let offset = scroll_offset(selected, height);
    let lines: Vec<Line> = vis
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row, &i)| {
            let d = &state.devices[i];
            let last = d.series.last();
            let value = last.map(|p| format!("{:.1}", p.value)).unwrap_or_default();
            let style = if last.is_some_and(|p| p.anomalous) {
                theme.style(Role::Anomaly)
            } else {
                theme.style(Role::Text)
            };
            let line = Line::from(vec![
                Span::raw(format!("{:<11}", truncate(&d.id, 11))),
                Span::styled(format!("{value:>6}"), style),
            ]);
            if row == selected {
                line.style(theme.style(Role::Selection))
            } else {
                line
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(block(
            format!("Devices{}", state.streams_sort_label(StreamsTable::Devices)),
            state,
            true,
        )),
        area,
    );
}

fn render_chart(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let Some(d) = state.selected_device() else {
        f.render_widget(
            Paragraph::new("no readings yet").block(block("Temperature", state, false)),
            area,
        );
        return;
    };
    let outer = block(format!("{} — temperature, last 10 min", d.id), state, false);
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let [legend, chart] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(inner);
    f.render_widget(
        Paragraph::new(band_chart::legend(
            theme,
            false,
            &[(Role::Hot, "hot"), (Role::Cold, "cold")],
        )),
        legend,
    );
    band_chart::render(
        f,
        chart,
        &BandChart {
            series: &d.series,
            thresholds: vec![(d.hot, Role::Hot, "hot"), (d.cold, Role::Cold, "cold")],
            // The temperature pipeline's sensors and thresholds (96 and 101) are Fahrenheit.
            unit: "°F",
            window: Some(WINDOW),
            // The live chart always shows its last ten minutes: zoom is for history.
            zoom: Default::default(),
        },
        theme,
    );
}

fn render_anomalies(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let height = area.height.saturating_sub(3) as usize;
    let shown = state.visible_stream_anomalies();
    let skip = state.pane_scroll.min(shown.len().saturating_sub(height));
    let rows = shown.iter().skip(skip).take(height).map(|&i| {
        let a = &state.stream_anomalies[i];
        Row::new(vec![
            Line::raw(a.deviceid.clone()),
            Line::raw(a.timestamp.chars().take(19).collect::<String>()),
            Line::raw(format!("{:.1}", a.value)).right_aligned(),
            Line::from(Span::styled(
                a.anomaly_type.clone(),
                theme.style(Role::Anomaly),
            )),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(9),
            Constraint::Length(19),
            Constraint::Length(6),
            Constraint::Min(8),
        ],
    )
    .header(
        Row::new(["deviceid", "timestamp", "°F", "anomalyType"]).style(theme.style(Role::Header)),
    )
    .block(block(
        format!(
            "m03p02_anomaly_data ({}{}){}{}",
            shown.len(),
            if shown.len() == state.stream_anomalies.len() {
                String::new()
            } else {
                format!(" of {}", state.stream_anomalies.len())
            },
            if skip > 0 {
                format!(" — {skip} above, K")
            } else {
                String::new()
            },
            state.streams_sort_label(StreamsTable::Anomalies)
        ),
        state,
        false,
    ));
    f.render_widget(table, area);
}

fn render_rejected(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let width = area.width.saturating_sub(2) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let shown = state.visible_rejected();
    let per_page = (height / 2).max(1);
    let skip = state.pane_scroll.min(shown.len().saturating_sub(per_page));
    let mut lines = Vec::new();
    for r in shown
        .iter()
        .skip(skip)
        .take(per_page)
        .map(|&i| &state.rejected[i])
    {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", r.at.format("%H:%M:%S")),
                theme.style(Role::Dim),
            ),
            Span::styled(
                truncate(&r.reason, width.saturating_sub(9)),
                theme.style(Role::Error),
            ),
        ]));
        lines.push(Line::raw(truncate(&format!("  {}", r.bytes), width)));
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("none", theme.style(Role::Dim))));
    }
    let title = format!(
        "Rejected records (raw, {}){}{}",
        shown.len(),
        if skip > 0 {
            format!(" — {skip} above, K")
        } else {
            String::new()
        },
        state.streams_sort_label(StreamsTable::Rejected)
    );
    f.render_widget(
        Paragraph::new(lines).block(block(title, state, false)),
        area,
    );
}
