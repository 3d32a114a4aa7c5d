//! Backups: the protected volumes with their last change, a sparkline of recent changes, the
//! verdict and the alarm state; running on-demand backups with their progress below.

use crate::app::state::{AppState, VolumeVerdict};
use crate::theme::Role;
use crate::ui::widgets::sparkline;
use crate::ui::{age, alarm_label, alarm_style, block, scroll_offset, truncate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Gauge, Row, Table};

pub fn render(f: &mut Frame, area: Rect, state: &AppState) {
    let jobs_h = state.jobs_pane_height();
    let [table, jobs] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(jobs_h)]).areas(area);
    render_table(f, table, state);
    if jobs_h > 0 {
        render_jobs(f, jobs, state);
    }
}

fn render_table(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let wide = area.width >= 120;
    let visible = state.visible_volumes();
    let height = area.height.saturating_sub(3) as usize;
    let selected = state.selected[crate::app::state::View::Backups.index()]
        .min(visible.len().saturating_sub(1));
    let offset = scroll_offset(selected, height);
    let spark_w = if wide { 16 } else { 8 };
    let mut header = vec!["Name"];
    if wide {
        header.extend(["Volume", "Size"]);
    }
    header.extend(["Snapshot", "Age"]);
    header.extend(["Blocks", "GiB", "%", "Recent", "Verdict", "Alarm"]);
    let rows = visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(row_i, &i)| {
            let v = &state.volumes[i];
            let (blocks, gib, pct) = match v.last_change() {
                Some((b, g, p)) => (b.to_string(), format!("{g:.2}"), format!("{p:.1}")),
                None => ("—".into(), "—".into(), "—".into()),
            };
            let verdict = v.verdict();
            let verdict_style = match verdict {
                VolumeVerdict::Anomalous => theme.style(Role::Anomaly),
                VolumeVerdict::Normal => theme.style(Role::AlarmOk),
                _ => theme.style(Role::Dim),
            };
            let alarm = match v.alarm {
                Some(s) => Span::styled(alarm_label(s), alarm_style(state, s)),
                None => Span::styled("none", theme.style(Role::Dim)),
            };
            let ack = state
                .alarm_for_volume(&v.arn)
                .and_then(|a| a.ack.as_ref())
                .is_some();
            let mut cells = vec![Cell::from(truncate(&v.name, 18))];
            if wide {
                cells.push(Cell::from(v.id.clone()));
                cells.push(Cell::from(
                    v.size_gib
                        .map(|s| format!("{s} GiB"))
                        .unwrap_or_else(|| "—".into()),
                ));
            }
            let snap = v
                .last_snapshot
                .clone()
                .or_else(|| v.last_snapshot().map(|s| s.id.clone()))
                .unwrap_or_else(|| "—".into());
            cells.push(Cell::from(if wide { snap } else { truncate(&snap, 10) }));
            let last = v
                .last_backup
                .or_else(|| v.last_snapshot().and_then(|s| s.created));
            cells.push(Cell::from(
                last.map(|t| age((state.now - t).num_seconds()))
                    .unwrap_or_else(|| "—".into()),
            ));
            cells.push(Cell::from(Line::from(blocks).right_aligned()));
            cells.push(Cell::from(Line::from(gib).right_aligned()));
            cells.push(Cell::from(Line::from(pct).right_aligned()));
            cells.push(Cell::from(sparkline::line(
                &v.changes,
                spark_w,
                theme,
                row_i == selected,
            )));
            cells.push(Cell::from(Span::styled(verdict.label(), verdict_style)));
            let mut alarm_line = vec![alarm];
            if ack {
                alarm_line.push(Span::styled(" ack", theme.style(Role::Acknowledged)));
            }
            cells.push(Cell::from(Line::from(alarm_line)));
            let row = Row::new(cells);
            if row_i == selected {
                row.style(theme.style(Role::Selection))
            } else {
                row
            }
        });
    let mut widths = vec![Constraint::Min(10)];
    if wide {
        widths.extend([Constraint::Length(21), Constraint::Length(9)]);
    }
    widths.extend([
        Constraint::Length(if wide { 22 } else { 10 }),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(spark_w as u16),
        Constraint::Length(8),
        Constraint::Length(if wide { 18 } else { 12 }),
    ]);
    let title = format!(
        "Protected volumes ({}{}){}{}",
        visible.len(),
        if visible.len() == state.volumes.len() {
            String::new()
        } else {
            format!(" of {}", state.volumes.len())
        },
        if state.problems_only {
            " · problems only"
        } else {
            ""
        },
        state.sort_label(crate::app::state::View::Backups),
    );
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.style(Role::Header)))
        .column_spacing(1)
        .block(block(title, state, true));
    f.render_widget(table, area);
}

fn render_jobs(f: &mut Frame, area: Rect, state: &AppState) {
    let theme = &state.theme;
    let outer = block("On-demand backups", state, false);
    let inner = outer.inner(area);
    f.render_widget(outer, area);
    let mut jobs: Vec<_> = state.jobs.iter().filter(|j| !j.done).collect();
    if let Some(last) = state.jobs.iter().rev().find(|j| j.done) {
        jobs.push(last);
    }
    for (i, job) in jobs.iter().enumerate() {
        if i as u16 >= inner.height {
            break;
        }
        let row = Rect::new(inner.x, inner.y + i as u16, inner.width, 1);
        let name = state.volume_name(&job.volume_arn);
        let failed = job.done && job.state != "COMPLETED";
        let mut label = format!("{} {} {:.0}%", truncate(&name, 20), job.state, job.percent);
        if let Some(m) = &job.message {
            label.push_str(&format!(" — {m}"));
        }
        let gauge = Gauge::default()
            .ratio((job.percent / 100.0).clamp(0.0, 1.0))
            .label(truncate(&label, inner.width as usize))
            .gauge_style(if failed {
                theme.style(Role::Error)
            } else {
                theme.style(Role::Progress)
            });
        f.render_widget(gauge, row);
    }
}
