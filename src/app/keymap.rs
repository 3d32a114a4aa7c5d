//! Keys: what each key does in the normal mode, and the binding table the `?` help shows.
//! One table feeds both, so the help can never disagree with the keys.

use super::state::View;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for, before the state decides whether it can be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NextView,
    PrevView,
    GoView(usize),
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Open,
    Back,
    Backup,
    Protect,
    Restore,
    CreateAlarm,
    Acknowledge,
    Filter,
    Command,
    Refresh,
    Copy,
    NextTheme,
    SwitchAlgo,
    Help,
    Quit,
    DemoPause,
    DemoBurst,
    SortNext,
    SortReverse,
    ProblemsOnly,
    RangeShorter,
    RangeLonger,
    ZoomIn,
    ZoomOut,
    PanOlder,
    PanNewer,
    PaneDown,
    PaneUp,
}

impl Action {
    /// Actions that change the account (refused with `--read-only`).
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Action::Backup
                | Action::Protect
                | Action::Restore
                | Action::CreateAlarm
                | Action::Acknowledge
                | Action::DemoBurst
        )
    }

    pub fn is_demo_only(self) -> bool {
        matches!(self, Action::DemoPause | Action::DemoBurst)
    }
}

/// A line of the help: keys, what they do, and the action (for hiding).
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static str,
    pub what: &'static str,
    pub action: Action,
}

/// Every binding, in the order the help lists them.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    Binding { keys: "Tab / S-Tab", what: "next / previous view", action: Action::NextView },
    Binding { keys: "1–6", what: "Overview, Backups, Streams, Alarms, Metrics, Notifications", action: Action::GoView(0) },
    Binding { keys: "j k ↓ ↑", what: "move the selection", action: Action::Down },
    Binding { keys: "g G", what: "first / last row", action: Action::Top },
    Binding { keys: "PgDn PgUp", what: "page down / up", action: Action::PageDown },
    Binding { keys: "Enter", what: "open the volume or alarm detail; Overview: go to the problem", action: Action::Open },
    Binding { keys: "Esc", what: "close the detail, dialog or filter", action: Action::Back },
    Binding { keys: "b", what: "back up the selected volume now (confirm, then progress)", action: Action::Backup },
    Binding { keys: "P", what: "protect the last clean recovery point (or the selected snapshot) with a legal hold", action: Action::Protect },
    Binding { keys: "R", what: "restore the last clean recovery point (or the selected snapshot) to a new volume", action: Action::Restore },
    Binding { keys: "a", what: "create an anomaly alarm on the selected series (form with band preview)", action: Action::CreateAlarm },
    Binding { keys: "x", what: "acknowledge the selected alarm (note, snooze); again: withdraw", action: Action::Acknowledge },
    Binding { keys: "/", what: "filter the rows of the view (every column)", action: Action::Filter },
    Binding { keys: "o O", what: "sort by the next column / reverse (default: worst first)", action: Action::SortNext },
    Binding { keys: "!", what: "show only the rows that are a problem", action: Action::ProblemsOnly },
    Binding { keys: "[ ]", what: "charts: shorter / longer time range (1d 7d 30d 90d 1y all)", action: Action::RangeShorter },
    Binding { keys: "+ -", what: "charts: zoom in / out inside the time range", action: Action::ZoomIn },
    Binding { keys: "< >", what: "charts: pan the zoomed window older / newer", action: Action::PanOlder },
    Binding { keys: "J K", what: "Streams: scroll the anomaly and rejected panes", action: Action::PaneDown },
    Binding { keys: ":", what: "command (Tab completes, ↑↓ history): :backups :metric :range 30d :theme NAME :profile :region ...", action: Action::Command },
    Binding { keys: "r", what: "refresh from the account now", action: Action::Refresh },
    Binding { keys: "y", what: "copy the selected ARN to the clipboard (OSC 52, works over SSH)", action: Action::Copy },
    Binding { keys: "t", what: "next theme", action: Action::NextTheme },
    Binding { keys: "s", what: "Metrics: switch the local detector (band / RCF)", action: Action::SwitchAlgo },
    Binding { keys: "?", what: "this help (type to search)", action: Action::Help },
    Binding { keys: "q Ctrl-C", what: "quit", action: Action::Quit },
    Binding { keys: "p", what: "demo: pause / resume the simulated account", action: Action::DemoPause },
    Binding { keys: "i", what: "demo: inject an encryption burst into the selected volume's next backup", action: Action::DemoBurst },
];

/// The bindings shown for this session: mutating ones hidden with `--read-only`, demo ones
/// only on the simulated account.
pub fn visible_bindings(read_only: bool, demo: bool) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| !(read_only && b.action.is_mutating()))
        .filter(move |b| demo || !b.action.is_demo_only())
}

/// The action of a key in the normal mode (no dialog open, not typing).
pub fn action_for(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        _ if ctrl => return None,
        KeyCode::Tab => Action::NextView,
        KeyCode::BackTab => Action::PrevView,
        KeyCode::Char(c @ '1'..='9') if (c as usize - '1' as usize) < View::COUNT => {
            Action::GoView(c as usize - '1' as usize)
        }
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Enter => Action::Open,
        KeyCode::Esc => Action::Back,
        KeyCode::Char('b') => Action::Backup,
        KeyCode::Char('P') => Action::Protect,
        KeyCode::Char('R') => Action::Restore,
        KeyCode::Char('a') => Action::CreateAlarm,
        KeyCode::Char('x') => Action::Acknowledge,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char(':') => Action::Command,
        KeyCode::Char('r') => Action::Refresh,
        KeyCode::Char('y') => Action::Copy,
        KeyCode::Char('t') => Action::NextTheme,
        KeyCode::Char('s') => Action::SwitchAlgo,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('p') => Action::DemoPause,
        KeyCode::Char('i') => Action::DemoBurst,
        KeyCode::Char('o') => Action::SortNext,
        KeyCode::Char('O') => Action::SortReverse,
        KeyCode::Char('!') => Action::ProblemsOnly,
        KeyCode::Char('[') => Action::RangeShorter,
        KeyCode::Char(']') => Action::RangeLonger,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::ZoomIn,
        KeyCode::Char('-') => Action::ZoomOut,
        KeyCode::Char('<') => Action::PanOlder,
        KeyCode::Char('>') => Action::PanNewer,
        KeyCode::Char('J') => Action::PaneDown,
        KeyCode::Char('K') => Action::PaneUp,
        _ => return None,
    })
}
