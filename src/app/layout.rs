//! The few facts about the screen's layout that `update` needs as much as the views do: the
//! smallest usable size, where the tabs are, and which screen row shows which table row (for
//! `--mouse`). One definition here, used by both, so a click lands where the row is drawn.

use super::state::{AppState, View};

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

    /// The table row drawn at screen row `y` of the current view, if a table row is there.
    pub fn row_at(&self, y: u16) -> Option<usize> {
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
            View::Metrics => (2, body.saturating_sub(2) as usize, 0),
            View::Notifications => (3, (body * 6 / 10).saturating_sub(3) as usize, 0),
            _ => return None,
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

    /// Rows the Backups view gives its on-demand backups pane (0 when there is none).
    pub fn jobs_pane_height(&self) -> u16 {
        let active = self.jobs.iter().filter(|j| !j.done).count();
        let shown = active + usize::from(self.jobs.iter().any(|j| j.done));
        if shown == 0 { 0 } else { shown as u16 + 2 }
    }
}

/// Rows of the Overview's detail pane under the events (the selected line in full).
pub const OVERVIEW_DETAIL_H: u16 = 4;
