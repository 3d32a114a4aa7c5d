//! The few facts about the screen's layout that `update` needs as much as the views do: the
//! smallest usable size, where the tabs are, and which screen row shows which table row (for
//! `--mouse`). One definition here, used by both, so a click lands where the row is drawn.

use super::state::{AppState, View};
use ratatui::layout::{Constraint, Layout, Rect};

/// Below this the screen says so instead of drawing a squashed layout.
pub const MIN_WIDTH: u16 = 64;
pub const MIN_HEIGHT: u16 = 18;

/// The tab bar's leading title.
pub const TAB_TITLE: &str = " watchband ";

impl View {
    /// The tab's label; narrow screens shorten the last one.
    pub fn tab_label(self, i: usize, width: u16) -> String {
        let title = if width < 100 && self == View::Notifications {
            "Notif."
        } else {
            self.title()
        };
        format!(" {} {} ", i + 1, title)
    }

    /// The view whose tab covers column `x` of the tab bar.
    pub fn tab_at(x: u16, width: u16) -> Option<usize> {
        let mut left = TAB_TITLE.chars().count() as u16;
        for (i, v) in View::ALL.iter().enumerate() {
            let w = v.tab_label(i, width).chars().count() as u16;
            if (left..left + w).contains(&x) {
                return Some(i);
            }
            left += w;
        }
        None
    }
}

/// Rows of the Overview's problem list for `problems` problems in a body `body_h` rows high:
/// every problem when it fits, never more than half the body, at least one row.
pub fn overview_problem_rows(problems: usize, body_h: u16) -> u16 {
    (problems.max(1) as u16).min((body_h / 2).saturating_sub(2).max(1))
}

/// The Streams view's heights in a body `body_h` rows high: (shards pane, anomaly and rejected
/// panes); the devices and the chart take the rest.
pub fn streams_heights(shards: usize, body_h: u16) -> (u16, u16) {
    let shards_h = (shards as u16 + 3).clamp(4, 7);
    let bottom_h = if body_h >= 30 { 10 } else { 6 };
    (shards_h, bottom_h)
}

/// An alarm's detail in `body`: (its definition, its history).
pub fn alarm_detail_areas(body: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body)
}

/// Width of the Streams view's device list.
pub const DEVICES_W: u16 = 20;

/// Width of the snapshot list beside the chart in a volume's detail, when the screen is wide
/// enough ([`SNAPSHOTS_BESIDE_FROM`] columns); below that it goes under the chart.
pub const SNAPSHOTS_W: u16 = 52;
pub const SNAPSHOTS_BESIDE_FROM: u16 = 120;

/// Rows of the snapshot list under the chart in a narrow volume detail whose panels share
/// `panels_h` rows.
pub fn snapshots_below_h(panels_h: u16) -> u16 {
    (panels_h / 3).max(5)
}

/// The first row to show so that `selected` is visible in `height` rows.
pub fn scroll_offset(selected: usize, height: usize) -> usize {
    if height == 0 {
        return 0;
    }
    selected.saturating_sub(height - 1)
}

impl AppState {
    /// The terminal is known and smaller than the layout needs.
    pub fn too_small(&self) -> bool {
        let (w, h) = self.size;
        (w, h) != (0, 0) && (w < MIN_WIDTH || h < MIN_HEIGHT)
    }

    /// Height of the body between the tab bar and the two bottom lines.
    pub fn body_height(&self) -> u16 {
        self.size.1.saturating_sub(3)
    }

    /// The table row drawn at screen cell (`x`, `y`) of the current view, if a table row of
    /// the selectable list is there.
    pub fn row_at(&self, x: u16, y: u16) -> Option<usize> {
        let body = self.body_height();
        // (first screen row of the list, rows it shows, rows before it in the row numbering)
        let (top, height, base) = match self.view {
            View::Overview => {
                let p = self.problems().len();
                let prows = overview_problem_rows(p, body);
                // summary line, then the problems block (border + rows + border), then the
                // events block.
                let problems_top = 3;
                if (problems_top..problems_top + prows).contains(&y) {
                    (problems_top, prows as usize, 0)
                } else {
                    let events_top = problems_top + prows + 2;
                    let events_h = body.saturating_sub(1 + prows + 2 + 2 + OVERVIEW_DETAIL_H);
                    (events_top, events_h as usize, p)
                }
            }
            View::Backups if !self.detail => (
                3,
                body.saturating_sub(3 + self.jobs_pane_height()) as usize,
                0,
            ),
            View::Alarms if !self.detail => (3, body.saturating_sub(3) as usize, 0),
            // The history under the definition, inside its border.
            View::Alarms => {
                let [_, hist] = alarm_detail_areas(Rect::new(0, 1, self.size.0, body));
                (hist.y + 1, hist.height.saturating_sub(2) as usize, 0)
            }
            // The recovery line, then the snapshot list (border and header above its rows)
            // beside the chart or under it.
            View::Backups => {
                let panels = body.saturating_sub(1);
                if self.size.0 >= SNAPSHOTS_BESIDE_FROM {
                    if x < self.size.0.saturating_sub(SNAPSHOTS_W) {
                        return None;
                    }
                    (4, panels.saturating_sub(3) as usize, 0)
                } else {
                    let list_h = snapshots_below_h(panels);
                    let top = 2 + panels.saturating_sub(list_h);
                    (top + 2, list_h.saturating_sub(3) as usize, 0)
                }
            }
            View::Streams => {
                if x >= DEVICES_W {
                    return None;
                }
                let (shards_h, bottom_h) = streams_heights(self.shards.len(), body);
                let middle = body.saturating_sub(shards_h + bottom_h);
                (2 + shards_h, middle.saturating_sub(2) as usize, 0)
            }
            View::Metrics => (2, body.saturating_sub(2) as usize, 0),
            View::Notifications => (3, (body * 6 / 10).saturating_sub(3) as usize, 0),
        };
        if y < top || (y - top) as usize >= height {
            return None;
        }
        let selected = self.selected_row().saturating_sub(base);
        let offset = if self.view == View::Overview && self.selected_row() < base {
            0
        } else {
            scroll_offset(selected, height)
        };
        Some(base + offset + (y - top) as usize)
    }

    /// The shard (an index into `shards`) whose row of the Streams view's shards table is drawn
    /// on screen row `y` (the table spans the width): it does not scroll, so its rows are the
    /// first of [`AppState::visible_shards`].
    pub fn shard_at(&self, y: u16) -> Option<usize> {
        if self.view != View::Streams {
            return None;
        }
        let (shards_h, _) = streams_heights(self.shards.len(), self.body_height());
        // The body's first row is the border, then the header.
        let row = (y as usize).checked_sub(3)?;
        if row >= shards_h.saturating_sub(3) as usize {
            return None;
        }
        self.visible_shards().get(row).copied()
    }

    /// Rows the Backups view gives its on-demand backups pane (0 when there is none).
    pub fn jobs_pane_height(&self) -> u16 {
        let active = self.jobs.iter().filter(|j| !j.done).count();
        let shown = active + usize::from(self.jobs.iter().any(|j| j.done));
        if shown == 0 { 0 } else { shown as u16 + 2 }
    }
}

/// Rows of the Overview's detail pane under the events (the selected line in full).
pub const OVERVIEW_DETAIL_H: u16 = 4;
